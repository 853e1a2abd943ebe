//! A portfolio's rollup and brief: what its programs add up to, and the
//! Markdown that condenses it for executives, in English and Korean. Pure:
//! facts in, text out.

use chrono::NaiveDate;
use entity::enums::{Health, Locale};

use crate::i18n;

/// One program as the portfolio's brief lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramLine {
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Health as last reported.
    pub health: Health,
    /// Health as computed from the plan.
    pub computed_health: Health,
    /// Forecast finish.
    pub forecast: Option<NaiveDate>,
    /// Target date.
    pub target: Option<NaiveDate>,
}

/// What a portfolio's programs add up to, over the programs its reader can see.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rollup {
    /// The programs counted.
    pub program_count: usize,
    /// Programs per reported health, every health listed.
    pub by_health: Vec<(Health, usize)>,
    /// Programs per computed health, every health listed.
    pub by_computed_health: Vec<(Health, usize)>,
    /// The latest forecast finish of the programs.
    pub latest_forecast_finish: Option<NaiveDate>,
    /// Dependencies past their need date, each counted once.
    pub overdue_dependencies: usize,
    /// Dependencies at risk or blocked, each counted once.
    pub at_risk_dependencies: usize,
    /// Risks open or being mitigated.
    pub open_risks: usize,
    /// Spent, per currency (programs may keep different currencies).
    pub spend: Vec<(String, i64)>,
    /// Budgeted, per currency.
    pub budget: Vec<(String, i64)>,
    /// The programs, by key.
    pub programs: Vec<ProgramLine>,
}

/// The words of one language.
struct Templates {
    title: &'static str,
    programs: &'static str,
    health_counts: &'static str,
    computed_counts: &'static str,
    latest_finish: &'static str,
    no_finish: &'static str,
    dependencies: &'static str,
    open_risks: &'static str,
    money: &'static str,
    programs_heading: &'static str,
    program_line: &'static str,
    program_forecast: &'static str,
    none: &'static str,
}

const EN: Templates = Templates {
    title: "# {name} — portfolio brief",
    programs: "{count} program(s).",
    health_counts: "Reported health: {counts}.",
    computed_counts: "Computed from the plans: {counts}.",
    latest_finish: "The last program is forecast to finish on **{date}**.",
    no_finish: "No program has a forecast yet.",
    dependencies: "Dependencies: {overdue} overdue, {at_risk} at risk.",
    open_risks: "Open risks: {count}.",
    money: "Spent {spent} of a budget of {budget}.",
    programs_heading: "## Programs",
    program_line: "- {key} {name}: {health} (computed {computed}){forecast}",
    program_forecast: ", forecast {forecast}, target {target}",
    none: "none",
};

const KO: Templates = Templates {
    title: "# {name} 포트폴리오 브리핑",
    programs: "프로그램 {count}개.",
    health_counts: "보고된 상태: {counts}.",
    computed_counts: "계획으로 계산한 상태: {counts}.",
    latest_finish: "가장 늦은 프로그램의 예상 완료일은 **{date}**입니다.",
    no_finish: "아직 예상 완료일이 있는 프로그램이 없습니다.",
    dependencies: "의존 관계: 기한 초과 {overdue}건, 위험 {at_risk}건.",
    open_risks: "열린 리스크: {count}건.",
    money: "예산 {budget} 중 {spent} 지출.",
    programs_heading: "## 프로그램",
    program_line: "- {key} {name}: {health} (계산 {computed}){forecast}",
    program_forecast: ", 예상 {forecast}, 목표 {target}",
    none: "없음",
};

fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut text = template.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

fn day(date: Option<NaiveDate>, none: &str) -> String {
    date.map_or_else(|| none.to_owned(), |d| d.format("%Y-%m-%d").to_string())
}

