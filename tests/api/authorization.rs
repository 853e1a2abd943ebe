//! The role matrix: who may run every mutation and root query, in one table.
//!
//! A row is an operation and the rule for it; every row runs as every role.
//! Besides the outcome the rule gives, an allowed write records one audit
//! event, a refused call writes nothing, and a non-member is refused exactly
//! as for an id that does not exist. Another entity is more rows here; a test
//! checks that every field of `Mutation` and `Query` has one, so nothing is
//! added unreviewed.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use crate::fixtures::{
    Cast, api_token, cast, comment, decision, dependency, milestone, mutate, mutation_document,
    program, risk, set_member, team, workstream,
};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, TestUser, error_code, spawn_app};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Admin,
    Owner,
    Editor,
    Viewer,
    Outsider,
    Anonymous,
}

const ROLES: [Role; 6] = [
    Role::Admin,
    Role::Owner,
    Role::Editor,
    Role::Viewer,
    Role::Outsider,
    Role::Anonymous,
];

/// Who may do what.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// OWNER (and ADMIN); other members FORBIDDEN; non-members NOT_FOUND.
    Manage,
    /// OWNER and EDITOR (and ADMIN); VIEWER FORBIDDEN; non-members NOT_FOUND.
    Edit,
    /// Any member (and ADMIN) reads it; a non-member gets null, no error.
    Read,
    /// Any signed-in user.
    SignedIn,
    /// ADMIN only; others FORBIDDEN.
    AdminOnly,
    /// Anyone, signed in or not.
    Anyone,
    /// The team's creator (the owner here) and ADMIN; others FORBIDDEN.
    TeamCreator,
    /// The token's holder (the owner here) and ADMIN; others NOT_FOUND.
    TokenHolder,
    /// A member leaving: any but the last OWNER (BAD_USER_INPUT); who is not
    /// a member, the ADMIN included, has nothing to leave (NOT_FOUND).
    Leave,
    /// The author of a comment (the owner here) alone; other members and
    /// the ADMIN FORBIDDEN; non-members NOT_FOUND.
    Author,
}

enum Outcome {
    Allowed,
    Null,
    Refused(&'static str),
}

fn expected(rule: Rule, role: Role) -> Outcome {
    use Outcome::*;
    use Role::*;
    if role == Anonymous && !matches!(rule, Rule::Anyone) {
        return Refused("UNAUTHENTICATED");
    }
    match (rule, role) {
        (Rule::Anyone | Rule::SignedIn, _) => Allowed,
        (Rule::AdminOnly, Admin) => Allowed,
        (Rule::AdminOnly, _) => Refused("FORBIDDEN"),
        (Rule::Leave, Owner) => Refused("BAD_USER_INPUT"),
        (Rule::Leave, Editor | Viewer) => Allowed,
        (Rule::Leave, _) => Refused("NOT_FOUND"),
        (Rule::Author, Owner) => Allowed,
        (Rule::Author, Admin | Editor | Viewer) => Refused("FORBIDDEN"),
        (_, Admin | Owner) => Allowed,
        (Rule::Manage, Editor | Viewer) => Refused("FORBIDDEN"),
        (Rule::Edit, Editor) => Allowed,
        (Rule::Edit, Viewer) => Refused("FORBIDDEN"),
        (Rule::Read, Editor | Viewer) => Allowed,
        (Rule::Read, Outsider) => Null,
        (Rule::TeamCreator, _) => Refused("FORBIDDEN"),
        (Rule::TokenHolder, _) => Refused("NOT_FOUND"),
        (_, _) => Refused("NOT_FOUND"),
    }
}

/// The program's cast and one object of each kind, all the owner's.
struct Fixture {
    cast: Cast,
    team: String,
    workstream: String,
    dependency: String,
    decision: String,
    risk: String,
    /// The owner's portfolio holding the program.
    portfolio: String,
    /// The owner's goal of the program.
    goal: String,
}

impl Fixture {
    /// Who plays `role`; nobody for an anonymous caller.
    fn user(&self, role: Role) -> Option<&TestUser> {
        match role {
            Role::Admin => Some(&self.cast.admin),
            Role::Owner => Some(&self.cast.owner),
            Role::Editor => Some(&self.cast.editor),
            Role::Viewer => Some(&self.cast.viewer),
            Role::Outsider => Some(&self.cast.outsider),
            Role::Anonymous => None,
        }
    }

