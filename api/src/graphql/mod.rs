//! The GraphQL API: schema, resolvers, types and per-request loaders.

pub mod context;
pub mod mutation;
pub mod prefetch;
pub mod query;
pub mod scalars;
pub mod schema;
pub mod subscription;
pub mod types;
pub mod work;

pub use context::RequestContext;
pub use schema::{AppSchema, export_sdl, schema_builder};
