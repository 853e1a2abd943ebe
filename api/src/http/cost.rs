//! Query cost: what a document asks of the server, measured on the parsed
//! document before anything runs.
//!
//! Every selected field costs 1, plus the weight of the work behind it for
//! the few fields that compute more than they return ([`FIELD_WEIGHTS`]). A
//! connection field (`…Connection` type) multiplies the cost of its `nodes`
//! and `edges` by its page (`first` or `last`, 50 when absent); a list field
//! with a `first` argument multiplies its items by `first` (its default, or
//! the largest list size, when absent), which is also the most it returns;
//! any other list (introspection, a decision's options) by an assumed list
//! size. Fragments are
//! expanded wherever they are spread, memoised so a document that spreads
//! fragments into each other costs linear time to measure, however large
//! its expansion. Aliases, directives and fragment spreads are counted after
//! expansion, so a fragment spread a hundred times counts a hundred times.

use std::any::TypeId;
use std::collections::{HashMap, HashSet};
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use async_graphql::{
    ErrorExtensionValues, Request, ServerError, ServerResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
    },
    parser::types::{
        DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType,
        Selection, SelectionSet,
    },
};

use crate::domain::pagination::DEFAULT_PAGE_SIZE;
use crate::graphql::RequestContext;
use crate::i18n::{Locale, Message};

/// The page a connection field is assumed to return without `first`/`last`.
const DEFAULT_PAGE: u64 = DEFAULT_PAGE_SIZE as u64;

/// Points a program's plan costs to load and schedule, for each field that
/// needs it (the actual charge follows the plan's size).
const PLAN_WEIGHT: u64 = 100;
/// Points rendering a brief or a graph costs, beyond its plan.
const RENDER_WEIGHT: u64 = 400;

/// Fields whose work is more than their output: `(type, field, points)`
/// added to the field's cost, so a request's estimate and the rate budget
/// reflect it (README, "Limits"). A test checks every entry names a field.
pub const FIELD_WEIGHTS: &[(&str, &str, u64)] = &[
    ("Program", "schedule", PLAN_WEIGHT),
    ("Program", "unscheduledWorkstreams", PLAN_WEIGHT),
    ("Program", "forecastFinishDate", PLAN_WEIGHT),
    ("Program", "criticalPath", PLAN_WEIGHT),
    ("Program", "slipImpact", 2 * PLAN_WEIGHT),
    ("Program", "overdueDependencies", PLAN_WEIGHT),
    ("Program", "atRiskDependencies", PLAN_WEIGHT),
    ("Program", "bottlenecks", 2 * PLAN_WEIGHT),
    ("Program", "dependencyGraph", PLAN_WEIGHT + RENDER_WEIGHT),
    ("Program", "brief", PLAN_WEIGHT + RENDER_WEIGHT),
];

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

/// The measure a document exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// The estimated cost.
    Complexity,
    /// The field nesting.
    Depth,
    /// The aliased fields.
    Aliases,
    /// The root fields.
    RootFields,
    /// The directives.
    Directives,
    /// The fragment spreads.
    Fragments,
}

impl Measure {
    /// The name sent as `extensions.measure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complexity => "complexity",
            Self::Depth => "depth",
            Self::Aliases => "aliases",
            Self::RootFields => "rootFields",
            Self::Directives => "directives",
            Self::Fragments => "fragments",
        }
    }
}

/// A document over one of the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    /// Which limit.
    pub measure: Measure,
    /// What the document measured.
    pub value: u64,
    /// The configured limit.
    pub limit: u64,
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

impl Exceeded {
    /// The message in `locale`.
    pub fn message(&self) -> Message {
        let (value, limit) = (self.value, self.limit);
        match self.measure {
            Measure::Complexity => Message::QueryTooComplex {
                cost: to_usize(value),
                limit: to_usize(limit),
            },
            Measure::Depth => Message::QueryTooDeep {
                depth: value,
                limit,
            },
            Measure::Aliases => Message::TooManyAliases {
                count: value,
                limit,
            },
            Measure::RootFields => Message::TooManyRootFields {
                count: value,
                limit,
            },
            Measure::Directives => Message::TooManyDirectives {
                count: value,
                limit,
            },
            Measure::Fragments => Message::TooManyFragments {
                count: value,
                limit,
            },
        }
    }

