//! Bearer tokens done strictly (RFC 8725): key rotation by `kid`, tokens of
//! an external identity provider, a corpus of forged and malformed tokens
//! refused before the database is touched, the fuzz corpus replayed, and
//! property tests of the pre-parse guard and the verifier.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use clap::Parser;
use jsonwebtoken::{Algorithm, EncodingKey};
use proptest::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use trestle_api::auth::jwt::Refusal;
use trestle_api::{app, config::ServeConfig};

use crate::helpers::{ADMIN_EMAIL, TestApp, TestDb, error_code, spawn_app, spawn_app_with};

#[path = "../../fuzz/harness.rs"]
mod harness;

const VIEWER: &str = "{ viewer { id email } }";
/// The secret `spawn_app` signs with.
const SECRET: &str = crate::helpers::JWT_SECRET;
/// A secret rotated out, still accepted for tokens that name it.
const PREVIOUS_SECRET: &str = "previous-secret-for-the-suite";
const IDP_ISSUER: &str = "https://idp.trestle.test/";
const IDP_AUDIENCE: &str = "trestle-web";

/// The `kid` Trestle gives an HS256 secret: the first 8 hex digits of its SHA-256.
fn kid(secret: &str) -> String {
    hex::encode(&Sha256::digest(secret.as_bytes())[..4])
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims of a valid Trestle token for `sub`.
fn trestle_claims(sub: &str) -> Value {
    json!({ "sub": sub, "iat": now(), "exp": now() + 300, "iss": "trestle", "aud": "trestle-api" })
}

/// Claims of a valid identity-provider token for `email`.
fn idp_claims(email: &str) -> Value {
    json!({
        "sub": "idp|4711", "email": email, "email_verified": true,
        "iat": now(), "exp": now() + 300, "iss": IDP_ISSUER, "aud": [IDP_AUDIENCE, "another-api"]
    })
}

fn hs256_header(kid: Option<&str>) -> Value {
    match kid {
        Some(kid) => json!({ "alg": "HS256", "typ": "JWT", "kid": kid }),
        None => json!({ "alg": "HS256", "typ": "JWT" }),
    }
}

/// A token with exactly this header and these claims, HMAC-signed with `secret`.
fn hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    with_algorithm(
        header,
        claims,
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
}

/// A token with exactly this header and these claims, signed by `key` with `algorithm`.
fn with_algorithm(
    header: &Value,
    claims: &Value,
    key: &EncodingKey,
    algorithm: Algorithm,
) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), key, algorithm).expect("signing");
    format!("{message}.{signature}")
}

/// A signing key of the test identity provider, with its public halves.
struct IdpKey {
    kid: &'static str,
    algorithm: Algorithm,
    signing: EncodingKey,
    jwk: Value,
    pem: String,
}

impl IdpKey {
    fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({ "alg": alg_name(self.algorithm), "typ": "JWT", "kid": self.kid }),
            claims,
        )
    }

    fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        with_algorithm(header, claims, &self.signing, self.algorithm)
    }
}

fn alg_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        Algorithm::EdDSA => "EdDSA",
        _ => unreachable!("the test provider has no other keys"),
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    use rsa::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

fn rsa_key(kid: &'static str) -> IdpKey {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    use rsa::traits::PublicKeyParts;
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
    let public = rsa::RsaPublicKey::from(&private);
    IdpKey {
        kid,
        algorithm: Algorithm::RS256,
        signing: EncodingKey::from_rsa_der(private.to_pkcs1_der().expect("DER").as_bytes()),
        jwk: json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        }),
        pem: public.to_public_key_pem(LineEnding::LF).expect("PEM"),
    }
}

fn p256_key(kid: &'static str) -> IdpKey {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let signing = loop {
        if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&random_bytes::<32>()) {
            break key;
        }
    };
    let point = signing.verifying_key().to_encoded_point(false);
    IdpKey {
        kid,
        algorithm: Algorithm::ES256,
        signing: EncodingKey::from_ec_der(signing.to_pkcs8_der().expect("DER").as_bytes()),
        jwk: json!({
            "kty": "EC", "kid": kid, "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
            "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
        }),
        pem: signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("PEM"),
    }
}

fn ed25519_key(kid: &'static str) -> IdpKey {
    use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};
    let signing = ed25519_dalek::SigningKey::from_bytes(&random_bytes::<32>());
    IdpKey {
        kid,
        algorithm: Algorithm::EdDSA,
        signing: EncodingKey::from_ed_der(signing.to_pkcs8_der().expect("DER").as_bytes()),
        jwk: json!({
            "kty": "OKP", "kid": kid, "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes()),
        }),
        pem: signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("PEM"),
    }
}

/// The identity provider's keys, generated once per test run.
struct Idp {
    rsa: IdpKey,
    ec: IdpKey,
    ed: IdpKey,
    /// A key of nobody Trestle trusts.
    attacker: IdpKey,
}

impl Idp {
    fn keys(&self) -> [&IdpKey; 3] {
        [&self.rsa, &self.ec, &self.ed]
    }

    fn jwks(&self) -> String {
        json!({ "keys": self.keys().map(|key| key.jwk.clone()) }).to_string()
    }
}

static IDP: LazyLock<Idp> = LazyLock::new(|| Idp {
    rsa: rsa_key("idp-rsa-1"),
    ec: p256_key("idp-ec-1"),
    ed: ed25519_key("idp-ed-1"),
    attacker: p256_key("idp-ec-1"),
});

