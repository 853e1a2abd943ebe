//! Workstream, milestone and dependency mutations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use uuid::Uuid;

use crate::domain::{
    dependencies::{DependencyChanges, NewDependency},
    milestones::{MilestoneChanges, NewMilestone},
    workstreams::{NewWorkstream, WorkstreamChanges},
};
use crate::error::ApiError;
use crate::graphql::context::loaders;
use crate::graphql::scalars::Instant;
use crate::graphql::{
    context::{parse_id, parse_optional_id, patch, patch_id, scope},
    scalars::Date,
    types::{
        Dependency, Milestone, Program, Workstream,
        dependency::DependencyStatus,
        enums::{Health, Priority},
        link::{LinkInput, links_from},
        workstream::WorkstreamStatus,
    },
};
use crate::i18n::Message;

/// A workstream the caller just changed (so it is visible to them).
async fn load_workstream(ctx: &Context<'_>, id: Uuid) -> Result<Workstream> {
    let loaders = loaders(ctx)?;
    Ok(loaders
        .workstreams
        .load_one(id)
        .await?
        .map(Workstream)
        .ok_or(ApiError::NotFound(Message::NotFound))?)
}

/// A new workstream in a program (OWNER or EDITOR).
#[derive(InputObject)]
pub struct CreateWorkstreamInput {
    /// The program it belongs to.
    pub program_id: ID,
    /// Display name (up to 200 characters).
    pub name: String,
    /// Longer description (up to 20,000 characters).
    pub description: Option<String>,
    /// The team doing the work.
    pub team_id: Option<ID>,
    /// The user leading the workstream.
    pub lead_id: Option<ID>,
    /// Initial status; `NOT_STARTED` when absent.
    pub status: Option<WorkstreamStatus>,
    /// Initial health; `ON_TRACK` when absent.
    pub health: Option<Health>,
    /// Planned first day.
    pub start_date: Option<Date>,
    /// Planned last day; not before `startDate`.
    pub target_date: Option<Date>,
    /// Percent complete, 0–100; 0 when absent.
    pub progress: Option<i32>,
    /// Day work actually started (default: today when created IN_PROGRESS, BLOCKED or DONE); not after today.
    pub started_on: Option<Date>,
    /// Day work actually finished (default: today when created DONE); not after today.
    pub finished_on: Option<Date>,
    /// Its id in another tool (up to 200 characters), unique in the program.
    pub external_id: Option<String>,
    /// Where its work is tracked in other tools (at most 20).
    pub links: Option<Vec<LinkInput>>,
    /// How urgent it is against the rest of its team's work; `P2` when absent.
    pub priority: Option<Priority>,
    /// Estimated work in person-days (0 to 100,000, fractions allowed).
    pub effort_days: Option<f64>,
}

/// The created workstream.
#[derive(SimpleObject)]
pub struct CreateWorkstreamPayload {
    /// The new workstream.
    pub workstream: Workstream,
}

/// Changes to a workstream (OWNER or EDITOR). Absent fields stay as they are; `null` clears.
#[derive(InputObject)]
pub struct UpdateWorkstreamInput {
    /// The workstream.
    pub id: ID,
    /// The `version` the change is based on; `CONFLICT` if the workstream changed since.
    pub expected_version: Option<i32>,
    /// New name.
    pub name: MaybeUndefined<String>,
    /// New description.
    pub description: MaybeUndefined<String>,
    /// New team; `null` leaves the workstream unstaffed.
    pub team_id: MaybeUndefined<ID>,
    /// New lead; `null` removes the lead.
    pub lead_id: MaybeUndefined<ID>,
    /// New status.
    pub status: MaybeUndefined<WorkstreamStatus>,
    /// New health.
    pub health: MaybeUndefined<Health>,
    /// New start date.
    pub start_date: MaybeUndefined<Date>,
    /// New target date; not before the (new or current) start date.
    pub target_date: MaybeUndefined<Date>,
    /// New progress, 0–100.
    pub progress: MaybeUndefined<i32>,
    /// Day work actually started, to correct or backfill it (set to today when the status first leaves NOT_STARTED).
    pub started_on: MaybeUndefined<Date>,
    /// Day work actually finished, to correct or backfill it (set to today when the status becomes DONE).
    pub finished_on: MaybeUndefined<Date>,
    /// New id in another tool, unique in the program; `null` removes it.
    pub external_id: MaybeUndefined<String>,
    /// New links, replacing all of them; `null` removes them.
    pub links: MaybeUndefined<Vec<LinkInput>>,
    /// New priority.
    pub priority: MaybeUndefined<Priority>,
    /// New effort estimate in person-days (0 to 100,000, fractions allowed); `null` removes it.
    pub effort_days: MaybeUndefined<f64>,
}

