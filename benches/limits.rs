//! Limits benchmark: prints what one signed-in VIEWER can get from the
//! server, and what another user's latency is while attackers run.
//!
//! `cargo bench --bench limits` builds, in a fresh SQLite database under the
//! temporary directory (a fresh PostgreSQL database beside
//! `TRESTLE_BENCH_DATABASE_URL=postgres://…/postgres` when that is set):
//!
//! - `BIG`: 10,000 workstreams, about 50,000 dependencies (nine in ten
//!   overdue), three milestones per workstream;
//! - `NOTES`: 100 overdue dependencies whose descriptions are at the
//!   20,000-character input limit (Korean text, 60 KB each);
//! - `CHAIN`: one chain of 20,000 workstreams.
//!
//! It then runs the `trestle` binary of this build as a child process with
//! default settings, signs in accounts that are VIEWERs of `BIG` and `NOTES`
//! and EDITORs of `CHAIN`, and prints two tables:
//!
//! 1. the heaviest documents such a VIEWER can send, each with as many
//!    aliases as the limits let through, each from an account with a full
//!    rate budget: status, refusal code, response bytes, wall time, server
//!    CPU time and the server's resident memory (before, peak, after);
//! 2. p50/p99 of another signed-in user's `{ viewer { id } }`, a new
//!    connection each time, with no attack and while 16 attacker tasks loop
//!    each attack, and what the attackers got.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait,
    QueryFilter, TransactionTrait,
};
use serde_json::{Value, json};
use uuid::Uuid;

use entity::enums::{DependencyStatus, Health, ProgramRole, ProgramStatus, WorkstreamStatus};

/// The `trestle` binary built with this benchmark.
const TRESTLE: &str = env!("CARGO_BIN_EXE_trestle");
/// Password of every account the benchmark creates.
const PASSWORD: &str = "limits-bench-password";
/// Workstreams of the large program.
const BIG_WORKSTREAMS: usize = 10_000;
/// Length of the chain the cycle attack runs on.
const CHAIN_LENGTH: usize = 20_000;
/// Dependencies carrying a description at the input limit.
const NOTES_DEPENDENCIES: usize = 100;
/// Characters of each of those descriptions (the input limit).
const NOTES_CHARACTERS: usize = 20_000;
/// Attacker accounts, each a VIEWER of `BIG` and `NOTES` and an EDITOR of `CHAIN`.
const ACCOUNTS: usize = 48;
/// Concurrent attacker tasks in the latency scenarios.
const ATTACKERS: usize = 16;
/// Requests the measuring user sends per scenario.
const SAMPLES: usize = 300;
/// Longest a scenario runs, whatever the samples.
const SCENARIO_LIMIT: Duration = Duration::from_secs(150);
/// Resident memory at which the benchmark stops the server, in MiB, so
/// that it does not take the machine down with it.
const MEMORY_GUARD: f64 = 4096.0;
/// Body bytes kept from the start and from the end of a response.
const HEAD_BYTES: usize = 1 << 20;
const TAIL_BYTES: usize = 256 << 10;

mod support;

use support::{Store, dependency_row, generate};

// ---------------------------------------------------------------- database

/// The `trestle` command with only the benchmark's database configured.
fn trestle(url: &str) -> Command {
    let mut command = Command::new(TRESTLE);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TRESTLE_") {
            command.env_remove(name);
        }
    }
    command
        .env("TRESTLE_DATABASE_URL", url)
        .env("NO_COLOR", "1");
    command
}

/// Create an account with `trestle user create`, which also migrates the database.
fn create_user(url: &str, email: &str, name: &str) {
    let output = trestle(url)
        .args(["user", "create", "--email", email, "--name", name])
        .args(["--password", PASSWORD])
        .output()
        .expect("run trestle user create");
    assert!(
        output.status.success(),
        "trestle user create {email}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn user_id(db: &DatabaseConnection, email: &str) -> Uuid {
    entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq(email))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no user {email}"))
        .id
}

fn program(id: Uuid, key: &str, name: &str, owner: Uuid) -> entity::program::ActiveModel {
    let now = Utc::now();
    entity::program::ActiveModel {
        id: Set(id),
        key: Set(key.into()),
        name: Set(name.into()),
        description: Set(None),
        objective: Set(None),
        status: Set(ProgramStatus::Active),
        health: Set(Health::OnTrack),
        start_date: Set(None),
        target_date: Set(None),
        budget_amount: Set(None),
        budget_currency: Set(None),
        expected_benefit_amount: Set(None),
        expected_benefit_currency: Set(None),
        owner_id: Set(owner),
        archived_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        time_zone: Set("UTC".into()),
        off_track_after_days: Set(14),
    }
}

fn member(program: Uuid, user: Uuid, role: ProgramRole) -> entity::program_member::ActiveModel {
    let now = Utc::now();
    entity::program_member::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program),
        user_id: Set(user),
        role: Set(role),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

