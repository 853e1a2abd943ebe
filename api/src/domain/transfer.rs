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
    enums::{DependencyStatus, Health, RiskStatus, WorkstreamStatus},
    link::{Link, links_json, links_of},
    milestone, risk, workstream,
};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Action},
    audit::{self, Change},
    dependencies::{Fields, NewDependency},
    links,
    milestones::{NewMilestone, insert_milestone},
    patch::Patch,
    risks::{NewRisk, insert_risk, level},
    validate::{self, AllInputs},
    versioned,
    workstreams::{NewWorkstream, WorkstreamChanges},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult, RowError};
use crate::i18n::Message;

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

/// The kinds of rows, as the CSV `type` column and the JSON lists name them.
const KINDS: [(&str, &str); 4] = [
    ("workstream", "workstreams"),
    ("milestone", "milestones"),
    ("dependency", "dependencies"),
    ("risk", "risks"),
];

/// The CSV columns, in order, after `type`.
const CSV_COLUMNS: [&str; 23] = [
    "ref",
    "externalId",
    "name",
    "title",
    "description",
    "status",
    "health",
    "startDate",
    "targetDate",
    "progress",
    "startedOn",
    "finishedOn",
    "workstream",
    "dueDate",
    "completedAt",
    "upstream",
    "upstreamId",
    "downstream",
    "neededBy",
    "likelihood",
    "impact",
    "mitigation",
    "links",
];

/// Columns holding numbers, and the one holding JSON.
const NUMBER_COLUMNS: [&str; 3] = ["progress", "likelihood", "impact"];
const JSON_COLUMN: &str = "links";

/// Where a row sits in its file, for its errors.
#[derive(Debug, Clone, Copy)]
struct Place {
    row: usize,
    /// The JSON list it is in (`workstreams`), or none for a CSV row.
    list: Option<&'static str>,
}

impl Place {
    fn error(self, field: &str, message: Message) -> RowError {
        let field = field.strip_prefix("input.").unwrap_or(field);
        RowError {
            row: self.row,
            field: match self.list {
                Some(list) => format!("{list}.{field}"),
                None => field.to_owned(),
            },
            message,
        }
    }

    /// The row errors of a failed step; an error that is not about the row
    /// (the database) is returned as it is.
    fn errors(self, error: ApiError) -> ApiResult<Vec<RowError>> {
        Ok(match error {
            ApiError::BadUserInput { field, message } => vec![self.error(&field, message)],
            ApiError::BadUserInputs(errors) => errors
                .into_iter()
                .map(|(field, message)| self.error(&field, message))
                .collect(),
            ApiError::Conflict(message)
            | ApiError::NotFound(message)
            | ApiError::Forbidden(message) => vec![self.error("row", message)],
            ApiError::DependencyCycle(_) => vec![self.error("upstream", Message::DependencyCycle)],
            other => return Err(other),
        })
    }
}

/// A file's rows, each with its place.
#[derive(Default)]
struct Parsed {
    workstreams: Vec<(Place, WorkstreamRow)>,
    milestones: Vec<(Place, MilestoneRow)>,
    dependencies: Vec<(Place, DependencyRow)>,
    risks: Vec<(Place, RiskRow)>,
    errors: Vec<RowError>,
}

impl Parsed {
    fn rows(&self) -> usize {
        self.workstreams.len() + self.milestones.len() + self.dependencies.len() + self.risks.len()
    }

    /// Add `value`, a row of `kind` at `place`, or the reason it is not one.
    fn add(&mut self, kind: &str, place: Place, value: Value) {
        fn parse<T: serde::de::DeserializeOwned>(
            value: Value,
            place: Place,
            errors: &mut Vec<RowError>,
        ) -> Option<(Place, T)> {
            match serde_json::from_value(value) {
                Ok(row) => Some((place, row)),
                Err(error) => {
                    errors.push(place.error(
                        "row",
                        Message::BadValue {
                            detail: error.to_string(),
                        },
                    ));
                    None
                }
            }
        }
        let errors = &mut self.errors;
        match kind {
            "workstream" => self.workstreams.extend(parse(value, place, errors)),
            "milestone" => self.milestones.extend(parse(value, place, errors)),
            "dependency" => self.dependencies.extend(parse(value, place, errors)),
            "risk" => self.risks.extend(parse(value, place, errors)),
            other => errors.push(place.error(
                "type",
                Message::BadValue {
                    detail: format!(
                        "unknown type {other:?}; expected workstream, milestone, dependency or risk"
                    ),
                },
            )),
        }
    }
}

