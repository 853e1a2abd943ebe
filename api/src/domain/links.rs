//! Where a workstream, dependency or risk lives in other tools: its
//! `externalId` (unique in its program, so a sync script finds "its" row
//! again) and its `links` (`[{url kind title}]`).

use entity::{
    dependency,
    link::{Link, links_json},
    risk, workstream,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{patch::Patch, validate, validate::AllInputs};
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Most links on one row.
pub const MAX_LINKS: usize = 20;

/// An external id: trimmed, single line, visible, at most 200 characters.
pub fn external_id(field: &str, value: &str) -> ApiResult<String> {
    validate::name(field, value)
}

/// Links as given: at most [`MAX_LINKS`], each an `http`/`https` URL with an
/// optional title (blank becomes none).
pub fn links(field: &str, links: Vec<Link>) -> ApiResult<Vec<Link>> {
    if links.len() > MAX_LINKS {
        return Err(ApiError::bad_input(
            field,
            Message::TooManyItems { max: MAX_LINKS },
        ));
    }
    validate::all_of(links.into_iter().enumerate().map(|(index, link)| {
        let (url, title) = (
            validate::http_url(&format!("{field}.{index}.url"), &link.url),
            match link.title.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(title) => validate::name(&format!("{field}.{index}.title"), title).map(Some),
            },
        )
            .all()?;
        Ok(Link {
            url: url.to_string(),
            kind: link.kind,
            title,
        })
    }))
}

/// The external id and links of a new row, validated (every bad field at once).
pub fn new_fields(
    external_id: Option<&str>,
    given: Option<Vec<Link>>,
) -> ApiResult<(Option<String>, serde_json::Value)> {
    let (external_id, given) = (
        external_id
            .map(|id| self::external_id("input.externalId", id))
            .transpose(),
        links("input.links", given.unwrap_or_default()),
    )
        .all()?;
    Ok((external_id, links_json(&given)))
}

/// Changes to a row's external id and links, validated: the links' column
/// value when they change (`null` clears them).
pub fn changed_fields(
    external_id: Patch<String>,
    given: Patch<Vec<Link>>,
) -> ApiResult<(Patch<String>, Option<serde_json::Value>)> {
    let (external_id, given) = (
        external_id.try_map(|id| self::external_id("input.externalId", &id)),
        given.try_map(|given| links("input.links", given)),
    )
        .all()?;
    let column = given
        .is_given()
        .then(|| links_json(&given.apply(None).unwrap_or_default()));
    Ok((external_id, column))
}

/// A table whose rows carry an external id unique in their program.
pub trait Linked: EntityTrait {
    /// The `id` column.
    const ID: Self::Column;
    /// The `program_id` column.
    const PROGRAM: Self::Column;
    /// The `external_id` column.
    const EXTERNAL_ID: Self::Column;
}

macro_rules! linked {
    ($($module:ident),*) => {
        $(
            impl Linked for $module::Entity {
                const ID: Self::Column = $module::Column::Id;
                const PROGRAM: Self::Column = $module::Column::ProgramId;
                const EXTERNAL_ID: Self::Column = $module::Column::ExternalId;
            }
        )*
    };
}

linked!(workstream, dependency, risk);

/// The row of `program_id` with `external_id`, if any.
pub async fn find_by_external_id<E: Linked>(
    db: &impl ConnectionTrait,
    program_id: Uuid,
    external_id: &str,
) -> ApiResult<Option<E::Model>> {
    Ok(E::find()
        .filter(E::PROGRAM.eq(program_id))
        .filter(E::EXTERNAL_ID.eq(external_id))
        .one(db)
        .await?)
}

/// `BAD_USER_INPUT` at `field` when another row of `program_id` than
/// `except` already has `external_id`.
pub async fn ensure_free<E: Linked>(
    db: &impl ConnectionTrait,
    field: &str,
    program_id: Uuid,
    external_id: &str,
    except: Option<Uuid>,
) -> ApiResult<()> {
    let taken: Option<Uuid> = E::find()
        .select_only()
        .column(E::ID)
        .filter(E::PROGRAM.eq(program_id))
        .filter(E::EXTERNAL_ID.eq(external_id))
        .into_tuple()
        .one(db)
        .await?;
    match taken {
        Some(id) if Some(id) != except => Err(ApiError::bad_input(field, Message::ExternalIdTaken)),
        _ => Ok(()),
    }
}

/// A unique-index clash on insert, as the same error [`ensure_free`] gives.
pub fn taken_on_write(field: &'static str) -> impl Fn(sea_orm::DbErr) -> ApiError {
    move |error| taken_on_save(field)(ApiError::from(error))
}

/// A unique-index clash on a versioned save, as the same error [`ensure_free`] gives.
pub fn taken_on_save(field: &'static str) -> impl Fn(ApiError) -> ApiError {
    move |error| match error {
        ApiError::Conflict(Message::AlreadyExists) => {
            ApiError::bad_input(field, Message::ExternalIdTaken)
        }
        other => other,
    }
}