/// A file removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(extension: &str, contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "trestle-token-test-{}.{extension}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::write(&path, contents).expect("write the key file");
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A server that also trusts the test identity provider's JWKS and a previous secret.
async fn spawn_app_with_idp() -> (TestApp, TempFile) {
    let jwks = TempFile::new("json", &IDP.jwks());
    let app = spawn_app_with(&[
        "--oidc-jwks-file",
        jwks.path(),
        "--oidc-issuer",
        IDP_ISSUER,
        "--oidc-audience",
        IDP_AUDIENCE,
        "--jwt-previous-secrets",
        &format!("{PREVIOUS_SECRET},another-retired-secret"),
    ])
    .await;
    (app, jwks)
}

/// POST the viewer query with `token`; the status and the JSON body.
async fn viewer_with(app: &TestApp, token: &str) -> (u16, Value, bool) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(token)
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let challenges = response
        .headers()
        .get("www-authenticate")
        .is_some_and(|v| v == "Bearer");
    (
        status,
        response.json().await.expect("a JSON body"),
        challenges,
    )
}

#[tokio::test]
async fn a_login_token_names_the_current_secret_by_kid() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let header = jsonwebtoken::decode_header(&admin.token).expect("a JWT header");
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(header.kid, Some(kid(SECRET)));
    assert_eq!(header.typ.as_deref(), Some("JWT"));
}

#[tokio::test]
async fn tokens_of_a_previous_secret_are_accepted_only_when_they_name_its_kid() {
    let (app, _jwks) = spawn_app_with_idp().await;
    let admin = app.admin().await;
    let claims = trestle_claims(&admin.id);

    let named = hs256(
        &hs256_header(Some(&kid(PREVIOUS_SECRET))),
        &claims,
        PREVIOUS_SECRET.as_bytes(),
    );
    let (status, body, _) = viewer_with(&app, &named).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["viewer"]["id"], admin.id.as_str());

    // Without a kid only the current secret is tried.
    let unnamed = hs256(&hs256_header(None), &claims, PREVIOUS_SECRET.as_bytes());
    assert_eq!(viewer_with(&app, &unnamed).await.0, 401);
    let current = hs256(&hs256_header(None), &claims, SECRET.as_bytes());
    assert_eq!(viewer_with(&app, &current).await.0, 200);

    // New tokens are signed with the current secret only.
    let header = jsonwebtoken::decode_header(&admin.token).expect("header");
    assert_eq!(header.kid, Some(kid(SECRET)));
}

#[tokio::test]
async fn a_retired_secret_no_longer_configured_verifies_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = hs256(
        &hs256_header(Some(&kid(PREVIOUS_SECRET))),
        &trestle_claims(&admin.id),
        PREVIOUS_SECRET.as_bytes(),
    );
    let (status, body, _) = viewer_with(&app, &token).await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn identity_provider_tokens_of_every_key_type_sign_in_the_user_with_that_email() {
    let (app, _jwks) = spawn_app_with_idp().await;
    let admin = app.admin().await;
    for key in IDP.keys() {
        // Emails match whatever their case.
        let token = key.sign(&idp_claims(&ADMIN_EMAIL.to_uppercase()));
        let (status, body, _) = viewer_with(&app, &token).await;
        assert_eq!(status, 200, "{}: {body}", key.kid);
        assert_eq!(
            body["data"]["viewer"]["id"],
            admin.id.as_str(),
            "{}",
            key.kid
        );
    }
    // RFC 9068 access tokens say so in `typ`.
    let access = IDP.ec.sign_with_header(
        &json!({ "alg": "ES256", "typ": "at+jwt", "kid": IDP.ec.kid }),
        &idp_claims(ADMIN_EMAIL),
    );
    assert_eq!(viewer_with(&app, &access).await.0, 200);
}

#[tokio::test]
async fn identity_provider_tokens_verify_with_a_single_pem_public_key() {
    for key in IDP.keys() {
        let pem = TempFile::new("pem", &key.pem);
        let app = spawn_app_with(&[
            "--oidc-public-key-file",
            pem.path(),
            "--oidc-issuer",
            IDP_ISSUER,
            "--oidc-audience",
            IDP_AUDIENCE,
            "--oidc-email-claim",
            "preferred_email",
        ])
        .await;
        let admin = app.admin().await;
        let mut claims = idp_claims("someone-else@trestle.test");
        claims["preferred_email"] = json!(ADMIN_EMAIL);
        let (status, body, _) = viewer_with(&app, &key.sign(&claims)).await;
        assert_eq!(status, 200, "{}: {body}", key.kid);
        assert_eq!(body["data"]["viewer"]["id"], admin.id.as_str());
        // The PEM key is pinned to its own algorithm: another key type is refused.
        let other = if key.algorithm == Algorithm::EdDSA {
            &IDP.ec
        } else {
            &IDP.ed
        };
        assert_eq!(
            viewer_with(&app, &other.sign(&claims)).await.0,
            401,
            "{}",
            key.kid
        );
    }
}

#[tokio::test]
async fn an_identity_provider_token_for_an_unknown_email_creates_no_user() {
    let (app, _jwks) = spawn_app_with_idp().await;
    let users = app.count_rows("users").await;
    let token = IDP.rsa.sign(&idp_claims("stranger@trestle.test"));
    let (status, body, challenges) = viewer_with(&app, &token).await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert!(challenges);
    assert_eq!(app.count_rows("users").await, users);
}