/// The changed workstream.
#[derive(SimpleObject)]
pub struct UpdateWorkstreamPayload {
    /// The workstream after the change.
    pub workstream: Workstream,
}

/// Delete a workstream with its milestones and dependencies (OWNER or EDITOR).
#[derive(InputObject)]
pub struct DeleteWorkstreamInput {
    /// The workstream.
    pub id: ID,
    /// The `version` the deletion is based on; `CONFLICT` if the workstream changed since.
    pub expected_version: Option<i32>,
}

/// What `deleteWorkstream` removed.
pub struct DeleteWorkstreamPayload {
    deleted_id: Uuid,
    program_id: Uuid,
}

/// What `deleteWorkstream` removed.
#[Object]
impl DeleteWorkstreamPayload {
    /// Id of the deleted workstream.
    async fn deleted_workstream_id(&self) -> ID {
        ID(self.deleted_id.to_string())
    }
    /// The program the workstream belonged to.
    async fn program(&self, ctx: &Context<'_>) -> Result<Program> {
        let loaders = loaders(ctx)?;
        Ok(loaders
            .programs
            .load_one(self.program_id)
            .await?
            .map(Program)
            .ok_or(ApiError::NotFound(Message::NotFound))?)
    }
}

/// A new milestone of a workstream (OWNER or EDITOR of its program).
#[derive(InputObject)]
pub struct CreateMilestoneInput {
    /// The workstream it belongs to.
    pub workstream_id: ID,
    /// Display name (up to 200 characters).
    pub name: String,
    /// Longer description (up to 20,000 characters).
    pub description: Option<String>,
    /// Day it is due.
    pub due_date: Option<Date>,
    /// When it was reached, if it already is.
    pub completed_at: Option<Instant>,
}

/// The created milestone.
#[derive(SimpleObject)]
pub struct CreateMilestonePayload {
    /// The new milestone.
    pub milestone: Milestone,
}

/// Changes to a milestone (OWNER or EDITOR). Absent fields stay as they are; `null` clears.
#[derive(InputObject)]
pub struct UpdateMilestoneInput {
    /// The milestone.
    pub id: ID,
    /// The `version` the change is based on; `CONFLICT` if the milestone changed since.
    pub expected_version: Option<i32>,
    /// New name.
    pub name: MaybeUndefined<String>,
    /// New description.
    pub description: MaybeUndefined<String>,
    /// New due date.
    pub due_date: MaybeUndefined<Date>,
    /// When it was reached; `null` reopens the milestone.
    pub completed_at: MaybeUndefined<Instant>,
}

/// The changed milestone.
#[derive(SimpleObject)]
pub struct UpdateMilestonePayload {
    /// The milestone after the change.
    pub milestone: Milestone,
}

/// Delete a milestone (OWNER or EDITOR).
#[derive(InputObject)]
pub struct DeleteMilestoneInput {
    /// The milestone.
    pub id: ID,
    /// The `version` the deletion is based on; `CONFLICT` if the milestone changed since.
    pub expected_version: Option<i32>,
}

/// What `deleteMilestone` removed.
pub struct DeleteMilestonePayload {
    deleted_id: Uuid,
    workstream_id: Uuid,
}

/// What `deleteMilestone` removed.
#[Object]
impl DeleteMilestonePayload {
    /// Id of the deleted milestone.
    async fn deleted_milestone_id(&self) -> ID {
        ID(self.deleted_id.to_string())
    }
    /// The workstream the milestone belonged to.
    async fn workstream(&self, ctx: &Context<'_>) -> Result<Workstream> {
        load_workstream(ctx, self.workstream_id).await
    }
}

/// A new dependency: `downstream` waits on `upstream`. Needs EDIT on the
/// downstream's program and READ on the upstream's.
#[derive(InputObject)]
pub struct CreateDependencyInput {
    /// The workstream that must deliver (may be in another program).
    pub upstream_id: ID,
    /// The workstream that waits; the dependency is recorded in its program.
    pub downstream_id: ID,
    /// What is needed (up to 20,000 characters).
    pub description: Option<String>,
    /// Day the downstream needs the delivery.
    pub needed_by: Option<Date>,
    /// Initial status; `OPEN` when absent.
    pub status: Option<DependencyStatus>,
    /// Day the upstream team promised to deliver; only an editor of the upstream program may give it (`FORBIDDEN` otherwise), and the dependency starts COMMITTED. Others leave it out: the dependency starts REQUESTED and the upstream team answers with `commitDependency`.
    pub committed_date: Option<Date>,
    /// Who made the promise (a member of the upstream program; default: the caller when `committedDate` is given); upstream editors only.
    pub committed_by_id: Option<ID>,
    /// Its id in another tool (up to 200 characters), unique in the downstream program.
    pub external_id: Option<String>,
    /// Where it is tracked in other tools (at most 20).
    pub links: Option<Vec<LinkInput>>,
}

