//! The brief's opening paragraph: health, forecast against target and its
//! trend, the biggest blocker, the top risk and the decisions needed, as
//! sentences an executive reads in 30 seconds.

use chrono::NaiveDate;
use entity::enums::Locale;

use super::{Blocker, BriefFacts, DECISION_HORIZON_DAYS, DecisionLine, fill};
use crate::i18n;

/// The sentences of one language.
struct Sentences {
    health: &'static str,
    health_differs: &'static str,
    forecast_late: &'static str,
    forecast_early: &'static str,
    forecast_on_target: &'static str,
    forecast_no_target: &'static str,
    forecast_none: &'static str,
    trend_later: &'static str,
    trend_earlier: &'static str,
    trend_unchanged: &'static str,
    blocker_overdue: &'static str,
    blocker_at_risk: &'static str,
    blocker_at_risk_undated: &'static str,
    bottleneck: &'static str,
    no_blocker: &'static str,
    top_risk: &'static str,
    risk_owner: &'static str,
    no_risk: &'static str,
    decision_item: &'static str,
    decision_overdue_item: &'static str,
    decision_undated_item: &'static str,
    one_decision: &'static str,
    decisions: &'static str,
    no_decisions: &'static str,
}

const EN: Sentences = Sentences {
    health: "{name} is {health}.",
    health_differs: "{name} is reported {posted}, but the plan computes {computed}.",
    forecast_late: "It is forecast to finish on {forecast}, {days} after the {target} target.",
    forecast_early: "It is forecast to finish on {forecast}, {days} ahead of the {target} target.",
    forecast_on_target: "It is forecast to finish on {forecast}, its target date.",
    forecast_no_target: "It is forecast to finish on {forecast}; no target date is set.",
    forecast_none: "There is no forecast yet: no workstream has both a start and a target date.",
    trend_later: "That is {days} later than at the last update on {date}.",
    trend_earlier: "That is {days} earlier than at the last update on {date}.",
    trend_unchanged: "That is unchanged since the last update on {date}.",
    blocker_overdue: "The biggest blocker is {upstream}, which {downstream} has needed since {needed}; it holds up {waiting}.",
    blocker_at_risk: "The biggest blocker is {upstream}, at risk of being late for {downstream} (needed by {needed}); it holds up {waiting}.",
    blocker_at_risk_undated: "The biggest blocker is {upstream}, at risk of being late for {downstream}; it holds up {waiting}.",
    bottleneck: "The biggest bottleneck is {workstream}; it holds up {waiting}.",
    no_blocker: "Nothing is blocked.",
    top_risk: "The top risk is {title} (score {score}{owner}).",
    risk_owner: ", owned by {owner}",
    no_risk: "No risk is open.",
    decision_item: "{title} by {due}",
    decision_overdue_item: "{title} (overdue since {due})",
    decision_undated_item: "{title}",
    one_decision: "A decision is needed on {list}.",
    decisions: "Decisions are needed on {list}.",
    no_decisions: "No decision is due within {horizon} days.",
};

