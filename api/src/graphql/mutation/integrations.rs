//! Integration mutations: what scripts and other tools use — finding a
//! workstream by external id (`upsertWorkstream`), webhooks (create, change,
//! delete, redeliver) and importing a program's plan.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use crate::domain::{
    patch::Patch,
    transfer::Counts,
    webhooks::{NewWebhook, WebhookChanges},
    workstreams::WorkstreamChanges,
};
use crate::graphql::context::{parse_id, patch, patch_id, scope};
use crate::graphql::scalars::Date;
use crate::graphql::types::{
    Program, Webhook, WebhookDelivery, Workstream,
    enums::{Health, PlanFormat, Priority},
    link::{LinkInput, links_from},
    workstream::WorkstreamStatus,
};
use crate::graphql::work::Text;

/// Create or change the workstream of a program with an external id (OWNER
/// or EDITOR): the way a sync script keeps "its" workstreams. Absent fields
/// of an existing workstream stay as they are; a new one needs `name`.
#[derive(InputObject)]
pub struct UpsertWorkstreamInput {
    /// The program.
    pub program_id: ID,
    /// The workstream's id in the other tool (up to 200 characters): the one it is found by.
    pub external_id: String,
    /// For an existing workstream, the `version` the change is based on; `CONFLICT` if it changed since.
    pub expected_version: Option<i32>,
    /// Name; required when the workstream is new.
    pub name: MaybeUndefined<String>,
    /// Description.
    pub description: MaybeUndefined<String>,
    /// Team doing the work.
    pub team_id: MaybeUndefined<ID>,
    /// Lead.
    pub lead_id: MaybeUndefined<ID>,
    /// Status.
    pub status: MaybeUndefined<WorkstreamStatus>,
    /// Health.
    pub health: MaybeUndefined<Health>,
    /// Planned first day.
    pub start_date: MaybeUndefined<Date>,
    /// Planned last day; not before the start date.
    pub target_date: MaybeUndefined<Date>,
    /// Percent complete, 0–100.
    pub progress: MaybeUndefined<i32>,
    /// Day work actually started.
    pub started_on: MaybeUndefined<Date>,
    /// Day work actually finished.
    pub finished_on: MaybeUndefined<Date>,
    /// Links, replacing all of them; `null` removes them.
    pub links: MaybeUndefined<Vec<LinkInput>>,
    /// Priority; `P2` for a new workstream when absent.
    pub priority: MaybeUndefined<Priority>,
    /// Estimated work in person-days (0 to 100,000, fractions allowed); `null` removes the estimate.
    pub effort_days: MaybeUndefined<f64>,
}

/// The workstream after an upsert.
#[derive(SimpleObject)]
pub struct UpsertWorkstreamPayload {
    /// The workstream, created or changed.
    pub workstream: Workstream,
    /// Whether it was created (no workstream of the program had the external id).
    pub created: bool,
}

/// A new webhook of a program (OWNER).
#[derive(InputObject)]
pub struct CreateWebhookInput {
    /// The program whose changes it receives.
    pub program_id: ID,
    /// Where deliveries are posted: an `http` or `https` URL, not a loopback, private or link-local address (unless the server allows it).
    pub url: String,
    /// The history actions to deliver: `workstream.create`, `risk.*` (every action on risks) or `*` (everything); at most 50.
    pub events: Vec<String>,
    /// What it is for (up to 20,000 characters).
    pub description: Option<String>,
}

/// The created webhook and its signing secret.
#[derive(SimpleObject)]
pub struct CreateWebhookPayload {
    /// The new webhook.
    pub webhook: Webhook,
    /// The secret that signs every delivery (`Trestle-Signature`); shown this once.
    pub secret: Text<String>,
}

/// Changes to a webhook (OWNER). Absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateWebhookInput {
    /// The webhook.
    pub id: ID,
    /// The `version` the change is based on; `CONFLICT` if the webhook changed since.
    pub expected_version: Option<i32>,
    /// New target URL.
    pub url: MaybeUndefined<String>,
    /// New event patterns.
    pub events: MaybeUndefined<Vec<String>>,
    /// New description; `null` clears it.
    pub description: MaybeUndefined<String>,
    /// `false` pauses deliveries, `true` resumes them.
    pub active: MaybeUndefined<bool>,
}

/// The changed webhook.
#[derive(SimpleObject)]
pub struct UpdateWebhookPayload {
    /// The webhook after the change.
    pub webhook: Webhook,
}

/// Delete a webhook and the record of its deliveries (OWNER).
#[derive(InputObject)]
pub struct DeleteWebhookInput {
    /// The webhook.
    pub id: ID,
    /// The `version` the deletion is based on; `CONFLICT` if the webhook changed since.
    pub expected_version: Option<i32>,
}

/// What `deleteWebhook` removed.
#[derive(SimpleObject)]
pub struct DeleteWebhookPayload {
    /// Id of the deleted webhook.
    pub deleted_webhook_id: ID,
}

/// Send a delivery again (OWNER).
#[derive(InputObject)]
pub struct RedeliverWebhookInput {
    /// The delivery to send again; a new delivery of the same change is made.
    pub delivery_id: ID,
}

/// The new delivery.
#[derive(SimpleObject)]
pub struct RedeliverWebhookPayload {
    /// The delivery made, pending until it is sent.
    pub delivery: WebhookDelivery,
}

