//! JSON Web Tokens, verified along RFC 8725 before anything reaches the database.
//!
//! Trestle's own tokens are HS256, signed by the current secret and naming
//! it by `kid`; earlier secrets keep verifying during a rotation. Tokens of an
//! external identity provider are verified with its public keys
//! ([`super::idp`]). Every key is pinned to one algorithm and chosen by `kid`
//! and algorithm together, so a header can never make a public key act as an
//! HMAC secret, and no key is tried after another has failed.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::idp::IdentityProvider;
use super::keys::{KeyError, MIN_SECRET_BYTES, key_id};
use crate::config::JwtConfig;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;
pub use rules::Refusal;
use rules::{
    ClaimRules, JoseHeader, SubjectRule, VerificationKey, check_claims, library_refusal, segments,
    type_allowed,
};

mod rules;

/// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: i64 = 30;

/// Longest bearer token looked at; anything longer is refused unread.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The claims Trestle issues.
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
    /// A UUIDv7: random, so that two tokens issued in the same second
    /// differ (`logout` ends one token, known by its SHA-256), and carrying
    /// the instant of issue to the millisecond (`logoutEverywhere` ends the
    /// tokens issued before an instant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// The first whole millisecond at or after `at`.
pub fn next_millisecond(at: DateTime<Utc>) -> DateTime<Utc> {
    let millis =
        at.timestamp_millis() + i64::from(!at.timestamp_subsec_nanos().is_multiple_of(1_000_000));
    DateTime::from_timestamp_millis(millis).unwrap_or(at)
}

/// A UUIDv7 carrying `at` (to the millisecond) and random bits.
fn stamped_id(at: DateTime<Utc>) -> Uuid {
    let seconds = u64::try_from(at.timestamp()).unwrap_or(0);
    let timestamp =
        uuid::Timestamp::from_unix(uuid::NoContext, seconds, at.timestamp_subsec_nanos());
    Uuid::new_v7(timestamp)
}

/// The instant a Trestle `jti` carries, if it is a UUIDv7.
pub fn stamp_of(jti: &str) -> Option<DateTime<Utc>> {
    let id = Uuid::parse_str(jti).ok()?;
    let (seconds, nanos) = id.get_timestamp()?.to_unix();
    DateTime::from_timestamp(i64::try_from(seconds).ok()?, nanos)
}

/// A token whose signature and claims verified: whom it names and its lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Whom it names.
    pub principal: Principal,
    /// `iat`, seconds since the epoch.
    pub issued_at: i64,
    /// `exp`, seconds since the epoch; accepted until [`LEEWAY_SECONDS`] after it.
    pub expires_at: i64,
    /// For Trestle's own tokens, the instant of issue to the millisecond,
    /// from the `jti` (a UUIDv7); `iat` counts whole seconds.
    pub stamp: Option<DateTime<Utc>>,
}

/// Whom a verified token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A Trestle user by id: Trestle's own tokens.
    User(Uuid),
    /// A Trestle user by email: tokens of the external identity provider.
    Email(String),
}

/// Trestle's signing key and every key it verifies with, with their claim rules.
pub struct JwtKeys {
    signing: EncodingKey,
    signing_kid: String,
    keys: Vec<VerificationKey>,
    local: ClaimRules,
    external: Option<ClaimRules>,
    ttl: Duration,
}

impl JwtKeys {
    /// Keys for `secret`, issuing tokens for `issuer`/`audience` that live `ttl`.
    pub fn new(secret: &SecretString, issuer: &str, audience: &str, ttl: Duration) -> Self {
        let local = ClaimRules {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            subject: SubjectRule::UserId,
        };
        let bytes = secret.expose_secret().as_bytes();
        let kid = key_id(secret);
        let current = VerificationKey::new(
            Some(kid.clone()),
            true,
            Algorithm::HS256,
            DecodingKey::from_secret(bytes),
            &local,
            false,
        );
        Self {
            signing: EncodingKey::from_secret(bytes),
            signing_kid: kid,
            keys: vec![current],
            local,
            external: None,
            ttl,
        }
    }