/// The created dependency.
#[derive(SimpleObject)]
pub struct CreateDependencyPayload {
    /// The new dependency.
    pub dependency: Dependency,
}

/// Changes to a dependency (READ on both ends, EDIT on either). The two ends
/// are fixed; absent fields stay as they are; `null` clears.
#[derive(InputObject)]
pub struct UpdateDependencyInput {
    /// The dependency.
    pub id: ID,
    /// The `version` the change is based on; `CONFLICT` if the dependency changed since.
    pub expected_version: Option<i32>,
    /// New description.
    pub description: MaybeUndefined<String>,
    /// New need date.
    pub needed_by: MaybeUndefined<Date>,
    /// New status.
    pub status: MaybeUndefined<DependencyStatus>,
    /// New promised date (upstream editors only, `FORBIDDEN` otherwise; a date makes it COMMITTED, `null` REQUESTED); prefer `commitDependency`.
    pub committed_date: MaybeUndefined<Date>,
    /// New promiser (upstream editors only).
    pub committed_by_id: MaybeUndefined<ID>,
    /// New id in another tool, unique in the downstream program; `null` removes it.
    pub external_id: MaybeUndefined<String>,
    /// New links, replacing all of them; `null` removes them.
    pub links: MaybeUndefined<Vec<LinkInput>>,
}

/// The changed dependency.
#[derive(SimpleObject)]
pub struct UpdateDependencyPayload {
    /// The dependency after the change.
    pub dependency: Dependency,
}

/// Delete a dependency (READ on both ends, EDIT on either).
#[derive(InputObject)]
pub struct DeleteDependencyInput {
    /// The dependency.
    pub id: ID,
    /// The `version` the deletion is based on; `CONFLICT` if the dependency changed since.
    pub expected_version: Option<i32>,
}

/// What `deleteDependency` removed.
pub struct DeleteDependencyPayload {
    deleted_id: Uuid,
    upstream_id: Uuid,
    downstream_id: Uuid,
}

/// What `deleteDependency` removed.
#[Object]
impl DeleteDependencyPayload {
    /// Id of the deleted dependency.
    async fn deleted_dependency_id(&self) -> ID {
        ID(self.deleted_id.to_string())
    }
    /// The workstream that no longer has to deliver.
    async fn upstream(&self, ctx: &Context<'_>) -> Result<Workstream> {
        load_workstream(ctx, self.upstream_id).await
    }
    /// The workstream that no longer waits.
    async fn downstream(&self, ctx: &Context<'_>) -> Result<Workstream> {
        load_workstream(ctx, self.downstream_id).await
    }
}

/// Workstream, milestone and dependency mutations.
#[derive(Default)]
pub struct WorkMutation;

#[Object]
impl WorkMutation {
    /// Create a workstream in a program (OWNER or EDITOR).
    async fn create_workstream(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: CreateWorkstreamInput,
    ) -> Result<CreateWorkstreamPayload> {
        let (domain, viewer) = scope(ctx)?;
        let workstream = domain
            .create_workstream(
                viewer,
                NewWorkstream {
                    program_id: parse_id("input.programId", &input.program_id)?,
                    name: input.name,
                    description: input.description,
                    team_id: parse_optional_id("input.teamId", input.team_id.as_ref())?,
                    lead_id: parse_optional_id("input.leadId", input.lead_id.as_ref())?,
                    status: input.status.map(Into::into),
                    health: input.health.map(Into::into),
                    start_date: input.start_date.map(Into::into),
                    target_date: input.target_date.map(Into::into),
                    progress: input.progress,
                    started_on: input.started_on.map(Into::into),
                    finished_on: input.finished_on.map(Into::into),
                    external_id: input.external_id,
                    links: input.links.map(links_from),
                    priority: input.priority.map(Into::into),
                    effort_days: input.effort_days,
                },
            )
            .await?;
        Ok(CreateWorkstreamPayload {
            workstream: Workstream(workstream),
        })
    }

