//! Cross-team commitments and conversation: the upstream team's answers to
//! dependencies, comments, and marking notifications read.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use crate::domain::{commitments::Answer, notifications::Marking};
use crate::graphql::{
    context::{parse_id, scope},
    scalars::Date,
    types::{Comment, Dependency, User},
};

/// The upstream team promises a day (EDIT on the upstream program; READ on the downstream one).
#[derive(InputObject)]
pub struct CommitDependencyInput {
    /// The dependency.
    pub id: ID,
    /// The day the upstream team will deliver.
    pub committed_date: Date,
    /// What comes with the promise ("API v2 only; v1 in January").
    pub note: Option<String>,
    /// The `version` the answer is based on; `CONFLICT` if the dependency changed since.
    pub expected_version: Option<i32>,
}

/// The upstream team declines (EDIT on the upstream program).
#[derive(InputObject)]
pub struct DeclineDependencyInput {
    /// The dependency.
    pub id: ID,
    /// Why (required: the downstream team has to plan around it).
    pub reason: String,
    /// The `version` the answer is based on; `CONFLICT` if the dependency changed since.
    pub expected_version: Option<i32>,
}

/// The upstream team delivered (EDIT on the upstream program); the dependency becomes RESOLVED.
#[derive(InputObject)]
pub struct DeliverDependencyInput {
    /// The dependency.
    pub id: ID,
    /// The day of delivery, not after today (default: today in the upstream program's time zone).
    pub delivered_on: Option<Date>,
    /// The `version` the answer is based on; `CONFLICT` if the dependency changed since.
    pub expected_version: Option<i32>,
}

/// The dependency after the upstream team's answer.
#[derive(SimpleObject)]
pub struct AnswerDependencyPayload {
    /// The dependency after the answer.
    pub dependency: Dependency,
}

/// A comment on a workstream, dependency, decision or risk (EDITOR or OWNER of its program; of either end's program for a dependency).
#[derive(InputObject)]
pub struct AddCommentInput {
    /// The workstream, dependency, decision or risk commented on.
    pub subject_id: ID,
    /// The text.
    pub body: String,
    /// Program members to notify (`MENTIONED`); each must be a member of the subject's program (of both programs for a dependency between two), at most 20.
    #[graphql(default)]
    pub mention_ids: Vec<ID>,
}

/// The new comment.
#[derive(SimpleObject)]
pub struct AddCommentPayload {
    /// The comment.
    pub comment: Comment,
}

/// Changes to a comment (its author only); people newly mentioned are notified.
#[derive(InputObject)]
pub struct EditCommentInput {
    /// The comment.
    pub id: ID,
    /// New text; absent keeps it.
    pub body: Option<String>,
    /// The complete new list of mentions; absent keeps it.
    pub mention_ids: Option<Vec<ID>>,
    /// The `version` the change is based on; `CONFLICT` if the comment changed since.
    pub expected_version: Option<i32>,
}

/// The changed comment.
#[derive(SimpleObject)]
pub struct EditCommentPayload {
    /// The comment after the change.
    pub comment: Comment,
}

/// Delete a comment (its author, or an OWNER of its program).
#[derive(InputObject)]
pub struct DeleteCommentInput {
    /// The comment.
    pub id: ID,
    /// The `version` the deletion is based on; `CONFLICT` if the comment changed since.
    pub expected_version: Option<i32>,
}

/// What `deleteComment` removed.
#[derive(SimpleObject)]
pub struct DeleteCommentPayload {
    /// Id of the deleted comment.
    pub deleted_comment_id: ID,
}

/// Which of your notifications to mark read: `ids`, or `all: true`.
#[derive(InputObject)]
pub struct MarkNotificationsReadInput {
    /// These notifications (yours; `NOT_FOUND` for any other id), at most the server's list size.
    pub ids: Option<Vec<ID>>,
    /// Every unread notification of yours.
    pub all: Option<bool>,
}

