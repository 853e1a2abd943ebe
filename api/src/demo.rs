//! The demo program: a bilingual microservices migration, built through the
//! GraphQL API itself (in process), so a newcomer sees every feature at once.
//!
//! This file is long because it is one story told top to bottom (the
//! program, its teams, workstreams, milestones, a baseline, dependencies
//! asked for and answered, decisions and a conversation, risks and status
//! updates, in the order a TPM would set them up).

use chrono::{Duration, NaiveDate, Utc};
use entity::{
    enums::{Locale, UserRole},
    program,
};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::auth::{AuthUser, Viewer, password::random_secret};
use crate::domain::loaders::{CurrentLoaders, Loaders};
use crate::domain::{Domain, users::NewUser};
use crate::error::{ApiError, ApiResult};
use crate::graphql::{AppSchema, RequestContext};

/// A demo account, printed once at start.
#[derive(Debug, Clone)]
pub struct DemoSignIn {
    /// The account's program role in the demo.
    pub role: &'static str,
    /// Sign-in email.
    pub email: String,
    /// Generated password.
    pub password: String,
}

/// Runs GraphQL documents in process as one user.
struct Client<'a> {
    schema: &'a AppSchema,
    domain: &'a Domain,
}

impl Client<'_> {
    async fn run(&self, user: &AuthUser, document: &str, variables: Value) -> ApiResult<Value> {
        let viewer = Viewer::signed_in(user.clone());
        let request = async_graphql::Request::new(document)
            .variables(async_graphql::Variables::from_json(variables))
            .data(CurrentLoaders::new(Loaders::uncached(self.domain, &viewer)))
            .data(RequestContext {
                viewer,
                request_id: "demo".into(),
                address: None,
            });
        let response = self.schema.execute(request).await;
        if let Some(error) = response.errors.first() {
            return Err(ApiError::internal(format!(
                "demo step failed: {}",
                error.message
            )));
        }
        response.data.into_json().map_err(ApiError::internal)
    }

    /// Run a `create…` mutation and return the id at `data.<field>.<object>.id`.
    /// Make `editor` an EDITOR and `viewer` a VIEWER of `program`.
    async fn staff(
        &self,
        owner: &AuthUser,
        program: &str,
        editor: &AuthUser,
        viewer: &AuthUser,
    ) -> ApiResult<()> {
        for (user, role) in [(editor, "EDITOR"), (viewer, "VIEWER")] {
            self.run(
                owner,
                "mutation($input: SetProgramMemberInput!) { setProgramMember(input: $input) { member { role } } }",
                json!({ "input": { "programId": program, "userId": user.id.to_string(), "role": role } }),
            )
            .await?;
        }
        Ok(())
    }

    async fn create(
        &self,
        user: &AuthUser,
        field: &str,
        object: &str,
        input: Value,
    ) -> ApiResult<String> {
        let input_type = format!("{}{}Input", field[..1].to_uppercase(), &field[1..]);
        let document = format!(
            "mutation($input: {input_type}!) {{ {field}(input: $input) {{ {object} {{ id }} }} }}"
        );
        let data = self.run(user, &document, json!({ "input": input })).await?;
        data[field][object]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ApiError::internal(format!("demo step {field} returned no id")))
    }
}

