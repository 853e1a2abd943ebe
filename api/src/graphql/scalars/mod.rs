//! Custom scalars.

mod date;
mod instant;
mod json;

pub use date::Date;
pub use instant::Instant;
pub use json::Json;
