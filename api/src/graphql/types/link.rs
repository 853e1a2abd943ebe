//! `Link`, `LinkKind` and `LinkInput`: where a row's work lives in other tools.

use async_graphql::{Enum, InputObject, SimpleObject};

use crate::graphql::work::Text;

/// The tool a link points into.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::enums::LinkKind")]
pub enum LinkKind {
    /// A Jira issue or epic.
    Jira,
    /// A GitHub issue, pull request or project.
    Github,
    /// A Linear issue or project.
    Linear,
    /// A document.
    Doc,
    /// Anything else.
    Other,
}

/// A link to where the work is tracked in another tool.
#[derive(SimpleObject, Clone, Debug)]
pub struct Link {
    /// Where it points.
    pub url: Text<String>,
    /// The tool it points into.
    pub kind: LinkKind,
    /// What to show for it.
    pub title: Option<Text<String>>,
}

/// A link to give a workstream, dependency or risk.
#[derive(InputObject, Clone, Debug)]
pub struct LinkInput {
    /// An absolute `http` or `https` URL (up to 2,048 characters).
    pub url: String,
    /// The tool it points into.
    pub kind: LinkKind,
    /// What to show for it (up to 200 characters).
    pub title: Option<String>,
}

impl From<LinkInput> for entity::link::Link {
    fn from(input: LinkInput) -> Self {
        Self {
            url: input.url,
            kind: input.kind.into(),
            title: input.title,
        }
    }
}

/// The links stored in a row's `links` column.
pub fn links_of(json: &serde_json::Value) -> Vec<Link> {
    entity::link::links_of(json)
        .into_iter()
        .map(|link| Link {
            url: Text(link.url),
            kind: link.kind.into(),
            title: link.title.map(Text),
        })
        .collect()
}

/// Links given in an input, as the domain takes them.
pub fn links_from(inputs: Vec<LinkInput>) -> Vec<entity::link::Link> {
    inputs.into_iter().map(Into::into).collect()
}
