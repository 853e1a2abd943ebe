//! Dependencies: a downstream workstream waiting on an upstream one, possibly
//! across programs.
//!
//! A dependency is recorded in its downstream workstream's program and is
//! visible only to callers who can see both ends' programs, so nothing about
//! a program leaks to someone outside it.
//!
//! The file is long because creating a dependency carries its cycle check,
//! the retries when concurrent writes collide, and the step an import takes
//! inside its own transaction.

use chrono::NaiveDate;
use entity::{
    audit_event::Verb,
    dependency,
    enums::{Commitment, DependencyStatus},
    link::Link,
    workstream,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::validate::AllInputs;
use super::{
    Domain,
    access::{self, Access, Action, Visibility, Visible},
    audit::Change,
    commitments::{Move, upstream_today},
    links,
    members::ensure_member,
    pagination::order_fields,
    patch::{self, Patch},
    validate,
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult, Measure};
use crate::i18n::Message;
use crate::planning::cycles::{Budget, CycleSearch, Side, Step};

/// What `createDependency` accepts.
#[derive(Debug, Clone)]
pub struct NewDependency {
    /// The workstream that must deliver.
    pub upstream_id: Uuid,
    /// The workstream that waits.
    pub downstream_id: Uuid,
    /// What is needed.
    pub description: Option<String>,
    /// Day the downstream needs it.
    pub needed_by: Option<NaiveDate>,
    /// Initial status (default `OPEN`).
    pub status: Option<DependencyStatus>,
    /// Day the upstream team promised.
    pub committed_date: Option<NaiveDate>,
    /// Who made the promise.
    pub committed_by_id: Option<Uuid>,
    /// Its id in another tool, unique in the downstream program.
    pub external_id: Option<String>,
    /// Where it is tracked elsewhere.
    pub links: Option<Vec<Link>>,
}

/// What `updateDependency` changes; the two ends are fixed.
#[derive(Debug, Clone, Default)]
pub struct DependencyChanges {
    /// New description.
    pub description: Patch<String>,
    /// New need date.
    pub needed_by: Patch<NaiveDate>,
    /// New status.
    pub status: Patch<DependencyStatus>,
    /// New promised date.
    pub committed_date: Patch<NaiveDate>,
    /// New promiser.
    pub committed_by_id: Patch<Uuid>,
    /// New external id; `Clear` removes it.
    pub external_id: Patch<String>,
    /// New links (all of them); `Clear` removes them.
    pub links: Patch<Vec<Link>>,
}

/// Filters of a dependency list.
#[derive(Debug, Clone, Default)]
pub struct DependencyFilter {
    /// Only these statuses.
    pub status: Option<Vec<DependencyStatus>>,
    /// Only overdue (`true`) or not overdue (`false`) dependencies.
    pub overdue: Option<bool>,
}

impl DependencyFilter {
    /// Whether `row` passes every given filter on day `today`.
    pub fn matches(&self, row: &dependency::Model, today: NaiveDate) -> bool {
        self.status.as_ref().is_none_or(|s| s.contains(&row.status))
            && self
                .overdue
                .is_none_or(|overdue| is_overdue(row, today) == overdue)
    }
}

order_fields! {
    /// Sortable fields of a dependency list.
    pub enum DependencyOrderField for dependency::Model {
        /// Need date (dependencies without one last).
        NeededBy = "NEEDED_BY" => |row| row.needed_by,
        /// Creation time.
        CreatedAt = "CREATED_AT" => |row| row.created_at,
        /// Status, in order: open, at risk, blocked, resolved.
        Status = "STATUS" => |row| status_rank(row.status),
    }
}

/// Position of a status in the order open, at risk, blocked, resolved.
fn status_rank(status: DependencyStatus) -> i32 {
    match status {
        DependencyStatus::Open => 0,
        DependencyStatus::AtRisk => 1,
        DependencyStatus::Blocked => 2,
        DependencyStatus::Resolved => 3,
    }
}

/// Whether the need date has passed (before `today`) and the dependency is not resolved.
pub fn is_overdue(row: &dependency::Model, today: NaiveDate) -> bool {
    row.status != DependencyStatus::Resolved && row.needed_by.is_some_and(|d| d < today)
}

/// Days from the need date to the promised date; positive when the promise
/// lands after the need, `None` when either is missing.
pub fn commitment_gap_days(row: &dependency::Model) -> Option<i64> {
    Some((row.committed_date? - row.needed_by?).num_days())
}

/// The viewer's standing in both ends' programs of a dependency they can
/// see, if they may edit at least one of them (`FORBIDDEN` otherwise).
pub(super) async fn authorize_change(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    row: &dependency::Model,
) -> ApiResult<(Access, Access)> {
    let downstream = access::authorize(db, viewer, row.program_id, Action::Read).await?;
    let upstream = if row.upstream_program_id == row.program_id {
        downstream
    } else {
        access::authorize(db, viewer, row.upstream_program_id, Action::Read).await?
    };
    if downstream.allows(Action::Edit) || upstream.allows(Action::Edit) {
        Ok((downstream, upstream))
    } else {
        Err(ApiError::Forbidden(Message::ProgramRoleTooLow))
    }
}

/// The steps of a refused cycle the viewer may see, in order: a workstream
/// in a program hidden from them is left out, so the refusal tells nothing
/// about it.
async fn visible_steps(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    cycle: Vec<Uuid>,
) -> ApiResult<Vec<Uuid>> {
    let rows = workstream::Entity::find()
        .filter(workstream::Column::Id.is_in(cycle.iter().copied()))
        .all(db)
        .await?;
    let visible: std::collections::HashSet<Uuid> = Visibility::new(viewer.clone())
        .admit_all(db, rows)
        .await?
        .into_iter()
        .map(|ws| ws.id)
        .collect();
    Ok(cycle
        .into_iter()
        .filter(|id| visible.contains(id))
        .collect())
}

/// The validated free-text fields of a new dependency.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    /// Its description.
    pub description: Option<String>,
    /// Its external id.
    pub external_id: Option<String>,
    /// Its links' column value.
    pub links: serde_json::Value,
}

