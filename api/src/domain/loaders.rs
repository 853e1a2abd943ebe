//! DataLoaders, built per request for one caller, so no cache outlives a
//! request or crosses users. Every loader admits what it loads through the
//! request's [`Visibility`]: whatever key it is asked for, it hands out only
//! rows the caller may see.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, atomic::AtomicU64};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{
    api_token, audit_event, baseline, comment, cost, decision, decision_option, dependency,
    enums::ProgramRole, goal, goal_program, goal_value, milestone, notification, portfolio,
    portfolio_program, program, program_member, risk, status_update, team, user, webhook,
    webhook_delivery, workstream,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Select};
use uuid::Uuid;

use super::Domain;
use super::access::{self, ScopedEntity, Visibility, Visible, VisibleSelect};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::planning::brief::BriefFacts;

mod now;
mod plans;
pub mod rows;

use plans::WorkMeter;
pub use plans::{Plans, rendering_cost};

/// A request's loader of `E` by primary key, remembering what it loaded.
pub type ByIdLoader<E> = DataLoader<ById<E>, HashMapCache>;

/// A request's loader of `E` grouped by a column, remembering what it loaded.
pub type GroupedLoader<E> = DataLoader<Grouped<E>, HashMapCache>;

/// Loads visible rows of `E` by primary key.
pub struct ById<E: EntityTrait> {
    domain: Domain,
    visibility: Arc<Visibility>,
    column: E::Column,
    id: fn(&E::Model) -> Uuid,
    /// Decodes its rows on PostgreSQL without sea-orm (see [`rows`]).
    decode: Option<rows::Decode<E::Model>>,
}

impl<E> Loader<Uuid> for ById<E>
where
    E: ScopedEntity + Send + Sync + 'static,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = Visible<E::Model>;
    type Error = ApiError;

    #[tracing::instrument(level = "debug", skip_all, fields(table = E::default().table_name(), keys = keys.len()))]
    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let select = E::find().filter(self.column.is_in(keys.iter().copied()));
        let rows = rows::all(select, &self.domain.db, self.decode).await?;
        let visible = self.visibility.admit_all(&self.domain.db, rows).await?;
        Ok(visible
            .into_iter()
            .map(|row| ((self.id)(&row), row))
            .collect())
    }
}

/// Loads visible rows of `E` grouped by a foreign-key column, in `order`
/// then id order.
pub struct Grouped<E: EntityTrait> {
    domain: Domain,
    visibility: Arc<Visibility>,
    column: E::Column,
    key: fn(&E::Model) -> Option<Uuid>,
    order: E::Column,
    id: E::Column,
    /// Decodes its rows on PostgreSQL without sea-orm (see [`rows`]).
    decode: Option<rows::Decode<E::Model>>,
}

impl<E> Loader<Uuid> for Grouped<E>
where
    E: ScopedEntity + Send + Sync + 'static,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = Vec<Visible<E::Model>>;
    type Error = ApiError;

    #[tracing::instrument(level = "debug", skip_all, fields(table = E::default().table_name(), keys = keys.len()))]
    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let select = E::find()
            .filter(self.column.is_in(keys.iter().copied()))
            .order_by_asc(self.order)
            .order_by_asc(self.id);
        let rows = rows::all(select, &self.domain.db, self.decode).await?;
        let rows = self.visibility.admit_all(&self.domain.db, rows).await?;
        Ok(into_groups(keys, rows, |row| (self.key)(row)))
    }
}

/// `rows` grouped by `key`, in order, with a group for every one of `keys`,
/// empty ones too, so that a cached loader remembers that a key has nothing.
fn into_groups<T>(
    keys: &[Uuid],
    rows: Vec<Visible<T>>,
    key: impl Fn(&T) -> Option<Uuid>,
) -> HashMap<Uuid, Vec<Visible<T>>> {
    let mut groups: HashMap<Uuid, Vec<Visible<T>>> =
        keys.iter().map(|key| (*key, Vec::new())).collect();
    for row in rows {
        if let Some(group) = key(&row) {
            groups.entry(group).or_default().push(row);
        }
    }
    groups
}

/// A read rule of `E` wider than the generic one, applied in SQL
/// (`access::readable_goals` and the like).
pub type ReadRule<E> = fn(&Viewer, Select<E>) -> ApiResult<VisibleSelect<E>>;

/// Loads rows of `E` the caller may read under a [`ReadRule`], grouped by a
/// column (whoever lists them puts them in order).
pub struct Readable<E: EntityTrait> {
    domain: Domain,
    visibility: Arc<Visibility>,
    rule: ReadRule<E>,
    column: E::Column,
    key: fn(&E::Model) -> Option<Uuid>,
}

