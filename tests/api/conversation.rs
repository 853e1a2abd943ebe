//! Cross-team commitments and conversation: the handshake between two
//! programs' teams, comments with mentions, and notifications (listed,
//! pushed, marked read, and swept by the clock on two replicas at once).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fixtures::{
    PATIENCE, Socket, attempt, cast, comment, dated, decision, dependency, mutate, program,
    set_member, subscribed, workstream,
};
use crate::helpers::{
    ServerProcess, TestApp, TestDb, TestUser, error_code, post_graphql, spawn_app_on,
    spawn_app_with,
};

/// Today in every test server here: 2026-03-02 in UTC.
const NOW: [&str; 2] = ["--now", "2026-03-02T12:00:00Z"];

const NOTIFICATIONS: &str = "query($unread: Boolean) { viewer { notifications(first: 100, unreadOnly: $unread) { totalCount nodes { id kind isRead message(locale: EN) actor { id } program { id } subject { __typename ... on Dependency { id } ... on Decision { id title } ... on Program { id } } comment { id body } } } } }";

/// `user`'s notifications, newest first.
async fn notifications(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let body = app.as_user(user, NOTIFICATIONS, json!({})).await;
    body["data"]["viewer"]["notifications"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no notifications: {body}"))
        .clone()
}

/// The kinds of `user`'s notifications, oldest first.
async fn kinds(app: &TestApp, user: &TestUser) -> Vec<String> {
    let mut kinds: Vec<String> = notifications(app, user)
        .await
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.reverse();
    kinds
}

/// Two programs, each with its own team's people, who can see each other's
/// program: Checkout (downstream, the payments team) needs Identity API
/// (upstream, the identity team).
struct Handshake {
    payments_owner: TestUser,
    payments_editor: TestUser,
    payments_lead: TestUser,
    identity_owner: TestUser,
    identity_editor: TestUser,
    identity_lead: TestUser,
    payments: String,
    identity: String,
    checkout: String,
    identity_api: String,
}

async fn handshake(app: &TestApp) -> Handshake {
    let payments_owner = app.member("Pat").await;
    let payments_editor = app.member("Pia").await;
    let payments_lead = app.member("Paul").await;
    let identity_owner = app.member("Ida").await;
    let identity_editor = app.member("Ivo").await;
    let identity_lead = app.member("Iris").await;
    let payments = program(
        app,
        &payments_owner,
        "PAY",
        json!({ "targetDate": "2026-06-30" }),
    )
    .await;
    let identity = program(app, &identity_owner, "IDN", json!({})).await;
    for (user, payments_role, identity_role) in [
        (&payments_editor, "EDITOR", "VIEWER"),
        (&payments_lead, "EDITOR", "VIEWER"),
        (&identity_editor, "VIEWER", "EDITOR"),
        (&identity_lead, "VIEWER", "EDITOR"),
        (&identity_owner, "VIEWER", "OWNER"),
        (&payments_owner, "OWNER", "VIEWER"),
    ] {
        if payments_role != "OWNER" {
            set_member(app, &payments_owner, &payments, user, payments_role).await;
        }
        if identity_role != "OWNER" {
            set_member(app, &identity_owner, &identity, user, identity_role).await;
        }
    }
    let checkout = workstream(
        app,
        &payments_owner,
        &payments,
        "Checkout",
        json!({ "startDate": "2026-04-01", "targetDate": "2026-06-30", "leadId": payments_lead.id }),
    )
    .await;
    let identity_api = workstream(
        app,
        &identity_owner,
        &identity,
        "Identity API",
        json!({ "startDate": "2026-03-02", "targetDate": "2026-03-20", "leadId": identity_lead.id }),
    )
    .await;
    Handshake {
        payments_owner,
        payments_editor,
        payments_lead,
        identity_owner,
        identity_editor,
        identity_lead,
        payments,
        identity,
        checkout,
        identity_api,
    }
}

const ANSWER: &str = "dependency { commitment committedDate commitmentNote committedBy { id } declineReason deliveredOn status version predictedDelivery }";

#[tokio::test]
async fn the_upstream_team_answers_a_request_and_both_sides_hear_every_step() {
    let app = spawn_app_with(&NOW).await;
    let h = handshake(&app).await;

    // The downstream team asks; it cannot promise for the upstream team.
    let promised = attempt(
        &app,
        &h.payments_editor,
        "createDependency",
        json!({ "upstreamId": h.identity_api, "downstreamId": h.checkout, "neededBy": "2026-03-25", "committedDate": "2026-03-20" }),
        "dependency { id }",
    )
    .await;
    assert_eq!(error_code(&promised), "FORBIDDEN", "{promised}");
    let request = dependency(
        &app,
        &h.payments_editor,
        &h.identity_api,
        &h.checkout,
        json!({ "neededBy": "2026-03-25", "description": "SSO tokens for checkout" }),
    )
    .await;
    let read = |version: bool| {
        format!(
            "query($id: ID!) {{ dependency(id: $id) {{ commitment {} }} }}",
            if version { "version" } else { "" }
        )
    };
    let body = app
        .as_user(&h.payments_editor, &read(true), json!({ "id": request }))
        .await;
    assert_eq!(
        body["data"]["dependency"]["commitment"], "REQUESTED",
        "{body}"
    );
    // The upstream program's OWNER and the upstream workstream's lead are asked.
    assert_eq!(
        kinds(&app, &h.identity_owner).await,
        ["DEPENDENCY_REQUESTED"]
    );
    assert_eq!(
        kinds(&app, &h.identity_lead).await,
        ["DEPENDENCY_REQUESTED"]
    );
    assert!(
        kinds(&app, &h.payments_editor).await.is_empty(),
        "never the actor"
    );
    assert!(kinds(&app, &h.identity_editor).await.is_empty());
    let asked = &notifications(&app, &h.identity_owner).await[0];
    assert_eq!(asked["subject"]["id"], request.as_str(), "{asked}");
    assert_eq!(asked["program"]["id"], h.payments.as_str(), "{asked}");
    assert_eq!(
        asked["actor"]["id"],
        h.payments_editor.id.as_str(),
        "{asked}"
    );
    assert_eq!(
        asked["message"], "Pia asks your team for “Identity API → Checkout”.",
        "{asked}"
    );

    // The identity program hears of it live, though it was recorded in payments.
    let mut socket = Socket::signed_in(&app, &h.identity_owner).await;
    socket.watch("identity", &h.identity).await;
    subscribed(&app, 1).await;

    // Only the upstream side answers: the downstream editor is refused and
    // nothing is written.
    for (name, input) in [
        (
            "commitDependency",
            json!({ "id": request, "committedDate": "2026-03-20" }),
        ),
        (
            "declineDependency",
            json!({ "id": request, "reason": "no" }),
        ),
        ("deliverDependency", json!({ "id": request })),
    ] {
        let body = attempt(&app, &h.payments_editor, name, input, "dependency { id }").await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{name}: {body}");
    }
    let body = attempt(
        &app,
        &h.payments_editor,
        "updateDependency",
        json!({ "id": request, "committedDate": "2026-03-20" }),
        "dependency { id }",
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // A promise later than the upstream's forecast governs the prediction.
    let committed = mutate(
        &app,
        &h.identity_editor,
        "commitDependency",
        json!({ "id": request, "committedDate": "2026-03-24", "note": "Tokens only; refresh in April", "expectedVersion": 1 }),
        ANSWER,
    )
    .await["dependency"]
        .clone();
    assert_eq!(committed["commitment"], "COMMITTED");
    assert_eq!(committed["committedDate"], "2026-03-24");
    assert_eq!(committed["commitmentNote"], "Tokens only; refresh in April");
    assert_eq!(
        committed["committedBy"]["id"],
        h.identity_editor.id.as_str()
    );
    assert_eq!(committed["predictedDelivery"], "2026-03-24");
    let event = socket.next_event("identity").await;
    assert_eq!(event["action"], "dependency.commit", "{event}");
    assert_eq!(event["entityId"], request.as_str(), "{event}");
    assert_eq!(
        kinds(&app, &h.payments_owner).await,
        ["DEPENDENCY_COMMITTED"]
    );
    assert_eq!(
        kinds(&app, &h.payments_lead).await,
        ["DEPENDENCY_COMMITTED"]
    );
    assert_eq!(
        notifications(&app, &h.payments_owner).await[0]["message"],
        "Ivo committed to “Identity API → Checkout”."
    );

    // A stale answer is refused.
    let stale = attempt(
        &app,
        &h.identity_editor,
        "declineDependency",
        json!({ "id": request, "reason": "Changed our mind", "expectedVersion": 1 }),
        "dependency { id }",
    )
    .await;
    assert_eq!(error_code(&stale), "CONFLICT", "{stale}");

    // A decline clears the promise, names the reason and puts the
    // dependency at risk in the downstream program's forecast.
    let blank = attempt(
        &app,
        &h.identity_editor,
        "declineDependency",
        json!({ "id": request, "reason": "  " }),
        "dependency { id }",
    )
    .await;
    assert_eq!(error_code(&blank), "BAD_USER_INPUT", "{blank}");
    let declined = mutate(
        &app,
        &h.identity_editor,
        "declineDependency",
        json!({ "id": request, "reason": "The team is on the EU launch until May" }),
        ANSWER,
    )
    .await["dependency"]
        .clone();
    assert_eq!(declined["commitment"], "DECLINED");
    assert_eq!(
        declined["declineReason"],
        "The team is on the EU launch until May"
    );
    assert!(declined["committedDate"].is_null(), "{declined}");
    assert!(declined["committedBy"].is_null(), "{declined}");
    let forecast = app
        .as_user(
            &h.payments_owner,
            "query($id: ID!) { program(id: $id) { atRiskDependencies { id } computedHealth { health reasons { code entityId message(locale: EN) } } } }",
            json!({ "id": h.payments }),
        )
        .await;
    let program = &forecast["data"]["program"];
    assert_eq!(
        program["atRiskDependencies"][0]["id"],
        request.as_str(),
        "{forecast}"
    );
    let reasons = program["computedHealth"]["reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r["code"] == "DECLINED_DEPENDENCY_ON_CRITICAL_PATH"
                && r["entityId"] == request.as_str()
                && r["message"].as_str().unwrap().contains("declined")),
        "{forecast}"
    );
    assert_eq!(
        socket.next_event("identity").await["action"],
        "dependency.decline"
    );

    // They find a way after all, and deliver; delivered is final.
    mutate(
        &app,
        &h.identity_editor,
        "commitDependency",
        json!({ "id": request, "committedDate": "2026-03-27" }),
        ANSWER,
    )
    .await;
    let future = attempt(
        &app,
        &h.identity_editor,
        "deliverDependency",
        json!({ "id": request, "deliveredOn": "2026-03-03" }),
        "dependency { id }",
    )
    .await;
    assert_eq!(error_code(&future), "BAD_USER_INPUT", "{future}");
    let delivered = mutate(
        &app,
        &h.identity_editor,
        "deliverDependency",
        json!({ "id": request }),
        ANSWER,
    )
    .await["dependency"]
        .clone();
    assert_eq!(delivered["commitment"], "DELIVERED");
    assert_eq!(delivered["status"], "RESOLVED");
    assert_eq!(delivered["deliveredOn"], "2026-03-02", "today, pinned");
    assert!(delivered["predictedDelivery"].is_null(), "{delivered}");
    let again = attempt(
        &app,
        &h.identity_editor,
        "commitDependency",
        json!({ "id": request, "committedDate": "2026-04-01" }),
        "dependency { id }",
    )
    .await;
    assert_eq!(error_code(&again), "BAD_USER_INPUT", "{again}");
    assert_eq!(
        kinds(&app, &h.payments_owner).await,
        [
            "DEPENDENCY_COMMITTED",
            "DEPENDENCY_DECLINED",
            "DEPENDENCY_COMMITTED",
            "DEPENDENCY_DELIVERED"
        ]
    );

    // Not delivered after all: the downstream side reopens it and the
    // upstream side is asked again.
    mutate(
        &app,
        &h.payments_editor,
        "updateDependency",
        json!({ "id": request, "status": "BLOCKED" }),
        "dependency { id }",
    )
    .await;
    let body = app
        .as_user(&h.payments_editor, &read(false), json!({ "id": request }))
        .await;
    assert_eq!(
        body["data"]["dependency"]["commitment"], "REQUESTED",
        "{body}"
    );
    assert_eq!(
        kinds(&app, &h.identity_lead).await,
        ["DEPENDENCY_REQUESTED", "DEPENDENCY_REQUESTED"]
    );

    // The downstream side cannot deliver by setting the status either; the
    // upstream side may promise through updateDependency too, which is a
    // commitment like any other.
    let resolved = attempt(
        &app,
        &h.payments_editor,
        "updateDependency",
        json!({ "id": request, "status": "RESOLVED" }),
        "dependency { id }",
    )
    .await;
    assert_eq!(error_code(&resolved), "FORBIDDEN", "{resolved}");
    let promised = mutate(
        &app,
        &h.identity_editor,
        "updateDependency",
        json!({ "id": request, "committedDate": "2026-03-30" }),
        ANSWER,
    )
    .await["dependency"]
        .clone();
    assert_eq!(promised["commitment"], "COMMITTED", "{promised}");
    assert_eq!(promised["committedBy"]["id"], h.identity_editor.id.as_str());
    assert_eq!(
        kinds(&app, &h.payments_lead)
            .await
            .last()
            .map(String::as_str),
        Some("DEPENDENCY_COMMITTED")
    );

    // Every step is in both programs' history.
    let history = "query($id: ID!, $dep: ID!) { program(id: $id) { activity(filter: { entityId: $dep }) { nodes { action } } } }";
    for (viewer, program) in [
        (&h.payments_owner, &h.payments),
        (&h.identity_owner, &h.identity),
    ] {
        let body = app
            .as_user(viewer, history, json!({ "id": program, "dep": request }))
            .await;
        let mut actions: Vec<&str> = body["data"]["program"]["activity"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|node| node["action"].as_str().unwrap())
            .collect();
        actions.reverse();
        assert_eq!(
            actions,
            [
                "dependency.create",
                "dependency.commit",
                "dependency.decline",
                "dependency.commit",
                "dependency.deliver",
                "dependency.update",
                "dependency.commit"
            ],
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_mention_reaches_the_mentioned_users_subscription_within_a_second() {
    let app = spawn_app_with(&NOW).await;
    let c = cast(&app, "TALK").await;
    let vendor = decision(
        &app,
        &c.owner,
        &c.program,
        "Pick the payments vendor",
        json!({}),
    )
    .await;
    let mut socket = Socket::signed_in(&app, &c.viewer).await;
    socket
        .subscribe(
            "mine",
            "subscription { viewerNotifications { id kind message(locale: EN) actor { name } program { key } comment { body mentions { id } } subject { __typename ... on Decision { title comments { totalCount } } } } }",
            json!({}),
        )
        .await;
    subscribed(&app, 1).await;

    let sent = Instant::now();
    let said = comment(
        &app,
        &c.editor,
        &vendor,
        "@Viewer can you check the contract terms?",
        &[&c.viewer, &c.editor],
    )
    .await;
    let payload = socket.next_payload("mine").await;
    let arrived = sent.elapsed();
    assert!(
        arrived < Duration::from_secs(1),
        "the mention took {arrived:?}"
    );
    let pushed = &payload["data"]["viewerNotifications"];
    assert_eq!(pushed["kind"], "MENTIONED", "{payload}");
    assert_eq!(pushed["actor"]["name"], "Editor", "{payload}");
    assert_eq!(pushed["program"]["key"], "TALK", "{payload}");
    assert_eq!(
        pushed["comment"]["body"],
        "@Viewer can you check the contract terms?"
    );
    assert_eq!(pushed["subject"]["title"], "Pick the payments vendor");
    assert_eq!(pushed["subject"]["comments"]["totalCount"], 1);
    assert_eq!(
        pushed["message"],
        "Editor mentioned you on “Pick the payments vendor”."
    );
    let listed = notifications(&app, &c.viewer).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["comment"]["id"], said.as_str());
    // The author mentioned themself: never the actor.
    assert!(kinds(&app, &c.editor).await.is_empty());

    // Someone outside the program cannot be mentioned.
    let outside = attempt(
        &app,
        &c.editor,
        "addComment",
        json!({ "subjectId": vendor, "body": "fyi", "mentionIds": [c.outsider.id] }),
        "comment { id }",
    )
    .await;
    assert_eq!(error_code(&outside), "BAD_USER_INPUT", "{outside}");
    assert_eq!(
        outside["errors"][0]["extensions"]["field"],
        "input.mentionIds"
    );
}

#[tokio::test]
async fn comments_are_edited_by_their_author_and_deleted_by_the_author_or_an_owner() {
    let app = spawn_app_with(&NOW).await;
    let c = cast(&app, "CONV").await;
    let ws = workstream(
        &app,
        &c.owner,
        &c.program,
        "Ledger",
        dated("2026-03-02", "2026-04-01"),
    )
    .await;
    let first = comment(&app, &c.editor, &ws, "Kick-off is Monday", &[]).await;
    let second = comment(&app, &c.owner, &ws, "Thanks", &[]).await;

    let thread = "query($id: ID!) { workstream(id: $id) { comments(first: 10) { totalCount nodes { id body editedAt author { id } subject { ... on Workstream { id } } mentions { id } } } } }";
    let body = app.as_user(&c.viewer, thread, json!({ "id": ws })).await;
    let nodes = body["data"]["workstream"]["comments"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        nodes
            .iter()
            .map(|n| n["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [first.as_str(), second.as_str()],
        "oldest first: {body}"
    );
    assert_eq!(nodes[0]["subject"]["id"], ws.as_str());
    assert!(nodes[0]["editedAt"].is_null());

    // Only the author edits; the OWNER may not put words in their mouth.
    let by_owner = attempt(
        &app,
        &c.owner,
        "editComment",
        json!({ "id": first, "body": "Kick-off is Tuesday" }),
        "comment { id }",
    )
    .await;
    assert_eq!(error_code(&by_owner), "FORBIDDEN", "{by_owner}");
    let edited = mutate(
        &app,
        &c.editor,
        "editComment",
        json!({ "id": first, "body": "Kick-off is Tuesday", "mentionIds": [c.viewer.id], "expectedVersion": 1 }),
        "comment { body editedAt version mentions { id } }",
    )
    .await["comment"]
        .clone();
    assert_eq!(edited["body"], "Kick-off is Tuesday");
    assert!(edited["editedAt"].is_string(), "{edited}");
    assert_eq!(edited["mentions"][0]["id"], c.viewer.id.as_str());
    assert_eq!(
        kinds(&app, &c.viewer).await,
        ["MENTIONED"],
        "newly mentioned"
    );
    let stale = attempt(
        &app,
        &c.editor,
        "editComment",
        json!({ "id": first, "body": "x", "expectedVersion": 1 }),
        "comment { id }",
    )
    .await;
    assert_eq!(error_code(&stale), "CONFLICT", "{stale}");

    // A viewer deletes nothing; the OWNER deletes anyone's, the author their own.
    let by_viewer = attempt(
        &app,
        &c.viewer,
        "deleteComment",
        json!({ "id": first }),
        "deletedCommentId",
    )
    .await;
    assert_eq!(error_code(&by_viewer), "FORBIDDEN", "{by_viewer}");
    mutate(
        &app,
        &c.owner,
        "deleteComment",
        json!({ "id": first }),
        "deletedCommentId",
    )
    .await;
    let mine = comment(&app, &c.editor, &ws, "Mine", &[]).await;
    mutate(
        &app,
        &c.editor,
        "deleteComment",
        json!({ "id": mine }),
        "deletedCommentId",
    )
    .await;
    let body = app.as_user(&c.viewer, thread, json!({ "id": ws })).await;
    assert_eq!(
        body["data"]["workstream"]["comments"]["totalCount"], 1,
        "{body}"
    );
    // The mention stays, without its comment.
    let mentioned = notifications(&app, &c.viewer).await;
    assert_eq!(mentioned.len(), 1);
    assert!(mentioned[0]["comment"].is_null(), "{mentioned:?}");
    // An author who is only a reader now may still take back their words,
    // but not change them.
    let last_word = comment(&app, &c.editor, &ws, "Last word", &[]).await;
    set_member(&app, &c.owner, &c.program, &c.editor, "VIEWER").await;
    let edit = attempt(
        &app,
        &c.editor,
        "editComment",
        json!({ "id": last_word, "body": "Changed" }),
        "comment { id }",
    )
    .await;
    assert_eq!(error_code(&edit), "FORBIDDEN", "{edit}");
    mutate(
        &app,
        &c.editor,
        "deleteComment",
        json!({ "id": last_word }),
        "deletedCommentId",
    )
    .await;

    // History records each change; nothing to comment on is NOT_FOUND.
    let history = app
        .as_user(
            &c.owner,
            "query($id: ID!) { program(id: $id) { activity(filter: { entityType: \"Comment\" }) { nodes { action } } } }",
            json!({ "id": c.program }),
        )
        .await;
    assert_eq!(
        history["data"]["program"]["activity"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        8,
        "4 added, 1 edited, 3 deleted: {history}"
    );
    let nowhere = attempt(
        &app,
        &c.editor,
        "addComment",
        json!({ "subjectId": uuid::Uuid::now_v7().to_string(), "body": "hello" }),
        "comment { id }",
    )
    .await;
    assert_eq!(error_code(&nowhere), "NOT_FOUND", "{nowhere}");
    let blank = attempt(
        &app,
        &c.editor,
        "addComment",
        json!({ "subjectId": ws, "body": " " }),
        "comment { id }",
    )
    .await;
    assert_eq!(error_code(&blank), "BAD_USER_INPUT", "{blank}");
}

#[tokio::test]
async fn notifications_are_marked_read_by_their_recipient_only() {
    let app = spawn_app_with(&NOW).await;
    let c = cast(&app, "READ").await;
    let choice = decision(&app, &c.owner, &c.program, "Region", json!({})).await;
    for body in ["one", "two", "three"] {
        comment(&app, &c.editor, &choice, body, &[&c.viewer, &c.owner]).await;
    }
    let unread = |user: TestUser| {
        let app = &app;
        async move {
            let body = app
                .as_user(&user, NOTIFICATIONS, json!({ "unread": true }))
                .await;
            body["data"]["viewer"]["notifications"]["totalCount"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(unread(c.viewer.clone()).await, 3);
    let mine: Vec<String> = notifications(&app, &c.viewer)
        .await
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();

    // Someone else's notification answers as a missing one; nothing is marked.
    let theirs = attempt(
        &app,
        &c.owner,
        "markNotificationsRead",
        json!({ "ids": [mine[0]] }),
        "markedCount",
    )
    .await;
    assert_eq!(error_code(&theirs), "NOT_FOUND", "{theirs}");
    let both = attempt(
        &app,
        &c.viewer,
        "markNotificationsRead",
        json!({ "ids": [mine[0]], "all": true }),
        "markedCount",
    )
    .await;
    assert_eq!(error_code(&both), "BAD_USER_INPUT", "{both}");
    assert_eq!(unread(c.viewer.clone()).await, 3);

    let marked = mutate(
        &app,
        &c.viewer,
        "markNotificationsRead",
        json!({ "ids": [mine[0]] }),
        "markedCount viewer { notifications(unreadOnly: true) { totalCount } }",
    )
    .await;
    assert_eq!(marked["markedCount"], 1);
    assert_eq!(marked["viewer"]["notifications"]["totalCount"], 2);
    let all = mutate(
        &app,
        &c.viewer,
        "markNotificationsRead",
        json!({ "all": true }),
        "markedCount",
    )
    .await;
    assert_eq!(all["markedCount"], 2);
    assert_eq!(unread(c.viewer.clone()).await, 0);
    assert_eq!(
        unread(c.owner.clone()).await,
        3,
        "the owner's are untouched"
    );

    // Another user's notifications are nobody else's business.
    let body = app
        .as_user(
            &c.owner,
            "query($id: ID!) { program(id: $id) { members { user { id notifications { totalCount } } } } }",
            json!({ "id": c.program }),
        )
        .await;
    for member in body["data"]["program"]["members"].as_array().unwrap() {
        let expected = if member["user"]["id"] == c.owner.id.as_str() {
            3
        } else {
            0
        };
        assert_eq!(
            member["user"]["notifications"]["totalCount"], expected,
            "{body}"
        );
    }
}

/// `user`'s notifications from the clock on `server` as `(kind, subject id)`, sorted.
async fn swept(server: &ServerProcess, user: &TestUser) -> Vec<(String, String)> {
    let client = reqwest::Client::new();
    let body = post_graphql(
        &client,
        &server.address,
        Some(&user.token),
        NOTIFICATIONS,
        json!({}),
    )
    .await
    .expect("the server answers");
    let mut found: Vec<(String, String)> = body["data"]["viewer"]["notifications"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|n| n["kind"] != "DEPENDENCY_REQUESTED")
        .map(|n| {
            (
                n["kind"].as_str().unwrap().to_owned(),
                n["subject"]["id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

/// Two replicas sweeping every second on one database, on `day`, for a few sweeps each.
async fn two_replicas_sweep(db: &TestDb, day: &str) -> [ServerProcess; 2] {
    let now = format!("{day}T12:00:00Z");
    let env = [
        ("TRESTLE_NOW", now.as_str()),
        ("TRESTLE_NOTIFICATION_SWEEP_SECS", "1"),
    ];
    let replicas = [
        ServerProcess::start(db, &env, "").await,
        ServerProcess::start(db, &env, "").await,
    ];
    // Both have swept at least three times.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    replicas
}

#[tokio::test]
async fn the_sweep_sends_each_clock_notification_once_per_day_with_two_replicas() {
    let db = TestDb::new().await;
    let url = db.url.clone();
    let app = spawn_app_on(
        db,
        &[
            "--now",
            "2026-03-02T12:00:00Z",
            "--notification-sweep-secs",
            "0",
        ],
    )
    .await;
    let c = cast(&app, "SWEEP").await;
    let lead = app.member("Lead").await;
    set_member(&app, &c.owner, &c.program, &lead, "EDITOR").await;
    mutate(
        &app,
        &c.owner,
        "updateProgram",
        json!({ "id": c.program, "status": "ACTIVE", "startDate": "2026-02-01" }),
        "program { id }",
    )
    .await;
    let upstream = workstream(&app, &c.owner, &c.program, "Vault", json!({})).await;
    let downstream = workstream(
        &app,
        &c.owner,
        &c.program,
        "Checkout",
        json!({ "leadId": lead.id }),
    )
    .await;
    let other = workstream(&app, &c.owner, &c.program, "Ledger", json!({})).await;
    let overdue = dependency(
        &app,
        &c.editor,
        &upstream,
        &downstream,
        json!({ "neededBy": "2026-03-01" }),
    )
    .await;
    let also_overdue = dependency(
        &app,
        &c.editor,
        &upstream,
        &other,
        json!({ "neededBy": "2026-02-20" }),
    )
    .await;
    dependency(
        &app,
        &c.editor,
        &other,
        &downstream,
        json!({ "neededBy": "2026-03-02" }),
    )
    .await;
    let due = decision(
        &app,
        &c.owner,
        &c.program,
        "Vendor",
        json!({ "dueDate": "2026-03-04" }),
    )
    .await;
    decision(
        &app,
        &c.owner,
        &c.program,
        "Later",
        json!({ "dueDate": "2026-03-05" }),
    )
    .await;

    let first_day = two_replicas_sweep(&TestDb::existing(&url), "2026-03-02").await;
    let mut expected_owner = vec![
        ("DECISION_DUE".to_owned(), due.clone()),
        ("DEPENDENCY_OVERDUE".to_owned(), also_overdue.clone()),
        ("DEPENDENCY_OVERDUE".to_owned(), overdue.clone()),
        ("STATUS_UPDATE_DUE".to_owned(), c.program.clone()),
    ];
    expected_owner.sort();
    assert_eq!(swept(&first_day[0], &c.owner).await, expected_owner);
    assert_eq!(
        swept(&first_day[1], &lead).await,
        [("DEPENDENCY_OVERDUE".to_owned(), overdue.clone())],
        "the downstream workstream's lead, for their dependency only"
    );
    assert!(
        swept(&first_day[0], &c.editor).await.is_empty(),
        "{:?}",
        c.editor
    );
    for replica in &first_day {
        replica.signal("TERM");
    }
    drop(first_day);

    // The next day, once more each (and the decision due in three days now too).
    let next_day = two_replicas_sweep(&TestDb::existing(&url), "2026-03-03").await;
    let owner = swept(&next_day[1], &c.owner).await;
    let count = |kind: &str, subject: &str| {
        owner
            .iter()
            .filter(|(k, s)| k == kind && s == subject)
            .count()
    };
    assert_eq!(count("DEPENDENCY_OVERDUE", &overdue), 2, "{owner:?}");
    assert_eq!(count("DEPENDENCY_OVERDUE", &also_overdue), 2, "{owner:?}");
    assert_eq!(count("DECISION_DUE", &due), 2, "{owner:?}");
    assert_eq!(count("STATUS_UPDATE_DUE", &c.program), 2, "{owner:?}");
    assert_eq!(
        owner.len(),
        10,
        "plus the newly overdue and the newly due: {owner:?}"
    );
    for replica in &next_day {
        replica.signal("TERM");
    }
    let _ = PATIENCE;
}
