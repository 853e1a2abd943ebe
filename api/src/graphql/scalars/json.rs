//! `JSON`: any JSON value.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub struct Json(pub serde_json::Value);

/// Any JSON value (RFC 8259), e.g. a history entry's changes: `{"name": {"before": "A", "after": "B"}}`.
#[Scalar(
    name = "JSON",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc8259"
)]
impl ScalarType for Json {
    fn parse(value: Value) -> InputValueResult<Self> {
        value
            .into_json()
            .map(Json)
            .map_err(|_| InputValueError::custom("expected a JSON value"))
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or(Value::Null)
    }
}