    /// Who plays `role`, to give them a new token.
    fn user_mut(&mut self, role: Role) -> Option<&mut TestUser> {
        match role {
            Role::Admin => Some(&mut self.cast.admin),
            Role::Owner => Some(&mut self.cast.owner),
            Role::Editor => Some(&mut self.cast.editor),
            Role::Viewer => Some(&mut self.cast.viewer),
            Role::Outsider => Some(&mut self.cast.outsider),
            Role::Anonymous => None,
        }
    }
}

/// Which token a row's call is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bearer {
    /// The role's token of the fixture.
    Fixture,
    /// A signed token of the role's user minted for the call alone, so that
    /// a call ending it (`logout`) leaves the fixture's token working.
    Minted,
    /// As `Minted`, for a call that ends every signed token of its user
    /// (`logoutEverywhere`): the fixture's token of the role is replaced
    /// afterwards by one issued later, so later rows still sign in.
    MintedEndingAll,
}

/// A signed token of `user` unlike any other: its lifetime is random.
fn minted(app: &TestApp, user: &TestUser) -> String {
    let seconds = 3_600 + (uuid::Uuid::now_v7().as_u128() % 100_000) as i64;
    let id = uuid::Uuid::parse_str(&user.id).expect("a user id");
    app.server
        .domain
        .jwt
        .issue_with_ttl(id, chrono::Duration::seconds(seconds), None)
        .expect("a token")
        .0
}

/// Builds a row's variables for a caller in a role, creating what the call
/// uses up as the owner.
type Setup = for<'a> fn(&'a TestApp, &'a Fixture, Role) -> BoxFuture<'a, Value>;

/// Creates, as the owner, the object a row's call uses up; returns its id.
type Maker = for<'a> fn(&'a TestApp, &'a Fixture) -> BoxFuture<'a, String>;

/// Where a row's variables come from.
enum Variables {
    /// The fixture's objects alone.
    Of(fn(&Fixture) -> Value),
    /// The `id` of one of the fixture's objects.
    Id(fn(&Fixture) -> &String),
    /// The `id` of an object made for the call.
    Made(Maker),
    /// The input built around the `id` of an object made for the call.
    MadeWith(Maker, fn(&str) -> Value),
    /// Made for the call and the caller's role.
    Fresh(Setup),
}

struct Case {
    field: &'static str,
    mutation: bool,
    rule: Rule,
    document: String,
    /// A mutation's `input`, or a query's variables.
    variables: Variables,
    /// How many history entries an allowed call records.
    audited: i64,
    /// The token the call is sent with.
    bearer: Bearer,
}

impl Case {
    /// The same case with its input built around the made object's id.
    fn with_input(self, input: fn(&str) -> Value) -> Self {
        let variables = match self.variables {
            Variables::Made(make) | Variables::MadeWith(make, _) => {
                Variables::MadeWith(make, input)
            }
            other => other,
        };
        Self { variables, ..self }
    }

    /// The same mutation, whose input type is not named after it.
    fn taking(self, input_type: &str) -> Self {
        let (_, rest) = self
            .document
            .split_once('!')
            .expect("a mutation taking an input");
        let document = format!("mutation($input: {input_type}!{rest}");
        Self { document, ..self }
    }
}

/// Mutation `field`, answering `selection`, with the input built from the fixture.
fn write(rule: Rule, field: &'static str, selection: &str, input: fn(&Fixture) -> Value) -> Case {
    write_with(rule, field, selection, Variables::Of(input))
}

/// Mutation `field`, answering `selection`, with the input from `variables`.
fn write_with(rule: Rule, field: &'static str, selection: &str, variables: Variables) -> Case {
    Case {
        field,
        mutation: true,
        rule,
        document: mutation_document(field, selection),
        variables,
        audited: 1,
        bearer: Bearer::Fixture,
    }
}

/// Mutation `field { selection }`, which takes no input, sent with a token
/// made for the call.
fn end_session(rule: Rule, field: &'static str, selection: &str, bearer: Bearer) -> Case {
    Case {
        field,
        mutation: true,
        rule,
        document: format!("mutation {{ {field} {{ {selection} }} }}"),
        variables: Variables::Of(|_| json!({})),
        audited: 1,
        bearer,
    }
}

/// Root query `field` as `document`, with the variables built from the fixture.
fn read(rule: Rule, field: &'static str, document: &str, variables: fn(&Fixture) -> Value) -> Case {
    Case {
        field,
        mutation: false,
        rule,
        document: document.to_owned(),
        variables: Variables::Of(variables),
        audited: 0,
        bearer: Bearer::Fixture,
    }
}

/// Root query `field(id: $id) { id }` of one of the fixture's objects.
fn lookup(rule: Rule, field: &'static str, id: fn(&Fixture) -> &String) -> Case {
    Case {
        field,
        mutation: false,
        rule,
        document: format!("query($id: ID!) {{ {field}(id: $id) {{ id }} }}"),
        variables: Variables::Id(id),
        audited: 0,
        bearer: Bearer::Fixture,
    }
}

