//! Programs: creation, lookup and the visibility-filtered list.

use chrono::NaiveDate;
use entity::{
    audit_event::Verb,
    enums::{Health, ProgramRole, ProgramStatus},
    program, program_member,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::validate::{AllInputs, Money};
use super::{
    Domain,
    access::{self, Access, Action, Visible},
    audit::Change,
    costs,
    pagination::{Direction, OrderField, Ordering, Page, PageArgs, sql_order_fields},
    patch::{self, Patch},
    validate,
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// What `createProgram` accepts.
#[derive(Debug, Clone, Default)]
pub struct NewProgram {
    /// Unique key, `^[A-Z][A-Z0-9]{1,9}$`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Longer description.
    pub description: Option<String>,
    /// What the program is meant to achieve.
    pub objective: Option<String>,
    /// Initial status (default `PLANNED`).
    pub status: Option<ProgramStatus>,
    /// First day.
    pub start_date: Option<NaiveDate>,
    /// Target day.
    pub target_date: Option<NaiveDate>,
    /// Budget.
    pub budget: Option<Money>,
    /// What the program is expected to return, in the budget's currency.
    pub expected_benefit: Option<Money>,
    /// IANA time zone (default `UTC`).
    pub time_zone: Option<String>,
    /// Days late before the computed health is `OFF_TRACK` (default 14).
    pub off_track_after_days: Option<i32>,
}

/// Default of `offTrackAfterDays`.
pub const OFF_TRACK_AFTER_DAYS: i32 = 14;
/// Largest `offTrackAfterDays`.
pub const MAX_OFF_TRACK_AFTER_DAYS: i32 = 365;

/// What `updateProgram` changes.
#[derive(Debug, Clone, Default)]
pub struct ProgramChanges {
    /// New key.
    pub key: Patch<String>,
    /// New name.
    pub name: Patch<String>,
    /// New description.
    pub description: Patch<String>,
    /// New objective.
    pub objective: Patch<String>,
    /// New status.
    pub status: Patch<ProgramStatus>,
    /// New start date.
    pub start_date: Patch<NaiveDate>,
    /// New target date.
    pub target_date: Patch<NaiveDate>,
    /// New budget.
    pub budget: Patch<Money>,
    /// New expected benefit.
    pub expected_benefit: Patch<Money>,
    /// New time zone.
    pub time_zone: Patch<String>,
    /// New off-track threshold.
    pub off_track_after_days: Patch<i32>,
}

/// Filters of the `programs` list.
#[derive(Debug, Clone, Default)]
pub struct ProgramFilter {
    /// Only these statuses.
    pub status: Option<Vec<ProgramStatus>>,
    /// Only these healths.
    pub health: Option<Vec<Health>>,
    /// Case-insensitive substring of name or key.
    pub search: Option<String>,
    /// Include archived programs.
    pub include_archived: bool,
}

sql_order_fields! {
    /// Sortable fields of the `programs` list.
    pub enum ProgramOrderField for program {
        /// Creation time.
        CreatedAt = "CREATED_AT", CreatedAt => |row| row.created_at,
        /// Display name.
        Name = "NAME", Name => |row| row.name.clone(),
        /// Key.
        Key = "KEY", Key => |row| row.key.clone(),
        /// Target date (programs without one last).
        TargetDate = "TARGET_DATE", TargetDate => |row| row.target_date,
    }
}

/// A program's money after a change: the budget and the expected benefit
/// share one currency, also with the costs already recorded (`recorded`).
/// Each amount the change sets is checked against the others, and a
/// mismatch is reported on the field the change sets.
struct MoneyChange<'a> {
    budget: (Option<&'a Money>, bool),
    benefit: (Option<&'a Money>, bool),
    recorded: Option<&'a str>,
}

impl MoneyChange<'_> {
    fn check(&self) -> ApiResult<()> {
        let (budget, budget_set) = self.budget;
        let (benefit, benefit_set) = self.benefit;
        let currency = |money: Option<&Money>| money.map(|m| m.currency.clone());
        if let (Some(budget), true) = (budget, budget_set) {
            validate::money("input.budget", budget)?;
            let other = if benefit_set { None } else { currency(benefit) };
            costs::same_currency("input.budget", budget, other.as_deref().or(self.recorded))?;
        }
        if let (Some(benefit), true) = (benefit, benefit_set) {
            validate::money("input.expectedBenefit", benefit)?;
            let other = currency(budget);
            costs::same_currency(
                "input.expectedBenefit",
                benefit,
                other.as_deref().or(self.recorded),
            )?;
        }
        Ok(())
    }
}

impl Domain {
    /// Create a program; its creator becomes OWNER.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_program(
        &self,
        viewer: &Viewer,
        input: NewProgram,
    ) -> ApiResult<Visible<program::Model>> {
        let user = viewer.require_user()?;
        let (key, name, description, objective, (), _, time_zone, off_track_after_days) = (
            validate::program_key("input.key", &input.key),
            validate::name("input.name", &input.name),
            validate::optional_text("input.description", input.description.as_deref()),
            validate::optional_text("input.objective", input.objective.as_deref()),
            validate::date_order(
                "input.targetDate",
                input.start_date,
                input.target_date,
                "startDate",
            ),
            MoneyChange {
                budget: (input.budget.as_ref(), true),
                benefit: (input.expected_benefit.as_ref(), true),
                recorded: None,
            }
            .check(),
            input
                .time_zone
                .as_deref()
                .map(|zone| validate::time_zone("input.timeZone", zone))
                .transpose()
                .map(|zone| zone.unwrap_or_else(|| "UTC".to_owned())),
            validate::range(
                "input.offTrackAfterDays",
                input.off_track_after_days.unwrap_or(OFF_TRACK_AFTER_DAYS),
                0,
                MAX_OFF_TRACK_AFTER_DAYS,
            ),
        )
            .all()?;

        let txn = self.begin_write().await?;
        let taken = program::Entity::find()
            .filter(program::Column::Key.eq(key.clone()))
            .count(&txn)
            .await?
            > 0;
        if taken {
            return Err(ApiError::bad_input("input.key", Message::ProgramKeyTaken));
        }
        let created = program::ActiveModel {
            key: Set(key),
            name: Set(name),
            description: Set(description),
            objective: Set(objective),
            status: Set(input.status.unwrap_or(ProgramStatus::Planned)),
            health: Set(Health::OnTrack),
            start_date: Set(input.start_date),
            target_date: Set(input.target_date),
            budget_amount: Set(input.budget.as_ref().map(|b| b.amount)),
            budget_currency: Set(input.budget.map(|b| b.currency)),
            expected_benefit_amount: Set(input.expected_benefit.as_ref().map(|b| b.amount)),
            expected_benefit_currency: Set(input.expected_benefit.map(|b| b.currency)),
            owner_id: Set(user.id),
            archived_at: Set(None),
            time_zone: Set(time_zone),
            off_track_after_days: Set(off_track_after_days),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict(Message::AlreadyExists) => {
                ApiError::bad_input("input.key", Message::ProgramKeyTaken)
            }
            other => other,
        })?;
        program_member::ActiveModel {
            program_id: Set(created.id),
            user_id: Set(user.id),
            role: Set(ProgramRole::Owner),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.commit(txn, user.id, [Change::created(&created)])
            .await?;
        Access::founder(created.id).admit(created)
    }

    /// Change a program (OWNER); `expected_version` guards against lost updates.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_program(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        changes: ProgramChanges,
    ) -> ApiResult<Visible<program::Model>> {
        let user = viewer.require_user()?;
        let (key, name, status, description, objective, (), time_zone, off_track_after_days) = (
            changes
                .key
                .required_with("input.key", |field, k| validate::program_key(field, &k)),
            changes
                .name
                .required_with("input.name", |field, n| validate::name(field, &n)),
            changes.status.required("input.status"),
            changes
                .description
                .try_map(|d| validate::long_text("input.description", &d)),
            changes
                .objective
                .try_map(|o| validate::long_text("input.objective", &o)),
            [
                ("input.budget", &changes.budget),
                ("input.expectedBenefit", &changes.expected_benefit),
            ]
            .into_iter()
            .try_for_each(|(field, money)| match money {
                Patch::Set(m) => validate::money(field, m),
                _ => Ok(()),
            }),
            changes
                .time_zone
                .required_with("input.timeZone", |field, z| validate::time_zone(field, &z)),
            changes
                .off_track_after_days
                .required_with("input.offTrackAfterDays", |field, days| {
                    validate::range(field, days, 0, MAX_OFF_TRACK_AFTER_DAYS)
                }),
        )
            .all()?;

        let txn = self.begin_write().await?;
        let (before, access) =
            access::find_authorized::<program::Entity>(&txn, viewer, id, Action::Manage).await?;
        check_expected(before.version, expected_version)?;
        let start_date = changes.start_date.apply(before.start_date);
        let target_date = changes.target_date.apply(before.target_date);
        validate::date_order("input.targetDate", start_date, target_date, "startDate")?;
        if let Some(key) = &key
            && *key != before.key
            && program::Entity::find()
                .filter(program::Column::Key.eq(key.clone()))
                .count(&txn)
                .await?
                > 0
        {
            return Err(ApiError::bad_input("input.key", Message::ProgramKeyTaken));
        }

        let mut active: program::ActiveModel = before.clone().into();
        patch::assign(&mut active.key, key);
        patch::assign(&mut active.name, name);
        patch::assign(&mut active.status, status);
        patch::assign(&mut active.time_zone, time_zone);
        patch::assign(&mut active.off_track_after_days, off_track_after_days);
        description.assign(&mut active.description);
        objective.assign(&mut active.objective);
        active.start_date = Set(start_date);
        active.target_date = Set(target_date);
        let money = |amount: Option<i64>, currency: &Option<String>| {
            amount
                .zip(currency.clone())
                .map(|(amount, currency)| Money { amount, currency })
        };
        let (budget_set, benefit_set) = (
            changes.budget.is_given(),
            changes.expected_benefit.is_given(),
        );
        let budget = changes
            .budget
            .apply(money(before.budget_amount, &before.budget_currency));
        let benefit = changes.expected_benefit.apply(money(
            before.expected_benefit_amount,
            &before.expected_benefit_currency,
        ));
        if budget_set || benefit_set {
            // Locked, so a cost recorded meanwhile waits for this change.
            costs::lock_program(&txn, id).await?;
            let recorded = costs::recorded_currency(&txn, id).await?;
            MoneyChange {
                budget: (budget.as_ref(), budget_set),
                benefit: (benefit.as_ref(), benefit_set),
                recorded: recorded.as_deref(),
            }
            .check()?;
        }
        active.budget_amount = Set(budget.as_ref().map(|b| b.amount));
        active.budget_currency = Set(budget.map(|b| b.currency));
        active.expected_benefit_amount = Set(benefit.as_ref().map(|b| b.amount));
        active.expected_benefit_currency = Set(benefit.map(|b| b.currency));
        let after = versioned::save::<program::Entity>(&txn, id, before.version, active).await?;
        self.commit(txn, user.id, [Change::updated(&before, &after)])
            .await?;
        access.admit(after)
    }

    /// Archive (or restore) a program (OWNER); archived programs leave the default lists.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn archive_program(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        archived: bool,
    ) -> ApiResult<Visible<program::Model>> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let (before, access) =
            access::find_authorized::<program::Entity>(&txn, viewer, id, Action::Manage).await?;
        check_expected(before.version, expected_version)?;
        let mut active: program::ActiveModel = before.clone().into();
        active.archived_at = Set(match (archived, before.archived_at) {
            (true, Some(at)) => Some(at),
            (true, None) => Some(super::now()),
            (false, _) => None,
        });
        let after = versioned::save::<program::Entity>(&txn, id, before.version, active).await?;
        let verb = if archived {
            Verb::Archive
        } else {
            Verb::Unarchive
        };
        self.commit(
            txn,
            user.id,
            [Change::updated(&before, &after).as_verb(verb)],
        )
        .await?;
        access.admit(after)
    }

    /// A program by id, or `None` when it does not exist or is not visible.
    pub async fn program(
        &self,
        viewer: &Viewer,
        id: Uuid,
    ) -> ApiResult<Option<Visible<program::Model>>> {
        access::visible(viewer, program::Entity::find_by_id(id))?
            .one(&self.db)
            .await
    }

    /// A program by key, or `None` when it does not exist or is not visible.
    pub async fn program_by_key(
        &self,
        viewer: &Viewer,
        key: &str,
    ) -> ApiResult<Option<Visible<program::Model>>> {
        access::visible(viewer, program::Entity::find())?
            .narrow(program::Column::Key.eq(key))
            .one(&self.db)
            .await
    }

    /// Programs the viewer can see, filtered, ordered and paged.
    pub async fn programs(
        &self,
        viewer: &Viewer,
        filter: ProgramFilter,
        order: (ProgramOrderField, Direction),
        args: &PageArgs,
    ) -> ApiResult<Page<Visible<program::Model>>> {
        let mut condition = Condition::all();
        if !filter.include_archived {
            condition = condition.add(program::Column::ArchivedAt.is_null());
        }
        if let Some(statuses) = filter.status {
            condition = condition.add(program::Column::Status.is_in(statuses));
        }
        if let Some(healths) = filter.health {
            condition = condition.add(program::Column::Health.is_in(healths));
        }
        if let Some(search) = filter.search.filter(|s| !s.trim().is_empty()) {
            let pattern = format!("%{}%", escape_like(&search.trim().to_lowercase()));
            condition = condition.add(
                Condition::any()
                    .add(lower_like(program::Column::Name, &pattern))
                    .add(lower_like(program::Column::Key, &pattern)),
            );
        }
        let (field, direction) = order;
        access::visible(viewer, program::Entity::find())?
            .narrow(condition)
            .page(
                &self.db,
                Ordering::of(field, direction, program::Column::Id),
                args,
                self.limits.max_page_size,
                move |p| field.key(p),
                |p| p.id,
            )
            .await
    }

    /// Check that the viewer may perform `action` in a program.
    pub async fn authorize_program(
        &self,
        viewer: &Viewer,
        program_id: Uuid,
        action: Action,
    ) -> ApiResult<Access> {
        access::authorize(&self.db, viewer, program_id, action).await
    }
}

/// Escape `%`, `_` and `\` for a LIKE pattern.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// `LOWER(column) LIKE pattern ESCAPE '\'`, identical on SQLite and PostgreSQL.
pub fn lower_like(
    column: impl sea_orm::sea_query::IntoColumnRef,
    pattern: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern).escape('\\'))
}