impl<E> Loader<Uuid> for Readable<E>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: Send + Sync + 'static,
{
    type Value = Vec<Visible<E::Model>>;
    type Error = ApiError;

    #[tracing::instrument(level = "debug", skip_all, fields(table = E::default().table_name(), keys = keys.len()))]
    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = (self.rule)(self.visibility.viewer(), E::find())?
            .narrow(self.column.is_in(keys.iter().copied()))
            .all(&self.domain.db)
            .await?;
        Ok(into_groups(keys, rows, |row| (self.key)(row)))
    }
}

/// A request's loader of rows under a [`ReadRule`], remembering what it loaded.
pub type ReadableLoader<E> = DataLoader<Readable<E>, HashMapCache>;

/// The rows a grouped loader holds for `key`, none when it has no group.
pub async fn group<L, T>(loader: &DataLoader<L, HashMapCache>, key: Uuid) -> ApiResult<Vec<T>>
where
    L: Loader<Uuid, Value = Vec<T>, Error = ApiError>,
    T: Clone + Send + Sync + 'static,
{
    Ok(loader.load_one(key).await?.unwrap_or_default())
}

/// The one row a loader keyed by id holds for `id`.
pub async fn one<L, T>(loader: &DataLoader<L, HashMapCache>, id: Uuid) -> ApiResult<Option<T>>
where
    L: Loader<Uuid, Value = Vec<T>, Error = ApiError>,
    T: Clone + Send + Sync + 'static,
{
    Ok(group(loader, id).await?.into_iter().next())
}

/// A loader that remembers what it loaded for its request when `caching`.
fn cached<L: Send + Sync + 'static>(loader: L, caching: bool) -> DataLoader<L, HashMapCache> {
    let loader = DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default());
    loader.enable_all_cache(caching);
    loader
}

/// Loads the caller's membership role per program id.
pub struct ViewerRoleLoader {
    domain: Domain,
    user_id: Option<Uuid>,
}

impl Loader<Uuid> for ViewerRoleLoader {
    type Value = ProgramRole;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        match self.user_id {
            Some(user_id) => super::access::roles_in(&self.domain.db, user_id, keys).await,
            None => Ok(HashMap::new()),
        }
    }
}

/// The loaders of what is being resolved: one set per HTTP request; on a
/// subscription, one set for its life, which a subscription whose events
/// load more (`viewerNotifications`) renews before each event, so nothing
/// read for one event (rows, the caller's programs, the work meter)
/// outlives it.
#[derive(Clone)]
pub struct CurrentLoaders(Arc<std::sync::RwLock<Arc<Loaders>>>);

impl CurrentLoaders {
    /// Start with `loaders`.
    pub fn new(loaders: Loaders) -> Self {
        Self(Arc::new(std::sync::RwLock::new(Arc::new(loaders))))
    }

