//! A program's plan in and out as a file: workstreams, milestones,
//! dependencies and risks, as JSON or CSV.
//!
//! Rows find each other by reference: a workstream's `ref` (its external id
//! when it has one, else its id); milestones, dependencies and risks name
//! their workstreams by it. An import matches workstreams, dependencies and
//! risks to the program's rows by external id (a dependency without one by
//! its two ends, a milestone by its workstream and name): a match is
//! changed to what the row says, anything else is created. The whole file
//! is one transaction: every bad row is reported at once
//! ([`ApiError::BadRows`]) and nothing is written; `dry_run` checks it all
//! and writes nothing either. Exporting a program and importing the file
//! into an empty program gives the same plan back.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    dependency,
    enums::{DependencyStatus, Health, Priority, RiskStatus, WorkstreamStatus},
    link::{Link, links_of},
    milestone, risk, workstream,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Action},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

mod files;
mod import;

pub use files::write;
use files::{parse_csv, parse_json};
use import::Import;

/// Most rows one file may hold.
pub const MAX_ROWS: usize = 5000;

/// How a plan is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object with a list per kind of row.
    Json,
    /// One CSV table, a `type` column telling the kind of each row.
    Csv,
}

/// A program's plan as a file holds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The workstreams.
    #[serde(default)]
    pub workstreams: Vec<WorkstreamRow>,
    /// Their milestones.
    #[serde(default)]
    pub milestones: Vec<MilestoneRow>,
    /// The dependencies recorded in the program (the downstream end in it).
    #[serde(default)]
    pub dependencies: Vec<DependencyRow>,
    /// The risks.
    #[serde(default)]
    pub risks: Vec<RiskRow>,
}

/// A workstream row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkstreamRow {
    /// How other rows name it (default: its external id).
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Its id in another tool: the program's workstream with it is updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WorkstreamStatus>,
    /// Health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Planned first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    /// Planned last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_date: Option<NaiveDate>,
    /// Percent complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<i32>,
    /// Day work actually started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<NaiveDate>,
    /// Day work actually finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<NaiveDate>,
    /// Links to other tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Priority (an existing workstream keeps its own when absent; `P2` for a new one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Estimated work in person-days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort_days: Option<f64>,
}

/// A milestone row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MilestoneRow {
    /// Its workstream's reference.
    pub workstream: String,
    /// Name (with the workstream, what finds it again).
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Day it is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    /// When it was reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
}

/// A dependency row: `downstream` waits on `upstream` (a workstream of the
/// file or program) or on `upstreamId` (a workstream of another program).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DependencyRow {
    /// Its id in another tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The reference of the workstream that must deliver, in this program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// The id of the workstream that must deliver, in another program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_id: Option<Uuid>,
    /// The reference of the workstream that waits.
    pub downstream: String,
    /// What is needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Day it is needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed_by: Option<NaiveDate>,
    /// Status of a new dependency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DependencyStatus>,
    /// Links to other tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

/// A risk row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RiskRow {
    /// Its id in another tool: the program's risk with it is updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Likelihood, 1–5.
    pub likelihood: i32,
    /// Impact, 1–5.
    pub impact: i32,
    /// Status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RiskStatus>,
    /// The mitigation plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mitigation: Option<String>,
    /// The reference of the workstream it threatens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workstream: Option<String>,
    /// Links to other tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

/// Rows of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Workstreams.
    pub workstreams: usize,
    /// Milestones.
    pub milestones: usize,
    /// Dependencies.
    pub dependencies: usize,
    /// Risks.
    pub risks: usize,
}

/// What an import did (or, dry, would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Rows created.
    pub created: Counts,
    /// Rows matched and changed to what the file says.
    pub updated: Counts,
}

/// A workstream's reference in files: its external id, else its id.
fn reference_of(row: &workstream::Model) -> String {
    row.external_id
        .clone()
        .unwrap_or_else(|| row.id.to_string())
}

