//! Secrets at rest: AES-256-GCM under the master key.
//!
//! A sealed value is `v1:` followed by base64 of the 96-bit random nonce and the
//! ciphertext with its tag. The caller passes associated data (such as the owning
//! record's id) so a sealed value copied onto another record does not open.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::fmt;

/// The 256-bit key that protects every secret at rest. Never logged.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

/// A key or sealed value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The key is not 32 bytes of base64.
    #[error("the master key must be 32 bytes, base64-encoded")]
    BadKey,
    /// The value was not sealed by this key for this record, or was altered.
    #[error("a sealed secret could not be opened (wrong master key, or altered)")]
    Unseal,
}

impl MasterKey {
    /// A new random key.
    pub fn generate() -> Self {
        let key = Aes256Gcm::generate_key(&mut OsRng);
        Self(key.into())
    }

    /// Reads a key from its base64 form.
    pub fn from_base64(s: &str) -> Result<Self, SecretError> {
        let bytes = B64.decode(s.trim()).map_err(|_| SecretError::BadKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(Self(arr))
    }

    /// The key's base64 form, for the key file.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0))
    }

    /// Encrypts `plain`, bound to `context`.
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: context,
                },
            )
            // AES-GCM only fails for messages of more than 64 GiB.
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("v1:{}", B64.encode(out))
    }

    /// Decrypts what [`MasterKey::seal`] made with the same `context`.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<Vec<u8>, SecretError> {
        let body = sealed.strip_prefix("v1:").ok_or(SecretError::Unseal)?;
        let bytes = B64.decode(body).map_err(|_| SecretError::Unseal)?;
        if bytes.len() < 12 + 16 {
            return Err(SecretError::Unseal);
        }
        let (nonce, ct) = bytes.split_at(12);
        self.cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context,
                },
            )
            .map_err(|_| SecretError::Unseal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"hunter2-camera", b"device-1");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("hunter2"));
        assert_eq!(
            key.open(&sealed, b"device-1").expect("opens"),
            b"hunter2-camera"
        );
        assert!(
            key.open(&sealed, b"device-2").is_err(),
            "bound to its record"
        );
        assert!(
            MasterKey::generate().open(&sealed, b"device-1").is_err(),
            "bound to its key"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(key.open(&tampered, b"device-1").is_err());
    }

    #[test]
    fn keys_round_trip_through_base64() {
        let key = MasterKey::generate();
        let again = MasterKey::from_base64(&key.to_base64()).expect("reads");
        assert_eq!(key.0, again.0);
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert_eq!(format!("{key:?}"), "MasterKey(…)");
    }
}