/// The rows of a JSON file.
fn parse_json(data: &str) -> ApiResult<Parsed> {
    let document: Value = serde_json::from_str(data).map_err(|error| {
        ApiError::bad_input(
            "input.data",
            Message::BadValue {
                detail: error.to_string(),
            },
        )
    })?;
    let Value::Object(mut lists) = document else {
        return Err(ApiError::bad_input(
            "input.data",
            Message::BadValue {
                detail: "expected an object with workstreams, milestones, dependencies and risks"
                    .to_owned(),
            },
        ));
    };
    let mut parsed = Parsed::default();
    for (kind, list) in KINDS {
        let rows = match lists.remove(list) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(rows)) => rows,
            Some(_) => {
                return Err(ApiError::bad_input(
                    format!("input.data.{list}"),
                    Message::BadValue {
                        detail: format!("{list} must be a list"),
                    },
                ));
            }
        };
        for (index, value) in rows.into_iter().enumerate() {
            let place = Place {
                row: index + 1,
                list: Some(list),
            };
            parsed.add(kind, place, value);
        }
    }
    Ok(parsed)
}

/// The rows of a CSV file: a header, then one row per line.
fn parse_csv(data: &str) -> ApiResult<Parsed> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(data.as_bytes());
    let bad = |error: csv::Error| {
        ApiError::bad_input(
            "input.data",
            Message::BadValue {
                detail: error.to_string(),
            },
        )
    };
    let headers = reader.headers().map_err(bad)?.clone();
    let Some(type_column) = headers.iter().position(|name| name == "type") else {
        return Err(ApiError::bad_input(
            "input.data",
            Message::BadValue {
                detail: "the header has no type column".to_owned(),
            },
        ));
    };
    let mut parsed = Parsed::default();
    for record in reader.records() {
        let record = record.map_err(bad)?;
        let place = Place {
            row: record
                .position()
                .map_or(0, |position| position.line() as usize),
            list: None,
        };
        let mut fields = Map::new();
        let mut cell_errors = Vec::new();
        for (column, cell) in headers.iter().zip(record.iter()) {
            if column == "type" || cell.trim().is_empty() {
                continue;
            }
            let value = if NUMBER_COLUMNS.contains(&column) {
                cell.trim()
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::from(cell))
            } else if column == JSON_COLUMN {
                match serde_json::from_str(cell) {
                    Ok(value) => value,
                    Err(error) => {
                        cell_errors.push(place.error(
                            column,
                            Message::BadValue {
                                detail: error.to_string(),
                            },
                        ));
                        continue;
                    }
                }
            } else {
                Value::from(cell)
            };
            fields.insert(column.to_owned(), value);
        }
        parsed.errors.extend(cell_errors);
        let kind = record.get(type_column).unwrap_or("").trim().to_owned();
        parsed.add(&kind, place, Value::Object(fields));
    }
    Ok(parsed)
}

/// `plan` written as `format`.
pub fn write(plan: &Plan, format: Format) -> ApiResult<String> {
    match format {
        Format::Json => serde_json::to_string_pretty(plan)
            .map_err(|error| ApiError::internal(format!("writing a plan: {error}"))),
        Format::Csv => write_csv(plan),
    }
}

