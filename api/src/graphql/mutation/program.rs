//! Program mutations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use crate::domain::programs::{NewProgram, ProgramChanges};
use crate::domain::validate::Money;
use crate::graphql::{
    context::{parse_id, patch, scope},
    scalars::Date,
    types::{Program, enums::ProgramStatus, money::MoneyInput},
};

/// A new program; its creator becomes OWNER.
#[derive(InputObject)]
pub struct CreateProgramInput {
    /// Unique key: an uppercase letter then 1–9 uppercase letters or digits.
    pub key: String,
    /// Display name (up to 200 characters).
    pub name: String,
    /// Longer description (up to 20,000 characters).
    pub description: Option<String>,
    /// What the program is meant to achieve.
    pub objective: Option<String>,
    /// Initial status; `PLANNED` when absent.
    pub status: Option<ProgramStatus>,
    /// First day.
    pub start_date: Option<Date>,
    /// Day the program is meant to land; not before `startDate`.
    pub target_date: Option<Date>,
    /// Budget.
    pub budget: Option<MoneyInput>,
    /// What the program is expected to return (benefit, savings, revenue), in the budget's currency.
    pub expected_benefit: Option<MoneyInput>,
    /// IANA time zone in which "today" is taken, e.g. `Asia/Seoul` (default `UTC`).
    pub time_zone: Option<String>,
    /// Days the forecast may run past the target before the computed health is `OFF_TRACK` (0–365, default 14).
    pub off_track_after_days: Option<i32>,
}

/// The created program.
#[derive(SimpleObject)]
pub struct CreateProgramPayload {
    /// The new program.
    pub program: Program,
}

/// Changes to a program (OWNER). Absent fields stay as they are; `null` clears.
#[derive(InputObject)]
pub struct UpdateProgramInput {
    /// The program.
    pub id: ID,
    /// The `version` the change is based on; `CONFLICT` if the program changed since.
    pub expected_version: Option<i32>,
    /// New key.
    pub key: MaybeUndefined<String>,
    /// New name.
    pub name: MaybeUndefined<String>,
    /// New description.
    pub description: MaybeUndefined<String>,
    /// New objective.
    pub objective: MaybeUndefined<String>,
    /// New status.
    pub status: MaybeUndefined<ProgramStatus>,
    /// New start date.
    pub start_date: MaybeUndefined<Date>,
    /// New target date.
    pub target_date: MaybeUndefined<Date>,
    /// New budget, in the currency of the program's other amounts and costs.
    pub budget: MaybeUndefined<MoneyInput>,
    /// New expected benefit, in the budget's currency.
    pub expected_benefit: MaybeUndefined<MoneyInput>,
    /// New IANA time zone, e.g. `Asia/Seoul` (cannot be null).
    pub time_zone: MaybeUndefined<String>,
    /// New off-track threshold in days, 0–365 (cannot be null).
    pub off_track_after_days: MaybeUndefined<i32>,
}

/// The changed program.
#[derive(SimpleObject)]
pub struct UpdateProgramPayload {
    /// The program after the change.
    pub program: Program,
}

/// Archive or restore a program (OWNER).
#[derive(InputObject)]
pub struct ArchiveProgramInput {
    /// The program.
    pub id: ID,
    /// The `version` the change is based on.
    pub expected_version: Option<i32>,
    /// `false` restores an archived program.
    #[graphql(default = true)]
    pub archived: bool,
}

/// The archived (or restored) program.
#[derive(SimpleObject)]
pub struct ArchiveProgramPayload {
    /// The program after the change.
    pub program: Program,
}

/// Program mutations.
#[derive(Default)]
pub struct ProgramMutation;

#[Object]
impl ProgramMutation {
    /// Create a program; the caller becomes its OWNER.
    async fn create_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: CreateProgramInput,
    ) -> Result<CreateProgramPayload> {
        let (domain, viewer) = scope(ctx)?;
        let program = domain
            .create_program(
                viewer,
                NewProgram {
                    key: input.key,
                    name: input.name,
                    description: input.description,
                    objective: input.objective,
                    status: input.status.map(Into::into),
                    start_date: input.start_date.map(Into::into),
                    target_date: input.target_date.map(Into::into),
                    budget: input.budget.map(Into::into),
                    expected_benefit: input.expected_benefit.map(Into::into),
                    time_zone: input.time_zone,
                    off_track_after_days: input.off_track_after_days,
                },
            )
            .await?;
        Ok(CreateProgramPayload {
            program: Program(program),
        })
    }

    /// Change a program's fields (OWNER).
    async fn update_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: UpdateProgramInput,
    ) -> Result<UpdateProgramPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let program = domain
            .update_program(
                viewer,
                id,
                input.expected_version,
                ProgramChanges {
                    key: patch(input.key),
                    name: patch(input.name),
                    description: patch(input.description),
                    objective: patch(input.objective),
                    status: patch(input.status),
                    start_date: patch(input.start_date),
                    target_date: patch(input.target_date),
                    budget: patch(input.budget.map_value(Money::from)),
                    expected_benefit: patch(input.expected_benefit.map_value(Money::from)),
                    time_zone: patch(input.time_zone),
                    off_track_after_days: patch(input.off_track_after_days),
                },
            )
            .await?;
        Ok(UpdateProgramPayload {
            program: Program(program),
        })
    }

    /// Archive a program, hiding it from lists unless `includeArchived: true` (OWNER).
    async fn archive_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: ArchiveProgramInput,
    ) -> Result<ArchiveProgramPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let program = domain
            .archive_program(viewer, id, input.expected_version, input.archived)
            .await?;
        Ok(ArchiveProgramPayload {
            program: Program(program),
        })
    }
}
