//! `Notification`: what one user is told.

use async_graphql::{Context, ID, Object, Result, Union};
use entity::{audit_event::Subject, notification};

use super::{
    Comment, CommentSubject, Decision, Dependency, Program, Risk, User, Workstream,
    comment::load_subject,
    enums::{Locale, NotificationKind},
};
use crate::domain::access::Visible;
use crate::domain::comments::CommentOn;
use crate::error::ApiError;
use crate::graphql::context::{loaders, scope};
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;
use crate::i18n::{self, Message};

/// Something told to one user, about something in a program they can see.
pub struct Notification(pub Visible<notification::Model>);

/// What a notification is about.
#[derive(Union)]
pub enum NotificationSubject {
    /// A program (its status update is due).
    Program(Program),
    /// A workstream.
    Workstream(Workstream),
    /// A dependency.
    Dependency(Dependency),
    /// A decision.
    Decision(Decision),
    /// A risk.
    Risk(Risk),
}

impl Notification {
    async fn load_subject(&self, ctx: &Context<'_>) -> Result<Option<NotificationSubject>> {
        let id = self.0.subject_id;
        let on = match Subject::parse(&self.0.subject_type) {
            Some(Subject::Program) => {
                return Ok(loaders(ctx)?
                    .programs
                    .load_one(id)
                    .await?
                    .map(|row| NotificationSubject::Program(Program(row))));
            }
            Some(Subject::Workstream) => CommentOn::Workstream(id),
            Some(Subject::Dependency) => CommentOn::Dependency(id),
            Some(Subject::Decision) => CommentOn::Decision(id),
            Some(Subject::Risk) => CommentOn::Risk(id),
            _ => return Ok(None),
        };
        Ok(load_subject(ctx, on).await?.map(|subject| match subject {
            CommentSubject::Workstream(row) => NotificationSubject::Workstream(row),
            CommentSubject::Dependency(row) => NotificationSubject::Dependency(row),
            CommentSubject::Decision(row) => NotificationSubject::Decision(row),
            CommentSubject::Risk(row) => NotificationSubject::Risk(row),
        }))
    }

    /// The subject's name as the message shows it.
    async fn subject_title(&self, ctx: &Context<'_>) -> Result<Option<Text<String>>> {
        Ok(match self.load_subject(ctx).await? {
            None => None,
            Some(NotificationSubject::Program(row)) => Some(row.0.name.clone()),
            Some(NotificationSubject::Workstream(row)) => Some(row.0.name.clone()),
            Some(NotificationSubject::Decision(row)) => Some(row.0.title.clone()),
            Some(NotificationSubject::Risk(row)) => Some(row.0.title.clone()),
            Some(NotificationSubject::Dependency(row)) => {
                let loaders = loaders(ctx)?;
                let (upstream, downstream) = futures::try_join!(
                    loaders.workstreams.load_one(row.0.upstream_id),
                    loaders.workstreams.load_one(row.0.downstream_id),
                )?;
                match (upstream, downstream) {
                    (Some(up), Some(down)) => Some(format!("{} → {}", up.name, down.name)),
                    _ => None,
                }
            }
        }
        .map(Text))
    }
}

/// Something told to one user, about something in a program they can see;
/// readable only by that user, and only while they can see its subject.
#[Object]
impl Notification {
    /// Unique id; pass it to `markNotificationsRead`.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What it tells.
    async fn kind(&self) -> NotificationKind {
        self.0.kind.into()
    }
    /// The program it happened in (the downstream side of a dependency).
    async fn program(&self, ctx: &Context<'_>) -> Result<Program> {
        loaders(ctx)?
            .programs
            .load_one(self.0.program_id)
            .await?
            .map(Program)
            .ok_or_else(|| ApiError::NotFound(Message::NotFound).into())
    }
    /// What it is about; null once that is deleted.
    async fn subject(&self, ctx: &Context<'_>) -> Result<Option<NotificationSubject>> {
        self.load_subject(ctx).await
    }
    /// The comment that mentions you (`MENTIONED`); null once it is deleted.
    async fn comment(&self, ctx: &Context<'_>) -> Result<Option<Comment>> {
        let Some(comment_id) = self.0.comment_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .comments
            .load_one(comment_id)
            .await?
            .map(Comment))
    }
    /// Who caused it; null for the clock's notifications (overdue, due).
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(actor_id) = self.0.actor_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.users.load_one(actor_id).await?.map(User))
    }
    /// One sentence saying what happened, in `locale` (default: yours).
    async fn message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The language (default: yours).")] locale: Option<Locale>,
    ) -> Result<Text<String>> {
        let (_, viewer) = scope(ctx)?;
        let locale = locale.map_or(viewer.locale, Into::into);
        let actor = match self.0.actor_id {
            Some(actor_id) => loaders(ctx)?
                .users
                .load_one(actor_id)
                .await?
                .map(|user| user.name.clone()),
            None => None,
        };
        let title = self.subject_title(ctx).await?.map(|title| title.0);
        Ok(Text(i18n::notification_text(
            self.0.kind,
            actor.as_deref(),
            title.as_deref(),
            locale,
        )))
    }
    /// When it was written.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When you marked it read; null while unread.
    async fn read_at(&self) -> Option<Instant> {
        self.0.read_at.map(Instant)
    }
    /// Whether you marked it read.
    async fn is_read(&self) -> bool {
        self.0.read_at.is_some()
    }
}