    /// Also accept tokens signed by earlier secrets; they must name their `kid`.
    pub fn with_previous_secrets(mut self, secrets: &[SecretString]) -> Self {
        for secret in secrets {
            if secret.expose_secret().is_empty() {
                continue;
            }
            let kid = key_id(secret);
            if self.keys.iter().any(|key| key.kid.as_deref() == Some(&kid)) {
                continue;
            }
            let key = VerificationKey::new(
                Some(kid),
                false,
                Algorithm::HS256,
                DecodingKey::from_secret(secret.expose_secret().as_bytes()),
                &self.local,
                false,
            );
            self.keys.push(key);
        }
        self
    }

    /// Also accept tokens of an external identity provider, mapped to users by email.
    pub fn with_identity_provider(mut self, provider: IdentityProvider) -> Result<Self, KeyError> {
        let rules = ClaimRules {
            issuer: provider.issuer,
            audience: provider.audience,
            subject: SubjectRule::Email {
                claim: provider.email_claim,
            },
        };
        for key in provider.keys {
            if let Some(kid) = &key.kid
                && self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
            {
                return Err(KeyError::DuplicateKid(kid.clone()));
            }
            let accepts_missing_kid = key.kid.is_none();
            self.keys.push(VerificationKey::new(
                key.kid,
                accepts_missing_kid,
                key.algorithm,
                key.decoding,
                &rules,
                true,
            ));
        }
        self.external = Some(rules);
        Ok(self)
    }

    /// Every key the configuration names: `current` signs, earlier secrets and
    /// the identity provider's public keys verify. A short secret earns a
    /// warning here; production refuses it earlier ([`require_long_secrets`]).
    pub fn from_config(current: &SecretString, config: &JwtConfig) -> Result<Self, KeyError> {
        if current.expose_secret().is_empty() {
            return Err(KeyError::EmptySecret);
        }
        let short = std::iter::once(current)
            .chain(&config.jwt_previous_secrets)
            .any(|s| !s.expose_secret().is_empty() && s.expose_secret().len() < MIN_SECRET_BYTES);
        if short {
            tracing::warn!(
                "a JWT secret is shorter than {MIN_SECRET_BYTES} bytes: use a long random secret (production refuses to start with it)"
            );
        }
        let keys = Self::new(
            current,
            &config.jwt_issuer,
            &config.jwt_audience,
            Duration::minutes(config.jwt_ttl_minutes.into()),
        )
        .with_previous_secrets(&config.jwt_previous_secrets);
        match IdentityProvider::from_config(&config.oidc)? {
            Some(provider) => keys.with_identity_provider(provider),
            None => Ok(keys),
        }
    }

    /// The `kid` of the key that signs new tokens.
    pub fn signing_kid(&self) -> &str {
        &self.signing_kid
    }

    /// Issue a token for `user_id`, returning it with its expiry.
    pub fn issue(&self, user_id: Uuid) -> ApiResult<(String, DateTime<Utc>)> {
        self.issue_with_ttl(user_id, self.ttl, None)
    }

    /// Issue a token for `user_id` accepted after `valid_after` (the user's last `logoutEverywhere`).
    pub fn issue_after(
        &self,
        user_id: Uuid,
        valid_after: Option<DateTime<Utc>>,
    ) -> ApiResult<(String, DateTime<Utc>)> {
        self.issue_with_ttl(user_id, self.ttl, valid_after)
    }

    /// Issue a token for `user_id` that lives `ttl`. Its stamp (the `jti`'s
    /// instant) is not before `valid_after`, the user's last
    /// `logoutEverywhere`, which refuses tokens stamped before it: a token
    /// issued in the same millisecond is stamped with the next one.
    pub fn issue_with_ttl(
        &self,
        user_id: Uuid,
        ttl: Duration,
        valid_after: Option<DateTime<Utc>>,
    ) -> ApiResult<(String, DateTime<Utc>)> {
        let now = Utc::now();
        let expires_at = now + ttl;
        let stamp = valid_after.map_or(now, |after| now.max(next_millisecond(after)));
        let claims = Claims {
            sub: user_id.to_string(),
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
            nbf: None,
            iss: self.local.issuer.clone(),
            aud: self.local.audience.clone(),
            jti: Some(stamped_id(stamp).to_string()),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.signing_kid.clone());
        let token =
            jsonwebtoken::encode(&header, &claims, &self.signing).map_err(ApiError::internal)?;
        Ok((token, expires_at))
    }

