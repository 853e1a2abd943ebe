//! Workstreams: the streams of work inside a program, each staffed by a
//! team and led by a person.

use chrono::NaiveDate;
use entity::{
    enums::{Health, Priority, WorkstreamStatus},
    link::Link,
    team, workstream,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QuerySelect, Set,
};
use uuid::Uuid;

use super::validate::AllInputs;
use super::{
    Domain,
    access::{self, Action, Visible},
    audit::Change,
    links::{self, find_by_external_id},
    members::ensure_member,
    pagination::order_fields,
    patch::{self, Patch},
    validate,
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Smallest and largest `progress`.
const PROGRESS_RANGE: (i32, i32) = (0, 100);

/// Largest `effortDays` (about 400 person-years).
pub const MAX_EFFORT_DAYS: i64 = 100_000;

/// What `createWorkstream` accepts.
#[derive(Debug, Clone)]
pub struct NewWorkstream {
    /// The program it belongs to.
    pub program_id: Uuid,
    /// Display name.
    pub name: String,
    /// Longer description.
    pub description: Option<String>,
    /// The team doing the work.
    pub team_id: Option<Uuid>,
    /// The person leading it.
    pub lead_id: Option<Uuid>,
    /// Initial status (default `NOT_STARTED`).
    pub status: Option<WorkstreamStatus>,
    /// Initial health (default `ON_TRACK`).
    pub health: Option<Health>,
    /// Planned first day.
    pub start_date: Option<NaiveDate>,
    /// Planned last day.
    pub target_date: Option<NaiveDate>,
    /// Percent complete, 0–100 (default 0).
    pub progress: Option<i32>,
    /// Day work actually started (default: today when created under way or done).
    pub started_on: Option<NaiveDate>,
    /// Day work actually finished (default: today when created done).
    pub finished_on: Option<NaiveDate>,
    /// Its id in another tool, unique in the program.
    pub external_id: Option<String>,
    /// Where its work is tracked elsewhere.
    pub links: Option<Vec<Link>>,
    /// How urgent it is (default `P2`).
    pub priority: Option<Priority>,
    /// Estimated work in person-days.
    pub effort_days: Option<f64>,
}

impl NewWorkstream {
    /// A new workstream from the fields of an upsert (`name` required).
    pub fn from_changes(program_id: Uuid, changes: WorkstreamChanges) -> ApiResult<Self> {
        let name = changes
            .name
            .required("input.name")?
            .ok_or_else(|| ApiError::bad_input("input.name", Message::Required))?;
        Ok(Self {
            program_id,
            name,
            description: changes.description.apply(None),
            team_id: changes.team_id.apply(None),
            lead_id: changes.lead_id.apply(None),
            status: changes.status.apply(None),
            health: changes.health.apply(None),
            start_date: changes.start_date.apply(None),
            target_date: changes.target_date.apply(None),
            progress: changes.progress.apply(None),
            started_on: changes.started_on.apply(None),
            finished_on: changes.finished_on.apply(None),
            external_id: changes.external_id.apply(None),
            links: changes.links.apply(None),
            priority: changes.priority.apply(None),
            effort_days: changes.effort_days.apply(None),
        })
    }
}

/// What `updateWorkstream` changes.
#[derive(Debug, Clone, Default)]
pub struct WorkstreamChanges {
    /// New name.
    pub name: Patch<String>,
    /// New description.
    pub description: Patch<String>,
    /// New team.
    pub team_id: Patch<Uuid>,
    /// New lead.
    pub lead_id: Patch<Uuid>,
    /// New status.
    pub status: Patch<WorkstreamStatus>,
    /// New health.
    pub health: Patch<Health>,
    /// New start date.
    pub start_date: Patch<NaiveDate>,
    /// New target date.
    pub target_date: Patch<NaiveDate>,
    /// New progress.
    pub progress: Patch<i32>,
    /// New actual start.
    pub started_on: Patch<NaiveDate>,
    /// New actual finish.
    pub finished_on: Patch<NaiveDate>,
    /// New external id; `Clear` removes it.
    pub external_id: Patch<String>,
    /// New links (all of them); `Clear` removes them.
    pub links: Patch<Vec<Link>>,
    /// New priority.
    pub priority: Patch<Priority>,
    /// New effort estimate; `Clear` removes it.
    pub effort_days: Patch<f64>,
}

/// Filters of a workstream list.
#[derive(Debug, Clone, Default)]
pub struct WorkstreamFilter {
    /// Only these statuses.
    pub status: Option<Vec<WorkstreamStatus>>,
    /// Only these healths.
    pub health: Option<Vec<Health>>,
    /// Only workstreams of this team.
    pub team_id: Option<Uuid>,
    /// Only workstreams led by this user.
    pub lead_id: Option<Uuid>,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    /// Only workstreams whose target date is on or after this day.
    pub target_date_from: Option<NaiveDate>,
    /// Only workstreams whose target date is on or before this day.
    pub target_date_to: Option<NaiveDate>,
    /// Only these priorities.
    pub priority: Option<Vec<Priority>>,
}

impl WorkstreamFilter {
    /// Whether `row` passes every given filter.
    pub fn matches(&self, row: &workstream::Model) -> bool {
        let search = self
            .search
            .as_deref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        self.status.as_ref().is_none_or(|s| s.contains(&row.status))
            && self.health.as_ref().is_none_or(|h| h.contains(&row.health))
            && self
                .priority
                .as_ref()
                .is_none_or(|p| p.contains(&row.priority))
            && self.team_id.is_none_or(|id| row.team_id == Some(id))
            && self.lead_id.is_none_or(|id| row.lead_id == Some(id))
            && search.is_none_or(|s| row.name.to_lowercase().contains(&s))
            && self
                .target_date_from
                .is_none_or(|from| row.target_date.is_some_and(|d| d >= from))
            && self
                .target_date_to
                .is_none_or(|to| row.target_date.is_some_and(|d| d <= to))
    }
}

order_fields! {
    /// Sortable fields of a workstream list.
    pub enum WorkstreamOrderField for workstream::Model {
        /// Display name.
        Name = "NAME" => |row| row.name.clone(),
        /// Start date (workstreams without one last).
        StartDate = "START_DATE" => |row| row.start_date,
        /// Target date (workstreams without one last).
        TargetDate = "TARGET_DATE" => |row| row.target_date,
        /// Status, in lifecycle order: not started, in progress, blocked, done, cancelled.
        Status = "STATUS" => |row| status_rank(row.status),
        /// Priority, most urgent first: P0, P1, P2, P3.
        Priority = "PRIORITY" => |row| priority_rank(row.priority),
        /// Creation time.
        CreatedAt = "CREATED_AT" => |row| row.created_at,
    }
}

/// Lifecycle position of a status, for sorting.
fn status_rank(status: WorkstreamStatus) -> i32 {
    match status {
        WorkstreamStatus::NotStarted => 0,
        WorkstreamStatus::InProgress => 1,
        WorkstreamStatus::Blocked => 2,
        WorkstreamStatus::Done => 3,
        WorkstreamStatus::Cancelled => 4,
    }
}

/// Urgency position of a priority, for sorting: 0 for `P0` … 3 for `P3`.
pub fn priority_rank(priority: Priority) -> i32 {
    match priority {
        Priority::P0 => 0,
        Priority::P1 => 1,
        Priority::P2 => 2,
        Priority::P3 => 3,
    }
}

/// `BAD_USER_INPUT` at `input.effortDays` unless 0 to [`MAX_EFFORT_DAYS`].
fn effort(value: f64) -> ApiResult<f64> {
    validate::days("input.effortDays", value, MAX_EFFORT_DAYS)
}

/// `BAD_USER_INPUT` at `field` unless the team exists.
async fn ensure_team(db: &impl ConnectionTrait, field: &str, id: Uuid) -> ApiResult<()> {
    let found = team::Entity::find_by_id(id)
        .select_only()
        .column(team::Column::Id)
        .into_tuple::<Uuid>()
        .one(db)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(ApiError::bad_input(field, Message::UnknownTeam)),
    }
}

