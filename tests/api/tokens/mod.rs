//! Bearer tokens done strictly (RFC 8725): Trestle's own tokens and key
//! rotation by `kid`, tokens of an external identity provider, API tokens, a
//! corpus of forged and malformed tokens refused before the database is
//! touched, the settings a server refuses to start with, and the fuzz corpus
//! and property tests of the pre-parse guard and the verifier.

mod api_tokens;
mod forged;
mod fuzz;
mod identity_provider;
mod session;
mod settings;
