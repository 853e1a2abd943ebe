//! The clock's notifications: a periodic sweep on every replica writes
//! `DEPENDENCY_OVERDUE`, `DECISION_DUE` and `STATUS_UPDATE_DUE`. Each is
//! written once per subject, recipient and day in the program's time zone,
//! however many replicas sweep at once: the notification's unique
//! `sweep_key` lets the first insert win and the others do nothing (see
//! [`notifications::send_once`]).
//!
//! - `DEPENDENCY_OVERDUE`: an undelivered dependency past its need date in
//!   the downstream program's time zone; to the downstream program's OWNERs
//!   and the downstream workstream's lead.
//! - `DECISION_DUE`: a proposed decision due within [`DECISION_DUE_DAYS`]
//!   days (or past due); to the program's OWNERs.
//! - `STATUS_UPDATE_DUE`: an active program without a status update for
//!   [`STATUS_UPDATE_EVERY_DAYS`] days (counted from its start, or its
//!   creation, when it has none); to its OWNERs.
//!
//! Archived programs are left alone.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    decision, dependency,
    enums::{
        Commitment, DecisionStatus, DependencyStatus, NotificationKind, ProgramRole, ProgramStatus,
    },
    program, program_member, status_update, workstream,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{
    Domain,
    notifications::{self, Notice},
    validate,
};
use crate::error::ApiResult;

/// A proposed decision due within this many days (today included) is announced.
pub const DECISION_DUE_DAYS: i64 = 3;
/// Days between status updates before one is due.
pub const STATUS_UPDATE_EVERY_DAYS: i64 = 7;
/// Most ids in one `IN (…)` list.
const CHUNK: usize = 1000;
/// Keys remembered before the memory starts over.
const MEMORY: usize = 100_000;

/// What a replica remembers between sweeps: the keys already written (by it
/// or another replica), so a later sweep the same day skips them without
/// a statement.
#[derive(Debug, Default)]
pub struct SweepMemory {
    day: Option<NaiveDate>,
    keys: HashSet<String>,
}

/// One clock-driven notice, with the day it is for and who may get it.
struct Due {
    notice: Notice,
    day: NaiveDate,
    candidates: Vec<Uuid>,
}

impl Domain {
    /// Write the clock's notifications that are due now; returns how many
    /// notices were looked at (each to one or more recipients).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn sweep_notifications(&self, memory: &mut SweepMemory) -> ApiResult<usize> {
        let programs: Vec<program::Model> = program::Entity::find()
            .filter(program::Column::ArchivedAt.is_null())
            .all(&self.db)
            .await?;
        let todays: HashMap<Uuid, NaiveDate> = programs
            .iter()
            .map(|program| (program.id, self.today_of(program)))
            .collect();
        let Some(&latest) = todays.values().max() else {
            return Ok(0);
        };
        if memory.day != Some(latest) || memory.keys.len() > MEMORY {
            memory.day = Some(latest);
            memory.keys.clear();
        }
        let owners = self.all_owners().await?;
        let owners_of = |program_id: Uuid| owners.get(&program_id).cloned().unwrap_or_default();

        let mut due = Vec::new();
        for dep in self.overdue_dependencies(latest).await? {
            let Some(&today) = todays.get(&dep.program_id) else {
                continue;
            };
            if dep.needed_by.is_none_or(|needed| needed >= today) {
                continue;
            }
            due.push((dep, today));
        }
        let leads = self
            .leads(due.iter().map(|(dep, _)| dep.downstream_id))
            .await?;
        let mut dues = Vec::new();
        for (dep, today) in due {
            dues.push(Due {
                candidates: owners_of(dep.program_id)
                    .into_iter()
                    .chain(leads.get(&dep.downstream_id).copied())
                    .collect(),
                notice: Notice::about(NotificationKind::DependencyOverdue, &dep, None)?,
                day: today,
            });
        }

        let horizon = latest + chrono::Days::new(DECISION_DUE_DAYS as u64);
        let decisions = decision::Entity::find()
            .filter(decision::Column::Status.eq(DecisionStatus::Proposed))
            .filter(decision::Column::DueDate.lt(horizon))
            .all(&self.db)
            .await?;
        for decision in decisions {
            let (Some(&today), Some(due_date)) =
                (todays.get(&decision.program_id), decision.due_date)
            else {
                continue;
            };
            if (due_date - today).num_days() < DECISION_DUE_DAYS {
                dues.push(Due {
                    candidates: owners_of(decision.program_id),
                    notice: Notice::about(NotificationKind::DecisionDue, &decision, None)?,
                    day: today,
                });
            }
        }

