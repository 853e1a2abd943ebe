//! `Date`: a calendar day.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

const FORMAT: &str = "%Y-%m-%d";

/// Earliest year a day given to the API may lie in.
pub const MIN_YEAR: i32 = 1900;
/// Latest year a day given to the API may lie in: far enough for any plan,
/// near enough that schedules computed from it stay four-digit years.
pub const MAX_YEAR: i32 = 2999;

/// A calendar day, `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

fn parse(value: &Value) -> Option<NaiveDate> {
    use chrono::Datelike;
    match value {
        Value::String(text) if text.len() == 10 => NaiveDate::parse_from_str(text, FORMAT)
            .ok()
            .filter(|day| (MIN_YEAR..=MAX_YEAR).contains(&day.year())),
        _ => None,
    }
}

/// A calendar day in ISO 8601 form, `YYYY-MM-DD`, e.g. `2026-03-31`.
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        parse(&value).map(Date).ok_or_else(|| {
            InputValueError::custom(format!(
                "expected a calendar day as YYYY-MM-DD, from {MIN_YEAR}-01-01 to {MAX_YEAR}-12-31"
            ))
        })
    }

    // Checked during validation, so a bad day is reported with its field path.
    fn is_valid(value: &Value) -> bool {
        parse(value).is_some()
    }

    fn to_value(&self) -> Value {
        Value::String(iso(self.0))
    }
}

/// `day` as `YYYY-MM-DD`, written directly: a dashboard returns hundreds of
/// days, and `format(FORMAT)` interprets its pattern for each one.
fn iso(day: NaiveDate) -> String {
    use chrono::Datelike;
    use std::fmt::Write;
    let mut text = String::with_capacity(10);
    // Years outside four digits are refused on input; `{:04}` keeps any
    // other one readable.
    let _ = write!(
        text,
        "{:04}-{:02}-{:02}",
        day.year(),
        day.month(),
        day.day()
    );
    text
}

impl From<NaiveDate> for Date {
    fn from(value: NaiveDate) -> Self {
        Self(value)
    }
}

impl From<Date> for NaiveDate {
    fn from(value: Date) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_written_as_the_pattern_writes_them() {
        let first = NaiveDate::from_ymd_opt(MIN_YEAR, 1, 1).unwrap();
        for day in first.iter_days().step_by(97).take(4_000) {
            assert_eq!(iso(day), day.format(FORMAT).to_string());
        }
    }
}
