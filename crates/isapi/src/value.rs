//! Lenient scalar parsing: numbers with whitespace, booleans in several spellings.

/// Parses an unsigned integer, trimming whitespace; accepts `"12.0"` and `"+3"`.
pub fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim().trim_start_matches('+');
    if let Ok(v) = s.parse::<u64>() {
        return Some(v);
    }
    let f = s.parse::<f64>().ok()?;
    // Only whole, non-negative, in-range floats count as integers.
    if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 {
        // The range check above makes the cast exact for whole values.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Some(f as u64);
    }
    None
}

/// Parses a signed integer, trimming whitespace.
pub fn parse_i64(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    s.parse::<i64>().ok()
}

/// Parses a float, trimming whitespace (`" 244.175781"`).
pub fn parse_f64(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Parses a boolean written as true/false, 1/0, yes/no, on/off, enable(d)/disable(d).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "enable" | "enabled" => Some(true),
        "false" | "0" | "no" | "off" | "disable" | "disabled" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_trimmed() {
        assert_eq!(parse_u64(" 42\n"), Some(42));
        assert_eq!(parse_u64("12.0"), Some(12));
        assert_eq!(parse_u64("12.5"), None);
        assert_eq!(parse_u64("-1"), None);
        assert_eq!(parse_u64("abc"), None);
        assert_eq!(parse_i64(" -7 "), Some(-7));
        assert_eq!(parse_f64(" 244.175781"), Some(244.175_781));
        assert_eq!(parse_f64("NaN"), None);
    }

    #[test]
    fn booleans_in_many_spellings() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool(" false "), Some(false));
        assert_eq!(parse_bool("1"), Some(true));
        assert_eq!(parse_bool("maybe"), None);
    }
}
