//! API tokens for scripts: random secrets stored only as SHA-256 hashes.

use sha2::{Digest, Sha256};

/// Every API token starts with this, so it is told apart from a JWT.
pub const PREFIX: &str = "trst_";

/// A newly minted token: the secret (shown once) and what is stored.
pub struct MintedToken {
    /// The full secret, returned to the caller once.
    pub secret: String,
    /// SHA-256 of the secret, hex-encoded.
    pub hash: String,
    /// The first characters, for recognising a token in a list.
    pub display_prefix: String,
}

/// Create a new random token.
pub fn mint() -> MintedToken {
    let secret = format!("{PREFIX}{}", super::password::random_secret(40));
    MintedToken {
        hash: hash(&secret),
        display_prefix: secret.chars().take(PREFIX.len() + 6).collect(),
        secret,
    }
}

/// The stored form of a presented token.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether a bearer credential looks like an API token rather than a JWT.
pub fn is_api_token(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_are_unique_and_hash_consistently() {
        let a = mint();
        let b = mint();
        assert_ne!(a.secret, b.secret);
        assert_eq!(hash(&a.secret), a.hash);
        assert!(is_api_token(&a.secret));
        assert!(a.secret.starts_with(&a.display_prefix));
    }
}
