//! Tokens of an external identity provider: every key type, a JWKS or a
//! single PEM key, and the email claim that names the user.

use jsonwebtoken::Algorithm;
use serde_json::json;

use crate::fixtures::identity_provider::{
    IDP, IDP_AUDIENCE, IDP_ISSUER, TempFile, idp_claims, spawn_app_with_idp,
};
use crate::fixtures::tokens::viewer_with;
use crate::helpers::{ADMIN_EMAIL, error_code, spawn_app_with};

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

#[tokio::test]
async fn a_logged_out_identity_provider_token_stays_out_with_its_signature_rewritten() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use p256::elliptic_curve::PrimeField;
    let (app, _jwks) = spawn_app_with_idp().await;
    let token = IDP.ec.sign(&idp_claims(ADMIN_EMAIL));
    assert_eq!(viewer_with(&app, &token).await.0, 200);
    let body = app
        .graphql(
            Some(&token),
            "mutation { logout { loggedOutAt } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(viewer_with(&app, &token).await.0, 401);

    // (r, s) and (r, n - s) are both valid ECDSA signatures of the same claims.
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let (r, s) = signature.split_at(32);
    let mut s_bytes = p256::FieldBytes::default();
    s_bytes.copy_from_slice(s);
    let s = p256::Scalar::from_repr(s_bytes).unwrap();
    let flipped: Vec<u8> = r.iter().copied().chain((-s).to_repr()).collect();
    let rewritten = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(flipped));
    assert_ne!(rewritten, token);
    let (status, body, _) = viewer_with(&app, &rewritten).await;
    assert_eq!(
        status, 401,
        "the rewritten token must stay logged out: {body}"
    );
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    // Refused as logged out, so its signature did verify: the rewrite is real.
    assert_eq!(
        body["errors"][0]["message"], "This token was logged out; sign in again.",
        "{body}"
    );
}
