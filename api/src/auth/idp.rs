//! An external identity provider's public keys, read once at start from a
//! JWKS or PEM file, each pinned to the one algorithm it may verify.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse},
};
use serde_json::Value;

use super::keys::KeyError;
use crate::config::OidcConfig;

/// Smallest RSA modulus accepted, in bytes: 2048 bits (RFC 7518 §3.3).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// One public key of the identity provider.
pub struct PublicKey {
    /// Its `kid`; a lone key without one verifies tokens whatever their `kid`.
    pub kid: Option<String>,
    /// The one algorithm it verifies.
    pub algorithm: Algorithm,
    /// The key itself.
    pub decoding: DecodingKey,
}

/// An external identity provider: its keys and the claims its tokens must carry.
pub struct IdentityProvider {
    /// Its public keys.
    pub keys: Vec<PublicKey>,
    /// The `iss` its tokens must carry.
    pub issuer: String,
    /// The `aud` its tokens must name.
    pub audience: String,
    /// The claim holding the user's email.
    pub email_claim: String,
}

impl IdentityProvider {
    /// The provider the configuration names, if any, with its key file read.
    pub fn from_config(config: &OidcConfig) -> Result<Option<Self>, KeyError> {
        let (path, is_jwks) = match (&config.oidc_jwks_file, &config.oidc_public_key_file) {
            (None, None) => {
                if config.oidc_issuer.is_some() || config.oidc_audience.is_some() {
                    tracing::warn!(
                        "TRESTLE_OIDC_ISSUER/AUDIENCE are set without a key file: identity-provider tokens are refused"
                    );
                }
                return Ok(None);
            }
            (Some(path), None) => (path, true),
            (None, Some(path)) => (path, false),
            (Some(_), Some(_)) => {
                return Err(KeyError::Setting(
                    "set TRESTLE_OIDC_JWKS_FILE or TRESTLE_OIDC_PUBLIC_KEY_FILE, not both",
                ));
            }
        };
        let non_empty = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
        let issuer = non_empty(&config.oidc_issuer).ok_or(KeyError::Setting(
            "TRESTLE_OIDC_ISSUER is required with an identity-provider key file",
        ))?;
        let audience = non_empty(&config.oidc_audience).ok_or(KeyError::Setting(
            "TRESTLE_OIDC_AUDIENCE is required with an identity-provider key file",
        ))?;
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::File {
            path: path.clone(),
            source,
        })?;
        let keys = if is_jwks {
            keys_from_jwks(&text)?
        } else {
            vec![key_from_pem(&text)?]
        };
        Self::new(keys, &issuer, &audience, &config.oidc_email_claim).map(Some)
    }

    /// A provider with these keys and claim rules.
    pub fn new(
        keys: Vec<PublicKey>,
        issuer: &str,
        audience: &str,
        email_claim: &str,
    ) -> Result<Self, KeyError> {
        if email_claim.trim().is_empty() {
            return Err(KeyError::Setting("TRESTLE_OIDC_EMAIL_CLAIM is empty"));
        }
        Ok(Self {
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            email_claim: email_claim.to_owned(),
        })
    }
}

/// The usable signing keys of a JWKS document; others are skipped with a warning.
pub fn keys_from_jwks(text: &str) -> Result<Vec<PublicKey>, KeyError> {
    let document: Value =
        serde_json::from_str(text).map_err(|_| KeyError::Jwks("not a JSON document".into()))?;
    let Some(Value::Array(entries)) = document.get("keys") else {
        return Err(KeyError::Jwks("no `keys` array".into()));
    };
    let mut keys: Vec<PublicKey> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        // A private part means the file was mixed up: refuse rather than hold it.
        if entry.get("d").is_some() || entry.get("k").is_some() {
            return Err(KeyError::Jwks(format!(
                "key {index} holds private or symmetric key material: give Trestle only public keys"
            )));
        }
        match key_from_jwk(entry) {
            Ok(key) => keys.push(key),
            Err(reason) => tracing::warn!(index, reason, "skipping an identity-provider key"),
        }
    }
    if keys.is_empty() {
        return Err(KeyError::Jwks("no usable signing key".into()));
    }
    if keys.len() > 1 && keys.iter().any(|key| key.kid.is_none()) {
        return Err(KeyError::Jwks(
            "with several keys, each needs a `kid` so a token names exactly one".into(),
        ));
    }
    for (i, key) in keys.iter().enumerate() {
        if let Some(kid) = &key.kid
            && keys[..i].iter().any(|k| k.kid.as_ref() == Some(kid))
        {
            return Err(KeyError::DuplicateKid(kid.clone()));
        }
    }
    Ok(keys)
}