fn write_csv(plan: &Plan) -> ApiResult<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed =
        |error: &dyn std::fmt::Display| ApiError::internal(format!("writing CSV: {error}"));
    writer
        .write_record(std::iter::once("type").chain(CSV_COLUMNS))
        .map_err(|e| failed(&e))?;
    let mut rows: Vec<(&str, Value)> = Vec::new();
    let mut push = |kind: &'static str, row: serde_json::Result<Value>| -> ApiResult<()> {
        rows.push((kind, row.map_err(|e| failed(&e))?));
        Ok(())
    };
    for row in &plan.workstreams {
        push("workstream", serde_json::to_value(row))?;
    }
    for row in &plan.milestones {
        push("milestone", serde_json::to_value(row))?;
    }
    for row in &plan.dependencies {
        push("dependency", serde_json::to_value(row))?;
    }
    for row in &plan.risks {
        push("risk", serde_json::to_value(row))?;
    }
    for (kind, value) in rows {
        let cells = CSV_COLUMNS.iter().map(|column| match value.get(*column) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        });
        writer
            .write_record(std::iter::once(kind.to_owned()).chain(cells))
            .map_err(|e| failed(&e))?;
    }
    let bytes = writer.into_inner().map_err(|e| failed(&e))?;
    String::from_utf8(bytes).map_err(|e| failed(&e))
}

/// A workstream's reference in files: its external id, else its id.
fn reference_of(row: &workstream::Model) -> String {
    row.external_id
        .clone()
        .unwrap_or_else(|| row.id.to_string())
}

/// `Set` for a value the row gives, `Clear` for one it leaves out.
fn stated<T>(value: Option<T>) -> Patch<T> {
    value.map_or(Patch::Clear, Patch::Set)
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
        let mut parsed = match format {
            Format::Json => parse_json(data)?,
            Format::Csv => parse_csv(data)?,
        };
        if parsed.rows() > MAX_ROWS {
            return Err(ApiError::bad_input(
                "input.data",
                Message::TooManyItems { max: MAX_ROWS },
            ));
        }
        // Serializable: new dependencies are checked for cycles as they go in.
        let txn = self.begin_serializable().await?;
        access::authorize(&txn, viewer, program_id, Action::Edit).await?;
        let mut import = Import {
            domain: self,
            txn: &txn,
            viewer,
            actor: user.id,
            program_id,
            workstreams: HashMap::new(),
            changes: Vec::new(),
            summary: ImportSummary::default(),
            errors: std::mem::take(&mut parsed.errors),
        };
        import.known_workstreams().await?;
        for (place, row) in std::mem::take(&mut parsed.workstreams) {
            let outcome = import.workstream(row).await;
            import.settle(place, outcome)?;
        }
        for (place, row) in std::mem::take(&mut parsed.milestones) {
            let outcome = import.milestone(row).await;
            import.settle(place, outcome)?;
        }
        for (place, row) in std::mem::take(&mut parsed.dependencies) {
            let outcome = import.dependency(row).await;
            import.settle(place, outcome)?;
        }
        for (place, row) in std::mem::take(&mut parsed.risks) {
            let outcome = import.risk(row).await;
            import.settle(place, outcome)?;
        }
        let Import {
            mut errors,
            changes,
            summary,
            ..
        } = import;
        if !errors.is_empty() {
            errors.sort_by_key(|error| error.row);
            return Err(ApiError::BadRows(errors));
        }
        if dry_run {
            txn.rollback().await?;
        } else {
            audit::commit(txn, user.id, changes).await?;
        }
        Ok(summary)
    }
}

/// Which count a row adds to.
enum Done {
    Created(fn(&mut Counts) -> &mut usize),
    Updated(fn(&mut Counts) -> &mut usize),
}

/// One import under way, inside its transaction.
struct Import<'a> {
    domain: &'a Domain,
    txn: &'a DatabaseTransaction,
    viewer: &'a Viewer,
    actor: Uuid,
    program_id: Uuid,
    /// Workstreams by reference: the program's by external id, then the file's.
    workstreams: HashMap<String, workstream::Model>,
    changes: Vec<Change>,
    summary: ImportSummary,
    errors: Vec<RowError>,
}

