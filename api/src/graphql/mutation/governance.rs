//! Governance mutations: decisions, risks, status updates and baselines.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use crate::domain::{
    baselines::NewBaseline,
    decisions::{DecisionChanges, NewDecision, NewDecisionOption, Verdict},
    risks::{NewRisk, RiskChanges},
    status_updates::{NewStatusUpdate, Translation},
};
use crate::graphql::{
    context::{parse_id, parse_optional_id, patch, patch_id, scope},
    scalars::Date,
    types::{
        Baseline, Decision, Program, Risk, StatusUpdate,
        decision::DecisionStatus,
        enums::{Health, Locale},
        link::{LinkInput, links_from},
        risk::RiskStatus,
    },
};

/// One alternative weighed for a decision.
#[derive(InputObject)]
pub struct DecisionOptionInput {
    /// Short name of the alternative (up to 200 characters).
    pub title: String,
    /// Arguments for it (up to 20,000 characters).
    pub pros: Option<String>,
    /// Arguments against it (up to 20,000 characters).
    pub cons: Option<String>,
}

fn options(input: Vec<DecisionOptionInput>) -> Vec<NewDecisionOption> {
    input
        .into_iter()
        .map(|o| NewDecisionOption {
            title: o.title,
            pros: o.pros,
            cons: o.cons,
        })
        .collect()
}

/// A new decision; it starts PROPOSED.
#[derive(InputObject)]
pub struct CreateDecisionInput {
    /// The program the decision belongs to.
    pub program_id: ID,
    /// What is being decided (up to 200 characters).
    pub title: String,
    /// Background that calls for the decision (up to 20,000 characters).
    pub context: Option<String>,
    /// The alternatives weighed, in display order (at most 20).
    #[graphql(default)]
    pub options: Vec<DecisionOptionInput>,
    /// Day by which the decision is needed.
    pub due_date: Option<Date>,
    /// An ACCEPTED decision of the same program that this one replaces once it is accepted.
    pub supersedes_id: Option<ID>,
}

/// The proposed decision.
#[derive(SimpleObject)]
pub struct CreateDecisionPayload {
    /// The new decision.
    pub decision: Decision,
}

/// Changes to a decision. Absent fields stay as they are; `null` clears.
#[derive(InputObject)]
pub struct UpdateDecisionInput {
    /// The decision.
    pub id: ID,
    /// The `version` the change is based on; `CONFLICT` if the decision changed since.
    pub expected_version: Option<i32>,
    /// New title.
    pub title: MaybeUndefined<String>,
    /// New context.
    pub context: MaybeUndefined<String>,
    /// A new list of alternatives replacing the old one (`null` empties it).
    pub options: MaybeUndefined<Vec<DecisionOptionInput>>,
    /// New consequences.
    pub consequences: MaybeUndefined<String>,
    /// New due date.
    pub due_date: MaybeUndefined<Date>,
}

/// The changed decision.
#[derive(SimpleObject)]
pub struct UpdateDecisionPayload {
    /// The decision after the change.
    pub decision: Decision,
}

/// Accept or reject a PROPOSED decision; deciding one that is no longer PROPOSED is `CONFLICT`.
#[derive(InputObject)]
pub struct DecideDecisionInput {
    /// The decision.
    pub id: ID,
    /// The `version` the verdict is based on; `CONFLICT` if the decision changed since.
    pub expected_version: Option<i32>,
    /// `ACCEPTED` or `REJECTED`.
    pub status: DecisionStatus,
    /// What was decided.
    pub outcome: Option<String>,
    /// Why it was decided that way.
    pub rationale: Option<String>,
}

/// The decided decision and what it replaced.
#[derive(SimpleObject)]
pub struct DecideDecisionPayload {
    /// The decision, now ACCEPTED or REJECTED.
    pub decision: Decision,
    /// Decisions this one replaced, now SUPERSEDED (empty unless it was accepted and supersedes one).
    pub superseded: Vec<Decision>,
}

/// A new risk.
#[derive(InputObject)]
pub struct CreateRiskInput {
    /// The program the risk threatens.
    pub program_id: ID,
    /// Short name (up to 200 characters).
    pub title: String,
    /// Longer description (up to 20,000 characters).
    pub description: Option<String>,
    /// How likely it is to happen, from 1 to 5.
    pub likelihood: i32,
    /// How badly it would hurt, from 1 to 5.
    pub impact: i32,
    /// Initial status; `OPEN` when absent.
    pub status: Option<RiskStatus>,
    /// The plan to reduce it (up to 20,000 characters).
    pub mitigation: Option<String>,
    /// The user who handles it.
    pub owner_id: Option<ID>,
    /// A workstream of the same program that it threatens.
    pub workstream_id: Option<ID>,
    /// A dependency of the same program that it threatens.
    pub dependency_id: Option<ID>,
    /// Its id in another tool (up to 200 characters), unique in the program.
    pub external_id: Option<String>,
    /// Where it is tracked in other tools (at most 20).
    pub links: Option<Vec<LinkInput>>,
}

