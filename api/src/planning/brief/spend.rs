//! The brief's spend line: what a program spent against its budget and
//! the time elapsed, and whether spending runs ahead of time.

use entity::enums::Locale;

/// What a program has spent, against its budget and the time elapsed.
#[derive(Debug, Clone, PartialEq)]
pub struct SpendLine {
    /// Everything spent, in whole units.
    pub total: i64,
    /// Its ISO 4217 currency.
    pub currency: String,
    /// Spent over budget × 100, with a budget.
    pub budget_used_percent: Option<f64>,
    /// Time elapsed from start to target × 100, with both dates.
    pub time_elapsed_percent: Option<f64>,
}

/// Spending this many points of the budget ahead of (or behind) the time
/// elapsed is ahead of (or behind) time; closer keeps pace.
const PACE_MARGIN_POINTS: f64 = 10.0;

/// The words of one language.
struct Templates {
    against_time: &'static str,
    of_budget: &'static str,
    no_budget: &'static str,
    ahead: &'static str,
    behind: &'static str,
    on_pace: &'static str,
}

const EN: Templates = Templates {
    against_time: "Spent **{spent}**: {used} % of the budget with {elapsed} % of the time elapsed.",
    of_budget: "Spent **{spent}**: {used} % of the budget.",
    no_budget: "Spent **{spent}** so far; no budget is set.",
    ahead: " Spending runs ahead of time.",
    behind: " Spending runs behind time.",
    on_pace: " Spending keeps pace with time.",
};

const KO: Templates = Templates {
    against_time: "지출 **{spent}**: 예산의 {used}%를 썼고, 기간은 {elapsed}% 지났습니다.",
    of_budget: "지출 **{spent}**: 예산의 {used}%를 썼습니다.",
    no_budget: "지금까지 지출 **{spent}**. 예산은 정해지지 않았습니다.",
    ahead: " 지출이 기간보다 빠르게 늘고 있습니다.",
    behind: " 지출이 기간보다 느리게 늘고 있습니다.",
    on_pace: " 지출이 기간과 비슷한 속도로 늘고 있습니다.",
};

/// `1234567` as `1,234,567`.
fn grouped(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if amount < 0 {
        text.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// The spend against the budget and the time elapsed, in `locale`.
pub fn line(spend: &SpendLine, locale: Locale) -> String {
    let t = match locale {
        Locale::En => &EN,
        Locale::Ko => &KO,
    };
    let spent = format!("{} {}", grouped(spend.total), spend.currency);
    let percent = |value: f64| format!("{value:.0}");
    // Before the start there is no time elapsed to compare with.
    let elapsed = spend.time_elapsed_percent.filter(|elapsed| *elapsed >= 0.0);
    match (spend.budget_used_percent, elapsed) {
        (Some(used), Some(elapsed)) => {
            let pace = if used > elapsed + PACE_MARGIN_POINTS {
                t.ahead
            } else if used + PACE_MARGIN_POINTS < elapsed {
                t.behind
            } else {
                t.on_pace
            };
            super::fill(
                t.against_time,
                &[
                    ("spent", spent),
                    ("used", percent(used)),
                    ("elapsed", percent(elapsed)),
                ],
            ) + pace
        }
        (Some(used), None) => {
            super::fill(t.of_budget, &[("spent", spent), ("used", percent(used))])
        }
        (None, _) => super::fill(t.no_budget, &[("spent", spent)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spend() -> SpendLine {
        SpendLine {
            total: 1_250_000,
            currency: "USD".into(),
            budget_used_percent: Some(62.5),
            time_elapsed_percent: Some(40.0),
        }
    }

    #[test]
    fn spend_is_compared_with_the_time_elapsed() {
        let mut spend = spend();
        assert_eq!(
            line(&spend, Locale::En),
            "Spent **1,250,000 USD**: 62 % of the budget with 40 % of the time elapsed. \
             Spending runs ahead of time."
        );
        assert_eq!(
            line(&spend, Locale::Ko),
            "지출 **1,250,000 USD**: 예산의 62%를 썼고, 기간은 40% 지났습니다. \
             지출이 기간보다 빠르게 늘고 있습니다."
        );
        spend.budget_used_percent = Some(35.0);
        assert!(line(&spend, Locale::En).ends_with("Spending keeps pace with time."));
        spend.budget_used_percent = Some(10.0);
        assert!(line(&spend, Locale::En).ends_with("Spending runs behind time."));
        spend.time_elapsed_percent = None;
        assert_eq!(
            line(&spend, Locale::En),
            "Spent **1,250,000 USD**: 10 % of the budget."
        );
        spend.budget_used_percent = None;
        assert_eq!(
            line(&spend, Locale::En),
            "Spent **1,250,000 USD** so far; no budget is set."
        );
    }
}
