//! The checks of RFC 8725 on one token: its shape, its header, the key it
//! may be verified with, and every claim, strictly typed.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{LEEWAY_SECONDS, MAX_TOKEN_BYTES, Principal, Verified};

/// Longest `kid` accepted in a header.
const MAX_KID_CHARS: usize = 128;

/// Header parameters that point at or embed a key: Trestle never takes a key from a token.
const KEY_CARRYING_PARAMETERS: [&str; 4] = ["jku", "x5u", "jwk", "x5c"];

/// Header parameters of JWS/JWE extensions Trestle does not implement.
const UNSUPPORTED_PARAMETERS: [&str; 3] = ["b64", "zip", "enc"];

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

/// How the claims of tokens verified by one key are checked and mapped.
#[derive(Debug, Clone)]
pub(super) struct ClaimRules {
    pub(super) issuer: String,
    pub(super) audience: String,
    pub(super) subject: SubjectRule,
}

#[derive(Debug, Clone)]
pub(super) enum SubjectRule {
    /// Trestle's own tokens: `sub` is a user id and `typ` is `JWT`.
    UserId,
    /// Identity-provider tokens: the named claim holds a user's email.
    Email { claim: String },
}

/// One verification key, pinned to the single algorithm it verifies.
pub(super) struct VerificationKey {
    /// The `kid` tokens must name; `None` (a lone identity-provider key) matches any.
    pub(super) kid: Option<String>,
    /// Whether a token without `kid` may be verified with this key.
    pub(super) accepts_missing_kid: bool,
    pub(super) algorithm: Algorithm,
    pub(super) decoding: DecodingKey,
    pub(super) validation: Validation,
    pub(super) external: bool,
}

impl VerificationKey {
    pub(super) fn new(
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

    pub(super) fn matches(&self, algorithm: Algorithm, kid: Option<&str>) -> bool {
        self.algorithm == algorithm
            && match (kid, self.kid.as_deref()) {
                (Some(wanted), Some(own)) => wanted == own,
                (Some(_), None) => true,
                (None, _) => self.accepts_missing_kid,
            }
    }
}

/// The three segments of a compact JWS, each non-empty base64url.
pub(super) fn segments(token: &str) -> Result<[&str; 3], Refusal> {
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
pub(super) struct JoseHeader {
    pub(super) algorithm: Algorithm,
    pub(super) kid: Option<String>,
    pub(super) typ: Option<String>,
}

impl JoseHeader {
    pub(super) fn parse(segment: &str) -> Result<Self, Refusal> {
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
pub(super) fn type_allowed(typ: Option<&str>, subject: &SubjectRule) -> bool {
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

pub(super) fn library_refusal(kind: &ErrorKind) -> Refusal {
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
pub(super) fn check_claims(
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
    // Trestle's own tokens carry their instant of issue in a UUIDv7 `jti`.
    let stamp = match (&principal, claims.get("jti")) {
        (Principal::User(_), Some(Value::String(jti))) => super::stamp_of(jti),
        _ => None,
    };
    Ok(Verified {
        principal,
        issued_at: iat,
        expires_at: exp,
        stamp,
    })
}
