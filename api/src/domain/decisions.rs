//! Decisions: proposals with their options, deciding them, and superseding
//! an earlier accepted decision.
//!
//! Superseding is stored on the older decision's `superseded_by_id` as soon
//! as the newer one is proposed with `supersedes_id`, so the pending link is
//! visible from both sides. The older decision stays ACCEPTED until the newer
//! one is accepted (then it becomes SUPERSEDED); rejecting the newer one
//! dissolves the link.

use chrono::NaiveDate;
use entity::{audit_event::Verb, decision, decision_option, enums::DecisionStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::validate::AllInputs;
use super::{
    Domain,
    access::{self, Action, Visible},
    audit::{self, Change},
    pagination::order_fields,
    patch::{self, Patch},
    validate,
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Most options one decision may list.
pub const MAX_OPTIONS: usize = 20;

/// One alternative considered for a decision.
#[derive(Debug, Clone, Default)]
pub struct NewDecisionOption {
    /// Short name of the option.
    pub title: String,
    /// Arguments for it.
    pub pros: Option<String>,
    /// Arguments against it.
    pub cons: Option<String>,
}

/// What `createDecision` accepts.
#[derive(Debug, Clone, Default)]
pub struct NewDecision {
    /// The program the decision belongs to.
    pub program_id: Uuid,
    /// What is being decided.
    pub title: String,
    /// Background that calls for the decision.
    pub context: Option<String>,
    /// Alternatives considered, in display order.
    pub options: Vec<NewDecisionOption>,
    /// Day by which the decision is needed.
    pub due_date: Option<NaiveDate>,
    /// An ACCEPTED decision of the same program this one replaces once accepted.
    pub supersedes_id: Option<Uuid>,
}

/// What `updateDecision` changes.
#[derive(Debug, Clone, Default)]
pub struct DecisionChanges {
    /// New title.
    pub title: Patch<String>,
    /// New context.
    pub context: Patch<String>,
    /// A new list of options replacing the old one (`Clear` empties it).
    pub options: Patch<Vec<NewDecisionOption>>,
    /// New consequences.
    pub consequences: Patch<String>,
    /// New due date.
    pub due_date: Patch<NaiveDate>,
}

/// What `decideDecision` records.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// `Accepted` or `Rejected`.
    pub status: DecisionStatus,
    /// What was decided.
    pub outcome: Option<String>,
    /// Why.
    pub rationale: Option<String>,
}

/// Filters of a program's decisions.
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    /// Only these statuses.
    pub status: Option<Vec<DecisionStatus>>,
    /// Case-insensitive text contained in the title or context.
    pub search: Option<String>,
    /// Only decisions due strictly before this day.
    pub due_before: Option<NaiveDate>,
}

impl DecisionFilter {
    /// Whether `row` passes every given filter.
    pub fn matches(&self, row: &decision::Model) -> bool {
        let needle = self
            .search
            .as_deref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        self.status.as_ref().is_none_or(|s| s.contains(&row.status))
            && self
                .due_before
                .is_none_or(|day| row.due_date.is_some_and(|due| due < day))
            && needle.is_none_or(|needle| {
                row.title.to_lowercase().contains(&needle)
                    || row
                        .context
                        .as_ref()
                        .is_some_and(|c| c.to_lowercase().contains(&needle))
            })
    }
}

order_fields! {
    /// Sortable fields of a program's decisions.
    pub enum DecisionOrderField for decision::Model {
        /// Creation time.
        CreatedAt = "CREATED_AT" => |row| row.created_at,
        /// Due date (decisions without one last).
        DueDate = "DUE_DATE" => |row| row.due_date,
        /// Title.
        Title = "TITLE" => |row| row.title.clone(),
        /// When decided (undecided ones last).
        DecidedAt = "DECIDED_AT" => |row| row.decided_at,
    }
}

/// A decision with its options, as written to the history.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot<'a> {
    #[serde(flatten)]
    decision: &'a decision::Model,
    options: Vec<OptionSnapshot<'a>>,
}

#[derive(Serialize)]
struct OptionSnapshot<'a> {
    title: &'a str,
    pros: Option<&'a str>,
    cons: Option<&'a str>,
}

fn snapshot<'a>(
    decision: &'a decision::Model,
    options: &'a [decision_option::Model],
) -> Snapshot<'a> {
    Snapshot {
        decision,
        options: options
            .iter()
            .map(|o| OptionSnapshot {
                title: &o.title,
                pros: o.pros.as_deref(),
                cons: o.cons.as_deref(),
            })
            .collect(),
    }
}

/// Add the changes to a second entity, made by the same mutation, under
/// `key` of an event's `changes`: one event per mutation holds them all.
pub(crate) fn with_related(
    mut changes: Value,
    key: &str,
    entity_type: &str,
    entity_id: Uuid,
    related: Value,
) -> Value {
    if let Value::Object(map) = &mut changes {
        map.insert(
            key.to_owned(),
            json!({ "entityType": entity_type, "entityId": entity_id, "changes": related }),
        );
    }
    changes
}

