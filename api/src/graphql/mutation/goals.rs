//! Goal mutations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use crate::domain::goals::{GoalChanges, NewGoal, NewGoalValue};
use crate::graphql::{
    context::{parse_id, parse_ids, parse_optional_id, patch, patch_id, scope},
    scalars::Date,
    types::goal::Goal,
};

/// A new goal of a portfolio (its owner or an ADMIN), of programs (their
/// OWNERs and EDITORs), or both.
#[derive(InputObject)]
pub struct CreateGoalInput {
    /// What the goal is, in a line (up to 200 characters).
    pub title: String,
    /// What is measured, e.g. `p95 checkout latency` (up to 200 characters).
    pub metric: String,
    /// The unit of the values, e.g. `ms`, `%`, `EUR` (up to 50 characters).
    pub unit: String,
    /// The value today; the current value starts at it.
    pub baseline_value: f64,
    /// The value to reach (below the baseline for a metric to bring down).
    pub target_value: f64,
    /// When to reach it.
    pub target_date: Option<Date>,
    /// Who answers for it; the caller when absent.
    pub owner_id: Option<ID>,
    /// The portfolio it belongs to.
    pub portfolio_id: Option<ID>,
    /// The programs that pursue it (at most 100).
    pub program_ids: Option<Vec<ID>>,
}

/// Changes to a goal. Absent fields stay as they are; `null` clears.
#[derive(InputObject)]
pub struct UpdateGoalInput {
    /// The goal.
    pub id: ID,
    /// The `version` the change is based on; `CONFLICT` if the goal changed since.
    pub expected_version: Option<i32>,
    /// New title (cannot be null).
    pub title: MaybeUndefined<String>,
    /// New metric (cannot be null).
    pub metric: MaybeUndefined<String>,
    /// New unit (cannot be null).
    pub unit: MaybeUndefined<String>,
    /// New baseline (cannot be null).
    pub baseline_value: MaybeUndefined<f64>,
    /// New target (cannot be null).
    pub target_value: MaybeUndefined<f64>,
    /// New target date.
    pub target_date: MaybeUndefined<Date>,
    /// New owner (cannot be null).
    pub owner_id: MaybeUndefined<ID>,
}

/// A value of a goal's metric; the latest day's value becomes the current value.
#[derive(InputObject)]
pub struct RecordGoalValueInput {
    /// The goal.
    pub goal_id: ID,
    /// The value measured.
    pub value: f64,
    /// The day it was measured; today when absent.
    pub recorded_on: Option<Date>,
    /// Where it comes from or what moved it (up to 20,000 characters).
    pub note: Option<String>,
}

/// The goal after the change.
#[derive(SimpleObject)]
pub struct GoalPayload {
    /// The goal.
    pub goal: Goal,
}

/// Delete a goal.
#[derive(InputObject)]
pub struct DeleteGoalInput {
    /// The goal.
    pub id: ID,
    /// The `version` the deletion is based on; `CONFLICT` if the goal changed since.
    pub expected_version: Option<i32>,
}

/// What was deleted.
#[derive(SimpleObject)]
pub struct DeleteGoalPayload {
    /// The id of the deleted goal; its values went with it.
    pub deleted_goal_id: ID,
}

/// Goal mutations.
#[derive(Default)]
pub struct GoalMutation;

#[Object]
impl GoalMutation {
    /// Set a goal of a portfolio, of programs, or both.
    async fn create_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: CreateGoalInput,
    ) -> Result<GoalPayload> {
        let (domain, viewer) = scope(ctx)?;
        let program_ids = parse_ids("input.programIds", &input.program_ids.unwrap_or_default())?;
        let goal = domain
            .create_goal(
                viewer,
                NewGoal {
                    title: input.title,
                    metric: input.metric,
                    unit: input.unit,
                    baseline_value: input.baseline_value,
                    target_value: input.target_value,
                    target_date: input.target_date.map(Into::into),
                    owner_id: parse_optional_id("input.ownerId", input.owner_id.as_ref())?,
                    portfolio_id: parse_optional_id(
                        "input.portfolioId",
                        input.portfolio_id.as_ref(),
                    )?,
                    program_ids,
                },
            )
            .await?;
        Ok(GoalPayload { goal: Goal(goal) })
    }

    /// Change a goal (its owner, its portfolio's owner, OWNERs and EDITORs of its programs, ADMINs).
    async fn update_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: UpdateGoalInput,
    ) -> Result<GoalPayload> {
        let (domain, viewer) = scope(ctx)?;
        let goal = domain
            .update_goal(
                viewer,
                parse_id("input.id", &input.id)?,
                input.expected_version,
                GoalChanges {
                    title: patch(input.title),
                    metric: patch(input.metric),
                    unit: patch(input.unit),
                    baseline_value: patch(input.baseline_value),
                    target_value: patch(input.target_value),
                    target_date: patch(input.target_date),
                    owner_id: patch_id("input.ownerId", input.owner_id)?,
                },
            )
            .await?;
        Ok(GoalPayload { goal: Goal(goal) })
    }

    /// Record a value of a goal's metric (whoever may change the goal).
    async fn record_goal_value(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: RecordGoalValueInput,
    ) -> Result<GoalPayload> {
        let (domain, viewer) = scope(ctx)?;
        let goal = domain
            .record_goal_value(
                viewer,
                NewGoalValue {
                    goal_id: parse_id("input.goalId", &input.goal_id)?,
                    value: input.value,
                    recorded_on: input.recorded_on.map(Into::into),
                    note: input.note,
                },
            )
            .await?;
        Ok(GoalPayload { goal: Goal(goal) })
    }

    /// Delete a goal and its recorded values (whoever may change the goal).
    async fn delete_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: DeleteGoalInput,
    ) -> Result<DeleteGoalPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = domain
            .delete_goal(
                viewer,
                parse_id("input.id", &input.id)?,
                input.expected_version,
            )
            .await?;
        Ok(DeleteGoalPayload {
            deleted_goal_id: ID(id.to_string()),
        })
    }
}
