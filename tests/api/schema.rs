//! The committed `schema.graphql` is exactly what the code serves.

#[test]
fn committed_schema_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql is committed at the workspace root");
    let served = trestle_api::graphql::export_sdl();
    assert!(
        committed == served,
        "schema.graphql is out of date: run `cargo run -- export-schema > schema.graphql`"
    );
}

#[test]
fn export_schema_prints_the_same_sdl() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_trestle"))
        .arg("export-schema")
        .output()
        .expect("run trestle export-schema");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        trestle_api::graphql::export_sdl()
    );
}

#[test]
fn every_type_and_field_has_a_description() {
    let sdl = trestle_api::graphql::export_sdl();
    let mut previous = "";
    let mut missing = Vec::new();
    for line in sdl.lines().take_while(|line| !line.starts_with("schema {")) {
        let trimmed = line.trim();
        let is_definition = trimmed.starts_with("type ")
            || trimmed.starts_with("input ")
            || trimmed.starts_with("enum ")
            || (line.starts_with('\t') || line.starts_with("  "))
                && trimmed.contains(':')
                && !trimmed.starts_with('"')
                // The close of a field's argument list, documented above it.
                && !trimmed.starts_with(')')
            // A field whose arguments follow on their own lines.
            || (line.starts_with('\t') || line.starts_with("  ")) && trimmed.ends_with('(');
        if is_definition
            && !previous.ends_with('"')
            && !trimmed.starts_with("type Query")
            && !trimmed.starts_with("type Mutation")
        {
            missing.push(trimmed.to_owned());
        }
        previous = trimmed;
    }
    assert!(missing.is_empty(), "undocumented: {missing:#?}");
}

#[test]
fn every_argument_is_described() {
    // Arguments printed on the field's own line have no description.
    let sdl = trestle_api::graphql::export_sdl();
    let undescribed: Vec<&str> = sdl
        .lines()
        .filter(|line| {
            // `\tname(argument: …` — a field with its arguments inline.
            let trimmed = line.trim_start_matches('\t');
            let name_end = trimmed
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(trimmed.len());
            line.starts_with('\t')
                && trimmed.starts_with(|c: char| c.is_ascii_lowercase())
                && trimmed[name_end..].starts_with('(')
                && !trimmed.ends_with('(')
        })
        .collect();
    assert!(undescribed.is_empty(), "{undescribed:#?}");
}

#[test]
fn custom_scalars_say_how_they_are_written() {
    let sdl = trestle_api::graphql::export_sdl();
    let scalars: Vec<&str> = sdl
        .lines()
        .filter(|line| line.starts_with("scalar "))
        .collect();
    assert!(!scalars.is_empty());
    for scalar in &scalars {
        assert!(scalar.contains("@specifiedBy(url: \"https://"), "{scalar}");
    }
    assert!(
        !sdl.contains("Implement the"),
        "a library placeholder description is served"
    );
}

#[test]
fn every_object_with_an_id_is_a_node() {
    // Relay refetches every entity by its id; an event on a subscription
    // carries the id of what changed, but is not itself stored.
    const EVENTS: [&str; 1] = ["ProgramEvent"];
    let sdl = trestle_api::graphql::export_sdl();
    let mut header = "";
    let mut not_nodes = Vec::new();
    for line in sdl.lines() {
        if line.starts_with("type ") {
            header = line;
        } else if line == "}" {
            header = "";
        } else if line == "\tid: ID!" && !header.is_empty() {
            let name = header.split_whitespace().nth(1).unwrap_or_default();
            let implements = header.split(" implements ").nth(1).unwrap_or_default();
            if !implements
                .split(" & ")
                .any(|i| i.trim_end_matches(" {") == "Node")
                && !EVENTS.contains(&name)
            {
                not_nodes.push(name.to_owned());
            }
        }
    }
    assert!(not_nodes.is_empty(), "not a Node: {not_nodes:?}");
}