    /// The GraphQL error: `QUERY_TOO_COMPLEX` with `cost`, `limit` and `measure`.
    pub fn to_server_error(&self, locale: Locale) -> ServerError {
        let mut error = ServerError::new(self.message().text(locale), None);
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", "QUERY_TOO_COMPLEX");
        extensions.set("cost", self.value);
        extensions.set("limit", self.limit);
        extensions.set("measure", self.measure.as_str());
        error.extensions = Some(extensions);
        error
    }
}

impl CostLimits {
    /// The first limit `measures` exceeds, if any.
    pub fn check(&self, measures: &Measures) -> Result<(), Exceeded> {
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
            Some((measure, value, limit)) => Err(Exceeded {
                measure,
                value,
                limit,
            }),
            None => Ok(()),
        }
    }
}

/// The named type a field returns, whether it is a list, and what its cost
/// needs to know besides.
#[derive(Debug, Clone)]
struct FieldType {
    name: String,
    list: bool,
    /// For a field with a `first` argument: that argument's default, if any.
    first: Option<Option<u64>>,
    /// Points added for the work behind the field.
    weight: u64,
}

/// The fields of an object or interface type.
#[derive(Debug, Clone, Default)]
struct TypeInfo {
    fields: HashMap<String, FieldType>,
    connection: bool,
}

/// Output types of the schema, as the cost walk needs them.
#[derive(Debug, Clone, Default)]
pub struct TypeMap {
    types: HashMap<String, TypeInfo>,
    query: String,
    mutation: Option<String>,
    subscription: Option<String>,
}

