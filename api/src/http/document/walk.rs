//! The one walk over a document: every selected field is visited once per
//! place it is spread, with memoised fragments, and each rule — cost, depth,
//! aliases, directives, fragment spreads, root fields, NUL characters in
//! arguments — reads what the walk found.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::{
    Value, Variables,
    parser::types::{ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet},
};

use super::argument;
use super::types::{FieldType, TypeInfo, TypeMap};
use crate::domain::pagination::DEFAULT_PAGE_SIZE;

/// The page a connection field is assumed to return without `first`/`last`.
const DEFAULT_PAGE: u64 = DEFAULT_PAGE_SIZE as u64;

/// What one subtree measures, and what the rules found in it.
#[derive(Debug, Clone, Default)]
pub(super) struct Stats {
    pub(super) cost: u64,
    pub(super) depth: u64,
    pub(super) aliases: u64,
    pub(super) directives: u64,
    pub(super) spreads: u64,
    /// Fields at this level (through fragments), for the root-field count.
    pub(super) fields: u64,
    /// `__typename` fields at this level (through fragments).
    pub(super) typenames: u64,
    /// The first argument holding a NUL character, by its path.
    pub(super) nul_argument: Option<Arc<str>>,
    /// Whether `__schema` or `__type` is asked for.
    pub(super) introspects: bool,
}

impl Stats {
    fn absorb(&mut self, other: Stats) {
        self.cost = self.cost.saturating_add(other.cost);
        self.depth = self.depth.max(other.depth);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.directives = self.directives.saturating_add(other.directives);
        self.spreads = self.spreads.saturating_add(other.spreads);
        self.fields = self.fields.saturating_add(other.fields);
        self.typenames = self.typenames.saturating_add(other.typenames);
        if self.nul_argument.is_none() {
            self.nul_argument = other.nul_argument;
        }
        self.introspects |= other.introspects;
    }
}

/// One walk over an operation, fragments expanded where they are spread.
pub(super) struct Walker<'a> {
    pub(super) document: &'a ExecutableDocument,
    pub(super) operation: &'a OperationDefinition,
    pub(super) types: &'a TypeMap,
    pub(super) variables: &'a Variables,
    pub(super) assumed_list_size: u64,
    pub(super) max_list_size: u64,
    /// Fragment stats by name and the page of the connection they sit in.
    pub(super) memo: HashMap<(&'a str, Option<u64>), Stats>,
    /// Fragments being walked: a spread of one of them is a cycle.
    pub(super) active: HashSet<&'a str>,
}

impl<'a> Walker<'a> {
    fn page_argument(&self, field: &Field) -> Option<u64> {
        ["first", "last"]
            .into_iter()
            .filter_map(|name| argument(field, name, self.operation, self.variables))
            .filter_map(|value| match value {
                Value::Number(number) => number.as_u64(),
                _ => None,
            })
            .max()
    }

    /// How many ids a list field that fetches by `ids` (`nodes`) is given.
    fn ids_argument(&self, field: &Field) -> Option<u64> {
        match argument(field, "ids", self.operation, self.variables)? {
            Value::List(ids) => u64::try_from(ids.len()).ok(),
            _ => None,
        }
    }

