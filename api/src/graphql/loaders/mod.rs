//! DataLoaders, built per request so no cache outlives a request or crosses users.
//!
//! Callers reach these only after the domain layer has shown the parent
//! visible; loaders that can cross a program boundary (dependencies) are
//! filtered by [`Loaders::visible_programs`].

use std::collections::{HashMap, HashSet};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{
    decision, decision_option, dependency, enums::ProgramRole, milestone, program, program_member,
    risk, status_update, team, user, workstream,
};
use sea_orm::{EntityTrait, ModelTrait};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::auth::Viewer;
use crate::domain::{Domain, batch, planning::ProgramPlan};
use crate::error::{ApiError, ApiResult};

/// Loads rows of `E` by primary key.
pub struct ById<E: EntityTrait> {
    domain: Domain,
    column: E::Column,
    id: fn(&E::Model) -> Uuid,
}

impl<E> Loader<Uuid> for ById<E>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: ModelTrait + Clone + Send + Sync + 'static,
{
    type Value = E::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        batch::by_ids::<E>(&self.domain.db, self.column, keys, self.id).await
    }
}

/// Loads rows of `E` grouped by a foreign-key column, oldest first.
pub struct Grouped<E: EntityTrait> {
    domain: Domain,
    column: E::Column,
    key: fn(&E::Model) -> Option<Uuid>,
    order: E::Column,
    id: E::Column,
}

impl<E> Loader<Uuid> for Grouped<E>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: ModelTrait + Clone + Send + Sync + 'static,
{
    type Value = Vec<E::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        batch::grouped::<E>(
            &self.domain.db,
            self.column,
            keys,
            self.key,
            self.order,
            self.id,
        )
        .await
    }
}

/// Loads the viewer's membership role per program id.
pub struct ViewerRoleLoader {
    domain: Domain,
    user_id: Option<Uuid>,
}

impl Loader<Uuid> for ViewerRoleLoader {
    type Value = ProgramRole;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        match self.user_id {
            Some(user_id) => self.domain.roles_in(user_id, keys).await,
            None => Ok(HashMap::new()),
        }
    }
}

fn by_id<E>(domain: &Domain, column: E::Column, id: fn(&E::Model) -> Uuid) -> DataLoader<ById<E>>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: ModelTrait + Clone + Send + Sync + 'static,
{
    DataLoader::new(
        ById {
            domain: domain.clone(),
            column,
            id,
        },
        tokio::spawn,
    )
}

fn grouped<E>(
    domain: &Domain,
    column: E::Column,
    key: fn(&E::Model) -> Option<Uuid>,
    order: E::Column,
    id: E::Column,
) -> DataLoader<Grouped<E>>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: ModelTrait + Clone + Send + Sync + 'static,
{
    DataLoader::new(
        Grouped {
            domain: domain.clone(),
            column,
            key,
            order,
            id,
        },
        tokio::spawn,
    )
}

/// Every loader of one request.
pub struct Loaders {
    domain: Domain,
    viewer: Viewer,
    visible: OnceCell<Option<HashSet<Uuid>>>,
    plans: tokio::sync::Mutex<HashMap<Uuid, std::sync::Arc<ProgramPlan>>>,
    /// Users by id.
    pub users: DataLoader<ById<user::Entity>>,
    /// Teams by id.
    pub teams: DataLoader<ById<team::Entity>>,
    /// Programs by id (check visibility before exposing one).
    pub programs: DataLoader<ById<program::Entity>>,
    /// Workstreams by id (check visibility before exposing one).
    pub workstreams: DataLoader<ById<workstream::Entity>>,
    /// Dependencies by id (check visibility before exposing one).
    pub dependencies: DataLoader<ById<dependency::Entity>>,
    /// Decisions by id (check visibility before exposing one).
    pub decisions: DataLoader<ById<decision::Entity>>,
    /// The viewer's role per program.
    pub viewer_roles: DataLoader<ViewerRoleLoader>,
    /// Members per program.
    pub members_by_program: DataLoader<Grouped<program_member::Entity>>,
    /// Workstreams per program.
    pub workstreams_by_program: DataLoader<Grouped<workstream::Entity>>,
    /// Workstreams per team (across programs: filter by visibility).
    pub workstreams_by_team: DataLoader<Grouped<workstream::Entity>>,
    /// Milestones per workstream.
    pub milestones_by_workstream: DataLoader<Grouped<milestone::Entity>>,
    /// Dependencies per upstream workstream (may cross programs).
    pub dependencies_by_upstream: DataLoader<Grouped<dependency::Entity>>,
    /// Dependencies per downstream workstream (may cross programs).
    pub dependencies_by_downstream: DataLoader<Grouped<dependency::Entity>>,
    /// Dependencies recorded in a program (the downstream side).
    pub dependencies_by_program: DataLoader<Grouped<dependency::Entity>>,
    /// Decisions per program.
    pub decisions_by_program: DataLoader<Grouped<decision::Entity>>,
    /// Decisions per the decision that superseded them.
    pub decisions_by_superseder: DataLoader<Grouped<decision::Entity>>,
    /// Options per decision, in position order.
    pub options_by_decision: DataLoader<Grouped<decision_option::Entity>>,
    /// Risks per program.
    pub risks_by_program: DataLoader<Grouped<risk::Entity>>,
    /// Status updates per program.
    pub status_updates_by_program: DataLoader<Grouped<status_update::Entity>>,
}