#[tokio::test]
async fn an_identity_provider_token_that_does_not_say_the_email_is_verified_is_refused() {
    let (app, _jwks) = spawn_app_with_idp().await;
    let mut claims = idp_claims(ADMIN_EMAIL);
    claims
        .as_object_mut()
        .expect("claims")
        .remove("email_verified");
    let (status, body, challenges) = viewer_with(&app, &IDP.rsa.sign(&claims)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert!(challenges);
    // The same token saying `true` signs in.
    claims["email_verified"] = json!(true);
    assert_eq!(viewer_with(&app, &IDP.rsa.sign(&claims)).await.0, 200);
}

/// Forged and malformed credentials against `spawn_app_with_idp`'s keys, each
/// with what is wrong with it. None may sign anyone in.
fn forged_tokens(admin_id: &str, other_token: &str) -> Vec<(String, Refusal, String)> {
    let idp = &*IDP;
    let local = trestle_claims(admin_id);
    let header = hs256_header(Some(&kid(SECRET)));
    let sign = |claims: &Value| hs256(&header, claims, SECRET.as_bytes());
    let valid = sign(&local);
    let segments: Vec<&str> = valid.split('.').collect();
    let (h, p, s) = (segments[0], segments[1], segments[2]);
    let b64 = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let without = |claim: &str| {
        let mut claims = local.clone();
        claims.as_object_mut().expect("claims").remove(claim);
        claims
    };
    let with = |claim: &str, value: Value| {
        let mut claims = local.clone();
        claims[claim] = value;
        claims
    };
    let with_header = |extra: Value| {
        let mut header = header.clone();
        for (name, value) in extra.as_object().expect("object") {
            header[name] = value.clone();
        }
        hs256(&header, &local, SECRET.as_bytes())
    };
    let idp_with = |claim: &str, value: Value| {
        let mut claims = idp_claims(ADMIN_EMAIL);
        claims[claim] = value;
        claims
    };
    let idp_without = |claim: &str| {
        let mut claims = idp_claims(ADMIN_EMAIL);
        claims.as_object_mut().expect("claims").remove(claim);
        claims
    };
    let other_signature = other_token.rsplit('.').next().expect("a signature");
    // Flip the last character so that its unused low bits are set: the same
    // bytes to a lenient decoder, a non-canonical encoding to a strict one.
    let mut non_canonical = s.to_owned();
    let last = non_canonical.pop().expect("a signature character");
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).expect("base64url");
    non_canonical.push(alphabet.as_bytes()[index | 0b11] as char);
    let signature = URL_SAFE_NO_PAD.decode(s).expect("signature");
    let mut cases: Vec<(&str, Refusal, String)> = vec![
        // The unsigned and the algorithm games.
        (
            "alg none",
            Refusal::Malformed,
            format!("{}.{p}.", b64(&json!({ "alg": "none", "typ": "JWT" }))),
        ),
        (
            "alg None",
            Refusal::Malformed,
            format!("{}.{p}.", b64(&json!({ "alg": "None", "typ": "JWT" }))),
        ),
        (
            "alg NONE",
            Refusal::Malformed,
            format!("{}.{p}.", b64(&json!({ "alg": "NONE", "typ": "JWT" }))),
        ),
        (
            "alg none with a signature",
            Refusal::BadAlgorithm,
            format!("{}.{p}.{s}", b64(&json!({ "alg": "none", "typ": "JWT" }))),
        ),
        (
            "alg nOnE with a signature",
            Refusal::BadAlgorithm,
            format!("{}.{p}.{s}", b64(&json!({ "alg": "nOnE", "typ": "JWT" }))),
        ),
        (
            "no alg at all",
            Refusal::BadAlgorithm,
            format!(
                "{}.{p}.{s}",
                b64(&json!({ "typ": "JWT", "kid": kid(SECRET) }))
            ),
        ),
        (
            "alg as a number",
            Refusal::BadAlgorithm,
            with_header(json!({ "alg": 256 })),
        ),
        (
            "alg hs256 in lower case",
            Refusal::BadAlgorithm,
            with_header(json!({ "alg": "hs256" })),
        ),
        ("HS512 under the HS256 key's kid", Refusal::UnknownKey, {
            let mut header = header.clone();
            header["alg"] = json!("HS512");
            with_algorithm(
                &header,
                &local,
                &EncodingKey::from_secret(SECRET.as_bytes()),
                Algorithm::HS512,
            )
        }),
        (
            "HS256 signed with the RSA public key PEM, naming the RSA kid",
            Refusal::UnknownKey,
            hs256(
                &hs256_header(Some(idp.rsa.kid)),
                &idp_claims(ADMIN_EMAIL),
                idp.rsa.pem.as_bytes(),
            ),
        ),
        (
            "HS256 signed with the RSA public key PEM, without kid",
            Refusal::Signature,
            hs256(&hs256_header(None), &local, idp.rsa.pem.as_bytes()),
        ),
        (
            "HS256 signed with the P-256 public key PEM, naming its kid",
            Refusal::UnknownKey,
            hs256(
                &hs256_header(Some(idp.ec.kid)),
                &idp_claims(ADMIN_EMAIL),
                idp.ec.pem.as_bytes(),
            ),
        ),
        (
            "HS256 signed with the Ed25519 public key JWK, naming its kid",
            Refusal::UnknownKey,
            hs256(
                &hs256_header(Some(idp.ed.kid)),
                &idp_claims(ADMIN_EMAIL),
                idp.ed.jwk.to_string().as_bytes(),
            ),
        ),
        (
            "RS256 naming the HMAC key's kid",
            Refusal::UnknownKey,
            idp.rsa.sign_with_header(
                &json!({ "alg": "RS256", "typ": "JWT", "kid": kid(SECRET) }),
                &local,
            ),
        ),
        (
            "ES256 naming the RSA key's kid",
            Refusal::UnknownKey,
            idp.ec.sign_with_header(
                &json!({ "alg": "ES256", "typ": "JWT", "kid": idp.rsa.kid }),
                &idp_claims(ADMIN_EMAIL),
            ),
        ),
        (
            "EdDSA signature presented as ES256",
            Refusal::UnknownKey,
            idp.ed.sign_with_header(
                &json!({ "alg": "ES256", "typ": "JWT", "kid": idp.ed.kid }),
                &idp_claims(ADMIN_EMAIL),
            ),
        ),
        // Keys and kids.
        (
            "a kid no key has",
            Refusal::UnknownKey,
            with_header(json!({ "kid": "deadbeef" })),
        ),
        (
            "kid as a number",
            Refusal::BadHeader,
            with_header(json!({ "kid": 42 })),
        ),
        (
            "an empty kid",
            Refusal::BadHeader,
            with_header(json!({ "kid": "" })),
        ),
        (
            "a previous secret's token without kid",
            Refusal::Signature,
            hs256(&hs256_header(None), &local, PREVIOUS_SECRET.as_bytes()),
        ),
        (
            "the current kid over a previous secret's signature",
            Refusal::Signature,
            hs256(&header, &local, PREVIOUS_SECRET.as_bytes()),
        ),
        (
            "a previous kid over the current secret's signature",
            Refusal::Signature,
            hs256(
                &hs256_header(Some(&kid(PREVIOUS_SECRET))),
                &local,
                SECRET.as_bytes(),
            ),
        ),
        (
            "signed with a secret nobody configured",
            Refusal::Signature,
            hs256(&header, &local, b"a-guessed-secret"),
        ),
        (
            "the identity provider's kid, signed by another P-256 key",
            Refusal::Signature,
            idp.attacker.sign(&idp_claims(ADMIN_EMAIL)),
        ),
        // Required claims.
        ("no exp", Refusal::Claim("exp"), sign(&without("exp"))),
        ("no iat", Refusal::Claim("iat"), sign(&without("iat"))),
        ("no iss", Refusal::Claim("iss"), sign(&without("iss"))),
        ("no aud", Refusal::Claim("aud"), sign(&without("aud"))),
        ("no sub", Refusal::Claim("sub"), sign(&without("sub"))),
        (
            "claims are an array",
            Refusal::Claim("claims"),
            hs256(&header, &json!([local.clone()]), SECRET.as_bytes()),
        ),
        // Wrong types.
        (
            "exp as a string",
            Refusal::Claim("exp"),
            sign(&with("exp", json!((now() + 300).to_string()))),
        ),
        (
            "exp as a fraction",
            Refusal::Claim("exp"),
            sign(&with("exp", json!(now() as f64 + 300.5))),
        ),
        (
            "exp as null",
            Refusal::Claim("exp"),
            sign(&with("exp", Value::Null)),
        ),
        (
            "iat as a string",
            Refusal::Claim("iat"),
            sign(&with("iat", json!(now().to_string()))),
        ),
        (
            "nbf as a string",
            Refusal::Claim("nbf"),
            sign(&with("nbf", json!("0"))),
        ),
        (
            "sub as a number",
            Refusal::Claim("sub"),
            sign(&with("sub", json!(7))),
        ),
        (
            "sub not a user id",
            Refusal::Subject,
            sign(&with("sub", json!("admin"))),
        ),
        (
            "sub in braces",
            Refusal::Subject,
            sign(&with("sub", json!(format!("{{{admin_id}}}")))),
        ),
        (
            "aud as a number",
            Refusal::Claim("aud"),
            sign(&with("aud", json!(1))),
        ),
        (
            "iss as an array",
            Refusal::Claim("iss"),
            sign(&with("iss", json!(["trestle"]))),
        ),
        // Time.
        (
            "expired an hour ago",
            Refusal::Expired,
            sign(&with("exp", json!(now() - 3600))),
        ),
        (
            "expired beyond the leeway",
            Refusal::Expired,
            sign(&with("exp", json!(now() - 120))),
        ),
        (
            "nbf an hour ahead",
            Refusal::NotYetValid,
            sign(&with("nbf", json!(now() + 3600))),
        ),
        (
            "iat an hour ahead",
            Refusal::IssuedInFuture,
            sign(&with("iat", json!(now() + 3600))),
        ),
        (
            "exp before iat",
            Refusal::Claim("exp"),
            sign(
                &json!({ "sub": admin_id, "iat": now(), "exp": now() - 10, "iss": "trestle", "aud": "trestle-api" }),
            ),
        ),
        // Issuer and audience.
        (
            "wrong iss",
            Refusal::Issuer,
            sign(&with("iss", json!("someone-else"))),
        ),
        (
            "wrong aud",
            Refusal::Audience,
            sign(&with("aud", json!("another-api"))),
        ),
        (
            "aud as an array without ours",
            Refusal::Audience,
            sign(&with("aud", json!(["another-api", "trestle-apis"]))),
        ),
        (
            "aud as an empty array",
            Refusal::Audience,
            sign(&with("aud", json!([]))),
        ),
        (
            "Trestle's claims signed by the identity provider",
            Refusal::Issuer,
            idp.rsa.sign(&local),
        ),
        (
            "the identity provider's claims signed with Trestle's secret",
            Refusal::Issuer,
            sign(&idp_claims(ADMIN_EMAIL)),
        ),
        // Shape and encoding.
        (
            "a signature cut short by three bytes",
            Refusal::Signature,
            format!(
                "{h}.{p}.{}",
                URL_SAFE_NO_PAD.encode(&signature[..signature.len() - 3])
            ),
        ),
        (
            "a token cut off mid-signature",
            Refusal::Malformed,
            // 21 characters: no base64 text is 4n + 1 long.
            format!("{h}.{p}.{}", &s[..21]),
        ),
        ("two segments", Refusal::Malformed, format!("{h}.{p}")),
        ("one segment", Refusal::Malformed, h.to_owned()),
        (
            "an extra segment",
            Refusal::Malformed,
            format!("{valid}.{s}"),
        ),
        (
            "five segments like a JWE",
            Refusal::Malformed,
            format!("{h}.{p}.{s}.{s}.{s}"),
        ),
        (
            "an empty signature",
            Refusal::Malformed,
            format!("{h}.{p}."),
        ),
        ("an empty payload", Refusal::Malformed, format!("{h}..{s}")),
        (
            "bad base64 in the payload",
            Refusal::Malformed,
            format!("{h}.{}*.{s}", &p[..p.len() - 1]),
        ),
        (
            "padded base64 in the header",
            Refusal::Malformed,
            format!("{h}=.{p}.{s}"),
        ),
        (
            "standard base64 instead of base64url",
            Refusal::Malformed,
            format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/") + "+/"),
        ),
        (
            "a non-canonical signature encoding",
            Refusal::Malformed,
            format!("{h}.{p}.{non_canonical}"),
        ),
        (
            "a header that is not JSON",
            Refusal::BadHeader,
            format!("{}.{p}.{s}", URL_SAFE_NO_PAD.encode("{alg: HS256")),
        ),
        (
            "a header that is a JSON array",
            Refusal::BadHeader,
            format!("{}.{p}.{s}", b64(&json!(["HS256"]))),
        ),
        (
            "a payload that is not JSON",
            Refusal::Claim("claims"),
            hs256_raw(&header, b"sub=admin", SECRET.as_bytes()),
        ),
        (
            "a huge header",
            Refusal::TooLong,
            with_header(json!({ "x-padding": "A".repeat(10_000) })),
        ),
        (
            "whitespace around the dots",
            Refusal::Malformed,
            format!("{h} . {p} . {s}"),
        ),
        (
            "a signature of another token",
            Refusal::Signature,
            format!("{h}.{p}.{other_signature}"),
        ),
        (
            "an API-token prefix on a JWT",
            Refusal::BadHeader,
            format!("trst{valid}"),
        ),
        // Header parameters Trestle never honours.
        (
            "crit naming a claim",
            Refusal::Critical,
            with_header(json!({ "crit": ["exp"] })),
        ),
        (
            "crit empty",
            Refusal::Critical,
            with_header(json!({ "crit": [] })),
        ),
        (
            "crit with an unknown extension",
            Refusal::Critical,
            with_header(json!({ "crit": ["x-trestle"], "x-trestle": true })),
        ),
        (
            "an embedded jwk header",
            Refusal::KeyInHeader,
            idp.attacker.sign_with_header(
                &json!({ "alg": "ES256", "typ": "JWT", "jwk": idp.attacker.jwk }),
                &idp_claims(ADMIN_EMAIL),
            ),
        ),
        (
            "a jku header",
            Refusal::KeyInHeader,
            with_header(json!({ "jku": "https://attacker.test/jwks.json" })),
        ),
        (
            "an x5u header",
            Refusal::KeyInHeader,
            with_header(json!({ "x5u": "https://attacker.test/cert.pem" })),
        ),
        (
            "an x5c header",
            Refusal::KeyInHeader,
            with_header(json!({ "x5c": ["MIIB"] })),
        ),
        (
            "b64 false (unencoded payload)",
            Refusal::Unsupported,
            with_header(json!({ "b64": false })),
        ),
        (
            "a compressed payload",
            Refusal::Unsupported,
            with_header(json!({ "zip": "DEF" })),
        ),
        (
            "typ of another kind of token",
            Refusal::BadType,
            with_header(json!({ "typ": "logout+jwt" })),
        ),
        (
            "typ missing on a Trestle token",
            Refusal::BadType,
            hs256(
                &json!({ "alg": "HS256", "kid": kid(SECRET) }),
                &local,
                SECRET.as_bytes(),
            ),
        ),
        // Identity-provider tokens that must not sign anyone in.
        (
            "identity provider: wrong iss",
            Refusal::Issuer,
            idp.rsa.sign(&idp_with("iss", json!("https://evil.test/"))),
        ),
        (
            "identity provider: Trestle's own aud",
            Refusal::Audience,
            idp.rsa.sign(&idp_with("aud", json!("trestle-api"))),
        ),
        (
            "identity provider: expired",
            Refusal::Expired,
            idp.ec.sign(&idp_with("exp", json!(now() - 3600))),
        ),
        (
            "identity provider: no email",
            Refusal::Email,
            idp.ed.sign(&idp_without("email")),
        ),
        (
            "identity provider: email as an array",
            Refusal::Email,
            idp.ed.sign(&idp_with("email", json!([ADMIN_EMAIL]))),
        ),
        (
            "identity provider: email not verified",
            Refusal::EmailUnverified,
            idp.rsa.sign(&idp_with("email_verified", json!(false))),
        ),
        (
            "identity provider: no email_verified",
            Refusal::EmailUnverified,
            idp.ec.sign(&idp_without("email_verified")),
        ),
        (
            "identity provider: email_verified as a string",
            Refusal::EmailUnverified,
            idp.rsa.sign(&idp_with("email_verified", json!("true"))),
        ),
        (
            "identity provider: no iat",
            Refusal::Claim("iat"),
            idp.ec.sign(&idp_without("iat")),
        ),
        (
            "identity provider: no sub",
            Refusal::Claim("sub"),
            idp.ec.sign(&idp_without("sub")),
        ),
        (
            "identity provider: typ of a logout token",
            Refusal::BadType,
            idp.ed.sign_with_header(
                &json!({ "alg": "EdDSA", "typ": "logout+jwt", "kid": idp.ed.kid }),
                &idp_claims(ADMIN_EMAIL),
            ),
        ),
    ];
    // A valid token's signature bytes, each flipped in turn, never verify.
    for i in [0, signature.len() / 2, signature.len() - 1] {
        let mut flipped = signature.clone();
        flipped[i] ^= 0x01;
        cases.push((
            "one signature bit flipped",
            Refusal::Signature,
            format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(flipped)),
        ));
    }
    cases
        .into_iter()
        .map(|(what, reason, token)| (what.to_owned(), reason, token))
        .collect()
}

