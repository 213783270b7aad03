//! The `ResponseStatus` envelope: acknowledgements and errors (isapi.md §5.4).

use serde::{Deserialize, Serialize};

use crate::error::ParseError;
use crate::json;
use crate::xml::Element;

/// A device status/error document, XML or JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResponseStatus {
    /// The request path the device echoes back.
    pub request_url: Option<String>,
    /// 1 OK, 2 busy, 3 device error, 4 invalid operation, 5 bad XML, 6 bad content, 7 reboot required.
    pub status_code: Option<u32>,
    /// Human text such as `Invalid Operation`.
    pub status_string: Option<String>,
    /// Machine code such as `notSupport`, `deviceError`, `ok`.
    pub sub_status_code: Option<String>,
    /// Optional description (`SW_ONLINE_UPGRADE_SUP not support.`).
    pub description: Option<String>,
    /// JSON-only numeric error code.
    pub error_code: Option<u64>,
    /// JSON-only error message.
    pub error_msg: Option<String>,
}

impl std::fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.status_code
                .map_or_else(|| "?".to_owned(), |c| c.to_string()),
            self.status_string.as_deref().unwrap_or(""),
            self.sub_status_code.as_deref().unwrap_or("")
        )?;
        if let Some(d) = self.description.as_deref().or(self.error_msg.as_deref()) {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl ResponseStatus {
    /// Builds from an already parsed `ResponseStatus` element.
    pub fn from_element(root: &Element) -> Self {
        Self {
            request_url: root.string_of("requestURL"),
            status_code: root.u32_of("statusCode"),
            status_string: root.string_of("statusString"),
            sub_status_code: root.string_of("subStatusCode"),
            description: root.string_of("description"),
            error_code: root.u64_of("errorCode"),
            error_msg: root.string_of("errorMsg"),
        }
    }

    /// Parses an XML `ResponseStatus`.
    pub fn from_xml(bytes: &[u8]) -> Result<Self, ParseError> {
        let root = Element::parse(bytes)?;
        if !root.is("ResponseStatus") {
            return Err(ParseError::UnexpectedRoot {
                expected: "ResponseStatus",
                found: root.name().to_owned(),
            });
        }
        Ok(Self::from_element(&root))
    }

    /// Parses a JSON status (`{"statusCode":…}` or wrapped in `ResponseStatus`).
    pub fn from_json(bytes: &[u8]) -> Result<Self, ParseError> {
        let v = json::parse(bytes)?;
        let v = json::get(&v, "ResponseStatus").unwrap_or(&v);
        if json::get(v, "statusCode").is_none() && json::get(v, "subStatusCode").is_none() {
            return Err(ParseError::UnexpectedRoot {
                expected: "ResponseStatus JSON",
                found: "object without statusCode".into(),
            });
        }
        Ok(Self {
            request_url: json::string(v, "requestURL"),
            status_code: json::u32(v, "statusCode"),
            status_string: json::string(v, "statusString"),
            sub_status_code: json::string(v, "subStatusCode"),
            description: json::string(v, "description"),
            error_code: json::u64(v, "errorCode"),
            error_msg: json::string(v, "errorMsg"),
        })
    }

    /// Tries XML, then JSON; `None` if the body is neither.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
        match first {
            b'<' => Self::from_xml(bytes).ok(),
            b'{' => Self::from_json(bytes).ok(),
            _ => None,
        }
    }

    /// Status 1 (`OK`), or no status code and sub-status `ok`.
    pub fn is_ok(&self) -> bool {
        match self.status_code {
            Some(code) => code == 1,
            None => self
                .sub_status_code
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("ok")),
        }
    }

    /// Sub-status `notSupport` (the device lacks the feature).
    pub fn is_not_supported(&self) -> bool {
        self.sub_status_code
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("notSupport"))
    }

    /// Status 7: the change needs a reboot to apply.
    pub fn needs_reboot(&self) -> bool {
        self.status_code == Some(7)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_variant() {
        let s = ResponseStatus::from_json(
            br#"{"requestURL":"/ISAPI/x","statusCode":4,"statusString":"Invalid Operation","subStatusCode":"notSupport","errorCode":1073741825,"errorMsg":"notSupport"}"#,
        )
        .expect("json");
        assert!(s.is_not_supported());
        assert!(!s.is_ok());
        assert_eq!(s.error_code, Some(1_073_741_825));
        assert!(ResponseStatus::from_json(b"{\"a\":1}").is_err());
    }

    #[test]
    fn ok_status() {
        let s = ResponseStatus::from_xml(
            b"<ResponseStatus><statusCode>1</statusCode><statusString>OK</statusString><subStatusCode>ok</subStatusCode></ResponseStatus>",
        )
        .expect("xml");
        assert!(s.is_ok());
        assert_eq!(s.to_string(), "1 OK (ok)");
    }
}