fn workstream(
    id: Uuid,
    program: Uuid,
    name: String,
    dates: Option<(NaiveDate, NaiveDate)>,
) -> entity::workstream::ActiveModel {
    let now = Utc::now();
    entity::workstream::ActiveModel {
        id: Set(id),
        program_id: Set(program),
        name: Set(name),
        description: Set(None),
        team_id: Set(None),
        lead_id: Set(None),
        status: Set(WorkstreamStatus::InProgress),
        health: Set(Health::OnTrack),
        start_date: Set(dates.map(|d| d.0)),
        target_date: Set(dates.map(|d| d.1)),
        progress: Set(0),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        started_on: Set(dates.map(|d| d.0)),
        priority: Set(entity::enums::Priority::P2),
        effort_days: Set(None),
        finished_on: Set(None),
        external_id: Set(None),
        links: Set(serde_json::json!([])),
    }
}

/// A dependency: `(upstream, downstream, description, needed by, status, committed)`.
type NewDependency = (
    Uuid,
    Uuid,
    Option<String>,
    Option<NaiveDate>,
    DependencyStatus,
    Option<NaiveDate>,
);

fn dependency(program: Uuid, row: NewDependency) -> entity::dependency::ActiveModel {
    let (upstream, downstream, description, needed_by, status, committed) = row;
    let mut active = dependency_row(program, upstream, downstream);
    active.description = Set(description);
    active.needed_by = Set(needed_by);
    active.status = Set(status);
    active.committed_date = Set(committed);
    if committed.is_some() {
        active.commitment = Set(entity::enums::Commitment::Committed);
    }
    active
}

async fn insert_workstreams(db: &DatabaseConnection, rows: Vec<entity::workstream::ActiveModel>) {
    let txn = db.begin().await.unwrap();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(1000).collect();
        entity::workstream::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
}

async fn insert_dependencies(db: &DatabaseConnection, program: Uuid, rows: Vec<NewDependency>) {
    let txn = db.begin().await.unwrap();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows
            .by_ref()
            .take(1000)
            .map(|row| dependency(program, row))
            .collect();
        entity::dependency::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
}

/// The three programs and who may do what in them.
struct Fixture {
    big: Uuid,
    notes: Uuid,
    /// First and last workstream of the chain.
    chain: (Uuid, Uuid),
    big_dependencies: usize,
    overdue: usize,
}

