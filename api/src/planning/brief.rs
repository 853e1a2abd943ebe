//! The executive brief: concise Markdown in English or Korean, opening with
//! a paragraph an executive reads in 30 seconds ([`summary`]).
//!
//! Both languages share one rendering path; only the [`Templates`] differ.

mod spend;
mod summary;

pub use spend::SpendLine;

pub use summary::summary;

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

/// An open milestone past its due day.
#[derive(Debug, Clone)]
pub struct MilestoneLine {
    /// Milestone name.
    pub name: String,
    /// Name of its workstream.
    pub workstream: String,
    /// The day it was due.
    pub due: NaiveDate,
}

/// A text as written, with the languages it was translated into.
#[derive(Debug, Clone, Default)]
pub struct Localized {
    /// As written.
    pub original: String,
    /// The same text in other languages.
    pub translations: Vec<(Locale, String)>,
}

impl Localized {
    /// The text in `locale` when translated, else as written.
    pub fn in_locale(&self, locale: Locale) -> &str {
        self.translations
            .iter()
            .find(|(l, _)| *l == locale)
            .map_or(&self.original, |(_, text)| text)
    }
}

/// The one thing blocking the most work.
#[derive(Debug, Clone)]
pub enum Blocker {
    /// An overdue or at-risk dependency.
    Dependency {
        /// The dependency.
        line: DependencyLine,
        /// Past its need date (else at risk).
        overdue: bool,
        /// Workstreams held up: the downstream and all that wait on it.
        waiting: usize,
    },
    /// A workstream the most unfinished work waits on.
    Bottleneck {
        /// Its name.
        workstream: String,
        /// Workstreams waiting on it, directly or transitively.
        waiting: usize,
    },
}

/// How far ahead an open decision counts as needed now, in days.
pub const DECISION_HORIZON_DAYS: i64 = 14;

/// Everything the brief says, gathered by the domain layer.
#[derive(Debug, Clone)]
pub struct BriefFacts {
    /// Program name.
    pub name: String,
    /// Program key.
    pub key: String,
    /// Health as posted by the latest status update.
    pub health: Health,
    /// Health as computed from the plan, when known.
    pub computed_health: Option<Health>,
    /// Why: the summary of the latest status update.
    pub health_reason: Option<Localized>,
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
    /// The day the brief is written on.
    pub today: NaiveDate,
    /// Decisions needed now: open and due within [`DECISION_HORIZON_DAYS`]
    /// (or overdue), soonest first.
    pub decisions_needed: Vec<DecisionLine>,
    /// The one thing blocking the most work.
    pub blocker: Option<Blocker>,
    /// Open milestones past their due day, earliest first.
    pub overdue_milestones: Vec<MilestoneLine>,
    /// When the last status update was posted, if any.
    pub last_update: Option<NaiveDate>,
    /// The forecast finish the last status update recorded.
    pub forecast_at_last_update: Option<NaiveDate>,
    /// Changes since then: `(subject, verb, count)`, e.g. `(Risk, Create, 2)`.
    pub changes: Vec<(Subject, Verb, usize)>,
    /// What the program has spent, when it has a currency.
    pub spend: Option<SpendLine>,
}

/// The words of one language.
struct Templates {
    title: &'static str,
    health: &'static str,
    because: &'static str,
    computed_health: &'static str,
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
    milestones_heading: &'static str,
    milestone_line: &'static str,
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
    because: " — {reason}",
    computed_health: "The plan computes **{health}**.",
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
    milestones_heading: "## Overdue milestones",
    milestone_line: "- {name} ({workstream}), due {due}",
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
    change_line: "- {entity}: {count}{unit} {verb}",
    none: "None.",
};

