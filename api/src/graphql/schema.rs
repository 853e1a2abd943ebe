//! The schema, built without runtime data so `serve`, `export-schema` and
//! the drift test all see the same thing.

use async_graphql::{SDLExportOptions, Schema, SchemaBuilder};

use super::{mutation::Mutation, query::Query, subscription::Subscription};

/// The executable schema type.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema with no data attached.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
}

/// The SDL, fields and enum items sorted so diffs stay small.
pub fn export_sdl() -> String {
    schema_builder().finish().sdl_with_options(
        SDLExportOptions::new()
            .include_specified_by()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items(),
    )
}
