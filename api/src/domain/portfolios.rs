//! Portfolios: named groups of programs a leader follows together. Any
//! signed-in user makes one (and owns it); it is read by its owner, by
//! ADMINs and by whoever can see one of its programs, and changed by its
//! owner and ADMINs only. What it says of its programs (the list, the
//! rollup, the brief) covers only the programs the reader can see.

use std::collections::{BTreeMap, HashSet};

use entity::{
    enums::{Health, RiskStatus},
    goal, portfolio, portfolio_program, program,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Visible},
    audit::Change,
    costs, health,
    loaders::{Loaders, group},
    pagination::{Direction, Page, PageArgs},
    patch::{self, Patch},
    programs::ProgramOrderField,
    validate::{self, AllInputs},
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;
pub use crate::planning::portfolio::{ProgramLine, Rollup};

/// The most programs one portfolio holds.
pub const MAX_PROGRAMS: usize = 100;

/// What `createPortfolio` accepts.
#[derive(Debug, Clone)]
pub struct NewPortfolio {
    /// Display name.
    pub name: String,
    /// What it groups and why.
    pub description: Option<String>,
    /// The programs it holds, each one the caller can see.
    pub program_ids: Vec<Uuid>,
}

/// What `updatePortfolio` changes.
#[derive(Debug, Clone, Default)]
pub struct PortfolioChanges {
    /// New name.
    pub name: Patch<String>,
    /// New description.
    pub description: Patch<String>,
}

/// `ids` without repeats, at most [`MAX_PROGRAMS`].
fn program_set(ids: Vec<Uuid>) -> ApiResult<Vec<Uuid>> {
    let mut seen = HashSet::new();
    let ids: Vec<Uuid> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
    if ids.len() > MAX_PROGRAMS {
        return Err(ApiError::bad_input(
            "input.programIds",
            Message::TooManyItems { max: MAX_PROGRAMS },
        ));
    }
    Ok(ids)
}

