//! Random secrets (session cookies, API tokens, setup tokens) and their stored SHA-256 form.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

/// Prefix of API tokens, so leaked tokens are recognisable by secret scanners.
pub const API_TOKEN_PREFIX: &str = "plein_";

/// 256 random bits, base64url without padding.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256, what the database stores instead of the secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_hash_to_64_hex_chars() {
        let first = random_secret();
        let second = random_secret();
        assert_ne!(first, second);
        assert_eq!(first.len(), 43);
        assert_eq!(hash_secret(&first).len(), 64);
        assert_ne!(hash_secret(&first), hash_secret(&second));
    }
}