fn amounts(totals: &[(String, i64)], none: &str) -> String {
    if totals.is_empty() {
        return none.to_owned();
    }
    totals
        .iter()
        .map(|(currency, amount)| format!("{amount} {currency}"))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Render the brief of portfolio `name` in `locale`.
pub fn render(name: &str, rollup: &Rollup, locale: Locale) -> String {
    let t = match locale {
        Locale::En => &EN,
        Locale::Ko => &KO,
    };
    let counts = |by: &[(Health, usize)]| {
        by.iter()
            .map(|(health, n)| format!("{} {n}", i18n::health_label(*health, locale)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = vec![
        fill(t.title, &[("name", name.to_owned())]),
        String::new(),
        fill(t.programs, &[("count", rollup.program_count.to_string())]),
        fill(t.health_counts, &[("counts", counts(&rollup.by_health))]),
        fill(
            t.computed_counts,
            &[("counts", counts(&rollup.by_computed_health))],
        ),
        match rollup.latest_forecast_finish {
            Some(date) => fill(t.latest_finish, &[("date", day(Some(date), t.none))]),
            None => t.no_finish.to_owned(),
        },
        fill(
            t.dependencies,
            &[
                ("overdue", rollup.overdue_dependencies.to_string()),
                ("at_risk", rollup.at_risk_dependencies.to_string()),
            ],
        ),
        fill(t.open_risks, &[("count", rollup.open_risks.to_string())]),
        fill(
            t.money,
            &[
                ("spent", amounts(&rollup.spend, t.none)),
                ("budget", amounts(&rollup.budget, t.none)),
            ],
        ),
        String::new(),
        t.programs_heading.to_owned(),
    ];
    if rollup.programs.is_empty() {
        lines.push(t.none.to_owned());
    }
    for program in &rollup.programs {
        let forecast = if program.forecast.is_some() || program.target.is_some() {
            fill(
                t.program_forecast,
                &[
                    ("forecast", day(program.forecast, t.none)),
                    ("target", day(program.target, t.none)),
                ],
            )
        } else {
            String::new()
        };
        lines.push(fill(
            t.program_line,
            &[
                ("key", program.key.clone()),
                ("name", program.name.clone()),
                (
                    "health",
                    i18n::health_label(program.health, locale).to_owned(),
                ),
                (
                    "computed",
                    i18n::health_label(program.computed_health, locale).to_owned(),
                ),
                ("forecast", forecast),
            ],
        ));
    }
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_say_the_same_rollup() {
        let rollup = Rollup {
            program_count: 2,
            by_health: vec![
                (Health::OnTrack, 1),
                (Health::AtRisk, 1),
                (Health::OffTrack, 0),
            ],
            by_computed_health: vec![
                (Health::OnTrack, 0),
                (Health::AtRisk, 1),
                (Health::OffTrack, 1),
            ],
            latest_forecast_finish: NaiveDate::from_ymd_opt(2027, 3, 1),
            overdue_dependencies: 2,
            at_risk_dependencies: 1,
            open_risks: 4,
            spend: vec![("USD".into(), 500)],
            budget: vec![("USD".into(), 1_000)],
            programs: vec![ProgramLine {
                key: "GDPR".into(),
                name: "Privacy".into(),
                health: Health::AtRisk,
                computed_health: Health::OffTrack,
                forecast: NaiveDate::from_ymd_opt(2027, 3, 1),
                target: NaiveDate::from_ymd_opt(2027, 1, 1),
            }],
        };
        let en = render("EU launch", &rollup, Locale::En);
        assert!(en.starts_with("# EU launch — portfolio brief\n"), "{en}");
        assert!(en.contains("2 program(s)."), "{en}");
        assert!(en.contains("**2027-03-01**"), "{en}");
        assert!(en.contains("Dependencies: 2 overdue, 1 at risk."), "{en}");
        assert!(
            en.contains("Spent 500 USD of a budget of 1000 USD."),
            "{en}"
        );
        assert!(en.contains("- GDPR Privacy: at risk (computed off track), forecast 2027-03-01, target 2027-01-01"), "{en}");
        let ko = render("EU launch", &rollup, Locale::Ko);
        assert!(ko.contains("프로그램 2개."), "{ko}");
        assert!(ko.contains("의존 관계: 기한 초과 2건, 위험 1건."), "{ko}");
        assert!(ko.contains("예산 1000 USD 중 500 USD 지출."), "{ko}");
    }
}
