//! Cost mutations: money spent on a program.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use crate::domain::costs::NewCost;
use crate::graphql::{
    context::{parse_id, parse_optional_id, scope},
    scalars::Date,
    types::{Cost, money::MoneyInput},
};

/// Money spent on a program (OWNER or EDITOR), in the program's currency.
#[derive(InputObject)]
pub struct RecordCostInput {
    /// The program the money was spent on.
    pub program_id: ID,
    /// The workstream of that program it was spent on, if any.
    pub workstream_id: Option<ID>,
    /// How much: zero or more, in the currency of the program's budget (or of
    /// its expected benefit, or of the costs already recorded).
    pub amount: MoneyInput,
    /// The day it was incurred.
    pub incurred_on: Date,
    /// What kind of cost, e.g. `people`, `licences`, `cloud` (up to 200 characters).
    pub category: String,
    /// What it was for (up to 20,000 characters).
    pub description: Option<String>,
}

/// The recorded cost.
#[derive(SimpleObject)]
pub struct RecordCostPayload {
    /// The new cost; the program's `spend` includes it.
    pub cost: Cost,
}

/// Delete a cost recorded by mistake.
#[derive(InputObject)]
pub struct DeleteCostInput {
    /// The cost.
    pub id: ID,
}

/// What was deleted.
#[derive(SimpleObject)]
pub struct DeleteCostPayload {
    /// The id of the deleted cost; the program's `spend` no longer counts it.
    pub deleted_cost_id: ID,
}

/// Cost mutations.
#[derive(Default)]
pub struct CostMutation;

#[Object]
impl CostMutation {
    /// Record money spent on a program (OWNER or EDITOR); a cost is not changed
    /// later, but one recorded by mistake is deleted with `deleteCost`.
    async fn record_cost(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: RecordCostInput,
    ) -> Result<RecordCostPayload> {
        let (domain, viewer) = scope(ctx)?;
        let cost = domain
            .record_cost(
                viewer,
                NewCost {
                    program_id: parse_id("input.programId", &input.program_id)?,
                    workstream_id: parse_optional_id(
                        "input.workstreamId",
                        input.workstream_id.as_ref(),
                    )?,
                    amount: input.amount.into(),
                    incurred_on: input.incurred_on.into(),
                    category: input.category,
                    description: input.description,
                },
            )
            .await?;
        Ok(RecordCostPayload { cost: Cost(cost) })
    }

    /// Delete a cost recorded by mistake (OWNER or EDITOR of its program).
    async fn delete_cost(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: DeleteCostInput,
    ) -> Result<DeleteCostPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = domain
            .delete_cost(viewer, parse_id("input.id", &input.id)?)
            .await?;
        Ok(DeleteCostPayload {
            deleted_cost_id: ID(id.to_string()),
        })
    }
}