/// A new program with the cast in their roles, for a row whose call would
/// change who is in the fixture's program.
async fn program_of_its_own(app: &TestApp, f: &Fixture) -> String {
    let c = &f.cast;
    let program = program(app, &c.owner, &unique_key(), json!({})).await;
    set_member(app, &c.owner, &program, &c.editor, "EDITOR").await;
    set_member(app, &c.owner, &program, &c.viewer, "VIEWER").await;
    program
}

/// A workstream of the program, made for a row that uses one up.
async fn fresh_workstream(app: &TestApp, f: &Fixture) -> String {
    workstream(app, &f.cast.owner, &f.cast.program, "Fresh", json!({})).await
}

/// A webhook of the program (to a public name that never answers here), for a row that uses one up.
async fn fresh_webhook(app: &TestApp, f: &Fixture) -> String {
    let created = crate::fixtures::mutate(
        app,
        &f.cast.owner,
        "createWebhook",
        json!({ "programId": f.cast.program, "url": "https://hooks.example.com/matrix", "events": ["baseline.capture"] }),
        "webhook { id }",
    )
    .await;
    created["webhook"]["id"].as_str().unwrap().to_owned()
}

/// A delivery of a fresh webhook, for a row that sends it again.
async fn fresh_delivery(app: &TestApp, f: &Fixture) -> String {
    let hook = fresh_webhook(app, f).await;
    let baseline = json!({ "programId": f.cast.program, "name": "For the webhook" });
    crate::fixtures::mutate(
        app,
        &f.cast.owner,
        "captureBaseline",
        baseline,
        "baseline { id }",
    )
    .await;
    let read = app
        .as_user(
            &f.cast.owner,
            "query($p: ID!) { program(id: $p) { webhooks(first: 20) { nodes { id deliveries(first: 1) { nodes { id } } } } } }",
            json!({ "p": f.cast.program }),
        )
        .await;
    read["data"]["program"]["webhooks"]["nodes"]
        .as_array()
        .and_then(|hooks| hooks.iter().find(|h| h["id"] == hook.as_str()))
        .and_then(|h| h["deliveries"]["nodes"][0]["id"].as_str())
        .unwrap_or_else(|| panic!("a delivery: {read}"))
        .to_owned()
}

/// A milestone of the fixture's workstream, for a row that uses one up.
async fn fresh_milestone(app: &TestApp, f: &Fixture) -> String {
    milestone(app, &f.cast.owner, &f.workstream, "M", json!({})).await
}

/// A dependency between two fresh workstreams, for a row that answers it.
async fn fresh_dependency(app: &TestApp, f: &Fixture) -> String {
    let (upstream, downstream) = fresh_pair(app, f).await;
    dependency(app, &f.cast.owner, &upstream, &downstream, json!({})).await
}

/// A comment of the owner's on the fixture's risk, for a row that changes it.
async fn fresh_comment(app: &TestApp, f: &Fixture) -> String {
    comment(app, &f.cast.owner, &f.risk, "Owner's note", &[]).await
}

/// Two workstreams of the program, for a dependency between them.
async fn fresh_pair(app: &TestApp, f: &Fixture) -> (String, String) {
    (
        fresh_workstream(app, f).await,
        fresh_workstream(app, f).await,
    )
}

fn unique_key() -> String {
    let n = uuid::Uuid::now_v7().as_u128() % 100_000_000;
    format!("K{n}")
}

fn unique(name: &str) -> String {
    format!("{name} {}", uuid::Uuid::now_v7().simple())
}

