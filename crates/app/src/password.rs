//! Password hashing with Argon2id, off the async threads.

use crate::{AppError, Result};
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use std::sync::OnceLock;

/// Hashes a password into a PHC string (Argon2id, OWASP's parameters: 19 MiB, 2 passes).
pub(crate) async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| AppError::Internal(format!("hashing task failed: {e}")))?
}

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing failed: {e}")))
}

/// Checks a password against a stored hash. With `None` (no such account) it checks
/// against a dummy hash and answers no, so the time taken does not reveal whether an
/// account exists.
pub(crate) async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let dummy = dummy_hash();
        let known = stored.is_some();
        let phc = stored.as_deref().unwrap_or(dummy);
        let parsed = PasswordHash::new(phc)
            .map_err(|e| AppError::Internal(format!("stored hash unreadable: {e}")))?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && known)
    })
    .await
    .map_err(|e| AppError::Internal(format!("verifying task failed: {e}")))?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking("no account has this password 7f3a")
            .unwrap_or_else(|_| String::from("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_are_argon2id() {
        let h = hash("correct-horse-7".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(
            verify("correct-horse-7".into(), Some(h.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify("wrong-horse-7".into(), Some(h.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify("correct-horse-7".into(), None)
                .await
                .expect("verify")
        );
        let again = hash("correct-horse-7".into()).await.expect("hash");
        assert_ne!(h, again, "salted: the same password hashes differently");
    }
}
