//! Trestle's own tokens: what a login token names, which secrets verify a
//! token after a rotation, and the plainly bad tokens.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::fixtures::identity_provider::spawn_app_with_idp;
use crate::fixtures::tokens::{
    PREVIOUS_SECRET, SECRET, hs256, hs256_header, kid, now, trestle_claims, viewer_with,
};
use crate::helpers::{error_code, spawn_app};

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
async fn a_token_that_really_decodes_names_its_user() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = hs256(
        &hs256_header(None),
        &trestle_claims(&admin.id),
        SECRET.as_bytes(),
    );
    let (_, body, _) = viewer_with(&app, &token).await;
    assert_eq!(body["data"]["viewer"]["id"], admin.id.as_str());
}

#[tokio::test]
async fn expired_forged_and_unsigned_tokens_are_unauthenticated() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let expiring = |exp_offset: i64| {
        let mut claims = trestle_claims(&admin.id);
        claims["exp"] = json!(now() + exp_offset);
        claims
    };
    let sign = |claims: &Value, secret: &str| hs256(&hs256_header(None), claims, secret.as_bytes());
    let header_none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(trestle_claims(&admin.id).to_string());
    let mut no_aud = trestle_claims(&admin.id);
    no_aud.as_object_mut().unwrap().remove("aud");
    let mut wrong_iss = trestle_claims(&admin.id);
    wrong_iss["iss"] = json!("someone-else");
    let mut future_iat = expiring(7200);
    future_iat["iat"] = json!(now() + 3600);
    let mut not_yet = expiring(7200);
    not_yet["nbf"] = json!(now() + 3600);
    let stranger = trestle_claims(&uuid::Uuid::now_v7().to_string());
    let tokens = [
        ("expired", sign(&expiring(-3600), SECRET)),
        ("forged", sign(&trestle_claims(&admin.id), "another-secret")),
        ("alg none", format!("{header_none}.{payload}.")),
        ("no audience", sign(&no_aud, SECRET)),
        ("wrong issuer", sign(&wrong_iss, SECRET)),
        ("issued in the future", sign(&future_iat, SECRET)),
        ("not yet valid", sign(&not_yet, SECRET)),
        ("unknown user", sign(&stranger, SECRET)),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in tokens {
        let (status, body, _) = viewer_with(&app, &token).await;
        assert_eq!(status, 401, "{what}");
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{what}: {body}");
    }
}