/// The recorded risk.
#[derive(SimpleObject)]
pub struct CreateRiskPayload {
    /// The new risk.
    pub risk: Risk,
}

/// Changes to a risk. Absent fields stay as they are; `null` clears.
#[derive(InputObject)]
pub struct UpdateRiskInput {
    /// The risk.
    pub id: ID,
    /// The `version` the change is based on; `CONFLICT` if the risk changed since.
    pub expected_version: Option<i32>,
    /// New title.
    pub title: MaybeUndefined<String>,
    /// New description.
    pub description: MaybeUndefined<String>,
    /// New likelihood, from 1 to 5.
    pub likelihood: MaybeUndefined<i32>,
    /// New impact, from 1 to 5.
    pub impact: MaybeUndefined<i32>,
    /// New status.
    pub status: MaybeUndefined<RiskStatus>,
    /// New mitigation plan.
    pub mitigation: MaybeUndefined<String>,
    /// New owner.
    pub owner_id: MaybeUndefined<ID>,
    /// New threatened workstream (same program).
    pub workstream_id: MaybeUndefined<ID>,
    /// New threatened dependency (same program).
    pub dependency_id: MaybeUndefined<ID>,
    /// New id in another tool, unique in the program; `null` removes it.
    pub external_id: MaybeUndefined<String>,
    /// New links, replacing all of them; `null` removes them.
    pub links: MaybeUndefined<Vec<LinkInput>>,
}

/// The changed risk.
#[derive(SimpleObject)]
pub struct UpdateRiskPayload {
    /// The risk after the change.
    pub risk: Risk,
}

/// Delete a risk.
#[derive(InputObject)]
pub struct DeleteRiskInput {
    /// The risk.
    pub id: ID,
    /// The `version` the deletion is based on; `CONFLICT` if the risk changed since.
    pub expected_version: Option<i32>,
}

/// What was deleted.
#[derive(SimpleObject)]
pub struct DeleteRiskPayload {
    /// The id of the deleted risk.
    pub deleted_risk_id: ID,
}

/// A new status update; the program's health becomes its health.
#[derive(InputObject)]
pub struct PostStatusUpdateInput {
    /// The program reported on.
    pub program_id: ID,
    /// The program's health as of now.
    pub health: Health,
    /// What happened and what comes next (up to 20,000 characters).
    pub summary: String,
    /// The summary in other languages, at most one per language; readers of
    /// that language see it in place of the summary.
    pub translations: Option<Vec<StatusUpdateTranslationInput>>,
}

/// A status update's summary in one language.
#[derive(InputObject)]
pub struct StatusUpdateTranslationInput {
    /// The language it is written in.
    pub locale: Locale,
    /// The summary in that language (up to 20,000 characters).
    pub summary: String,
}

/// The posted update and the program it changed.
#[derive(SimpleObject)]
pub struct PostStatusUpdatePayload {
    /// The new status update.
    pub status_update: StatusUpdate,
    /// The program, its health set by the update.
    pub program: Program,
}

/// A new baseline of a program's planned and forecast dates.
#[derive(InputObject)]
pub struct CaptureBaselineInput {
    /// The program captured.
    pub program_id: ID,
    /// What to call it, such as "Kickoff" (up to 200 characters).
    pub name: String,
}

/// The captured baseline.
#[derive(SimpleObject)]
pub struct CaptureBaselinePayload {
    /// The new baseline.
    pub baseline: Baseline,
}

/// Decision, risk, status-update and baseline mutations (OWNER, EDITOR).
#[derive(Default)]
pub struct GovernanceMutation;

#[Object]
impl GovernanceMutation {
    /// Propose a decision; it starts PROPOSED.
    async fn create_decision(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: CreateDecisionInput,
    ) -> Result<CreateDecisionPayload> {
        let (domain, viewer) = scope(ctx)?;
        let program_id = parse_id("input.programId", &input.program_id)?;
        let supersedes_id = parse_optional_id("input.supersedesId", input.supersedes_id.as_ref())?;
        let decision = domain
            .create_decision(
                viewer,
                NewDecision {
                    program_id,
                    title: input.title,
                    context: input.context,
                    options: options(input.options),
                    due_date: input.due_date.map(Into::into),
                    supersedes_id,
                },
            )
            .await?;
        Ok(CreateDecisionPayload {
            decision: Decision(decision),
        })
    }

