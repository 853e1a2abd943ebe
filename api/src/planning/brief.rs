//! The executive brief: concise Markdown in English or Korean.
//!
//! Both languages share one rendering path; only the [`Templates`] differ.

use chrono::NaiveDate;
use entity::{
    audit_event::{Subject, Verb},
    enums::{Health, Locale},
};

use crate::i18n;

/// A dependency line of the brief.
#[derive(Debug, Clone)]
pub struct DependencyLine {
    /// Name of the workstream that must deliver.
    pub upstream: String,
    /// Name of the workstream that waits.
    pub downstream: String,
    /// When the downstream needs it.
    pub needed_by: Option<NaiveDate>,
    /// What the upstream team promised.
    pub committed: Option<NaiveDate>,
}

/// A risk line of the brief.
#[derive(Debug, Clone)]
pub struct RiskLine {
    /// Title.
    pub title: String,
    /// Likelihood × impact.
    pub score: i32,
    /// Owner's name.
    pub owner: Option<String>,
}

/// A pending decision line of the brief.
#[derive(Debug, Clone)]
pub struct DecisionLine {
    /// Title.
    pub title: String,
    /// When it must be decided.
    pub due: Option<NaiveDate>,
}

/// Everything the brief says, gathered by the domain layer.
#[derive(Debug, Clone)]
pub struct BriefFacts {
    /// Program name.
    pub name: String,
    /// Program key.
    pub key: String,
    /// Current health.
    pub health: Health,
    /// Why: the summary of the latest status update.
    pub health_reason: Option<String>,
    /// Forecast finish from the schedule.
    pub forecast: Option<NaiveDate>,
    /// Target date.
    pub target: Option<NaiveDate>,
    /// Names along the critical path, first to last.
    pub critical_path: Vec<String>,
    /// Length of the critical path in days.
    pub critical_days: Option<i64>,
    /// Workstreams left out of the schedule for missing dates.
    pub unscheduled: usize,
    /// Overdue dependencies.
    pub overdue: Vec<DependencyLine>,
    /// At-risk or blocked dependencies.
    pub at_risk: Vec<DependencyLine>,
    /// Top risks by score.
    pub top_risks: Vec<RiskLine>,
    /// Decisions waiting, soonest due first.
    pub pending_decisions: Vec<DecisionLine>,
    /// When the last status update was posted, if any.
    pub last_update: Option<NaiveDate>,
    /// Changes since then: `(subject, verb, count)`, e.g. `(Risk, Create, 2)`.
    pub changes: Vec<(Subject, Verb, usize)>,
}