impl Domain {
    /// Make `ids` the programs of `portfolio` that the caller can see: each
    /// must be one (`NOT_FOUND` otherwise, as for a missing one); the
    /// programs it holds that the caller cannot see stay.
    async fn hold_programs(
        &self,
        txn: &DatabaseTransaction,
        viewer: &Viewer,
        portfolio_id: Uuid,
        ids: &[Uuid],
    ) -> ApiResult<()> {
        // Each a program the caller can see: one that is not answers as a
        // missing one does.
        access::authorize_all(txn, viewer, ids, access::Action::Read).await?;
        let held = portfolio_program::Entity::find()
            .filter(portfolio_program::Column::PortfolioId.eq(portfolio_id))
            .all(txn)
            .await?;
        let seen: Vec<Uuid> = access::visible(viewer, program::Entity::find())?
            .narrow(program::Column::Id.is_in(held.iter().map(|row| row.program_id)))
            .all(txn)
            .await?
            .iter()
            .map(|program| program.id)
            .collect();
        portfolio_program::Entity::delete_many()
            .filter(portfolio_program::Column::PortfolioId.eq(portfolio_id))
            .filter(portfolio_program::Column::ProgramId.is_in(seen))
            .exec(txn)
            .await?;
        if !ids.is_empty() {
            // `insert_many` skips `before_save`: stamped here.
            portfolio_program::Entity::insert_many(ids.iter().map(|id| {
                portfolio_program::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    created_at: Set(entity::now()),
                    portfolio_id: Set(portfolio_id),
                    program_id: Set(*id),
                }
            }))
            .exec_without_returning(txn)
            .await?;
        }
        Ok(())
    }

    /// Create a portfolio owned by the caller.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_portfolio(
        &self,
        viewer: &Viewer,
        input: NewPortfolio,
    ) -> ApiResult<Visible<portfolio::Model>> {
        let user = viewer.require_user()?;
        let (name, description, program_ids) = (
            validate::name("input.name", &input.name),
            validate::optional_text("input.description", input.description.as_deref()),
            program_set(input.program_ids),
        )
            .all()?;
        let txn = self.begin_write().await?;
        let created = portfolio::ActiveModel {
            name: Set(name),
            description: Set(description),
            owner_id: Set(user.id),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.hold_programs(&txn, viewer, created.id, &program_ids)
            .await?;
        let change = Change::created(&created);
        let admitted = access::admit_unscoped(viewer, created)?;
        self.commit(txn, user.id, [change]).await?;
        Ok(admitted)
    }

    /// Change a portfolio's name or description (its owner, ADMINs).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_portfolio(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        changes: PortfolioChanges,
    ) -> ApiResult<Visible<portfolio::Model>> {
        let user = viewer.require_user()?;
        let (name, description) = (
            changes
                .name
                .required_with("input.name", |field, n| validate::name(field, &n)),
            changes
                .description
                .try_map(|d| validate::long_text("input.description", &d)),
        )
            .all()?;
        let txn = self.begin_write().await?;
        let before = access::find_portfolio(&txn, viewer, id, true)
            .await?
            .into_inner();
        check_expected(before.version, expected_version)?;
        let mut active: portfolio::ActiveModel = before.clone().into();
        patch::assign(&mut active.name, name);
        description.assign(&mut active.description);
        let after = versioned::save::<portfolio::Entity>(&txn, id, before.version, active).await?;
        let change = Change::updated(&before, &after);
        let admitted = access::admit_unscoped(viewer, after)?;
        self.commit(txn, user.id, [change]).await?;
        Ok(admitted)
    }

    /// Replace the programs a portfolio holds (its owner, ADMINs); each must
    /// be a program the caller can see.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_portfolio_programs(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        program_ids: Vec<Uuid>,
    ) -> ApiResult<Visible<portfolio::Model>> {
        let user = viewer.require_user()?;
        let program_ids = program_set(program_ids)?;
        let txn = self.begin_write().await?;
        let before = access::find_portfolio(&txn, viewer, id, true)
            .await?
            .into_inner();
        check_expected(before.version, expected_version)?;
        self.hold_programs(&txn, viewer, id, &program_ids).await?;
        // The set is part of the portfolio: its version moves with it.
        let after =
            versioned::save::<portfolio::Entity>(&txn, id, before.version, before.clone().into())
                .await?;
        let change = Change::of(
            entity::audit_event::Verb::Set,
            &after,
            serde_json::json!({ "programIds": { "after": program_ids } }),
        );
        let admitted = access::admit_unscoped(viewer, after)?;
        self.commit(txn, user.id, [change]).await?;
        Ok(admitted)
    }

    /// Delete a portfolio and the goals set on it (its owner, ADMINs); its
    /// programs stay as they are.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_portfolio(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> ApiResult<Uuid> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        access::find_portfolio(&txn, viewer, id, true).await?;
        // Held until the end: a goal being set on it waits (and then finds
        // it gone), and each goal's history records its last change.
        let before = hold(&txn, id, true).await?;
        check_expected(before.version, expected_version)?;
        let goals = goal::Entity::find()
            .filter(goal::Column::PortfolioId.eq(id))
            .lock_exclusive()
            .all(&txn)
            .await?;
        versioned::delete::<portfolio::Entity>(&txn, id, before.version).await?;
        let changes = goals.iter().map(Change::deleted);
        self.commit(txn, user.id, changes.chain([Change::deleted(&before)]))
            .await?;
        Ok(id)
    }

    /// The portfolios the caller may read, a page of them by name.
    pub async fn portfolios(
        &self,
        viewer: &Viewer,
        args: &PageArgs,
    ) -> ApiResult<Page<Visible<portfolio::Model>>> {
        let all = access::readable_portfolios(viewer, portfolio::Entity::find())?
            .all(&self.db)
            .await?;
        self.page_loaded(
            all,
            |_| true,
            (PortfolioOrderField::Name, Direction::Asc),
            args,
            |row| row.id,
        )
    }

    /// Portfolio `id`, if the caller may read it.
    pub async fn portfolio(
        &self,
        viewer: &Viewer,
        id: Uuid,
    ) -> ApiResult<Option<Visible<portfolio::Model>>> {
        access::readable_portfolios(viewer, portfolio::Entity::find())?
            .narrow(portfolio::Column::Id.eq(id))
            .one(&self.db)
            .await
    }
}

/// Lock portfolio `id` for the rest of `txn`: alone to change or delete
/// it, shared to set a goal on it (on PostgreSQL; SQLite writes one
/// transaction at a time). `NOT_FOUND` when it is gone.
pub async fn hold(txn: &DatabaseTransaction, id: Uuid, alone: bool) -> ApiResult<portfolio::Model> {
    let select = portfolio::Entity::find_by_id(id);
    let select = if alone {
        select.lock_exclusive()
    } else {
        select.lock_shared()
    };
    select
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound(Message::NotFound))
}