/// The introspection query the type map is read from.
const TYPE_MAP_QUERY: &str = "{ __schema {
  queryType { name } mutationType { name } subscriptionType { name }
  types { name fields(includeDeprecated: true) { name args { name defaultValue } type { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
} }";

fn unwrap_type(mut ty: &serde_json::Value) -> Option<FieldType> {
    let mut list = false;
    loop {
        match ty["kind"].as_str()? {
            "LIST" => list = true,
            "NON_NULL" => {}
            _ => {
                return Some(FieldType {
                    name: ty["name"].as_str()?.to_owned(),
                    list,
                    first: None,
                    weight: 0,
                });
            }
        }
        ty = &ty["ofType"];
    }
}

impl TypeMap {
    /// Read the type map of Trestle's schema (with introspection on, whatever
    /// the server's setting, since the map never leaves the process).
    pub async fn of_schema() -> Result<Self, String> {
        let response = crate::graphql::schema_builder()
            .finish()
            .execute(TYPE_MAP_QUERY)
            .await;
        if let Some(error) = response.errors.first() {
            return Err(format!("reading the schema's types: {}", error.message));
        }
        let json = response
            .data
            .into_json()
            .map_err(|error| format!("reading the schema's types: {error}"))?;
        Self::from_introspection(&json["__schema"])
    }

    /// Build the map from the `__schema` part of an introspection result.
    fn from_introspection(schema: &serde_json::Value) -> Result<Self, String> {
        let name_of = |key: &str| schema[key]["name"].as_str().map(str::to_owned);
        let query = name_of("queryType").ok_or("the schema has no query type")?;
        let mut types = HashMap::new();
        for ty in schema["types"].as_array().into_iter().flatten() {
            let (Some(name), Some(fields)) = (ty["name"].as_str(), ty["fields"].as_array()) else {
                continue;
            };
            let fields: HashMap<String, FieldType> = fields
                .iter()
                .filter_map(|field| {
                    let field_name = field["name"].as_str()?;
                    let mut field_type = unwrap_type(&field["type"])?;
                    field_type.first = field["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|arg| arg["name"] == "first")
                        .map(|arg| arg["defaultValue"].as_str().and_then(|v| v.parse().ok()));
                    field_type.weight = FIELD_WEIGHTS
                        .iter()
                        .find(|(ty, f, _)| *ty == name && *f == field_name)
                        .map_or(0, |(_, _, weight)| *weight);
                    Some((field_name.to_owned(), field_type))
                })
                .collect();
            let connection = name.ends_with("Connection")
                && fields.contains_key("pageInfo")
                && ["nodes", "edges"]
                    .iter()
                    .any(|list| fields.get(*list).is_some_and(|f| f.list));
            types.insert(name.to_owned(), TypeInfo { fields, connection });
        }
        Ok(Self {
            types,
            query,
            mutation: name_of("mutationType"),
            subscription: name_of("subscriptionType"),
        })
    }

    fn root(&self, ty: OperationType) -> Option<&TypeInfo> {
        let name = match ty {
            OperationType::Query => Some(&self.query),
            OperationType::Mutation => self.mutation.as_ref(),
            OperationType::Subscription => self.subscription.as_ref(),
        }?;
        self.types.get(name)
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

/// The distinct root fields of `operation` (by response key), through fragments.
pub fn root_fields<'d>(
    document: &'d ExecutableDocument,
    operation: &'d OperationDefinition,
) -> Vec<&'d Field> {
    fn collect<'d>(
        document: &'d ExecutableDocument,
        set: &'d SelectionSet,
        seen_fragments: &mut HashSet<&'d str>,
        seen_keys: &mut HashSet<&'d str>,
        out: &mut Vec<&'d Field>,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    if seen_keys.insert(field.node.response_key().node.as_str()) {
                        out.push(&field.node);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if seen_fragments.insert(name)
                        && let Some(fragment) = document.fragments.get(name)
                    {
                        let set = &fragment.node.selection_set.node;
                        collect(document, set, seen_fragments, seen_keys, out);
                    }
                }
                Selection::InlineFragment(inline) => {
                    let set = &inline.node.selection_set.node;
                    collect(document, set, seen_fragments, seen_keys, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    collect(
        document,
        &operation.selection_set.node,
        &mut HashSet::new(),
        &mut HashSet::new(),
        &mut out,
    );
    out
}

/// Resolve an argument of `field` against the request's variables and the
/// operation's variable defaults.
pub fn argument(
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

/// The measures of one subtree.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    cost: u64,
    depth: u64,
    aliases: u64,
    directives: u64,
    spreads: u64,
    /// Fields at this level (through fragments), for the root-field count.
    fields: u64,
}

impl Stats {
    fn absorb(&mut self, other: Stats) {
        self.cost = self.cost.saturating_add(other.cost);
        self.depth = self.depth.max(other.depth);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.directives = self.directives.saturating_add(other.directives);
        self.spreads = self.spreads.saturating_add(other.spreads);
        self.fields = self.fields.saturating_add(other.fields);
    }
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    operation: &'a OperationDefinition,
    types: &'a TypeMap,
    variables: &'a Variables,
    assumed_list_size: u64,
    max_list_size: u64,
    /// Fragment stats by name and the page of the connection they sit in.
    memo: HashMap<(&'a str, Option<u64>), Stats>,
    /// Fragments being walked: a spread of one of them is a cycle.
    active: HashSet<&'a str>,
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

    fn selection_set(
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
            return Some(*stats);
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
        self.memo.insert((name, page), stats);
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
                .or_else(|| {
                    ty.first
                        .map(|default| default.unwrap_or(self.max_list_size))
                })
                .unwrap_or(self.assumed_list_size),
            _ => 1,
        };
        let weight = field_type.as_ref().map_or(0, |ty| ty.weight);
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
        }
    }
}

fn len<T>(items: &[T]) -> u64 {
    items.len() as u64
}

/// The type map and the limits: everything needed to judge a document.
#[derive(Debug, Clone)]
pub struct CostPolicy {
    /// The schema's output types.
    pub types: TypeMap,
    /// The configured limits.
    pub limits: CostLimits,
}

impl CostPolicy {
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

    /// Measure the operation `operation_name` of `document`; `None` when the
    /// operation cannot be chosen (the executor reports that).
    pub fn measure(
        &self,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> Option<Measures> {
        let operation = select_operation(document, operation_name)?;
        let mut walker = Walker {
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
        let operation_directives = len(&operation.directives).saturating_add(
            operation
                .variable_definitions
                .iter()
                .map(|def| len(&def.node.directives))
                .sum(),
        );
        Some(Measures {
            complexity: stats.cost,
            depth: stats.depth,
            aliases: stats.aliases,
            root_fields: stats.fields,
            directives: stats.directives.saturating_add(operation_directives),
            fragments: stats.spreads,
        })
    }
}

/// Request data set by the HTTP layer once it has checked the cost itself.
pub struct CostChecked;

/// The same limits for transports that execute the schema directly (such as
/// WebSocket subscriptions): a schema extension that refuses a document
/// after parsing, before validation and execution.
pub struct CostGuard(pub Arc<CostPolicy>);

impl ExtensionFactory for CostGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostGuardExtension {
            policy: self.0.clone(),
            operation_name: Mutex::new(None),
            checked: AtomicBool::new(false),
        })
    }
}

struct CostGuardExtension {
    policy: Arc<CostPolicy>,
    operation_name: Mutex<Option<String>>,
    checked: AtomicBool,
}

#[async_graphql::async_trait::async_trait]
impl Extension for CostGuardExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if request.data.contains_key(&TypeId::of::<CostChecked>()) {
            self.checked.store(true, Ordering::Relaxed);
        }
        if let Ok(mut name) = self.operation_name.lock() {
            name.clone_from(&request.operation_name);
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if self.checked.load(Ordering::Relaxed) {
            return Ok(document);
        }
        let operation_name = self
            .operation_name
            .lock()
            .map(|name| name.clone())
            .unwrap_or_default();
        if let Some(measures) = self
            .policy
            .measure(&document, operation_name.as_deref(), variables)
            && let Err(exceeded) = self.policy.limits.check(&measures)
        {
            let locale = ctx
                .data_opt::<RequestContext>()
                .map_or(Locale::En, |request| request.viewer.locale);
            return Err(exceeded.to_server_error(locale));
        }
        Ok(document)
    }
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
    fn policy() -> CostPolicy {
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
        CostPolicy {
            types: TypeMap::from_introspection(&schema).unwrap(),
            limits: limits(),
        }
    }

    fn measure(query: &str, variables: serde_json::Value) -> Measures {
        let document = parse_query(query).unwrap();
        let variables = Variables::from_json(variables);
        policy().measure(&document, None, &variables).unwrap()
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
        assert_eq!(
            limits.check(&over),
            Err(Exceeded {
                measure: Measure::Depth,
                value: 16,
                limit: 15
            })
        );
        assert_eq!(limits.check(&Measures::default()), Ok(()));
    }

    #[tokio::test]
    async fn the_schema_extension_refuses_what_other_transports_send() {
        let policy = Arc::new(CostPolicy {
            types: TypeMap::of_schema().await.unwrap(),
            limits: CostLimits {
                max_complexity: 10,
                ..limits()
            },
        });
        let schema = crate::graphql::schema_builder()
            .extension(CostGuard(policy))
            .finish();
        let heavy = "{ programs(first: 20) { nodes { id } } }";
        let response = schema.execute(heavy).await;
        let error = &response.errors[0];
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code").cloned());
        assert_eq!(code, Some(Value::from("QUERY_TOO_COMPLEX")));
        let cost = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("cost").cloned());
        assert_eq!(cost, Some(Value::from(22u64)));
        assert!(schema.execute("{ __typename }").await.errors.is_empty());
        // A request the HTTP layer already measured is not measured twice.
        let checked = Request::new(heavy).data(CostChecked);
        let response = schema.execute(checked).await;
        assert!(
            response.errors.iter().all(|e| e
                .extensions
                .as_ref()
                .and_then(|x| x.get("code").cloned())
                != Some(Value::from("QUERY_TOO_COMPLEX"))),
            "{:?}",
            response.errors
        );
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
