//! `Date`: a calendar day.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

const FORMAT: &str = "%Y-%m-%d";

/// A calendar day, `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

fn parse(value: &Value) -> Option<NaiveDate> {
    match value {
        Value::String(text) if text.len() == 10 => NaiveDate::parse_from_str(text, FORMAT).ok(),
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
        parse(&value)
            .map(Date)
            .ok_or_else(|| InputValueError::custom("expected a calendar day as YYYY-MM-DD"))
    }

    // Checked during validation, so a bad day is reported with its field path.
    fn is_valid(value: &Value) -> bool {
        parse(value).is_some()
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format(FORMAT).to_string())
    }
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
