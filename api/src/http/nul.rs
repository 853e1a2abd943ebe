//! NUL characters in arguments: PostgreSQL cannot store or compare them, so
//! any string argument or variable holding one is refused up front, on every
//! database alike, with the path of the value at fault.

use async_graphql::{
    Value, Variables,
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

fn in_value(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(text) if text.contains('\0') => Some(path.to_owned()),
        Value::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| in_value(item, &format!("{path}.{index}"))),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(name, item)| in_value(item, &format!("{path}.{name}"))),
        _ => None,
    }
}

fn in_selection_set(set: &SelectionSet) -> Option<String> {
    set.items
        .iter()
        .find_map(|selection| match &selection.node {
            Selection::Field(field) => field
                .node
                .arguments
                .iter()
                .find_map(|(name, value)| {
                    // Variables are checked on their own; here they stand in as null.
                    let literal = value
                        .node
                        .clone()
                        .into_const_with(|_| Ok::<_, ()>(Value::Null))
                        .unwrap_or(Value::Null);
                    in_value(&literal, name.node.as_str())
                })
                .or_else(|| in_selection_set(&field.node.selection_set.node)),
            Selection::InlineFragment(fragment) => {
                in_selection_set(&fragment.node.selection_set.node)
            }
            Selection::FragmentSpread(_) => None,
        })
}

/// The path (`input.name`, `filter.search`) of the first string holding a NUL.
pub fn find(document: &ExecutableDocument, variables: &Variables) -> Option<String> {
    let in_variables = variables
        .iter()
        .find_map(|(name, value)| in_value(value, name.as_str()));
    in_variables
        .or_else(|| {
            document
                .operations
                .iter()
                .find_map(|(_, operation)| in_selection_set(&operation.node.selection_set.node))
        })
        .or_else(|| {
            document
                .fragments
                .values()
                .find_map(|fragment| in_selection_set(&fragment.node.selection_set.node))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nul_in_literals_and_variables_with_its_path() {
        let document = async_graphql::parser::parse_query(
            "mutation { createProgram(input: { key: \"AB\", name: \"a\\u0000b\" }) { program { id } } }",
        )
        .unwrap();
        assert_eq!(
            find(&document, &Variables::default()).as_deref(),
            Some("input.name")
        );
        let clean = async_graphql::parser::parse_query(
            "query($s: String) { programs(filter: { search: $s }) { totalCount } }",
        )
        .unwrap();
        let variables = Variables::from_json(serde_json::json!({ "s": "x\u{0}" }));
        assert_eq!(find(&clean, &variables).as_deref(), Some("s"));
        assert_eq!(find(&clean, &Variables::default()), None);
    }
}
