//! The role matrix: every mutation and root query, for every role.
//!
//! The table below is the source of truth; a test checks that every field
//! of `Mutation` and `Query` has a row, so nothing is added unreviewed.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_code, spawn_app};

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

struct Fixture {
    admin: TestUser,
    owner: TestUser,
    editor: TestUser,
    viewer: TestUser,
    outsider: TestUser,
    program: String,
    team: String,
    workstream: String,
    dependency: String,
    decision: String,
    risk: String,
}

type Setup = for<'a> fn(&'a TestApp, &'a Fixture) -> BoxFuture<'a, Value>;

struct Case {
    field: &'static str,
    mutation: bool,
    rule: Rule,
    document: &'static str,
    /// Builds the variables, creating a fresh target as the owner if needed.
    variables: Setup,
}

async fn run_as_owner(
    app: &TestApp,
    f: &Fixture,
    document: &str,
    input: Value,
    pointer: &str,
) -> String {
    let body = app
        .as_user(&f.owner, document, json!({ "input": input }))
        .await;
    body.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("setup failed: {body}"))
        .to_owned()
}

async fn new_workstream(app: &TestApp, f: &Fixture) -> String {
    run_as_owner(
        app,
        f,
        "mutation($input: CreateWorkstreamInput!) { createWorkstream(input: $input) { workstream { id } } }",
        json!({ "programId": f.program, "name": "Fresh" }),
        "/data/createWorkstream/workstream/id",
    )
    .await
}

async fn new_user(app: &TestApp) -> String {
    app.member("Fresh").await.id
}

