//! Goals: a metric a portfolio or its programs move from a baseline to a
//! target by a date. Whoever may change the portfolio, or edit one of the
//! programs, sets one; its owner, its portfolio's owner, OWNERs and EDITORs
//! of its programs and ADMINs change it and record its values. It is read
//! by whoever can see one of its programs or read its portfolio.

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::{goal, goal_program, goal_value, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Action, Visible},
    audit::{self, Change},
    patch::{self, Patch},
    validate::{self, AllInputs},
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// The most programs one goal serves.
pub const MAX_PROGRAMS: usize = 100;
/// The longest unit, in characters.
const UNIT_MAX: usize = 50;

/// What `createGoal` accepts.
#[derive(Debug, Clone)]
pub struct NewGoal {
    /// What the goal is, in a line.
    pub title: String,
    /// What is measured.
    pub metric: String,
    /// The unit of the values.
    pub unit: String,
    /// The value today.
    pub baseline_value: f64,
    /// The value to reach.
    pub target_value: f64,
    /// When to reach it.
    pub target_date: Option<NaiveDate>,
    /// Who answers for it (the caller when absent).
    pub owner_id: Option<Uuid>,
    /// The portfolio it belongs to.
    pub portfolio_id: Option<Uuid>,
    /// The programs that pursue it.
    pub program_ids: Vec<Uuid>,
}

/// What `updateGoal` changes.
#[derive(Debug, Clone, Default)]
pub struct GoalChanges {
    /// New title.
    pub title: Patch<String>,
    /// New metric.
    pub metric: Patch<String>,
    /// New unit.
    pub unit: Patch<String>,
    /// New baseline.
    pub baseline_value: Patch<f64>,
    /// New target.
    pub target_value: Patch<f64>,
    /// New target date.
    pub target_date: Patch<NaiveDate>,
    /// New owner.
    pub owner_id: Patch<Uuid>,
}

/// What `recordGoalValue` accepts.
#[derive(Debug, Clone)]
pub struct NewGoalValue {
    /// The goal.
    pub goal_id: Uuid,
    /// The value measured.
    pub value: f64,
    /// The day it was measured (today when absent).
    pub recorded_on: Option<NaiveDate>,
    /// Where it comes from or what moved it.
    pub note: Option<String>,
}

fn unit(field: &str, value: &str) -> ApiResult<String> {
    let unit = value.trim();
    if unit.chars().count() > UNIT_MAX {
        return Err(ApiError::bad_input(
            field,
            Message::TooLong { max: UNIT_MAX },
        ));
    }
    validate::optional_text(field, Some(unit)).map(Option::unwrap_or_default)
}

/// How far the current value has moved from the baseline towards the
/// target, as a fraction: 0 at the baseline, 1 at the target, above 1 past
/// it and below 0 going the wrong way; none when the target is the baseline.
pub fn progress(goal: &goal::Model) -> Option<f64> {
    let span = goal.target_value - goal.baseline_value;
    (span != 0.0).then(|| (goal.current_value - goal.baseline_value) / span)
}

impl Domain {
    /// Check that `owner_id` names a user; the id when it does.
    async fn goal_owner(&self, owner_id: Uuid) -> ApiResult<Uuid> {
        user::Entity::find_by_id(owner_id)
            .one(&self.db)
            .await?
            .map(|user| user.id)
            .ok_or_else(|| ApiError::bad_input("input.ownerId", Message::UnknownUser))
    }

