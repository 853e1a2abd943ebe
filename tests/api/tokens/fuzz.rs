//! The committed fuzz corpus replayed, and property tests of the pre-parse
//! guard and the verifier.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::fixtures::tokens::{changed, kid, now};

#[path = "../../../fuzz/harness.rs"]
mod harness;

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
        for (name, value) in &header_changes {
            header = changed(&header, name, value.clone());
        }
        for (name, value) in &claim_changes {
            claims = changed(&claims, name, value.clone());
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