    /// Verify a token and return whom it names and until when, or `UNAUTHENTICATED`.
    pub fn verify(&self, token: &str) -> ApiResult<Verified> {
        self.check_verified(token).map_err(|refusal| {
            tracing::debug!(%refusal, "bearer token refused");
            ApiError::Unauthenticated(Message::InvalidToken)
        })
    }

    /// Verify a token and return whom it names, or why it is refused.
    pub fn check(&self, token: &str) -> Result<Principal, Refusal> {
        self.check_verified(token)
            .map(|verified| verified.principal)
    }

    /// Verify a token and return whom it names and its lifetime, or why it is refused.
    pub fn check_verified(&self, token: &str) -> Result<Verified, Refusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Refusal::TooLong);
        }
        let [header, _, _] = segments(token)?;
        let header = JoseHeader::parse(header)?;
        let key = self
            .keys
            .iter()
            .find(|key| key.matches(header.algorithm, header.kid.as_deref()))
            .ok_or(Refusal::UnknownKey)?;
        let rules = if key.external {
            self.external.as_ref().ok_or(Refusal::UnknownKey)?
        } else {
            &self.local
        };
        if !type_allowed(header.typ.as_deref(), &rules.subject) {
            return Err(Refusal::BadType);
        }
        let claims =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, &key.validation)
                .map_err(|error| library_refusal(error.kind()))?
                .claims;
        check_claims(&claims, rules, Utc::now().timestamp())
    }
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;
    use serde_json::json;

    const SECRET: &str = "test-secret-test-secret";

    fn keys() -> JwtKeys {
        JwtKeys::new(
            &SecretString::from(SECRET),
            "trestle",
            "trestle-api",
            Duration::minutes(5),
        )
    }

    fn claims(sub: &str) -> Value {
        let now = Utc::now().timestamp();
        json!({ "sub": sub, "iat": now, "exp": now + 300, "iss": "trestle", "aud": "trestle-api" })
    }

    /// A token with exactly this header and these claims, signed with `secret`.
    fn raw(header: &Value, claims: &Value, secret: &str) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(secret.as_bytes()),
            Algorithm::HS256,
        )
        .expect("sign");
        format!("{message}.{signature}")
    }

    fn header_with_kid(kid: &str) -> Value {
        json!({ "alg": "HS256", "typ": "JWT", "kid": kid })
    }

    #[test]
    fn an_issued_token_decodes_to_its_user_and_names_its_key() {
        let keys = keys();
        let user = Uuid::now_v7();
        let (token, _) = keys.issue(user).expect("issue");
        assert_eq!(keys.check(&token), Ok(Principal::User(user)));
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(header.kid.as_deref(), Some(keys.signing_kid()));
        assert_eq!(header.alg, Algorithm::HS256);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = keys();
        let (token, _) = keys
            .issue_with_ttl(Uuid::now_v7(), Duration::minutes(-10), None)
            .expect("issue");
        assert_eq!(keys.check(&token), Err(Refusal::Expired));
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
        // Its kid names no key of ours.
        assert_eq!(keys().check(&token), Err(Refusal::UnknownKey));
        let unnamed = raw(
            &json!({ "alg": "HS256", "typ": "JWT" }),
            &claims(&Uuid::now_v7().to_string()),
            "another-secret-entirely",
        );
        assert_eq!(keys().check(&unnamed), Err(Refusal::Signature));
    }

    #[test]
    fn a_previous_secret_verifies_only_tokens_naming_its_kid() {
        let old = SecretString::from("the-old-secret-of-last-quarter");
        let keys = keys().with_previous_secrets(std::slice::from_ref(&old));
        let user = Uuid::now_v7();
        let named = raw(
            &header_with_kid(&key_id(&old)),
            &claims(&user.to_string()),
            "the-old-secret-of-last-quarter",
        );
        assert_eq!(keys.check(&named), Ok(Principal::User(user)));
        let unnamed = raw(
            &json!({ "alg": "HS256", "typ": "JWT" }),
            &claims(&user.to_string()),
            "the-old-secret-of-last-quarter",
        );
        assert_eq!(keys.check(&unnamed), Err(Refusal::Signature));
        // The current key still signs, and a token without kid is tried against it.
        let current = raw(
            &json!({ "alg": "HS256", "typ": "JWT" }),
            &claims(&user.to_string()),
            SECRET,
        );
        assert_eq!(keys.check(&current), Ok(Principal::User(user)));
        let (issued, _) = keys.issue(user).expect("issue");
        let header = jsonwebtoken::decode_header(&issued).expect("header");
        assert_eq!(header.kid, Some(key_id(&SecretString::from(SECRET))));
    }

    #[test]
    fn a_token_naming_one_key_but_signed_by_another_is_refused() {
        let old = SecretString::from("the-old-secret-of-last-quarter");
        let keys = keys().with_previous_secrets(std::slice::from_ref(&old));
        let token = raw(
            &header_with_kid(&key_id(&old)),
            &claims(&Uuid::now_v7().to_string()),
            SECRET,
        );
        assert_eq!(keys.check(&token), Err(Refusal::Signature));
    }

    #[test]
    fn dangerous_headers_are_refused_before_any_key_is_chosen() {
        let keys = keys();
        let sub = Uuid::now_v7().to_string();
        let cases = [
            (
                json!({ "alg": "none", "typ": "JWT" }),
                Refusal::BadAlgorithm,
            ),
            (json!({ "alg": "HS512", "typ": "JWT" }), Refusal::UnknownKey),
            (json!({ "typ": "JWT" }), Refusal::BadAlgorithm),
            (
                json!({ "alg": "HS256", "typ": "JWT", "crit": ["exp"] }),
                Refusal::Critical,
            ),
            (
                json!({ "alg": "HS256", "typ": "JWT", "jku": "https://evil.example/jwks" }),
                Refusal::KeyInHeader,
            ),
            (
                json!({ "alg": "HS256", "typ": "JWT", "b64": false }),
                Refusal::Unsupported,
            ),
            (
                json!({ "alg": "HS256", "typ": "logout+jwt" }),
                Refusal::BadType,
            ),
            (
                json!({ "alg": "HS256", "typ": "JWT", "kid": 7 }),
                Refusal::BadHeader,
            ),
            (json!(["HS256"]), Refusal::BadHeader),
        ];
        for (header, refusal) in cases {
            let token = raw(&header, &claims(&sub), SECRET);
            assert_eq!(keys.check(&token), Err(refusal), "{header}");
        }
    }

    #[test]
    fn claims_of_the_wrong_type_are_refused() {
        let keys = keys();
        let header = json!({ "alg": "HS256", "typ": "JWT" });
        let base = claims(&Uuid::now_v7().to_string());
        let cases = [
            ("exp", json!("9999999999"), Refusal::Claim("exp")),
            ("exp", json!(9_999_999_999.5), Refusal::Claim("exp")),
            ("iat", json!(null), Refusal::Claim("iat")),
            ("nbf", json!("0"), Refusal::Claim("nbf")),
            ("aud", json!(["someone-else"]), Refusal::Audience),
            ("aud", json!([1]), Refusal::Claim("aud")),
            ("iss", json!(["trestle"]), Refusal::Claim("iss")),
            ("sub", json!("not-a-uuid"), Refusal::Subject),
        ];
        for (name, value, refusal) in cases {
            let mut claims = base.clone();
            claims[name] = value;
            let token = raw(&header, &claims, SECRET);
            assert_eq!(keys.check(&token), Err(refusal), "{name}");
        }
        let mut with_our_audience = base.clone();
        with_our_audience["aud"] = json!(["other", "trestle-api"]);
        assert!(
            keys.check(&raw(&header, &with_our_audience, SECRET))
                .is_ok()
        );
    }

    #[test]
    fn oversized_and_misshapen_tokens_are_refused_unread() {
        let keys = keys();
        assert_eq!(
            keys.check(&"a".repeat(MAX_TOKEN_BYTES + 1)),
            Err(Refusal::TooLong)
        );
        for token in ["", "a.b", "a.b.c.d", "a..c", "a.b.", "a=.b.c", "a b.c.d"] {
            assert_eq!(keys.check(token), Err(Refusal::Malformed), "{token:?}");
        }
    }
}
