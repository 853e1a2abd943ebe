//! The servers compared, each a process of its own on one database: Trestle,
//! the ceiling and PostGraphile v4 and v5; and the dataset, seeded through
//! Trestle's API.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const JWT_SECRET: &str = "dashboard-bench-secret-0123456789abcdef0123456789";
const ADMIN_EMAIL: &str = "admin@bench.test";
const ADMIN_PASSWORD: &str = "bench-admin-password";
const MEMBER_PASSWORD: &str = "bench-member-password";

/// A running server under test.
pub struct Server {
    pub name: String,
    pub addr: SocketAddr,
    pub path: String,
    pub authorization: Option<String>,
    /// The S1 and S2 documents it is sent.
    pub documents: [String; 2],
    /// Where it counts its SQL statements (Trestle's `/metrics`).
    pub metrics: Option<String>,
    child: Child,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SQL statements executed so far, when the server counts them.
    pub async fn statements(&self, client: &reqwest::Client) -> Option<f64> {
        let url = self.metrics.as_ref()?;
        let text = client.get(url).send().await.ok()?.text().await.ok()?;
        text.lines()
            .find_map(|line| line.strip_prefix("trestle_db_statements_total "))
            .and_then(|value| value.trim().parse().ok())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
}

async fn wait_ready(addr: SocketAddr, name: &str, patience: Duration) {
    let deadline = Instant::now() + patience;
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "{name} did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn shapes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/shapes")
}

fn document(file: &str) -> String {
    std::fs::read_to_string(shapes_dir().join(file))
        .unwrap_or_else(|error| panic!("benches/shapes/{file}: {error}"))
}