        let last_updates = self.last_status_updates().await?;
        for program in programs
            .iter()
            .filter(|program| program.status == ProgramStatus::Active)
        {
            let today = todays[&program.id];
            let zone = validate::zone_of(&program.time_zone);
            let since = match last_updates.get(&program.id) {
                Some(at) => at.with_timezone(&zone).date_naive(),
                None => program
                    .start_date
                    .unwrap_or_else(|| program.created_at.with_timezone(&zone).date_naive()),
            };
            if (today - since).num_days() >= STATUS_UPDATE_EVERY_DAYS {
                dues.push(Due {
                    candidates: owners_of(program.id),
                    notice: Notice::about(NotificationKind::StatusUpdateDue, program, None)?,
                    day: today,
                });
            }
        }

        let looked_at = dues.len();
        for due in dues {
            let keys: Vec<String> = due
                .candidates
                .iter()
                .map(|recipient| due.notice.sweep_key(*recipient, due.day))
                .collect();
            if keys.iter().all(|key| memory.keys.contains(key)) {
                continue;
            }
            let txn = self.begin_write().await?;
            notifications::send_once(&txn, &due.notice, due.day, due.candidates).await?;
            txn.commit().await?;
            memory.keys.extend(keys);
        }
        Ok(looked_at)
    }

    /// Every program's OWNERs.
    async fn all_owners(&self) -> ApiResult<HashMap<Uuid, Vec<Uuid>>> {
        let rows: Vec<(Uuid, Uuid)> = program_member::Entity::find()
            .select_only()
            .column(program_member::Column::ProgramId)
            .column(program_member::Column::UserId)
            .filter(program_member::Column::Role.eq(ProgramRole::Owner))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut owners: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (program_id, user_id) in rows {
            owners.entry(program_id).or_default().push(user_id);
        }
        Ok(owners)
    }

    /// Undelivered dependencies needed before `before`.
    async fn overdue_dependencies(&self, before: NaiveDate) -> ApiResult<Vec<dependency::Model>> {
        Ok(dependency::Entity::find()
            .filter(dependency::Column::Status.ne(DependencyStatus::Resolved))
            .filter(dependency::Column::Commitment.ne(Commitment::Delivered))
            .filter(dependency::Column::NeededBy.lt(before))
            .all(&self.db)
            .await?)
    }

    /// The leads of workstreams `ids` that have one.
    async fn leads(&self, ids: impl Iterator<Item = Uuid>) -> ApiResult<HashMap<Uuid, Uuid>> {
        let ids: Vec<Uuid> = ids.collect::<HashSet<_>>().into_iter().collect();
        let mut leads = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<(Uuid, Option<Uuid>)> = workstream::Entity::find()
                .select_only()
                .column(workstream::Column::Id)
                .column(workstream::Column::LeadId)
                .filter(workstream::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&self.db)
                .await?;
            leads.extend(rows.into_iter().filter_map(|(id, lead)| Some((id, lead?))));
        }
        Ok(leads)
    }

    /// When each program's latest status update was posted.
    async fn last_status_updates(&self) -> ApiResult<HashMap<Uuid, DateTime<Utc>>> {
        let rows: Vec<(Uuid, DateTime<Utc>)> = status_update::Entity::find()
            .select_only()
            .column(status_update::Column::ProgramId)
            .column_as(status_update::Column::CreatedAt.max(), "latest")
            .group_by(status_update::Column::ProgramId)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }
}

/// Sweep every `every` until `stop` changes (or its sender is gone), with a
/// connection outside the request statement counter; each sweep also
/// forgets the idempotency keys past their day and the webhook deliveries
/// finished more than a month ago.
pub async fn run(domain: Domain, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let domain = domain.with_db(crate::events::background_connection(&domain.db));
    let mut memory = SweepMemory::default();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = ticks.tick() => {}
        }
        if let Err(error) = domain.sweep_notifications(&mut memory).await {
            tracing::warn!(error = ?error, "the notification sweep failed; trying again later");
        }
        if let Err(error) = domain.forget_expired_idempotency_keys().await {
            tracing::warn!(error = ?error, "forgetting expired idempotency keys failed");
        }
        if let Err(error) = domain.forget_old_deliveries().await {
            tracing::warn!(error = ?error, "forgetting old webhook deliveries failed");
        }
    }
}
