//! Comments: the conversation on a workstream, a dependency, a decision or a
//! risk, with mentions of the people who should read it.
//!
//! A comment is exactly as visible as its subject (a comment on a
//! dependency between two programs only to those who see both). Members
//! read; editors write (on a dependency, editors of either end); only the
//! author edits; the author or an OWNER deletes.

use std::collections::HashSet;

use entity::{comment, decision, dependency, enums::NotificationKind, risk, workstream};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Access, Action, Scoped, Visible},
    audit::{Change, Recorded},
    members::ensure_member,
    notifications::{self, Notice},
    pagination::order_fields,
    validate,
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Most people one comment mentions.
pub const MAX_MENTIONS: usize = 20;

order_fields! {
    /// The order of a conversation.
    pub enum CommentOrderField for comment::Model {
        /// When it was written, oldest first in a conversation.
        CreatedAt = "CREATED_AT" => |row| row.created_at,
    }
}

/// What a comment is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentOn {
    /// A workstream.
    Workstream(Uuid),
    /// A dependency.
    Dependency(Uuid),
    /// A decision.
    Decision(Uuid),
    /// A risk.
    Risk(Uuid),
}

impl CommentOn {
    /// The subject of a stored comment.
    pub fn of(row: &comment::Model) -> Option<Self> {
        row.workstream_id
            .map(Self::Workstream)
            .or(row.dependency_id.map(Self::Dependency))
            .or(row.decision_id.map(Self::Decision))
            .or(row.risk_id.map(Self::Risk))
    }
}

impl CommentOn {
    /// The subject's id.
    pub fn id(self) -> Uuid {
        match self {
            Self::Workstream(id) | Self::Dependency(id) | Self::Decision(id) | Self::Risk(id) => id,
        }
    }
}

/// A visible subject for a comment: what it is, and the notice a mention
/// in a comment on it gives.
struct Subject {
    on: CommentOn,
    mention: Notice,
}

impl Subject {
    fn new<R: Recorded>(on: CommentOn, row: &R, actor: Uuid) -> ApiResult<Self> {
        Ok(Self {
            on,
            mention: Notice::about(NotificationKind::Mentioned, row, Some(actor))?,
        })
    }
}

/// Whatever visible workstream, dependency, decision or risk has id `id`
/// (`NOT_FOUND` when none, hidden or missing alike); `actor` is commenting.
async fn find_subject(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    actor: Uuid,
) -> ApiResult<Subject> {
    if let Some(row) = access::visible(viewer, workstream::Entity::find_by_id(id))?
        .one(db)
        .await?
    {
        return Subject::new(CommentOn::Workstream(id), &*row, actor);
    }
    if let Some(row) = access::visible(viewer, dependency::Entity::find_by_id(id))?
        .one(db)
        .await?
    {
        return Subject::new(CommentOn::Dependency(id), &*row, actor);
    }
    if let Some(row) = access::visible(viewer, decision::Entity::find_by_id(id))?
        .one(db)
        .await?
    {
        return Subject::new(CommentOn::Decision(id), &*row, actor);
    }
    if let Some(row) = access::visible(viewer, risk::Entity::find_by_id(id))?
        .one(db)
        .await?
    {
        return Subject::new(CommentOn::Risk(id), &*row, actor);
    }
    Err(ApiError::NotFound(Message::NothingToComment))
}

/// The caller's standing in the program(s) something lives in.
struct Standing {
    own: Access,
    other: Option<Access>,
}

impl Standing {
    async fn of(
        db: &impl ConnectionTrait,
        viewer: &Viewer,
        (program_id, related): (Uuid, Option<Uuid>),
    ) -> ApiResult<Self> {
        let own = access::authorize(db, viewer, program_id, Action::Read).await?;
        let other = match related {
            Some(related) => Some(access::authorize(db, viewer, related, Action::Read).await?),
            None => None,
        };
        Ok(Self { own, other })
    }

    /// Whether the caller may `action` in either program.
    fn allows(&self, action: Action) -> bool {
        self.own.allows(action) || self.other.is_some_and(|other| other.allows(action))
    }

    fn admit(&self, row: comment::Model) -> ApiResult<Visible<comment::Model>> {
        match &self.other {
            Some(other) => self.own.admit_between(other, row),
            None => self.own.admit(row),
        }
    }
}

/// `mention_ids` without repeats, each a member of every program the
/// comment lives in, at most [`MAX_MENTIONS`].
async fn checked_mentions(
    db: &impl ConnectionTrait,
    (program_id, related): (Uuid, Option<Uuid>),
    mention_ids: Vec<Uuid>,
) -> ApiResult<Vec<Uuid>> {
    let mut seen = HashSet::new();
    let mentions: Vec<Uuid> = mention_ids
        .into_iter()
        .filter(|id| seen.insert(*id))
        .collect();
    if mentions.len() > MAX_MENTIONS {
        return Err(ApiError::bad_input(
            "input.mentionIds",
            Message::TooManyItems { max: MAX_MENTIONS },
        ));
    }
    for user_id in &mentions {
        for program in std::iter::once(program_id).chain(related) {
            ensure_member(
                db,
                program,
                *user_id,
                "input.mentionIds",
                Message::NotAMember,
            )
            .await?;
        }
    }
    Ok(mentions)
}

