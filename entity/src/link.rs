//! Links from a row to where its work lives in another tool, stored as JSON
//! in the row's `links` column.

use serde::{Deserialize, Serialize};

use crate::enums::LinkKind;

/// One link: `{"url", "kind", "title"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Where it points (`http` or `https`).
    pub url: String,
    /// The tool it points into.
    pub kind: LinkKind,
    /// What to show for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// The links stored in a `links` column (none if it does not hold a list of links).
pub fn links_of(json: &serde_json::Value) -> Vec<Link> {
    serde_json::from_value(json.clone()).unwrap_or_default()
}

/// The `links` column's value for `links`.
pub fn links_json(links: &[Link]) -> serde_json::Value {
    serde_json::to_value(links).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
}