fn decoded_len(value: &str) -> Result<usize, &'static str> {
    URL_SAFE_NO_PAD
        .decode(value)
        .map(|bytes| bytes.len())
        .map_err(|_| "a key component is not base64url")
}

/// One JWK as a pinned key, or why it cannot be used for signatures.
fn key_from_jwk(entry: &Value) -> Result<PublicKey, &'static str> {
    let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|_| "not a readable JWK")?;
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|usage| *usage != PublicKeyUse::Signature)
    {
        return Err("not a signature key (`use`)");
    }
    if jwk
        .common
        .key_operations
        .as_ref()
        .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return Err("not a verification key (`key_ops`)");
    }
    let declared = jwk.common.key_algorithm;
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let modulus = URL_SAFE_NO_PAD
                .decode(&rsa.n)
                .map_err(|_| "a key component is not base64url")?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return Err("RSA key shorter than 2048 bits");
            }
            if decoded_len(&rsa.e)? == 0 {
                return Err("RSA key without exponent");
            }
            match declared {
                None => Algorithm::RS256,
                Some(KeyAlgorithm::RS256) => Algorithm::RS256,
                Some(KeyAlgorithm::RS384) => Algorithm::RS384,
                Some(KeyAlgorithm::RS512) => Algorithm::RS512,
                Some(KeyAlgorithm::PS256) => Algorithm::PS256,
                Some(KeyAlgorithm::PS384) => Algorithm::PS384,
                Some(KeyAlgorithm::PS512) => Algorithm::PS512,
                Some(_) => return Err("`alg` does not fit an RSA key"),
            }
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            let (algorithm, coordinate_len) = match ec.curve {
                EllipticCurve::P256 => (Algorithm::ES256, 32),
                EllipticCurve::P384 => (Algorithm::ES384, 48),
                _ => return Err("unsupported elliptic curve"),
            };
            if decoded_len(&ec.x)? != coordinate_len || decoded_len(&ec.y)? != coordinate_len {
                return Err("elliptic-curve point of the wrong size");
            }
            if declared.is_some_and(|alg| alg != algorithm.into()) {
                return Err("`alg` does not fit the curve");
            }
            algorithm
        }
        AlgorithmParameters::OctetKeyPair(okp) => {
            if okp.curve != EllipticCurve::Ed25519 {
                return Err("unsupported Edwards curve");
            }
            // The verifier reads exactly 32 bytes; a shorter key would make it fail.
            if decoded_len(&okp.x)? != 32 {
                return Err("Ed25519 key of the wrong size");
            }
            if declared.is_some_and(|alg| alg != KeyAlgorithm::EdDSA) {
                return Err("`alg` does not fit an Ed25519 key");
            }
            Algorithm::EdDSA
        }
        AlgorithmParameters::OctetKey(_) => {
            return Err("symmetric keys are never taken from a JWKS");
        }
        _ => return Err("unsupported key type"),
    };
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| "unusable key")?;
    Ok(PublicKey {
        kid: jwk.common.key_id.filter(|kid| !kid.is_empty()),
        algorithm,
        decoding,
    })
}

