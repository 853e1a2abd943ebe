//! Milestones: dated checkpoints of a workstream.

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use entity::{milestone, workstream};
use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

use super::validate::AllInputs;
use super::{
    Domain,
    access::{self, Action, Visible},
    audit::Change,
    pagination::order_fields,
    patch::{self, Patch},
    validate,
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::ApiResult;

/// What `createMilestone` accepts.
#[derive(Debug, Clone)]
pub struct NewMilestone {
    /// The workstream it belongs to.
    pub workstream_id: Uuid,
    /// Display name.
    pub name: String,
    /// Longer description.
    pub description: Option<String>,
    /// Day it is due.
    pub due_date: Option<NaiveDate>,
    /// When it was completed, if it already is.
    pub completed_at: Option<DateTime<Utc>>,
}

/// What `updateMilestone` changes.
#[derive(Debug, Clone, Default)]
pub struct MilestoneChanges {
    /// New name.
    pub name: Patch<String>,
    /// New description.
    pub description: Patch<String>,
    /// New due date.
    pub due_date: Patch<NaiveDate>,
    /// New completion time; clearing it reopens the milestone.
    pub completed_at: Patch<DateTime<Utc>>,
}

/// Filters of a milestone list.
#[derive(Debug, Clone, Default)]
pub struct MilestoneFilter {
    /// Only completed (`true`) or open (`false`) milestones.
    pub completed: Option<bool>,
    /// Only milestones due on or after this day.
    pub due_from: Option<NaiveDate>,
    /// Only milestones due on or before this day.
    pub due_to: Option<NaiveDate>,
    /// Only milestones due before this day.
    pub due_before: Option<NaiveDate>,
    /// Only milestones due after this day.
    pub due_after: Option<NaiveDate>,
    /// Only overdue (open and due before `today`) or only not overdue
    /// milestones, with today in the program's time zone.
    pub overdue: Option<(bool, NaiveDate)>,
}

/// Whether a milestone is open and due before `today`.
pub fn is_overdue(row: &milestone::Model, today: NaiveDate) -> bool {
    row.completed_at.is_none() && row.due_date.is_some_and(|due| due < today)
}

impl MilestoneFilter {
    /// Whether `row` passes every given filter.
    pub fn matches(&self, row: &milestone::Model) -> bool {
        self.overdue
            .is_none_or(|(overdue, today)| is_overdue(row, today) == overdue)
            && self
                .due_before
                .is_none_or(|before| row.due_date.is_some_and(|d| d < before))
            && self
                .due_after
                .is_none_or(|after| row.due_date.is_some_and(|d| d > after))
            && self
                .completed
                .is_none_or(|done| row.completed_at.is_some() == done)
            && self
                .due_from
                .is_none_or(|from| row.due_date.is_some_and(|d| d >= from))
            && self
                .due_to
                .is_none_or(|to| row.due_date.is_some_and(|d| d <= to))
    }
}

order_fields! {
    /// Sortable fields of a list of milestones.
    pub enum MilestoneOrderField for milestone::Model {
        /// Due date (milestones without one last).
        DueDate = "DUE_DATE" => |row| row.due_date,
        /// Display name.
        Name = "NAME" => |row| row.name.clone(),
        /// Creation time.
        CreatedAt = "CREATED_AT" => |row| row.created_at,
    }
}

/// Timestamps are stored to the microsecond on every database.
fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(at)
}

/// Validate and insert a milestone of `parent` (already authorized) inside `txn`.
pub(crate) async fn insert_milestone(
    txn: &sea_orm::DatabaseTransaction,
    parent: &workstream::Model,
    input: NewMilestone,
) -> ApiResult<milestone::Model> {
    let (name, description) = (
        validate::name("input.name", &input.name),
        validate::optional_text("input.description", input.description.as_deref()),
    )
        .all()?;
    Ok(milestone::ActiveModel {
        workstream_id: Set(parent.id),
        program_id: Set(parent.program_id),
        name: Set(name),
        description: Set(description),
        due_date: Set(input.due_date),
        completed_at: Set(input.completed_at.map(to_micros)),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

impl Domain {
    /// Add a milestone to a workstream (OWNER or EDITOR of its program).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_milestone(
        &self,
        viewer: &Viewer,
        input: NewMilestone,
    ) -> ApiResult<Visible<milestone::Model>> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let (parent, access) = access::find_authorized::<workstream::Entity>(
            &txn,
            viewer,
            input.workstream_id,
            Action::Edit,
        )
        .await?;
        let created = insert_milestone(&txn, &parent, input).await?;
        self.commit(txn, user.id, [Change::created(&created)])
            .await?;
        access.admit(created)
    }

    /// Change a milestone (OWNER or EDITOR of its program).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_milestone(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        changes: MilestoneChanges,
    ) -> ApiResult<Visible<milestone::Model>> {
        let user = viewer.require_user()?;
        let name = changes
            .name
            .required_with("input.name", |field, n| validate::name(field, &n))?;
        let description = changes
            .description
            .try_map(|d| validate::long_text("input.description", &d))?;

        let txn = self.begin_write().await?;
        let (before, access) =
            access::find_authorized::<milestone::Entity>(&txn, viewer, id, Action::Edit).await?;
        check_expected(before.version, expected_version)?;
        let mut active: milestone::ActiveModel = before.clone().into();
        patch::assign(&mut active.name, name);
        description.assign(&mut active.description);
        changes.due_date.assign(&mut active.due_date);
        changes
            .completed_at
            .map(to_micros)
            .assign(&mut active.completed_at);
        let after = versioned::save::<milestone::Entity>(&txn, id, before.version, active).await?;
        self.commit(txn, user.id, [Change::updated(&before, &after)])
            .await?;
        access.admit(after)
    }

    /// Delete a milestone (OWNER or EDITOR of its program); returns the deleted row.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_milestone(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> ApiResult<Visible<milestone::Model>> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let (before, access) =
            access::find_authorized::<milestone::Entity>(&txn, viewer, id, Action::Edit).await?;
        check_expected(before.version, expected_version)?;
        versioned::delete::<milestone::Entity>(&txn, id, before.version).await?;
        self.commit(txn, user.id, [Change::deleted(&before)])
            .await?;
        access.admit(before)
    }
}