/// A plan to bring into a program (OWNER or EDITOR).
#[derive(InputObject)]
pub struct ImportProgramInput {
    /// The program.
    pub program_id: ID,
    /// How `data` is written.
    pub format: PlanFormat,
    /// The file's text, as `Program.export` writes it.
    pub data: String,
    /// Check everything and write nothing.
    #[graphql(default)]
    pub dry_run: bool,
}

/// Rows of each kind.
#[derive(SimpleObject)]
pub struct ImportCounts {
    /// Workstreams.
    pub workstreams: i32,
    /// Milestones.
    pub milestones: i32,
    /// Dependencies.
    pub dependencies: i32,
    /// Risks.
    pub risks: i32,
}

impl From<Counts> for ImportCounts {
    fn from(counts: Counts) -> Self {
        let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        Self {
            workstreams: count(counts.workstreams),
            milestones: count(counts.milestones),
            dependencies: count(counts.dependencies),
            risks: count(counts.risks),
        }
    }
}

/// What an import did; with `dryRun`, what it would do.
#[derive(SimpleObject)]
pub struct ImportProgramPayload {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Rows created.
    pub created: ImportCounts,
    /// Rows matched (by external id; a milestone by workstream and name; a dependency without one by its ends) and changed to what the file says.
    pub updated: ImportCounts,
    /// The program.
    pub program: Program,
}

/// Integration mutations.
#[derive(Default)]
pub struct IntegrationsMutation;

/// Integration mutations.
#[Object]
impl IntegrationsMutation {
    /// Create or change the workstream with an external id (OWNER or EDITOR).
    async fn upsert_workstream(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: UpsertWorkstreamInput,
    ) -> Result<UpsertWorkstreamPayload> {
        let (domain, viewer) = scope(ctx)?;
        let (workstream, created) = domain
            .upsert_workstream(
                viewer,
                parse_id("input.programId", &input.program_id)?,
                input.external_id,
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
                    external_id: Patch::Keep,
                    links: patch(input.links).map(links_from),
                    priority: patch(input.priority),
                    effort_days: patch(input.effort_days),
                },
            )
            .await?;
        Ok(UpsertWorkstreamPayload {
            workstream: Workstream(workstream),
            created,
        })
    }

    /// Bring a plan into a program (OWNER or EDITOR): all of it or nothing; every bad row is reported at once in `extensions.errors` (`row`, `field`, `message`).
    async fn import_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: ImportProgramInput,
    ) -> Result<ImportProgramPayload> {
        let (domain, viewer) = scope(ctx)?;
        let program_id = parse_id("input.programId", &input.program_id)?;
        let summary = domain
            .import_program(
                viewer,
                program_id,
                input.format.into(),
                &input.data,
                input.dry_run,
            )
            .await?;
        let program = crate::graphql::context::loaders(ctx)?
            .programs
            .load_one(program_id)
            .await?
            .ok_or(crate::error::ApiError::NotFound(
                crate::i18n::Message::NotFound,
            ))?;
        Ok(ImportProgramPayload {
            dry_run: input.dry_run,
            created: summary.created.into(),
            updated: summary.updated.into(),
            program: Program(program),
        })
    }

    /// Create a webhook of a program (OWNER); the payload holds its signing secret, shown this once.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: CreateWebhookInput,
    ) -> Result<CreateWebhookPayload> {
        let (domain, viewer) = scope(ctx)?;
        let (webhook, secret) = domain
            .create_webhook(
                viewer,
                NewWebhook {
                    program_id: parse_id("input.programId", &input.program_id)?,
                    url: input.url,
                    events: input.events,
                    description: input.description,
                },
            )
            .await?;
        Ok(CreateWebhookPayload {
            webhook: Webhook(webhook),
            secret: Text(secret),
        })
    }

    /// Change a webhook's target, events or description, or pause it (OWNER).
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: UpdateWebhookInput,
    ) -> Result<UpdateWebhookPayload> {
        let (domain, viewer) = scope(ctx)?;
        let webhook = domain
            .update_webhook(
                viewer,
                parse_id("input.id", &input.id)?,
                input.expected_version,
                WebhookChanges {
                    url: patch(input.url),
                    events: patch(input.events),
                    description: patch(input.description),
                    active: patch(input.active),
                },
            )
            .await?;
        Ok(UpdateWebhookPayload {
            webhook: Webhook(webhook),
        })
    }

    /// Delete a webhook (OWNER).
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: DeleteWebhookInput,
    ) -> Result<DeleteWebhookPayload> {
        let (domain, viewer) = scope(ctx)?;
        let deleted = domain
            .delete_webhook(
                viewer,
                parse_id("input.id", &input.id)?,
                input.expected_version,
            )
            .await?;
        Ok(DeleteWebhookPayload {
            deleted_webhook_id: ID(deleted.id.to_string()),
        })
    }

    /// Send a delivery again as a new delivery of the same change (OWNER).
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: RedeliverWebhookInput,
    ) -> Result<RedeliverWebhookPayload> {
        let (domain, viewer) = scope(ctx)?;
        let delivery = domain
            .redeliver_webhook(viewer, parse_id("input.deliveryId", &input.delivery_id)?)
            .await?;
        Ok(RedeliverWebhookPayload {
            delivery: WebhookDelivery(delivery),
        })
    }
}