impl Import<'_> {
    /// The program's workstreams, by reference (its external id, else its id).
    async fn known_workstreams(&mut self) -> ApiResult<()> {
        let rows = workstream::Entity::find()
            .filter(workstream::Column::ProgramId.eq(self.program_id))
            .all(self.txn)
            .await?;
        for row in rows {
            self.workstreams.insert(reference_of(&row), row);
        }
        Ok(())
    }

    /// Count a row's outcome, or keep its errors.
    fn settle(&mut self, place: Place, outcome: ApiResult<Done>) -> ApiResult<()> {
        match outcome {
            Ok(Done::Created(count)) => *count(&mut self.summary.created) += 1,
            Ok(Done::Updated(count)) => *count(&mut self.summary.updated) += 1,
            Err(error) => self.errors.extend(place.errors(error)?),
        }
        Ok(())
    }

    fn workstream_named(&self, reference: &str, field: &str) -> ApiResult<&workstream::Model> {
        self.workstreams
            .get(reference.trim())
            .ok_or_else(|| ApiError::bad_input(field, Message::UnknownReference))
    }

    async fn workstream(&mut self, row: WorkstreamRow) -> ApiResult<Done> {
        let reference = row.reference.clone().or_else(|| row.external_id.clone());
        let existing = match &row.external_id {
            Some(external_id) => {
                links::find_by_external_id::<workstream::Entity>(
                    self.txn,
                    self.program_id,
                    external_id.trim(),
                )
                .await?
            }
            // A row exported without an external id is referred to by its id.
            None => reference
                .as_deref()
                .and_then(|reference| reference.trim().parse::<Uuid>().ok())
                .and_then(|id| {
                    self.workstreams
                        .get(&id.to_string())
                        .filter(|known| known.id == id)
                        .cloned()
                }),
        };
        if let Some(reference) = &reference
            && self.workstreams.contains_key(reference.trim())
            && existing.as_ref().is_none_or(|row| {
                self.workstreams.get(reference.trim()).map(|known| known.id) != Some(row.id)
            })
        {
            return Err(ApiError::bad_input("ref", Message::DuplicateRow));
        }
        let changes = WorkstreamChanges {
            name: Patch::Set(row.name),
            description: stated(row.description),
            team_id: Patch::Keep,
            lead_id: Patch::Keep,
            status: row.status.into(),
            health: row.health.into(),
            start_date: stated(row.start_date),
            target_date: stated(row.target_date),
            progress: row.progress.into(),
            started_on: row.started_on.into(),
            finished_on: row.finished_on.into(),
            external_id: stated(row.external_id),
            links: Patch::Set(row.links),
        };
        let (saved, done) = match existing {
            Some(before) => {
                let after = self
                    .domain
                    .change_workstream(self.txn, &before, changes)
                    .await?;
                self.changes.push(Change::updated(&before, &after));
                (after, Done::Updated(|c| &mut c.workstreams))
            }
            None => {
                let input = NewWorkstream::from_changes(self.program_id, changes)?;
                let created = self.domain.insert_workstream(self.txn, input).await?;
                self.changes.push(Change::created(&created));
                (created, Done::Created(|c| &mut c.workstreams))
            }
        };
        if let Some(reference) = reference {
            self.workstreams.insert(reference.trim().to_owned(), saved);
        }
        Ok(done)
    }

    async fn milestone(&mut self, row: MilestoneRow) -> ApiResult<Done> {
        let parent = self
            .workstream_named(&row.workstream, "workstream")?
            .clone();
        let existing = milestone::Entity::find()
            .filter(milestone::Column::WorkstreamId.eq(parent.id))
            .filter(milestone::Column::Name.eq(row.name.trim()))
            .one(self.txn)
            .await?;
        match existing {
            Some(before) => {
                let description =
                    validate::optional_text("input.description", row.description.as_deref())?;
                let mut active: milestone::ActiveModel = before.clone().into();
                active.description = Set(description);
                active.due_date = Set(row.due_date);
                active.completed_at = Set(row.completed_at);
                let after = versioned::save::<milestone::Entity>(
                    self.txn,
                    before.id,
                    before.version,
                    active,
                )
                .await?;
                self.changes.push(Change::updated(&before, &after));
                Ok(Done::Updated(|c| &mut c.milestones))
            }
            None => {
                let input = NewMilestone {
                    workstream_id: parent.id,
                    name: row.name,
                    description: row.description,
                    due_date: row.due_date,
                    completed_at: row.completed_at,
                };
                let created = insert_milestone(self.txn, &parent, input).await?;
                self.changes.push(Change::created(&created));
                Ok(Done::Created(|c| &mut c.milestones))
            }
        }
    }

    async fn dependency(&mut self, row: DependencyRow) -> ApiResult<Done> {
        let downstream = self.workstream_named(&row.downstream, "downstream")?.id;
        let upstream = match (&row.upstream, row.upstream_id) {
            (Some(reference), None) => self.workstream_named(reference, "upstream")?.id,
            (None, Some(id)) => id,
            _ => return Err(ApiError::bad_input("upstream", Message::Required)),
        };
        if upstream == downstream {
            return Err(ApiError::bad_input("upstream", Message::DependsOnItself));
        }
        let (description, (external_id, links)) = (
            validate::optional_text("input.description", row.description.as_deref()),
            links::new_fields(row.external_id.as_deref(), Some(row.links)),
        )
            .all()?;
        let mut existing = match &external_id {
            Some(external_id) => {
                links::find_by_external_id::<dependency::Entity>(
                    self.txn,
                    self.program_id,
                    external_id,
                )
                .await?
            }
            None => None,
        };
        if existing.is_none() {
            existing = dependency::Entity::find()
                .filter(dependency::Column::UpstreamId.eq(upstream))
                .filter(dependency::Column::DownstreamId.eq(downstream))
                .one(self.txn)
                .await?;
        }
        match existing {
            Some(before) => {
                if before.upstream_id != upstream || before.downstream_id != downstream {
                    return Err(ApiError::bad_input("externalId", Message::ExternalIdTaken));
                }
                let mut active: dependency::ActiveModel = before.clone().into();
                active.description = Set(description);
                active.needed_by = Set(row.needed_by);
                active.external_id = Set(external_id);
                active.links = Set(links);
                let after = versioned::save::<dependency::Entity>(
                    self.txn,
                    before.id,
                    before.version,
                    active,
                )
                .await?;
                self.changes.push(Change::updated(&before, &after));
                Ok(Done::Updated(|c| &mut c.dependencies))
            }
            None => {
                let input = NewDependency {
                    upstream_id: upstream,
                    downstream_id: downstream,
                    description: None,
                    needed_by: row.needed_by,
                    status: row.status,
                    committed_date: None,
                    committed_by_id: None,
                    external_id: None,
                    links: None,
                };
                let fields = Fields {
                    description,
                    external_id,
                    links,
                };
                let (created, ..) = self
                    .domain
                    .insert_dependency_in(self.txn, self.viewer, self.actor, &input, fields)
                    .await?;
                self.changes.push(Change::created(&created));
                Ok(Done::Created(|c| &mut c.dependencies))
            }
        }
    }

    async fn risk(&mut self, row: RiskRow) -> ApiResult<Done> {
        let workstream_id = match &row.workstream {
            Some(reference) => Some(self.workstream_named(reference, "workstream")?.id),
            None => None,
        };
        let existing = match &row.external_id {
            Some(external_id) => {
                links::find_by_external_id::<risk::Entity>(
                    self.txn,
                    self.program_id,
                    external_id.trim(),
                )
                .await?
            }
            None => None,
        };
        match existing {
            Some(before) => {
                let (title, description, mitigation, likelihood, impact, links) = (
                    validate::name("input.title", &row.title),
                    validate::optional_text("input.description", row.description.as_deref()),
                    validate::optional_text("input.mitigation", row.mitigation.as_deref()),
                    level("input.likelihood", row.likelihood),
                    level("input.impact", row.impact),
                    links::links("input.links", row.links),
                )
                    .all()?;
                let mut active: risk::ActiveModel = before.clone().into();
                active.title = Set(title);
                active.description = Set(description);
                active.mitigation = Set(mitigation);
                active.likelihood = Set(likelihood);
                active.impact = Set(impact);
                active.score = Set(likelihood * impact);
                if let Some(status) = row.status {
                    active.status = Set(status);
                }
                active.workstream_id = Set(workstream_id);
                active.links = Set(links_json(&links));
                let after =
                    versioned::save::<risk::Entity>(self.txn, before.id, before.version, active)
                        .await?;
                self.changes.push(Change::updated(&before, &after));
                Ok(Done::Updated(|c| &mut c.risks))
            }
            None => {
                let input = NewRisk {
                    program_id: self.program_id,
                    title: row.title,
                    description: row.description,
                    likelihood: row.likelihood,
                    impact: row.impact,
                    status: row.status,
                    mitigation: row.mitigation,
                    owner_id: None,
                    workstream_id,
                    dependency_id: None,
                    external_id: row.external_id,
                    links: Some(row.links),
                };
                let (_, change) = insert_risk(self.txn, self.viewer, input).await?;
                self.changes.push(change);
                Ok(Done::Created(|c| &mut c.risks))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_hold_the_same_plan() {
        let plan = Plan {
            workstreams: vec![WorkstreamRow {
                reference: Some("PAY-1".into()),
                external_id: Some("PAY-1".into()),
                name: "Checkout, \"v2\"".into(),
                description: Some("line one\nline two".into()),
                status: Some(WorkstreamStatus::InProgress),
                health: Some(Health::AtRisk),
                start_date: NaiveDate::from_ymd_opt(2026, 1, 5),
                target_date: NaiveDate::from_ymd_opt(2026, 3, 1),
                progress: Some(40),
                started_on: NaiveDate::from_ymd_opt(2026, 1, 6),
                finished_on: None,
                links: vec![Link {
                    url: "https://jira.example.com/browse/PAY-1".into(),
                    kind: entity::enums::LinkKind::Jira,
                    title: Some("Epic".into()),
                }],
            }],
            milestones: vec![MilestoneRow {
                workstream: "PAY-1".into(),
                name: "Beta".into(),
                description: None,
                due_date: NaiveDate::from_ymd_opt(2026, 2, 1),
                completed_at: None,
            }],
            dependencies: vec![],
            risks: vec![RiskRow {
                external_id: None,
                title: "Vendor".into(),
                description: None,
                likelihood: 3,
                impact: 4,
                status: Some(RiskStatus::Open),
                mitigation: Some("Second vendor".into()),
                workstream: Some("PAY-1".into()),
                links: vec![],
            }],
        };
        for format in [Format::Json, Format::Csv] {
            let text = write(&plan, format).unwrap();
            let parsed = match format {
                Format::Json => parse_json(&text).unwrap(),
                Format::Csv => parse_csv(&text).unwrap(),
            };
            assert!(parsed.errors.is_empty(), "{format:?}: {:?}", parsed.errors);
            let back = Plan {
                workstreams: parsed.workstreams.into_iter().map(|(_, r)| r).collect(),
                milestones: parsed.milestones.into_iter().map(|(_, r)| r).collect(),
                dependencies: parsed.dependencies.into_iter().map(|(_, r)| r).collect(),
                risks: parsed.risks.into_iter().map(|(_, r)| r).collect(),
            };
            assert_eq!(back, plan, "{format:?}:\n{text}");
        }
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let csv = "type,ref,name,title,likelihood,impact,progress,links\n\
                   workstream,A,Alpha,,,,10,\n\
                   workstream,B,,,,,,\n\
                   risk,,,Vendor,high,4,,\n\
                   sprint,,,,,,,\n\
                   workstream,C,Gamma,,,,,not json\n";
        let parsed = parse_csv(csv).unwrap();
        let rows: Vec<(usize, &str)> = parsed
            .errors
            .iter()
            .map(|error| (error.row, error.field.as_str()))
            .collect();
        assert_eq!(
            rows,
            [(3, "row"), (4, "row"), (5, "type"), (6, "links")],
            "{:?}",
            parsed.errors
        );
        assert_eq!(parsed.workstreams.len(), 2);
    }
}