fn cases() -> Vec<Case> {
    use Rule::*;
    use Variables::{Fresh, Made};
    vec![
        Case {
            audited: 0,
            ..write(
                Anyone,
                "login",
                "token",
                |_| json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }),
            )
        },
        write(AdminOnly, "createUser", "user { id }", |_| {
            let email = format!("{}@matrix.test", uuid::Uuid::now_v7().simple());
            json!({ "email": email, "name": "New", "password": "password-123" })
        }),
        write(
            SignedIn,
            "createApiToken",
            "token",
            |_| json!({ "name": "matrix" }),
        ),
        write_with(
            TokenHolder,
            "revokeApiToken",
            "apiToken { id }",
            Made(|app, f| Box::pin(async move { api_token(app, &f.cast.owner, "t").await.1 })),
        ),
        write(
            SignedIn,
            "createTeam",
            "team { id }",
            |_| json!({ "name": unique("Team") }),
        ),
        write(
            TeamCreator,
            "updateTeam",
            "team { id }",
            |f| json!({ "id": f.team, "description": "changed" }),
        ),
        write(SignedIn, "createPortfolio", "portfolio { id }", |_| {
            json!({ "name": unique("Portfolio") })
        }),
        write(Edit, "createGoal", "goal { id }", |f| {
            json!({ "title": "Goal", "metric": "m", "unit": "%", "baselineValue": 1.0, "targetValue": 2.0, "programIds": [f.cast.program] })
        }),
        write(Edit, "updateGoal", "goal { id }", |f| {
            json!({ "id": f.goal, "title": "Changed" })
        }),
        write(Edit, "recordGoalValue", "goal { id }", |f| {
            json!({ "goalId": f.goal, "value": 1.5 })
        }),
        write(Manage, "updatePortfolio", "portfolio { id }", |f| {
            json!({ "id": f.portfolio, "description": "changed" })
        }),
        write(Manage, "setPortfolioPrograms", "portfolio { id }", |f| {
            json!({ "id": f.portfolio, "programIds": [f.cast.program] })
        }),
        write(
            TeamCreator,
            "updateTeam",
            "team { id capacityDaysPerWeek }",
            |f| json!({ "id": f.team, "capacityDaysPerWeek": 12.5 }),
        ),
        write(
            SignedIn,
            "createProgram",
            "program { id }",
            |_| json!({ "key": unique_key(), "name": "New" }),
        ),
        write(
            Manage,
            "updateProgram",
            "program { id }",
            |f| json!({ "id": f.cast.program, "objective": "changed" }),
        ),
        write(
            Manage,
            "archiveProgram",
            "program { id }",
            |f| json!({ "id": f.cast.program, "archived": false }),
        ),
        write_with(
            Manage,
            "setProgramMember",
            "member { role }",
            Fresh(|app, f, _| {
                Box::pin(async move {
                    let user = app.member("Fresh").await;
                    json!({ "programId": f.cast.program, "userId": user.id, "role": "VIEWER" })
                })
            }),
        ),
        write_with(
            Manage,
            "removeProgramMember",
            "removedUserId",
            Fresh(|app, f, _| {
                Box::pin(async move {
                    let user = app.member("Fresh").await;
                    set_member(app, &f.cast.owner, &f.cast.program, &user, "VIEWER").await;
                    json!({ "programId": f.cast.program, "userId": user.id })
                })
            }),
        ),
        write_with(
            Manage,
            "setProgramMember",
            "member { role }",
            Fresh(|app, f, role| {
                Box::pin(async move {
                    // Promoting oneself, in a program of its own.
                    let program = program_of_its_own(app, f).await;
                    let promoted = f.user(role).unwrap_or(&f.cast.outsider);
                    json!({ "programId": program, "userId": promoted.id, "role": "OWNER" })
                })
            }),
        ),
        write_with(
            Leave,
            "removeProgramMember",
            "removedUserId",
            Fresh(|app, f, role| {
                Box::pin(async move {
                    let program = program_of_its_own(app, f).await;
                    let leaving = f.user(role).unwrap_or(&f.cast.outsider);
                    json!({ "programId": program, "userId": leaving.id })
                })
            }),
        ),
        write(
            Edit,
            "createWorkstream",
            "workstream { id }",
            |f| json!({ "programId": f.cast.program, "name": "By role" }),
        ),
        write(
            Edit,
            "updateWorkstream",
            "workstream { id }",
            |f| json!({ "id": f.workstream, "progress": 10 }),
        ),
        write(
            Edit,
            "updateWorkstream",
            "workstream { id priority effortDays }",
            |f| json!({ "id": f.workstream, "priority": "P0", "effortDays": 4.5 }),
        ),
        write(
            Edit,
            "upsertWorkstream",
            "workstream { id } created",
            |f| json!({ "programId": f.cast.program, "externalId": "SYNC-1", "name": "Synced" }),
        ),
        write_with(
            Edit,
            "deleteWorkstream",
            "deletedWorkstreamId",
            Made(|app, f| Box::pin(fresh_workstream(app, f))),
        ),
        write(
            Edit,
            "createMilestone",
            "milestone { id }",
            |f| json!({ "workstreamId": f.workstream, "name": "M" }),
        ),
        write_with(
            Edit,
            "updateMilestone",
            "milestone { id }",
            Fresh(|app, f, _| {
                Box::pin(
                    async move { json!({ "id": fresh_milestone(app, f).await, "name": "M2" }) },
                )
            }),
        ),
        write_with(
            Edit,
            "deleteMilestone",
            "deletedMilestoneId",
            Made(|app, f| Box::pin(fresh_milestone(app, f))),
        ),
        write_with(
            Edit,
            "createDependency",
            "dependency { id }",
            Fresh(|app, f, _| {
                Box::pin(async move {
                    let (upstream, downstream) = fresh_pair(app, f).await;
                    json!({ "upstreamId": upstream, "downstreamId": downstream })
                })
            }),
        ),
        write(
            Edit,
            "updateDependency",
            "dependency { id }",
            |f| json!({ "id": f.dependency, "description": "changed" }),
        ),
        write_with(
            Edit,
            "deleteDependency",
            "deletedDependencyId",
            Made(|app, f| {
                Box::pin(async move {
                    let (upstream, downstream) = fresh_pair(app, f).await;
                    dependency(app, &f.cast.owner, &upstream, &downstream, json!({})).await
                })
            }),
        ),
        write(
            Edit,
            "createDecision",
            "decision { id }",
            |f| json!({ "programId": f.cast.program, "title": "Pick" }),
        ),
        write(
            Edit,
            "updateDecision",
            "decision { id }",
            |f| json!({ "id": f.decision, "context": "changed" }),
        ),
        write_with(
            Edit,
            "decideDecision",
            "decision { id }",
            Fresh(|app, f, _| {
                Box::pin(async move {
                    let c = &f.cast;
                    let id = decision(app, &c.owner, &c.program, "To decide", json!({})).await;
                    json!({ "id": id, "status": "ACCEPTED", "outcome": "Yes", "rationale": "Because" })
                })
            }),
        ),
        write(
            Edit,
            "createRisk",
            "risk { id }",
            |f| json!({ "programId": f.cast.program, "title": "R", "likelihood": 2, "impact": 2 }),
        ),
        write(
            Edit,
            "updateRisk",
            "risk { id }",
            |f| json!({ "id": f.risk, "mitigation": "changed" }),
        ),
        write_with(
            Edit,
            "deleteRisk",
            "deletedRiskId",
            Made(|app, f| {
                let small = json!({ "likelihood": 1, "impact": 1 });
                Box::pin(risk(app, &f.cast.owner, &f.cast.program, "R", small))
            }),
        ),
        Case {
            // One entry per row: the file creates one workstream.
            audited: 1,
            ..write(
                Edit,
                "importProgram",
                "dryRun created { workstreams }",
                |f| json!({ "programId": f.cast.program, "format": "JSON", "data": "{\"workstreams\": [{\"name\": \"Imported\"}]}" }),
            )
        },
        write(
            Manage,
            "createWebhook",
            "webhook { id } secret",
            |f| json!({ "programId": f.cast.program, "url": "https://hooks.example.com/matrix", "events": ["baseline.*"] }),
        ),
        write_with(
            Manage,
            "updateWebhook",
            "webhook { id }",
            Made(|app, f| Box::pin(fresh_webhook(app, f))),
        )
        .with_input(|id| json!({ "id": id, "description": "changed" })),
        write_with(
            Manage,
            "deleteWebhook",
            "deletedWebhookId",
            Made(|app, f| Box::pin(fresh_webhook(app, f))),
        ),
        Case {
            // A new delivery of a recorded change: no history of its own.
            audited: 0,
            ..write_with(
                Manage,
                "redeliverWebhook",
                "delivery { id }",
                Made(|app, f| Box::pin(fresh_delivery(app, f))),
            )
            .with_input(|id| json!({ "deliveryId": id }))
        },
        Case {
            // The update, and the program's health it sets.
            audited: 2,
            ..write(
                Edit,
                "postStatusUpdate",
                "statusUpdate { id }",
                |f| json!({ "programId": f.cast.program, "health": "ON_TRACK", "summary": "Fine", "translations": [{ "locale": "KO", "summary": "정상" }] }),
            )
        },
        write_with(
            Edit,
            "deleteCost",
            "deletedCostId",
            Made(|app, f| {
                Box::pin(async move {
                    let input = json!({ "programId": f.cast.program, "amount": { "amount": 1, "currency": "USD" }, "incurredOn": "2026-01-05", "category": "cloud" });
                    let made = mutate(app, &f.cast.owner, "recordCost", input, "cost { id }").await;
                    made["cost"]["id"].as_str().expect("a cost").to_owned()
                })
            }),
        ),
        write_with(
            Edit,
            "deleteGoal",
            "deletedGoalId",
            Made(|app, f| {
                let input = json!({ "title": "Doomed", "metric": "m", "unit": "%", "baselineValue": 1.0, "targetValue": 2.0, "programIds": [f.cast.program] });
                Box::pin(crate::fixtures::create(app, &f.cast.owner, "createGoal", "goal", input))
            }),
        ),
        write_with(
            Manage,
            "deletePortfolio",
            "deletedPortfolioId",
            Made(|app, f| {
                let input = json!({ "name": "Doomed", "programIds": [f.cast.program] });
                Box::pin(crate::fixtures::create(app, &f.cast.owner, "createPortfolio", "portfolio", input))
            }),
        ),
        write(Edit, "recordCost", "cost { id }", |f| {
            json!({ "programId": f.cast.program, "workstreamId": f.workstream, "amount": { "amount": 100, "currency": "USD" }, "incurredOn": "2026-01-05", "category": "cloud" })
        }),
        write(
            Edit,
            "captureBaseline",
            "baseline { id }",
            |f| json!({ "programId": f.cast.program, "name": "Matrix" }),
        ),
        write(
            SignedIn,
            "updateViewer",
            "user { locale }",
            |_| json!({ "locale": "EN" }),
        ),
        write_with(
            SignedIn,
            "changePassword",
            "user { id }",
            Fresh(|_, _, role| {
                Box::pin(async move {
                    // The same password again, so later rows still sign in.
                    let password = if role == Role::Admin {
                        ADMIN_PASSWORD
                    } else {
                        "password-123"
                    };
                    json!({ "currentPassword": password, "newPassword": password })
                })
            }),
        ),
        write_with(
            Edit,
            "commitDependency",
            "dependency { commitment }",
            Made(|app, f| Box::pin(fresh_dependency(app, f))),
        )
        .with_input(|id| json!({ "id": id, "committedDate": "2026-09-01", "note": "v2 only" })),
        write_with(
            Edit,
            "declineDependency",
            "dependency { commitment }",
            Made(|app, f| Box::pin(fresh_dependency(app, f))),
        )
        .with_input(|id| json!({ "id": id, "reason": "No capacity this quarter" })),
        write_with(
            Edit,
            "deliverDependency",
            "dependency { commitment }",
            Made(|app, f| Box::pin(fresh_dependency(app, f))),
        ),
        write(
            Edit,
            "addComment",
            "comment { id }",
            |f| json!({ "subjectId": f.decision, "body": "Which vendor?", "mentionIds": [f.cast.viewer.id] }),
        ),
        write_with(
            Author,
            "editComment",
            "comment { id }",
            Made(|app, f| Box::pin(fresh_comment(app, f))),
        )
        .with_input(|id| json!({ "id": id, "body": "Edited" })),
        write_with(
            Manage,
            "deleteComment",
            "deletedCommentId",
            Made(|app, f| Box::pin(fresh_comment(app, f))),
        ),
        Case {
            audited: 0,
            ..write(
                SignedIn,
                "markNotificationsRead",
                "markedCount",
                |_| json!({ "all": true }),
            )
        },
        end_session(SignedIn, "logout", "loggedOutAt", Bearer::Minted),
        end_session(
            SignedIn,
            "logoutEverywhere",
            "loggedOutAt",
            Bearer::MintedEndingAll,
        ),
        write_with(
            AdminOnly,
            "updateUser",
            "user { role version }",
            Fresh(|app, _, _| {
                Box::pin(async move {
                    let user = app.member("Fresh").await;
                    json!({ "id": user.id, "role": "ADMIN", "expectedVersion": 1 })
                })
            }),
        ),
        write_with(
            AdminOnly,
            "deactivateUser",
            "user { isActive deactivatedAt }",
            Fresh(|app, _, _| {
                Box::pin(async move { json!({ "id": app.member("Leaver").await.id }) })
            }),
        )
        .taking("UserActivationInput"),
        write_with(
            AdminOnly,
            "reactivateUser",
            "user { isActive deactivatedAt }",
            Fresh(|app, f, _| {
                Box::pin(async move {
                    let user = app.member("Returner").await;
                    let input = json!({ "id": user.id });
                    let deactivate = "mutation($input: UserActivationInput!) { deactivateUser(input: $input) { user { id } } }";
                    let body = app
                        .as_user(&f.cast.admin, deactivate, json!({ "input": input }))
                        .await;
                    assert!(body["errors"].is_null(), "{body}");
                    input
                })
            }),
        )
        .taking("UserActivationInput"),
        read(
            SignedIn,
            "viewer",
            "{ viewer { id notifications(unreadOnly: true) { totalCount nodes { kind message subject { __typename } } } } }",
            |_| json!({}),
        ),
        read(
            AdminOnly,
            "users",
            "{ users { totalCount } }",
            |_| json!({}),
        ),
        read(SignedIn, "programs", "{ programs { totalCount } }", |_| {
            json!({})
        }),
        read(SignedIn, "teams", "{ teams { totalCount } }", |_| json!({})),
        lookup(SignedIn, "team", |f| &f.team),
        read(
            SignedIn,
            "team",
            "query($id: ID!) { team(id: $id) { capacityDaysPerWeek commitments { totalCount } priorityConflicts { overlapDays } load(from: \"2026-03-02\", to: \"2026-03-29\") { weeks { demandDays utilization } } } }",
            |f| json!({ "id": f.team }),
        ),
        lookup(Read, "program", |f| &f.cast.program),
        read(
            SignedIn,
            "portfolios",
            "{ portfolios { totalCount nodes { id } } }",
            |_| json!({}),
        ),
        read(
            Read,
            "portfolio",
            "query($id: ID!) { portfolio(id: $id) { id name programs { totalCount nodes { id } } rollup { programCount openRisks byHealth { health count } spend { amount } budget { amount } latestForecastFinish } brief } }",
            |f| json!({ "id": f.portfolio }),
        ),
        read(
            Read,
            "program",
            "query($id: ID!) { program(id: $id) { criticalPath { durationDays } briefSummary statusUpdates { totalCount } baselines(first: 5) { totalCount nodes { finishDeltaDays variance(first: 50) { deltaDays } milestoneVariance(first: 50) { deltaDays } } } forecastHistory { source } computedHealth { health reasons { code } } milestones { totalCount nodes { isOverdue forecastDate } } schedule { forecastFinish lateDays } bottlenecks(groupBy: TEAM) { downstreamCount } timeZone offTrackAfterDays goals { totalCount nodes { id progress history { nodes { value } } programs { nodes { id } } } } costs { totalCount nodes { id workstream { id } recordedBy { id } } } spend { total { amount } burnRatePerWeek { amount } forecastAtCompletion { amount } } roi expectedBenefit { amount } } }",
            |f| json!({ "id": f.cast.program }),
        ),
        lookup(Read, "workstream", |f| &f.workstream),
        lookup(Read, "dependency", |f| &f.dependency),
        lookup(Read, "decision", |f| &f.decision),
        lookup(Read, "risk", |f| &f.risk),
        lookup(Read, "node", |f| &f.risk),
        read(
            Read,
            "nodes",
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            |f| json!({ "ids": [f.workstream, f.dependency, f.decision] }),
        ),
    ]
}