/// A token whose claims segment is these raw bytes, HMAC-signed.
fn hs256_raw(header: &Value, claims: &[u8], secret: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
    .expect("signing");
    format!("{message}.{signature}")
}

#[tokio::test]
async fn every_forged_or_malformed_token_is_refused_with_401() {
    let (app, _jwks) = spawn_app_with_idp().await;
    let admin = app.admin().await;
    let member = app.member("Bystander").await;
    // Positive controls: the corpus is built from tokens that do sign in.
    let valid = hs256(
        &hs256_header(Some(&kid(SECRET))),
        &trestle_claims(&admin.id),
        SECRET.as_bytes(),
    );
    assert_eq!(viewer_with(&app, &valid).await.0, 200);
    assert_eq!(
        viewer_with(&app, &IDP.rsa.sign(&idp_claims(ADMIN_EMAIL)))
            .await
            .0,
        200
    );

    let corpus = forged_tokens(&admin.id, &member.token);
    assert!(corpus.len() >= 40, "only {} tokens", corpus.len());
    for (what, reason, token) in &corpus {
        let (status, body, challenges) = viewer_with(&app, token).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{what}: {body}");
        assert!(body["data"].is_null(), "{what}: {body}");
        assert!(challenges, "{what}: no WWW-Authenticate: Bearer");
        // Refused for the reason the case is about, not by accident.
        assert_eq!(app.server.domain.jwt.check(token), Err(*reason), "{what}");
    }
}

