//! Short codes people read aloud and type: Site IDs and authentication codes
//!
//!
//! Both use an alphabet without the characters people confuse (`0`/`O`, `1`/`I`), so
//! a code read over the phone arrives intact. Input is forgiving: case, spaces and
//! dashes are ignored.

/// 32 symbols: the digits 2–9 and the letters without `I` and `O`.
pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Characters in a Site ID: 32^8 ≈ 10^12 codes.
pub const SITE_CODE_LEN: usize = 8;

/// Characters in an authentication code (80 bits), shown in groups of four.
pub const AUTH_CODE_LEN: usize = 16;

/// Makes a code from random bytes, one symbol per byte (the low five bits, so every
/// symbol is equally likely).
pub fn encode(random: &[u8]) -> String {
    random
        .iter()
        .map(|b| ALPHABET[usize::from(b & 31)] as char)
        .collect()
}

/// A new Site ID from [`SITE_CODE_LEN`] random bytes.
pub fn new_site_code(random: [u8; SITE_CODE_LEN]) -> String {
    encode(&random)
}

/// A new authentication code from [`AUTH_CODE_LEN`] random bytes, as
/// `XXXX-XXXX-XXXX-XXXX`.
pub fn new_auth_code(random: [u8; AUTH_CODE_LEN]) -> String {
    let plain = encode(&random);
    let groups: Vec<&str> = (0..AUTH_CODE_LEN)
        .step_by(4)
        .map(|i| &plain[i..i + 4])
        .collect();
    groups.join("-")
}

/// Brings typed input to the stored form: upper case, without spaces and dashes.
/// Returns `None` when a character is outside the alphabet or the length is wrong.
pub fn normalize(input: &str, len: usize) -> Option<String> {
    let out: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = out.len() == len && out.bytes().all(|b| ALPHABET.contains(&b));
    valid.then_some(out)
}

/// The stored form of an authentication code (grouped as it is printed).
pub fn normalize_auth_code(input: &str) -> Option<String> {
    normalize(input, AUTH_CODE_LEN).map(|plain| new_auth_code_from_plain(&plain))
}

fn new_auth_code_from_plain(plain: &str) -> String {
    let groups: Vec<&str> = (0..plain.len())
        .step_by(4)
        .map(|i| &plain[i..(i + 4).min(plain.len())])
        .collect();
    groups.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_has_no_ambiguous_symbols() {
        for bad in [b'0', b'O', b'1', b'I'] {
            assert!(!ALPHABET.contains(&bad), "{}", bad as char);
        }
        let mut sorted = ALPHABET.to_vec();
        sorted.dedup();
        assert_eq!(sorted.len(), 32);
    }

    #[test]
    fn every_byte_maps_into_the_alphabet() {
        let all: Vec<u8> = (0..=255).collect();
        let code = encode(&all);
        assert!(code.bytes().all(|b| ALPHABET.contains(&b)));
    }

    #[test]
    fn site_codes_accept_forgiving_input() {
        let code = new_site_code([7, 8, 9, 10, 11, 12, 13, 14]);
        assert_eq!(code.len(), SITE_CODE_LEN);
        let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
        assert_eq!(normalize(&typed, SITE_CODE_LEN), Some(code));
        assert_eq!(
            normalize("ABCD-EFG0", SITE_CODE_LEN),
            None,
            "0 is not in the alphabet"
        );
        assert_eq!(normalize("ABCDEFG", SITE_CODE_LEN), None, "too short");
    }

    #[test]
    fn auth_codes_are_grouped_and_normalised() {
        let code = new_auth_code([0; AUTH_CODE_LEN]);
        assert_eq!(code, "2222-2222-2222-2222");
        assert_eq!(
            normalize_auth_code("2222 2222 2222 2222"),
            Some(code.clone())
        );
        assert_eq!(normalize_auth_code("22222222-22222222"), Some(code));
        assert_eq!(normalize_auth_code("2222-2222-2222"), None);
    }
}
