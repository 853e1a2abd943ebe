//! What a GraphQL document asks of the server, judged on the parsed
//! document before anything runs, over HTTP and WebSocket alike.
//!
//! Before parsing, [`scan`] refuses documents too long or nested too deep
//! for the parser. After, one walk ([`walk`]) visits every selected field
//! and each rule reads what it found:
//!
//! - every selected field costs 1, plus the weight of the work behind it for
//!   the few fields that compute more than they return
//!   ([`types::FIELD_WEIGHTS`]); a connection field (`…Connection` type)
//!   multiplies the cost of its `nodes` and `edges` by its page (`first` or
//!   `last`, 50 when absent); a list field with a `first` argument
//!   multiplies its items by `first` (its default, or the largest list size,
//!   when absent), which is also the most it returns; any other list
//!   (introspection, a decision's options) by an assumed list size;
//! - depth, aliases, directives, fragment spreads and root fields are
//!   counted after fragment expansion, so a fragment spread a hundred times
//!   counts a hundred times, in time linear in the document (fragments are
//!   memoised);
//! - a NUL character in any argument or variable is refused (PostgreSQL
//!   cannot store one), with the path of the value at fault.

pub mod scan;
mod types;
mod walk;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::{
    Value, Variables,
    parser::types::{DocumentOperations, ExecutableDocument, Field, OperationDefinition},
};

pub use types::{FIELD_WEIGHTS, TypeMap};

use crate::error::{ApiError, Measure};

/// Limits on what one document may ask for.
#[derive(Debug, Clone)]
pub struct CostLimits {
    /// Highest estimated cost (fields resolved, lists multiplied out).
    pub max_complexity: u64,
    /// Deepest field nesting.
    pub max_depth: u64,
    /// Most aliased fields, counted after fragment expansion.
    pub max_aliases: u64,
    /// Most fields at the root of the operation.
    pub max_root_fields: u64,
    /// Most directives, counted after fragment expansion.
    pub max_directives: u64,
    /// Most fragment spreads, counted after expansion.
    pub max_fragments: u64,
    /// Items assumed for a list field without a `first` argument.
    pub assumed_list_size: u64,
    /// Most items a list field with a `first` argument returns.
    pub max_list_size: u64,
}

/// Documents parsed before, by their text: clients send the same few
/// documents again and again, and parsing is a good share of a small
/// request's work. Shared by every caller and bounded by the text's bytes
/// (the least used go first); a document that fails to parse is not kept.
#[derive(Clone)]
pub struct Parsed(moka::sync::Cache<String, Arc<ExecutableDocument>>);

impl Parsed {
    /// Keep documents up to `max_bytes` of text in all.
    pub fn new(max_bytes: u64) -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|text: &String, _| u32::try_from(text.len()).unwrap_or(u32::MAX))
                .build(),
        )
    }

    /// `query` parsed, from what was kept when the same text came before.
    pub fn parse(&self, query: &str) -> async_graphql::parser::Result<ExecutableDocument> {
        if let Some(document) = self.0.get(query) {
            return Ok(ExecutableDocument::clone(&document));
        }
        let document = async_graphql::parser::parse_query(query)?;
        self.0.insert(query.to_owned(), Arc::new(document.clone()));
        Ok(document)
    }
}

/// What a document measures, one number per limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measures {
    /// Estimated cost.
    pub complexity: u64,
    /// Deepest field nesting.
    pub depth: u64,
    /// Aliased fields.
    pub aliases: u64,
    /// Fields at the root.
    pub root_fields: u64,
    /// Directives.
    pub directives: u64,
    /// Fragment spreads.
    pub fragments: u64,
}

impl CostLimits {
    /// The first limit `measures` exceeds, as the `QUERY_TOO_COMPLEX` refusal.
    pub fn check(&self, measures: &Measures) -> Result<(), ApiError> {
        let checks = [
            (
                Measure::Complexity,
                measures.complexity,
                self.max_complexity,
            ),
            (Measure::Depth, measures.depth, self.max_depth),
            (Measure::Aliases, measures.aliases, self.max_aliases),
            (
                Measure::RootFields,
                measures.root_fields,
                self.max_root_fields,
            ),
            (
                Measure::Directives,
                measures.directives,
                self.max_directives,
            ),
            (Measure::Fragments, measures.fragments, self.max_fragments),
        ];
        match checks.into_iter().find(|(_, value, limit)| value > limit) {
            Some((measure, cost, limit)) => Err(ApiError::QueryTooComplex {
                measure,
                cost,
                limit,
            }),
            None => Ok(()),
        }
    }
}