async fn fixture(app: &TestApp) -> Fixture {
    let cast = cast(app, "MATRIX").await;
    let (owner, program) = (&cast.owner, &cast.program);
    let team = team(app, owner, "Matrix team").await;
    let upstream = workstream(app, owner, program, "Fresh", json!({})).await;
    let downstream = workstream(app, owner, program, "Fresh", json!({})).await;
    let dependency = dependency(app, owner, &upstream, &downstream, json!({})).await;
    let decision = decision(app, owner, program, "Matrix decision", json!({})).await;
    let scored = json!({ "likelihood": 3, "impact": 3 });
    let risk = risk(app, owner, program, "Matrix risk", scored).await;
    let portfolio = crate::fixtures::create(
        app,
        owner,
        "createPortfolio",
        "portfolio",
        json!({ "name": "Matrix portfolio", "programIds": [program] }),
    )
    .await;
    let goal = crate::fixtures::create(
        app,
        owner,
        "createGoal",
        "goal",
        json!({ "title": "Matrix goal", "metric": "m", "unit": "%", "baselineValue": 1.0, "targetValue": 2.0, "programIds": [program] }),
    )
    .await;
    Fixture {
        cast,
        team,
        workstream: upstream,
        dependency,
        decision,
        risk,
        portfolio,
        goal,
    }
}

