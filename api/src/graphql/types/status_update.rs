//! `StatusUpdate`.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use entity::status_update;
use uuid::Uuid;

use super::{
    Program, User,
    connection::{ListConnection, connection, page_args},
    enums::{Health, Locale},
};
use crate::domain::access::Visible;
use crate::domain::loaders::group;
use crate::domain::status_updates;
use crate::error::ApiError;
use crate::graphql::context::loaders;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;
use crate::graphql::{context::scope, scalars::Date};
use crate::i18n::Message;

/// A dated report on a program's health; immutable once posted.
pub struct StatusUpdate(pub Visible<status_update::Model>);

/// A status update's summary in one language.
#[derive(SimpleObject)]
pub struct StatusUpdateTranslation {
    /// The language it is written in.
    pub locale: Locale,
    /// The summary in that language.
    pub summary: Text<String>,
}

/// A program's status updates the caller may see, loaded in one batch with its siblings'.
pub async fn program_rows(
    ctx: &Context<'_>,
    program_id: Uuid,
) -> Result<Vec<Visible<status_update::Model>>> {
    let loaders = loaders(ctx)?;
    Ok(group(&loaders.status_updates_by_program, program_id).await?)
}

/// The `statusUpdates` field of a program, newest first.
pub async fn program_status_updates(
    ctx: &Context<'_>,
    program_id: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<ListConnection<StatusUpdate>> {
    let (domain, _) = scope(ctx)?;
    let rows = program_rows(ctx, program_id).await?;
    let args = page_args(first, after, last, before);
    let page =
        domain.page_newest_first(rows, "statusUpdates", &args, |u| u.created_at, |u| u.id)?;
    Ok(connection(page, StatusUpdate))
}

/// The `latestStatusUpdate` field of a program.
pub async fn program_latest_status_update(
    ctx: &Context<'_>,
    program_id: Uuid,
) -> Result<Option<StatusUpdate>> {
    let rows = program_rows(ctx, program_id).await?;
    Ok(status_updates::latest(rows).map(StatusUpdate))
}

/// A dated report on a program's health; immutable once posted.
#[Object]
impl StatusUpdate {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The program reported on.
    async fn program(&self, ctx: &Context<'_>) -> Result<Program> {
        let loaders = loaders(ctx)?;
        loaders
            .programs
            .load_one(self.0.program_id)
            .await?
            .map(Program)
            .ok_or_else(|| ApiError::NotFound(Message::NotFound).into())
    }
    /// The program's health as reported; posting the update set the program to it.
    async fn health(&self) -> Health {
        self.0.health.into()
    }
    /// What happened and what comes next, in the reader's language: the
    /// translation into `locale` when there is one, else as written.
    async fn summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The language to read it in (default: the viewer's language).")]
        locale: Option<Locale>,
    ) -> Result<Text<String>> {
        let (_, viewer) = scope(ctx)?;
        let locale = locale.map_or(viewer.locale, Into::into);
        Ok(Text(status_updates::summary_in(&self.0, locale)))
    }
    /// The summary as its author wrote it, whatever the reader's language.
    async fn original_summary(&self) -> Text<&str> {
        Text(&self.0.summary)
    }
    /// The summary in other languages, as posted.
    async fn translations(&self) -> Vec<StatusUpdateTranslation> {
        status_updates::translations(&self.0)
            .into_iter()
            .map(|t| StatusUpdateTranslation {
                locale: t.locale.into(),
                summary: Text(t.summary),
            })
            .collect()
    }
    /// Who posted it.
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.author_id else {
            return Ok(None);
        };
        let loaders = loaders(ctx)?;
        Ok(loaders.users.load_one(id).await?.map(User))
    }
    /// The forecast finish day when the update was posted.
    async fn forecast_finish(&self) -> Option<Date> {
        self.0.forecast_finish.map(Date)
    }
    /// The program's target day when the update was posted.
    async fn target_date(&self) -> Option<Date> {
        self.0.target_date.map(Date)
    }
    /// When it was posted.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
}