impl Loaders {
    /// Fresh loaders for one request by `viewer`.
    pub fn new(domain: &Domain, viewer: &Viewer) -> Self {
        Self {
            domain: domain.clone(),
            viewer: viewer.clone(),
            visible: OnceCell::new(),
            plans: Default::default(),
            users: by_id::<user::Entity>(domain, user::Column::Id, |m| m.id),
            teams: by_id::<team::Entity>(domain, team::Column::Id, |m| m.id),
            programs: by_id::<program::Entity>(domain, program::Column::Id, |m| m.id),
            workstreams: by_id::<workstream::Entity>(domain, workstream::Column::Id, |m| m.id),
            dependencies: by_id::<dependency::Entity>(domain, dependency::Column::Id, |m| m.id),
            decisions: by_id::<decision::Entity>(domain, decision::Column::Id, |m| m.id),
            viewer_roles: DataLoader::new(
                ViewerRoleLoader {
                    domain: domain.clone(),
                    user_id: viewer.user.as_ref().map(|user| user.id),
                },
                tokio::spawn,
            ),
            members_by_program: grouped::<program_member::Entity>(
                domain,
                program_member::Column::ProgramId,
                |m| Some(m.program_id),
                program_member::Column::CreatedAt,
                program_member::Column::Id,
            ),
            workstreams_by_program: grouped::<workstream::Entity>(
                domain,
                workstream::Column::ProgramId,
                |m| Some(m.program_id),
                workstream::Column::CreatedAt,
                workstream::Column::Id,
            ),
            workstreams_by_team: grouped::<workstream::Entity>(
                domain,
                workstream::Column::TeamId,
                |m| m.team_id,
                workstream::Column::CreatedAt,
                workstream::Column::Id,
            ),
            milestones_by_workstream: grouped::<milestone::Entity>(
                domain,
                milestone::Column::WorkstreamId,
                |m| Some(m.workstream_id),
                milestone::Column::CreatedAt,
                milestone::Column::Id,
            ),
            dependencies_by_upstream: grouped::<dependency::Entity>(
                domain,
                dependency::Column::UpstreamId,
                |m| Some(m.upstream_id),
                dependency::Column::CreatedAt,
                dependency::Column::Id,
            ),
            dependencies_by_downstream: grouped::<dependency::Entity>(
                domain,
                dependency::Column::DownstreamId,
                |m| Some(m.downstream_id),
                dependency::Column::CreatedAt,
                dependency::Column::Id,
            ),
            dependencies_by_program: grouped::<dependency::Entity>(
                domain,
                dependency::Column::ProgramId,
                |m| Some(m.program_id),
                dependency::Column::CreatedAt,
                dependency::Column::Id,
            ),
            decisions_by_program: grouped::<decision::Entity>(
                domain,
                decision::Column::ProgramId,
                |m| Some(m.program_id),
                decision::Column::CreatedAt,
                decision::Column::Id,
            ),
            decisions_by_superseder: grouped::<decision::Entity>(
                domain,
                decision::Column::SupersededById,
                |m| m.superseded_by_id,
                decision::Column::CreatedAt,
                decision::Column::Id,
            ),
            options_by_decision: grouped::<decision_option::Entity>(
                domain,
                decision_option::Column::DecisionId,
                |m| Some(m.decision_id),
                decision_option::Column::Position,
                decision_option::Column::Id,
            ),
            risks_by_program: grouped::<risk::Entity>(
                domain,
                risk::Column::ProgramId,
                |m| Some(m.program_id),
                risk::Column::CreatedAt,
                risk::Column::Id,
            ),
            status_updates_by_program: grouped::<status_update::Entity>(
                domain,
                status_update::Column::ProgramId,
                |m| Some(m.program_id),
                status_update::Column::CreatedAt,
                status_update::Column::Id,
            ),
        }
    }

    /// Programs the viewer may see (`None`: all of them, for an ADMIN);
    /// loaded once per request.
    pub async fn visible_programs(&self) -> ApiResult<&Option<HashSet<Uuid>>> {
        self.visible
            .get_or_try_init(|| self.domain.visible_program_ids(&self.viewer))
            .await
    }

    /// The program's plan, loaded and scheduled once per request however many
    /// planning fields ask for it.
    pub async fn plan(&self, program_id: Uuid) -> ApiResult<std::sync::Arc<ProgramPlan>> {
        let mut plans = self.plans.lock().await;
        if let Some(plan) = plans.get(&program_id) {
            return Ok(plan.clone());
        }
        let plan = std::sync::Arc::new(self.domain.program_plan(&self.viewer, program_id).await?);
        plans.insert(program_id, plan.clone());
        Ok(plan)
    }

    /// Whether the viewer may see the program `program_id`.
    pub async fn can_see_program(&self, program_id: Uuid) -> ApiResult<bool> {
        Ok(self
            .visible_programs()
            .await?
            .as_ref()
            .is_none_or(|ids| ids.contains(&program_id)))
    }
}