/// What the walk over one operation found.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// One number per limit.
    pub measures: Measures,
    /// The kind of operation.
    pub kind: async_graphql::parser::types::OperationType,
    /// Root fields other than `__typename`.
    pub root_fields: u64,
    /// The path of the first argument or variable holding a NUL character.
    pub nul_argument: Option<String>,
    /// Whether the operation asks for `__schema` or `__type`.
    pub introspects: bool,
}

/// The schema's types and the limits: everything needed to judge a document.
#[derive(Debug, Clone)]
pub struct DocumentPolicy {
    /// The schema's output types.
    pub types: TypeMap,
    /// The configured limits.
    pub limits: CostLimits,
}

impl DocumentPolicy {
    /// The limits of `config`, measured on Trestle's schema.
    pub async fn from_config(config: &crate::config::ServeConfig) -> Result<Self, String> {
        Ok(Self {
            types: TypeMap::of_schema().await?,
            limits: CostLimits {
                max_complexity: config.max_query_complexity,
                max_depth: config.max_query_depth as u64,
                max_aliases: config.max_aliases,
                max_root_fields: config.max_root_fields,
                max_directives: config.max_directives,
                max_fragments: config.max_fragments,
                assumed_list_size: config.assumed_list_size,
                max_list_size: config.max_list_size as u64,
            },
        })
    }

    /// Walk the operation `operation_name` of `document` once; `None` when
    /// the operation cannot be chosen (the executor reports that).
    pub fn analyse(
        &self,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> Option<Analysis> {
        let operation = select_operation(document, operation_name)?;
        let mut walker = walk::Walker {
            document,
            operation,
            types: &self.types,
            variables,
            assumed_list_size: self.limits.assumed_list_size,
            max_list_size: self.limits.max_list_size,
            memo: HashMap::new(),
            active: HashSet::new(),
        };
        let root = self.types.root(operation.ty);
        let stats = walker.selection_set(&operation.selection_set.node, root, None);
        let operation_directives = walk::len(&operation.directives).saturating_add(
            operation
                .variable_definitions
                .iter()
                .map(|def| walk::len(&def.node.directives))
                .sum(),
        );
        let nul_in_variables = variables
            .iter()
            .find_map(|(name, value)| walk::nul_in(value, name.as_str()));
        Some(Analysis {
            measures: Measures {
                complexity: stats.cost,
                depth: stats.depth,
                aliases: stats.aliases,
                root_fields: stats.fields,
                directives: stats.directives.saturating_add(operation_directives),
                fragments: stats.spreads,
            },
            kind: operation.ty,
            root_fields: stats.fields.saturating_sub(stats.typenames),
            nul_argument: nul_in_variables.or(stats.nul_argument.map(|path| path.to_string())),
            introspects: stats.introspects,
        })
    }
}

/// The operation a request runs, as the executor will choose it.
pub fn select_operation<'d>(
    document: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        _ => None,
    }
}