/// The tables a call may write to, the history last.
const TABLES: [&str; 22] = [
    "users",
    "api_tokens",
    "teams",
    "programs",
    "program_members",
    "workstreams",
    "milestones",
    "dependencies",
    "decisions",
    "decision_options",
    "risks",
    "status_updates",
    "costs",
    "portfolios",
    "portfolio_programs",
    "goals",
    "goal_programs",
    "goal_values",
    "baselines",
    "comments",
    "notifications",
    "audit_events",
];

/// The number of rows of each of `TABLES`, in order.
async fn row_counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        counts.push(app.count_rows(table).await);
    }
    counts
}

/// `variables` with every id of an object (not a user's) replaced by one
/// that names nothing, and the pairs replaced.
fn with_missing_ids(variables: &Value, replaced: &mut Vec<(String, String)>) -> Value {
    match variables {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, value)| {
                    let value = if name == "userId" || name == "mentionIds" {
                        value.clone()
                    } else {
                        with_missing_ids(value, replaced)
                    };
                    (name.clone(), value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| with_missing_ids(item, replaced))
                .collect(),
        ),
        Value::String(id) if uuid::Uuid::parse_str(id).is_ok() => {
            let missing = uuid::Uuid::now_v7().to_string();
            replaced.push((id.clone(), missing.clone()));
            json!(missing)
        }
        other => other.clone(),
    }
}

