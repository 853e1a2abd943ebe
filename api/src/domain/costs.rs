//! Costs: money spent on a program (OWNER or EDITOR records it), and what
//! it adds up to: the spend against the budget and the time elapsed, the
//! burn rate, the forecast at completion and the return on the expected
//! benefit. A program's amounts share one currency: its budget's, else its
//! expected benefit's, else that of the costs already recorded.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::{cost, program, workstream};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Action, Visible},
    audit::Change,
    risks::linked,
    validate::{self, AllInputs, Money},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// What `recordCost` accepts.
#[derive(Debug, Clone)]
pub struct NewCost {
    /// The program the money was spent on.
    pub program_id: Uuid,
    /// The workstream of that program it was spent on, if any.
    pub workstream_id: Option<Uuid>,
    /// How much, in the program's currency.
    pub amount: Money,
    /// The day it was incurred.
    pub incurred_on: NaiveDate,
    /// What kind of cost.
    pub category: String,
    /// What it was for.
    pub description: Option<String>,
}

/// The currency a program's amounts are in, from its budget or its
/// expected benefit, if either is set.
pub fn program_currency(program: &program::Model) -> Option<&str> {
    program
        .budget_currency
        .as_deref()
        .or(program.expected_benefit_currency.as_deref())
}

/// Refuse `money` (at `field`) in another currency than `expected`.
pub fn same_currency(field: &str, money: &Money, expected: Option<&str>) -> ApiResult<()> {
    match expected {
        Some(expected) if expected != money.currency => Err(ApiError::bad_input(
            format!("{field}.currency"),
            Message::CurrencyMismatch {
                expected: expected.to_owned(),
            },
        )),
        _ => Ok(()),
    }
}

/// The program `id`, locked until the transaction ends, so that costs and
/// changes to the program's money take turns on its one currency.
pub async fn lock_program(
    db: &impl sea_orm::ConnectionTrait,
    id: Uuid,
) -> ApiResult<program::Model> {
    program::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(ApiError::NotFound(Message::NotFound))
}

/// The currency of the costs recorded on a program, if any.
pub async fn recorded_currency(
    db: &impl sea_orm::ConnectionTrait,
    program_id: Uuid,
) -> ApiResult<Option<String>> {
    Ok(cost::Entity::find()
        .select_only()
        .column(cost::Column::Currency)
        .filter(cost::Column::ProgramId.eq(program_id))
        .order_by_asc(cost::Column::CreatedAt)
        .limit(1)
        .into_tuple::<String>()
        .one(db)
        .await?)
}

impl Domain {
    /// Record a cost against a program (OWNER, EDITOR), optionally against
    /// one of its workstreams.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_cost(
        &self,
        viewer: &Viewer,
        input: NewCost,
    ) -> ApiResult<Visible<cost::Model>> {
        let user = viewer.require_user()?;
        let ((), category, description) = (
            validate::money("input.amount", &input.amount),
            validate::name("input.category", &input.category),
            validate::optional_text("input.description", input.description.as_deref()),
        )
            .all()?;

        let txn = self.begin_write().await?;
        let (_, access) = access::find_authorized::<program::Entity>(
            &txn,
            viewer,
            input.program_id,
            Action::Edit,
        )
        .await?;
        let program = lock_program(&txn, input.program_id).await?;
        if let Some(id) = input.workstream_id {
            linked::<workstream::Entity>(&txn, viewer, "input.workstreamId", program.id, id, |w| {
                w.program_id
            })
            .await?;
        }
        let expected = match program_currency(&program) {
            Some(currency) => Some(currency.to_owned()),
            None => recorded_currency(&txn, program.id).await?,
        };
        same_currency("input.amount", &input.amount, expected.as_deref())?;
        let recorded = cost::ActiveModel {
            program_id: Set(program.id),
            workstream_id: Set(input.workstream_id),
            amount: Set(input.amount.amount),
            currency: Set(input.amount.currency),
            incurred_on: Set(input.incurred_on),
            category: Set(category),
            description: Set(description),
            recorded_by_id: Set(Some(user.id)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.commit(txn, user.id, [Change::created(&recorded)])
            .await?;
        access.admit(recorded)
    }

    /// Delete a cost recorded by mistake (OWNERs and EDITORs of its program).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_cost(&self, viewer: &Viewer, id: Uuid) -> ApiResult<Uuid> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let (before, _) =
            access::find_authorized::<cost::Entity>(&txn, viewer, id, Action::Edit).await?;
        cost::Entity::delete_by_id(id).exec(&txn).await?;
        self.commit(txn, user.id, [Change::deleted(&before)])
            .await?;
        Ok(id)
    }
}

/// What a program's costs add up to.
#[derive(Debug, Clone, PartialEq)]
pub struct Spend {
    /// The currency of every amount.
    pub currency: String,
    /// Everything spent.
    pub total: i64,
    /// Spent per category, the largest first (ties by name).
    pub by_category: Vec<(String, i64)>,
    /// The average spent per week, from the program's start (or its first
    /// cost) to today; none before that day.
    pub burn_rate_per_week: Option<i64>,
    /// `total / budget × 100`; none without a budget above zero.
    pub budget_used_percent: Option<f64>,
    /// Days from the start to today over days from the start to the target,
    /// × 100; none without both dates in that order.
    pub time_elapsed_percent: Option<f64>,
    /// What the program will have spent when it finishes, if it goes on
    /// spending at its burn rate until its forecast finish (else its
    /// target date).
    pub forecast_at_completion: Option<i64>,
}

fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The spend of `program` from its `costs`, as of `today`, with `finish` its
/// forecast finish; none when the program has no currency yet (no budget,
/// no expected benefit, no cost).
pub fn spend(
    program: &program::Model,
    costs: &[&cost::Model],
    today: NaiveDate,
    finish: Option<NaiveDate>,
) -> Option<Spend> {
    let currency = program_currency(program)
        .or_else(|| costs.first().map(|c| c.currency.as_str()))?
        .to_owned();
    let mut categories: BTreeMap<&str, i128> = BTreeMap::new();
    for cost in costs.iter().filter(|c| c.currency == currency) {
        *categories.entry(&cost.category).or_default() += i128::from(cost.amount);
    }
    let total: i128 = categories.values().sum();
    let mut by_category: Vec<(String, i64)> = categories
        .into_iter()
        .map(|(category, amount)| (category.to_owned(), saturate(amount)))
        .collect();
    by_category.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    let start = program
        .start_date
        .or_else(|| costs.iter().map(|c| c.incurred_on).min());
    // Days of spending so far, both ends included.
    let days_so_far = start
        .map(|start| (today - start).num_days() + 1)
        .filter(|days| *days > 0);
    let burn_rate_per_week =
        days_so_far.map(|days| saturate((total * 7 + i128::from(days) / 2) / i128::from(days)));
    let budget_used_percent = match (program.budget_amount, &program.budget_currency) {
        (Some(budget), Some(code)) if budget > 0 && *code == currency => {
            Some(total as f64 / budget as f64 * 100.0)
        }
        _ => None,
    };
    let time_elapsed_percent = match (program.start_date, program.target_date) {
        (Some(start), Some(target)) if target > start => {
            Some((today - start).num_days() as f64 / (target - start).num_days() as f64 * 100.0)
        }
        _ => None,
    };
    let forecast_at_completion = match (days_so_far, finish.or(program.target_date)) {
        (Some(days), Some(end)) => {
            let days_left = i128::from((end - today).num_days().max(0));
            Some(saturate(total + total * days_left / i128::from(days)))
        }
        _ => None,
    };
    Some(Spend {
        currency,
        total: saturate(total),
        by_category,
        burn_rate_per_week,
        budget_used_percent,
        time_elapsed_percent,
        forecast_at_completion,
    })
}

/// The return on investment: (expected benefit − spent) / spent, as a
/// fraction; none without an expected benefit in the spend's currency or
/// with nothing spent.
pub fn roi(program: &program::Model, spend: Option<&Spend>) -> Option<f64> {
    let spend = spend?;
    let benefit = program.expected_benefit_amount?;
    if program.expected_benefit_currency.as_deref() != Some(spend.currency.as_str())
        || spend.total == 0
    {
        return None;
    }
    Some((benefit as f64 - spend.total as f64) / spend.total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a day")
    }

    fn program() -> program::Model {
        program::Model {
            id: Uuid::nil(),
            key: "P".into(),
            name: "P".into(),
            description: None,
            objective: None,
            status: entity::enums::ProgramStatus::Active,
            health: entity::enums::Health::OnTrack,
            start_date: Some(day("2026-01-01")),
            target_date: Some(day("2026-01-11")),
            budget_amount: Some(1_000),
            budget_currency: Some("USD".into()),
            expected_benefit_amount: Some(3_000),
            expected_benefit_currency: Some("USD".into()),
            owner_id: Uuid::nil(),
            archived_at: None,
            version: 1,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            time_zone: "UTC".into(),
            off_track_after_days: 14,
        }
    }

    fn cost(amount: i64, category: &str, on: &str) -> cost::Model {
        cost::Model {
            id: Uuid::now_v7(),
            program_id: Uuid::nil(),
            workstream_id: None,
            amount,
            currency: "USD".into(),
            incurred_on: day(on),
            category: category.into(),
            description: None,
            recorded_by_id: None,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn spend_adds_up_against_budget_time_and_forecast() {
        let costs = [
            cost(300, "people", "2026-01-02"),
            cost(100, "cloud", "2026-01-03"),
            cost(100, "people", "2026-01-05"),
        ];
        let rows: Vec<_> = costs.iter().collect();
        // Five days of spending (1st to 5th); 4 of the 10 planned days elapsed.
        let spend = spend(
            &program(),
            &rows,
            day("2026-01-05"),
            Some(day("2026-01-15")),
        )
        .expect("a currency");
        assert_eq!(spend.total, 500);
        assert_eq!(
            spend.by_category,
            vec![("people".to_owned(), 400), ("cloud".to_owned(), 100)]
        );
        assert_eq!(spend.burn_rate_per_week, Some(700));
        assert_eq!(spend.budget_used_percent, Some(50.0));
        assert_eq!(spend.time_elapsed_percent, Some(40.0));
        // 100 a day for the ten days left to the forecast finish.
        assert_eq!(spend.forecast_at_completion, Some(1_500));
        assert_eq!(roi(&program(), Some(&spend)), Some(5.0));
    }

    #[test]
    fn no_currency_no_spend_and_nothing_spent_no_roi() {
        let mut bare = program();
        bare.budget_amount = None;
        bare.budget_currency = None;
        bare.expected_benefit_currency = None;
        assert_eq!(spend(&bare, &[], day("2026-01-05"), None), None);
        let spend = spend(&program(), &[], day("2026-01-05"), None).expect("the budget's");
        assert_eq!((spend.total, spend.budget_used_percent), (0, Some(0.0)));
        assert_eq!(roi(&program(), Some(&spend)), None);
    }
}
