//! The work meter's share of what fields return: every text a field returns
//! is a [`Text`], charged to the request's work by its size, so a document
//! of few fields cannot return megabytes of stored text for the price of a
//! field each. Charging in the value, not in a schema extension, keeps the
//! other fields of a response free of a per-field hook.

use std::borrow::Cow;

use async_graphql::{
    ContextSelectionSet, OutputType, Positioned, ServerResult, Value, parser::types::Field,
    registry::Registry,
};

use crate::domain::loaders::{CurrentLoaders, rendering_cost};

/// Text up to this many bytes is paid for by its field alone.
const FREE_BYTES: usize = 64;

/// A `String` field's value, charged by its size when it is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text<T>(pub T);

impl<T: AsRef<str> + Send + Sync> OutputType for Text<T> {
    fn type_name() -> Cow<'static, str> {
        <String as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <String as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let text = self.0.as_ref();
        if text.len() > FREE_BYTES
            && let Some(loaders) = ctx.data_opt::<CurrentLoaders>()
        {
            loaders
                .get()
                .charge(rendering_cost(text))
                .map_err(|error| {
                    ctx.set_error_path(
                        async_graphql::Error::from(error).into_server_error(field.pos),
                    )
                })?;
        }
        Ok(Value::String(text.to_owned()))
    }
}
