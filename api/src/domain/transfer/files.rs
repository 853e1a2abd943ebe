//! Plans as files: JSON (a list per kind of row) and CSV (one table, a
//! `type` column), read into rows that know their place (for errors) and
//! written back.

use serde_json::{Map, Value};

use super::{DependencyRow, Format, MilestoneRow, Plan, RiskRow, WorkstreamRow};
use crate::error::{ApiError, ApiResult, RowError};
use crate::i18n::Message;

/// The kinds of rows, as the CSV `type` column and the JSON lists name them.
const KINDS: [(&str, &str); 4] = [
    ("workstream", "workstreams"),
    ("milestone", "milestones"),
    ("dependency", "dependencies"),
    ("risk", "risks"),
];

/// The CSV columns, in order, after `type`.
const CSV_COLUMNS: [&str; 25] = [
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
    "priority",
    "effortDays",
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

/// Columns holding whole numbers, those holding fractions, and the one holding JSON.
const NUMBER_COLUMNS: [&str; 3] = ["progress", "likelihood", "impact"];
const FRACTION_COLUMNS: [&str; 1] = ["effortDays"];
const JSON_COLUMN: &str = "links";

/// Where a row sits in its file, for its errors.
#[derive(Debug, Clone, Copy)]
pub(super) struct Place {
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
    pub(super) fn errors(self, error: ApiError) -> ApiResult<Vec<RowError>> {
        Ok(match error {
            ApiError::BadUserInput { field, message } => vec![self.error(&field, message)],
            ApiError::BadUserInputs(errors) => errors
                .into_iter()
                .map(|(field, message)| self.error(&field, message))
                .collect(),
            // A clash with a concurrent writer ends the import, to be run again.
            ApiError::Conflict(message @ (Message::Contention | Message::AlreadyExists)) => {
                return Err(ApiError::Conflict(message));
            }
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
pub(super) struct Rows {
    pub(super) workstreams: Vec<(Place, WorkstreamRow)>,
    pub(super) milestones: Vec<(Place, MilestoneRow)>,
    pub(super) dependencies: Vec<(Place, DependencyRow)>,
    pub(super) risks: Vec<(Place, RiskRow)>,
}

impl Rows {
    /// How many rows there are.
    pub(super) fn count(&self) -> usize {
        self.workstreams.len() + self.milestones.len() + self.dependencies.len() + self.risks.len()
    }
}

/// A file read: its rows, and the reasons some lines are not rows.
#[derive(Default)]
pub(super) struct Parsed {
    pub(super) rows: Rows,
    pub(super) errors: Vec<RowError>,
}

impl Parsed {
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
            "workstream" => self.rows.workstreams.extend(parse(value, place, errors)),
            "milestone" => self.rows.milestones.extend(parse(value, place, errors)),
            "dependency" => self.rows.dependencies.extend(parse(value, place, errors)),
            "risk" => self.rows.risks.extend(parse(value, place, errors)),
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
pub(super) fn parse_json(data: &str) -> ApiResult<Parsed> {
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
pub(super) fn parse_csv(data: &str) -> ApiResult<Parsed> {
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
            } else if FRACTION_COLUMNS.contains(&column) {
                cell.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|value| value.is_finite())
                    .map_or_else(|| Value::from(cell), Value::from)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::transfer::Format;
    use chrono::NaiveDate;
    use entity::{
        enums::{Health, RiskStatus, WorkstreamStatus},
        link::Link,
    };

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
                priority: Some(entity::enums::Priority::P1),
                effort_days: Some(12.5),
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
                workstreams: parsed
                    .rows
                    .workstreams
                    .into_iter()
                    .map(|(_, r)| r)
                    .collect(),
                milestones: parsed.rows.milestones.into_iter().map(|(_, r)| r).collect(),
                dependencies: parsed
                    .rows
                    .dependencies
                    .into_iter()
                    .map(|(_, r)| r)
                    .collect(),
                risks: parsed.rows.risks.into_iter().map(|(_, r)| r).collect(),
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
        assert_eq!(parsed.rows.workstreams.len(), 2);
    }
}