#[tokio::test]
async fn refusing_forged_tokens_runs_no_database_statement() {
    let (app, _jwks) = spawn_app_with_idp().await;
    let admin = app.admin().await;
    let member = app.member("Bystander").await;
    let corpus = forged_tokens(&admin.id, &member.token);

    let before = app.server.statements.get();
    for (what, _, token) in &corpus {
        assert_eq!(viewer_with(&app, token).await.0, 401, "{what}");
    }
    assert_eq!(
        app.server.statements.get(),
        before,
        "a forged token reached the database"
    );

    // The counter is live: a valid token, and an API token, do query.
    let valid = hs256(
        &hs256_header(None),
        &trestle_claims(&admin.id),
        SECRET.as_bytes(),
    );
    assert_eq!(viewer_with(&app, &valid).await.0, 200);
    let after_valid = app.server.statements.get();
    assert!(after_valid > before);
    assert_eq!(viewer_with(&app, "trst_not-a-real-api-token").await.0, 401);
    assert!(app.server.statements.get() > after_valid);
}

/// `serve` settings parsed like the command line.
#[derive(Parser)]
struct ServeArgs {
    #[command(flatten)]
    serve: ServeConfig,
}

/// The start-up error of a production server with `extra` flags, or `None`
/// if the server started.
async fn start_error(extra: &[&str]) -> Option<String> {
    start_error_with_secret(SECRET, extra).await
}

