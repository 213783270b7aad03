//! Proving knowledge of a device's verification code without sending it: a key is
//! derived from the code and the serial number, and each side answers the other's
//! nonce with an HMAC-SHA256 under that key (`docs/link-protocol.md`).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The key both sides derive from a verification code; the server stores it sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkKey([u8; 32]);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(<redacted>)")
    }
}

impl LinkKey {
    /// The key of `serial` with this verification code (spaces ignored, any case).
    pub fn derive(verification_code: &str, serial: &str) -> Self {
        let code = normalize_code(verification_code);
        Self(mac(
            code.as_bytes(),
            &["siteward-link/1 key ", serial].concat(),
        ))
    }

    /// From the 32 stored bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes, to be sealed before they are stored.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// What the device answers to the server's nonce.
    pub fn device_proof(&self, server_nonce: &str, serial: &str) -> String {
        hex::encode(mac(
            &self.0,
            &["siteward-link/1 device ", server_nonce, " ", serial].concat(),
        ))
    }

    /// What the server answers to the device's nonce.
    pub fn server_proof(&self, client_nonce: &str, serial: &str) -> String {
        hex::encode(mac(
            &self.0,
            &["siteward-link/1 server ", client_nonce, " ", serial].concat(),
        ))
    }

    /// Checks a device proof, in constant time.
    pub fn verify_device(&self, server_nonce: &str, serial: &str, proof: &str) -> bool {
        ct_eq_hex(&self.device_proof(server_nonce, serial), proof)
    }

    /// Checks a server proof, in constant time.
    pub fn verify_server(&self, client_nonce: &str, serial: &str, proof: &str) -> bool {
        ct_eq_hex(&self.server_proof(client_nonce, serial), proof)
    }
}

/// A verification code as both sides use it: no spaces, upper case.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

fn mac(key: &[u8], message: &str) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(message.as_bytes());
    m.finalize().into_bytes().into()
}

fn ct_eq_hex(expected: &str, given: &str) -> bool {
    let given = given.trim().to_ascii_lowercase();
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// 32 random bytes as hex, for nonces.
pub fn nonce_from(bytes: [u8; 32]) -> String {
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_code_proves_and_any_other_does_not() {
        let serial = "DS-2CD2143G2-I20230101AAWRJ12345678";
        let device = LinkKey::derive("abcd ef", serial);
        let server = LinkKey::derive("ABCDEF", serial);
        assert_eq!(device, server, "spaces and case do not matter");
        let nonce = nonce_from([7; 32]);
        let proof = device.device_proof(&nonce, serial);
        assert_eq!(proof.len(), 64);
        assert!(server.verify_device(&nonce, serial, &proof));
        assert!(server.verify_device(&nonce, serial, &proof.to_uppercase()));
        assert!(!LinkKey::derive("ABCDEG", serial).verify_device(&nonce, serial, &proof));
        assert!(
            !server.verify_device(&nonce_from([8; 32]), serial, &proof),
            "other nonce"
        );
        assert!(
            !server.verify_device(&nonce, "OTHER", &proof),
            "other serial"
        );
        assert!(!server.verify_device(&nonce, serial, ""), "empty");
        let sp = server.server_proof("cn", serial);
        assert!(device.verify_server("cn", serial, &sp));
        assert_ne!(
            sp,
            server.device_proof("cn", serial),
            "the directions differ"
        );
    }

    #[test]
    fn the_key_is_bound_to_the_serial_and_never_printed() {
        assert_ne!(
            LinkKey::derive("ABCDEF", "A"),
            LinkKey::derive("ABCDEF", "B")
        );
        assert_eq!(
            format!("{:?}", LinkKey::derive("ABCDEF", "A")),
            "LinkKey(<redacted>)"
        );
    }
}
