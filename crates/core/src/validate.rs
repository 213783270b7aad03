//! Field rules for what people type: names, e-mail addresses, passwords, phone
//! numbers, web addresses and time zones.
//!
//! Each check returns the cleaned value or a [`FieldError`] that names the field and
//! says, in words, what is wrong: the API puts both in its problem body and the
//! portal shows the message beside the field.

use serde::Serialize;

/// A field that does not meet its rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field at fault, as named in the API (`admin.email`, `name`, …).
    pub field: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl FieldError {
    /// A field error with a message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Shortest password accepted.
pub const PASSWORD_MIN: usize = 10;
/// Longest password accepted (bounds the hashing work an attacker can ask for).
pub const PASSWORD_MAX: usize = 128;

/// A required single-line text: trimmed, not empty, at most `max` characters, no
/// control characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    optional_text(field, v, max).map(|v| v.unwrap_or_default())
}

/// An optional single-line text: empty becomes `None`.
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<Option<String>, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(Some(v.to_owned()))
}

/// An e-mail address, lower-cased. Deliberately simple: one `@`, something before
/// it, a dotted domain after it, no spaces.
pub fn email(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim().to_lowercase();
    let bad = || FieldError::new(field, "must be an e-mail address such as name@example.com");
    if v.len() > 254 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = v.split_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.contains('@')
        && domain.split('.').all(|label| !label.is_empty());
    if local.is_empty() || !domain_ok {
        return Err(bad());
    }
    Ok(v)
}

/// An optional e-mail address.
pub fn optional_email(field: &str, value: &str) -> Result<Option<String>, FieldError> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        email(field, value).map(Some)
    }
}

/// The password rules: 10 to 128 characters, letters and at least one digit or
/// symbol, and not built from the e-mail address.
pub fn password(field: &str, value: &str, email: &str) -> Result<(), FieldError> {
    let n = value.chars().count();
    if n < PASSWORD_MIN {
        return Err(FieldError::new(
            field,
            format!("must be at least {PASSWORD_MIN} characters"),
        ));
    }
    if n > PASSWORD_MAX {
        return Err(FieldError::new(
            field,
            format!("must be at most {PASSWORD_MAX} characters"),
        ));
    }
    let has_letter = value.chars().any(char::is_alphabetic);
    let has_other = value.chars().any(|c| !c.is_alphabetic());
    if !has_letter || !has_other {
        return Err(FieldError::new(
            field,
            "must mix letters with digits or symbols",
        ));
    }
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.len() >= 3 && value.to_lowercase().contains(&local) {
        return Err(FieldError::new(field, "must not contain your e-mail name"));
    }
    Ok(())
}

/// An optional phone number: digits with `+`, spaces, dashes, dots and brackets.
pub fn optional_phone(field: &str, value: &str) -> Result<Option<String>, FieldError> {
    let Some(v) = optional_text(field, value, 32)? else {
        return Ok(None);
    };
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let allowed = v
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'));
    if !allowed || digits < 5 {
        return Err(FieldError::new(
            field,
            "must be a phone number such as +44 20 7946 0000",
        ));
    }
    Ok(Some(v))
}

/// An optional web address; `https://` is added when no scheme is given.
pub fn optional_website(field: &str, value: &str) -> Result<Option<String>, FieldError> {
    let Some(v) = optional_text(field, value, 200)? else {
        return Ok(None);
    };
    let full = if v.starts_with("http://") || v.starts_with("https://") {
        v
    } else {
        format!("https://{v}")
    };
    let host = full
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default())
        .unwrap_or_default();
    if !host.contains('.') || host.contains(' ') {
        return Err(FieldError::new(
            field,
            "must be a web address such as https://example.com",
        ));
    }
    Ok(Some(full))
}

/// A time-zone name from the IANA database, such as `Europe/Berlin` or `UTC`, as the
/// database spells it. Checked against the database compiled into the binary, so a
/// site's schedules can always be evaluated in its zone.
pub fn time_zone(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    let bad = || FieldError::new(field, "must be a time zone such as Europe/Berlin or UTC");
    if v.is_empty() || v.len() > 64 || v.contains(char::is_whitespace) {
        return Err(bad());
    }
    let zone = jiff::tz::db().get(v).map_err(|_| bad())?;
    Ok(zone.iana_name().unwrap_or(v).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_trims_and_limits() {
        assert_eq!(required_text("name", "  Acme  ", 10), Ok("Acme".into()));
        assert_eq!(
            required_text("name", "   ", 10).map_err(|e| e.message),
            Err("is required".into())
        );
        assert!(required_text("name", "x".repeat(11).as_str(), 10).is_err());
        assert!(required_text("name", "a\u{0}b", 10).is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("e", " Ann@Example.COM "),
            Ok("ann@example.com".into())
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b@c.com",
            "a@example..com",
        ] {
            assert!(email("e", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn password_rules() {
        let e = "ann@example.com";
        assert!(password("p", "correct-horse-7", e).is_ok());
        let msg = |p: &str| password("p", p, e).map_err(|e| e.message).err();
        assert_eq!(
            msg("short1!"),
            Some("must be at least 10 characters".into())
        );
        assert_eq!(
            msg("onlyletterslong"),
            Some("must mix letters with digits or symbols".into())
        );
        assert_eq!(
            msg("1234567890123"),
            Some("must mix letters with digits or symbols".into())
        );
        assert_eq!(
            msg("ann-secret-42"),
            Some("must not contain your e-mail name".into())
        );
        assert!(msg(&"a1".repeat(65)).is_some());
    }

    #[test]
    fn phones_websites_time_zones() {
        assert_eq!(optional_phone("p", ""), Ok(None));
        assert!(optional_phone("p", "+44 (20) 7946-0000").is_ok());
        assert!(optional_phone("p", "call me").is_err());
        assert_eq!(
            optional_website("w", "acme.example"),
            Ok(Some("https://acme.example".into()))
        );
        assert!(optional_website("w", "not a site").is_err());
        assert!(time_zone("tz", "Europe/Berlin").is_ok());
        assert!(time_zone("tz", "America/Argentina/Buenos_Aires").is_ok());
        assert!(time_zone("tz", "UTC").is_ok());
        assert!(time_zone("tz", "Mars/Olympus").is_err());
        assert!(time_zone("tz", "Europe").is_err());
        assert!(time_zone("tz", "Europe/Ber lin").is_err());
        assert_eq!(
            time_zone("tz", "europe/berlin").as_deref(),
            Ok("Europe/Berlin")
        );
    }
}