async fn load(url: &str, accounts: &[String]) -> Fixture {
    let db = Database::connect(url).await.expect("connect");
    let owner = user_id(&db, "owner@limits.test").await;
    let mut attackers = Vec::new();
    for email in accounts {
        attackers.push(user_id(&db, email).await);
    }
    let today = Utc::now().date_naive();
    let (big, notes, chain) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    entity::program::Entity::insert_many([
        program(big, "BIG", "Platform consolidation", owner),
        program(notes, "NOTES", "Annotated migration", owner),
        program(chain, "CHAIN", "Long chain", owner),
    ])
    .exec_without_returning(&db)
    .await
    .unwrap();
    let mut members = vec![
        member(big, owner, ProgramRole::Owner),
        member(notes, owner, ProgramRole::Owner),
        member(chain, owner, ProgramRole::Owner),
    ];
    for user in &attackers {
        members.push(member(big, *user, ProgramRole::Viewer));
        members.push(member(notes, *user, ProgramRole::Viewer));
        members.push(member(chain, *user, ProgramRole::Editor));
    }
    entity::program_member::Entity::insert_many(members)
        .exec_without_returning(&db)
        .await
        .unwrap();

    // BIG: the planning benchmark's program, nine dependencies in ten overdue.
    let (tasks, edges) = generate(BIG_WORKSTREAMS);
    let mut milestones = Vec::with_capacity(tasks.len() * 3);
    let now = Utc::now();
    for (id, start, target) in &tasks {
        for (i, name) in ["Design review", "Beta", "Launch"].into_iter().enumerate() {
            let span = (*target - *start).num_days();
            milestones.push(entity::milestone::ActiveModel {
                id: Set(Uuid::now_v7()),
                workstream_id: Set(*id),
                program_id: Set(big),
                name: Set(name.into()),
                description: Set(None),
                due_date: Set(Some(
                    *start + chrono::Duration::days(span * (i as i64 + 1) / 3),
                )),
                completed_at: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
    }
    insert_workstreams(
        &db,
        tasks
            .iter()
            .map(|(id, start, target)| {
                let name = format!("Service {}", &id.simple().to_string()[24..]);
                workstream(*id, big, name, Some((*start, *target)))
            })
            .collect(),
    )
    .await;
    let big_dependencies = edges.len();
    let mut overdue = 0;
    let rows = edges
        .iter()
        .enumerate()
        .map(|(i, (up, down))| {
            let late = i % 10 != 0;
            overdue += usize::from(late);
            let needed_by = if late {
                today - chrono::Duration::days(1 + (i % 200) as i64)
            } else {
                today + chrono::Duration::days(30)
            };
            let status = match i % 20 {
                0 => DependencyStatus::AtRisk,
                1 => DependencyStatus::Blocked,
                _ => DependencyStatus::Open,
            };
            let committed = (i % 3 == 0).then(|| needed_by + chrono::Duration::days(7));
            let description = format!("Interface v{} from the upstream team", i % 7 + 1);
            (
                *up,
                *down,
                Some(description),
                Some(needed_by),
                status,
                committed,
            )
        })
        .collect();
    insert_dependencies(&db, big, rows).await;
    let txn = db.begin().await.unwrap();
    let mut milestones = milestones.into_iter().peekable();
    while milestones.peek().is_some() {
        let chunk: Vec<_> = milestones.by_ref().take(1000).collect();
        entity::milestone::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();

    // NOTES: descriptions at the input limit, in a three-byte script.
    let text: String = "가나다라마바사아자차"
        .chars()
        .cycle()
        .take(NOTES_CHARACTERS)
        .collect();
    let ids: Vec<Uuid> = (0..=NOTES_DEPENDENCIES).map(|_| Uuid::now_v7()).collect();
    insert_workstreams(
        &db,
        ids.iter()
            .enumerate()
            .map(|(i, id)| workstream(*id, notes, format!("Module {i}"), None))
            .collect(),
    )
    .await;
    let rows = ids
        .windows(2)
        .map(|pair| {
            let needed_by = today - chrono::Duration::days(3);
            let status = DependencyStatus::Open;
            (
                pair[0],
                pair[1],
                Some(text.clone()),
                Some(needed_by),
                status,
                None,
            )
        })
        .collect();
    insert_dependencies(&db, notes, rows).await;

    // CHAIN: each workstream waits on the one before.
    let ids: Vec<Uuid> = (0..CHAIN_LENGTH).map(|_| Uuid::now_v7()).collect();
    insert_workstreams(
        &db,
        ids.iter()
            .enumerate()
            .map(|(i, id)| workstream(*id, chain, format!("Step {i}"), None))
            .collect(),
    )
    .await;
    let rows = ids
        .windows(2)
        .map(|pair| (pair[0], pair[1], None, None, DependencyStatus::Open, None))
        .collect();
    insert_dependencies(&db, chain, rows).await;

    if url.starts_with("postgres") {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    db.close().await.ok();
    Fixture {
        big,
        notes,
        chain: (ids[0], ids[CHAIN_LENGTH - 1]),
        big_dependencies,
        overdue,
    }
}

// ------------------------------------------------------------------ server

/// The `trestle serve` child process.
struct Server {
    child: Child,
    pid: u32,
    endpoint: String,
    log: Arc<Mutex<VecDeque<String>>>,
    /// Warnings and errors the server logged since they were last taken.
    problems: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(url: &str) -> Server {
        let mut child = trestle(url)
            .arg("serve")
            .env("TRESTLE_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start trestle serve");
        let pid = child.id();
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let problems = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let (log, problems, tx) = (log.clone(), problems.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(at) = line.find("listening on http://") {
                        let rest = &line[at + "listening on ".len()..];
                        let end = rest.find("/graphql").map_or(rest.len(), |e| e + 8);
                        tx.send(rest[..end].to_owned()).ok();
                    }
                    if line.contains(" ERROR ") || line.contains(" WARN ") {
                        problems.lock().unwrap().push(line.clone());
                    }
                    let mut log = log.lock().unwrap();
                    if log.len() == 40 {
                        log.pop_front();
                    }
                    log.push_back(line);
                }
            });
        }
        let endpoint = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| {
                panic!(
                    "the server did not start:\n{}",
                    Vec::from(log.lock().unwrap().clone()).join("\n")
                )
            });
        Server {
            child,
            pid,
            endpoint,
            log,
            problems,
        }
    }

    fn status_kib(&self, field: &str) -> u64 {
        status_kib(self.pid, field)
    }
}

/// A `/proc/<pid>/status` field in KiB (0 once the process is gone).
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

impl Server {
    /// Resident memory now, in MiB.
    fn rss(&self) -> f64 {
        self.status_kib("VmRSS:") as f64 / 1024.0
    }

    /// Highest resident memory since the last [`Self::reset_peak`], in MiB.
    fn peak(&self) -> f64 {
        self.status_kib("VmHWM:") as f64 / 1024.0
    }

    fn reset_peak(&self) {
        // "5" resets the peak resident set size (Linux 4.0+).
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").ok();
    }

    /// User and system CPU time so far, in seconds.
    fn cpu(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .ok()
            .and_then(|stat| {
                // Fields after the parenthesised command name; utime and stime are 14 and 15.
                let rest = &stat[stat.rfind(')')? + 2..];
                let fields: Vec<&str> = rest.split_whitespace().collect();
                let ticks: u64 =
                    fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
                // USER_HZ is 100 on Linux.
                Some(ticks as f64 / 100.0)
            })
            .unwrap_or(0.0)
    }

    /// Wait until the server has used no CPU for half a second (at most three minutes).
    async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut last = self.cpu();
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = self.cpu();
            if now - last < 0.03 {
                return;
            }
            last = now;
        }
        println!("    (the server was still busy after three minutes)");
    }

    /// How many warnings and errors were logged since the last call, and
    /// the first of each kind (up to three), to print under a row.
    fn take_problems(&self) -> Vec<String> {
        let problems = std::mem::take(&mut *self.problems.lock().unwrap());
        if problems.is_empty() {
            return Vec::new();
        }
        let mut lines = vec![format!(
            "    server logged {} warnings or errors, e.g.:",
            problems.len()
        )];
        let mut kinds = Vec::new();
        for line in &problems {
            // Skip the timestamp; show each distinct start once.
            let line = line.split_once(' ').map_or(line.as_str(), |(_, rest)| rest);
            let kind: String = line.chars().take(60).collect();
            if !kinds.contains(&kind) && kinds.len() < 3 {
                lines.push(format!(
                    "      {}",
                    line.chars().take(400).collect::<String>()
                ));
                kinds.push(kind);
            }
        }
        lines
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn stop(mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

// ---------------------------------------------------------------- requests

/// What one request got.
#[derive(Debug, Clone, Default)]
struct Reply {
    status: u16,
    bytes: usize,
    elapsed: Duration,
    /// How many errors the response carries.
    errors: usize,
    /// `extensions.code` of the first error, if any.
    code: Option<String>,
    measure: Option<String>,
    cost: Option<u64>,
    limit: Option<u64>,
    /// `x-ratelimit-remaining` after the request.
    remaining: Option<u64>,
    /// A transport failure (timeout, closed connection).
    failure: Option<String>,
}

impl Reply {
    fn accepted(&self) -> bool {
        self.status == 200 && self.code.is_none() && self.failure.is_none()
    }

    /// Whether the document ran (errors of some fields aside), rather than being refused whole.
    fn ran(&self) -> bool {
        self.status == 200
            && self.failure.is_none()
            && !matches!(
                self.code.as_deref(),
                Some("QUERY_TOO_COMPLEX" | "RATE_LIMITED")
            )
    }

    /// One word for the outcome tables.
    fn outcome(&self) -> String {
        match (&self.failure, &self.code) {
            (Some(failure), _) => failure.clone(),
            (None, Some(code)) => format!("{} {code}", self.status),
            (None, None) => self.status.to_string(),
        }
    }

    fn refusal(&self) -> String {
        match (&self.code, &self.measure, self.cost, self.limit) {
            (Some(code), Some(measure), Some(cost), Some(limit)) => {
                format!("{code} {measure} {cost}/{limit}")
            }
            (Some(code), ..) if self.errors > 1 => format!("{code} ({} errors)", self.errors),
            (Some(code), ..) => code.clone(),
            (None, ..) => self.failure.clone().unwrap_or_default(),
        }
    }
}

fn read_errors(reply: &mut Reply, errors: &[Value]) {
    reply.errors = errors.len();
    let Some(error) = errors.first() else {
        return;
    };
    let extensions = &error["extensions"];
    reply.code = extensions["code"].as_str().map(str::to_owned);
    reply.measure = extensions["measure"].as_str().map(str::to_owned);
    reply.cost = extensions["cost"].as_u64();
    reply.limit = extensions["limit"].as_u64();
}

/// POST `body` to the server, counting the response without keeping it
/// whole (only its start and end are kept to find an error).
async fn post(
    client: &reqwest::Client,
    endpoint: &str,
    token: Option<&str>,
    body: &Value,
) -> Reply {
    let started = Instant::now();
    let mut reply = Reply::default();
    let mut request = client.post(endpoint).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let mut response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            reply.elapsed = started.elapsed();
            reply.failure = Some(transport_failure(&error));
            return reply;
        }
    };
    reply.status = response.status().as_u16();
    reply.remaining = response
        .headers()
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let mut head = Vec::new();
    let mut tail = VecDeque::new();
    let mut tail_len = 0;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                reply.bytes += chunk.len();
                if head.len() < HEAD_BYTES {
                    head.extend_from_slice(&chunk[..chunk.len().min(HEAD_BYTES - head.len())]);
                }
                tail_len += chunk.len();
                tail.push_back(chunk);
                while tail
                    .front()
                    .is_some_and(|front| tail_len - front.len() >= TAIL_BYTES)
                {
                    tail_len -= tail.pop_front().map_or(0, |front| front.len());
                }
            }
            Ok(None) => break,
            Err(error) => {
                reply.failure = Some(transport_failure(&error));
                break;
            }
        }
    }
    reply.elapsed = started.elapsed();
    if reply.bytes <= HEAD_BYTES {
        if let Ok(parsed) = serde_json::from_slice::<Value>(&head)
            && let Some(errors) = parsed["errors"].as_array()
        {
            read_errors(&mut reply, errors);
        }
    } else {
        // Errors follow the data: look for them in the last bytes.
        let tail: Vec<u8> = tail
            .iter()
            .flat_map(|chunk| chunk.iter().copied())
            .collect();
        let tail = String::from_utf8_lossy(&tail);
        if let Some(at) = tail.rfind("\"errors\":[") {
            let errors = &tail[at + "\"errors\":".len()..tail.len().saturating_sub(1)];
            if let Ok(Value::Array(errors)) = serde_json::from_str::<Value>(errors) {
                read_errors(&mut reply, &errors);
            }
        }
    }
    reply
}

