//! `DateTime`: an instant, in RFC 3339 form.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime, Utc};

/// An instant, in UTC on output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub DateTime<Utc>);

fn parse(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(text) => DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|at| at.with_timezone(&Utc)),
        _ => None,
    }
}

/// An instant in RFC 3339 form with its offset, e.g. `2026-03-31T09:00:00Z` or `2026-03-31T18:00:00+09:00`; answers are in UTC.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Instant {
    fn parse(value: Value) -> InputValueResult<Self> {
        parse(&value).map(Instant).ok_or_else(|| {
            InputValueError::custom(
                "expected an RFC 3339 date and time with an offset, e.g. 2026-03-31T09:00:00Z",
            )
        })
    }

    // Checked during validation, so a bad instant is reported with its field path.
    fn is_valid(value: &Value) -> bool {
        parse(value).is_some()
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

impl From<DateTime<Utc>> for Instant {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value)
    }
}

impl From<Instant> for DateTime<Utc> {
    fn from(value: Instant) -> Self {
        value.0
    }
}
