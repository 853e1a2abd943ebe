//! The schema's output types as the document walk needs them: which field
//! returns what, which are lists or connections, which take `first`, and
//! the weight of the work behind a field.

use std::collections::HashMap;

use async_graphql::parser::types::OperationType;

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
    ("Program", "computedHealth", PLAN_WEIGHT),
    ("Baseline", "finishDeltaDays", PLAN_WEIGHT),
    ("Baseline", "variance", PLAN_WEIGHT),
    ("Baseline", "milestoneVariance", PLAN_WEIGHT),
    ("Program", "briefSummary", PLAN_WEIGHT + RENDER_WEIGHT),
    ("ProgramSpend", "forecastAtCompletion", PLAN_WEIGHT),
    // A portfolio's rollup plans each of its programs (at most 100).
    ("Portfolio", "rollup", 100 * PLAN_WEIGHT),
    ("Portfolio", "brief", 100 * PLAN_WEIGHT + RENDER_WEIGHT),
    // A team's fields plan each program its work is in.
    ("Team", "commitments", PLAN_WEIGHT),
    ("Team", "priorityConflicts", PLAN_WEIGHT),
    ("Team", "load", PLAN_WEIGHT),
];

/// The named type a field returns, whether it is a list, and what its cost
/// needs to know besides.
#[derive(Debug, Clone)]
pub(super) struct FieldType {
    pub(super) name: String,
    pub(super) list: bool,
    /// For a field with a `first` argument: that argument's default, if any.
    pub(super) first: Option<Option<u64>>,
    /// Points added for the work behind the field.
    pub(super) weight: u64,
}

/// The fields of an object or interface type.
#[derive(Debug, Clone, Default)]
pub(super) struct TypeInfo {
    pub(super) fields: HashMap<String, FieldType>,
    pub(super) connection: bool,
}

/// Output types of the schema, as the cost walk needs them.
#[derive(Debug, Clone, Default)]
pub struct TypeMap {
    pub(super) types: HashMap<String, TypeInfo>,
    query: String,
    pub(super) mutation: Option<String>,
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
    pub(super) fn from_introspection(schema: &serde_json::Value) -> Result<Self, String> {
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

    pub(super) fn root(&self, ty: OperationType) -> Option<&TypeInfo> {
        let name = match ty {
            OperationType::Query => Some(&self.query),
            OperationType::Mutation => self.mutation.as_ref(),
            OperationType::Subscription => self.subscription.as_ref(),
        }?;
        self.types.get(name)
    }
}
