//! Settings a server refuses to start with: a short secret, and an
//! identity provider configured unsafely or only in part.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;
use trestle_api::app;

use crate::fixtures::identity_provider::{IDP, IDP_AUDIENCE, IDP_ISSUER, TempFile};
use crate::fixtures::tokens::SECRET;
use crate::helpers::{TestDb, serve_config};

/// The start-up error of a production server with `extra` flags, or `None`
/// if the server started.
async fn start_error(extra: &[&str]) -> Option<String> {
    let db = TestDb::new().await;
    let config = match serve_config(&db, &[&["--env", "production"], extra].concat()) {
        Ok(config) => config,
        Err(parse_error) => return Some(parse_error.to_string()),
    };
    match app::start(config, std::future::pending()).await {
        Ok(server) => {
            server.shutdown().await.expect("shutdown");
            None
        }
        Err(error) => Some(error.to_string()),
    }
}

/// [`start_error`] with another signing secret.
async fn start_error_with_secret(secret: &str, extra: &[&str]) -> Option<String> {
    start_error(&[&["--jwt-secret", secret], extra].concat()).await
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
