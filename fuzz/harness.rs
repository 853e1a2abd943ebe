//! Fuzzing harnesses, shared by the cargo-fuzz targets in `fuzz_targets/` and
//! by the corpus replay in `tests/api/tokens.rs`, so CI runs the committed
//! corpus on stable Rust without libFuzzer. Each harness checks a contract,
//! not only the absence of panics.

// Each fuzz target uses one harness; the replay uses all of them.
#![allow(dead_code)]

use std::sync::OnceLock;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use secrecy::SecretString;
use serde_json::Value;
use trestle_api::auth::idp::{IdentityProvider, keys_from_jwks};
use trestle_api::auth::jwt::{LEEWAY_SECONDS, MAX_TOKEN_BYTES};
use trestle_api::auth::{JwtKeys, Principal};
use trestle_api::http::document::scan::{Oversized, check_document};

/// The current HS256 secret of the harness's key set.
pub const SECRET: &str = "fuzz-secret-fuzz-secret-fuzz-secret";
/// A previous HS256 secret, still accepted when a token names its `kid`.
pub const PREVIOUS_SECRET: &str = "fuzz-previous-secret-fuzz-previous";
/// `iss` and `aud` of Trestle's tokens in the harness.
pub const ISSUER: &str = "trestle";
/// See [`ISSUER`].
pub const AUDIENCE: &str = "trestle-api";
/// `iss` and `aud` of the harness's identity provider.
pub const IDP_ISSUER: &str = "https://idp.fuzz.test/";
/// See [`IDP_ISSUER`].
pub const IDP_AUDIENCE: &str = "trestle-fuzz";

/// Public keys only (RSA, P-256, Ed25519); their private halves were discarded.
const IDP_JWKS: &str = include_str!("../tests/fixtures/tokens/fuzz-idp-jwks.json");

/// The key set every token harness verifies with.
pub fn keys() -> &'static JwtKeys {
    static KEYS: OnceLock<JwtKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let provider = IdentityProvider::new(
            keys_from_jwks(IDP_JWKS).expect("the fixture JWKS loads"),
            IDP_ISSUER,
            IDP_AUDIENCE,
            "email",
        )
        .expect("a provider");
        JwtKeys::new(
            &SecretString::from(SECRET),
            ISSUER,
            AUDIENCE,
            chrono::Duration::minutes(5),
        )
        .with_previous_secrets(&[SecretString::from(PREVIOUS_SECRET)])
        .with_identity_provider(provider)
        .expect("distinct kids")
    })
}

/// The pre-parse guard: the first two bytes choose the limits, the rest is
/// the document. The guard must refuse by size exactly when the document is
/// too long, and a document it passes must pass a looser depth limit too.
pub fn guard(data: &[u8]) {
    let (limits, rest) = data.split_at(data.len().min(2));
    let max_bytes = limits.first().map_or(64, |b| usize::from(*b) * 16);
    let max_depth = limits.get(1).map_or(8, |b| usize::from(*b % 64));
    let document = String::from_utf8_lossy(rest);
    check_guard(&document, max_bytes, max_depth);
}

/// The guard's contract on one document and one pair of limits.
pub fn check_guard(document: &str, max_bytes: usize, max_depth: usize) {
    let result = check_document(document, max_bytes, max_depth);
    assert_eq!(
        result == Err(Oversized::TooLarge),
        document.len() > max_bytes,
        "size refusal must match the length: {document:?}"
    );
    if result.is_ok() {
        assert_eq!(
            check_document(document, max_bytes, max_depth + 1),
            Ok(()),
            "a looser depth limit refused what a stricter one passed: {document:?}"
        );
    }
}

/// The verifier on raw bytes as a bearer credential. Whatever it accepts
/// must be a well-formed, current token whose claims name the principal.
pub fn token(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(principal) = keys().check(token) {
        assert_accepted_token_is_sound(token, &principal);
    }
}

/// Sign the fuzzed header and claims (split at the first newline) with a
/// harness secret, so the fuzzer explores everything past the signature.
/// The second byte of the input picks the current or the previous secret.
pub fn signed_claims(data: &[u8]) {
    let (header, claims) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let secret = if data.get(1).is_some_and(|b| b % 2 == 1) {
        PREVIOUS_SECRET
    } else {
        SECRET
    };
    let token = sign_hs256(header, claims, secret);
    if let Ok(principal) = keys().check(&token) {
        assert_accepted_token_is_sound(&token, &principal);
    }
}

/// `header.claims.signature` over exactly these bytes, HS256 with `secret`.
pub fn sign_hs256(header: &[u8], claims: &[u8], secret: &str) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret.as_bytes()),
        Algorithm::HS256,
    )
    .expect("HMAC signing cannot fail");
    format!("{message}.{signature}")
}

/// The contract of an accepted token, stated independently of the verifier.
pub fn assert_accepted_token_is_sound(token: &str, principal: &Principal) {
    assert!(token.len() <= MAX_TOKEN_BYTES);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "accepted a token without three segments");
    let json = |part: &str| -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .expect("accepted segments decode");
        serde_json::from_slice(&bytes).expect("accepted segments are JSON")
    };
    let header = json(parts[0]);
    let claims = json(parts[1]);
    for forbidden in ["crit", "jku", "x5u", "jwk", "x5c", "b64", "zip", "enc"] {
        assert!(
            header.get(forbidden).is_none(),
            "accepted `{forbidden}`: {header}"
        );
    }
    let now = chrono::Utc::now().timestamp();
    let exp = claims["exp"]
        .as_i64()
        .expect("accepted without an integer exp");
    let iat = claims["iat"]
        .as_i64()
        .expect("accepted without an integer iat");
    assert!(exp > now - LEEWAY_SECONDS, "accepted an expired token");
    assert!(
        iat <= now + LEEWAY_SECONDS,
        "accepted a token from the future"
    );
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf.as_i64().expect("accepted a non-integer nbf");
        assert!(
            nbf <= now + LEEWAY_SECONDS,
            "accepted a token not valid yet"
        );
    }
    let names_audience = |audience: &str| match &claims["aud"] {
        Value::String(aud) => aud == audience,
        Value::Array(items) => items.iter().any(|item| item == audience),
        _ => false,
    };
    match principal {
        Principal::User(id) => {
            assert_eq!(header["alg"], "HS256", "a user token not signed with HS256");
            assert_eq!(claims["iss"], ISSUER);
            assert!(names_audience(AUDIENCE), "accepted a foreign audience");
            assert_eq!(claims["sub"].as_str(), Some(id.to_string()).as_deref());
        }
        Principal::Email(email) => {
            assert_ne!(
                header["alg"], "HS256",
                "an identity-provider token with HS256"
            );
            assert_eq!(claims["iss"], IDP_ISSUER);
            assert!(names_audience(IDP_AUDIENCE), "accepted a foreign audience");
            assert_eq!(claims["email"].as_str(), Some(email.as_str()));
            assert_eq!(
                claims["email_verified"], true,
                "accepted an unverified email"
            );
        }
    }
}