/// [`start_error`] with another signing secret.
async fn start_error_with_secret(secret: &str, extra: &[&str]) -> Option<String> {
    let db = TestDb::new().await;
    let mut args = vec![
        "trestle",
        "--database-url",
        &db.url,
        "--listen",
        "127.0.0.1:0",
        "--jwt-secret",
        secret,
        "--env",
        "production",
    ];
    args.extend(extra);
    let config = ServeArgs::try_parse_from(args).map_err(|e| e.to_string());
    let config = match config {
        Ok(args) => args.serve,
        Err(parse_error) => return Some(parse_error),
    };
    match app::start(config, std::future::pending()).await {
        Ok(server) => {
            server.shutdown().await.expect("shutdown");
            None
        }
        Err(error) => Some(error.to_string()),
    }
}

#[tokio::test]
async fn a_production_server_refuses_to_start_with_a_short_jwt_secret() {
    let error = start_error_with_secret("hunter", &[])
        .await
        .expect("a 6-byte secret must not start a production server");
    assert!(error.contains("at least 32 bytes"), "{error}");
    let error = start_error(&["--jwt-previous-secrets", "old-and-short"])
        .await
        .expect("a short previous secret must not start a production server");
    assert!(error.contains("TRESTLE_JWT_PREVIOUS_SECRETS"), "{error}");
    assert_eq!(start_error_with_secret(&"k".repeat(32), &[]).await, None);
}

