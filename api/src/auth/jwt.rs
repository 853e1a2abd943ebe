//! JSON Web Tokens, verified along RFC 8725 before anything reaches the database.
//!
//! Trestle's own tokens are HS256, signed by the current secret and naming
//! it by `kid`; earlier secrets keep verifying during a rotation. Tokens of an
//! external identity provider are verified with its public keys
//! ([`super::idp`]). Every key is pinned to one algorithm and chosen by `kid`
//! and algorithm together, so a header can never make a public key act as an
//! HMAC secret, and no key is tried after another has failed.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::idp::IdentityProvider;
use crate::config::JwtConfig;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: i64 = 30;

/// Longest bearer token looked at; anything longer is refused unread.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Longest `kid` accepted in a header.
const MAX_KID_CHARS: usize = 128;

/// Shortest HS256 secret accepted in production, and without a warning in
/// development (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Header parameters that point at or embed a key: Trestle never takes a key from a token.
const KEY_CARRYING_PARAMETERS: [&str; 4] = ["jku", "x5u", "jwk", "x5c"];

/// Header parameters of JWS/JWE extensions Trestle does not implement.
const UNSUPPORTED_PARAMETERS: [&str; 3] = ["b64", "zip", "enc"];

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
}

/// Whom a verified token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A Trestle user by id: Trestle's own tokens.
    User(Uuid),
    /// A Trestle user by email: tokens of the external identity provider.
    Email(String),
}

/// Why a token was refused; logged at debug level, never shown to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Longer than [`MAX_TOKEN_BYTES`].
    #[error("longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    /// Not three non-empty base64url segments, or a segment does not decode.
    #[error("not a compact JWS of three base64url segments")]
    Malformed,
    /// The header is not a JSON object, or a parameter has the wrong type.
    #[error("malformed header")]
    BadHeader,
    /// `alg` is missing, unknown, `none`, or differs from the chosen key's.
    #[error("algorithm missing, unknown or not the key's")]
    BadAlgorithm,
    /// `typ` names another kind of token.
    #[error("unexpected `typ`")]
    BadType,
    /// The header has `crit`: Trestle understands no extension.
    #[error("critical header extension")]
    Critical,
    /// The header points at or embeds a key (`jku`, `x5u`, `jwk`, `x5c`).
    #[error("header carries a key or key URL")]
    KeyInHeader,
    /// The header uses an unsupported extension (`b64`, `zip`, `enc`).
    #[error("unsupported header extension")]
    Unsupported,
    /// No configured key has this `kid` and algorithm.
    #[error("no key for this `kid` and algorithm")]
    UnknownKey,
    /// The signature does not verify.
    #[error("bad signature")]
    Signature,
    /// A required claim is missing or has the wrong type.
    #[error("claim `{0}` missing or malformed")]
    Claim(&'static str),
    /// `exp` has passed.
    #[error("expired")]
    Expired,
    /// `nbf` is still ahead.
    #[error("not valid yet")]
    NotYetValid,
    /// `iat` is ahead: minted in the future.
    #[error("issued in the future")]
    IssuedInFuture,
    /// `iss` is not the expected issuer.
    #[error("wrong issuer")]
    Issuer,
    /// `aud` does not name this service.
    #[error("wrong audience")]
    Audience,
    /// `sub` of a Trestle token is not a user id.
    #[error("subject is not a user id")]
    Subject,
    /// The identity provider's email claim is missing or not an email.
    #[error("email claim missing or malformed")]
    Email,
    /// The identity provider does not say `email_verified: true`.
    #[error("email not verified")]
    EmailUnverified,
}

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

/// How the claims of tokens verified by one key are checked and mapped.
#[derive(Debug, Clone)]
struct ClaimRules {
    issuer: String,
    audience: String,
    subject: SubjectRule,
}

#[derive(Debug, Clone)]
enum SubjectRule {
    /// Trestle's own tokens: `sub` is a user id and `typ` is `JWT`.
    UserId,
    /// Identity-provider tokens: the named claim holds a user's email.
    Email { claim: String },
}

