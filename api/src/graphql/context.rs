//! What every resolver can reach: the services and the caller of this request.

use async_graphql::{Context, ID};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::domain::Domain;
use crate::domain::loaders::{CurrentLoaders, Loaders};
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Per-request data: who is calling and under which request id.
#[derive(Clone)]
pub struct RequestContext {
    /// The caller.
    pub viewer: Viewer,
    /// The request id, also in the log and the `x-request-id` header.
    pub request_id: String,
    /// The client's network (its address, an IPv6 client's /64), when known.
    pub address: Option<std::net::IpAddr>,
}

/// The services and the viewer of the current request.
pub fn scope<'a>(ctx: &'a Context<'_>) -> ApiResult<(&'a Domain, &'a Viewer)> {
    let domain = ctx
        .data::<Domain>()
        .map_err(|_| ApiError::internal("the domain services are not in the schema data"))?;
    let request = ctx
        .data::<RequestContext>()
        .map_err(|_| ApiError::internal("the request context is not in the request data"))?;
    Ok((domain, &request.viewer))
}

/// A per-request value inserted by the HTTP layer (loaders and the like).
pub fn request_data<'a, T: Send + Sync + 'static>(ctx: &'a Context<'_>) -> ApiResult<&'a T> {
    ctx.data::<T>().map_err(|_| {
        ApiError::internal(format!(
            "missing request data {}",
            std::any::type_name::<T>()
        ))
    })
}

/// The loaders of what is being resolved (see [`CurrentLoaders`]).
pub fn loaders(ctx: &Context<'_>) -> ApiResult<std::sync::Arc<Loaders>> {
    Ok(request_data::<CurrentLoaders>(ctx)?.get())
}

/// Parse a GraphQL `ID` argument as a UUID.
pub fn parse_id(field: &str, id: &ID) -> ApiResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| {
        ApiError::bad_input(
            field,
            Message::InvalidFormat {
                expected: crate::i18n::Format::Uuid,
            },
        )
    })
}

/// A list of ids at `field`, each reported at `field.N` when it is not one.
pub fn parse_ids(field: &str, ids: &[ID]) -> ApiResult<Vec<Uuid>> {
    ids.iter()
        .enumerate()
        .map(|(at, id)| parse_id(&format!("{field}.{at}"), id))
        .collect()
}

/// An update field: absent keeps, `null` clears, a value sets.
pub fn patch<T, U: Into<T>>(
    value: async_graphql::MaybeUndefined<U>,
) -> crate::domain::patch::Patch<T> {
    use crate::domain::patch::Patch;
    match value {
        async_graphql::MaybeUndefined::Undefined => Patch::Keep,
        async_graphql::MaybeUndefined::Null => Patch::Clear,
        async_graphql::MaybeUndefined::Value(value) => Patch::Set(value.into()),
    }
}

/// An optional `ID` argument parsed as a UUID.
pub fn parse_optional_id(field: &str, id: Option<&ID>) -> ApiResult<Option<Uuid>> {
    id.map(|id| parse_id(field, id)).transpose()
}

/// An update field holding an id: absent keeps, `null` clears, a value must be a UUID.
pub fn patch_id(
    field: &str,
    value: async_graphql::MaybeUndefined<async_graphql::ID>,
) -> crate::error::ApiResult<crate::domain::patch::Patch<uuid::Uuid>> {
    patch::<async_graphql::ID, async_graphql::ID>(value).try_map(|id| parse_id(field, &id))
}