/// Whether a call answered nothing: null, or a list of nulls (`nodes`).
fn answered_nothing(data: &Value) -> bool {
    match data {
        Value::Null => true,
        Value::Array(items) => !items.is_empty() && items.iter().all(Value::is_null),
        _ => false,
    }
}

/// Every way the call of `case` as `role`, answered with `body`, breaks the
/// rules; `written` is how many rows each of `TABLES` gained.
fn wrongs(case: &Case, role: Role, body: &Value, written: &[i64]) -> Vec<String> {
    let data = &body["data"][case.field];
    let allowed = matches!(expected(case.rule, role), Outcome::Allowed);
    let mut wrongs = Vec::new();
    let as_expected = match expected(case.rule, role) {
        Outcome::Allowed => body["errors"].is_null() && !answered_nothing(data),
        Outcome::Null => body["errors"].is_null() && answered_nothing(data),
        Outcome::Refused(code) => {
            error_code(body) == code && (data.is_null() || body["data"].is_null())
        }
    };
    if !as_expected {
        wrongs.push("the wrong outcome".to_owned());
    }
    let audit_events = *written.last().expect("the history's count");
    if allowed && case.mutation {
        let history = case.audited;
        if audit_events != history {
            wrongs.push(format!("{audit_events} audit events, not {history}"));
        }
    } else if written.iter().any(|rows| *rows != 0) {
        wrongs.push(format!("rows written: {written:?} of {TABLES:?}"));
    }
    wrongs
}