const KO: Sentences = Sentences {
    health: "{name} 프로그램은 현재 {health} 상태입니다.",
    health_differs: "{name} 프로그램의 보고된 상태는 {posted}, 계획으로 계산한 상태는 {computed}입니다.",
    forecast_late: "{forecast}까지 완료될 것으로 예상되며, 목표일({target})보다 {days}일 늦습니다.",
    forecast_early: "{forecast}까지 완료될 것으로 예상되며, 목표일({target})보다 {days}일 빠릅니다.",
    forecast_on_target: "목표일인 {forecast}에 완료될 것으로 예상됩니다.",
    forecast_no_target: "{forecast}까지 완료될 것으로 예상되며, 목표일은 정해지지 않았습니다.",
    forecast_none: "아직 완료일을 예상할 수 없습니다. 시작일과 목표일이 모두 있는 워크스트림이 없습니다.",
    trend_later: "지난 상태 보고({date}) 때보다 {days}일 늦어졌습니다.",
    trend_earlier: "지난 상태 보고({date}) 때보다 {days}일 앞당겨졌습니다.",
    trend_unchanged: "지난 상태 보고({date}) 이후 변동이 없습니다.",
    blocker_overdue: "가장 큰 걸림돌은 {upstream} 워크스트림입니다. {downstream} 워크스트림에 {needed}까지 필요했지만 아직 전달되지 않았으며, 워크스트림 {waiting}개가 이를 기다리고 있습니다.",
    blocker_at_risk: "가장 큰 걸림돌은 {upstream} 워크스트림입니다. {downstream} 워크스트림에 {needed}까지 필요한데 늦어질 위험이 있으며, 워크스트림 {waiting}개가 이를 기다리고 있습니다.",
    blocker_at_risk_undated: "가장 큰 걸림돌은 {upstream} 워크스트림입니다. {downstream} 워크스트림에 필요한데 늦어질 위험이 있으며, 워크스트림 {waiting}개가 이를 기다리고 있습니다.",
    bottleneck: "가장 큰 병목은 {workstream} 워크스트림으로, 워크스트림 {waiting}개가 이를 기다리고 있습니다.",
    no_blocker: "막혀 있는 작업은 없습니다.",
    top_risk: "가장 큰 리스크는 {title}(점수 {score}{owner})입니다.",
    risk_owner: ", 담당 {owner}",
    no_risk: "열려 있는 리스크는 없습니다.",
    decision_item: "{title}({due}까지)",
    decision_overdue_item: "{title}({due} 기한 경과)",
    decision_undated_item: "{title}",
    one_decision: "{list}에 대한 결정이 필요합니다.",
    decisions: "{list}에 대한 결정이 필요합니다.",
    no_decisions: "{horizon}일 안에 내려야 할 결정은 없습니다.",
};