fn validate_options(options: Vec<NewDecisionOption>) -> ApiResult<Vec<NewDecisionOption>> {
    if options.len() > MAX_OPTIONS {
        return Err(ApiError::bad_input(
            "input.options",
            Message::TooManyItems { max: MAX_OPTIONS },
        ));
    }
    options
        .into_iter()
        .enumerate()
        .map(|(i, option)| {
            Ok(NewDecisionOption {
                title: validate::name(&format!("input.options.{i}.title"), &option.title)?,
                pros: validate::optional_text(
                    &format!("input.options.{i}.pros"),
                    option.pros.as_deref(),
                )?,
                cons: validate::optional_text(
                    &format!("input.options.{i}.cons"),
                    option.cons.as_deref(),
                )?,
            })
        })
        .collect()
}

async fn options_of(
    db: &impl ConnectionTrait,
    decision_id: Uuid,
) -> ApiResult<Vec<decision_option::Model>> {
    Ok(decision_option::Entity::find()
        .filter(decision_option::Column::DecisionId.eq(decision_id))
        .order_by_asc(decision_option::Column::Position)
        .all(db)
        .await?)
}

async fn insert_options(
    txn: &DatabaseTransaction,
    decision: &decision::Model,
    options: Vec<NewDecisionOption>,
) -> ApiResult<Vec<decision_option::Model>> {
    let mut stored = Vec::with_capacity(options.len());
    for (position, option) in options.into_iter().enumerate() {
        stored.push(
            decision_option::ActiveModel {
                decision_id: Set(decision.id),
                program_id: Set(decision.program_id),
                position: Set(position as i32),
                title: Set(option.title),
                pros: Set(option.pros),
                cons: Set(option.cons),
                ..Default::default()
            }
            .insert(txn)
            .await?,
        );
    }
    Ok(stored)
}

/// The decision `old_id` if a new decision of `program_id` may supersede it.
async fn supersedable(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    program_id: Uuid,
    old_id: Uuid,
) -> ApiResult<decision::Model> {
    const FIELD: &str = "input.supersedesId";
    // A decision the caller cannot see is reported exactly like a missing one.
    let old = match access::find_visible::<decision::Entity>(txn, viewer, old_id).await {
        Ok(old) => old.into_inner(),
        Err(ApiError::NotFound(_)) => return Err(ApiError::bad_input(FIELD, Message::NotFound)),
        Err(other) => return Err(other),
    };
    if old.program_id != program_id {
        return Err(ApiError::bad_input(FIELD, Message::OtherProgram));
    }
    if old.status != DecisionStatus::Accepted {
        return Err(ApiError::bad_input(FIELD, Message::DecisionNotAccepted));
    }
    if old.superseded_by_id.is_some() {
        return Err(ApiError::bad_input(
            FIELD,
            Message::DecisionAlreadySuperseded,
        ));
    }
    Ok(old)
}

