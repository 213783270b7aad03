//! The documents devices answer with, rendered on request from compact state: a tiny XML
//! writer, the shared envelopes (`ResponseStatus`, `userCheck`) and one module per area.

pub mod access;
pub mod intercom;
pub mod security_cp;
pub mod storage;
pub mod system;
pub mod video;

use std::fmt::{Display, Write as _};

use time::{OffsetDateTime, UtcOffset};

use crate::catalog::Dialect;
use crate::identity::Identity;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A minimal pretty-printing XML writer: one element per line, tab indentation (the layout
/// line-based stream parsers such as pyHik's rely on).
#[derive(Debug)]
pub struct Xml {
    buf: String,
    stack: Vec<&'static str>,
}

impl Xml {
    /// Starts a document with the XML declaration and a root in the dialect's namespace.
    pub fn root(dialect: Dialect, name: &'static str) -> Xml {
        Self::root_ns(name, dialect.version(), Some(dialect.ns()))
    }

    /// Starts a document with an explicit version and namespace (`None` = no namespace).
    pub fn root_ns(name: &'static str, version: &str, ns: Option<&str>) -> Xml {
        let mut x = Xml {
            buf: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            stack: Vec::new(),
        };
        let attrs = match ns {
            Some(ns) => format!("version=\"{version}\" xmlns=\"{ns}\""),
            None => format!("version=\"{version}\""),
        };
        x.open_attrs(name, &attrs);
        x
    }

    /// Starts a document whose root carries the given raw attributes.
    pub fn root_raw(name: &'static str, attrs: &str) -> Xml {
        let mut x = Xml {
            buf: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            stack: Vec::new(),
        };
        x.open_attrs(name, attrs);
        x
    }

    /// Starts a fragment without declaration (alert-stream parts).
    pub fn fragment(name: &'static str, attrs: &str) -> Xml {
        let mut x = Xml {
            buf: String::new(),
            stack: Vec::new(),
        };
        x.open_attrs(name, attrs);
        x
    }

    fn indent(&mut self) {
        for _ in 0..self.stack.len() {
            self.buf.push('\t');
        }
    }

    /// Opens an element.
    pub fn open(&mut self, name: &'static str) -> &mut Self {
        self.open_attrs(name, "")
    }

    /// Opens an element with raw (already escaped) attributes.
    pub fn open_attrs(&mut self, name: &'static str, attrs: &str) -> &mut Self {
        self.indent();
        if attrs.is_empty() {
            let _ = writeln!(self.buf, "<{name}>");
        } else {
            let _ = writeln!(self.buf, "<{name} {attrs}>");
        }
        self.stack.push(name);
        self
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) -> &mut Self {
        if let Some(name) = self.stack.pop() {
            self.indent();
            let _ = writeln!(self.buf, "</{name}>");
        }
        self
    }

    /// A text element.
    pub fn leaf(&mut self, name: &str, value: impl Display) -> &mut Self {
        self.indent();
        let v = escape(&value.to_string());
        let _ = writeln!(self.buf, "<{name}>{v}</{name}>");
        self
    }

    /// A text element with raw attributes (`opt="…"` capability ranges).
    pub fn leaf_attrs(&mut self, name: &str, attrs: &str, value: impl Display) -> &mut Self {
        self.indent();
        let v = escape(&value.to_string());
        let _ = writeln!(self.buf, "<{name} {attrs}>{v}</{name}>");
        self
    }

    /// An empty element written as `<name></name>`.
    pub fn empty(&mut self, name: &str) -> &mut Self {
        self.indent();
        let _ = writeln!(self.buf, "<{name}></{name}>");
        self
    }

    /// An empty element written self-closing (`<name/>`).
    pub fn self_closing(&mut self, name: &str) -> &mut Self {
        self.indent();
        let _ = writeln!(self.buf, "<{name}/>");
        self
    }

    /// Closes everything and returns the text.
    pub fn finish(mut self) -> String {
        while !self.stack.is_empty() {
            self.close();
        }
        self.buf
    }
}

/// The device clock now, ISO-8601 with the device's offset (`2024-11-19T16:53:28+01:00`).
pub fn device_time(id: &Identity) -> String {
    let offset = UtcOffset::from_whole_seconds(id.tz_offset_minutes * 60).unwrap_or(UtcOffset::UTC);
    let t = OffsetDateTime::now_utc().to_offset(offset);
    let mins = id.tz_offset_minutes;
    let sign = if mins < 0 { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        mins.abs() / 60,
        mins.abs() % 60
    )
}

/// The POSIX-style zone string Hikvision uses (sign inverted: `CST-1:00:00` = UTC+1).
pub fn posix_zone(id: &Identity) -> String {
    let mins = id.tz_offset_minutes;
    let sign = if mins > 0 { '-' } else { '+' };
    format!("CST{sign}{}:{:02}:00", mins.abs() / 60, mins.abs() % 60)
}

/// `ResponseStatus` codes (isapi.md §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 1 OK / ok.
    Ok,
    /// 4 Invalid Operation / notSupport.
    NotSupport,
    /// 4 Invalid Operation / invalidOperation.
    InvalidOperation,
    /// 5 Invalid XML Format / badXmlFormat.
    BadXmlFormat,
    /// 6 Invalid XML Content / badParameters.
    BadParameters,
}

