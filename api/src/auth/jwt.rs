//! HS256 JSON Web Tokens: issued by `login` and `trestle token`, checked on every request.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Seconds of clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;

/// The claims Trestle issues and requires.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before (seconds since the epoch), honoured when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
}

/// Signing and verification keys with the pinned algorithm and claim rules.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl JwtKeys {
    /// Keys for `secret`, issuing tokens for `issuer`/`audience` that live `ttl`.
    pub fn new(secret: &SecretString, issuer: &str, audience: &str, ttl: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl,
        }
    }

    /// Issue a token for `user_id`, returning it with its expiry.
    pub fn issue(&self, user_id: Uuid) -> ApiResult<(String, DateTime<Utc>)> {
        self.issue_with_ttl(user_id, self.ttl)
    }

    /// Issue a token for `user_id` that lives `ttl`.
    pub fn issue_with_ttl(
        &self,
        user_id: Uuid,
        ttl: Duration,
    ) -> ApiResult<(String, DateTime<Utc>)> {
        let now = Utc::now();
        let expires_at = now + ttl;
        let claims = Claims {
            sub: user_id.to_string(),
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
            nbf: None,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)?;
        Ok((token, expires_at))
    }

    /// Verify a token and return the user id it names.
    pub fn verify(&self, token: &str) -> ApiResult<Uuid> {
        let invalid = || ApiError::Unauthenticated(Message::InvalidToken);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| invalid())?;
        // A token minted in the future is refused like an expired one.
        let latest_iat = Utc::now().timestamp() + LEEWAY_SECONDS as i64;
        if data.claims.iat > latest_iat {
            return Err(invalid());
        }
        Uuid::parse_str(&data.claims.sub).map_err(|_| invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(
            &SecretString::from("test-secret-test-secret"),
            "trestle",
            "trestle-api",
            Duration::minutes(5),
        )
    }

    #[test]
    fn an_issued_token_decodes_to_its_user() {
        let keys = keys();
        let user = Uuid::now_v7();
        let (token, _) = keys.issue(user).expect("issue");
        assert_eq!(keys.verify(&token).expect("verify"), user);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = keys();
        let (token, _) = keys
            .issue_with_ttl(Uuid::now_v7(), Duration::minutes(-10))
            .expect("issue");
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = JwtKeys::new(
            &SecretString::from("another-secret-entirely"),
            "trestle",
            "trestle-api",
            Duration::minutes(5),
        );
        let (token, _) = other.issue(Uuid::now_v7()).expect("issue");
        assert!(keys().verify(&token).is_err());
    }
}