/// One verification key, pinned to the single algorithm it verifies.
struct VerificationKey {
    /// The `kid` tokens must name; `None` (a lone identity-provider key) matches any.
    kid: Option<String>,
    /// Whether a token without `kid` may be verified with this key.
    accepts_missing_kid: bool,
    algorithm: Algorithm,
    decoding: DecodingKey,
    validation: Validation,
    external: bool,
}

impl VerificationKey {
    fn new(
        kid: Option<String>,
        accepts_missing_kid: bool,
        algorithm: Algorithm,
        decoding: DecodingKey,
        rules: &ClaimRules,
        external: bool,
    ) -> Self {
        // The library checks signature, algorithm and standard claims; ours
        // below add types, `iat` and the subject. Both must pass.
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&rules.issuer]);
        validation.set_audience(&[&rules.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.leeway = LEEWAY_SECONDS.unsigned_abs();
        Self {
            kid,
            accepts_missing_kid,
            algorithm,
            decoding,
            validation,
            external,
        }
    }

    fn matches(&self, algorithm: Algorithm, kid: Option<&str>) -> bool {
        self.algorithm == algorithm
            && match (kid, self.kid.as_deref()) {
                (Some(wanted), Some(own)) => wanted == own,
                (Some(_), None) => true,
                (None, _) => self.accepts_missing_kid,
            }
    }
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
            iss: self.local.issuer.clone(),
            aud: self.local.audience.clone(),
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

/// The three segments of a compact JWS, each non-empty base64url.
fn segments(token: &str) -> Result<[&str; 3], Refusal> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed);
    };
    let base64url = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if [header, payload, signature].into_iter().all(base64url) {
        Ok([header, payload, signature])
    } else {
        Err(Refusal::Malformed)
    }
}

/// The header parameters Trestle acts on, after refusing the dangerous ones.
struct JoseHeader {
    algorithm: Algorithm,
    kid: Option<String>,
    typ: Option<String>,
}

impl JoseHeader {
    fn parse(segment: &str) -> Result<Self, Refusal> {
        let bytes = URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| Refusal::Malformed)?;
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(Refusal::BadHeader);
        };
        // RFC 7515 §4.1.11: an extension marked critical that we do not
        // understand (we understand none) makes the token invalid.
        if fields.contains_key("crit") {
            return Err(Refusal::Critical);
        }
        if KEY_CARRYING_PARAMETERS
            .iter()
            .any(|name| fields.contains_key(*name))
        {
            return Err(Refusal::KeyInHeader);
        }
        if UNSUPPORTED_PARAMETERS
            .iter()
            .any(|name| fields.contains_key(*name))
        {
            return Err(Refusal::Unsupported);
        }
        let algorithm = match fields.get("alg") {
            Some(Value::String(name)) => name
                .parse::<Algorithm>()
                .map_err(|_| Refusal::BadAlgorithm)?,
            _ => return Err(Refusal::BadAlgorithm),
        };
        let kid = match fields.get("kid") {
            None => None,
            Some(Value::String(kid)) if !kid.is_empty() && kid.chars().count() <= MAX_KID_CHARS => {
                Some(kid.clone())
            }
            Some(_) => return Err(Refusal::BadHeader),
        };
        let typ = match fields.get("typ") {
            None => None,
            Some(Value::String(typ)) => Some(typ.clone()),
            Some(_) => return Err(Refusal::BadHeader),
        };
        Ok(Self {
            algorithm,
            kid,
            typ,
        })
    }
}

/// Explicit typing (RFC 8725 §3.11): Trestle's tokens say `JWT`; an identity
/// provider's may also say `at+jwt` (RFC 9068) or nothing, but never name
/// another kind of token such as a logout token.
fn type_allowed(typ: Option<&str>, subject: &SubjectRule) -> bool {
    let typ = typ.map(|typ| {
        let lower = typ.to_ascii_lowercase();
        match lower.strip_prefix("application/") {
            Some(rest) => rest.to_owned(),
            None => lower,
        }
    });
    match subject {
        SubjectRule::UserId => typ.as_deref() == Some("jwt"),
        SubjectRule::Email { .. } => matches!(typ.as_deref(), None | Some("jwt" | "at+jwt")),
    }
}