    /// Walk `set`, whose fields belong to `parent`, sitting in a connection
    /// page of `page` items (if any).
    pub(super) fn selection_set(
        &mut self,
        set: &'a SelectionSet,
        parent: Option<&'a TypeInfo>,
        page: Option<u64>,
    ) -> Stats {
        let mut total = Stats::default();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => total.absorb(self.field(&field.node, parent, page)),
                Selection::FragmentSpread(spread) => {
                    let spread = &spread.node;
                    total.directives = total.directives.saturating_add(len(&spread.directives));
                    total.spreads = total.spreads.saturating_add(1);
                    if let Some(stats) = self.fragment(spread.fragment_name.node.as_str(), page) {
                        total.absorb(stats);
                    }
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    total.directives = total.directives.saturating_add(len(&inline.directives));
                    let ty = match &inline.type_condition {
                        Some(condition) => self.types.types.get(condition.node.on.node.as_str()),
                        None => parent,
                    };
                    total.absorb(self.selection_set(&inline.selection_set.node, ty, page));
                }
            }
        }
        total
    }

    fn fragment(&mut self, name: &'a str, page: Option<u64>) -> Option<Stats> {
        if let Some(stats) = self.memo.get(&(name, page)) {
            return Some(stats.clone());
        }
        let fragment = &self.document.fragments.get(name)?.node;
        // A cycle is a validation error reported later; here it just stops.
        if !self.active.insert(name) {
            return None;
        }
        let ty = self
            .types
            .types
            .get(fragment.type_condition.node.on.node.as_str());
        let mut stats = self.selection_set(&fragment.selection_set.node, ty, page);
        stats.directives = stats.directives.saturating_add(len(&fragment.directives));
        self.active.remove(name);
        self.memo.insert((name, page), stats.clone());
        Some(stats)
    }

    fn field(
        &mut self,
        field: &'a Field,
        parent: Option<&'a TypeInfo>,
        page: Option<u64>,
    ) -> Stats {
        let introspection = |name: &str| FieldType {
            name: name.to_owned(),
            list: false,
            first: None,
            weight: 0,
        };
        let name = field.name.node.as_str();
        let field_type = match name {
            "__typename" => None,
            "__schema" => Some(introspection("__Schema")),
            "__type" => Some(introspection("__Type")),
            _ => parent.and_then(|ty| ty.fields.get(name)).cloned(),
        };
        let child_type = field_type
            .as_ref()
            .and_then(|ty| self.types.types.get(&ty.name));
        let child_page = child_type
            .filter(|ty| ty.connection)
            .map(|_| self.page_argument(field).unwrap_or(DEFAULT_PAGE));
        let children = self.selection_set(&field.selection_set.node, child_type, child_page);
        let items = match &field_type {
            Some(ty) if ty.list => page
                .or_else(|| self.page_argument(field))
                .or_else(|| self.ids_argument(field))
                .or_else(|| {
                    ty.first
                        .map(|default| default.unwrap_or(self.max_list_size))
                })
                .unwrap_or(self.assumed_list_size),
            _ => 1,
        };
        let weight = field_type.as_ref().map_or(0, |ty| ty.weight);
        let nul_argument = nul_argument(field).or(children.nul_argument);
        Stats {
            cost: items
                .saturating_mul(children.cost)
                .saturating_add(1)
                .saturating_add(weight),
            depth: children.depth + 1,
            aliases: children
                .aliases
                .saturating_add(u64::from(field.alias.is_some())),
            directives: children.directives.saturating_add(len(&field.directives)),
            spreads: children.spreads,
            fields: 1,
            typenames: u64::from(name == "__typename"),
            nul_argument,
            introspects: children.introspects || matches!(name, "__schema" | "__type"),
        }
    }
}

/// The path (`input.name`) of a literal argument of `field` holding a NUL
/// character; variables are checked on their own.
fn nul_argument(field: &Field) -> Option<Arc<str>> {
    field.arguments.iter().find_map(|(name, value)| {
        let literal = value
            .node
            .clone()
            .into_const_with(|_| Ok::<_, ()>(Value::Null))
            .unwrap_or(Value::Null);
        nul_in(&literal, name.node.as_str()).map(Arc::from)
    })
}

/// The path of the first string in `value` holding a NUL character.
pub(super) fn nul_in(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(text) if text.contains('\0') => Some(path.to_owned()),
        Value::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_in(item, &format!("{path}.{index}"))),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(name, item)| nul_in(item, &format!("{path}.{name}"))),
        _ => None,
    }
}

pub(super) fn len<T>(items: &[T]) -> u64 {
    items.len() as u64
}
