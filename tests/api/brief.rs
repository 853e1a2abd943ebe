//! The executive brief's opening paragraph (`briefSummary`) and what the
//! brief shows around it, in English and Korean. The server's "today" is the
//! real one, so every date is set relative to it.

use chrono::{Days, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::fixtures::{
    decision, dependency, korean_member, milestone, mutate, program, risk, set_member, workstream,
};
use crate::helpers::{TestApp, TestUser, spawn_app};

/// Today moved by `days`, as the API writes dates.
fn day(days: i64) -> String {
    let today: NaiveDate = Utc::now().date_naive();
    let moved = if days >= 0 {
        today + Days::new(days.unsigned_abs())
    } else {
        today - Days::new(days.unsigned_abs())
    };
    moved.format("%Y-%m-%d").to_string()
}

fn dated(start: i64, target: i64) -> Value {
    json!({ "startDate": day(start), "targetDate": day(target) })
}

async fn read(app: &TestApp, user: &TestUser, program: &str, selection: &str) -> Value {
    let body = app
        .as_user(
            user,
            &format!("query($id: ID!) {{ program(id: $id) {{ {selection} }} }}"),
            json!({ "id": program }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["program"].clone()
}

#[tokio::test]
async fn the_brief_opens_with_an_executive_summary_in_english_and_korean() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let target = day(40);
    let p = program(
        &app,
        &tpm,
        "CHK",
        json!({ "name": "Checkout", "targetDate": target }),
    )
    .await;
    // Design → Build → Launch finishes in 45 days; the security review is a side branch.
    let design = workstream(&app, &tpm, &p, "Design", dated(1, 10)).await;
    let build = workstream(&app, &tpm, &p, "Build", dated(11, 40)).await;
    let launch = workstream(&app, &tpm, &p, "Launch", dated(41, 45)).await;
    let review = workstream(&app, &tpm, &p, "Security review", dated(1, 5)).await;
    // Build needed the design two days ago, and Launch waits on Build: two
    // workstreams held up. The review is at risk but holds up only Launch.
    dependency(&app, &tpm, &design, &build, json!({ "neededBy": day(-2) })).await;
    dependency(&app, &tpm, &build, &launch, json!({ "neededBy": day(41) })).await;
    dependency(
        &app,
        &tpm,
        &review,
        &launch,
        json!({ "neededBy": day(40), "status": "AT_RISK" }),
    )
    .await;
    milestone(&app, &tpm, &build, "Beta", json!({ "dueDate": day(-1) })).await;
    milestone(&app, &tpm, &build, "GA", json!({ "dueDate": day(30) })).await;
    let scored =
        |likelihood: i32, impact: i32| json!({ "likelihood": likelihood, "impact": impact });
    risk(&app, &tpm, &p, "Hiring", scored(4, 4)).await;
    risk(&app, &tpm, &p, "Vendor delay", scored(4, 5)).await;
    // Needed now: overdue or due within 14 days, soonest first; the rest only wait.
    for (title, due) in [
        ("Rename the product", Some(15)),
        ("Choose a vendor", Some(14)),
        ("Pick a queue", Some(3)),
        ("Freeze the API", Some(-2)),
        ("Someday", None),
    ] {
        let extra = due.map_or(json!({}), |d| json!({ "dueDate": day(d) }));
        decision(&app, &tpm, &p, title, extra).await;
    }
    mutate(
        &app,
        &tpm,
        "postStatusUpdate",
        json!({
            "programId": p,
            "health": "AT_RISK",
            "summary": "Design is late.",
            "translations": [{ "locale": "KO", "summary": "디자인이 늦어지고 있습니다." }],
        }),
        "statusUpdate { forecastFinish }",
    )
    .await;
    // Since the update, the launch slipped three days and someone joined.
    mutate(
        &app,
        &tpm,
        "updateWorkstream",
        json!({ "id": launch, "targetDate": day(48) }),
        "workstream { id }",
    )
    .await;
    let korean = korean_member(&app, "Kim").await;
    set_member(&app, &tpm, &p, &korean, "VIEWER").await;

    let program = read(
        &app,
        &tpm,
        &p,
        "en: briefSummary(locale: EN) ko: briefSummary(locale: KO) mine: briefSummary brief(locale: EN) koBrief: brief(locale: KO)",
    )
    .await;
    let en = program["en"].as_str().unwrap();
    assert_eq!(
        en,
        format!(
            "Checkout is reported at risk, but the plan computes off track. \
             It is forecast to finish on {}, 8 days after the {target} target. \
             That is 3 days later than at the last update on {}. \
             The biggest blocker is Design, which Build has needed since {}; it holds up 2 workstreams. \
             The top risk is Vendor delay (score 20). \
             Decisions are needed on Freeze the API (overdue since {}), Pick a queue by {} and Choose a vendor by {}.",
            day(48),
            day(0),
            day(-2),
            day(-2),
            day(3),
            day(14),
        )
    );
    let ko = program["ko"].as_str().unwrap();
    assert_eq!(
        ko,
        format!(
            "Checkout 프로그램의 보고된 상태는 주의, 계획으로 계산한 상태는 위험입니다. \
             {}까지 완료될 것으로 예상되며, 목표일({target})보다 8일 늦습니다. \
             지난 상태 보고({}) 때보다 3일 늦어졌습니다. \
             가장 큰 걸림돌은 Design 워크스트림입니다. Build 워크스트림에 {}까지 필요했지만 아직 전달되지 않았으며, 워크스트림 2개가 이를 기다리고 있습니다. \
             가장 큰 리스크는 Vendor delay(점수 20)입니다. \
             Freeze the API({} 기한 경과), Pick a queue({}까지), Choose a vendor({}까지)에 대한 결정이 필요합니다.",
            day(48),
            day(0),
            day(-2),
            day(-2),
            day(3),
            day(14),
        )
    );
    // The viewer's own language by default.
    assert_eq!(program["mine"], program["en"]);
    let reader = read(&app, &korean, &p, "briefSummary").await;
    assert_eq!(reader["briefSummary"], program["ko"]);

    // The brief opens with the same paragraph, then the details.
    let brief = program["brief"].as_str().unwrap();
    assert!(
        brief.starts_with(&format!("# Checkout (CHK) — executive brief\n\n{en}\n\n")),
        "{brief}"
    );
    assert!(brief.contains("**Health: at risk** — Design is late."));
    assert!(brief.contains(&format!(
        "## Overdue milestones\n- Beta (Build), due {}\n",
        day(-1)
    )));
    assert!(!brief.contains("- GA"), "{brief}");
    assert!(brief.contains("## Decisions waiting"));
    assert!(brief.contains("- Someday, no due date"));
    assert!(brief.contains("Rename the product"));
    assert!(brief.contains("- members: 1 changed"), "{brief}");
    let ko_brief = program["koBrief"].as_str().unwrap();
    assert!(ko_brief.contains(&format!("\n\n{ko}\n\n")), "{ko_brief}");
    assert!(ko_brief.contains("**상태: 주의** — 디자인이 늦어지고 있습니다."));
    assert!(
        ko_brief.contains("## 주경로\nDesign → Build → Launch"),
        "{ko_brief}"
    );
    assert!(ko_brief.contains("## 기한이 지난 마일스톤"));
    assert!(ko_brief.contains("- 구성원 1명 변경"), "{ko_brief}");
    assert!(!ko_brief.contains("구성원 1건"), "{ko_brief}");
}

#[tokio::test]
async fn a_quiet_program_summary_says_there_is_nothing_to_decide_or_unblock() {
    let app = spawn_app().await;
    let tpm = app.member("Tpm").await;
    let p = program(&app, &tpm, "QUIET", json!({ "targetDate": day(20) })).await;
    let program = read(
        &app,
        &tpm,
        &p,
        "en: briefSummary(locale: EN) ko: briefSummary(locale: KO)",
    )
    .await;
    assert_eq!(
        program["en"],
        "QUIET is on track. \
         There is no forecast yet: no workstream has both a start and a target date. \
         Nothing is blocked. No risk is open. No decision is due within 14 days."
    );
    assert_eq!(
        program["ko"],
        "QUIET 프로그램은 현재 정상 상태입니다. \
         아직 완료일을 예상할 수 없습니다. 시작일과 목표일이 모두 있는 워크스트림이 없습니다. \
         막혀 있는 작업은 없습니다. 열려 있는 리스크는 없습니다. 14일 안에 내려야 할 결정은 없습니다."
    );

    // A workstream ahead of the target, and one other waiting on it.
    let core = workstream(&app, &tpm, &p, "Core", dated(1, 10)).await;
    let web = workstream(&app, &tpm, &p, "Web", dated(11, 17)).await;
    dependency(&app, &tpm, &core, &web, json!({ "neededBy": day(11) })).await;
    let program = read(
        &app,
        &tpm,
        &p,
        "en: briefSummary(locale: EN) ko: briefSummary(locale: KO)",
    )
    .await;
    let en = program["en"].as_str().unwrap();
    assert!(
        en.contains(&format!(
            "It is forecast to finish on {}, 3 days ahead of the {} target. \
             The biggest bottleneck is Core; it holds up 1 workstream.",
            day(17),
            day(20)
        )),
        "{en}"
    );
    let ko = program["ko"].as_str().unwrap();
    assert!(
        ko.contains(&format!(
            "{}까지 완료될 것으로 예상되며, 목표일({})보다 3일 빠릅니다. \
             가장 큰 병목은 Core 워크스트림으로, 워크스트림 1개가 이를 기다리고 있습니다.",
            day(17),
            day(20)
        )),
        "{ko}"
    );
}
