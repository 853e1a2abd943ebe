//! Risks: what could hurt a program, how likely and how badly, and who handles it.

use entity::{dependency, enums::RiskStatus, link::Link, risk, workstream};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, QuerySelect, Set};
use uuid::Uuid;

use super::validate::AllInputs;
use super::{
    Domain,
    access::{self, Action, ScopedEntity, Visible},
    audit::Change,
    links,
    members::ensure_member,
    pagination::order_fields,
    patch::{self, Patch},
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
    /// Its id in another tool, unique in the program.
    pub external_id: Option<String>,
    /// Where it is tracked elsewhere.
    pub links: Option<Vec<Link>>,
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
    /// New external id; `Clear` removes it.
    pub external_id: Patch<String>,
    /// New links (all of them); `Clear` removes them.
    pub links: Patch<Vec<Link>>,
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

impl RiskFilter {
    /// Whether `row` passes every given filter.
    pub fn matches(&self, row: &risk::Model) -> bool {
        let needle = self
            .search
            .as_deref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        self.status.as_ref().is_none_or(|s| s.contains(&row.status))
            && self.min_score.is_none_or(|min| row.score >= min)
            && self
                .owner_id
                .is_none_or(|owner| row.owner_id == Some(owner))
            && needle.is_none_or(|needle| {
                row.title.to_lowercase().contains(&needle)
                    || row
                        .description
                        .as_ref()
                        .is_some_and(|d| d.to_lowercase().contains(&needle))
            })
    }
}

order_fields! {
    /// Sortable fields of a program's risks.
    pub enum RiskOrderField for risk::Model {
        /// Likelihood × impact.
        Score = "SCORE" => |row| row.score,
        /// Creation time.
        CreatedAt = "CREATED_AT" => |row| row.created_at,
        /// Title.
        Title = "TITLE" => |row| row.title.clone(),
    }
}

pub(crate) fn level(field: &str, value: i32) -> ApiResult<i32> {
    validate::range(field, value, LEVEL_MIN, LEVEL_MAX)
}

/// Row `id` of `E`, linked from a risk in `program_id`: it must be visible
/// (`NOT_FOUND` otherwise, as for a missing one) and recorded in that program.
pub(crate) async fn linked<E>(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    field: &str,
    program_id: Uuid,
    id: Uuid,
    program_of: fn(&E::Model) -> Uuid,
) -> ApiResult<E::Model>
where
    E: ScopedEntity,
    E::Model: Send + Sync,
{
    let row = access::find_visible::<E>(txn, viewer, id)
        .await?
        .into_inner();
    if program_of(&row) == program_id {
        Ok(row)
    } else {
        Err(ApiError::bad_input(field, Message::OtherProgram))
    }
}

/// Check what a risk of `program_id` links to; returns the other program a
/// linked dependency reaches into, which its history entry then reveals.
async fn check_links(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    program_id: Uuid,
    owner: Option<Uuid>,
    workstream_id: Option<Uuid>,
    dependency_id: Option<Uuid>,
) -> ApiResult<Option<Uuid>> {
    if let Some(owner) = owner {
        ensure_member(txn, program_id, owner, "input.ownerId", Message::NotAMember).await?;
    }
    if let Some(id) = workstream_id {
        linked::<workstream::Entity>(txn, viewer, "input.workstreamId", program_id, id, |w| {
            w.program_id
        })
        .await?;
    }
    let mut reveals = None;
    if let Some(id) = dependency_id {
        let dependency =
            linked::<dependency::Entity>(txn, viewer, "input.dependencyId", program_id, id, |d| {
                d.program_id
            })
            .await?;
        reveals = Some(dependency.upstream_program_id).filter(|other| *other != program_id);
    }
    Ok(reveals)
}

/// The other program a risk's linked dependency reaches into, if any.
async fn linked_program(
    txn: &DatabaseTransaction,
    program_id: Uuid,
    dependency_id: Uuid,
) -> ApiResult<Option<Uuid>> {
    let upstream_program = dependency::Entity::find_by_id(dependency_id)
        .select_only()
        .column(dependency::Column::UpstreamProgramId)
        .into_tuple::<Uuid>()
        .one(txn)
        .await?;
    Ok(upstream_program.filter(|other| *other != program_id))
}

/// The history entry of a risk change, filed where the risk's links are visible.
fn risk_change(change: Change, reveals: Option<Uuid>) -> Change {
    match reveals {
        Some(other) => change.revealing(other),
        None => change,
    }
}

/// Validate and insert a risk inside `txn` (its program already
/// authorized); returns it and its history entry.
pub(crate) async fn insert_risk(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    input: NewRisk,
) -> ApiResult<(risk::Model, Change)> {
    let (title, description, mitigation, likelihood, impact, (external_id, links)) = (
        validate::name("input.title", &input.title),
        validate::optional_text("input.description", input.description.as_deref()),
        validate::optional_text("input.mitigation", input.mitigation.as_deref()),
        level("input.likelihood", input.likelihood),
        level("input.impact", input.impact),
        links::new_fields(input.external_id.as_deref(), input.links),
    )
        .all()?;

    if let Some(external_id) = &external_id {
        links::ensure_free::<risk::Entity>(
            txn,
            "input.externalId",
            input.program_id,
            external_id,
            None,
        )
        .await?;
    }
    let reveals = check_links(
        txn,
        viewer,
        input.program_id,
        input.owner_id,
        input.workstream_id,
        input.dependency_id,
    )
    .await?;
    let created = risk::ActiveModel {
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
        external_id: Set(external_id),
        links: Set(links),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(links::taken_on_write("input.externalId"))?;
    let change = risk_change(Change::created(&created), reveals);
    Ok((created, change))
}

impl Domain {
    /// Record a risk (OWNER, EDITOR); its score is likelihood × impact.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_risk(
        &self,
        viewer: &Viewer,
        input: NewRisk,
    ) -> ApiResult<Visible<risk::Model>> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let access = access::authorize(&txn, viewer, input.program_id, Action::Edit).await?;
        let (created, change) = insert_risk(&txn, viewer, input).await?;
        self.commit(txn, user.id, [change]).await?;
        access.admit(created)
    }

    /// Change a risk (OWNER, EDITOR); the score follows likelihood and impact.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_risk(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        changes: RiskChanges,
    ) -> ApiResult<Visible<risk::Model>> {
        let user = viewer.require_user()?;
        let (title, likelihood, impact, status, description, mitigation, (external_id, links)) = (
            changes
                .title
                .required_with("input.title", |field, t| validate::name(field, &t)),
            changes
                .likelihood
                .required("input.likelihood")
                .and_then(|l| l.map(|l| level("input.likelihood", l)).transpose()),
            changes
                .impact
                .required("input.impact")
                .and_then(|i| i.map(|i| level("input.impact", i)).transpose()),
            changes.status.required("input.status"),
            changes
                .description
                .try_map(|d| validate::long_text("input.description", &d)),
            changes
                .mitigation
                .try_map(|m| validate::long_text("input.mitigation", &m)),
            links::changed_fields(changes.external_id, changes.links),
        )
            .all()?;

        let txn = self.begin_write().await?;
        let (before, access) =
            access::find_authorized::<risk::Entity>(&txn, viewer, id, Action::Edit).await?;
        check_expected(before.version, expected_version)?;
        if let Patch::Set(external_id) = &external_id {
            links::ensure_free::<risk::Entity>(
                &txn,
                "input.externalId",
                before.program_id,
                external_id,
                Some(before.id),
            )
            .await?;
        }
        let set = |patch: &Patch<Uuid>| match patch {
            Patch::Set(id) => Some(*id),
            _ => None,
        };
        let reveals = check_links(
            &txn,
            viewer,
            before.program_id,
            set(&changes.owner_id),
            set(&changes.workstream_id),
            set(&changes.dependency_id),
        )
        .await?;

        // Relinking also names the dependency it was linked to before.
        let revealed_before = match (changes.dependency_id.is_given(), before.dependency_id) {
            (true, Some(old)) => linked_program(&txn, before.program_id, old).await?,
            _ => None,
        };
        let mut active: risk::ActiveModel = before.clone().into();
        patch::assign(&mut active.title, title);
        let likelihood = likelihood.unwrap_or(before.likelihood);
        let impact = impact.unwrap_or(before.impact);
        active.likelihood = Set(likelihood);
        active.impact = Set(impact);
        active.score = Set(likelihood * impact);
        patch::assign(&mut active.status, status);
        description.assign(&mut active.description);
        mitigation.assign(&mut active.mitigation);
        changes.owner_id.assign(&mut active.owner_id);
        changes.workstream_id.assign(&mut active.workstream_id);
        changes.dependency_id.assign(&mut active.dependency_id);
        external_id.assign(&mut active.external_id);
        if let Some(links) = links {
            active.links = Set(links);
        }
        let after = versioned::save::<risk::Entity>(&txn, id, before.version, active)
            .await
            .map_err(links::taken_on_save("input.externalId"))?;
        let mut change = Change::updated(&before, &after);
        if revealed_before.is_some() && reveals.is_some() && revealed_before != reveals {
            // One entry can reveal one other program: the old link's is left out.
            change = change.forget_before("dependencyId");
        }
        let change = risk_change(change, reveals.or(revealed_before));
        self.commit(txn, user.id, [change]).await?;
        access.admit(after)
    }

    /// Delete a risk (OWNER, EDITOR); returns its id.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_risk(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> ApiResult<Uuid> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let (before, _) =
            access::find_authorized::<risk::Entity>(&txn, viewer, id, Action::Edit).await?;
        check_expected(before.version, expected_version)?;
        versioned::delete::<risk::Entity>(&txn, id, before.version).await?;
        let reveals = match before.dependency_id {
            Some(dependency_id) => linked_program(&txn, before.program_id, dependency_id).await?,
            None => None,
        };
        let change = risk_change(Change::deleted(&before), reveals);
        self.commit(txn, user.id, [change]).await?;
        Ok(id)
    }

    /// A risk by id, or `None` when it does not exist or is not visible.
    pub async fn risk(&self, viewer: &Viewer, id: Uuid) -> ApiResult<Option<Visible<risk::Model>>> {
        access::visible(viewer, risk::Entity::find_by_id(id))?
            .one(&self.db)
            .await
    }
}
