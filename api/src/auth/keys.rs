//! Key material shared by Trestle's own tokens and an identity provider's:
//! the rules a configured secret must meet and why a key cannot be used.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::config::JwtConfig;

/// Shortest HS256 secret accepted in production, and without a warning in
/// development (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Why the configured keys cannot be used; the server refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The signing secret is empty.
    #[error("the JWT signing secret is empty")]
    EmptySecret,
    /// A secret is too short to be safe, and the server runs in production.
    #[error(
        "TRESTLE_JWT_SECRET and every TRESTLE_JWT_PREVIOUS_SECRETS entry must be at least {MIN_SECRET_BYTES} bytes in production (generate one with `openssl rand -hex 32`)"
    )]
    ShortSecret,
    /// A setting is missing or contradicts another.
    #[error("{0}")]
    Setting(&'static str),
    /// A key file cannot be read.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The JWKS file is unusable.
    #[error("JWKS: {0}")]
    Jwks(String),
    /// The PEM file is unusable.
    #[error("PEM public key: {0}")]
    Pem(&'static str),
    /// Two keys share a `kid`, so tokens could not be matched to one key.
    #[error("two keys share the kid {0:?}")]
    DuplicateKid(String),
}

/// The `kid` of an HS256 secret: the first 8 hex characters of its SHA-256.
pub fn key_id(secret: &SecretString) -> String {
    let digest = Sha256::digest(secret.expose_secret().as_bytes());
    hex::encode(&digest[..4])
}

/// Refuse configured HS256 secrets shorter than [`MIN_SECRET_BYTES`]
/// (production): a short secret can be guessed offline from any token it
/// signed, and then every token can be forged.
pub fn require_long_secrets(config: &JwtConfig) -> Result<(), KeyError> {
    let short = config
        .jwt_secret
        .iter()
        .chain(&config.jwt_previous_secrets)
        .any(|s| !s.expose_secret().is_empty() && s.expose_secret().len() < MIN_SECRET_BYTES);
    if short {
        Err(KeyError::ShortSecret)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_id_is_the_first_eight_hex_digits_of_the_secrets_sha256() {
        // sha256("abc") = ba7816bf…
        assert_eq!(key_id(&SecretString::from("abc")), "ba7816bf");
    }
}