fn transport_failure(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "client timeout".into()
    } else if error.is_connect() {
        "connect failed".into()
    } else {
        "connection failed".into()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(180))
        .build()
        .unwrap()
}

async fn sign_in(client: &reqwest::Client, endpoint: &str, email: &str) -> String {
    let body = json!({
        "query": "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { token } }",
        "variables": { "e": email, "p": PASSWORD },
    });
    let response: Value = client
        .post(endpoint)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("sign-in of {email}: {response}"))
        .to_owned()
}

// ------------------------------------------------------------------ attacks

/// A document built with `n` copies of its heaviest part.
struct Attack {
    name: &'static str,
    /// Copies tried first; fewer when a limit refuses them.
    copies: usize,
    /// A planning query on `BIG`, a candidate for the latency scenarios.
    planning: bool,
    build: Box<dyn Fn(usize) -> Value>,
}

/// `{ program(id: $id) { a0: <part> a1: <part> … } }`
fn aliased_in(program: Uuid, part: &'static str) -> Box<dyn Fn(usize) -> Value> {
    Box::new(move |n| {
        let parts: String = (0..n).map(|i| format!(" a{i}: {part}")).collect();
        json!({
            "query": format!("query($id: ID!) {{ program(id: $id) {{{parts} }} }}"),
            "variables": { "id": program.to_string() },
        })
    })
}

