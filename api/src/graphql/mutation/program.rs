//! Program mutations.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};

use crate::domain::programs::{Budget, NewProgram};
use crate::graphql::{
    context::scope,
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
}

/// The created program.
#[derive(SimpleObject)]
pub struct CreateProgramPayload {
    /// The new program.
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
        input: CreateProgramInput,
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
                    budget: input.budget.map(|b| Budget {
                        amount: b.amount,
                        currency: b.currency,
                    }),
                },
            )
            .await?;
        Ok(CreateProgramPayload {
            program: Program(program),
        })
    }
}