impl Status {
    fn parts(self) -> (u32, &'static str, &'static str) {
        match self {
            Status::Ok => (1, "OK", "ok"),
            Status::NotSupport => (4, "Invalid Operation", "notSupport"),
            Status::InvalidOperation => (4, "Invalid Operation", "invalidOperation"),
            Status::BadXmlFormat => (5, "Invalid XML Format", "badXmlFormat"),
            Status::BadParameters => (6, "Invalid XML Content", "badParameters"),
        }
    }
}

/// `ResponseStatus` as XML.
pub fn response_status_xml(dialect: Dialect, url: &str, status: Status) -> String {
    let (code, string, sub) = status.parts();
    let mut x = Xml::root(dialect, "ResponseStatus");
    x.leaf("requestURL", url)
        .leaf("statusCode", code)
        .leaf("statusString", string)
        .leaf("subStatusCode", sub);
    x.finish()
}

/// `ResponseStatus` as JSON (`?format=json`).
pub fn response_status_json(url: &str, status: Status) -> String {
    let (code, string, sub) = status.parts();
    let error_code: u32 = if code == 1 {
        1
    } else {
        0x4000_0000 + code * 0x100
    };
    serde_json::json!({
        "requestURL": url,
        "statusCode": code,
        "statusString": string,
        "subStatusCode": sub,
        "errorCode": error_code,
        "errorMsg": if code == 1 { "ok" } else { sub },
    })
    .to_string()
}

/// The lock fields of a `userCheck` 401 body (isapi.md §5.2).
#[derive(Debug, Clone, Copy)]
pub struct LockInfo {
    /// Locked now.
    pub locked: bool,
    /// Seconds until unlock.
    pub unlock_secs: u64,
    /// Attempts left.
    pub retries_left: u32,
}

/// The `userCheck` 401 body: full form with lock fields, or the minimal NVR form.
pub fn user_check(lock: Option<LockInfo>) -> String {
    match lock {
        Some(l) => {
            let mut x = Xml::root(Dialect::Isapi, "userCheck");
            x.leaf("statusValue", 401)
                .leaf("statusString", "Unauthorized")
                .leaf("isActivated", "true")
                .leaf("lockStatus", if l.locked { "lock" } else { "unlock" })
                .leaf("unlockTime", l.unlock_secs)
                .leaf("retryLoginTime", l.retries_left);
            x.finish()
        }
        None => "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<userCheck>\n<statusValue>401</statusValue>\n<statusString>Unauthorized</statusString>\n</userCheck>\n".to_string(),
    }
}

/// The HTML 401 page of camera firmware (V5.5+ answering a request without digest).
pub const UNAUTHORIZED_HTML: &str = "<!DOCTYPE html>\n<html><head><title>Document Error: Unauthorized</title></head>\n<body><h2>Access Error: 401 -- Unauthorized</h2>\n<p>Authentication Error</p>\n</body>\n</html>\n";

/// Pulls the text of the first `<name>` element out of a request body (local name only,
/// namespace prefixes and attributes ignored) — enough for the few PUT/POST bodies parsed.
pub fn xml_text(body: &str, name: &str) -> Option<String> {
    let mut rest = body;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let end = rest.find('>')?;
        let tag = &rest[..end];
        let local = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("")
            .rsplit(':')
            .next()
            .unwrap_or("");
        if local == name && !tag.ends_with('/') {
            let after = &rest[end + 1..];
            let close = after.find("</")?;
            return Some(after[..close].trim().to_string());
        }
        rest = &rest[end + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_nests_and_escapes() {
        let mut x = Xml::root(Dialect::Isapi, "A");
        x.open("B").leaf("c", "x<y&z").empty("d").close();
        let s = x.finish();
        assert!(s.starts_with("<?xml"));
        assert!(s.contains("<A version=\"2.0\" xmlns=\"http://www.isapi.org/ver20/XMLSchema\">"));
        assert!(s.contains("\t\t<c>x&lt;y&amp;z</c>\n"));
        assert!(s.trim_end().ends_with("</A>"));
    }

    #[test]
    fn xml_text_finds_local_names() {
        let body = "<?xml version=\"1.0\"?><p:SessionLogin xmlns:p=\"x\"><p:userName>admin</p:userName><empty/><password> h1 </password></p:SessionLogin>";
        assert_eq!(xml_text(body, "userName").as_deref(), Some("admin"));
        assert_eq!(xml_text(body, "password").as_deref(), Some("h1"));
        assert_eq!(xml_text(body, "empty"), None);
        assert_eq!(xml_text(body, "missing"), None);
    }
}
