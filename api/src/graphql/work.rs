//! The work meter: every string a field returns is charged to the request's
//! work by its size, so a document of few fields cannot return megabytes of
//! stored text for the price of a field each.

use std::sync::Arc;

use async_graphql::{
    ServerResult, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo},
};

use crate::domain::loaders::{CurrentLoaders, rendering_cost};

/// Charges returned text to the work meter of the [`CurrentLoaders`].
pub struct WorkMeter;

impl ExtensionFactory for WorkMeter {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(WorkMeterExtension)
    }
}

struct WorkMeterExtension;

#[async_trait::async_trait]
impl Extension for WorkMeterExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let value = next.run(ctx, info).await?;
        if let (Some(Value::String(text)), Some(loaders)) =
            (&value, ctx.data_opt::<CurrentLoaders>())
            && text.len() > 64
        {
            loaders
                .get()
                .charge(rendering_cost(text))
                .map_err(|error| {
                    async_graphql::Error::from(error)
                        .into_server_error(async_graphql::Pos::default())
                })?;
        }
        Ok(value)
    }
}