fn date(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// A number of days as English counts them; Korean templates add `일` themselves.
fn days(count: i64, locale: Locale) -> String {
    match (locale, count) {
        (Locale::En, 1) => "1 day".to_owned(),
        (Locale::En, n) => format!("{n} days"),
        (Locale::Ko, n) => n.to_string(),
    }
}

/// A number of workstreams as English counts them; Korean templates add `개`.
fn workstreams(count: usize, locale: Locale) -> String {
    match (locale, count) {
        (Locale::En, 1) => "1 workstream".to_owned(),
        (Locale::En, n) => format!("{n} workstreams"),
        (Locale::Ko, n) => n.to_string(),
    }
}

/// Items joined as a sentence lists them: "a, b and c" in English, "a, b, c" in Korean.
fn listed(items: Vec<String>, locale: Locale) -> String {
    match (locale, items.split_last()) {
        (_, None) => String::new(),
        (Locale::En, Some((last, rest))) if !rest.is_empty() => {
            format!("{} and {last}", rest.join(", "))
        }
        _ => items.join(", "),
    }
}

fn health(facts: &BriefFacts, s: &Sentences, locale: Locale) -> String {
    let posted = i18n::health_label(facts.health, locale).to_owned();
    match facts.computed_health.filter(|c| *c != facts.health) {
        Some(computed) => fill(
            s.health_differs,
            &[
                ("name", facts.name.clone()),
                ("posted", posted),
                ("computed", i18n::health_label(computed, locale).to_owned()),
            ],
        ),
        None => fill(
            s.health,
            &[("name", facts.name.clone()), ("health", posted)],
        ),
    }
}

fn forecast(facts: &BriefFacts, s: &Sentences, locale: Locale) -> String {
    let Some(forecast) = facts.forecast else {
        return s.forecast_none.to_owned();
    };
    let Some(target) = facts.target else {
        return fill(s.forecast_no_target, &[("forecast", date(forecast))]);
    };
    let late = (forecast - target).num_days();
    let template = match late {
        d if d > 0 => s.forecast_late,
        d if d < 0 => s.forecast_early,
        _ => s.forecast_on_target,
    };
    fill(
        template,
        &[
            ("forecast", date(forecast)),
            ("target", date(target)),
            ("days", days(late.abs(), locale)),
        ],
    )
}

fn trend(facts: &BriefFacts, s: &Sentences, locale: Locale) -> Option<String> {
    let (Some(now), Some(then), Some(posted)) = (
        facts.forecast,
        facts.forecast_at_last_update,
        facts.last_update,
    ) else {
        return None;
    };
    let moved = (now - then).num_days();
    let template = match moved {
        d if d > 0 => s.trend_later,
        d if d < 0 => s.trend_earlier,
        _ => s.trend_unchanged,
    };
    Some(fill(
        template,
        &[("days", days(moved.abs(), locale)), ("date", date(posted))],
    ))
}

fn blocker(facts: &BriefFacts, s: &Sentences, locale: Locale) -> String {
    match &facts.blocker {
        None => s.no_blocker.to_owned(),
        Some(Blocker::Bottleneck {
            workstream,
            waiting,
        }) => fill(
            s.bottleneck,
            &[
                ("workstream", workstream.clone()),
                ("waiting", workstreams(*waiting, locale)),
            ],
        ),
        Some(Blocker::Dependency {
            line,
            overdue,
            waiting,
        }) => {
            let template = match (overdue, line.needed_by) {
                (true, Some(_)) => s.blocker_overdue,
                (false, Some(_)) => s.blocker_at_risk,
                (_, None) => s.blocker_at_risk_undated,
            };
            fill(
                template,
                &[
                    ("upstream", line.upstream.clone()),
                    ("downstream", line.downstream.clone()),
                    ("needed", line.needed_by.map(date).unwrap_or_default()),
                    ("waiting", workstreams(*waiting, locale)),
                ],
            )
        }
    }
}

fn top_risk(facts: &BriefFacts, s: &Sentences) -> String {
    let Some(risk) = facts.top_risks.first() else {
        return s.no_risk.to_owned();
    };
    let owner = risk
        .owner
        .as_ref()
        .map(|owner| fill(s.risk_owner, &[("owner", owner.clone())]))
        .unwrap_or_default();
    fill(
        s.top_risk,
        &[
            ("title", risk.title.clone()),
            ("score", risk.score.to_string()),
            ("owner", owner),
        ],
    )
}

fn decisions(facts: &BriefFacts, s: &Sentences, locale: Locale) -> String {
    let item = |decision: &DecisionLine| match decision.due {
        Some(due) => fill(
            if due < facts.today {
                s.decision_overdue_item
            } else {
                s.decision_item
            },
            &[("title", decision.title.clone()), ("due", date(due))],
        ),
        None => fill(
            s.decision_undated_item,
            &[("title", decision.title.clone())],
        ),
    };
    let template = match facts.decisions_needed.len() {
        0 => {
            return fill(
                s.no_decisions,
                &[("horizon", DECISION_HORIZON_DAYS.to_string())],
            );
        }
        1 => s.one_decision,
        _ => s.decisions,
    };
    let items = facts.decisions_needed.iter().map(item).collect();
    fill(template, &[("list", listed(items, locale))])
}

/// The brief's opening paragraph in `locale`: one line of sentences.
pub fn summary(facts: &BriefFacts, locale: Locale) -> String {
    let s = match locale {
        Locale::En => &EN,
        Locale::Ko => &KO,
    };
    let mut sentences = vec![health(facts, s, locale), forecast(facts, s, locale)];
    sentences.extend(trend(facts, s, locale));
    sentences.push(blocker(facts, s, locale));
    sentences.push(top_risk(facts, s));
    sentences.push(decisions(facts, s, locale));
    sentences.join(" ")
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use entity::enums::Health;

    use super::*;
    use crate::planning::brief::{BriefFacts, DependencyLine, RiskLine};

    fn on(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn facts() -> BriefFacts {
        BriefFacts {
            name: "Checkout".into(),
            key: "CHK".into(),
            health: Health::AtRisk,
            computed_health: None,
            health_reason: None,
            forecast: Some(on(2027, 3, 14)),
            target: Some(on(2027, 3, 2)),
            critical_path: vec![],
            critical_days: None,
            unscheduled: 0,
            overdue: vec![],
            at_risk: vec![],
            top_risks: vec![RiskLine {
                title: "Vendor delay".into(),
                score: 20,
                owner: Some("Kim".into()),
            }],
            pending_decisions: vec![],
            today: on(2027, 1, 5),
            decisions_needed: vec![
                DecisionLine {
                    title: "Freeze the API".into(),
                    due: Some(on(2027, 1, 2)),
                },
                DecisionLine {
                    title: "Pick a queue".into(),
                    due: Some(on(2027, 1, 10)),
                },
                DecisionLine {
                    title: "Choose a vendor".into(),
                    due: Some(on(2027, 1, 12)),
                },
            ],
            blocker: Some(Blocker::Dependency {
                line: DependencyLine {
                    upstream: "Payments API".into(),
                    downstream: "Checkout UI".into(),
                    needed_by: Some(on(2027, 1, 4)),
                    committed: None,
                },
                overdue: true,
                waiting: 3,
            }),
            overdue_milestones: vec![],
            last_update: Some(on(2027, 1, 1)),
            forecast_at_last_update: Some(on(2027, 3, 11)),
            changes: vec![],
            spend: None,
        }
    }

    #[test]
    fn english_summary_reads_as_sentences() {
        assert_eq!(
            summary(&facts(), Locale::En),
            "Checkout is at risk. \
             It is forecast to finish on 2027-03-14, 12 days after the 2027-03-02 target. \
             That is 3 days later than at the last update on 2027-01-01. \
             The biggest blocker is Payments API, which Checkout UI has needed since 2027-01-04; it holds up 3 workstreams. \
             The top risk is Vendor delay (score 20, owned by Kim). \
             Decisions are needed on Freeze the API (overdue since 2027-01-02), Pick a queue by 2027-01-10 and Choose a vendor by 2027-01-12."
        );
    }

    #[test]
    fn korean_summary_reads_as_korean_sentences() {
        assert_eq!(
            summary(&facts(), Locale::Ko),
            "Checkout 프로그램은 현재 주의 상태입니다. \
             2027-03-14까지 완료될 것으로 예상되며, 목표일(2027-03-02)보다 12일 늦습니다. \
             지난 상태 보고(2027-01-01) 때보다 3일 늦어졌습니다. \
             가장 큰 걸림돌은 Payments API 워크스트림입니다. Checkout UI 워크스트림에 2027-01-04까지 필요했지만 아직 전달되지 않았으며, 워크스트림 3개가 이를 기다리고 있습니다. \
             가장 큰 리스크는 Vendor delay(점수 20, 담당 Kim)입니다. \
             Freeze the API(2027-01-02 기한 경과), Pick a queue(2027-01-10까지), Choose a vendor(2027-01-12까지)에 대한 결정이 필요합니다."
        );
    }

    #[test]
    fn computed_health_shows_beside_posted_only_when_they_differ() {
        let mut differing = facts();
        differing.computed_health = Some(Health::OffTrack);
        assert!(
            summary(&differing, Locale::En)
                .starts_with("Checkout is reported at risk, but the plan computes off track.")
        );
        assert!(summary(&differing, Locale::Ko).starts_with(
            "Checkout 프로그램의 보고된 상태는 주의, 계획으로 계산한 상태는 위험입니다."
        ));
        let mut same = facts();
        same.computed_health = Some(Health::AtRisk);
        assert!(summary(&same, Locale::En).starts_with("Checkout is at risk."));
    }

    #[test]
    fn quiet_programs_say_so_in_both_languages() {
        let mut quiet = facts();
        quiet.health = Health::OnTrack;
        quiet.forecast = Some(on(2027, 2, 27));
        quiet.forecast_at_last_update = Some(on(2027, 2, 27));
        quiet.blocker = None;
        quiet.top_risks.clear();
        quiet.decisions_needed.remove(0);
        quiet.decisions_needed.truncate(1);
        assert_eq!(
            summary(&quiet, Locale::En),
            "Checkout is on track. \
             It is forecast to finish on 2027-02-27, 3 days ahead of the 2027-03-02 target. \
             That is unchanged since the last update on 2027-01-01. \
             Nothing is blocked. No risk is open. \
             A decision is needed on Pick a queue by 2027-01-10."
        );
        let ko = summary(&quiet, Locale::Ko);
        assert!(
            ko.starts_with("Checkout 프로그램은 현재 정상 상태입니다."),
            "{ko}"
        );
        assert!(ko.contains("목표일(2027-03-02)보다 3일 빠릅니다."), "{ko}");
        assert!(ko.contains("지난 상태 보고(2027-01-01) 이후 변동이 없습니다."));
        quiet.decisions_needed.clear();
        quiet.blocker = Some(Blocker::Bottleneck {
            workstream: "Core".into(),
            waiting: 1,
        });
        let en = summary(&quiet, Locale::En);
        assert!(en.contains("The biggest bottleneck is Core; it holds up 1 workstream."));
        assert!(en.ends_with("No decision is due within 14 days."), "{en}");
        let ko = summary(&quiet, Locale::Ko);
        assert!(ko.contains("가장 큰 병목은 Core 워크스트림으로, 워크스트림 1개가"));
        assert!(ko.ends_with("14일 안에 내려야 할 결정은 없습니다."), "{ko}");
    }
}