impl Domain {
    /// Propose a decision (OWNER, EDITOR); it starts PROPOSED.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_decision(
        &self,
        viewer: &Viewer,
        input: NewDecision,
    ) -> ApiResult<Visible<decision::Model>> {
        let user = viewer.require_user()?;
        let (title, context, options) = (
            validate::name("input.title", &input.title),
            validate::optional_text("input.context", input.context.as_deref()),
            validate_options(input.options),
        )
            .all()?;

        let txn = self.begin_write().await?;
        let access = access::authorize(&txn, viewer, input.program_id, Action::Edit).await?;
        let superseded = match input.supersedes_id {
            Some(old_id) => Some(supersedable(&txn, viewer, input.program_id, old_id).await?),
            None => None,
        };
        let created = decision::ActiveModel {
            program_id: Set(input.program_id),
            title: Set(title),
            context: Set(context),
            outcome: Set(None),
            rationale: Set(None),
            consequences: Set(None),
            status: Set(DecisionStatus::Proposed),
            decided_by_id: Set(None),
            decided_at: Set(None),
            due_date: Set(input.due_date),
            superseded_by_id: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let options = insert_options(&txn, &created, options).await?;
        let mut changes = audit::diff(None, Some(&snapshot(&created, &options)));
        if let Some(old) = superseded {
            let mut active: decision::ActiveModel = old.clone().into();
            active.superseded_by_id = Set(Some(created.id));
            let after =
                versioned::save::<decision::Entity>(&txn, old.id, old.version, active).await?;
            changes = with_related(
                changes,
                "supersedes",
                "Decision",
                old.id,
                audit::diff(Some(&old), Some(&after)),
            );
        }
        self.commit(txn, user.id, [Change::of(Verb::Create, &created, changes)])
            .await?;
        access.admit(created)
    }

    /// Change a decision's text, options or due date (OWNER, EDITOR).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_decision(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        changes: DecisionChanges,
    ) -> ApiResult<Visible<decision::Model>> {
        let user = viewer.require_user()?;
        let title = changes
            .title
            .required_with("input.title", |field, t| validate::name(field, &t))?;
        let context = changes
            .context
            .try_map(|c| validate::long_text("input.context", &c))?;
        let consequences = changes
            .consequences
            .try_map(|c| validate::long_text("input.consequences", &c))?;
        let options = match changes.options {
            Patch::Keep => None,
            Patch::Clear => Some(Vec::new()),
            Patch::Set(options) => Some(validate_options(options)?),
        };

        let txn = self.begin_write().await?;
        let (before, access) =
            access::find_authorized::<decision::Entity>(&txn, viewer, id, Action::Edit).await?;
        check_expected(before.version, expected_version)?;
        let options_before = options_of(&txn, id).await?;

        let mut active: decision::ActiveModel = before.clone().into();
        patch::assign(&mut active.title, title);
        context.assign(&mut active.context);
        consequences.assign(&mut active.consequences);
        changes.due_date.assign(&mut active.due_date);
        let after = versioned::save::<decision::Entity>(&txn, id, before.version, active).await?;
        let options_after = match options {
            Some(options) => {
                decision_option::Entity::delete_many()
                    .filter(decision_option::Column::DecisionId.eq(id))
                    .exec(&txn)
                    .await?;
                insert_options(&txn, &after, options).await?
            }
            None => options_before.clone(),
        };
        let changes = audit::diff(
            Some(&snapshot(&before, &options_before)),
            Some(&snapshot(&after, &options_after)),
        );
        self.commit(txn, user.id, [Change::of(Verb::Update, &after, changes)])
            .await?;
        access.admit(after)
    }

    /// Accept or reject a PROPOSED decision (OWNER, EDITOR), recording who and
    /// when; returns it and the decisions it superseded.
    ///
    /// Deciding a decision that is no longer PROPOSED is `CONFLICT`: someone
    /// decided it first. Accepting a decision that supersedes another marks
    /// the other SUPERSEDED; rejecting it releases the other.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn decide_decision(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        verdict: Verdict,
    ) -> ApiResult<(Visible<decision::Model>, Vec<Visible<decision::Model>>)> {
        let user = viewer.require_user()?;
        if !matches!(
            verdict.status,
            DecisionStatus::Accepted | DecisionStatus::Rejected
        ) {
            return Err(ApiError::bad_input(
                "input.status",
                Message::DecisionVerdict,
            ));
        }
        let outcome = validate::optional_text("input.outcome", verdict.outcome.as_deref())?;
        let rationale = validate::optional_text("input.rationale", verdict.rationale.as_deref())?;

        let txn = self.begin_write().await?;
        let (before, access) =
            access::find_authorized::<decision::Entity>(&txn, viewer, id, Action::Edit).await?;
        check_expected(before.version, expected_version)?;
        if before.status != DecisionStatus::Proposed {
            return Err(ApiError::Conflict(Message::DecisionAlreadyDecided));
        }
        let mut active: decision::ActiveModel = before.clone().into();
        active.status = Set(verdict.status);
        active.outcome = Set(outcome);
        active.rationale = Set(rationale);
        active.decided_by_id = Set(Some(user.id));
        active.decided_at = Set(Some(super::now()));
        let after = versioned::save::<decision::Entity>(&txn, id, before.version, active).await?;
        let mut changes = audit::diff(Some(&before), Some(&after));

        let replaced = decision::Entity::find()
            .filter(decision::Column::SupersededById.eq(id))
            .order_by_asc(decision::Column::Id)
            .all(&txn)
            .await?;
        let mut superseded = Vec::new();
        for old in replaced {
            let mut active: decision::ActiveModel = old.clone().into();
            if verdict.status == DecisionStatus::Accepted {
                active.status = Set(DecisionStatus::Superseded);
            } else {
                active.superseded_by_id = Set(None);
            }
            let old_after =
                versioned::save::<decision::Entity>(&txn, old.id, old.version, active).await?;
            changes = with_related(
                changes,
                "supersedes",
                "Decision",
                old.id,
                audit::diff(Some(&old), Some(&old_after)),
            );
            if old_after.status == DecisionStatus::Superseded {
                superseded.push(access.admit(old_after)?);
            }
        }
        self.commit(txn, user.id, [Change::of(Verb::Decide, &after, changes)])
            .await?;
        Ok((access.admit(after)?, superseded))
    }

    /// A decision by id, or `None` when it does not exist or is not visible.
    pub async fn decision(
        &self,
        viewer: &Viewer,
        id: Uuid,
    ) -> ApiResult<Option<Visible<decision::Model>>> {
        access::visible(viewer, decision::Entity::find_by_id(id))?
            .one(&self.db)
            .await
    }
}