    /// Set a goal of a portfolio the caller may change, of programs they
    /// edit, or both.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_goal(
        &self,
        viewer: &Viewer,
        input: NewGoal,
    ) -> ApiResult<Visible<goal::Model>> {
        let user = viewer.require_user()?;
        let mut seen = HashSet::new();
        let program_ids: Vec<Uuid> = input
            .program_ids
            .into_iter()
            .filter(|id| seen.insert(*id))
            .collect();
        let (title, metric, unit) = (
            validate::name("input.title", &input.title),
            validate::name("input.metric", &input.metric),
            unit("input.unit", &input.unit),
        )
            .all()?;
        if input.portfolio_id.is_none() && program_ids.is_empty() {
            return Err(ApiError::bad_input(
                "input.programIds",
                Message::GoalWithoutHome,
            ));
        }
        if program_ids.len() > MAX_PROGRAMS {
            return Err(ApiError::bad_input(
                "input.programIds",
                Message::TooManyItems { max: MAX_PROGRAMS },
            ));
        }
        let owner_id = match input.owner_id {
            Some(id) => self.goal_owner(id).await?,
            None => user.id,
        };
        let txn = self.begin_write().await?;
        if let Some(portfolio_id) = input.portfolio_id {
            access::find_portfolio(&txn, viewer, portfolio_id, true).await?;
            super::portfolios::hold(&txn, portfolio_id, false).await?;
        }
        access::authorize_all(&txn, viewer, &program_ids, Action::Edit).await?;
        let created = goal::ActiveModel {
            title: Set(title),
            metric: Set(metric),
            unit: Set(unit),
            baseline_value: Set(input.baseline_value),
            target_value: Set(input.target_value),
            current_value: Set(input.baseline_value),
            target_date: Set(input.target_date),
            owner_id: Set(owner_id),
            portfolio_id: Set(input.portfolio_id),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if !program_ids.is_empty() {
            // `insert_many` skips `before_save`: stamped here.
            goal_program::Entity::insert_many(program_ids.iter().map(|id| {
                goal_program::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    created_at: Set(entity::now()),
                    goal_id: Set(created.id),
                    program_id: Set(*id),
                }
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        self.commit(txn, user.id, [Change::created(&created)])
            .await?;
        Ok(access::changed_goal(created))
    }

    /// Change a goal's fields.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_goal(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        changes: GoalChanges,
    ) -> ApiResult<Visible<goal::Model>> {
        let user = viewer.require_user()?;
        let (title, metric, unit, baseline, target, owner) = (
            changes
                .title
                .required_with("input.title", |field, t| validate::name(field, &t)),
            changes
                .metric
                .required_with("input.metric", |field, m| validate::name(field, &m)),
            changes
                .unit
                .required_with("input.unit", |field, u| unit(field, &u)),
            changes.baseline_value.required("input.baselineValue"),
            changes.target_value.required("input.targetValue"),
            changes.owner_id.required("input.ownerId"),
        )
            .all()?;
        let owner = match owner {
            Some(id) => Some(self.goal_owner(id).await?),
            None => None,
        };
        let txn = self.begin_write().await?;
        let before = access::find_goal(&txn, viewer, id, true)
            .await?
            .into_inner();
        check_expected(before.version, expected_version)?;
        let mut active: goal::ActiveModel = before.clone().into();
        patch::assign(&mut active.title, title);
        patch::assign(&mut active.metric, metric);
        patch::assign(&mut active.unit, unit);
        patch::assign(&mut active.baseline_value, baseline);
        patch::assign(&mut active.target_value, target);
        patch::assign(&mut active.owner_id, owner);
        changes.target_date.assign(&mut active.target_date);
        // Until a value is recorded, the current value is the baseline.
        if let Some(baseline) = baseline
            && goal_value::Entity::find()
                .filter(goal_value::Column::GoalId.eq(id))
                .one(&txn)
                .await?
                .is_none()
        {
            active.current_value = Set(baseline);
        }
        let after = versioned::save::<goal::Entity>(&txn, id, before.version, active).await?;
        self.commit(txn, user.id, [Change::updated(&before, &after)])
            .await?;
        Ok(access::changed_goal(after))
    }

    /// Record a value of a goal's metric; the latest day's value becomes
    /// its current value.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_goal_value(
        &self,
        viewer: &Viewer,
        input: NewGoalValue,
    ) -> ApiResult<Visible<goal::Model>> {
        let user = viewer.require_user()?;
        let note = validate::optional_text("input.note", input.note.as_deref())?;
        let recorded_on = input.recorded_on.unwrap_or_else(|| self.today());
        let txn = self.begin_write().await?;
        let before = access::find_goal(&txn, viewer, input.goal_id, true)
            .await?
            .into_inner();
        let latest = goal_value::Entity::find()
            .filter(goal_value::Column::GoalId.eq(before.id))
            .order_by_desc(goal_value::Column::RecordedOn)
            .one(&txn)
            .await?;
        let recorded = goal_value::ActiveModel {
            goal_id: Set(before.id),
            value: Set(input.value),
            recorded_on: Set(recorded_on),
            note: Set(note),
            recorded_by_id: Set(Some(user.id)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut active: goal::ActiveModel = before.clone().into();
        if latest.is_none_or(|latest| latest.recorded_on <= recorded_on) {
            active.current_value = Set(input.value);
        }
        let after =
            versioned::save::<goal::Entity>(&txn, before.id, before.version, active).await?;
        let change = Change::of(
            entity::audit_event::Verb::Set,
            &after,
            audit::diff(None, Some(&recorded)),
        );
        self.commit(txn, user.id, [change]).await?;
        Ok(access::changed_goal(after))
    }

    /// Delete a goal and every value recorded for it (those who may change it).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_goal(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> ApiResult<Uuid> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let before = access::find_goal(&txn, viewer, id, true)
            .await?
            .into_inner();
        check_expected(before.version, expected_version)?;
        versioned::delete::<goal::Entity>(&txn, id, before.version).await?;
        self.commit(txn, user.id, [Change::deleted(&before)])
            .await?;
        Ok(id)
    }
}

super::pagination::order_fields! {
    /// The order of a goal's values.
    pub enum GoalValueOrderField for goal_value::Model {
        /// Day measured (ties by id, which follows recording).
        RecordedOn = "RECORDED_ON" => |row| row.recorded_on,
    }
}

super::pagination::order_fields! {
    /// Sortable fields of goals.
    pub enum GoalOrderField for goal::Model {
        /// Target date (goals without one last).
        TargetDate = "TARGET_DATE" => |row| row.target_date,
    }
}
