//! Schema-driven generation of GraphQL operations, valid and not, from the
//! schema the server itself reports: the fuzz test and the hidden-marker
//! test send what it generates.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A deterministic pseudo-random sequence, so a failure replays.
pub struct Rng(pub u64);

impl Rng {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound.max(1)
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub const INTROSPECTION: &str = "{ __schema { queryType { name } mutationType { name } types { name kind
  fields { name args { name type { ...T } } type { ...T } }
  inputFields { name type { ...T } }
  enumValues { name } } } }
  fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

pub struct Schema {
    types: HashMap<String, Value>,
    query: String,
    mutation: String,
}

/// The named type under NON_NULL / LIST wrappers.
fn named(type_ref: &Value) -> &Value {
    let mut t = type_ref;
    while t["name"].is_null() && !t["ofType"].is_null() {
        t = &t["ofType"];
    }
    t
}

pub struct Generator<'a> {
    /// The schema operations are drawn from.
    pub schema: &'a Schema,
    /// The random sequence.
    pub rng: Rng,
    /// Real ids to use as `ID` arguments, so operations reach into the data.
    pub ids: Vec<String>,
}

impl Generator<'_> {
    fn string(&mut self) -> String {
        let choices = [
            "Plan".to_owned(),
            String::new(),
            "  ".to_owned(),
            "x".repeat(201),
            "결제 플랫폼".to_owned(),
            "nul\u{0}byte".to_owned(),
            "quote\" and \\ backslash".to_owned(),
            "ABC".to_owned(),
            "a@b.c".to_owned(),
        ];
        self.rng.pick(&choices).clone()
    }

    fn scalar(&mut self, name: &str) -> String {
        let text = |s: String| serde_json::to_string(&s).unwrap();
        match name {
            "ID" => {
                let choice = self.rng.below(4);
                match choice {
                    0 | 1 if !self.ids.is_empty() => text(self.rng.pick(&self.ids).clone()),
                    2 => text(uuid::Uuid::now_v7().to_string()),
                    _ => text("not-an-id".into()),
                }
            }
            "Int" => self
                .rng
                .pick(&["-1", "0", "1", "3", "5", "50", "100", "101", "2147483647"])
                .to_string(),
            "Float" => "1.5".into(),
            "Boolean" => self.rng.pick(&["true", "false"]).to_string(),
            "Date" => text(
                self.rng
                    .pick(&["2026-01-01", "2026-12-31", "2026-13-45", "yesterday"])
                    .to_string(),
            ),
            "DateTime" => text(
                self.rng
                    .pick(&["2026-01-01T00:00:00Z", "2030-06-01T12:00:00+09:00", "soon"])
                    .to_string(),
            ),
            "JSON" => "{}".into(),
            _ => {
                let s = self.string();
                text(s)
            }
        }
    }

    /// A GraphQL literal for `type_ref`; sometimes of the wrong shape on purpose.
    fn value(&mut self, type_ref: &Value, depth: usize) -> String {
        if type_ref["kind"] == "NON_NULL" {
            return self.value(&type_ref["ofType"], depth);
        }
        if self.rng.chance(3) {
            return self
                .rng
                .pick(&["null", "\"wrong\"", "42", "[]", "{}"])
                .to_string();
        }
        match type_ref["kind"].as_str().unwrap_or("") {
            "LIST" => {
                let n = self.rng.below(3);
                let items: Vec<String> = (0..n)
                    .map(|_| self.value(&type_ref["ofType"], depth))
                    .collect();
                format!("[{}]", items.join(", "))
            }
            "ENUM" => {
                let values = self.schema.types[type_ref["name"].as_str().unwrap()]["enumValues"]
                    .as_array()
                    .unwrap()
                    .clone();
                if self.rng.chance(90) {
                    self.rng.pick(&values)["name"].as_str().unwrap().to_owned()
                } else {
                    "BOGUS".into()
                }
            }
            "INPUT_OBJECT" => {
                if depth > 3 {
                    return "{}".into();
                }
                let fields = self.schema.types[type_ref["name"].as_str().unwrap()]["inputFields"]
                    .as_array()
                    .unwrap()
                    .clone();
                let mut parts = Vec::new();
                for f in &fields {
                    if f["type"]["kind"] == "NON_NULL" || self.rng.chance(50) {
                        let value = self.value(&f["type"], depth + 1);
                        parts.push(format!("{}: {value}", f["name"].as_str().unwrap()));
                    }
                }
                format!("{{{}}}", parts.join(", "))
            }
            _ => {
                let name = type_ref["name"].as_str().unwrap_or("String").to_owned();
                self.scalar(&name)
            }
        }
    }

    fn selection(&mut self, type_name: &str, depth: usize) -> String {
        let fields = self.schema.types[type_name]["fields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if fields.is_empty() {
            return String::new();
        }
        let count = 1 + self.rng.below(4);
        let mut parts = Vec::new();
        for _ in 0..count {
            let field = self.rng.pick(&fields).clone();
            let target = named(&field["type"]);
            let is_leaf = matches!(target["kind"].as_str(), Some("SCALAR" | "ENUM"));
            if !is_leaf && depth >= 3 {
                continue;
            }
            let mut args = Vec::new();
            for a in field["args"].as_array().unwrap() {
                if a["type"]["kind"] == "NON_NULL" || self.rng.chance(25) {
                    let value = self.value(&a["type"], 0);
                    args.push(format!("{}: {value}", a["name"].as_str().unwrap()));
                }
            }
            let args = if args.is_empty() {
                String::new()
            } else {
                format!("({})", args.join(", "))
            };
            let sub = if is_leaf {
                String::new()
            } else {
                let inner = self.selection(target["name"].as_str().unwrap(), depth + 1);
                if inner.is_empty() {
                    "{ __typename }".into()
                } else {
                    format!("{{ {inner} }}")
                }
            };
            parts.push(format!("{}{args} {sub}", field["name"].as_str().unwrap()));
        }
        if parts.is_empty() {
            "__typename".into()
        } else {
            parts.join(" ")
        }
    }

    /// One query or mutation document.
    pub fn operation(&mut self) -> String {
        if self.rng.chance(40) {
            let root = self.schema.mutation.clone();
            format!("mutation {{ {} }}", self.selection(&root, 0))
        } else {
            let root = self.schema.query.clone();
            format!("query {{ {} }}", self.selection(&root, 0))
        }
    }
}

/// The schema as introspected with `token`.
pub async fn load_schema(app: &TestApp, token: &str) -> Schema {
    let body = app.graphql(Some(token), INTROSPECTION, json!({})).await;
    let schema = &body["data"]["__schema"];
    let types = schema["types"]
        .as_array()
        .expect("introspection works in development")
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
        .collect();
    Schema {
        types,
        query: schema["queryType"]["name"].as_str().unwrap().to_owned(),
        mutation: schema["mutationType"]["name"].as_str().unwrap().to_owned(),
    }
}

/// Every string under an `id` key anywhere in `body`.
pub fn ids_in(body: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    let mut pending = vec![body];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner.as_str()) {
                        ("id", Some(id)) => ids.push(id.to_owned()),
                        _ => pending.push(inner),
                    }
                }
            }
            Value::Array(items) => pending.extend(items.iter()),
            _ => {}
        }
    }
    ids
}