const KO: Templates = Templates {
    title: "# {name} ({key}) 경영진 브리핑",
    health: "**상태: {health}**",
    because: " — {reason}",
    computed_health: "계획으로 계산한 상태는 **{health}**입니다.",
    forecast_late: "예상 완료일은 **{forecast}**이며, 목표일 {target}보다 {days}일 늦습니다.",
    forecast_early: "예상 완료일은 **{forecast}**이며, 목표일 {target}보다 {days}일 빠릅니다.",
    forecast_on_target: "예상 완료일은 **{forecast}**이며, 목표일과 같습니다.",
    forecast_no_target: "예상 완료일은 **{forecast}**입니다. 목표일은 정해지지 않았습니다.",
    forecast_none: "아직 예측할 수 없습니다. 시작일과 목표일이 모두 있는 워크스트림이 없습니다.",
    unscheduled: "날짜가 없는 워크스트림 {count}개는 예측에서 제외했습니다.",
    critical_heading: "## 주경로",
    critical_line: "{chain} ({days}일)",
    overdue_heading: "## 기한이 지난 의존 관계",
    at_risk_heading: "## 위험한 의존 관계",
    milestones_heading: "## 기한이 지난 마일스톤",
    milestone_line: "- {name} ({workstream}), 기한 {due}",
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
    change_line: "- {entity} {count}{unit} {verb}",
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
        summary(facts, locale),
        String::new(),
    ];

    let health = i18n::health_label(facts.health, locale);
    let mut health_line = fill(t.health, &[("health", health.to_owned())]);
    if let Some(reason) = facts
        .health_reason
        .as_ref()
        .and_then(|r| r.in_locale(locale).lines().find(|l| !l.trim().is_empty()))
    {
        health_line.push_str(&fill(t.because, &[("reason", reason.trim().to_owned())]));
    }
    lines.push(health_line);
    if let Some(computed) = facts.computed_health.filter(|c| *c != facts.health) {
        lines.push(String::new());
        lines.push(fill(
            t.computed_health,
            &[("health", i18n::health_label(computed, locale).to_owned())],
        ));
    }
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
    if let Some(spend) = &facts.spend {
        lines.push(String::new());
        lines.push(spend::line(spend, locale));
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

    if !facts.overdue_milestones.is_empty() {
        lines.push(String::new());
        lines.push(t.milestones_heading.to_owned());
    }
    for milestone in &facts.overdue_milestones {
        lines.push(fill(
            t.milestone_line,
            &[
                ("name", milestone.name.clone()),
                ("workstream", milestone.workstream.clone()),
                ("due", day(Some(milestone.due), t.none)),
            ],
        ));
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
                ("unit", i18n::count_unit(*subject, locale).to_owned()),
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
            computed_health: Some(Health::OffTrack),
            health_reason: Some(Localized {
                original: "Payments API slipped a week.\nMore detail.".into(),
                translations: vec![(Locale::Ko, "결제 API가 1주 늦어졌습니다.".into())],
            }),
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
            today: NaiveDate::from_ymd_opt(2026, 5, 25).unwrap(),
            decisions_needed: vec![],
            blocker: None,
            overdue_milestones: vec![MilestoneLine {
                name: "Beta".into(),
                workstream: "Checkout UI".into(),
                due: NaiveDate::from_ymd_opt(2026, 5, 15).unwrap(),
            }],
            last_update: NaiveDate::from_ymd_opt(2026, 5, 20),
            forecast_at_last_update: NaiveDate::from_ymd_opt(2026, 7, 10),
            changes: vec![
                (Subject::Risk, Verb::Create, 2),
                (Subject::ProgramMember, Verb::Set, 3),
            ],
            spend: Some(SpendLine {
                total: 1_250_000,
                currency: "USD".into(),
                budget_used_percent: Some(62.5),
                time_elapsed_percent: Some(40.0),
            }),
        }
    }

    #[test]
    fn english_brief_covers_every_section() {
        let text = render(&facts(), Locale::En);
        assert!(text.starts_with(
            "# Checkout migration (CHK) — executive brief\n\n\
             Checkout migration is reported at risk, but the plan computes off track. \
             It is forecast to finish on 2026-07-10, 9 days after the 2026-07-01 target."
        ));
        assert!(text.contains("**Health: at risk** — Payments API slipped a week.\n"));
        assert!(text.contains("The plan computes **off track**."));
        assert!(text.contains("## Overdue milestones\n- Beta (Checkout UI), due 2026-05-15"));
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
        assert!(text.contains("members: 3 changed"));
    }

    #[test]
    fn computed_health_is_left_out_when_it_matches_the_posted_one() {
        let mut facts = facts();
        facts.computed_health = Some(Health::AtRisk);
        assert!(!render(&facts, Locale::En).contains("The plan computes"));
        facts.computed_health = None;
        assert!(!render(&facts, Locale::Ko).contains("계획으로 계산한 상태"));
    }

    #[test]
    fn korean_brief_reads_as_korean_from_the_same_facts() {
        let text = render(&facts(), Locale::Ko);
        assert!(text.contains("경영진 브리핑"));
        assert!(text.contains(
            "Checkout migration 프로그램의 보고된 상태는 주의, 계획으로 계산한 상태는 위험입니다."
        ));
        assert!(text.contains("**상태: 주의** — 결제 API가 1주 늦어졌습니다.\n"));
        assert!(text.contains("계획으로 계산한 상태는 **위험**입니다."));
        assert!(text.contains("## 주경로\nPayments API → Checkout UI (45일)"));
        assert!(text.contains("## 기한이 지난 마일스톤\n- Beta (Checkout UI), 기한 2026-05-15"));
        assert!(text.contains("구성원 3명 변경"));
        assert!(text.contains("목표일 2026-07-01보다 9일 늦습니다"));
        assert!(text.contains("리스크 2건 추가"));
        assert!(text.contains("2026-06-01까지 결정 필요"));
        assert!(!text.contains("Top risks"));
    }
}