fn progress(value: i32) -> ApiResult<i32> {
    validate::range("input.progress", value, PROGRESS_RANGE.0, PROGRESS_RANGE.1)
}

/// The actual start and finish after a change: set to `today` when work
/// first starts or finishes unless given (a jump straight to `DONE` sets
/// both), cleared when it goes back, never after today, never finished
/// before started.
fn actuals(
    status: WorkstreamStatus,
    was: (Option<NaiveDate>, Option<NaiveDate>),
    given: (Patch<NaiveDate>, Patch<NaiveDate>),
    today: NaiveDate,
) -> ApiResult<(Option<NaiveDate>, Option<NaiveDate>)> {
    let (start_given, finish_given) = (given.0.is_given(), given.1.is_given());
    let mut started = given.0.apply(was.0);
    let mut finished = given.1.apply(was.1);
    match status {
        WorkstreamStatus::NotStarted => {
            if !start_given {
                started = None;
            }
            if !finish_given {
                finished = None;
            }
        }
        WorkstreamStatus::InProgress | WorkstreamStatus::Blocked => {
            started = started.or(Some(today));
            if !finish_given {
                finished = None;
            }
        }
        WorkstreamStatus::Done => {
            finished = finished.or(Some(today));
            started = started.or(finished.min(Some(today)));
        }
        WorkstreamStatus::Cancelled => {}
    }
    for (field, day) in [("input.startedOn", started), ("input.finishedOn", finished)] {
        if day.is_some_and(|day| day > today) {
            return Err(ApiError::bad_input(field, Message::InTheFuture));
        }
    }
    validate::date_order("input.finishedOn", started, finished, "startedOn")?;
    Ok((started, finished))
}

