//! Risks: what could hurt a program, how likely and how badly, and who handles it.

use entity::{dependency, enums::RiskStatus, risk, user, workstream};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use uuid::Uuid;

use super::{
    Domain, audit,
    authz::{self, Action},
    decisions::can_read,
    pagination::{self, Direction, Page, PageArgs, SortKey},
    patch::Patch,
    validate,
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Smallest likelihood or impact.
pub const LEVEL_MIN: i32 = 1;
/// Largest likelihood or impact.
pub const LEVEL_MAX: i32 = 5;

/// What `createRisk` accepts.
#[derive(Debug, Clone)]
pub struct NewRisk {
    /// The program the risk threatens.
    pub program_id: Uuid,
    /// Short name.
    pub title: String,
    /// Longer description.
    pub description: Option<String>,
    /// How likely it is to happen, 1–5.
    pub likelihood: i32,
    /// How badly it would hurt, 1–5.
    pub impact: i32,
    /// Initial status (default `OPEN`).
    pub status: Option<RiskStatus>,
    /// The plan to reduce it.
    pub mitigation: Option<String>,
    /// Who handles it.
    pub owner_id: Option<Uuid>,
    /// The workstream it threatens.
    pub workstream_id: Option<Uuid>,
    /// The dependency it threatens.
    pub dependency_id: Option<Uuid>,
}

/// What `updateRisk` changes.
#[derive(Debug, Clone, Default)]
pub struct RiskChanges {
    /// New title.
    pub title: Patch<String>,
    /// New description.
    pub description: Patch<String>,
    /// New likelihood.
    pub likelihood: Patch<i32>,
    /// New impact.
    pub impact: Patch<i32>,
    /// New status.
    pub status: Patch<RiskStatus>,
    /// New mitigation plan.
    pub mitigation: Patch<String>,
    /// New owner.
    pub owner_id: Patch<Uuid>,
    /// New threatened workstream.
    pub workstream_id: Patch<Uuid>,
    /// New threatened dependency.
    pub dependency_id: Patch<Uuid>,
}

/// Filters of a program's risks.
#[derive(Debug, Clone, Default)]
pub struct RiskFilter {
    /// Only these statuses.
    pub status: Option<Vec<RiskStatus>>,
    /// Only risks scoring at least this much.
    pub min_score: Option<i32>,
    /// Only risks owned by this user.
    pub owner_id: Option<Uuid>,
    /// Case-insensitive text contained in the title or description.
    pub search: Option<String>,
}

/// Sortable fields of a program's risks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskOrderField {
    /// Likelihood × impact.
    Score,
    /// Creation time.
    CreatedAt,
    /// Title.
    Title,
}

fn level(field: &str, value: i32) -> ApiResult<i32> {
    validate::range(field, value, LEVEL_MIN, LEVEL_MAX)
}

/// A referenced user must exist.
async fn check_user(txn: &DatabaseTransaction, field: &str, id: Uuid) -> ApiResult<()> {
    let exists = user::Entity::find_by_id(id).count(txn).await? > 0;
    if exists {
        Ok(())
    } else {
        Err(ApiError::bad_input(field, Message::UnknownUser))
    }
}

/// Something in `found_program` may be linked from `program_id` only if it is
/// the same program; one the viewer cannot see is `NOT_FOUND`.
async fn check_same_program(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    field: &str,
    program_id: Uuid,
    found_program: Option<Uuid>,
) -> ApiResult<()> {
    match found_program {
        None => Err(ApiError::NotFound(Message::NotFound)),
        Some(found) if found == program_id => Ok(()),
        Some(found) if can_read(txn, viewer, found).await? => {
            Err(ApiError::bad_input(field, Message::OtherProgram))
        }
        Some(_) => Err(ApiError::NotFound(Message::NotFound)),
    }
}

async fn check_workstream(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    program_id: Uuid,
    id: Uuid,
) -> ApiResult<()> {
    let found = workstream::Entity::find_by_id(id)
        .one(txn)
        .await?
        .map(|w| w.program_id);
    check_same_program(txn, viewer, "input.workstreamId", program_id, found).await
}