#[tokio::test]
async fn the_server_refuses_to_start_with_unsafe_or_incomplete_identity_provider_settings() {
    let idp = &*IDP;
    let jwks = TempFile::new("json", &idp.jwks());
    let pem = TempFile::new("pem", &idp.rsa.pem);
    let symmetric = TempFile::new(
        "json",
        &json!({ "keys": [{ "kty": "oct", "kid": "shared", "k": URL_SAFE_NO_PAD.encode(SECRET) }] })
            .to_string(),
    );
    let missing = std::env::temp_dir().join("trestle-no-such-key-file.pem");
    let missing = missing.to_str().expect("path");
    let issuer = ["--oidc-issuer", IDP_ISSUER];
    let audience = ["--oidc-audience", IDP_AUDIENCE];
    let cases: [(&str, Vec<&str>, &str); 6] = [
        (
            "no issuer",
            [&["--oidc-jwks-file", jwks.path()][..], &audience].concat(),
            "TRESTLE_OIDC_ISSUER",
        ),
        (
            "no audience",
            [&["--oidc-jwks-file", jwks.path()][..], &issuer].concat(),
            "TRESTLE_OIDC_AUDIENCE",
        ),
        (
            "a symmetric key in the JWKS",
            [
                &["--oidc-jwks-file", symmetric.path()][..],
                &issuer,
                &audience,
            ]
            .concat(),
            "symmetric",
        ),
        (
            "a missing key file",
            [&["--oidc-public-key-file", missing][..], &issuer, &audience].concat(),
            "cannot read",
        ),
        (
            "a JWKS given as PEM",
            [
                &["--oidc-public-key-file", jwks.path()][..],
                &issuer,
                &audience,
            ]
            .concat(),
            "PEM",
        ),
        (
            "both key files",
            [
                &[
                    "--oidc-jwks-file",
                    jwks.path(),
                    "--oidc-public-key-file",
                    pem.path(),
                ][..],
                &issuer,
                &audience,
            ]
            .concat(),
            "cannot be used with",
        ),
    ];
    for (what, args, expected) in cases {
        let error = start_error(&args)
            .await
            .unwrap_or_else(|| panic!("{what}: the server started"));
        assert!(error.contains(expected), "{what}: {error}");
    }
    // The same PEM file with both claims configured does start.
    let complete = [
        &["--oidc-public-key-file", pem.path()][..],
        &issuer,
        &audience,
    ]
    .concat();
    assert_eq!(start_error(&complete).await, None);
}

/// Every file of a committed corpus directory.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let bytes = std::fs::read(&path).expect("a corpus file");
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_committed_fuzz_corpus_replays_without_a_contract_violation() {
    type Harness = fn(&[u8]);
    let targets: [(&str, Harness); 3] = [
        ("guard", harness::guard),
        ("token_verifier", harness::token),
        ("signed_claims", harness::signed_claims),
    ];
    for (target, run) in targets {
        let files = corpus(target);
        assert!(
            files.len() >= 10,
            "{target}: only {} corpus files",
            files.len()
        );
        for (path, bytes) in files {
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            assert!(
                outcome.is_ok(),
                "{target}: {} violates the contract",
                path.display()
            );
        }
    }
}

#[test]
fn the_signed_claims_corpus_reaches_past_the_signature() {
    // Seeds named `valid-*` must verify, so the replay covers the claim checks
    // and the soundness assertions, not only early refusals.
    let accepted = corpus("signed_claims")
        .into_iter()
        .filter(|(path, _)| {
            path.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("valid-"))
        })
        .map(|(path, bytes)| {
            let (header, claims) =
                bytes.split_at(bytes.iter().position(|b| *b == b'\n').expect("a newline"));
            let secret = if bytes.get(1).is_some_and(|b| b % 2 == 1) {
                harness::PREVIOUS_SECRET
            } else {
                harness::SECRET
            };
            let token = harness::sign_hs256(header, &claims[1..], secret);
            assert!(
                harness::keys().check(&token).is_ok(),
                "{} is refused",
                path.display()
            );
        })
        .count();
    assert!(accepted >= 2, "only {accepted} valid seeds");
}