/// Today in the time zone of a program, read inside a write.
async fn today_in_program(
    domain: &Domain,
    db: &impl sea_orm::ConnectionTrait,
    program_id: Uuid,
) -> ApiResult<NaiveDate> {
    let program = entity::program::Entity::find_by_id(program_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound(Message::NotFound))?;
    Ok(domain.today_of(&program))
}

impl Domain {
    /// Create a workstream in a program (OWNER or EDITOR).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_workstream(
        &self,
        viewer: &Viewer,
        input: NewWorkstream,
    ) -> ApiResult<Visible<workstream::Model>> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let access = access::authorize(&txn, viewer, input.program_id, Action::Edit).await?;
        let created = self.insert_workstream(&txn, input).await?;
        self.commit(txn, user.id, [Change::created(&created)])
            .await?;
        access.admit(created)
    }

    /// Change a workstream (OWNER or EDITOR of its program).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_workstream(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        changes: WorkstreamChanges,
    ) -> ApiResult<Visible<workstream::Model>> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let (before, access) =
            access::find_authorized::<workstream::Entity>(&txn, viewer, id, Action::Edit).await?;
        check_expected(before.version, expected_version)?;
        let after = self.change_workstream(&txn, &before, changes).await?;
        self.commit(txn, user.id, [Change::updated(&before, &after)])
            .await?;
        access.admit(after)
    }

    /// Create or change the workstream of a program with `external_id`
    /// (OWNER or EDITOR): absent fields of an existing one stay as they are;
    /// a new one needs a name. Returns it and whether it was created.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn upsert_workstream(
        &self,
        viewer: &Viewer,
        program_id: Uuid,
        external_id: String,
        expected_version: Option<i32>,
        mut changes: WorkstreamChanges,
    ) -> ApiResult<(Visible<workstream::Model>, bool)> {
        let user = viewer.require_user()?;
        let external_id = links::external_id("input.externalId", &external_id)?;
        let txn = self.begin_write().await?;
        let access = access::authorize(&txn, viewer, program_id, Action::Edit).await?;
        let existing =
            find_by_external_id::<workstream::Entity>(&txn, program_id, &external_id).await?;
        changes.external_id = Patch::Set(external_id);
        let (row, change, created) = match existing {
            Some(before) => {
                check_expected(before.version, expected_version)?;
                let after = self.change_workstream(&txn, &before, changes).await?;
                let change = Change::updated(&before, &after);
                (after, change, false)
            }
            None => {
                let input = NewWorkstream::from_changes(program_id, changes)?;
                let created = self.insert_workstream(&txn, input).await?;
                let change = Change::created(&created);
                (created, change, true)
            }
        };
        self.commit(txn, user.id, [change]).await?;
        Ok((access.admit(row)?, created))
    }

    /// Validate and insert a new workstream inside `txn` (its program
    /// already authorized): every bad field reported at once.
    pub(crate) async fn insert_workstream(
        &self,
        txn: &DatabaseTransaction,
        input: NewWorkstream,
    ) -> ApiResult<workstream::Model> {
        let (name, description, (), progress, (external_id, links), effort_days) = (
            validate::name("input.name", &input.name),
            validate::optional_text("input.description", input.description.as_deref()),
            validate::date_order(
                "input.targetDate",
                input.start_date,
                input.target_date,
                "startDate",
            ),
            input
                .progress
                .map(progress)
                .transpose()
                .map(|value| value.unwrap_or(0)),
            links::new_fields(input.external_id.as_deref(), input.links),
            input.effort_days.map(effort).transpose(),
        )
            .all()?;
        if let Some(team_id) = input.team_id {
            ensure_team(txn, "input.teamId", team_id).await?;
        }
        if let Some(lead_id) = input.lead_id {
            ensure_member(
                txn,
                input.program_id,
                lead_id,
                "input.leadId",
                Message::NotAMember,
            )
            .await?;
        }
        if let Some(external_id) = &external_id {
            links::ensure_free::<workstream::Entity>(
                txn,
                "input.externalId",
                input.program_id,
                external_id,
                None,
            )
            .await?;
        }
        let status = input.status.unwrap_or(WorkstreamStatus::NotStarted);
        let (started_on, finished_on) = actuals(
            status,
            (None, None),
            (
                Patch::from(input.started_on),
                Patch::from(input.finished_on),
            ),
            today_in_program(self, txn, input.program_id).await?,
        )?;
        workstream::ActiveModel {
            program_id: Set(input.program_id),
            started_on: Set(started_on),
            finished_on: Set(finished_on),
            name: Set(name),
            description: Set(description),
            team_id: Set(input.team_id),
            lead_id: Set(input.lead_id),
            status: Set(status),
            health: Set(input.health.unwrap_or(Health::OnTrack)),
            start_date: Set(input.start_date),
            target_date: Set(input.target_date),
            progress: Set(progress),
            external_id: Set(external_id),
            links: Set(links),
            priority: Set(input.priority.unwrap_or_default()),
            effort_days: Set(effort_days),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(links::taken_on_write("input.externalId"))
    }

    /// Validate and apply `changes` to `before` inside `txn` (already
    /// authorized and its version checked).
    pub(crate) async fn change_workstream(
        &self,
        txn: &DatabaseTransaction,
        before: &workstream::Model,
        changes: WorkstreamChanges,
    ) -> ApiResult<workstream::Model> {
        let (
            name,
            description,
            status,
            health,
            progress,
            (external_id, links),
            priority,
            effort_days,
        ) = (
            changes
                .name
                .required_with("input.name", |field, n| validate::name(field, &n)),
            changes
                .description
                .try_map(|d| validate::long_text("input.description", &d)),
            changes.status.required("input.status"),
            changes.health.required("input.health"),
            changes
                .progress
                .required("input.progress")
                .and_then(|p| p.map(progress).transpose()),
            links::changed_fields(changes.external_id, changes.links),
            changes.priority.required("input.priority"),
            changes.effort_days.try_map(effort),
        )
            .all()?;
        let start_date = changes.start_date.apply(before.start_date);
        let target_date = changes.target_date.apply(before.target_date);
        // Checked on the merged dates, so moving only one side is caught too.
        validate::date_order("input.targetDate", start_date, target_date, "startDate")?;
        if let Patch::Set(team_id) = changes.team_id {
            ensure_team(txn, "input.teamId", team_id).await?;
        }
        if let Patch::Set(lead_id) = changes.lead_id {
            ensure_member(
                txn,
                before.program_id,
                lead_id,
                "input.leadId",
                Message::NotAMember,
            )
            .await?;
        }
        if let Patch::Set(external_id) = &external_id {
            links::ensure_free::<workstream::Entity>(
                txn,
                "input.externalId",
                before.program_id,
                external_id,
                Some(before.id),
            )
            .await?;
        }

        let mut active: workstream::ActiveModel = before.clone().into();
        patch::assign(&mut active.name, name);
        description.assign(&mut active.description);
        changes.team_id.assign(&mut active.team_id);
        changes.lead_id.assign(&mut active.lead_id);
        patch::assign(&mut active.status, status);
        patch::assign(&mut active.health, health);
        active.start_date = Set(start_date);
        active.target_date = Set(target_date);
        patch::assign(&mut active.progress, progress);
        patch::assign(&mut active.priority, priority);
        effort_days.assign(&mut active.effort_days);
        external_id.assign(&mut active.external_id);
        if let Some(links) = links {
            active.links = Set(links);
        }
        let (started_on, finished_on) = actuals(
            status.unwrap_or(before.status),
            (before.started_on, before.finished_on),
            (changes.started_on, changes.finished_on),
            today_in_program(self, txn, before.program_id).await?,
        )?;
        active.started_on = Set(started_on);
        active.finished_on = Set(finished_on);
        versioned::save::<workstream::Entity>(txn, before.id, before.version, active)
            .await
            .map_err(links::taken_on_save("input.externalId"))
    }

    /// Delete a workstream with its milestones and dependencies (OWNER or
    /// EDITOR of its program); returns the deleted row.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_workstream(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> ApiResult<Visible<workstream::Model>> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let (before, access) =
            access::find_authorized::<workstream::Entity>(&txn, viewer, id, Action::Edit).await?;
        check_expected(before.version, expected_version)?;
        versioned::delete::<workstream::Entity>(&txn, id, before.version).await?;
        self.commit(txn, user.id, [Change::deleted(&before)])
            .await?;
        access.admit(before)
    }

    /// A workstream by id, or `None` when it does not exist or its program is not visible.
    pub async fn workstream(
        &self,
        viewer: &Viewer,
        id: Uuid,
    ) -> ApiResult<Option<Visible<workstream::Model>>> {
        access::visible(viewer, workstream::Entity::find_by_id(id))?
            .one(&self.db)
            .await
    }
}