/// Resolve an argument of `field` against the request's variables and the
/// operation's variable defaults.
fn argument(
    field: &Field,
    name: &str,
    operation: &OperationDefinition,
    variables: &Variables,
) -> Option<Value> {
    let value = field.get_argument(name)?.node.clone();
    value
        .into_const_with(|variable| {
            variables
                .get(&variable)
                .cloned()
                .or_else(|| {
                    operation
                        .variable_definitions
                        .iter()
                        .find(|def| def.node.name.node == variable)
                        .and_then(|def| def.node.default_value.as_ref())
                        .map(|value| value.node.clone())
                })
                .ok_or(())
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use serde_json::json;

    use super::*;

    fn limits() -> CostLimits {
        CostLimits {
            max_complexity: 1_000_000,
            max_depth: 15,
            max_aliases: 10,
            max_root_fields: 10,
            max_directives: 10,
            max_fragments: 10,
            assumed_list_size: 20,
            max_list_size: 1000,
        }
    }

    fn named(kind: &str, name: &str) -> serde_json::Value {
        json!({ "kind": kind, "name": name })
    }

    fn list_of(kind: &str, name: &str) -> serde_json::Value {
        json!({ "kind": "NON_NULL", "name": null, "ofType": {
            "kind": "LIST", "name": null, "ofType": { "kind": "NON_NULL", "name": null,
            "ofType": named(kind, name) } } })
    }

    /// Query { things(first): ThingConnection, thing: Thing, tags: [String] };
    /// Thing { id, children(first): ThingConnection, parts: [Thing] }.
    fn policy() -> DocumentPolicy {
        let schema = json!({
            "queryType": { "name": "Query" },
            "mutationType": null,
            "subscriptionType": null,
            "types": [
                { "name": "Query", "fields": [
                    { "name": "things", "type": named("OBJECT", "ThingConnection") },
                    { "name": "thing", "type": named("OBJECT", "Thing") },
                    { "name": "tags", "type": list_of("SCALAR", "String") },
                    { "name": "recent", "args": [{ "name": "first", "defaultValue": null }],
                      "type": list_of("OBJECT", "Thing") },
                    { "name": "top", "args": [{ "name": "first", "defaultValue": "5" }],
                      "type": list_of("OBJECT", "Thing") },
                ] },
                { "name": "Thing", "fields": [
                    { "name": "id", "type": named("SCALAR", "ID") },
                    { "name": "children", "type": named("OBJECT", "ThingConnection") },
                    { "name": "parts", "type": list_of("OBJECT", "Thing") },
                ] },
                { "name": "ThingConnection", "fields": [
                    { "name": "nodes", "type": list_of("OBJECT", "Thing") },
                    { "name": "edges", "type": list_of("OBJECT", "ThingEdge") },
                    { "name": "pageInfo", "type": named("OBJECT", "PageInfo") },
                    { "name": "totalCount", "type": named("SCALAR", "Int") },
                ] },
                { "name": "ThingEdge", "fields": [
                    { "name": "cursor", "type": named("SCALAR", "String") },
                    { "name": "node", "type": named("OBJECT", "Thing") },
                ] },
                { "name": "PageInfo", "fields": [
                    { "name": "hasNextPage", "type": named("SCALAR", "Boolean") },
                ] },
            ]
        });
        DocumentPolicy {
            types: TypeMap::from_introspection(&schema).unwrap(),
            limits: limits(),
        }
    }

    fn measure(query: &str, variables: serde_json::Value) -> Measures {
        let document = parse_query(query).unwrap();
        let variables = Variables::from_json(variables);
        policy()
            .analyse(&document, None, &variables)
            .unwrap()
            .measures
    }

    #[test]
    fn connections_multiply_their_nodes_by_the_page() {
        // things 1 + totalCount 1 + nodes (1 + 10 × id 1).
        let m = measure(
            "{ things(first: 10) { totalCount nodes { id } } }",
            json!({}),
        );
        assert_eq!(m.complexity, 13);
        assert_eq!(m.depth, 3);
        // Without first the default page of 50 applies.
        let m = measure("{ things { nodes { id } } }", json!({}));
        assert_eq!(m.complexity, 1 + 1 + 50);
    }

    #[test]
    fn nested_connections_multiply_through_edges_and_variables() {
        let query = "query($n: Int, $m: Int = 4) {
            things(first: $n) { edges { cursor node { children(last: $m) { nodes { id } } } } }
        }";
        // children: 1 + (1 + 4 × 1) = 6; node: 1 + 6 = 7; edge: cursor 1 + node 7 = 8;
        // edges: 1 + 3 × 8 = 25; things: 1 + 25 = 26.
        assert_eq!(measure(query, json!({ "n": 3 })).complexity, 26);
    }

    #[test]
    fn plain_lists_use_the_assumed_size() {
        assert_eq!(measure("{ tags }", json!({})).complexity, 1);
        assert_eq!(
            measure("{ thing { parts { id } } }", json!({})).complexity,
            1 + 1 + 20
        );
    }

    #[test]
    fn lists_with_first_cost_at_most_what_they_return() {
        // Without `first`: the largest list, or the argument's default.
        assert_eq!(measure("{ recent { id } }", json!({})).complexity, 1 + 1000);
        assert_eq!(measure("{ top { id } }", json!({})).complexity, 1 + 5);
        assert_eq!(
            measure("{ recent(first: 7) { id } }", json!({})).complexity,
            1 + 7
        );
    }

    #[tokio::test]
    async fn every_field_weight_names_a_field_of_the_schema() {
        let types = TypeMap::of_schema().await.unwrap();
        for (ty, field, weight) in FIELD_WEIGHTS {
            let found = types.types.get(*ty).and_then(|t| t.fields.get(*field));
            assert_eq!(found.map(|f| f.weight), Some(*weight), "{ty}.{field}");
        }
    }

    #[test]
    fn fragments_expand_with_memoised_cost() {
        let query = "{ things(first: 2) { ...Page } }
            fragment Page on ThingConnection { nodes { ...Leaf } }
            fragment Leaf on Thing { id }";
        // things 1 + nodes (1 + 2 × 1).
        let m = measure(query, json!({}));
        assert_eq!(m.complexity, 4);
        assert_eq!(m.fragments, 2);
    }

    #[test]
    fn a_fragment_bomb_is_measured_in_linear_time_with_its_full_expansion() {
        let mut query = String::from("{ thing { ...F0 } }\n");
        for i in 0..70 {
            query.push_str(&format!(
                "fragment F{i} on Thing {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        query.push_str("fragment F70 on Thing { id a: id }");
        let m = measure(&query, json!({}));
        // 2^71 spreads: saturated, not overflowed.
        assert_eq!(m.fragments, u64::MAX);
        assert_eq!(m.complexity, u64::MAX);
        assert_eq!(m.aliases, u64::MAX);
    }

    #[test]
    fn fragment_cycles_end_the_walk() {
        let query =
            "{ thing { ...A } } fragment A on Thing { id ...B } fragment B on Thing { ...A }";
        assert_eq!(measure(query, json!({})).complexity, 2);
    }

    #[test]
    fn aliases_root_fields_and_directives_are_counted() {
        let query = "query Q @x { a: thing { id @include(if: true) } b: thing { id } tags }";
        let m = measure(query, json!({}));
        assert_eq!(m.aliases, 2);
        assert_eq!(m.root_fields, 3);
        assert_eq!(m.directives, 2);
    }

    #[test]
    fn the_first_exceeded_limit_is_reported() {
        let limits = limits();
        let over = Measures {
            depth: 16,
            ..Measures::default()
        };
        assert!(matches!(
            limits.check(&over),
            Err(ApiError::QueryTooComplex {
                measure: Measure::Depth,
                cost: 16,
                limit: 15
            })
        ));
        assert!(limits.check(&Measures::default()).is_ok());
    }

    #[test]
    fn nul_characters_are_found_in_literals_and_variables_with_their_path() {
        let document = parse_query(
            "mutation { createProgram(input: { key: \"AB\", name: \"a\\u0000b\" }) { program { id } } }",
        )
        .unwrap();
        let schema = policy();
        let analysis = schema
            .analyse(&document, None, &Variables::default())
            .unwrap();
        assert_eq!(analysis.nul_argument.as_deref(), Some("input.name"));
        let clean = parse_query("query($s: String) { things(first: 1) { nodes { id } } }").unwrap();
        let variables = Variables::from_json(json!({ "s": "x\u{0}" }));
        let analysis = schema.analyse(&clean, None, &variables).unwrap();
        assert_eq!(analysis.nul_argument.as_deref(), Some("s"));
        let analysis = schema.analyse(&clean, None, &Variables::default()).unwrap();
        assert_eq!(analysis.nul_argument, None);
    }

    #[tokio::test]
    async fn the_type_map_of_the_real_schema_knows_connections() {
        let types = TypeMap::of_schema().await.unwrap();
        assert!(types.types["ProgramConnection"].connection);
        assert!(!types.types["Program"].connection);
        assert!(types.types["__Type"].fields["fields"].list);
        assert!(types.mutation.is_some());
    }
}