/// Fragments GraphQL documents are made of, brackets and quoting included.
fn graphql_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("\"".to_owned()),
        Just("\"\"\"".to_owned()),
        Just("\\".to_owned()),
        Just("\\\"\"\"".to_owned()),
        Just("#".to_owned()),
        Just("\n".to_owned()),
        Just("\r".to_owned()),
        Just(" ".to_owned()),
        Just("query".to_owned()),
        Just("...on Program".to_owned()),
        Just("$id: ID!".to_owned()),
        "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        "[0-9]{1,4}",
        "\\PC{0,3}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_guard_never_panics_and_refuses_by_size_exactly_when_too_long(
        fragments in prop::collection::vec(graphql_fragment(), 0..120),
        max_bytes in 0usize..400,
        max_depth in 0usize..12,
    ) {
        harness::check_guard(&fragments.concat(), max_bytes, max_depth);
    }

    #[test]
    fn the_guard_refuses_plain_nesting_exactly_beyond_the_limit(
        depth in 0usize..80,
        max_depth in 0usize..64,
        open in prop::sample::select(vec!['{', '[', '(']),
    ) {
        let close = match open { '{' => '}', '[' => ']', _ => ')' };
        let document = format!("{}x{}", open.to_string().repeat(depth), close.to_string().repeat(depth));
        let result = trestle_api::http::document::scan::check_document(&document, usize::MAX, max_depth);
        prop_assert_eq!(result.is_ok(), depth <= max_depth);
    }

    #[test]
    fn the_verifier_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
        harness::token(text.as_bytes());
        prop_assert!(harness::keys().check(&text).is_err());
    }

    #[test]
    fn the_verifier_never_panics_on_token_shaped_text(
        header in "[A-Za-z0-9_-]{0,80}",
        payload in "[A-Za-z0-9_-]{0,200}",
        signature in "[A-Za-z0-9_=+/-]{0,90}",
        extra in prop::option::of("[A-Za-z0-9_.-]{0,20}"),
    ) {
        let token = match extra {
            Some(extra) => format!("{header}.{payload}.{signature}.{extra}"),
            None => format!("{header}.{payload}.{signature}"),
        };
        harness::token(token.as_bytes());
    }

    #[test]
    fn signed_tokens_with_mutated_headers_and_claims_are_accepted_only_when_sound(
        header_changes in prop::collection::vec(
            (
                prop::sample::select(vec!["alg", "kid", "typ", "crit", "jku", "jwk", "zip", "cty"]),
                prop::option::of(header_value()),
            ),
            0..2,
        ),
        claim_changes in prop::collection::vec(
            (
                prop::sample::select(vec![
                    "sub", "exp", "iat", "nbf", "iss", "aud", "email", "email_verified",
                ]),
                prop::option::of(claim_value()),
            ),
            0..3,
        ),
        previous in any::<bool>(),
    ) {
        // Start from a token the harness keys accept, then change a few fields.
        let secret = if previous { harness::PREVIOUS_SECRET } else { harness::SECRET };
        let mut header = json!({ "alg": "HS256", "typ": "JWT", "kid": kid(secret) });
        let mut claims = json!({
            "sub": "0190a1a2-7b3c-7d4e-8f90-a1b2c3d4e5f6", "iat": now(), "exp": now() + 300,
            "iss": harness::ISSUER, "aud": harness::AUDIENCE,
        });
        let unchanged = header_changes.is_empty() && claim_changes.is_empty();
        for (target, changes) in [(&mut header, &header_changes), (&mut claims, &claim_changes)] {
            let fields = target.as_object_mut().expect("an object");
            for (name, value) in changes {
                match value {
                    Some(value) => fields.insert((*name).to_owned(), value.clone()),
                    None => fields.remove(*name),
                };
            }
        }
        let token = harness::sign_hs256(
            header.to_string().as_bytes(),
            claims.to_string().as_bytes(),
            secret,
        );
        match harness::keys().check(&token) {
            Ok(principal) => harness::assert_accepted_token_is_sound(&token, &principal),
            Err(refusal) => prop_assert!(!unchanged, "the unchanged token was refused: {refusal}"),
        }
    }

    #[test]
    fn changing_any_one_character_of_a_valid_token_makes_it_invalid(
        position in any::<prop::sample::Index>(),
        replacement in prop::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.".chars().collect::<Vec<_>>(),
        ),
    ) {
        let keys = harness::keys();
        let (token, _) = keys.issue(uuid::Uuid::now_v7()).expect("issue");
        prop_assert!(keys.check(&token).is_ok());
        let at = position.index(token.len());
        prop_assume!(token.as_bytes()[at] as char != replacement);
        let mut mutated = token.into_bytes();
        mutated[at] = replacement as u8;
        let mutated = String::from_utf8(mutated).expect("ASCII");
        prop_assert!(keys.check(&mutated).is_err(), "accepted {}", mutated);
    }
}

/// Header values: the algorithms and kids in play, and other JSON types.
fn header_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            "HS256", "HS512", "none", "RS256", "ES256", "EdDSA", "hs256"
        ])
        .prop_map(|alg| json!(alg)),
        prop::sample::select(vec![
            kid(harness::SECRET),
            kid(harness::PREVIOUS_SECRET),
            "fuzz-rsa".to_owned(),
            "fuzz-ed".to_owned(),
            String::new(),
        ])
        .prop_map(|kid| json!(kid)),
        prop::sample::select(vec![
            "JWT",
            "jwt",
            "at+jwt",
            "application/jwt",
            "logout+jwt"
        ])
        .prop_map(|typ| json!(typ)),
        Just(json!([])),
        Just(json!({ "kty": "oct", "k": "AAAA" })),
        any::<i64>().prop_map(|n| json!(n)),
        Just(Value::Null),
    ]
}

/// Claim values of every JSON type, with times around now.
fn claim_value() -> impl Strategy<Value = Value> {
    let now = now();
    prop_oneof![
        4 => (now - 600..now + 600).prop_map(|t| json!(t)),
        1 => any::<i64>().prop_map(|t| json!(t)),
        1 => (0.0f64..4e9).prop_map(|t| json!(t)),
        2 => prop::sample::select(vec![
            "trestle",
            "trestle-api",
            harness::IDP_ISSUER,
            harness::IDP_AUDIENCE,
            "0190a1a2-7b3c-7d4e-8f90-a1b2c3d4e5f6",
            "0190A1A2-7B3C-7D4E-8F90-A1B2C3D4E5F6",
            "a@b.test",
            "",
        ])
        .prop_map(|s| json!(s)),
        1 => Just(json!(["trestle-api", "other"])),
        1 => Just(json!([])),
        1 => any::<bool>().prop_map(|b| json!(b)),
        1 => Just(Value::Null),
    ]
}