    /// The loaders in use now.
    pub fn get(&self) -> Arc<Loaders> {
        match self.0.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replace them with a fresh set for `viewer` (before each subscription event).
    pub fn renew(&self, domain: &Domain, viewer: &Viewer) {
        let fresh = Arc::new(Loaders::new(domain, viewer));
        match self.0.write() {
            Ok(mut current) => *current = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
    }
}

/// Every loader of one request.
pub struct Loaders {
    domain: Domain,
    caching: bool,
    visibility: Arc<Visibility>,
    /// Plans per program.
    plans: DataLoader<Plans, HashMapCache>,
    briefs: tokio::sync::Mutex<HashMap<Uuid, Arc<BriefFacts>>>,
    /// Work done beyond the fields returned (plans, rendering).
    work: WorkMeter,
    /// The keys [`Loaders::load_now`] loaded, per loader (by its address);
    /// holding a loader's set is its turn to load.
    loaded_now: std::sync::Mutex<HashMap<usize, Arc<tokio::sync::Mutex<HashSet<Uuid>>>>>,
    /// The rows whose selection under a field of the document was loaded
    /// ahead, by that field (see `graphql::prefetch`).
    loaded_ahead: std::sync::Mutex<HashSet<(usize, Uuid)>>,
    /// Users by id.
    pub users: ByIdLoader<user::Entity>,
    /// Teams by id.
    pub teams: ByIdLoader<team::Entity>,
    /// Programs by id.
    pub programs: ByIdLoader<program::Entity>,
    /// Workstreams by id.
    pub workstreams: ByIdLoader<workstream::Entity>,
    /// Dependencies by id (only those whose both ends are visible).
    pub dependencies: ByIdLoader<dependency::Entity>,
    /// Decisions by id.
    pub decisions: ByIdLoader<decision::Entity>,
    /// Risks by id.
    pub risks: ByIdLoader<risk::Entity>,
    /// Comments by id.
    pub comments: ByIdLoader<comment::Entity>,
    /// Milestones by id.
    pub milestones: ByIdLoader<milestone::Entity>,
    /// Memberships by id.
    pub program_members: ByIdLoader<program_member::Entity>,
    /// Decision options by id.
    pub decision_options: ByIdLoader<decision_option::Entity>,
    /// Status updates by id.
    pub status_updates: ByIdLoader<status_update::Entity>,
    /// Costs by id.
    pub costs: ByIdLoader<cost::Entity>,
    /// Baselines by id.
    pub baselines: ByIdLoader<baseline::Entity>,
    /// Notifications by id (the caller's own).
    pub notifications: ByIdLoader<notification::Entity>,
    /// History entries by id.
    pub audit_events: ByIdLoader<audit_event::Entity>,
    /// API tokens by id (the caller's own).
    pub api_tokens: ByIdLoader<api_token::Entity>,
    /// Comments per workstream, oldest first.
    pub comments_by_workstream: GroupedLoader<comment::Entity>,
    /// Comments per dependency, oldest first (only where both ends are visible).
    pub comments_by_dependency: GroupedLoader<comment::Entity>,
    /// Comments per decision, oldest first.
    pub comments_by_decision: GroupedLoader<comment::Entity>,
    /// Comments per risk, oldest first.
    pub comments_by_risk: GroupedLoader<comment::Entity>,
    /// The caller's role per program.
    pub viewer_roles: DataLoader<ViewerRoleLoader, HashMapCache>,
    /// Members per program.
    pub members_by_program: GroupedLoader<program_member::Entity>,
    /// Workstreams per program.
    pub workstreams_by_program: GroupedLoader<workstream::Entity>,
    /// Workstreams per team, across the programs the caller can see.
    pub workstreams_by_team: GroupedLoader<workstream::Entity>,
    /// Milestones per workstream.
    pub milestones_by_workstream: GroupedLoader<milestone::Entity>,
    /// Milestones per program.
    pub milestones_by_program: GroupedLoader<milestone::Entity>,
    /// Dependencies per upstream workstream (only those whose both ends are visible).
    pub dependencies_by_upstream: GroupedLoader<dependency::Entity>,
    /// Dependencies per downstream workstream (only those whose both ends are visible).
    pub dependencies_by_downstream: GroupedLoader<dependency::Entity>,
    /// Dependencies per upstream program (only those whose both ends are visible).
    pub dependencies_by_upstream_program: GroupedLoader<dependency::Entity>,
    /// Dependencies recorded in a program, the downstream side (only those
    /// whose both ends are visible).
    pub dependencies_by_program: GroupedLoader<dependency::Entity>,
    /// Decisions per program.
    pub decisions_by_program: GroupedLoader<decision::Entity>,
    /// Decisions per the decision that superseded them.
    pub decisions_by_superseder: GroupedLoader<decision::Entity>,
    /// Options per decision, in position order.
    pub options_by_decision: GroupedLoader<decision_option::Entity>,
    /// Risks per program.
    pub risks_by_program: GroupedLoader<risk::Entity>,
    /// Status updates per program.
    pub status_updates_by_program: GroupedLoader<status_update::Entity>,
    /// Costs per program.
    pub costs_by_program: GroupedLoader<cost::Entity>,
    /// The programs each portfolio holds, those the caller can see.
    pub programs_by_portfolio: GroupedLoader<portfolio_program::Entity>,
    /// Baselines per program.
    pub baselines_by_program: GroupedLoader<baseline::Entity>,
    /// Webhooks by id, those the caller manages (a group of one).
    pub webhooks: ReadableLoader<webhook::Entity>,
    /// Webhook deliveries by id, those the caller manages (a group of one).
    pub webhook_deliveries: ReadableLoader<webhook_delivery::Entity>,
    /// Portfolios by id, those the caller may read (a group of one).
    pub portfolios: ReadableLoader<portfolio::Entity>,
    /// Goals by id, those the caller may read (a group of one).
    pub goals: ReadableLoader<goal::Entity>,
    /// Goals per portfolio, those the caller may read.
    pub goals_by_portfolio: ReadableLoader<goal::Entity>,
    /// The values recorded per goal, of goals the caller may read.
    pub values_by_goal: ReadableLoader<goal_value::Entity>,
    /// The programs each goal serves, those the caller can see.
    pub programs_by_goal: GroupedLoader<goal_program::Entity>,
    /// The goals each program serves, of programs the caller can see.
    pub goals_by_program: GroupedLoader<goal_program::Entity>,
}

impl Loaders {
    /// Loaders for one read-only request (a query, a subscription's event)
    /// by `viewer`: each row is read once however many fields ask for it,
    /// and what was loaded ahead (see `graphql::prefetch`) is found again.
    pub fn new(domain: &Domain, viewer: &Viewer) -> Self {
        Self::build(domain, viewer, true)
    }

    /// Loaders for a request that writes (a mutation document): nothing is
    /// remembered, so every field reads what the mutations before it wrote.
    pub fn uncached(domain: &Domain, viewer: &Viewer) -> Self {
        Self::build(domain, viewer, false)
    }

    /// Whether loaded rows are remembered for the rest of the request.
    pub fn caching(&self) -> bool {
        self.caching
    }

    fn build(domain: &Domain, viewer: &Viewer, caching: bool) -> Self {
        let visibility = Arc::new(Visibility::new(viewer.clone()));
        let work = WorkMeter {
            used: Default::default(),
            limit: domain.limits.max_request_work,
        };
        macro_rules! by_id {
            ($module:ident) => {
                by_id!($module, None)
            };
            ($module:ident, $decode:expr) => {
                cached(
                    ById::<$module::Entity> {
                        domain: domain.clone(),
                        visibility: visibility.clone(),
                        column: $module::Column::Id,
                        id: |m| m.id,
                        decode: $decode,
                    },
                    caching,
                )
            };
        }
        macro_rules! grouped {
            ($module:ident, $column:ident, $key:expr) => {
                grouped!($module, $column, $key, CreatedAt)
            };
            ($module:ident, $column:ident, $key:expr, $order:ident) => {
                grouped!($module, $column, $key, $order, None)
            };
            ($module:ident, $column:ident, $key:expr, $order:ident, $decode:expr) => {
                cached(
                    Grouped::<$module::Entity> {
                        domain: domain.clone(),
                        visibility: visibility.clone(),
                        column: $module::Column::$column,
                        key: $key,
                        order: $module::Column::$order,
                        id: $module::Column::Id,
                        decode: $decode,
                    },
                    caching,
                )
            };
        }
        macro_rules! readable {
            ($module:ident, $rule:path, $column:ident, $key:expr) => {
                cached(
                    Readable::<$module::Entity> {
                        domain: domain.clone(),
                        visibility: visibility.clone(),
                        rule: $rule,
                        column: $module::Column::$column,
                        key: $key,
                    },
                    caching,
                )
            };
        }
        Self {
            domain: domain.clone(),
            caching,
            // The loader gathers batches; `Plans` itself remembers.
            plans: cached(
                Plans::new(domain, visibility.clone(), work.clone(), caching),
                false,
            ),
            briefs: Default::default(),
            work,
            loaded_now: Default::default(),
            loaded_ahead: Default::default(),
            users: by_id!(user),
            teams: by_id!(team, Some(rows::team)),
            programs: by_id!(program),
            workstreams: by_id!(workstream, Some(rows::workstream)),
            dependencies: by_id!(dependency, Some(rows::dependency)),
            decisions: by_id!(decision),
            risks: by_id!(risk),
            comments: by_id!(comment),
            milestones: by_id!(milestone),
            program_members: by_id!(program_member),
            decision_options: by_id!(decision_option),
            status_updates: by_id!(status_update),
            costs: by_id!(cost),
            baselines: by_id!(baseline),
            notifications: by_id!(notification),
            audit_events: by_id!(audit_event),
            api_tokens: by_id!(api_token),
            comments_by_workstream: grouped!(comment, WorkstreamId, |m| m.workstream_id),
            comments_by_dependency: grouped!(comment, DependencyId, |m| m.dependency_id),
            comments_by_decision: grouped!(comment, DecisionId, |m| m.decision_id),
            comments_by_risk: grouped!(comment, RiskId, |m| m.risk_id),
            viewer_roles: cached(
                ViewerRoleLoader {
                    domain: domain.clone(),
                    user_id: viewer.user.as_ref().map(|user| user.id),
                },
                caching,
            ),
            members_by_program: grouped!(program_member, ProgramId, |m| Some(m.program_id)),
            workstreams_by_program: grouped!(
                workstream,
                ProgramId,
                |m| Some(m.program_id),
                CreatedAt,
                Some(rows::workstream)
            ),
            workstreams_by_team: grouped!(
                workstream,
                TeamId,
                |m| m.team_id,
                CreatedAt,
                Some(rows::workstream)
            ),
            milestones_by_workstream: grouped!(milestone, WorkstreamId, |m| Some(m.workstream_id)),
            milestones_by_program: grouped!(milestone, ProgramId, |m| Some(m.program_id)),
            dependencies_by_upstream: grouped!(
                dependency,
                UpstreamId,
                |m| Some(m.upstream_id),
                CreatedAt,
                Some(rows::dependency)
            ),
            dependencies_by_downstream: grouped!(
                dependency,
                DownstreamId,
                |m| Some(m.downstream_id),
                CreatedAt,
                Some(rows::dependency)
            ),
            dependencies_by_upstream_program: grouped!(
                dependency,
                UpstreamProgramId,
                |m| Some(m.upstream_program_id),
                CreatedAt,
                Some(rows::dependency)
            ),
            dependencies_by_program: grouped!(
                dependency,
                ProgramId,
                |m| Some(m.program_id),
                CreatedAt,
                Some(rows::dependency)
            ),
            decisions_by_program: grouped!(decision, ProgramId, |m| Some(m.program_id)),
            decisions_by_superseder: grouped!(decision, SupersededById, |m| m.superseded_by_id),
            options_by_decision: grouped!(
                decision_option,
                DecisionId,
                |m| Some(m.decision_id),
                Position
            ),
            risks_by_program: grouped!(risk, ProgramId, |m| Some(m.program_id)),
            status_updates_by_program: grouped!(status_update, ProgramId, |m| Some(m.program_id)),
            costs_by_program: grouped!(cost, ProgramId, |m| Some(m.program_id)),
            programs_by_portfolio: grouped!(portfolio_program, PortfolioId, |m| Some(
                m.portfolio_id
            )),
            baselines_by_program: grouped!(baseline, ProgramId, |m| Some(m.program_id)),
            webhooks: readable!(webhook, access::managed_webhooks, Id, |m| Some(m.id)),
            webhook_deliveries: readable!(webhook_delivery, access::managed_deliveries, Id, |m| {
                Some(m.id)
            }),
            portfolios: readable!(portfolio, access::readable_portfolios, Id, |m| Some(m.id)),
            goals: readable!(goal, access::readable_goals, Id, |m| Some(m.id)),
            goals_by_portfolio: readable!(goal, access::readable_goals, PortfolioId, |m| m
                .portfolio_id),
            values_by_goal: readable!(goal_value, access::readable_goal_values, GoalId, |m| Some(
                m.goal_id
            )),
            programs_by_goal: grouped!(goal_program, GoalId, |m| Some(m.goal_id)),
            goals_by_program: grouped!(goal_program, ProgramId, |m| Some(m.program_id)),
            visibility,
        }
    }

    /// What the caller of this request may see.
    pub fn visibility(&self) -> &Visibility {
        &self.visibility
    }

    /// Cost points of the work this request did beyond the fields it
    /// returns; the HTTP layer charges them to the caller's budget.
    pub fn work_meter(&self) -> Arc<AtomicU64> {
        self.work.used.clone()
    }

    /// Add `points` of work to this request; past the request's work limit
    /// the work is refused (what was done already stays charged).
    pub fn charge(&self, points: u64) -> ApiResult<()> {
        self.work.charge(points)
    }

    /// How many items a plain list returns for its `first` argument.
    pub fn list_size(&self, first: Option<i32>) -> ApiResult<usize> {
        super::pagination::list_size(first, self.domain.limits.max_list_size)
    }

    /// The programs of `ids` the caller can see, by key.
    pub async fn programs_by_key(
        &self,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> ApiResult<Vec<Visible<program::Model>>> {
        let mut programs: Vec<_> = self.programs.load_many(ids).await?.into_values().collect();
        programs.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(programs)
    }

    /// Today in each of these programs' time zones (those the caller may see).
    pub async fn todays(
        &self,
        programs: impl IntoIterator<Item = Uuid>,
    ) -> ApiResult<HashMap<Uuid, chrono::NaiveDate>> {
        let ids: std::collections::HashSet<Uuid> = programs.into_iter().collect();
        Ok(self
            .programs
            .load_many(ids)
            .await?
            .into_iter()
            .map(|(id, program)| (id, self.domain.today_of(&program)))
            .collect())
    }

    /// Today in one program's time zone (UTC's today if the caller cannot see it).
    pub async fn today_of(&self, program_id: Uuid) -> ApiResult<chrono::NaiveDate> {
        Ok(self
            .todays([program_id])
            .await?
            .remove(&program_id)
            .unwrap_or_else(|| self.domain.today()))
    }
}
