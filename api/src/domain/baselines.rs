//! Baselines: named snapshots of a program's planned and forecast dates,
//! never changed once captured, that later forecasts are measured against;
//! and the forecast's history from status updates and baselines.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    audit_event::Verb,
    baseline::{self, Entry},
    milestone, program, status_update, workstream,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::Value;
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Action, Visible},
    audit::{self, Change},
    near,
    planning::ProgramPlan,
    validate,
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};

/// What `captureBaseline` accepts.
#[derive(Debug, Clone)]
pub struct NewBaseline {
    /// The program captured.
    pub program_id: Uuid,
    /// What to call the snapshot, such as "Kickoff".
    pub name: String,
}

pub use crate::planning::schedule::milestone_forecast;

/// Days from `from` to `to` (positive when `to` is later); none when either is missing.
pub fn days_between(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Option<i64> {
    Some((to? - from?).num_days())
}

/// One workstream's entry of a baseline and where it stands now.
#[derive(Debug, Clone)]
pub struct WorkstreamVariance {
    /// The workstream's id, kept after it is deleted.
    pub workstream_id: Uuid,
    /// The workstream, while it exists and is visible.
    pub workstream: Option<Visible<workstream::Model>>,
    /// Its target day when the baseline was captured.
    pub baseline_planned_finish: Option<NaiveDate>,
    /// Its target day now.
    pub planned_finish: Option<NaiveDate>,
    /// Its forecast finish when the baseline was captured.
    pub baseline_finish: Option<NaiveDate>,
    /// Its forecast finish now.
    pub forecast_finish: Option<NaiveDate>,
}

/// One milestone's entry of a baseline and where it stands now.
#[derive(Debug, Clone)]
pub struct MilestoneVariance {
    /// The milestone's id, kept after it is deleted.
    pub milestone_id: Uuid,
    /// The milestone, while it exists and is visible.
    pub milestone: Option<Visible<milestone::Model>>,
    /// Its due day when the baseline was captured.
    pub baseline_due_date: Option<NaiveDate>,
    /// Its due day now.
    pub due_date: Option<NaiveDate>,
    /// Its forecast day when the baseline was captured.
    pub baseline_forecast_date: Option<NaiveDate>,
    /// Its forecast day now.
    pub forecast_date: Option<NaiveDate>,
}

/// Where a point of the forecast's history comes from.
#[derive(Debug, Clone)]
pub enum ForecastSource {
    /// A status update, which snapshots the forecast when posted.
    StatusUpdate(Visible<status_update::Model>),
    /// A baseline.
    Baseline(Visible<baseline::Model>),
}

/// The program's forecast finish as it stood at one moment.
#[derive(Debug, Clone)]
pub struct ForecastPoint {
    /// When the forecast was recorded.
    pub at: DateTime<Utc>,
    /// The forecast finish then.
    pub forecast_finish: Option<NaiveDate>,
    /// The program's target day then.
    pub target_date: Option<NaiveDate>,
    /// What recorded it.
    pub source: ForecastSource,
}

impl ForecastPoint {
    /// The id of the status update or baseline that recorded it.
    pub fn source_id(&self) -> Uuid {
        match &self.source {
            ForecastSource::StatusUpdate(update) => update.id,
            ForecastSource::Baseline(baseline) => baseline.id,
        }
    }
}

impl Domain {
    /// Capture a baseline of a program (OWNER, EDITOR): every workstream's
    /// planned and forecast start and finish, every milestone's due and
    /// forecast day, and the program's target and forecast finish.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn capture_baseline(
        &self,
        viewer: &Viewer,
        input: NewBaseline,
    ) -> ApiResult<Visible<baseline::Model>> {
        let user = viewer.require_user()?;
        let name = validate::name("input.name", &input.name)?;

        let txn = self.begin_write().await?;
        let (program, access) = access::find_authorized::<program::Entity>(
            &txn,
            viewer,
            input.program_id,
            Action::Edit,
        )
        .await?;
        let today = self.today_of(&program);
        let (workstreams, schedule) = near::forecast_schedule(&txn, &program, today).await?;
        let milestones = milestone::Entity::find()
            .filter(milestone::Column::ProgramId.eq(program.id))
            .order_by_asc(milestone::Column::CreatedAt)
            .order_by_asc(milestone::Column::Id)
            .all(&txn)
            .await?;
        let workstream_entries: Vec<Entry> = workstreams
            .iter()
            .map(|ws| {
                let forecast = schedule.forecasts.get(&ws.id);
                Entry {
                    id: ws.id,
                    planned_start: ws.start_date,
                    planned_finish: ws.target_date,
                    forecast_start: forecast.map(|(start, _)| *start),
                    forecast_finish: forecast.map(|(_, finish)| *finish),
                }
            })
            .collect();
        let targets: HashMap<Uuid, Option<NaiveDate>> = workstreams
            .iter()
            .map(|ws| (ws.id, ws.target_date))
            .collect();
        let milestone_entries: Vec<Entry> = milestones
            .iter()
            .map(|m| Entry {
                id: m.id,
                planned_start: None,
                planned_finish: m.due_date,
                forecast_start: None,
                forecast_finish: milestone_forecast(
                    m.due_date,
                    targets.get(&m.workstream_id).copied().flatten(),
                    schedule.forecast_finish(m.workstream_id),
                ),
            })
            .collect();
        let captured = baseline::ActiveModel {
            program_id: Set(program.id),
            name: Set(name),
            captured_by_id: Set(Some(user.id)),
            target_date: Set(program.target_date),
            forecast_finish: Set(schedule.finish_date),
            workstreams: Set(to_json(&workstream_entries)?),
            milestones: Set(to_json(&milestone_entries)?),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        // The entries are the snapshot itself; the history names it and says
        // how many it holds rather than copying them.
        let mut changes = audit::diff(None, Some(&captured));
        if let Value::Object(fields) = &mut changes {
            for (key, count) in [
                ("workstreams", workstream_entries.len()),
                ("milestones", milestone_entries.len()),
            ] {
                fields.insert(
                    key.to_owned(),
                    serde_json::json!({ "before": null, "after": count }),
                );
            }
        }
        self.commit(
            txn,
            user.id,
            [Change::of(Verb::Capture, &captured, changes)],
        )
        .await?;
        access.admit(captured)
    }
}

fn to_json(entries: &[Entry]) -> ApiResult<Value> {
    serde_json::to_value(entries).map_err(ApiError::internal)
}

/// The entries stored in one of a baseline's JSON columns.
fn entries(stored: &Value) -> ApiResult<Vec<Entry>> {
    serde_json::from_value(stored.clone()).map_err(ApiError::internal)
}

/// Days the program's forecast finish moved since the baseline (positive when later).
pub fn finish_delta_days(baseline: &baseline::Model, plan: &ProgramPlan) -> Option<i64> {
    days_between(baseline.forecast_finish, plan.schedule.finish_date)
}

/// Every workstream of the baseline, in its order, against the plan today.
pub fn workstream_variance(
    baseline: &baseline::Model,
    plan: &ProgramPlan,
) -> ApiResult<Vec<WorkstreamVariance>> {
    Ok(entries(&baseline.workstreams)?
        .into_iter()
        .map(|entry| {
            let workstream = plan.workstream(entry.id).cloned();
            WorkstreamVariance {
                workstream_id: entry.id,
                planned_finish: workstream.as_ref().and_then(|ws| ws.target_date),
                forecast_finish: workstream
                    .as_ref()
                    .and_then(|ws| plan.schedule.forecast_finish(ws.id)),
                workstream,
                baseline_planned_finish: entry.planned_finish,
                baseline_finish: entry.forecast_finish,
            }
        })
        .collect())
}

/// Every milestone of the baseline, in its order, against the plan today;
/// `milestones` are the program's milestones the caller may see.
pub fn milestone_variance(
    baseline: &baseline::Model,
    plan: &ProgramPlan,
    milestones: Vec<Visible<milestone::Model>>,
) -> ApiResult<Vec<MilestoneVariance>> {
    let mut current: HashMap<Uuid, Visible<milestone::Model>> =
        milestones.into_iter().map(|m| (m.id, m)).collect();
    Ok(entries(&baseline.milestones)?
        .into_iter()
        .map(|entry| {
            let milestone = current.remove(&entry.id);
            let forecast_date = milestone.as_ref().and_then(|m| plan.milestone_forecast(m));
            MilestoneVariance {
                milestone_id: entry.id,
                due_date: milestone.as_ref().and_then(|m| m.due_date),
                milestone,
                forecast_date,
                baseline_due_date: entry.planned_finish,
                baseline_forecast_date: entry.forecast_finish,
            }
        })
        .collect())
}

/// The forecast finish as status updates and baselines recorded it, oldest first.
pub fn forecast_history(
    updates: Vec<Visible<status_update::Model>>,
    baselines: Vec<Visible<baseline::Model>>,
) -> Vec<ForecastPoint> {
    let mut points: Vec<ForecastPoint> = updates
        .into_iter()
        .map(|update| ForecastPoint {
            at: update.created_at,
            forecast_finish: update.forecast_finish,
            target_date: update.target_date,
            source: ForecastSource::StatusUpdate(update),
        })
        .chain(baselines.into_iter().map(|baseline| ForecastPoint {
            at: baseline.created_at,
            forecast_finish: baseline.forecast_finish,
            target_date: baseline.target_date,
            source: ForecastSource::Baseline(baseline),
        }))
        .collect();
    points.sort_by_key(|point| (point.at, point.source_id()));
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_milestone_moves_with_its_late_workstream_and_never_earlier() {
        let due = Some(day("2026-03-10"));
        let target = Some(day("2026-03-31"));
        assert_eq!(
            milestone_forecast(due, target, Some(day("2026-04-05"))),
            Some(day("2026-03-15"))
        );
        assert_eq!(
            milestone_forecast(due, target, Some(day("2026-03-20"))),
            due
        );
        assert_eq!(milestone_forecast(due, None, Some(day("2026-04-05"))), due);
        assert_eq!(milestone_forecast(None, target, target), None);
    }

    #[test]
    fn days_between_counts_forward_and_needs_both_days() {
        let (a, b) = (Some(day("2026-01-01")), Some(day("2026-01-11")));
        assert_eq!(days_between(a, b), Some(10));
        assert_eq!(days_between(b, a), Some(-10));
        assert_eq!(days_between(None, b), None);
    }
}
