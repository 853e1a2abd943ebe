//! A corpus of forged and malformed tokens, each refused with 401 for the
//! reason it is about, before the database is touched.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use trestle_api::auth::jwt::Refusal;

use crate::fixtures::identity_provider::{IDP, idp_claims, spawn_app_with_idp};
use crate::fixtures::tokens::{
    PREVIOUS_SECRET, SECRET, changed, hs256, hs256_header, kid, now, signed_segments,
    trestle_claims, viewer_with, with_algorithm,
};
use crate::helpers::{ADMIN_EMAIL, error_code};

/// Forged and malformed credentials against `spawn_app_with_idp`'s keys, each
/// with what is wrong with it. None may sign anyone in.
fn forged_tokens(admin_id: &str, other_token: &str) -> Vec<(String, Refusal, String)> {
    let local = trestle_claims(admin_id);
    let header = hs256_header(Some(&kid(SECRET)));
    let sign = |claims: &Value| hs256(&header, claims, SECRET.as_bytes());
    let valid = sign(&local);
    let segments: Vec<&str> = valid.split('.').collect();
    let (h, p, s) = (segments[0], segments[1], segments[2]);
    let b64 = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    // A header of `alg` alone over the valid claims, with this signature.
    let alg_only = |alg: &str, signature: &str| {
        format!(
            "{}.{p}.{signature}",
            b64(&json!({ "alg": alg, "typ": "JWT" }))
        )
    };
    let without = |claim: &str| changed(&local, claim, None);
    let with = |claim: &str, value: Value| changed(&local, claim, Some(value));
    let with_header = |extra: Value| {
        let mut header = header.clone();
        for (name, value) in extra.as_object().expect("object") {
            header = changed(&header, name, Some(value.clone()));
        }
        hs256(&header, &local, SECRET.as_bytes())
    };
    let idp = &*IDP;
    let idp_without = |claim: &str| changed(&idp_claims(ADMIN_EMAIL), claim, None);
    let idp_with = |claim: &str, value| changed(&idp_claims(ADMIN_EMAIL), claim, Some(value));
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
        ("alg none", Refusal::Malformed, alg_only("none", "")),
        ("alg None", Refusal::Malformed, alg_only("None", "")),
        ("alg NONE", Refusal::Malformed, alg_only("NONE", "")),
        (
            "alg none with a signature",
            Refusal::BadAlgorithm,
            alg_only("none", s),
        ),
        (
            "alg nOnE with a signature",
            Refusal::BadAlgorithm,
            alg_only("nOnE", s),
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
            signed_segments(
                header.to_string().as_bytes(),
                b"sub=admin",
                &EncodingKey::from_secret(SECRET.as_bytes()),
                Algorithm::HS256,
            ),
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