    /// Change a workstream's fields (OWNER or EDITOR).
    async fn update_workstream(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: UpdateWorkstreamInput,
    ) -> Result<UpdateWorkstreamPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let workstream = domain
            .update_workstream(
                viewer,
                id,
                input.expected_version,
                WorkstreamChanges {
                    name: patch(input.name),
                    description: patch(input.description),
                    team_id: patch_id("input.teamId", input.team_id)?,
                    lead_id: patch_id("input.leadId", input.lead_id)?,
                    status: patch(input.status),
                    health: patch(input.health),
                    start_date: patch(input.start_date),
                    target_date: patch(input.target_date),
                    progress: patch(input.progress),
                    started_on: patch(input.started_on),
                    finished_on: patch(input.finished_on),
                    external_id: patch(input.external_id),
                    links: patch(input.links).map(links_from),
                    priority: patch(input.priority),
                    effort_days: patch(input.effort_days),
                },
            )
            .await?;
        Ok(UpdateWorkstreamPayload {
            workstream: Workstream(workstream),
        })
    }

    /// Delete a workstream with its milestones and dependencies (OWNER or EDITOR).
    async fn delete_workstream(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: DeleteWorkstreamInput,
    ) -> Result<DeleteWorkstreamPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let deleted = domain
            .delete_workstream(viewer, id, input.expected_version)
            .await?;
        Ok(DeleteWorkstreamPayload {
            deleted_id: deleted.id,
            program_id: deleted.program_id,
        })
    }

    /// Add a milestone to a workstream (OWNER or EDITOR of its program).
    async fn create_milestone(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: CreateMilestoneInput,
    ) -> Result<CreateMilestonePayload> {
        let (domain, viewer) = scope(ctx)?;
        let milestone = domain
            .create_milestone(
                viewer,
                NewMilestone {
                    workstream_id: parse_id("input.workstreamId", &input.workstream_id)?,
                    name: input.name,
                    description: input.description,
                    due_date: input.due_date.map(Into::into),
                    completed_at: input.completed_at.map(Into::into),
                },
            )
            .await?;
        Ok(CreateMilestonePayload {
            milestone: Milestone(milestone),
        })
    }

    /// Change a milestone; set `completedAt` to mark it reached (OWNER or EDITOR).
    async fn update_milestone(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: UpdateMilestoneInput,
    ) -> Result<UpdateMilestonePayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let milestone = domain
            .update_milestone(
                viewer,
                id,
                input.expected_version,
                MilestoneChanges {
                    name: patch(input.name),
                    description: patch(input.description),
                    due_date: patch(input.due_date),
                    completed_at: patch(input.completed_at),
                },
            )
            .await?;
        Ok(UpdateMilestonePayload {
            milestone: Milestone(milestone),
        })
    }

    /// Delete a milestone (OWNER or EDITOR).
    async fn delete_milestone(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: DeleteMilestoneInput,
    ) -> Result<DeleteMilestonePayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let deleted = domain
            .delete_milestone(viewer, id, input.expected_version)
            .await?;
        Ok(DeleteMilestonePayload {
            deleted_id: deleted.id,
            workstream_id: deleted.workstream_id,
        })
    }

    /// Record that one workstream waits on another, possibly in another program.
    async fn create_dependency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: CreateDependencyInput,
    ) -> Result<CreateDependencyPayload> {
        let (domain, viewer) = scope(ctx)?;
        let dependency = domain
            .create_dependency(
                viewer,
                NewDependency {
                    upstream_id: parse_id("input.upstreamId", &input.upstream_id)?,
                    downstream_id: parse_id("input.downstreamId", &input.downstream_id)?,
                    description: input.description,
                    needed_by: input.needed_by.map(Into::into),
                    status: input.status.map(Into::into),
                    committed_date: input.committed_date.map(Into::into),
                    committed_by_id: parse_optional_id(
                        "input.committedById",
                        input.committed_by_id.as_ref(),
                    )?,
                    external_id: input.external_id,
                    links: input.links.map(links_from),
                },
            )
            .await?;
        Ok(CreateDependencyPayload {
            dependency: Dependency(dependency),
        })
    }

    /// Change a dependency's need, status or commitment.
    async fn update_dependency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: UpdateDependencyInput,
    ) -> Result<UpdateDependencyPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let dependency = domain
            .update_dependency(
                viewer,
                id,
                input.expected_version,
                DependencyChanges {
                    description: patch(input.description),
                    needed_by: patch(input.needed_by),
                    status: patch(input.status),
                    committed_date: patch(input.committed_date),
                    committed_by_id: patch_id("input.committedById", input.committed_by_id)?,
                    external_id: patch(input.external_id),
                    links: patch(input.links).map(links_from),
                },
            )
            .await?;
        Ok(UpdateDependencyPayload {
            dependency: Dependency(dependency),
        })
    }

    /// Delete a dependency.
    async fn delete_dependency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: DeleteDependencyInput,
    ) -> Result<DeleteDependencyPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let deleted = domain
            .delete_dependency(viewer, id, input.expected_version)
            .await?;
        Ok(DeleteDependencyPayload {
            deleted_id: deleted.id,
            upstream_id: deleted.upstream_id,
            downstream_id: deleted.downstream_id,
        })
    }
}