/// The one public key of a PEM file: RSA (RS256), P-256 (ES256), P-384
/// (ES384) or Ed25519 (EdDSA).
pub fn key_from_pem(text: &str) -> Result<PublicKey, KeyError> {
    if text.contains("PRIVATE KEY") {
        return Err(KeyError::Pem(
            "this is a private key: give Trestle only the public key",
        ));
    }
    if text.matches("-----BEGIN ").count() != 1
        || !(text.contains("-----BEGIN PUBLIC KEY-----")
            || text.contains("-----BEGIN RSA PUBLIC KEY-----"))
    {
        return Err(KeyError::Pem("expected exactly one PUBLIC KEY block"));
    }
    let pem = text.as_bytes();
    let pinned = |algorithm, decoding| PublicKey {
        kid: None,
        algorithm,
        decoding,
    };
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok(pinned(Algorithm::RS256, key));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        // An uncompressed point: 1 + 2 × 32 bytes on P-256, 1 + 2 × 48 on P-384.
        return match key.try_get_as_bytes().map(<[u8]>::len) {
            Ok(65) => Ok(pinned(Algorithm::ES256, key)),
            Ok(97) => Ok(pinned(Algorithm::ES384, key)),
            _ => Err(KeyError::Pem("unsupported elliptic curve")),
        };
    }
    if let Ok(key) = DecodingKey::from_ed_pem(pem) {
        return match key.try_get_as_bytes().map(<[u8]>::len) {
            Ok(32) => Ok(pinned(Algorithm::EdDSA, key)),
            _ => Err(KeyError::Pem("unsupported Edwards curve")),
        };
    }
    Err(KeyError::Pem(
        "not an RSA, P-256, P-384 or Ed25519 public key",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(len: usize) -> String {
        URL_SAFE_NO_PAD.encode(vec![7u8; len])
    }

    fn jwks(keys: Value) -> String {
        json!({ "keys": keys }).to_string()
    }

    #[test]
    fn each_jwks_key_is_pinned_to_the_algorithm_its_type_allows() {
        let keys = keys_from_jwks(&jwks(json!([
            { "kty": "RSA", "kid": "r", "n": b64(256), "e": "AQAB" },
            { "kty": "RSA", "kid": "p", "n": b64(256), "e": "AQAB", "alg": "PS256" },
            { "kty": "EC", "kid": "e", "crv": "P-256", "x": b64(32), "y": b64(32) },
            { "kty": "OKP", "kid": "d", "crv": "Ed25519", "x": b64(32), "use": "sig" },
        ])))
        .expect("keys");
        let pinned: Vec<_> = keys
            .iter()
            .map(|k| (k.kid.as_deref().unwrap(), k.algorithm))
            .collect();
        assert_eq!(
            pinned,
            [
                ("r", Algorithm::RS256),
                ("p", Algorithm::PS256),
                ("e", Algorithm::ES256),
                ("d", Algorithm::EdDSA)
            ]
        );
    }

    #[test]
    fn keys_that_cannot_verify_safely_are_skipped() {
        let keys = keys_from_jwks(&jwks(json!([
            { "kty": "RSA", "kid": "weak", "n": b64(128), "e": "AQAB" },
            { "kty": "RSA", "kid": "confused", "n": b64(256), "e": "AQAB", "alg": "HS256" },
            { "kty": "RSA", "kid": "enc", "n": b64(256), "e": "AQAB", "use": "enc" },
            { "kty": "EC", "kid": "short", "crv": "P-256", "x": b64(31), "y": b64(32) },
            { "kty": "EC", "kid": "p521", "crv": "P-521", "x": b64(66), "y": b64(66) },
            { "kty": "OKP", "kid": "ed-short", "crv": "Ed25519", "x": b64(16) },
            { "kty": "OKP", "kid": "ok", "crv": "Ed25519", "x": b64(32) },
        ])))
        .expect("keys");
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("ok"));
    }

    #[test]
    fn unusable_jwks_documents_stop_the_start() {
        let cases = [
            "not json".to_owned(),
            json!({ "nokeys": [] }).to_string(),
            jwks(json!([])),
            jwks(json!([{ "kty": "oct", "k": b64(32) }])),
            jwks(
                json!([{ "kty": "EC", "crv": "P-256", "x": b64(32), "y": b64(32), "d": b64(32) }]),
            ),
            jwks(json!([
                { "kty": "OKP", "crv": "Ed25519", "x": b64(32) },
                { "kty": "OKP", "kid": "b", "crv": "Ed25519", "x": b64(32) },
            ])),
            jwks(json!([
                { "kty": "OKP", "kid": "same", "crv": "Ed25519", "x": b64(32) },
                { "kty": "OKP", "kid": "same", "crv": "Ed25519", "x": b64(32) },
            ])),
        ];
        for case in cases {
            assert!(keys_from_jwks(&case).is_err(), "{case}");
        }
    }

    #[test]
    fn private_or_foreign_pem_files_are_refused() {
        for text in [
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "",
        ] {
            assert!(key_from_pem(text).is_err(), "{text}");
        }
    }
}