super::pagination::order_fields! {
    /// Sortable fields of portfolios.
    pub enum PortfolioOrderField for portfolio::Model {
        /// Display name.
        Name = "NAME" => |row| row.name.clone(),
    }
}

/// The programs of a portfolio the caller can see, by key.
pub async fn programs_of(
    loaders: &Loaders,
    portfolio_id: Uuid,
) -> ApiResult<Vec<Visible<program::Model>>> {
    let held = group(&loaders.programs_by_portfolio, portfolio_id).await?;
    loaders
        .programs_by_key(held.iter().map(|row| row.program_id))
        .await
}

/// A page of the programs of a portfolio or a goal, by key.
pub fn page_programs(
    domain: &Domain,
    programs: Vec<Visible<program::Model>>,
    args: &PageArgs,
) -> ApiResult<Page<Visible<program::Model>>> {
    let order = (ProgramOrderField::Key, Direction::Asc);
    domain.page_loaded(programs, |_| true, order, args, |row| row.id)
}

const HEALTHS: [Health; 3] = [Health::OnTrack, Health::AtRisk, Health::OffTrack];

fn counted(healths: impl Iterator<Item = Health> + Clone) -> Vec<(Health, usize)> {
    HEALTHS
        .iter()
        .map(|h| (*h, healths.clone().filter(|x| x == h).count()))
        .collect()
}

fn add(totals: &mut BTreeMap<String, i128>, currency: &str, amount: i64) {
    *totals.entry(currency.to_owned()).or_default() += i128::from(amount);
}

fn sums(totals: BTreeMap<String, i128>) -> Vec<(String, i64)> {
    totals
        .into_iter()
        .map(|(currency, total)| (currency, i64::try_from(total).unwrap_or(i64::MAX)))
        .collect()
}

/// The rollup of `programs` (those of a portfolio its reader can see).
pub async fn rollup(loaders: &Loaders, programs: &[Visible<program::Model>]) -> ApiResult<Rollup> {
    let mut lines = Vec::with_capacity(programs.len());
    let (mut overdue, mut at_risk) = (HashSet::new(), HashSet::new());
    let (mut open_risks, mut spent, mut budgeted) = (0, BTreeMap::new(), BTreeMap::new());
    // Every program's plan, risks and costs, each kind loaded at once.
    let ids = || programs.iter().map(|p| p.id);
    let planned: Vec<_> = programs.iter().collect();
    let (plans, mut risks, mut costs) = futures::try_join!(
        loaders.plans(&planned),
        loaders.risks_by_program.load_many(ids()),
        loaders.costs_by_program.load_many(ids()),
    )?;
    for program in programs {
        let Some(plan) = plans.get(&program.id) else {
            continue;
        };
        let risks = risks.remove(&program.id).unwrap_or_default();
        let computed = health::computed_health(plan, &risks);
        overdue.extend(plan.overdue().map(|d| d.id));
        at_risk.extend(plan.at_risk().map(|d| d.id));
        open_risks += risks
            .iter()
            .filter(|r| matches!(r.status, RiskStatus::Open | RiskStatus::Mitigating))
            .count();
        let costs = costs.remove(&program.id).unwrap_or_default();
        let rows: Vec<_> = costs.iter().map(|row| &**row).collect();
        if let Some(spend) = costs::spend(program, &rows, plan.today, plan.schedule.finish_date) {
            add(&mut spent, &spend.currency, spend.total);
        }
        if let (Some(amount), Some(currency)) = (program.budget_amount, &program.budget_currency) {
            add(&mut budgeted, currency, amount);
        }
        lines.push(ProgramLine {
            key: program.key.clone(),
            name: program.name.clone(),
            health: program.health,
            computed_health: computed.health,
            forecast: plan.schedule.finish_date,
            target: program.target_date,
        });
    }
    Ok(Rollup {
        program_count: programs.len(),
        by_health: counted(lines.iter().map(|l| l.health)),
        by_computed_health: counted(lines.iter().map(|l| l.computed_health)),
        latest_forecast_finish: lines.iter().filter_map(|l| l.forecast).max(),
        overdue_dependencies: overdue.len(),
        at_risk_dependencies: at_risk.len(),
        open_risks,
        spend: sums(spent),
        budget: sums(budgeted),
        programs: lines,
    })
}