fn library_refusal(kind: &ErrorKind) -> Refusal {
    match kind {
        ErrorKind::InvalidSignature => Refusal::Signature,
        ErrorKind::ExpiredSignature => Refusal::Expired,
        ErrorKind::ImmatureSignature => Refusal::NotYetValid,
        ErrorKind::InvalidIssuer => Refusal::Issuer,
        ErrorKind::InvalidAudience => Refusal::Audience,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => Refusal::BadAlgorithm,
        ErrorKind::MissingRequiredClaim(name) | ErrorKind::InvalidClaimFormat(name) => {
            Refusal::Claim(match name.as_str() {
                "exp" => "exp",
                "nbf" => "nbf",
                "iss" => "iss",
                "aud" => "aud",
                "sub" => "sub",
                _ => "claims",
            })
        }
        ErrorKind::Json(_) => Refusal::Claim("claims"),
        _ => Refusal::Malformed,
    }
}

/// An integer NumericDate claim; absent is `None`, any other type is refused.
fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, Refusal> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value.as_i64().map(Some).ok_or(Refusal::Claim(name)),
    }
}

/// Every claim check, strictly typed, after the signature verified.
fn check_claims(
    claims: &Map<String, Value>,
    rules: &ClaimRules,
    now: i64,
) -> Result<Verified, Refusal> {
    let exp = numeric_date(claims, "exp")?.ok_or(Refusal::Claim("exp"))?;
    let iat = numeric_date(claims, "iat")?.ok_or(Refusal::Claim("iat"))?;
    let nbf = numeric_date(claims, "nbf")?;
    if exp <= now - LEEWAY_SECONDS {
        return Err(Refusal::Expired);
    }
    if nbf.is_some_and(|nbf| nbf > now + LEEWAY_SECONDS) {
        return Err(Refusal::NotYetValid);
    }
    if iat > now + LEEWAY_SECONDS {
        return Err(Refusal::IssuedInFuture);
    }
    if exp <= iat {
        return Err(Refusal::Claim("exp"));
    }
    match claims.get("iss") {
        Some(Value::String(iss)) if *iss == rules.issuer => {}
        Some(Value::String(_)) => return Err(Refusal::Issuer),
        _ => return Err(Refusal::Claim("iss")),
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()
            .ok_or(Refusal::Claim("aud"))?,
        _ => return Err(Refusal::Claim("aud")),
    };
    if !audiences.contains(&rules.audience.as_str()) {
        return Err(Refusal::Audience);
    }
    let sub = match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => sub,
        _ => return Err(Refusal::Claim("sub")),
    };
    let principal = match &rules.subject {
        // Only the hyphenated lower-case form Trestle writes, not every spelling.
        SubjectRule::UserId => Uuid::parse_str(sub)
            .ok()
            .filter(|id| id.to_string() == *sub)
            .map(Principal::User)
            .ok_or(Refusal::Subject),
        SubjectRule::Email { claim } => {
            let email = match claims.get(claim.as_str()) {
                Some(Value::String(email))
                    if email.len() <= 320 && email.contains('@') && !email.trim().is_empty() =>
                {
                    email
                }
                _ => return Err(Refusal::Email),
            };
            // Only an explicit `true`: a provider that does not say is not trusted.
            match claims.get("email_verified") {
                Some(Value::Bool(true)) => Ok(Principal::Email(email.clone())),
                _ => Err(Refusal::EmailUnverified),
            }
        }
    }?;
    Ok(Verified {
        principal,
        issued_at: iat,
        expires_at: exp,
    })
}

#[cfg(test)]
mod tests {
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
    fn the_key_id_is_the_first_eight_hex_digits_of_the_secrets_sha256() {
        // sha256("abc") = ba7816bf…
        assert_eq!(key_id(&SecretString::from("abc")), "ba7816bf");
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = keys();
        let (token, _) = keys
            .issue_with_ttl(Uuid::now_v7(), Duration::minutes(-10))
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