#[tokio::test]
async fn every_operation_allows_and_refuses_exactly_the_right_roles() {
    let app = spawn_app().await;
    let mut f = fixture(&app).await;
    let mut failures = Vec::new();
    for case in cases() {
        for role in ROLES {
            let variables = match &case.variables {
                Variables::Of(build) => build(&f),
                Variables::Id(id) => json!({ "id": id(&f) }),
                Variables::Made(make) => json!({ "id": make(&app, &f).await }),
                Variables::MadeWith(make, input) => input(&make(&app, &f).await),
                Variables::Fresh(setup) => setup(&app, &f, role).await,
            };
            let variables = if case.mutation && case.document.contains("$input") {
                json!({ "input": variables })
            } else {
                variables
            };
            let token = f.user(role).map(|user| match case.bearer {
                Bearer::Fixture => user.token.clone(),
                Bearer::Minted | Bearer::MintedEndingAll => minted(&app, user),
            });
            let token = token.as_deref();
            let before = row_counts(&app).await;
            let body = app.graphql(token, &case.document, variables.clone()).await;
            let written: Vec<i64> = row_counts(&app)
                .await
                .iter()
                .zip(&before)
                .map(|(after, before)| after - before)
                .collect();
            for wrong in wrongs(&case, role, &body, &written) {
                failures.push(format!(
                    "{} as {role:?} ({:?}): {wrong}: {body}\n  {}",
                    case.field, case.rule, case.document
                ));
            }
            // Every earlier token of the user has ended: later rows get a new one.
            if case.bearer == Bearer::MintedEndingAll
                && let Some(user) = f.user_mut(role)
            {
                let id = uuid::Uuid::parse_str(&user.id).expect("a user id");
                user.token = app
                    .server
                    .domain
                    .jwt
                    .issue_after(id, Some(chrono::Utc::now()))
                    .expect("a token")
                    .0;
            }
            // A refused non-member learns nothing: not even that the id exists.
            let hides = matches!(
                expected(case.rule, role),
                Outcome::Null | Outcome::Refused("NOT_FOUND")
            );
            if role == Role::Outsider && hides {
                let mut replaced = Vec::new();
                let missing = with_missing_ids(&variables, &mut replaced);
                if replaced.is_empty() {
                    continue;
                }
                let absent = app.graphql(token, &case.document, missing).await;
                let (mut seen, mut unseen) = (body.to_string(), absent.to_string());
                for (id, missing) in &replaced {
                    seen = seen.replace(id.as_str(), "ID");
                    unseen = unseen.replace(missing.as_str(), "ID");
                }
                if seen != unseen {
                    failures.push(format!(
                        "{} as {role:?}: a hidden id answers {seen}, a missing one {unseen}",
                        case.field
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong outcomes:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_mutation_and_root_query_has_a_row() {
    let sdl = trestle_api::graphql::export_sdl();
    let fields_of = |type_name: &str| -> BTreeSet<String> {
        let start = sdl
            .find(&format!("type {type_name} {{"))
            .expect("type in SDL");
        let body = &sdl[start..start + sdl[start..].find("\n}").unwrap()];
        let mut in_description = false;
        // Inside a field's argument list, which may span lines.
        let mut in_arguments = false;
        let mut fields = BTreeSet::new();
        for line in body.lines().skip(1).map(str::trim) {
            if line.starts_with("\"\"\"") {
                // A one-line `"""text"""` opens and closes at once.
                in_description = !(in_description || (line.len() > 3 && line.ends_with("\"\"\"")));
                continue;
            }
            if in_description || line.is_empty() {
                continue;
            }
            if in_arguments {
                in_arguments = !line.starts_with(')');
                continue;
            }
            if let Some(name) = line.split(['(', ':']).next() {
                fields.insert(name.to_owned());
            }
            in_arguments = line.contains('(') && !line.contains(')');
        }
        fields
    };
    let cases = cases();
    let rows = |mutation: bool| {
        cases
            .iter()
            .filter(|c| c.mutation == mutation)
            .map(|c| c.field.to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        rows(true),
        fields_of("Mutation"),
        "the authorization matrix and the Mutation type disagree"
    );
    assert_eq!(
        rows(false),
        fields_of("Query"),
        "the authorization matrix and the Query type disagree"
    );
}