fn unique_key() -> String {
    let n = uuid::Uuid::now_v7().as_u128() % 100_000_000;
    format!("K{n}")
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            field: "login",
            mutation: true,
            rule: Rule::Anyone,
            document: "mutation($input: LoginInput!) { login(input: $input) { token } }",
            variables: |_, _| {
                Box::pin(async {
                    json!({ "input": { "email": crate::helpers::ADMIN_EMAIL, "password": crate::helpers::ADMIN_PASSWORD } })
                })
            },
        },
        Case {
            field: "createUser",
            mutation: true,
            rule: Rule::AdminOnly,
            document: "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }",
            variables: |_, _| {
                Box::pin(async {
                    json!({ "input": { "email": format!("{}@matrix.test", uuid::Uuid::now_v7().simple()), "name": "New", "password": "password-123" } })
                })
            },
        },
        Case {
            field: "createApiToken",
            mutation: true,
            rule: Rule::SignedIn,
            document: "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }",
            variables: |_, _| Box::pin(async { json!({ "input": { "name": "matrix" } }) }),
        },
        Case {
            field: "revokeApiToken",
            mutation: true,
            rule: Rule::TokenHolder,
            document: "mutation($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { apiToken { id } } }",
            variables: |app, f| {
                Box::pin(async move {
                    let id = run_as_owner(app, f, "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { apiToken { id } } }", json!({ "name": "t" }), "/data/createApiToken/apiToken/id").await;
                    json!({ "input": { "id": id } })
                })
            },
        },
        Case {
            field: "createTeam",
            mutation: true,
            rule: Rule::SignedIn,
            document: "mutation($input: CreateTeamInput!) { createTeam(input: $input) { team { id } } }",
            variables: |_, _| {
                Box::pin(async {
                    json!({ "input": { "name": format!("Team {}", uuid::Uuid::now_v7().simple()) } })
                })
            },
        },
        Case {
            field: "updateTeam",
            mutation: true,
            rule: Rule::TeamCreator,
            document: "mutation($input: UpdateTeamInput!) { updateTeam(input: $input) { team { id } } }",
            variables: |_, f| {
                Box::pin(
                    async move { json!({ "input": { "id": f.team, "description": "changed" } }) },
                )
            },
        },
        Case {
            field: "createProgram",
            mutation: true,
            rule: Rule::SignedIn,
            document: "mutation($input: CreateProgramInput!) { createProgram(input: $input) { program { id } } }",
            variables: |_, _| {
                Box::pin(async { json!({ "input": { "key": unique_key(), "name": "New" } }) })
            },
        },
        Case {
            field: "updateProgram",
            mutation: true,
            rule: Rule::Manage,
            document: "mutation($input: UpdateProgramInput!) { updateProgram(input: $input) { program { id } } }",
            variables: |_, f| {
                Box::pin(
                    async move { json!({ "input": { "id": f.program, "objective": "changed" } }) },
                )
            },
        },
        Case {
            field: "archiveProgram",
            mutation: true,
            rule: Rule::Manage,
            document: "mutation($input: ArchiveProgramInput!) { archiveProgram(input: $input) { program { id } } }",
            variables: |_, f| {
                Box::pin(async move { json!({ "input": { "id": f.program, "archived": false } }) })
            },
        },
        Case {
            field: "setProgramMember",
            mutation: true,
            rule: Rule::Manage,
            document: "mutation($input: SetProgramMemberInput!) { setProgramMember(input: $input) { member { role } } }",
            variables: |app, f| {
                Box::pin(async move {
                    json!({ "input": { "programId": f.program, "userId": new_user(app).await, "role": "VIEWER" } })
                })
            },
        },
        Case {
            field: "removeProgramMember",
            mutation: true,
            rule: Rule::Manage,
            document: "mutation($input: RemoveProgramMemberInput!) { removeProgramMember(input: $input) { removedUserId } }",
            variables: |app, f| {
                Box::pin(async move {
                    let user = new_user(app).await;
                    run_as_owner(app, f, "mutation($input: SetProgramMemberInput!) { setProgramMember(input: $input) { member { role } } }", json!({ "programId": f.program, "userId": user, "role": "VIEWER" }), "/data/setProgramMember/member/role").await;
                    json!({ "input": { "programId": f.program, "userId": user } })
                })
            },
        },
        Case {
            field: "createWorkstream",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: CreateWorkstreamInput!) { createWorkstream(input: $input) { workstream { id } } }",
            variables: |_, f| {
                Box::pin(async move {
                    json!({ "input": { "programId": f.program, "name": "By role" } })
                })
            },
        },
        Case {
            field: "updateWorkstream",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: UpdateWorkstreamInput!) { updateWorkstream(input: $input) { workstream { id } } }",
            variables: |_, f| {
                Box::pin(async move { json!({ "input": { "id": f.workstream, "progress": 10 } }) })
            },
        },
        Case {
            field: "deleteWorkstream",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: DeleteWorkstreamInput!) { deleteWorkstream(input: $input) { deletedWorkstreamId } }",
            variables: |app, f| {
                Box::pin(async move { json!({ "input": { "id": new_workstream(app, f).await } }) })
            },
        },
        Case {
            field: "createMilestone",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: CreateMilestoneInput!) { createMilestone(input: $input) { milestone { id } } }",
            variables: |_, f| {
                Box::pin(async move {
                    json!({ "input": { "workstreamId": f.workstream, "name": "M" } })
                })
            },
        },
        Case {
            field: "updateMilestone",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: UpdateMilestoneInput!) { updateMilestone(input: $input) { milestone { id } } }",
            variables: |app, f| {
                Box::pin(async move {
                    let id = run_as_owner(app, f, "mutation($input: CreateMilestoneInput!) { createMilestone(input: $input) { milestone { id } } }", json!({ "workstreamId": f.workstream, "name": "M" }), "/data/createMilestone/milestone/id").await;
                    json!({ "input": { "id": id, "name": "M2" } })
                })
            },
        },
        Case {
            field: "deleteMilestone",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: DeleteMilestoneInput!) { deleteMilestone(input: $input) { deletedMilestoneId } }",
            variables: |app, f| {
                Box::pin(async move {
                    let id = run_as_owner(app, f, "mutation($input: CreateMilestoneInput!) { createMilestone(input: $input) { milestone { id } } }", json!({ "workstreamId": f.workstream, "name": "M" }), "/data/createMilestone/milestone/id").await;
                    json!({ "input": { "id": id } })
                })
            },
        },
        Case {
            field: "createDependency",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: CreateDependencyInput!) { createDependency(input: $input) { dependency { id } } }",
            variables: |app, f| {
                Box::pin(async move {
                    json!({ "input": { "upstreamId": new_workstream(app, f).await, "downstreamId": new_workstream(app, f).await } })
                })
            },
        },
        Case {
            field: "updateDependency",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: UpdateDependencyInput!) { updateDependency(input: $input) { dependency { id } } }",
            variables: |_, f| {
                Box::pin(async move {
                    json!({ "input": { "id": f.dependency, "description": "changed" } })
                })
            },
        },
        Case {
            field: "deleteDependency",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: DeleteDependencyInput!) { deleteDependency(input: $input) { deletedDependencyId } }",
            variables: |app, f| {
                Box::pin(async move {
                    let input = json!({ "upstreamId": new_workstream(app, f).await, "downstreamId": new_workstream(app, f).await });
                    let id = run_as_owner(app, f, "mutation($input: CreateDependencyInput!) { createDependency(input: $input) { dependency { id } } }", input, "/data/createDependency/dependency/id").await;
                    json!({ "input": { "id": id } })
                })
            },
        },
        Case {
            field: "createDecision",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: CreateDecisionInput!) { createDecision(input: $input) { decision { id } } }",
            variables: |_, f| {
                Box::pin(
                    async move { json!({ "input": { "programId": f.program, "title": "Pick" } }) },
                )
            },
        },
        Case {
            field: "updateDecision",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: UpdateDecisionInput!) { updateDecision(input: $input) { decision { id } } }",
            variables: |_, f| {
                Box::pin(
                    async move { json!({ "input": { "id": f.decision, "context": "changed" } }) },
                )
            },
        },
        Case {
            field: "decideDecision",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: DecideDecisionInput!) { decideDecision(input: $input) { decision { id } } }",
            variables: |app, f| {
                Box::pin(async move {
                    let id = run_as_owner(app, f, "mutation($input: CreateDecisionInput!) { createDecision(input: $input) { decision { id } } }", json!({ "programId": f.program, "title": "To decide" }), "/data/createDecision/decision/id").await;
                    json!({ "input": { "id": id, "status": "ACCEPTED", "outcome": "Yes", "rationale": "Because" } })
                })
            },
        },
        Case {
            field: "createRisk",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: CreateRiskInput!) { createRisk(input: $input) { risk { id } } }",
            variables: |_, f| {
                Box::pin(async move {
                    json!({ "input": { "programId": f.program, "title": "R", "likelihood": 2, "impact": 2 } })
                })
            },
        },
        Case {
            field: "updateRisk",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: UpdateRiskInput!) { updateRisk(input: $input) { risk { id } } }",
            variables: |_, f| {
                Box::pin(
                    async move { json!({ "input": { "id": f.risk, "mitigation": "changed" } }) },
                )
            },
        },
        Case {
            field: "deleteRisk",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: DeleteRiskInput!) { deleteRisk(input: $input) { deletedRiskId } }",
            variables: |app, f| {
                Box::pin(async move {
                    let id = run_as_owner(app, f, "mutation($input: CreateRiskInput!) { createRisk(input: $input) { risk { id } } }", json!({ "programId": f.program, "title": "R", "likelihood": 1, "impact": 1 }), "/data/createRisk/risk/id").await;
                    json!({ "input": { "id": id } })
                })
            },
        },
        Case {
            field: "postStatusUpdate",
            mutation: true,
            rule: Rule::Edit,
            document: "mutation($input: PostStatusUpdateInput!) { postStatusUpdate(input: $input) { statusUpdate { id } } }",
            variables: |_, f| {
                Box::pin(async move {
                    json!({ "input": { "programId": f.program, "health": "ON_TRACK", "summary": "Fine" } })
                })
            },
        },
        Case {
            field: "viewer",
            mutation: false,
            rule: Rule::SignedIn,
            document: "{ viewer { id } }",
            variables: |_, _| Box::pin(async { json!({}) }),
        },
        Case {
            field: "users",
            mutation: false,
            rule: Rule::AdminOnly,
            document: "{ users { totalCount } }",
            variables: |_, _| Box::pin(async { json!({}) }),
        },
        Case {
            field: "programs",
            mutation: false,
            rule: Rule::SignedIn,
            document: "{ programs { totalCount } }",
            variables: |_, _| Box::pin(async { json!({}) }),
        },
        Case {
            field: "teams",
            mutation: false,
            rule: Rule::SignedIn,
            document: "{ teams { totalCount } }",
            variables: |_, _| Box::pin(async { json!({}) }),
        },
        Case {
            field: "team",
            mutation: false,
            rule: Rule::SignedIn,
            document: "query($id: ID!) { team(id: $id) { id } }",
            variables: |_, f| Box::pin(async move { json!({ "id": f.team }) }),
        },
        Case {
            field: "program",
            mutation: false,
            rule: Rule::Read,
            document: "query($id: ID!) { program(id: $id) { id } }",
            variables: |_, f| Box::pin(async move { json!({ "id": f.program }) }),
        },
        Case {
            field: "workstream",
            mutation: false,
            rule: Rule::Read,
            document: "query($id: ID!) { workstream(id: $id) { id } }",
            variables: |_, f| Box::pin(async move { json!({ "id": f.workstream }) }),
        },
        Case {
            field: "dependency",
            mutation: false,
            rule: Rule::Read,
            document: "query($id: ID!) { dependency(id: $id) { id } }",
            variables: |_, f| Box::pin(async move { json!({ "id": f.dependency }) }),
        },
        Case {
            field: "decision",
            mutation: false,
            rule: Rule::Read,
            document: "query($id: ID!) { decision(id: $id) { id } }",
            variables: |_, f| Box::pin(async move { json!({ "id": f.decision }) }),
        },
        Case {
            field: "risk",
            mutation: false,
            rule: Rule::Read,
            document: "query($id: ID!) { risk(id: $id) { id } }",
            variables: |_, f| Box::pin(async move { json!({ "id": f.risk }) }),
        },
    ]
}

