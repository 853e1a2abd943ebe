//! `Comment`: the conversation on a workstream, dependency, decision or risk.

use async_graphql::{Context, ID, Object, Result, Union};
use entity::comment;
use uuid::Uuid;

use super::{
    Decision, Dependency, Risk, User, Workstream,
    connection::{ListConnection, connection, page_args},
};
use crate::domain::access::Visible;
use crate::domain::comments::{CommentOn, CommentOrderField};
use crate::domain::loaders::{GroupedLoader, group};
use crate::domain::pagination::Direction;
use crate::error::ApiError;
use crate::graphql::context::{loaders, scope};
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;
use crate::i18n::Message;

/// A comment in the conversation on a workstream, dependency, decision or risk.
pub struct Comment(pub Visible<comment::Model>);

/// What a comment is about.
#[derive(Union)]
pub enum CommentSubject {
    /// A workstream.
    Workstream(Workstream),
    /// A dependency.
    Dependency(Dependency),
    /// A decision.
    Decision(Decision),
    /// A risk.
    Risk(Risk),
}

/// The subject `on`, through the request's loaders (none when hidden or gone).
pub async fn load_subject(ctx: &Context<'_>, on: CommentOn) -> Result<Option<CommentSubject>> {
    let loaders = loaders(ctx)?;
    Ok(match on {
        CommentOn::Workstream(id) => loaders
            .workstreams
            .load_one(id)
            .await?
            .map(|row| CommentSubject::Workstream(Workstream(row))),
        CommentOn::Dependency(id) => loaders
            .dependencies
            .load_one(id)
            .await?
            .map(|row| CommentSubject::Dependency(Dependency(row))),
        CommentOn::Decision(id) => loaders
            .decisions
            .load_one(id)
            .await?
            .map(|row| CommentSubject::Decision(Decision(row))),
        CommentOn::Risk(id) => loaders
            .risks
            .load_one(id)
            .await?
            .map(|row| CommentSubject::Risk(Risk(row))),
    })
}

/// A comment in the conversation on a workstream, dependency, decision or
/// risk; visible exactly as its subject is.
#[Object]
impl Comment {
    /// Unique id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Who wrote it (null once their account is deleted).
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(author_id) = self.0.author_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.users.load_one(author_id).await?.map(User))
    }
    /// The text.
    async fn body(&self) -> Text<&str> {
        Text(&self.0.body)
    }
    /// The program members it mentions; each was notified.
    async fn mentions(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        let ids = self.0.mentions();
        let mut users = loaders(ctx)?.users.load_many(ids.iter().copied()).await?;
        Ok(ids
            .iter()
            .filter_map(|id| users.remove(id))
            .map(User)
            .collect())
    }
    /// What it is about.
    async fn subject(&self, ctx: &Context<'_>) -> Result<CommentSubject> {
        let on = CommentOn::of(&self.0)
            .ok_or_else(|| ApiError::internal("a comment without a subject"))?;
        load_subject(ctx, on)
            .await?
            .ok_or_else(|| ApiError::NotFound(Message::NotFound).into())
    }
    /// When it was written.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When its author last changed it; null if never.
    async fn edited_at(&self) -> Option<Instant> {
        self.0.edited_at.map(Instant)
    }
    /// Optimistic-concurrency version; pass it as `expectedVersion` when changing the comment.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// The `comments` connection of a subject: its conversation, oldest first.
pub async fn comments_on(
    ctx: &Context<'_>,
    loader: impl Fn(&crate::domain::loaders::Loaders) -> &GroupedLoader<comment::Entity>,
    subject_id: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<ListConnection<Comment>> {
    let (domain, _) = scope(ctx)?;
    let loaders = loaders(ctx)?;
    let rows = group(loader(&loaders), subject_id).await?;
    let page = domain.page_loaded(
        rows,
        |_| true,
        (CommentOrderField::CreatedAt, Direction::Asc),
        &page_args(first, after, last, before),
        |row| row.id,
    )?;
    Ok(connection(page, Comment))
}