/// How many notifications were marked read.
#[derive(SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// How many were unread and are now read.
    pub marked_count: u64,
    /// You, to read `notifications(unreadOnly: true) { totalCount }` again.
    pub viewer: User,
}

/// Commitment and conversation mutations.
#[derive(Default)]
pub struct ConversationMutation;

impl ConversationMutation {
    async fn answer(
        ctx: &Context<'_>,
        id: &ID,
        expected_version: Option<i32>,
        answer: Answer,
    ) -> Result<AnswerDependencyPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", id)?;
        let dependency = domain
            .answer_dependency(viewer, id, expected_version, answer)
            .await?;
        Ok(AnswerDependencyPayload {
            dependency: Dependency(dependency),
        })
    }
}

/// Commitment and conversation mutations.
#[Object]
impl ConversationMutation {
    /// The upstream team promises to deliver a dependency on a day; the
    /// downstream program's OWNERs and workstream lead are notified.
    async fn commit_dependency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: CommitDependencyInput,
    ) -> Result<AnswerDependencyPayload> {
        let answer = Answer::Commit {
            date: input.committed_date.into(),
            note: input.note,
        };
        Self::answer(ctx, &input.id, input.expected_version, answer).await
    }

    /// The upstream team declines a dependency, saying why; the downstream
    /// side is notified and the forecast counts the dependency at risk.
    async fn decline_dependency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: DeclineDependencyInput,
    ) -> Result<AnswerDependencyPayload> {
        let answer = Answer::Decline {
            reason: input.reason,
        };
        Self::answer(ctx, &input.id, input.expected_version, answer).await
    }

    /// The upstream team delivered a dependency; it becomes RESOLVED and the
    /// downstream side is notified.
    async fn deliver_dependency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: DeliverDependencyInput,
    ) -> Result<AnswerDependencyPayload> {
        let answer = Answer::Deliver {
            on: input.delivered_on.map(Into::into),
        };
        Self::answer(ctx, &input.id, input.expected_version, answer).await
    }

    /// Comment on a workstream, dependency, decision or risk, mentioning members to notify.
    async fn add_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: AddCommentInput,
    ) -> Result<AddCommentPayload> {
        let (domain, viewer) = scope(ctx)?;
        let subject_id = parse_id("input.subjectId", &input.subject_id)?;
        let mentions = input
            .mention_ids
            .iter()
            .map(|id| parse_id("input.mentionIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        let comment = domain
            .add_comment(viewer, subject_id, input.body, mentions)
            .await?;
        Ok(AddCommentPayload {
            comment: Comment(comment),
        })
    }

    /// Change your comment's text or mentions.
    async fn edit_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: EditCommentInput,
    ) -> Result<EditCommentPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let mentions = input
            .mention_ids
            .map(|ids| {
                ids.iter()
                    .map(|id| parse_id("input.mentionIds", id))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let comment = domain
            .edit_comment(viewer, id, input.expected_version, input.body, mentions)
            .await?;
        Ok(EditCommentPayload {
            comment: Comment(comment),
        })
    }

    /// Delete a comment.
    async fn delete_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: DeleteCommentInput,
    ) -> Result<DeleteCommentPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let deleted = domain
            .delete_comment(viewer, id, input.expected_version)
            .await?;
        Ok(DeleteCommentPayload {
            deleted_comment_id: ID(deleted.id.to_string()),
        })
    }

    /// Mark your notifications read: the given `ids`, or `all: true`.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: MarkNotificationsReadInput,
    ) -> Result<MarkNotificationsReadPayload> {
        let (domain, viewer) = scope(ctx)?;
        let ids = input
            .ids
            .map(|ids| {
                ids.iter()
                    .map(|id| parse_id("input.ids", id))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let marked_count = domain
            .mark_notifications_read(viewer, Marking::of(ids, input.all)?)
            .await?;
        Ok(MarkNotificationsReadPayload {
            marked_count,
            viewer: User::of_viewer(domain, viewer).await?,
        })
    }
}