async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.admin().await;
    let owner = app.member("Owner").await;
    let editor = app.member("Editor").await;
    let viewer = app.member("Viewer").await;
    let outsider = app.member("Outsider").await;
    let program = app.create_program(&owner, "MATRIX", "Matrix").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (user, role) in [(&editor, "EDITOR"), (&viewer, "VIEWER")] {
        let body = app
            .as_user(
                &owner,
                "mutation($input: SetProgramMemberInput!) { setProgramMember(input: $input) { member { role } } }",
                json!({ "input": { "programId": program, "userId": user.id, "role": role } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let mut f = Fixture {
        admin,
        owner,
        editor,
        viewer,
        outsider,
        program,
        team: String::new(),
        workstream: String::new(),
        dependency: String::new(),
        decision: String::new(),
        risk: String::new(),
    };
    f.team = run_as_owner(
        app,
        &f,
        "mutation($input: CreateTeamInput!) { createTeam(input: $input) { team { id } } }",
        json!({ "name": "Matrix team" }),
        "/data/createTeam/team/id",
    )
    .await;
    f.workstream = new_workstream(app, &f).await;
    let other = new_workstream(app, &f).await;
    f.dependency = run_as_owner(app, &f, "mutation($input: CreateDependencyInput!) { createDependency(input: $input) { dependency { id } } }", json!({ "upstreamId": f.workstream, "downstreamId": other }), "/data/createDependency/dependency/id").await;
    f.decision = run_as_owner(app, &f, "mutation($input: CreateDecisionInput!) { createDecision(input: $input) { decision { id } } }", json!({ "programId": f.program, "title": "Matrix decision" }), "/data/createDecision/decision/id").await;
    f.risk = run_as_owner(
        app,
        &f,
        "mutation($input: CreateRiskInput!) { createRisk(input: $input) { risk { id } } }",
        json!({ "programId": f.program, "title": "Matrix risk", "likelihood": 3, "impact": 3 }),
        "/data/createRisk/risk/id",
    )
    .await;
    f
}

#[tokio::test]
async fn every_operation_allows_and_refuses_exactly_the_right_roles() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let mut failures = Vec::new();
    for case in cases() {
        for role in ROLES {
            let variables = (case.variables)(&app, &f).await;
            let token = match role {
                Role::Admin => Some(&f.admin.token),
                Role::Owner => Some(&f.owner.token),
                Role::Editor => Some(&f.editor.token),
                Role::Viewer => Some(&f.viewer.token),
                Role::Outsider => Some(&f.outsider.token),
                Role::Anonymous => None,
            };
            let body = app
                .graphql(token.map(String::as_str), case.document, variables)
                .await;
            let data = &body["data"][case.field];
            let ok = match expected(case.rule, role) {
                Outcome::Allowed => body["errors"].is_null() && !data.is_null(),
                Outcome::Null => body["errors"].is_null() && data.is_null(),
                Outcome::Refused(code) => {
                    error_code(&body) == code && (data.is_null() || body["data"].is_null())
                }
            };
            if !ok {
                failures.push(format!(
                    "{} as {role:?} ({:?}): {body}",
                    case.field, case.rule
                ));
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
            if let Some(name) = line.split(['(', ':']).next() {
                fields.insert(name.to_owned());
            }
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
