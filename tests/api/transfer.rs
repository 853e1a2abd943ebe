//! A program's plan out as JSON or CSV and back in: all or nothing, every
//! bad row reported at once, a dry run that writes nothing, matching by
//! external id, the same program back after export → import (a property
//! test), and the same from the command line.

use std::collections::HashMap;
use std::process::Command;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::fixtures::{attempt, cast, program};
use crate::helpers::{
    ADMIN_EMAIL, JWT_SECRET, TestApp, TestDb, TestUser, error_code, spawn_app, spawn_app_on,
};

const IMPORT: &str = "dryRun created { workstreams milestones dependencies risks } updated { workstreams milestones dependencies risks }";

async fn export(app: &TestApp, user: &TestUser, program: &str, format: &str) -> String {
    let body = app
        .as_user(
            user,
            "query($p: ID!, $f: PlanFormat!) { program(id: $p) { export(format: $f) } }",
            json!({ "p": program, "f": format }),
        )
        .await;
    body["data"]["program"]["export"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

async fn import(
    app: &TestApp,
    user: &TestUser,
    program: &str,
    format: &str,
    data: &str,
    dry_run: bool,
) -> Value {
    attempt(
        app,
        user,
        "importProgram",
        json!({ "programId": program, "format": format, "data": data, "dryRun": dry_run }),
        IMPORT,
    )
    .await
}

fn sample() -> Value {
    json!({
        "workstreams": [
            { "ref": "PAY-1", "externalId": "PAY-1", "name": "Checkout", "status": "IN_PROGRESS", "startDate": "2026-01-05", "targetDate": "2026-03-01", "progress": 40, "startedOn": "2026-01-06",
              "links": [{ "url": "https://jira.example.com/browse/PAY-1", "kind": "JIRA", "title": "Epic" }] },
            { "ref": "ledger", "name": "Ledger, \"v2\"", "description": "two\nlines", "startDate": "2026-02-01", "targetDate": "2026-04-01" }
        ],
        "milestones": [{ "workstream": "PAY-1", "name": "Beta", "dueDate": "2026-02-15" }],
        "dependencies": [{ "externalId": "DEP-1", "upstream": "ledger", "downstream": "PAY-1", "neededBy": "2026-02-20", "description": "ledger API" }],
        "risks": [{ "externalId": "R-1", "title": "Vendor late", "likelihood": 3, "impact": 4, "workstream": "PAY-1", "mitigation": "second vendor" }]
    })
}

#[tokio::test]
async fn a_plan_goes_in_all_at_once_and_comes_back_out_the_same() {
    let app = spawn_app().await;
    let c = cast(&app, "XFER").await;
    let data = sample().to_string();

    // A dry run checks and counts, and writes nothing.
    let dry = import(&app, &c.editor, &c.program, "JSON", &data, true).await;
    assert_eq!(dry["data"]["importProgram"]["dryRun"], true, "{dry}");
    assert_eq!(
        dry["data"]["importProgram"]["created"],
        json!({ "workstreams": 2, "milestones": 1, "dependencies": 1, "risks": 1 })
    );
    let empty = export(&app, &c.owner, &c.program, "JSON").await;
    assert_eq!(
        serde_json::from_str::<Value>(&empty).unwrap()["workstreams"],
        json!([])
    );

    let done = import(&app, &c.editor, &c.program, "JSON", &data, false).await;
    assert_eq!(
        done["data"]["importProgram"]["created"]["workstreams"], 2,
        "{done}"
    );
    let out: Value =
        serde_json::from_str(&export(&app, &c.viewer, &c.program, "JSON").await).unwrap();
    assert_eq!(out["workstreams"][0]["externalId"], "PAY-1");
    assert_eq!(out["workstreams"][0]["links"][0]["title"], "Epic");
    assert_eq!(out["workstreams"][1]["name"], "Ledger, \"v2\"");
    assert_eq!(
        out["dependencies"][0]["upstream"],
        out["workstreams"][1]["ref"]
    );
    assert_eq!(out["risks"][0]["workstream"], "PAY-1");

    // The export again: every row matched (by external id, or by the id a
    // workstream without one is exported under), nothing new.
    let again = import(&app, &c.editor, &c.program, "JSON", &out.to_string(), false).await;
    assert_eq!(
        again["data"]["importProgram"]["created"],
        json!({ "workstreams": 0, "milestones": 0, "dependencies": 0, "risks": 0 }),
        "{again}"
    );
    assert_eq!(again["data"]["importProgram"]["updated"]["workstreams"], 2);

    // CSV holds the same plan: into an empty program and back out.
    let csv = export(&app, &c.owner, &c.program, "CSV").await;
    assert!(csv.starts_with("type,ref,externalId,"), "{csv}");
    let other = program(&app, &c.owner, "XFERB", json!({})).await;
    let copied = import(&app, &c.owner, &other, "CSV", &csv, false).await;
    assert!(copied["errors"].is_null(), "{copied}");
    let back: Value = serde_json::from_str(&export(&app, &c.owner, &other, "JSON").await).unwrap();
    assert_eq!(normalized(&back), normalized(&out));

    // Readers export; only editors import; outsiders see nothing.
    let refused = import(&app, &c.viewer, &c.program, "JSON", &data, true).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    let outsider = app
        .as_user(
            &c.outsider,
            "query($p: ID!) { program(id: $p) { export } }",
            json!({ "p": c.program }),
        )
        .await;
    assert!(outsider["data"]["program"].is_null(), "{outsider}");
}

#[tokio::test]
async fn every_bad_row_is_reported_and_nothing_is_written() {
    let app = spawn_app().await;
    let c = cast(&app, "BADROWS").await;
    let data = json!({
        "workstreams": [
            { "ref": "A", "name": "Alpha", "startDate": "2026-03-01", "targetDate": "2026-02-01" },
            { "ref": "B", "name": "Beta", "progress": 140 },
            { "ref": "C", "name": "Gamma" },
            { "ref": "C", "name": "Gamma again" }
        ],
        "milestones": [{ "workstream": "nowhere", "name": "M" }],
        "dependencies": [
            { "upstream": "B", "downstream": "C" },
            { "upstream": "C", "downstream": "B" },
            { "upstreamId": "01a22c40-0000-7000-8000-000000000000", "downstream": "C" }
        ],
        "risks": [{ "title": "R", "likelihood": 9, "impact": "high" }]
    });
    let refused = import(
        &app,
        &c.editor,
        &c.program,
        "JSON",
        &data.to_string(),
        false,
    )
    .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    let errors: Vec<(u64, String)> = refused["errors"][0]["extensions"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{refused}"))
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        (1, "workstreams.targetDate"),
        (2, "workstreams.progress"),
        (4, "workstreams.ref"),
        (1, "milestones.workstream"),
        (2, "dependencies.downstream"),
        (3, "dependencies.row"),
        (1, "risks.row"),
    ] {
        assert!(
            errors.contains(&(expected.0, expected.1.to_owned())),
            "{expected:?} in {errors:?}"
        );
    }
    let out: Value =
        serde_json::from_str(&export(&app, &c.owner, &c.program, "JSON").await).unwrap();
    assert_eq!(out["workstreams"], json!([]), "all or nothing");

    let csv = "type,ref,name,likelihood,impact,title\nworkstream,A,,,,\nrisk,,,2,2,\n";
    let bad_csv = import(&app, &c.editor, &c.program, "CSV", csv, false).await;
    let rows: Vec<u64> = bad_csv["errors"][0]["extensions"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{bad_csv}"))
        .iter()
        .map(|e| e["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, [2, 3], "CSV rows by line: {bad_csv}");
    let garbage = import(&app, &c.editor, &c.program, "JSON", "{ not json", false).await;
    assert_eq!(error_code(&garbage), "BAD_USER_INPUT", "{garbage}");
}

/// A plan with its references made positional, so two programs' exports compare.
fn normalized(plan: &Value) -> Value {
    let mut plan = plan.clone();
    let names: HashMap<String, String> = plan["workstreams"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, ws)| (ws["ref"].as_str().unwrap_or("").to_owned(), format!("#{i}")))
        .collect();
    let rename = |value: &mut Value| {
        if let Some(name) = value.as_str().and_then(|r| names.get(r)) {
            *value = Value::from(name.clone());
        }
    };
    for (list, fields) in [
        ("workstreams", &["ref"][..]),
        ("milestones", &["workstream"][..]),
        ("dependencies", &["upstream", "downstream"][..]),
        ("risks", &["workstream"][..]),
    ] {
        for row in plan[list].as_array_mut().into_iter().flatten() {
            for field in fields {
                rename(&mut row[*field]);
            }
        }
    }
    plan
}

/// Random plans: workstreams (some with an external id), their milestones,
/// dependencies from earlier to later workstreams (never a cycle), risks.
fn plans() -> impl Strategy<Value = Value> {
    let names = prop::sample::select(vec![
        "Checkout",
        "결제 플랫폼",
        "Ledger, v2",
        "Say \"hi\"",
        "  padded  ",
    ]);
    let workstream = (
        names,
        any::<bool>(),
        prop::option::of(0..=100i32),
        prop::sample::select(vec![
            "NOT_STARTED",
            "IN_PROGRESS",
            "BLOCKED",
            "DONE",
            "CANCELLED",
        ]),
        prop::option::of((1..=28u32, 0..=60i64)),
        0..=2usize,
    );
    (prop::collection::vec(workstream, 1..6), any::<u64>()).prop_map(|(rows, seed)| {
        let mut rng = seed;
        let mut next = move |bound: usize| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((rng >> 33) as usize) % bound.max(1)
        };
        let refs: Vec<String> = (0..rows.len()).map(|i| format!("WS-{i}")).collect();
        let workstreams: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, (name, external, progress, status, dates, links))| {
                let mut row = json!({ "ref": refs[i], "name": format!("{} {i}", name.trim()), "status": status });
                if *external {
                    row["externalId"] = json!(refs[i]);
                }
                if let Some(progress) = progress {
                    row["progress"] = json!(progress);
                }
                if let Some((day, length)) = dates {
                    row["startDate"] = json!(format!("2026-02-{day:02}"));
                    let target = chrono::NaiveDate::from_ymd_opt(2026, 2, *day).unwrap()
                        + chrono::Duration::days(*length);
                    row["targetDate"] = json!(target.to_string());
                }
                let links: Vec<Value> = (0..*links)
                    .map(|l| json!({ "url": format!("https://github.com/acme/x/issues/{i}{l}"), "kind": "GITHUB" }))
                    .collect();
                if !links.is_empty() {
                    row["links"] = json!(links);
                }
                row
            })
            .collect();
        let milestones: Vec<Value> = (0..next(4))
            .map(|m| json!({ "workstream": refs[next(refs.len())], "name": format!("M{m}"), "dueDate": "2026-05-01" }))
            .collect();
        let mut dependencies = Vec::new();
        for downstream in 1..refs.len() {
            let upstream = next(downstream);
            if next(2) == 0 {
                dependencies.push(json!({ "upstream": refs[upstream], "downstream": refs[downstream], "neededBy": "2026-04-01", "description": format!("needs {upstream}") }));
            }
        }
        let risks: Vec<Value> = (0..next(3))
            .map(|r| json!({ "externalId": format!("R-{r}"), "title": format!("Risk {r}"), "likelihood": 1 + next(5), "impact": 1 + next(5), "workstream": refs[next(refs.len())] }))
            .collect();
        json!({ "workstreams": workstreams, "milestones": milestones, "dependencies": dependencies, "risks": risks })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_into_an_empty_program_gives_the_same_program_back() {
    let app = spawn_app().await;
    let owner = app.member("Porter").await;
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    let cases = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&plans(), |plan| {
            let case = cases.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let (app, owner, handle) = (&app, &owner, &handle);
            tokio::task::block_in_place(|| {
                handle.block_on(async {
                    let source = program(app, owner, &format!("SRC{case}"), json!({})).await;
                    let loaded =
                        import(app, owner, &source, "JSON", &plan.to_string(), false).await;
                    assert!(loaded["errors"].is_null(), "{loaded}\n{plan}");
                    for format in ["JSON", "CSV"] {
                        let file = export(app, owner, &source, format).await;
                        let copy =
                            program(app, owner, &format!("C{format}{case}"), json!({})).await;
                        let copied = import(app, owner, &copy, format, &file, false).await;
                        assert!(copied["errors"].is_null(), "{copied}\n{file}");
                        let original: Value =
                            serde_json::from_str(&export(app, owner, &source, "JSON").await)
                                .unwrap();
                        let back: Value =
                            serde_json::from_str(&export(app, owner, &copy, "JSON").await).unwrap();
                        assert_eq!(normalized(&back), normalized(&original), "{format}\n{file}");
                        let counts = |p: &Value, list: &str| p[list].as_array().map_or(0, Vec::len);
                        for list in ["workstreams", "milestones", "dependencies", "risks"] {
                            assert_eq!(
                                counts(&original, list),
                                counts(&plan, list),
                                "{list}: {original}"
                            );
                        }
                    }
                })
            });
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn the_command_line_exports_and_imports_a_program() {
    let db = TestDb::new().await;
    let url = db.url.clone();
    let app = spawn_app_on(db, &[]).await;
    let admin = app.admin().await;
    let source = program(&app, &admin, "CLISRC", json!({})).await;
    let loaded = import(&app, &admin, &source, "JSON", &sample().to_string(), false).await;
    assert!(loaded["errors"].is_null(), "{loaded}");
    let target = program(&app, &admin, "CLIDST", json!({})).await;

    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_trestle"))
            .args(args)
            .env("TRESTLE_DATABASE_URL", &url)
            .env("TRESTLE_JWT_SECRET", JWT_SECRET)
            .env_remove("TRESTLE_LOG")
            .output()
            .expect("trestle runs")
    };
    let exported = cli(&["export", "--program", "CLISRC", "--format", "csv"]);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let dir = std::env::temp_dir().join(format!("trestle-xfer-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("plan.csv");
    std::fs::write(&file, &exported.stdout).unwrap();

    let dry = cli(&[
        "import",
        file.to_str().unwrap(),
        "--program",
        "CLIDST",
        "--dry-run",
        "--as",
        ADMIN_EMAIL,
    ]);
    let said = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        said.contains("would create 2 workstreams, 1 milestones, 1 dependencies, 1 risks"),
        "{said}"
    );
    let done = cli(&["import", file.to_str().unwrap(), "--program", "CLIDST"]);
    assert!(
        String::from_utf8_lossy(&done.stdout).contains("created 2 workstreams"),
        "{done:?}"
    );
    let source_plan: Value =
        serde_json::from_str(&export(&app, &admin, &source, "JSON").await).unwrap();
    let target_plan: Value =
        serde_json::from_str(&export(&app, &admin, &target, "JSON").await).unwrap();
    assert_eq!(normalized(&target_plan), normalized(&source_plan));

    // A bad file: every row named, exit status non-zero, nothing written.
    std::fs::write(&file, "type,ref,name\nworkstream,X,\nmilestone,,M\n").unwrap();
    let bad = cli(&["import", file.to_str().unwrap(), "--program", "CLIDST"]);
    let complaint = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(
        complaint.contains("row 2") && complaint.contains("row 3"),
        "{complaint}"
    );
    let missing = cli(&["export", "--program", "NOPE"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("NOPE"));
    let _ = std::fs::remove_dir_all(dir);
}