fn day(base: NaiveDate, offset: i64) -> String {
    (base + Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

/// Load the demo into a database without programs; `None` when it has some.
pub async fn load(domain: &Domain, schema: &AppSchema) -> ApiResult<Option<Vec<DemoSignIn>>> {
    if program::Entity::find().count(&domain.db).await? > 0 {
        return Ok(None);
    }
    let mut sign_ins = Vec::new();
    let mut accounts = Vec::new();
    for (role, email, name, locale) in [
        ("OWNER", "tpm@demo.trestle", "Jiwoo Park (TPM)", Locale::Ko),
        (
            "EDITOR",
            "lead@demo.trestle",
            "Sam Rivera (Eng lead)",
            Locale::En,
        ),
        (
            "VIEWER",
            "exec@demo.trestle",
            "Min-jun Lee (VP Eng)",
            Locale::Ko,
        ),
    ] {
        let password = random_secret(16);
        let user = match crate::domain::users::find_by_email(&domain.db, email).await? {
            Some(user) => user,
            None => {
                domain
                    .insert_user(
                        None,
                        NewUser {
                            email: email.into(),
                            name: name.into(),
                            password: password.clone(),
                            role: UserRole::Member,
                            locale,
                        },
                        "demo",
                    )
                    .await?
            }
        };
        accounts.push(AuthUser {
            id: user.id,
            role: user.role,
            locale: user.locale,
            credential: crate::auth::Credential::Internal,
        });
        sign_ins.push(DemoSignIn {
            role,
            email: email.into(),
            password,
        });
    }
    let (owner, editor, viewer) = (&accounts[0], &accounts[1], &accounts[2]);
    let client = Client { schema, domain };
    let today = Utc::now().date_naive();
    let base = today - Duration::days(40);

    let program = client
        .create(
            owner,
            "createProgram",
            "program",
            json!({
                "key": "PAY",
                "name": "Payments platform migration (결제 플랫폼 이전)",
                "description": "Move 40 payment microservices from the legacy VM fleet to Kubernetes.\n레거시 VM에서 쿠버네티스로 결제 마이크로서비스 40개를 이전합니다.",
                "objective": "Cut deploy time from days to minutes and retire the VM fleet before the data-centre lease ends.",
                "status": "ACTIVE",
                "timeZone": "Asia/Seoul",
                "startDate": day(base, 0),
                "targetDate": day(base, 150),
                "budget": { "amount": 2_400_000_000_i64, "currency": "KRW" }
            }),
        )
        .await?;
    client.staff(owner, &program, editor, viewer).await?;

    let mut teams = std::collections::HashMap::new();
    for (key, name, description) in [
        (
            "platform",
            "Platform (플랫폼)",
            "Kubernetes clusters, service mesh, CI/CD",
        ),
        (
            "payments",
            "Payments (결제)",
            "Payment services and their owners",
        ),
        ("data", "Data (데이터)", "Databases, CDC and reporting"),
        ("sre", "SRE", "Observability, on-call, capacity"),
        ("security", "Security (보안)", "PCI DSS scope and secrets"),
        (
            "identity",
            "Identity (인증)",
            "Sign-in, SSO and customer accounts",
        ),
    ] {
        let team = match client
            .create(
                owner,
                "createTeam",
                "team",
                json!({ "name": name, "description": description }),
            )
            .await
        {
            Ok(id) => id,
            // A team of that name may exist already; find it by name.
            Err(_) => {
                let data = client
                    .run(
                        owner,
                        "query($s: String) { teams(filter: { search: $s }) { nodes { id name } } }",
                        json!({ "s": name }),
                    )
                    .await?;
                data["teams"]["nodes"][0]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            }
        };
        teams.insert(key, team);
    }

    // (key, name, team, lead, start offset, length in days, status, progress)
    let plan = [
        (
            "cluster",
            "Production clusters (운영 클러스터 구축)",
            "platform",
            owner,
            0,
            25,
            "DONE",
            100,
        ),
        (
            "mesh",
            "Service mesh rollout (서비스 메시 도입)",
            "platform",
            editor,
            26,
            30,
            "IN_PROGRESS",
            40,
        ),
        (
            "cicd",
            "CI/CD pipelines (배포 파이프라인)",
            "platform",
            editor,
            10,
            35,
            "IN_PROGRESS",
            70,
        ),
        (
            "observability",
            "Observability stack (관측성)",
            "sre",
            editor,
            5,
            40,
            "IN_PROGRESS",
            60,
        ),
        (
            "cdc",
            "Database CDC (변경 데이터 캡처)",
            "data",
            owner,
            15,
            45,
            "IN_PROGRESS",
            35,
        ),
        (
            "secrets",
            "Secrets to Vault (시크릿 이전)",
            "security",
            owner,
            20,
            20,
            "BLOCKED",
            20,
        ),
        (
            "pci",
            "PCI DSS re-scoping (PCI 범위 재정의)",
            "security",
            owner,
            45,
            25,
            "NOT_STARTED",
            0,
        ),
        (
            "gateway",
            "Payment gateway move (결제 게이트웨이 이전)",
            "payments",
            editor,
            57,
            30,
            "NOT_STARTED",
            0,
        ),
        (
            "ledger",
            "Ledger service move (원장 서비스 이전)",
            "payments",
            editor,
            61,
            35,
            "NOT_STARTED",
            0,
        ),
        (
            "refunds",
            "Refund workers move (환불 워커 이전)",
            "payments",
            owner,
            60,
            20,
            "NOT_STARTED",
            0,
        ),
        (
            "cutover",
            "Traffic cutover (트래픽 전환)",
            "sre",
            owner,
            100,
            14,
            "NOT_STARTED",
            0,
        ),
        (
            "decommission",
            "VM decommission (VM 폐기)",
            "platform",
            owner,
            130,
            15,
            "NOT_STARTED",
            0,
        ),
    ];
    let mut ws = std::collections::HashMap::new();
    for (key, name, team, lead, start, length, status, progress) in plan {
        // What happened: the mesh started four days late, the clusters
        // finished three days late.
        let started =
            (status != "NOT_STARTED").then(|| day(base, start + if key == "mesh" { 4 } else { 0 }));
        let finished = (status == "DONE").then(|| day(base, start + length + 3));
        let id = client
            .create(
                owner,
                "createWorkstream",
                "workstream",
                json!({
                    "programId": program,
                    "name": name,
                    "teamId": teams[team],
                    "leadId": lead.id.to_string(),
                    "startDate": day(base, start),
                    "targetDate": day(base, start + length),
                    "status": status,
                    "startedOn": started,
                    "finishedOn": finished,
                    "progress": progress,
                    "health": if status == "BLOCKED" { "AT_RISK" } else { "ON_TRACK" },
                }),
            )
            .await?;
        ws.insert(key, id);
    }
    // A workstream still waiting for dates: listed as unscheduled.
    client
        .create(
            owner,
            "createWorkstream",
            "workstream",
            json!({ "programId": program, "name": "Chaos game day (카오스 훈련)", "teamId": teams["sre"] }),
        )
        .await?;

    for (key, name, due, done) in [
        ("cluster", "Clusters pass load test", 20, true),
        ("mesh", "mTLS on in staging", 45, false),
        ("cdc", "Ledger tables replicating", 50, false),
        ("gateway", "Shadow traffic at 10%", 75, false),
        ("cutover", "50% of traffic on Kubernetes", 107, false),
    ] {
        client
            .create(
                editor,
                "createMilestone",
                "milestone",
                json!({
                    "workstreamId": ws[key],
                    "name": name,
                    "dueDate": day(base, due),
                    "completedAt": if done { Some((Utc::now() - Duration::days(15)).to_rfc3339()) } else { None },
                }),
            )
            .await?;
    }

    // Another program the gateway move waits on: customer SSO, owned by the
    // identity team, under way.
    let identity = client
        .create(
            owner,
            "createProgram",
            "program",
            json!({
                "key": "IDP",
                "name": "Identity platform (인증 플랫폼)",
                "status": "ACTIVE",
                "timeZone": "Asia/Seoul",
                "startDate": day(base, 0),
                "targetDate": day(base, 90),
            }),
        )
        .await?;
    client.staff(owner, &identity, editor, viewer).await?;
    let sso = client
        .create(
            owner,
            "createWorkstream",
            "workstream",
            json!({
                "programId": identity,
                "name": "Customer SSO (고객 SSO)",
                "teamId": teams["identity"],
                "startDate": day(base, 10),
                "targetDate": day(base, 45),
                "status": "IN_PROGRESS",
                "startedOn": day(base, 12),
                "progress": 60,
            }),
        )
        .await?;
    ws.insert("sso", sso.clone());

    // The plan as first laid out, before the dependencies push work later
    // and SSO slips, so the baseline's variance has something to show.
    client
        .run(
            owner,
            "mutation($input: CaptureBaselineInput!) { captureBaseline(input: $input) { baseline { id } } }",
            json!({ "input": { "programId": program, "name": "Kickoff" } }),
        )
        .await?;

    // (upstream, downstream, needed-by offset from today, status, promised offset)
    let dependencies = [
        ("cluster", "mesh", -20, "RESOLVED", None),
        ("cluster", "cicd", -30, "RESOLVED", None),
        ("cluster", "observability", -35, "RESOLVED", None),
        ("secrets", "cdc", -5, "OPEN", Some(6)),
        ("mesh", "gateway", 16, "AT_RISK", Some(25)),
        ("mesh", "ledger", 20, "OPEN", Some(18)),
        ("cdc", "ledger", 20, "OPEN", Some(20)),
        ("secrets", "pci", 4, "OPEN", None),
        ("pci", "gateway", 16, "OPEN", Some(15)),
        ("cicd", "refunds", 19, "OPEN", Some(10)),
        ("observability", "cutover", 55, "OPEN", Some(40)),
        ("gateway", "cutover", 59, "OPEN", None),
        ("ledger", "cutover", 59, "OPEN", None),
        ("refunds", "cutover", 59, "OPEN", None),
        ("cutover", "decommission", 89, "OPEN", None),
    ];
    let mut dependency_ids = Vec::new();
    for (up, down, needed, status, promised) in dependencies {
        // The downstream lead asks; the upstream side answers with a date.
        let id = client
            .create(
                editor,
                "createDependency",
                "dependency",
                json!({
                    "upstreamId": ws[up],
                    "downstreamId": ws[down],
                    "neededBy": day(today, needed),
                    "status": status,
                    "description": format!("{down} waits on {up}"),
                }),
            )
            .await?;
        if let Some(promised) = promised {
            client
                .run(
                    owner,
                    "mutation($input: CommitDependencyInput!) { commitDependency(input: $input) { dependency { id } } }",
                    json!({ "input": { "id": id, "committedDate": day(today, promised), "note": "Agreed in the weekly program review." } }),
                )
                .await?;
        }
        dependency_ids.push(id);
    }
    // The TPM has caught up with the requests so far.
    client
        .run(
            owner,
            "mutation { markNotificationsRead(input: { all: true }) { markedCount } }",
            json!({}),
        )
        .await?;

    // Two requests to the identity team: SSO, still waiting for an answer,
    // and fraud signals, which they declined.
    client
        .create(
            editor,
            "createDependency",
            "dependency",
            json!({
                "upstreamId": sso,
                "downstreamId": ws["gateway"],
                "neededBy": day(today, 16),
                "description": "The new gateway signs customers in with SSO (게이트웨이 SSO 연동)",
            }),
        )
        .await?;
    let fraud = client
        .create(
            owner,
            "createWorkstream",
            "workstream",
            json!({
                "programId": identity,
                "name": "Fraud signals API (이상거래 신호 API)",
                "teamId": teams["identity"],
                "startDate": day(today, 20),
                "targetDate": day(today, 60),
            }),
        )
        .await?;
    let declined = client
        .create(
            owner,
            "createDependency",
            "dependency",
            json!({
                "upstreamId": fraud,
                "downstreamId": ws["refunds"],
                "neededBy": day(today, 19),
                "description": "Refund workers score refunds with fraud signals",
            }),
        )
        .await?;
    client
        .run(
            editor,
            "mutation($input: DeclineDependencyInput!) { declineDependency(input: $input) { dependency { id } } }",
            json!({ "input": { "id": declined, "reason": "The identity team is on the EU launch until next quarter; use the nightly batch export meanwhile. (EU 출시로 다음 분기까지 불가)" } }),
        )
        .await?;

    // Since the kickoff, SSO slipped seven weeks: the gateway move, in the
    // payments program, now gets it after it needs it, and the cutover and
    // the decommission move with it past the program's target.
    client
        .run(
            owner,
            "mutation($input: UpdateWorkstreamInput!) { updateWorkstream(input: $input) { workstream { id } } }",
            json!({ "input": { "id": sso, "targetDate": day(base, 95) } }),
        )
        .await?;

    let kafka = client
        .create(
            owner,
            "createDecision",
            "decision",
            json!({
                "programId": program,
                "title": "Run our own Kafka for CDC",
                "context": "CDC needs a durable log between the legacy databases and the new services.",
                "options": [
                    { "title": "Self-hosted Kafka", "pros": "Full control", "cons": "We operate it" },
                    { "title": "Managed streaming", "pros": "No operations", "cons": "Vendor cost" }
                ],
                "dueDate": day(today, -25),
            }),
        )
        .await?;
    client
        .run(
            owner,
            "mutation($input: DecideDecisionInput!) { decideDecision(input: $input) { decision { id } } }",
            json!({ "input": { "id": kafka, "status": "ACCEPTED", "outcome": "Self-hosted Kafka", "rationale": "Cheapest at our volume." } }),
        )
        .await?;
    let managed = client
        .create(
            owner,
            "createDecision",
            "decision",
            json!({
                "programId": program,
                "title": "Switch CDC to managed streaming (관리형 스트리밍으로 전환)",
                "context": "Operating Kafka took two engineers for a month; the SRE team cannot carry it.",
                "supersedesId": kafka,
                "options": [{ "title": "Managed streaming" }, { "title": "Keep self-hosted Kafka" }],
                "dueDate": day(today, -3),
            }),
        )
        .await?;
    client
        .run(
            owner,
            "mutation($input: DecideDecisionInput!) { decideDecision(input: $input) { decision { id } } }",
            json!({ "input": { "id": managed, "status": "ACCEPTED", "outcome": "Managed streaming", "rationale": "Frees two engineers for the ledger move." } }),
        )
        .await?;
    let mut open_decisions = Vec::new();
    for (title, due, decided) in [
        (
            "Cut over by region or by merchant tier? (지역별 전환 vs 가맹점 등급별 전환)",
            10,
            None,
        ),
        (
            "Freeze payment features during cutover week",
            30,
            Some("ACCEPTED"),
        ),
        ("Keep VMs warm for 30 days after cutover", 80, None),
        ("Adopt Vault agent injector", -10, Some("ACCEPTED")),
        ("Move refunds before the ledger", -8, Some("REJECTED")),
        (
            "Error budget for the cutover (전환 기간 오류 예산)",
            20,
            None,
        ),
    ] {
        let id = client
            .create(
                editor,
                "createDecision",
                "decision",
                json!({ "programId": program, "title": title, "dueDate": day(today, due), "options": [{ "title": "Yes" }, { "title": "No" }] }),
            )
            .await?;
        if let Some(status) = decided {
            client
                .run(
                    owner,
                    "mutation($input: DecideDecisionInput!) { decideDecision(input: $input) { decision { id } } }",
                    json!({ "input": { "id": id, "status": status, "outcome": status, "rationale": "Agreed in the weekly program review." } }),
                )
                .await?;
        } else {
            open_decisions.push(id);
        }
    }
    // The conversation on how to cut over, with the people it needs.
    for (author, body, mentioned) in [
        (
            editor,
            "By merchant tier: the small merchants first, so a bad night hurts the fewest. Jiwoo, can finance live with two cutover weekends?",
            vec![owner],
        ),
        (
            owner,
            "Finance is fine with two weekends. 민준 님, 가맹점 등급별 전환으로 진행해도 될까요? We decide on Friday.",
            vec![viewer],
        ),
    ] {
        let mention_ids: Vec<String> = mentioned.iter().map(|user| user.id.to_string()).collect();
        client
            .create(
                author,
                "addComment",
                "comment",
                json!({ "subjectId": open_decisions[0], "body": body, "mentionIds": mention_ids }),
            )
            .await?;
    }

    for (title, likelihood, impact, status, on_ws, on_dep) in [
        (
            "Vault migration slips past the CDC start (볼트 이전 지연)",
            4,
            5,
            "OPEN",
            Some("secrets"),
            Some(3),
        ),
        (
            "Service mesh adds latency to payment calls",
            3,
            4,
            "MITIGATING",
            Some("mesh"),
            None,
        ),
        (
            "PCI auditor unavailable in the cutover window",
            2,
            5,
            "OPEN",
            Some("pci"),
            None,
        ),
        (
            "Ledger double-writes diverge during migration (원장 불일치)",
            3,
            5,
            "OPEN",
            Some("ledger"),
            None,
        ),
        (
            "Key engineers on leave in peak season",
            3,
            3,
            "OPEN",
            None,
            None,
        ),
        (
            "Legacy VM lease cannot be extended",
            2,
            4,
            "ACCEPTED",
            Some("decommission"),
            None,
        ),
        (
            "Observability costs exceed budget",
            3,
            2,
            "OPEN",
            Some("observability"),
            None,
        ),
        (
            "Gateway vendor certificate renewal",
            1,
            4,
            "CLOSED",
            Some("gateway"),
            None,
        ),
        (
            "Refund workers depend on deprecated queue",
            2,
            3,
            "MITIGATING",
            Some("refunds"),
            None,
        ),
        (
            "Mesh waits on a platform upgrade (메시 의존성 위험)",
            4,
            4,
            "OPEN",
            None,
            Some(4),
        ),
    ] {
        client
            .create(
                editor,
                "createRisk",
                "risk",
                json!({
                    "programId": program,
                    "title": title,
                    "likelihood": likelihood,
                    "impact": impact,
                    "status": status,
                    "ownerId": owner.id.to_string(),
                    "workstreamId": on_ws.map(|key| ws[key].clone()),
                    "dependencyId": on_dep.map(|i: usize| dependency_ids[i].clone()),
                    "mitigation": "Tracked weekly in the program review.",
                }),
            )
            .await?;
    }

    for (health, summary, korean) in [
        (
            "ON_TRACK",
            "Clusters are live and passed the load test. CI/CD and observability are on plan.",
            "클러스터가 가동되었고 부하 테스트를 통과했습니다. CI/CD와 관측성도 계획대로 진행 중입니다.",
        ),
        (
            "AT_RISK",
            "Vault migration is blocked on the HSM order, so CDC cannot start; the gateway move is at risk behind the mesh.",
            "볼트 이전이 HSM 발주로 막혀 CDC 착수가 지연되고 있으며, 게이트웨이 이전도 메시 작업에 밀려 위태롭습니다.",
        ),
    ] {
        let translations = json!([{ "locale": "KO", "summary": korean }]);
        client
            .run(
                owner,
                "mutation($input: PostStatusUpdateInput!) { postStatusUpdate(input: $input) { statusUpdate { id } } }",
                json!({ "input": { "programId": program, "health": health, "summary": summary, "translations": translations } }),
            )
            .await?;
    }
    // A change after the last status update, so the brief has something new to report.
    client
        .run(
            editor,
            "mutation($input: UpdateWorkstreamInput!) { updateWorkstream(input: $input) { workstream { id } } }",
            json!({ "input": { "id": ws["mesh"], "progress": 45 } }),
        )
        .await?;
    Ok(Some(sign_ins))
}
