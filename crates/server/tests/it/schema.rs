//! The two migration folders must produce the same tables and columns.

use crate::support::{Db, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_schemas_match() {
    let lite = TestServer::start(Db::Sqlite).await;
    let pg = TestServer::start(Db::Postgres).await;
    let a = lite
        .app
        .store()
        .read()
        .await
        .expect("conn")
        .schema_outline()
        .await
        .expect("outline");
    let b = pg
        .app
        .store()
        .read()
        .await
        .expect("conn")
        .schema_outline()
        .await
        .expect("outline");
    assert!(a.len() > 10, "the outline lists columns: {a:?}");
    assert_eq!(
        a, b,
        "migrations/sqlite and migrations/postgres have drifted"
    );
    lite.finish().await;
    pg.finish().await;
}

/// Data written before a restart is there after it (SQLite file and WAL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_a_restart() {
    let s = TestServer::start(Db::Sqlite).await;
    let c = s.company("Acme", "ada@acme.example").await;
    let site = s.site(&c.admin, "Depot").await;
    let s = s.restart().await;
    let (status, body) = s.get(&format!("/api/v1/sites/{site}"), &c.admin).await;
    assert_eq!(
        status,
        reqwest::StatusCode::OK,
        "the session and the site survive: {body}"
    );
    assert_eq!(body["name"], "Depot");
    s.finish().await;
}

#[tokio::test]
async fn ambiguous_database_urls_are_refused() {
    for url in [
        "mysql://x/y",
        "sqlite:",
        "postgre://x",
        "./data/siteward.db",
    ] {
        let err = siteward_store::Store::connect(url).await.expect_err(url);
        assert!(
            err.to_string().contains("unsupported database URL"),
            "{url}: {err}"
        );
    }
}