fn type_ref(depth: usize) -> String {
    if depth == 0 {
        "kind name".into()
    } else {
        format!("kind name ofType {{ {} }}", type_ref(depth - 1))
    }
}

/// The body of graphql-js's `getIntrospectionQuery()`, fragments inlined.
fn introspection_body() -> String {
    let type_ref = type_ref(7);
    let input_value = format!("name description type {{ {type_ref} }} defaultValue");
    format!(
        "queryType {{ name kind }} mutationType {{ name kind }} subscriptionType {{ name kind }} \
         types {{ kind name description \
           fields(includeDeprecated: true) {{ name description args {{ {input_value} }} \
             type {{ {type_ref} }} isDeprecated deprecationReason }} \
           inputFields {{ {input_value} }} interfaces {{ {type_ref} }} \
           enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }} \
           possibleTypes {{ {type_ref} }} }} \
         directives {{ name description locations args {{ {input_value} }} }}"
    )
}

fn attacks(fixture: &Fixture) -> Vec<Attack> {
    let big = fixture.big;
    let introspection = introspection_body();
    let (first, last) = fixture.chain;
    vec![
        Attack {
            name: "{ viewer { id } } (for scale)",
            copies: 1,
            planning: false,
            build: Box::new(|_| json!({ "query": "{ viewer { id } }" })),
        },
        Attack {
            name: "overdueDependencies { id neededBy status upstream { id name } downstream { id name } }",
            copies: 50,
            planning: true,
            build: aliased_in(
                big,
                "overdueDependencies { id neededBy status upstream { id name } downstream { id name } }",
            ),
        },
        Attack {
            name: "overdueDependencies { id neededBy status } (no ends)",
            copies: 50,
            planning: true,
            build: aliased_in(big, "overdueDependencies { id neededBy status }"),
        },
        Attack {
            name: "overdueDependencies, every scalar of both ends",
            copies: 50,
            planning: true,
            build: aliased_in(
                big,
                "overdueDependencies { id description neededBy status isOverdue commitmentGapDays \
                 committedDate createdAt updatedAt version \
                 upstream { id name status health startDate targetDate } \
                 downstream { id name status health startDate targetDate } }",
            ),
        },
        Attack {
            name: "schedule { 6 dates and slack, workstream { id name } }",
            copies: 50,
            planning: true,
            build: aliased_in(
                big,
                "schedule { earliestStart earliestFinish latestStart latestFinish slackDays \
                 isCritical workstream { id name } }",
            ),
        },
        Attack {
            name: "criticalPath { finishDate durationDays workstreams { id name startDate targetDate } }",
            copies: 50,
            planning: true,
            build: aliased_in(
                big,
                "criticalPath { finishDate durationDays workstreams { id name startDate targetDate } }",
            ),
        },
        Attack {
            name: "bottlenecks(first: 1000) { workstream { id name } downstreamCount }",
            copies: 50,
            planning: true,
            build: aliased_in(
                big,
                "bottlenecks(first: 1000) { workstream { id name } downstreamCount directDownstreamCount }",
            ),
        },
        Attack {
            name: "dependencyGraph(format: DOT), once",
            copies: 1,
            planning: false,
            build: aliased_in(big, "dependencyGraph(format: DOT)"),
        },
        Attack {
            name: "dependencyGraph(format: DOT)",
            copies: 50,
            planning: true,
            build: aliased_in(big, "dependencyGraph(format: DOT)"),
        },
        Attack {
            name: "dependencyGraph(format: MERMAID)",
            copies: 50,
            planning: true,
            build: aliased_in(big, "dependencyGraph(format: MERMAID)"),
        },
        Attack {
            name: "brief(locale: KO), once",
            copies: 1,
            planning: false,
            build: aliased_in(big, "brief(locale: KO)"),
        },
        Attack {
            name: "brief(locale: KO)",
            copies: 50,
            planning: true,
            build: aliased_in(big, "brief(locale: KO)"),
        },
        Attack {
            name: "workstreams(first: 100) { milestones upstream downstream, 100 each }",
            copies: 50,
            planning: false,
            build: aliased_in(
                big,
                "workstreams(first: 100) { nodes { id name startDate targetDate \
                 milestones(first: 100) { nodes { id name dueDate } } \
                 upstream(first: 100) { nodes { id neededBy status upstream { id name } } } \
                 downstream(first: 100) { nodes { id neededBy status downstream { id name } } } } }",
            ),
        },
        Attack {
            name: "full introspection",
            copies: 30,
            planning: false,
            build: Box::new(move |n| {
                let parts: String = (0..n)
                    .map(|i| format!(" s{i}: __schema {{ {introspection} }}"))
                    .collect();
                json!({ "query": format!("query {{{parts} }}") })
            }),
        },
        Attack {
            name: "NOTES: overdueDependencies { description } (60 KB each)",
            copies: 50,
            planning: false,
            build: aliased_in(fixture.notes, "overdueDependencies { description }"),
        },
        Attack {
            name: "createDependency closing a cycle on the 20,000-long chain",
            copies: 50,
            planning: false,
            build: Box::new(move |n| {
                let parts: String = (0..n)
                    .map(|i| {
                        format!(
                            " c{i}: createDependency(input: {{ upstreamId: $u, downstreamId: $d }}) {{ dependency {{ id }} }}"
                        )
                    })
                    .collect();
                json!({
                    "query": format!("mutation($u: ID!, $d: ID!) {{{parts} }}"),
                    "variables": { "u": last.to_string(), "d": first.to_string() },
                })
            }),
        },
    ]
}