/// How many times `createDependency` runs when concurrent writes collide.
const CONTENTION_ATTEMPTS: u64 = 5;

impl Domain {
    /// Record that `downstream` waits on `upstream`: EDIT on the downstream's
    /// program and READ on the upstream's.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_dependency(
        &self,
        viewer: &Viewer,
        input: NewDependency,
    ) -> ApiResult<Visible<dependency::Model>> {
        let user = viewer.require_user()?;
        if input.upstream_id == input.downstream_id {
            return Err(ApiError::bad_input(
                "input.upstreamId",
                Message::DependsOnItself,
            ));
        }
        let (description, (external_id, links)) = (
            validate::optional_text("input.description", input.description.as_deref()),
            links::new_fields(input.external_id.as_deref(), input.links.clone()),
        )
            .all()?;
        let fields = Fields {
            description,
            external_id,
            links,
        };
        // A concurrent dependency write can make this one fail PostgreSQL's
        // serializable check (see `planning::refuse_cycle`): run it again.
        let mut attempt = 1;
        loop {
            match self
                .insert_dependency(viewer, user.id, &input, fields.clone())
                .await
            {
                Err(ApiError::Conflict(Message::Contention)) if attempt < CONTENTION_ATTEMPTS => {
                    tokio::time::sleep(std::time::Duration::from_millis(5 * attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One attempt at `create_dependency`, in one transaction.
    async fn insert_dependency(
        &self,
        viewer: &Viewer,
        actor: Uuid,
        input: &NewDependency,
        fields: Fields,
    ) -> ApiResult<Visible<dependency::Model>> {
        let txn = self.begin_serializable().await?;
        let (created, downstream_access, upstream_access) = self
            .insert_dependency_in(&txn, viewer, actor, input, fields)
            .await?;
        self.commit(txn, actor, [Change::created(&created)]).await?;
        downstream_access.admit_between(&upstream_access, created)
    }

    /// Record a new dependency inside `txn` by the rules of
    /// `create_dependency` (authorization, commitment, pair, cycle); the
    /// caller records its history and commits.
    pub(crate) async fn insert_dependency_in(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        viewer: &Viewer,
        actor: Uuid,
        input: &NewDependency,
        fields: Fields,
    ) -> ApiResult<(dependency::Model, Access, Access)> {
        let (downstream, downstream_access) = access::find_authorized::<workstream::Entity>(
            txn,
            viewer,
            input.downstream_id,
            Action::Edit,
        )
        .await?;
        // An upstream in a program the caller cannot see is reported exactly
        // like one that does not exist.
        let (upstream, upstream_access) = access::find_authorized::<workstream::Entity>(
            txn,
            viewer,
            input.upstream_id,
            Action::Read,
        )
        .await?;
        if let Some(external_id) = &fields.external_id {
            links::ensure_free::<dependency::Entity>(
                txn,
                "input.externalId",
                downstream.program_id,
                external_id,
                None,
            )
            .await?;
        }
        if let Some(committed_by) = input.committed_by_id {
            ensure_member(
                txn,
                upstream.program_id,
                committed_by,
                "input.committedById",
                Message::NotAnUpstreamMember,
            )
            .await?;
        }
        let status = input.status.unwrap_or(DependencyStatus::Open);
        // A delivery or a promise is the upstream team's to record; anything
        // else asks them.
        let step = match (status, input.committed_date, input.committed_by_id) {
            (DependencyStatus::Resolved, _, _) => Move::Deliver {
                on: upstream_today(self, txn, upstream.program_id).await?,
            },
            (_, Some(date), by) => Move::Commit {
                date,
                note: None,
                by: by.unwrap_or(actor),
            },
            (_, None, Some(_)) => {
                return Err(ApiError::bad_input(
                    "input.committedDate",
                    Message::Required,
                ));
            }
            (_, None, None) => Move::Request,
        };
        step.authorize(&downstream_access, &upstream_access)?;
        if pair_exists(txn, upstream.id, downstream.id).await? {
            return Err(ApiError::Conflict(Message::DependencyExists));
        }
        let budget = self.limits.cycle_search;
        match refuse_cycle(txn, upstream.id, downstream.id, budget).await {
            Err(ApiError::DependencyCycle(cycle)) => {
                return Err(ApiError::DependencyCycle(
                    visible_steps(txn, viewer, cycle).await?,
                ));
            }
            other => other?,
        }
        let mut active = dependency::ActiveModel {
            program_id: Set(downstream.program_id),
            upstream_id: Set(upstream.id),
            downstream_id: Set(downstream.id),
            upstream_program_id: Set(upstream.program_id),
            description: Set(fields.description),
            needed_by: Set(input.needed_by),
            status: Set(status),
            external_id: Set(fields.external_id),
            links: Set(fields.links),
            ..Default::default()
        };
        step.apply(&mut active);
        let created = active
            .insert(txn)
            .await
            .map_err(|e| match ApiError::from(e) {
                ApiError::Conflict(Message::AlreadyExists) => {
                    ApiError::Conflict(Message::DependencyExists)
                }
                other => other,
            })?;
        step.announce(txn, &created, actor).await?;
        Ok((created, downstream_access, upstream_access))
    }

    /// Change a dependency: READ on both ends' programs and EDIT on either.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_dependency(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        changes: DependencyChanges,
    ) -> ApiResult<Visible<dependency::Model>> {
        let user = viewer.require_user()?;
        let (description, status, (external_id, links)) = (
            changes
                .description
                .try_map(|d| validate::long_text("input.description", &d)),
            changes.status.required("input.status"),
            links::changed_fields(changes.external_id, changes.links),
        )
            .all()?;

        let txn = self.begin_write().await?;
        let before = access::find_visible::<dependency::Entity>(&txn, viewer, id)
            .await?
            .into_inner();
        let (downstream_access, upstream_access) = authorize_change(&txn, viewer, &before).await?;
        check_expected(before.version, expected_version)?;
        if let Patch::Set(external_id) = &external_id {
            links::ensure_free::<dependency::Entity>(
                &txn,
                "input.externalId",
                before.program_id,
                external_id,
                Some(before.id),
            )
            .await?;
        }
        if let Patch::Set(committed_by) = changes.committed_by_id {
            ensure_member(
                &txn,
                before.upstream_program_id,
                committed_by,
                "input.committedById",
                Message::NotAnUpstreamMember,
            )
            .await?;
        }
        let step = self
            .commitment_move(
                &txn,
                &before,
                status,
                (&changes.committed_date, &changes.committed_by_id),
                user.id,
            )
            .await?;
        if let Some(step) = &step {
            step.authorize(&downstream_access, &upstream_access)?;
        }
        let mut active: dependency::ActiveModel = before.clone().into();
        description.assign(&mut active.description);
        changes.needed_by.assign(&mut active.needed_by);
        patch::assign(&mut active.status, status);
        external_id.assign(&mut active.external_id);
        if let Some(links) = links {
            active.links = Set(links);
        }
        if let Some(step) = &step {
            step.apply(&mut active);
        }
        let after = versioned::save::<dependency::Entity>(&txn, id, before.version, active)
            .await
            .map_err(links::taken_on_save("input.externalId"))?;
        let verb = match &step {
            Some(step) => {
                step.announce(&txn, &after, user.id).await?;
                step.verb()
            }
            None => Verb::Update,
        };
        let change = Change::updated(&before, &after).as_verb(verb);
        self.commit(txn, user.id, [change]).await?;
        downstream_access.admit_between(&upstream_access, after)
    }

    /// What an `updateDependency` does to the commitment, if anything: a
    /// status of RESOLVED delivers, another status on a delivered
    /// dependency asks again, a promised date commits (none asks again).
    async fn commitment_move(
        &self,
        db: &impl ConnectionTrait,
        before: &dependency::Model,
        status: Option<DependencyStatus>,
        (committed_date, committed_by_id): (&Patch<NaiveDate>, &Patch<Uuid>),
        actor: Uuid,
    ) -> ApiResult<Option<Move>> {
        let delivered = before.commitment == Commitment::Delivered;
        let promise = committed_date.is_given() || committed_by_id.is_given();
        let by_status = match status {
            Some(DependencyStatus::Resolved) if !delivered => Some(Move::Deliver {
                on: upstream_today(self, db, before.upstream_program_id).await?,
            }),
            Some(status) if delivered && status != DependencyStatus::Resolved => {
                Some(Move::Request)
            }
            _ => None,
        };
        if by_status.is_some() || !promise {
            if by_status.is_some() && promise {
                return Err(ApiError::bad_input(
                    "input.committedDate",
                    Message::OneAnswerAtATime,
                ));
            }
            return Ok(by_status);
        }
        if delivered {
            return Err(ApiError::bad_input(
                "input.committedDate",
                Message::AlreadyDelivered,
            ));
        }
        let date_given = committed_date.is_given();
        let by = match *committed_by_id {
            Patch::Set(by) => by,
            Patch::Keep if !date_given => before.committed_by_id.unwrap_or(actor),
            _ => actor,
        };
        Ok(Some(
            match committed_date.clone().apply(before.committed_date) {
                Some(date) => Move::Commit {
                    date,
                    note: before.commitment_note.clone(),
                    by,
                },
                None if matches!(committed_by_id, Patch::Set(_)) => {
                    return Err(ApiError::bad_input(
                        "input.committedDate",
                        Message::Required,
                    ));
                }
                None => Move::Request,
            },
        ))
    }

    /// Delete a dependency (READ on both ends' programs, EDIT on either);
    /// returns the deleted row.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_dependency(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> ApiResult<Visible<dependency::Model>> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let before = access::find_visible::<dependency::Entity>(&txn, viewer, id)
            .await?
            .into_inner();
        let (downstream_access, upstream_access) = authorize_change(&txn, viewer, &before).await?;
        check_expected(before.version, expected_version)?;
        versioned::delete::<dependency::Entity>(&txn, id, before.version).await?;
        self.commit(txn, user.id, [Change::deleted(&before)])
            .await?;
        downstream_access.admit_between(&upstream_access, before)
    }

    /// A dependency by id, or `None` when it does not exist or either end's
    /// program is not visible.
    pub async fn dependency(
        &self,
        viewer: &Viewer,
        id: Uuid,
    ) -> ApiResult<Option<Visible<dependency::Model>>> {
        access::visible(viewer, dependency::Entity::find_by_id(id))?
            .one(&self.db)
            .await
    }
}

/// Refuse `upstream → downstream` if it would close a cycle, searching from
/// both ends level by level (never the whole graph) within `budget`.
///
/// Call inside the write transaction that inserts the edge. Two requests
/// each closing half of a cycle cannot both pass: SQLite serialises writers
/// (`BEGIN IMMEDIATE`), and on PostgreSQL the transaction is serializable
/// (see [`Domain::begin_serializable`]), so one of them fails and is run
/// again — without any lock shared by unrelated writers.
pub async fn refuse_cycle(
    db: &impl ConnectionTrait,
    upstream: Uuid,
    downstream: Uuid,
    budget: Budget,
) -> ApiResult<()> {
    let (mut search, mut step) = CycleSearch::new(upstream, downstream, budget);
    let mut steps = 0u64;
    loop {
        match step {
            Step::Clear => return Ok(()),
            Step::Cycle(cycle) => return Err(ApiError::DependencyCycle(cycle)),
            Step::TooLarge => {
                return Err(ApiError::QueryTooComplex {
                    measure: Measure::CycleSearch,
                    cost: steps,
                    limit: budget.steps as u64,
                });
            }
            Step::Expand(side, frontier) => {
                steps += 1;
                let known = match side {
                    Side::Downstream => dependency::Column::UpstreamId,
                    Side::Upstream => dependency::Column::DownstreamId,
                };
                let edges: Vec<(Uuid, Uuid)> = dependency::Entity::find()
                    .select_only()
                    .column(dependency::Column::UpstreamId)
                    .column(dependency::Column::DownstreamId)
                    .filter(known.is_in(frontier))
                    .into_tuple()
                    .all(db)
                    .await?;
                step = search.advance(&edges);
            }
        }
    }
}

/// Whether `downstream` already waits on `upstream`.
async fn pair_exists(
    db: &impl ConnectionTrait,
    upstream: Uuid,
    downstream: Uuid,
) -> ApiResult<bool> {
    Ok(dependency::Entity::find()
        .filter(dependency::Column::UpstreamId.eq(upstream))
        .filter(dependency::Column::DownstreamId.eq(downstream))
        .count(db)
        .await?
        > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        needed_by: Option<&str>,
        committed: Option<&str>,
        status: DependencyStatus,
    ) -> dependency::Model {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        let now = chrono::Utc::now();
        dependency::Model {
            id: Uuid::now_v7(),
            program_id: Uuid::now_v7(),
            upstream_id: Uuid::now_v7(),
            downstream_id: Uuid::now_v7(),
            upstream_program_id: Uuid::now_v7(),
            description: None,
            needed_by: needed_by.map(day),
            status,
            committed_date: committed.map(day),
            committed_by_id: None,
            commitment: Commitment::Requested,
            commitment_note: None,
            decline_reason: None,
            delivered_on: None,
            version: 1,
            created_at: now,
            updated_at: now,
            external_id: None,
            links: serde_json::json!([]),
        }
    }

    #[test]
    fn the_commitment_gap_is_positive_when_the_promise_lands_late() {
        let late = row(
            Some("2026-03-01"),
            Some("2026-03-11"),
            DependencyStatus::Open,
        );
        assert_eq!(commitment_gap_days(&late), Some(10));
        let early = row(
            Some("2026-03-01"),
            Some("2026-02-27"),
            DependencyStatus::Open,
        );
        assert_eq!(commitment_gap_days(&early), Some(-2));
        let unknown = row(Some("2026-03-01"), None, DependencyStatus::Open);
        assert_eq!(commitment_gap_days(&unknown), None);
    }

    #[test]
    fn only_unresolved_dependencies_past_their_need_date_are_overdue() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        assert!(is_overdue(
            &row(Some("2026-03-09"), None, DependencyStatus::Open),
            today
        ));
        assert!(!is_overdue(
            &row(Some("2026-03-10"), None, DependencyStatus::Open),
            today
        ));
        assert!(!is_overdue(
            &row(Some("2026-03-09"), None, DependencyStatus::Resolved),
            today
        ));
        assert!(!is_overdue(
            &row(None, None, DependencyStatus::Blocked),
            today
        ));
    }
}