/// Where a stored comment lives.
fn programs_of(row: &comment::Model) -> (Uuid, Option<Uuid>) {
    row.reach()
        .programs()
        .unwrap_or((row.program_id, row.related_program_id))
}

impl Domain {
    /// Comment on a workstream, dependency, decision or risk (EDIT in its
    /// program, or in either end's program of a dependency); the people
    /// mentioned are told.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_comment(
        &self,
        viewer: &Viewer,
        subject_id: Uuid,
        body: String,
        mention_ids: Vec<Uuid>,
    ) -> ApiResult<Visible<comment::Model>> {
        let user = viewer.require_user()?;
        let body = validate::long_text("input.body", &body)?;
        let txn = self.begin_write().await?;
        let subject = find_subject(&txn, viewer, subject_id, user.id).await?;
        let programs = subject.mention.programs();
        let standing = Standing::of(&txn, viewer, programs).await?;
        if !standing.allows(Action::Edit) {
            return Err(ApiError::Forbidden(Message::ProgramRoleTooLow));
        }
        let mentions = checked_mentions(&txn, programs, mention_ids).await?;
        let on = |wanted: fn(Uuid) -> CommentOn| {
            let id = subject.on.id();
            (wanted(id) == subject.on).then_some(id)
        };
        let created = comment::ActiveModel {
            program_id: Set(programs.0),
            related_program_id: Set(programs.1),
            workstream_id: Set(on(CommentOn::Workstream)),
            dependency_id: Set(on(CommentOn::Dependency)),
            decision_id: Set(on(CommentOn::Decision)),
            risk_id: Set(on(CommentOn::Risk)),
            author_id: Set(Some(user.id)),
            body: Set(body),
            mention_ids: Set(serde_json::json!(mentions)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let notice = subject.mention.in_comment(created.id);
        notifications::send(&txn, &notice, mentions).await?;
        self.commit(txn, user.id, [Change::created(&created)])
            .await?;
        standing.admit(created)
    }

    /// Change a comment's text or mentions (its author, still an editor);
    /// people newly mentioned are told.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn edit_comment(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        body: Option<String>,
        mention_ids: Option<Vec<Uuid>>,
    ) -> ApiResult<Visible<comment::Model>> {
        let user = viewer.require_user()?;
        if body.is_none() && mention_ids.is_none() {
            return Err(ApiError::bad_input("input", Message::NothingToChange));
        }
        let body = body
            .map(|body| validate::long_text("input.body", &body))
            .transpose()?;
        let txn = self.begin_write().await?;
        let before = access::find_visible::<comment::Entity>(&txn, viewer, id)
            .await?
            .into_inner();
        let programs = programs_of(&before);
        let standing = Standing::of(&txn, viewer, programs).await?;
        if before.author_id != Some(user.id) {
            return Err(ApiError::Forbidden(Message::AuthorOnly));
        }
        if !standing.allows(Action::Edit) {
            return Err(ApiError::Forbidden(Message::ProgramRoleTooLow));
        }
        check_expected(before.version, expected_version)?;
        let mut active: comment::ActiveModel = before.clone().into();
        if let Some(body) = body {
            active.body = Set(body);
        }
        let earlier: HashSet<Uuid> = before.mentions().into_iter().collect();
        let mut fresh = Vec::new();
        if let Some(mention_ids) = mention_ids {
            let mentions = checked_mentions(&txn, programs, mention_ids).await?;
            fresh = mentions
                .iter()
                .copied()
                .filter(|id| !earlier.contains(id))
                .collect();
            active.mention_ids = Set(serde_json::json!(mentions));
        }
        active.edited_at = Set(Some(entity::now()));
        let after = versioned::save::<comment::Entity>(&txn, id, before.version, active).await?;
        if !fresh.is_empty() {
            let on = CommentOn::of(&after)
                .ok_or_else(|| ApiError::internal("a comment without a subject"))?;
            let subject = find_subject(&txn, viewer, on.id(), user.id).await?;
            let notice = subject.mention.in_comment(after.id);
            notifications::send(&txn, &notice, fresh).await?;
        }
        self.commit(txn, user.id, [Change::updated(&before, &after)])
            .await?;
        standing.admit(after)
    }

    /// Delete a comment (its author while an editor, or an OWNER); returns it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_comment(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> ApiResult<Visible<comment::Model>> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let before = access::find_visible::<comment::Entity>(&txn, viewer, id)
            .await?
            .into_inner();
        let standing = Standing::of(&txn, viewer, programs_of(&before)).await?;
        // An author who is a reader now may still take back what they wrote.
        let author = before.author_id == Some(user.id);
        if !author && !standing.allows(Action::Manage) {
            return Err(ApiError::Forbidden(Message::AuthorOrOwnerOnly));
        }
        check_expected(before.version, expected_version)?;
        versioned::delete::<comment::Entity>(&txn, id, before.version).await?;
        self.commit(txn, user.id, [Change::deleted(&before)])
            .await?;
        standing.admit(before)
    }
}