impl Domain {
    /// The plan of a program (any member), as a file.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn export_program(
        &self,
        viewer: &Viewer,
        program_id: Uuid,
        format: Format,
    ) -> ApiResult<String> {
        access::authorize(&self.db, viewer, program_id, Action::Read).await?;
        write(&self.plan_file(viewer, program_id).await?, format)
    }

    /// The plan of a program the caller may read.
    async fn plan_file(&self, viewer: &Viewer, program_id: Uuid) -> ApiResult<Plan> {
        let workstreams = workstream::Entity::find()
            .filter(workstream::Column::ProgramId.eq(program_id))
            .order_by_asc(workstream::Column::CreatedAt)
            .order_by_asc(workstream::Column::Id)
            .all(&self.db)
            .await?;
        let references: HashMap<Uuid, String> = workstreams
            .iter()
            .map(|row| (row.id, reference_of(row)))
            .collect();
        let milestones = milestone::Entity::find()
            .filter(milestone::Column::ProgramId.eq(program_id))
            .order_by_asc(milestone::Column::CreatedAt)
            .order_by_asc(milestone::Column::Id)
            .all(&self.db)
            .await?;
        // Only dependencies whose other end the caller can see too.
        let dependencies = access::visible(
            viewer,
            dependency::Entity::find()
                .filter(dependency::Column::ProgramId.eq(program_id))
                .order_by_asc(dependency::Column::CreatedAt)
                .order_by_asc(dependency::Column::Id),
        )?
        .all(&self.db)
        .await?;
        let risks = risk::Entity::find()
            .filter(risk::Column::ProgramId.eq(program_id))
            .order_by_asc(risk::Column::CreatedAt)
            .order_by_asc(risk::Column::Id)
            .all(&self.db)
            .await?;
        let reference = |id: &Uuid| references.get(id).cloned().unwrap_or_default();
        Ok(Plan {
            workstreams: workstreams
                .iter()
                .map(|row| WorkstreamRow {
                    reference: Some(reference_of(row)),
                    external_id: row.external_id.clone(),
                    name: row.name.clone(),
                    description: row.description.clone(),
                    status: Some(row.status),
                    health: Some(row.health),
                    start_date: row.start_date,
                    target_date: row.target_date,
                    progress: Some(row.progress),
                    started_on: row.started_on,
                    finished_on: row.finished_on,
                    links: links_of(&row.links),
                    priority: Some(row.priority),
                    effort_days: row.effort_days,
                })
                .collect(),
            milestones: milestones
                .iter()
                .map(|row| MilestoneRow {
                    workstream: reference(&row.workstream_id),
                    name: row.name.clone(),
                    description: row.description.clone(),
                    due_date: row.due_date,
                    completed_at: row.completed_at,
                })
                .collect(),
            dependencies: dependencies
                .into_iter()
                .map(|visible| {
                    let row = visible.into_inner();
                    let inside = row.upstream_program_id == program_id;
                    DependencyRow {
                        external_id: row.external_id.clone(),
                        upstream: inside.then(|| reference(&row.upstream_id)),
                        upstream_id: (!inside).then_some(row.upstream_id),
                        downstream: reference(&row.downstream_id),
                        description: row.description.clone(),
                        needed_by: row.needed_by,
                        status: Some(row.status),
                        links: links_of(&row.links),
                    }
                })
                .collect(),
            risks: risks
                .iter()
                .map(|row| RiskRow {
                    external_id: row.external_id.clone(),
                    title: row.title.clone(),
                    description: row.description.clone(),
                    likelihood: row.likelihood,
                    impact: row.impact,
                    status: Some(row.status),
                    mitigation: row.mitigation.clone(),
                    workstream: row.workstream_id.as_ref().map(reference),
                    links: links_of(&row.links),
                })
                .collect(),
        })
    }

    /// Bring a plan into a program (OWNER or EDITOR): all of it or nothing.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_program(
        &self,
        viewer: &Viewer,
        program_id: Uuid,
        format: Format,
        data: &str,
        dry_run: bool,
    ) -> ApiResult<ImportSummary> {
        let user = viewer.require_user()?;
        let parsed = match format {
            Format::Json => parse_json(data)?,
            Format::Csv => parse_csv(data)?,
        };
        if parsed.rows.count() > MAX_ROWS {
            return Err(ApiError::bad_input(
                "input.data",
                Message::TooManyItems { max: MAX_ROWS },
            ));
        }
        // Serializable: new dependencies are checked for cycles as they go in.
        let txn = self.begin_serializable().await?;
        access::authorize(&txn, viewer, program_id, Action::Edit).await?;
        let (changes, summary, mut errors) =
            Import::new(self, &txn, viewer, program_id, parsed.errors)
                .run(parsed.rows)
                .await?;
        if !errors.is_empty() {
            errors.sort_by_key(|error| error.row);
            return Err(ApiError::BadRows(errors));
        }
        if dry_run {
            txn.rollback().await?;
        } else {
            self.commit(txn, user.id, changes).await?;
        }
        Ok(summary)
    }
}
