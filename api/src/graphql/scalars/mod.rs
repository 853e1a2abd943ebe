//! Custom scalars.

mod date;

pub use date::Date;
