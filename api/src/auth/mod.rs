//! Authentication: passwords, JWTs, API tokens and the per-request viewer.

pub mod api_token;
pub mod jwt;
pub mod password;
pub mod viewer;

pub use jwt::JwtKeys;
pub use viewer::{AuthUser, Viewer};
