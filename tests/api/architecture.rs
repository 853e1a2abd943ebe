//! The layering and file sizes `ARCHITECTURE.md` promises, checked on the
//! sources: imports point down only, a file past ~600 lines says why, and
//! every text a field returns goes through the work meter.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What each layer of `api/src` may import with `crate::…`; the layers not
/// listed (`app`, `cli`, `demo`) sit on top and may import anything.
const ALLOWED: &[(&str, &[&str])] = &[
    ("config", &[]),
    ("i18n", &[]),
    ("error", &["i18n"]),
    ("db", &["config"]),
    ("planning", &["i18n"]),
    ("events", &["error"]),
    ("webhooks", &[]),
    ("auth", &["config", "error", "events", "i18n"]),
    (
        "domain",
        &["auth", "error", "events", "i18n", "planning", "webhooks"],
    ),
    (
        "graphql",
        &["auth", "domain", "error", "events", "i18n", "planning"],
    ),
    (
        "http",
        &["auth", "config", "db", "domain", "error", "graphql", "i18n"],
    ),
];

/// Longest file that needs no reason at its top.
const LONG_FILE_LINES: usize = 650;

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read api/src") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

fn api_sources() -> Vec<(String, String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("api/src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let layer = relative
                .split(['/', '.'])
                .next()
                .unwrap_or_default()
                .to_owned();
            let text = std::fs::read_to_string(&path).expect("read a source file");
            (relative, layer, text)
        })
        .collect()
}

/// The top-level modules a source names as `crate::name` or in `crate::{…}`.
fn crate_imports(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let listed = match rest.strip_prefix('{') {
            Some(group) => group.split('}').next().unwrap_or_default(),
            None => rest,
        };
        for item in listed.split(',') {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.insert(name);
            }
            if rest.starts_with(|c: char| c != '{') {
                break;
            }
        }
    }
    names
}

#[test]
fn layers_import_only_the_layers_below_them() {
    let mut upward = Vec::new();
    for (file, layer, text) in api_sources() {
        let Some((_, allowed)) = ALLOWED.iter().find(|(name, _)| *name == layer) else {
            continue;
        };
        for name in crate_imports(&text) {
            let layered = ALLOWED.iter().any(|(other, _)| *other == name)
                || ["app", "cli", "demo"].contains(&name.as_str());
            if layered && name != layer && !allowed.contains(&name.as_str()) {
                upward.push(format!("{file} imports crate::{name}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports against the layering: {upward:#?}"
    );
}

#[test]
fn long_files_say_why_at_their_top() {
    let mut unexplained = Vec::new();
    for (file, _, text) in api_sources() {
        let lines = text.lines().count();
        let header: String = text
            .lines()
            .take_while(|line| line.starts_with("//!"))
            .collect::<Vec<_>>()
            .join(" ");
        if lines > LONG_FILE_LINES && !header.contains("long") {
            unexplained.push(format!("{file}: {lines} lines"));
        }
    }
    assert!(
        unexplained.is_empty(),
        "long files without a reason at their top: {unexplained:#?}"
    );
}

/// Whether a Rust type names `String` or `str` outside a `Text<…>`.
fn names_plain_text(ty: &str) -> bool {
    let mut rest = ty.to_owned();
    while let Some(at) = rest.find("Text<") {
        let mut depth = 0;
        let end = rest[at..]
            .char_indices()
            .find_map(|(i, c)| {
                match c {
                    '<' => depth += 1,
                    '>' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(at + i + 1);
                        }
                    }
                    _ => {}
                }
                None
            })
            .unwrap_or(rest.len());
        rest.replace_range(at..end, "");
    }
    rest.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|word| word == "String" || word == "str")
}

/// Every text the schema returns is a `graphql::work::Text`, which charges
/// long text to the request's work: a resolver returning `String` or `&str`,
/// or an output object with a `String` field, would return text for free.
#[test]
fn fields_return_text_through_the_work_meter() {
    let mut free = Vec::new();
    for (file, layer, text) in api_sources() {
        if layer != "graphql" {
            continue;
        }
        for (at, _) in text.match_indices("async fn ") {
            let signature = &text[at..text[at..].find("{\n").map_or(text.len(), |end| at + end)];
            if let Some((_, returned)) = signature.rsplit_once("->")
                && names_plain_text(returned)
            {
                free.push(format!(
                    "{file}: {}",
                    signature.lines().next().unwrap_or("")
                ));
            }
        }
        for (at, _) in text.match_indices("#[derive(") {
            let derive = &text[at..text[at..].find(")]").map_or(text.len(), |end| at + end)];
            if !derive.contains("SimpleObject") {
                continue;
            }
            let body = &text[at..text[at..].find("\n}").map_or(text.len(), |end| at + end)];
            for line in body.lines() {
                if let Some((field, ty)) = line
                    .trim()
                    .strip_prefix("pub ")
                    .and_then(|l| l.split_once(':'))
                    && names_plain_text(ty)
                {
                    free.push(format!("{file}: field {field}"));
                }
            }
        }
    }
    assert!(free.is_empty(), "text returned without `Text`: {free:#?}");
}