/// The words of one language.
struct Templates {
    title: &'static str,
    health: &'static str,
    health_names: [&'static str; 3],
    because: &'static str,
    forecast_late: &'static str,
    forecast_early: &'static str,
    forecast_on_target: &'static str,
    forecast_no_target: &'static str,
    forecast_none: &'static str,
    unscheduled: &'static str,
    critical_heading: &'static str,
    critical_line: &'static str,
    overdue_heading: &'static str,
    at_risk_heading: &'static str,
    dependency_line: &'static str,
    committed: &'static str,
    uncommitted: &'static str,
    risks_heading: &'static str,
    risk_line: &'static str,
    risk_owner: &'static str,
    decisions_heading: &'static str,
    decision_due: &'static str,
    decision_no_due: &'static str,
    changes_heading: &'static str,
    changes_heading_first: &'static str,
    change_line: &'static str,
    none: &'static str,
}

const EN: Templates = Templates {
    title: "# {name} ({key}) — executive brief",
    health: "**Health: {health}**",
    health_names: ["on track", "at risk", "off track"],
    because: " — {reason}",
    forecast_late: "Forecast finish **{forecast}**, {days} days after the target of {target}.",
    forecast_early: "Forecast finish **{forecast}**, {days} days ahead of the target of {target}.",
    forecast_on_target: "Forecast finish **{forecast}**, on the target date.",
    forecast_no_target: "Forecast finish **{forecast}**; no target date is set.",
    forecast_none: "No forecast yet: no workstream has both a start and a target date.",
    unscheduled: "Left out of the forecast for missing dates: {count} workstream(s).",
    critical_heading: "## Critical path",
    critical_line: "{chain} ({days} days)",
    overdue_heading: "## Overdue dependencies",
    at_risk_heading: "## At-risk dependencies",
    dependency_line: "- {downstream} waits on {upstream}, needed by {needed}{commitment}",
    committed: "; promised for {committed}",
    uncommitted: "; no date promised",
    risks_heading: "## Top risks",
    risk_line: "- {title} (score {score}){owner}",
    risk_owner: ", owner {owner}",
    decisions_heading: "## Decisions waiting",
    decision_due: "- {title}, due {due}",
    decision_no_due: "- {title}, no due date",
    changes_heading: "## Since the last status update ({date})",
    changes_heading_first: "## Changes so far",
    change_line: "- {entity}: {count} {verb}",
    none: "None.",
};

const KO: Templates = Templates {
    title: "# {name} ({key}) 경영진 브리핑",
    health: "**상태: {health}**",
    health_names: ["정상 진행", "위험", "일정 이탈"],
    because: " — {reason}",
    forecast_late: "예상 완료일은 **{forecast}**로, 목표일 {target}보다 {days}일 늦습니다.",
    forecast_early: "예상 완료일은 **{forecast}**로, 목표일 {target}보다 {days}일 빠릅니다.",
    forecast_on_target: "예상 완료일은 **{forecast}**로, 목표일과 같습니다.",
    forecast_no_target: "예상 완료일은 **{forecast}**입니다. 목표일은 정해지지 않았습니다.",
    forecast_none: "아직 예측할 수 없습니다. 시작일과 목표일이 모두 있는 워크스트림이 없습니다.",
    unscheduled: "날짜가 없는 워크스트림 {count}개는 예측에서 제외했습니다.",
    critical_heading: "## 핵심 경로",
    critical_line: "{chain} ({days}일)",
    overdue_heading: "## 기한이 지난 의존 관계",
    at_risk_heading: "## 위험한 의존 관계",
    dependency_line: "- {downstream}: {upstream} 완료 대기 (필요일 {needed}{commitment})",
    committed: ", 약속일 {committed}",
    uncommitted: ", 약속일 미정",
    risks_heading: "## 주요 리스크",
    risk_line: "- {title} (점수 {score}){owner}",
    risk_owner: ", 담당 {owner}",
    decisions_heading: "## 결정 대기 중인 사안",
    decision_due: "- {title}, {due}까지 결정 필요",
    decision_no_due: "- {title}, 기한 없음",
    changes_heading: "## 지난 상태 보고({date}) 이후 변경 사항",
    changes_heading_first: "## 지금까지의 변경 사항",
    change_line: "- {entity} {count}건 {verb}",
    none: "없음.",
};

/// Replace `{name}` placeholders.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut text = template.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

fn day(date: Option<NaiveDate>, none: &str) -> String {
    date.map_or_else(
        || none.trim_end_matches('.').to_owned(),
        |d| d.format("%Y-%m-%d").to_string(),
    )
}

/// Render the brief in `locale`.
pub fn render(facts: &BriefFacts, locale: Locale) -> String {
    let t = match locale {
        Locale::En => &EN,
        Locale::Ko => &KO,
    };
    let mut lines = vec![
        fill(
            t.title,
            &[("name", facts.name.clone()), ("key", facts.key.clone())],
        ),
        String::new(),
    ];

    let health = t.health_names[match facts.health {
        Health::OnTrack => 0,
        Health::AtRisk => 1,
        Health::OffTrack => 2,
    }];
    let mut health_line = fill(t.health, &[("health", health.to_owned())]);
    if let Some(reason) = facts
        .health_reason
        .as_deref()
        .and_then(|r| r.lines().find(|l| !l.trim().is_empty()))
    {
        health_line.push_str(&fill(t.because, &[("reason", reason.trim().to_owned())]));
    }
    lines.push(health_line);
    lines.push(String::new());
    let forecast = match (facts.forecast, facts.target) {
        (None, _) => t.forecast_none.to_owned(),
        (Some(forecast), None) => fill(
            t.forecast_no_target,
            &[("forecast", day(Some(forecast), t.none))],
        ),
        (Some(forecast), Some(target)) => {
            let days = (forecast - target).num_days();
            let template = match days {
                d if d > 0 => t.forecast_late,
                d if d < 0 => t.forecast_early,
                _ => t.forecast_on_target,
            };
            fill(
                template,
                &[
                    ("forecast", day(Some(forecast), t.none)),
                    ("target", day(Some(target), t.none)),
                    ("days", days.abs().to_string()),
                ],
            )
        }
    };
    lines.push(forecast);
    if facts.unscheduled > 0 {
        lines.push(fill(
            t.unscheduled,
            &[("count", facts.unscheduled.to_string())],
        ));
    }

    lines.push(String::new());
    lines.push(t.critical_heading.to_owned());
    if facts.critical_path.is_empty() {
        lines.push(t.none.to_owned());
    } else {
        lines.push(fill(
            t.critical_line,
            &[
                ("chain", facts.critical_path.join(" → ")),
                ("days", facts.critical_days.unwrap_or(0).to_string()),
            ],
        ));
    }

    for (heading, dependencies) in [
        (t.overdue_heading, &facts.overdue),
        (t.at_risk_heading, &facts.at_risk),
    ] {
        lines.push(String::new());
        lines.push(heading.to_owned());
        if dependencies.is_empty() {
            lines.push(t.none.to_owned());
        }
        for dependency in dependencies {
            let commitment = match dependency.committed {
                Some(date) => fill(t.committed, &[("committed", day(Some(date), t.none))]),
                None => t.uncommitted.to_owned(),
            };
            lines.push(fill(
                t.dependency_line,
                &[
                    ("upstream", dependency.upstream.clone()),
                    ("downstream", dependency.downstream.clone()),
                    ("needed", day(dependency.needed_by, t.none)),
                    ("commitment", commitment),
                ],
            ));
        }
    }

    lines.push(String::new());
    lines.push(t.risks_heading.to_owned());
    if facts.top_risks.is_empty() {
        lines.push(t.none.to_owned());
    }
    for risk in &facts.top_risks {
        let owner = risk
            .owner
            .as_ref()
            .map(|owner| fill(t.risk_owner, &[("owner", owner.clone())]))
            .unwrap_or_default();
        lines.push(fill(
            t.risk_line,
            &[
                ("title", risk.title.clone()),
                ("score", risk.score.to_string()),
                ("owner", owner),
            ],
        ));
    }

    lines.push(String::new());
    lines.push(t.decisions_heading.to_owned());
    if facts.pending_decisions.is_empty() {
        lines.push(t.none.to_owned());
    }
    for decision in &facts.pending_decisions {
        let line = match decision.due {
            Some(due) => fill(
                t.decision_due,
                &[
                    ("title", decision.title.clone()),
                    ("due", day(Some(due), t.none)),
                ],
            ),
            None => fill(t.decision_no_due, &[("title", decision.title.clone())]),
        };
        lines.push(line);
    }

    lines.push(String::new());
    lines.push(match facts.last_update {
        Some(date) => fill(t.changes_heading, &[("date", day(Some(date), t.none))]),
        None => t.changes_heading_first.to_owned(),
    });
    if facts.changes.is_empty() {
        lines.push(t.none.to_owned());
    }
    for (subject, verb, count) in &facts.changes {
        lines.push(fill(
            t.change_line,
            &[
                ("entity", i18n::subject_label(*subject, locale).to_owned()),
                ("verb", i18n::verb_label(*verb, locale).to_owned()),
                ("count", count.to_string()),
            ],
        ));
    }
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> BriefFacts {
        BriefFacts {
            name: "Checkout migration".into(),
            key: "CHK".into(),
            health: Health::AtRisk,
            health_reason: Some("Payments API slipped a week.\nMore detail.".into()),
            forecast: NaiveDate::from_ymd_opt(2026, 7, 10),
            target: NaiveDate::from_ymd_opt(2026, 7, 1),
            critical_path: vec!["Payments API".into(), "Checkout UI".into()],
            critical_days: Some(45),
            unscheduled: 1,
            overdue: vec![DependencyLine {
                upstream: "Payments API".into(),
                downstream: "Checkout UI".into(),
                needed_by: NaiveDate::from_ymd_opt(2026, 5, 1),
                committed: None,
            }],
            at_risk: vec![],
            top_risks: vec![RiskLine {
                title: "Vendor delay".into(),
                score: 20,
                owner: Some("Kim".into()),
            }],
            pending_decisions: vec![DecisionLine {
                title: "Pick a queue".into(),
                due: NaiveDate::from_ymd_opt(2026, 6, 1),
            }],
            last_update: NaiveDate::from_ymd_opt(2026, 5, 20),
            changes: vec![(Subject::Risk, Verb::Create, 2)],
        }
    }

    #[test]
    fn english_brief_covers_every_section() {
        let text = render(&facts(), Locale::En);
        assert!(text.starts_with("# Checkout migration (CHK) — executive brief"));
        assert!(text.contains("**Health: at risk** — Payments API slipped a week."));
        assert!(text.contains("9 days after the target of 2026-07-01"));
        assert!(text.contains("Payments API → Checkout UI (45 days)"));
        assert!(
            text.contains(
                "Checkout UI waits on Payments API, needed by 2026-05-01; no date promised"
            )
        );
        assert!(text.contains("Vendor delay (score 20), owner Kim"));
        assert!(text.contains("Pick a queue, due 2026-06-01"));
        assert!(text.contains("risks: 2 added"));
    }

    #[test]
    fn korean_brief_reads_as_korean_from_the_same_facts() {
        let text = render(&facts(), Locale::Ko);
        assert!(text.contains("경영진 브리핑"));
        assert!(text.contains("**상태: 위험**"));
        assert!(text.contains("목표일 2026-07-01보다 9일 늦습니다"));
        assert!(text.contains("리스크 2건 추가"));
        assert!(text.contains("2026-06-01까지 결정 필요"));
        assert!(!text.contains("Top risks"));
    }
}