/// `trestle serve` (`binary`, or the bench profile's build) with its
/// defaults, the rate limit off unless `extra` sets it, and extra settings.
pub async fn trestle(
    name: &str,
    binary: Option<&str>,
    database: &str,
    extra: &[(&str, &str)],
) -> Server {
    let addr = free_addr();
    let child = Command::new(binary.unwrap_or(env!("CARGO_BIN_EXE_trestle")))
        .arg("serve")
        .env("TRESTLE_DATABASE_URL", database)
        .env("TRESTLE_LISTEN", addr.to_string())
        .env("TRESTLE_JWT_SECRET", JWT_SECRET)
        .env("TRESTLE_BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("TRESTLE_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("TRESTLE_RATE_LIMIT_PER_MINUTE", "0")
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start trestle");
    wait_ready(addr, name, Duration::from_secs(60)).await;
    let metrics = Some(format!("http://{addr}/metrics"));
    answering_trestle_shapes(name, addr, child, metrics)
}

/// A server sent Trestle's own documents.
fn answering_trestle_shapes(
    name: &str,
    addr: SocketAddr,
    child: Child,
    metrics: Option<String>,
) -> Server {
    Server {
        name: name.to_owned(),
        addr,
        path: "/graphql".into(),
        authorization: None,
        documents: [
            document("trestle-s1.graphql"),
            document("trestle-s2.graphql"),
        ],
        metrics,
        child,
    }
}

/// The hand-written ceiling: this benchmark's own binary in ceiling mode.
pub async fn ceiling(database: &str) -> Server {
    let addr = free_addr();
    let child = Command::new(std::env::current_exe().expect("the bench binary"))
        .env(super::CEILING_DATABASE, database)
        .env(super::CEILING_LISTEN, addr.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the ceiling");
    wait_ready(addr, "the ceiling", Duration::from_secs(30)).await;
    answering_trestle_shapes("ceiling", addr, child, None)
}

/// PostGraphile `version` (v4 or v5) through `benches/postgraphile/start.sh`,
/// when Node and the packages can be had.
pub async fn postgraphile(version: &str, database: &str) -> Option<Server> {
    let addr = free_addr();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/postgraphile");
    let child = Command::new(dir.join("start.sh"))
        .arg(version)
        .arg(database)
        .arg(addr.port().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .ok()?;
    let prefix = if version == "v5" {
        "postgraphile5"
    } else {
        "postgraphile"
    };
    let s2 = if shapes_dir().join(format!("{prefix}-s2.graphql")).exists() {
        format!("{prefix}-s2.graphql")
    } else {
        "postgraphile-s2.graphql".into()
    };
    let s1 = if shapes_dir().join(format!("{prefix}-s1.graphql")).exists() {
        format!("{prefix}-s1.graphql")
    } else {
        "postgraphile-s1.graphql".into()
    };
    let mut server = Server {
        name: format!("PostGraphile {version}"),
        addr,
        path: "/graphql".into(),
        authorization: None,
        documents: [document(&s1), document(&s2)],
        metrics: None,
        child,
    };
    // Ready once it answers (v5 opens its port before its schema is built);
    // the first start installs the pinned packages.
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let answered = client
            .post(format!("http://{addr}/graphql"))
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success());
        if answered {
            return Some(server);
        }
        if Instant::now() > deadline || server.child.try_wait().ok().flatten().is_some() {
            eprintln!("PostGraphile {version} did not start; left out");
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn call(
    client: &reqwest::Client,
    server: &Server,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = client
        .post(format!("http://{}{}", server.addr, server.path))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON");
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

async fn create(
    client: &reqwest::Client,
    server: &Server,
    token: &str,
    mutation: &str,
    object: &str,
    input: Value,
) -> String {
    let input_type = format!("{}Input", capitalised(mutation));
    let query = format!(
        "mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ {object} {{ id }} }} }}"
    );
    let data = call(
        client,
        server,
        Some(token),
        &query,
        json!({ "input": input }),
    )
    .await;
    data[mutation][object]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Sign in through Trestle's API; the token.
async fn login(client: &reqwest::Client, server: &Server, email: &str, password: &str) -> String {
    let query = "mutation($input: LoginInput!) { login(input: $input) { token } }";
    let variables = json!({ "input": { "email": email, "password": password } });
    let data = call(client, server, None, query, variables).await;
    data["login"]["token"].as_str().expect("a token").to_owned()
}

/// Seed, through Trestle's API, program `key` with `workstreams` workstreams
/// over five teams, each waiting on the one before and (from the fourth)
/// the one two before (96 dependencies at 50 workstreams); a member who may
/// view it signs in. Its `Authorization` header value.
pub async fn seed(server: &Server, key: &str, workstreams: usize) -> String {
    let client = reqwest::Client::new();
    let admin = login(&client, server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut teams = Vec::new();
    for t in 0..5 {
        let input = json!({ "name": format!("{key} team {t}") });
        teams.push(create(&client, server, &admin, "createTeam", "team", input).await);
    }
    let input = json!({ "key": key, "name": format!("Program {key}"), "startDate": "2026-01-05", "targetDate": "2026-12-18" });
    let program = create(&client, server, &admin, "createProgram", "program", input).await;
    let mut ids = Vec::new();
    for w in 0..workstreams {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).expect("a date")
            + chrono::Duration::days(5 * w as i64);
        let input = json!({
            "programId": program,
            "name": format!("Workstream {w}"),
            "teamId": teams[w % teams.len()],
            "startDate": start,
            "targetDate": start + chrono::Duration::days(20),
            "progress": (w * 7) % 100,
        });
        ids.push(
            create(
                &client,
                server,
                &admin,
                "createWorkstream",
                "workstream",
                input,
            )
            .await,
        );
    }
    for w in 1..workstreams {
        let mut upstream = vec![w - 1];
        if w >= 3 {
            upstream.push(w - 2);
        }
        for u in upstream {
            let needed = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).expect("a date")
                + chrono::Duration::days(5 * w as i64);
            let input = json!({ "upstreamId": ids[u], "downstreamId": ids[w], "neededBy": needed });
            create(
                &client,
                server,
                &admin,
                "createDependency",
                "dependency",
                input,
            )
            .await;
        }
    }
    let email = format!("member-{}@bench.test", key.to_lowercase());
    let input = json!({ "email": email, "name": "Bench Member", "password": MEMBER_PASSWORD, "role": "MEMBER" });
    let member = create(&client, server, &admin, "createUser", "user", input).await;
    let set = "mutation($input: SetProgramMemberInput!) { setProgramMember(input: $input) { member { id } } }";
    let input = json!({ "programId": program, "userId": member, "role": "VIEWER" });
    call(
        &client,
        server,
        Some(&admin),
        set,
        json!({ "input": input }),
    )
    .await;
    format!(
        "Bearer {}",
        login(&client, server, &email, MEMBER_PASSWORD).await
    )
}
