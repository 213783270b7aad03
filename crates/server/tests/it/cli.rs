//! The command line, as operators and scripts use it (fixed by the API contract).

use std::process::Command;

fn siteward() -> Command {
    Command::new(env!("CARGO_BIN_EXE_siteward"))
}

#[test]
fn auth_codes_are_printed_one_per_line_and_listed() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().to_str().expect("utf-8 path");
    let out = siteward()
        .args([
            "admin",
            "auth-codes",
            "--region",
            "EU",
            "--count",
            "3",
            "--data-dir",
            data,
        ])
        .env("RUST_LOG", "off")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let codes: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        codes.len(),
        3,
        "nothing but the codes on stdout: {stdout:?}"
    );
    for c in &codes {
        assert_eq!(
            siteward_core::site_code::normalize_auth_code(c).as_deref(),
            Some(*c)
        );
    }
    let out = siteward()
        .args(["admin", "auth-codes", "--list", "--data-dir", data])
        .output()
        .expect("run");
    let listed = String::from_utf8(out.stdout).expect("utf-8");
    for c in &codes {
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with(c) && l.contains("\tEU\tunused\t")),
            "{listed}"
        );
    }
    let out = siteward()
        .args(["admin", "check", "--data-dir", data])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("sqlite") && text.contains("0 pending"),
        "{text}"
    );
    let out = siteward()
        .args(["admin", "auth-codes", "--region", "E", "--data-dir", data])
        .output()
        .expect("run");
    assert!(!out.status.success(), "a bad region fails");
    assert!(String::from_utf8_lossy(&out.stderr).contains("region"));
}

#[test]
fn operators_are_created_and_version_and_config_print() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().to_str().expect("utf-8 path");
    let out = siteward()
        .args([
            "admin",
            "create-operator",
            "--name",
            "Otto",
            "--email",
            "otto@example.com",
            "--data-dir",
            data,
        ])
        .env("SITEWARD_OPERATOR_PASSWORD", "Operator-pass-9")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("master.key").exists(),
        "the master key is generated on first start"
    );
    let out = siteward().arg("--version").output().expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("siteward "));
    let out = siteward()
        .args(["config", "example"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("database_url"));
    let out = siteward()
        .args([
            "serve",
            "--database-url",
            "mysql://nope",
            "--data-dir",
            data,
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}