/// One row of the first table.
struct Row {
    attack: &'static str,
    copies: usize,
    reply: Reply,
    cpu: f64,
    before: f64,
    peak: f64,
    after: f64,
}

fn mib(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

fn print_row(row: &Row) {
    println!(
        "{:<62} {:>3} {:>4} {:<38} {:>10} {:>8.2} s {:>6.2} s {:>6.0} {:>6.0} {:>6.0} {:>7}",
        row.attack.chars().take(62).collect::<String>(),
        row.copies,
        if row.reply.status == 0 {
            "-".into()
        } else {
            row.reply.status.to_string()
        },
        row.reply.refusal(),
        mib(row.reply.bytes),
        row.reply.elapsed.as_secs_f64(),
        row.cpu,
        row.before,
        row.peak,
        row.after,
        row.reply.remaining.map_or("-".into(), |r| r.to_string()),
    );
}

/// Send `attack` with as many copies as the limits let through, from an
/// account with a full budget, each attempt to a freshly started server;
/// every attempt is a row.
async fn heaviest(url: &str, token: &str, attack: &Attack) -> Vec<Row> {
    let client = client();
    let mut rows = Vec::new();
    let mut copies = attack.copies;
    loop {
        let mut server = Server::start(url);
        server.settle().await;
        server.take_problems();
        server.reset_peak();
        let (before, cpu) = (server.rss(), server.cpu());
        let reply = post(
            &client,
            &server.endpoint,
            Some(token),
            &(attack.build)(copies),
        )
        .await;
        let cpu = server.cpu() - cpu;
        server.settle().await;
        let row = Row {
            attack: attack.name,
            copies,
            cpu,
            before,
            peak: server.peak(),
            after: server.rss(),
            reply,
        };
        print_row(&row);
        for line in server.take_problems() {
            println!("{line}");
        }
        if !server.alive() {
            println!(
                "the server died:\n{}",
                Vec::from(server.log.lock().unwrap().clone()).join("\n")
            );
        }
        server.stop();
        let next = match (
            row.reply.code.as_deref(),
            row.reply.measure.as_deref(),
            row.reply.cost,
            row.reply.limit,
        ) {
            (Some("QUERY_TOO_COMPLEX"), Some(measure), Some(cost), Some(limit))
                if measure != "cycleSearch" && cost > limit =>
            {
                ((copies as u128 * limit as u128 / cost as u128) as usize).min(copies - 1)
            }
            _ => 0,
        };
        rows.push(row);
        if next == 0 {
            return rows;
        }
        copies = next;
    }
}

// ---------------------------------------------------------------- latency

/// What the measuring user saw in one scenario, and what the attackers got.
struct Scenario {
    name: String,
    latencies: Vec<Duration>,
    /// The measuring user's failures, by outcome.
    failed: BTreeMap<String, u64>,
    seconds: f64,
    peak: f64,
    cpu: f64,
    attackers: BTreeMap<String, u64>,
    problems: Vec<String>,
    /// Whether the server passed [`MEMORY_GUARD`] and was stopped.
    stopped: bool,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `{ viewer { id } }` as `bystander`, a new connection each time, while
/// `ATTACKERS` tasks loop `attack` with `tokens` (round robin).
async fn scenario(
    url: &str,
    name: String,
    bystander: &str,
    attack: Option<(Vec<String>, Value)>,
) -> Scenario {
    let server = Server::start(url);
    server.settle().await;
    server.take_problems();
    server.reset_peak();
    let cpu = server.cpu();
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let mut tasks = Vec::new();
    // Sample resident memory; past the guard, stop the server.
    let sampled = Arc::new(Mutex::new((0.0f64, false)));
    {
        let (stop, sampled, pid) = (stop.clone(), sampled.clone(), server.pid);
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let rss = status_kib(pid, "VmRSS:") as f64 / 1024.0;
                let trip = {
                    let mut sampled = sampled.lock().unwrap();
                    sampled.0 = sampled.0.max(rss);
                    let trip = rss > MEMORY_GUARD && !sampled.1;
                    sampled.1 |= trip;
                    trip
                };
                if trip {
                    Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status()
                        .ok();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    if let Some((tokens, body)) = attack {
        for i in 0..ATTACKERS {
            let (stop, outcomes) = (stop.clone(), outcomes.clone());
            let token = tokens[i % tokens.len()].clone();
            let (endpoint, body) = (server.endpoint.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                let client = client();
                while !stop.load(Ordering::Relaxed) {
                    let reply = post(&client, &endpoint, Some(&token), &body).await;
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    *outcomes.lock().unwrap().entry(reply.outcome()).or_default() += 1;
                }
            }));
        }
        // Let the attack get going before measuring.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let started = Instant::now();
    let body = json!({ "query": "{ viewer { id } }" });
    let mut latencies = Vec::with_capacity(SAMPLES);
    let mut failed = BTreeMap::<String, u64>::new();
    while latencies.len() < SAMPLES
        && started.elapsed() < SCENARIO_LIMIT
        && !sampled.lock().unwrap().1
    {
        // A new connection every time.
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let reply = post(&client, &server.endpoint, Some(bystander), &body).await;
        if !reply.accepted() {
            *failed.entry(reply.outcome()).or_default() += 1;
        }
        latencies.push(reply.elapsed);
    }
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.abort();
    }
    latencies.sort();
    let attackers = outcomes.lock().unwrap().clone();
    let (sampled_peak, guarded) = *sampled.lock().unwrap();
    let result = Scenario {
        name,
        latencies,
        failed,
        seconds,
        peak: server.peak().max(sampled_peak),
        stopped: guarded,
        cpu: server.cpu() - cpu,
        attackers,
        problems: server.take_problems(),
    };
    server.stop();
    result
}

fn print_scenario(s: &Scenario) {
    let attackers: Vec<String> = s
        .attackers
        .iter()
        .map(|(k, v)| format!("{v}× {k}"))
        .collect();
    println!(
        "{:<90} {:>6.1} ms {:>6.1} ms {:>6.1} ms {:>4} {:>6} {:>5.0} s {:>6.1} s {:>6.0}  {}",
        s.name.chars().take(90).collect::<String>(),
        percentile(&s.latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&s.latencies, 0.99).as_secs_f64() * 1e3,
        s.latencies
            .last()
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1e3,
        s.latencies.len(),
        s.failed.values().sum::<u64>(),
        s.seconds,
        s.cpu,
        s.peak,
        if attackers.is_empty() {
            "-".into()
        } else {
            attackers.join(", ")
        },
    );
    if s.stopped {
        println!(
            "    the server passed {MEMORY_GUARD:.0} MiB resident and was stopped by the benchmark"
        );
    }
    if !s.failed.is_empty() {
        let failed: Vec<String> = s.failed.iter().map(|(k, v)| format!("{v}× {k}")).collect();
        println!("    the measuring user got {}", failed.join(", "));
    }
    for line in &s.problems {
        println!("{line}");
    }
}

// -------------------------------------------------------------------- main

async fn run() {
    let store = Store::create().await;
    let url = store.url();
    let engine = store.engine();
    println!(
        "database: {engine}; server: {TRESTLE} serve, default settings; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let preparing = Instant::now();
    create_user(&url, "owner@limits.test", "Program Owner");
    create_user(&url, "bystander@limits.test", "Unrelated User");
    let accounts: Vec<String> = (0..ACCOUNTS)
        .map(|i| format!("viewer{i:02}@limits.test"))
        .collect();
    for (i, email) in accounts.iter().enumerate() {
        create_user(&url, email, &format!("Viewer {i}"));
    }
    let fixture = load(&url, &accounts).await;
    println!(
        "loaded BIG ({BIG_WORKSTREAMS} workstreams, {} dependencies, {} overdue, {} milestones), \
         NOTES ({NOTES_DEPENDENCIES} dependencies of {NOTES_CHARACTERS} characters) and \
         CHAIN ({CHAIN_LENGTH} workstreams) in {:.1} s",
        fixture.big_dependencies,
        fixture.overdue,
        BIG_WORKSTREAMS * 3,
        preparing.elapsed().as_secs_f64()
    );

    let server = Server::start(&url);
    let client = client();
    let bystander = sign_in(&client, &server.endpoint, "bystander@limits.test").await;
    let mut tokens = Vec::new();
    for email in &accounts {
        tokens.push(sign_in(&client, &server.endpoint, email).await);
    }
    let mut fresh = tokens.into_iter();
    server.stop();

    println!(
        "1. Heaviest documents of one VIEWER, each from an account with a full budget to a freshly started server"
    );
    println!(
        "{:<62} {:>3} {:>4} {:<38} {:>10} {:>10} {:>8} {:>6} {:>6} {:>6} {:>7}",
        "document (copies aliased)",
        "n",
        "HTTP",
        "refusal",
        "bytes",
        "time",
        "CPU",
        "idle",
        "peak",
        "after",
        "budget"
    );
    let attacks = attacks(&fixture);
    let mut rows = Vec::new();
    for attack in &attacks {
        let token = fresh.next().expect("enough accounts");
        let attempts = heaviest(&url, &token, attack).await;
        rows.push((attack, attempts.into_iter().last().unwrap()));
    }
    let largest = rows
        .iter()
        .filter(|(_, row)| row.reply.accepted())
        .max_by_key(|(_, row)| row.reply.bytes);
    let peak = rows.iter().map(|(_, row)| row.peak).fold(0.0, f64::max);
    if let Some((attack, row)) = largest {
        println!(
            "\nlargest accepted response: {} ({} bytes) for {} × {}, in {:.2} s; peak resident memory {peak:.0} MiB",
            mib(row.reply.bytes),
            row.reply.bytes,
            row.copies,
            attack.name,
            row.reply.elapsed.as_secs_f64()
        );
    }

    // The accepted planning query that kept the server busiest.
    let planning = rows
        .iter()
        .filter(|(attack, row)| attack.planning && row.reply.ran())
        .max_by(|a, b| a.1.cpu.total_cmp(&b.1.cpu));
    let introspection = rows
        .iter()
        .find(|(attack, _)| attack.name == "full introspection");
    let cycle = rows
        .iter()
        .find(|(attack, _)| attack.name.starts_with("createDependency"));

    println!(
        "\n2. Another user's {{ viewer {{ id }} }}, a new connection each time, while {ATTACKERS} attacker tasks loop"
    );
    println!(
        "{:<90} {:>9} {:>9} {:>9} {:>4} {:>6} {:>7} {:>8} {:>6}  attackers got",
        "scenario", "p50", "p99", "max", "n", "failed", "during", "CPU", "peak"
    );
    print_scenario(&scenario(&url, "no attack".into(), &bystander, None).await);
    if let Some((attack, row)) = planning {
        let one = fresh.next().expect("enough accounts");
        print_scenario(
            &scenario(
                &url,
                format!("{} × {} (one VIEWER)", row.copies, attack.name),
                &bystander,
                Some((vec![one], (attack.build)(row.copies))),
            )
            .await,
        );
        let many: Vec<String> = fresh.by_ref().take(ATTACKERS).collect();
        print_scenario(
            &scenario(
                &url,
                format!("{} × {} ({ATTACKERS} VIEWERs)", row.copies, attack.name),
                &bystander,
                Some((many, (attack.build)(row.copies))),
            )
            .await,
        );
    }
    for (attack, row) in largest.into_iter().chain(introspection).chain(cycle) {
        let one = fresh.next().expect("enough accounts");
        print_scenario(
            &scenario(
                &url,
                format!("{} × {} (one account)", row.copies, attack.name),
                &bystander,
                Some((vec![one], (attack.build)(row.copies))),
            )
            .await,
        );
    }
    println!(
        "\nload average at the end: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    store.remove().await;
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) only builds it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("limits: run with `cargo bench --bench limits`");
        return;
    }
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}