    /// Change a decision's title, context, options, consequences or due date.
    async fn update_decision(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: UpdateDecisionInput,
    ) -> Result<UpdateDecisionPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let decision = domain
            .update_decision(
                viewer,
                id,
                input.expected_version,
                DecisionChanges {
                    title: patch(input.title),
                    context: patch(input.context),
                    options: patch(input.options.map_value(options)),
                    consequences: patch(input.consequences),
                    due_date: patch(input.due_date),
                },
            )
            .await?;
        Ok(UpdateDecisionPayload {
            decision: Decision(decision),
        })
    }

    /// Accept or reject a PROPOSED decision, recording the caller and the time.
    async fn decide_decision(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: DecideDecisionInput,
    ) -> Result<DecideDecisionPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let (decision, superseded) = domain
            .decide_decision(
                viewer,
                id,
                input.expected_version,
                Verdict {
                    status: input.status.into(),
                    outcome: input.outcome,
                    rationale: input.rationale,
                },
            )
            .await?;
        Ok(DecideDecisionPayload {
            decision: Decision(decision),
            superseded: superseded.into_iter().map(Decision).collect(),
        })
    }

    /// Record a risk; its score is likelihood × impact.
    async fn create_risk(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: CreateRiskInput,
    ) -> Result<CreateRiskPayload> {
        let (domain, viewer) = scope(ctx)?;
        let risk = domain
            .create_risk(
                viewer,
                NewRisk {
                    program_id: parse_id("input.programId", &input.program_id)?,
                    title: input.title,
                    description: input.description,
                    likelihood: input.likelihood,
                    impact: input.impact,
                    status: input.status.map(Into::into),
                    mitigation: input.mitigation,
                    owner_id: parse_optional_id("input.ownerId", input.owner_id.as_ref())?,
                    workstream_id: parse_optional_id(
                        "input.workstreamId",
                        input.workstream_id.as_ref(),
                    )?,
                    dependency_id: parse_optional_id(
                        "input.dependencyId",
                        input.dependency_id.as_ref(),
                    )?,
                    external_id: input.external_id,
                    links: input.links.map(links_from),
                },
            )
            .await?;
        Ok(CreateRiskPayload { risk: Risk(risk) })
    }

    /// Change a risk; its score follows likelihood and impact.
    async fn update_risk(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: UpdateRiskInput,
    ) -> Result<UpdateRiskPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let risk = domain
            .update_risk(
                viewer,
                id,
                input.expected_version,
                RiskChanges {
                    title: patch(input.title),
                    description: patch(input.description),
                    likelihood: patch(input.likelihood),
                    impact: patch(input.impact),
                    status: patch(input.status),
                    mitigation: patch(input.mitigation),
                    owner_id: patch_id("input.ownerId", input.owner_id)?,
                    workstream_id: patch_id("input.workstreamId", input.workstream_id)?,
                    dependency_id: patch_id("input.dependencyId", input.dependency_id)?,
                    external_id: patch(input.external_id),
                    links: patch(input.links).map(links_from),
                },
            )
            .await?;
        Ok(UpdateRiskPayload { risk: Risk(risk) })
    }

    /// Delete a risk.
    async fn delete_risk(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: DeleteRiskInput,
    ) -> Result<DeleteRiskPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let deleted = domain
            .delete_risk(viewer, id, input.expected_version)
            .await?;
        Ok(DeleteRiskPayload {
            deleted_risk_id: ID(deleted.to_string()),
        })
    }

    /// Post a status update and set the program's health to it; updates cannot be changed later.
    async fn post_status_update(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: PostStatusUpdateInput,
    ) -> Result<PostStatusUpdatePayload> {
        let (domain, viewer) = scope(ctx)?;
        let (status_update, program) = domain
            .post_status_update(
                viewer,
                NewStatusUpdate {
                    program_id: parse_id("input.programId", &input.program_id)?,
                    health: input.health.into(),
                    summary: input.summary,
                    translations: input
                        .translations
                        .unwrap_or_default()
                        .into_iter()
                        .map(|t| Translation {
                            locale: t.locale.into(),
                            summary: t.summary,
                        })
                        .collect(),
                },
            )
            .await?;
        Ok(PostStatusUpdatePayload {
            status_update: StatusUpdate(status_update),
            program: Program(program),
        })
    }

    /// Capture a baseline: every workstream's and milestone's planned and
    /// forecast dates as they stand now, kept unchanged to measure later
    /// forecasts against.
    async fn capture_baseline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")]
        input: CaptureBaselineInput,
    ) -> Result<CaptureBaselinePayload> {
        let (domain, viewer) = scope(ctx)?;
        let baseline = domain
            .capture_baseline(
                viewer,
                NewBaseline {
                    program_id: parse_id("input.programId", &input.program_id)?,
                    name: input.name,
                },
            )
            .await?;
        Ok(CaptureBaselinePayload {
            baseline: Baseline(baseline),
        })
    }
}