async fn check_dependency(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    program_id: Uuid,
    id: Uuid,
) -> ApiResult<()> {
    let found = dependency::Entity::find_by_id(id)
        .one(txn)
        .await?
        .map(|d| d.program_id);
    check_same_program(txn, viewer, "input.dependencyId", program_id, found).await
}

/// Load a risk for a change and check the viewer may edit its program.
async fn load_for_edit(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: Uuid,
) -> ApiResult<risk::Model> {
    let before = risk::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound(Message::NotFound))?;
    authz::authorize(txn, viewer, before.program_id, Action::Edit).await?;
    Ok(before)
}

impl Domain {
    /// Record a risk (OWNER, EDITOR); its score is likelihood × impact.
    pub async fn create_risk(&self, viewer: &Viewer, input: NewRisk) -> ApiResult<risk::Model> {
        let user = viewer.require_user()?;
        let title = validate::name("input.title", &input.title)?;
        let description =
            validate::optional_text("input.description", input.description.as_deref())?;
        let mitigation = validate::optional_text("input.mitigation", input.mitigation.as_deref())?;
        let likelihood = level("input.likelihood", input.likelihood)?;
        let impact = level("input.impact", input.impact)?;

        let txn = self.begin_write().await?;
        authz::authorize(&txn, viewer, input.program_id, Action::Edit).await?;
        if let Some(owner) = input.owner_id {
            check_user(&txn, "input.ownerId", owner).await?;
        }
        if let Some(id) = input.workstream_id {
            check_workstream(&txn, viewer, input.program_id, id).await?;
        }
        if let Some(id) = input.dependency_id {
            check_dependency(&txn, viewer, input.program_id, id).await?;
        }
        let now = super::now();
        let created = risk::ActiveModel {
            id: Set(Uuid::now_v7()),
            program_id: Set(input.program_id),
            title: Set(title),
            description: Set(description),
            likelihood: Set(likelihood),
            impact: Set(impact),
            score: Set(likelihood * impact),
            status: Set(input.status.unwrap_or(RiskStatus::Open)),
            mitigation: Set(mitigation),
            owner_id: Set(input.owner_id),
            workstream_id: Set(input.workstream_id),
            dependency_id: Set(input.dependency_id),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit::commit(
            txn,
            audit::Event {
                actor: Some(user.id),
                program_id: Some(created.program_id),
                action: "risk.create",
                entity_type: "Risk",
                entity_id: created.id,
                changes: audit::diff(None, Some(&created)),
            },
        )
        .await?;
        Ok(created)
    }

    /// Change a risk (OWNER, EDITOR); the score follows likelihood and impact.
    pub async fn update_risk(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        changes: RiskChanges,
    ) -> ApiResult<risk::Model> {
        let user = viewer.require_user()?;
        let title = changes
            .title
            .required_with("input.title", |field, t| validate::name(field, &t))?;
        let likelihood = changes
            .likelihood
            .required("input.likelihood")?
            .map(|l| level("input.likelihood", l))
            .transpose()?;
        let impact = changes
            .impact
            .required("input.impact")?
            .map(|i| level("input.impact", i))
            .transpose()?;
        let status = changes.status.required("input.status")?;
        let description = changes
            .description
            .try_map(|d| validate::long_text("input.description", &d))?;
        let mitigation = changes
            .mitigation
            .try_map(|m| validate::long_text("input.mitigation", &m))?;

        let txn = self.begin_write().await?;
        let before = load_for_edit(&txn, viewer, id).await?;
        check_expected(before.version, expected_version)?;
        if let Patch::Set(owner) = changes.owner_id {
            check_user(&txn, "input.ownerId", owner).await?;
        }
        if let Patch::Set(workstream) = changes.workstream_id {
            check_workstream(&txn, viewer, before.program_id, workstream).await?;
        }
        if let Patch::Set(dependency) = changes.dependency_id {
            check_dependency(&txn, viewer, before.program_id, dependency).await?;
        }

        let mut active: risk::ActiveModel = before.clone().into();
        if let Some(title) = title {
            active.title = Set(title);
        }
        let likelihood = likelihood.unwrap_or(before.likelihood);
        let impact = impact.unwrap_or(before.impact);
        active.likelihood = Set(likelihood);
        active.impact = Set(impact);
        active.score = Set(likelihood * impact);
        if let Some(status) = status {
            active.status = Set(status);
        }
        if description.is_given() {
            active.description = Set(description.apply(before.description.clone()));
        }
        if mitigation.is_given() {
            active.mitigation = Set(mitigation.apply(before.mitigation.clone()));
        }
        if changes.owner_id.is_given() {
            active.owner_id = Set(changes.owner_id.apply(before.owner_id));
        }
        if changes.workstream_id.is_given() {
            active.workstream_id = Set(changes.workstream_id.apply(before.workstream_id));
        }
        if changes.dependency_id.is_given() {
            active.dependency_id = Set(changes.dependency_id.apply(before.dependency_id));
        }
        let after = versioned::save::<risk::Entity>(&txn, id, before.version, active).await?;
        audit::commit(
            txn,
            audit::Event {
                actor: Some(user.id),
                program_id: Some(after.program_id),
                action: "risk.update",
                entity_type: "Risk",
                entity_id: id,
                changes: audit::diff(Some(&before), Some(&after)),
            },
        )
        .await?;
        Ok(after)
    }

    /// Delete a risk (OWNER, EDITOR); returns its id.
    pub async fn delete_risk(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> ApiResult<Uuid> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let before = load_for_edit(&txn, viewer, id).await?;
        check_expected(before.version, expected_version)?;
        let deleted = risk::Entity::delete_many()
            .filter(risk::Column::Id.eq(id))
            .filter(risk::Column::Version.eq(before.version))
            .exec(&txn)
            .await?;
        if deleted.rows_affected != 1 {
            return Err(ApiError::Conflict(Message::StaleVersion));
        }
        audit::commit(
            txn,
            audit::Event {
                actor: Some(user.id),
                program_id: Some(before.program_id),
                action: "risk.delete",
                entity_type: "Risk",
                entity_id: id,
                changes: audit::diff(Some(&before), None),
            },
        )
        .await?;
        Ok(id)
    }

    /// A risk by id, or `None` when it does not exist or is not visible.
    pub async fn risk(&self, viewer: &Viewer, id: Uuid) -> ApiResult<Option<risk::Model>> {
        let query = risk::Entity::find_by_id(id);
        let query = authz::visible_programs(query, viewer, risk::Column::ProgramId)?;
        Ok(query.one(&self.db).await?)
    }

    /// Filter, order and page a program's risks, already loaded in one batch.
    pub fn risk_page(
        &self,
        rows: Vec<risk::Model>,
        filter: RiskFilter,
        order: (RiskOrderField, Direction),
        args: &PageArgs,
    ) -> ApiResult<Page<risk::Model>> {
        let search = filter
            .search
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let rows: Vec<risk::Model> = rows
            .into_iter()
            .filter(|r| {
                filter
                    .status
                    .as_ref()
                    .is_none_or(|statuses| statuses.contains(&r.status))
            })
            .filter(|r| filter.min_score.is_none_or(|min| r.score >= min))
            .filter(|r| {
                filter
                    .owner_id
                    .is_none_or(|owner| r.owner_id == Some(owner))
            })
            .filter(|r| {
                search.as_ref().is_none_or(|needle| {
                    r.title.to_lowercase().contains(needle)
                        || r.description
                            .as_ref()
                            .is_some_and(|d| d.to_lowercase().contains(needle))
                })
            })
            .collect();
        let (field, direction) = order;
        let name = match field {
            RiskOrderField::Score => "SCORE",
            RiskOrderField::CreatedAt => "CREATED_AT",
            RiskOrderField::Title => "TITLE",
        };
        pagination::paginate_rows(
            rows,
            &format!("risks:{name}:{direction:?}"),
            direction,
            args,
            self.limits.max_page_size,
            move |r| -> SortKey {
                match field {
                    RiskOrderField::Score => r.score.into(),
                    RiskOrderField::CreatedAt => r.created_at.into(),
                    RiskOrderField::Title => r.title.clone().into(),
                }
            },
            |r| r.id,
        )
    }
}
