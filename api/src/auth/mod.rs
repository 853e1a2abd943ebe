//! Authentication: passwords, JWTs, an external identity provider, API tokens
//! and the per-request viewer.

pub mod api_token;
pub mod credential;
pub mod idp;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod viewer;

pub use credential::{Credential, Ending};
pub use jwt::{JwtKeys, Principal};
pub use viewer::{AuthUser, Viewer};
