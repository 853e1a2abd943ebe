//! Team mutations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use crate::domain::teams::{NewTeam, TeamChanges};
use crate::graphql::{
    context::{parse_id, patch, scope},
    types::Team,
};

/// A new team; any signed-in user may create one.
#[derive(InputObject)]
pub struct CreateTeamInput {
    /// Unique name, ignoring case (up to 200 characters).
    pub name: String,
    /// Longer description (up to 20,000 characters).
    pub description: Option<String>,
    /// Person-days of work the team can do in a week (0 to 10,000, fractions allowed).
    pub capacity_days_per_week: Option<f64>,
}

/// The created team.
#[derive(SimpleObject)]
pub struct CreateTeamPayload {
    /// The new team.
    pub team: Team,
}

/// Changes to a team (its creator or an ADMIN). Absent fields stay as they are; `null` clears.
#[derive(InputObject)]
pub struct UpdateTeamInput {
    /// The team.
    pub id: ID,
    /// The `version` the change is based on; `CONFLICT` if the team changed since.
    pub expected_version: Option<i32>,
    /// New unique name.
    pub name: MaybeUndefined<String>,
    /// New description.
    pub description: MaybeUndefined<String>,
    /// New weekly capacity in person-days (0 to 10,000, fractions allowed); `null` removes it.
    pub capacity_days_per_week: MaybeUndefined<f64>,
}

/// The changed team.
#[derive(SimpleObject)]
pub struct UpdateTeamPayload {
    /// The team after the change.
    pub team: Team,
}

/// Team mutations.
#[derive(Default)]
pub struct TeamMutation;

#[Object]
impl TeamMutation {
    /// Create a team.
    async fn create_team(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: CreateTeamInput,
    ) -> Result<CreateTeamPayload> {
        let (domain, viewer) = scope(ctx)?;
        let team = domain
            .create_team(
                viewer,
                NewTeam {
                    name: input.name,
                    description: input.description,
                    capacity_days_per_week: input.capacity_days_per_week,
                },
            )
            .await?;
        Ok(CreateTeamPayload { team: Team(team) })
    }

    /// Change a team's name, description or capacity (its creator or an ADMIN).
    async fn update_team(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's fields (see the input type).")] input: UpdateTeamInput,
    ) -> Result<UpdateTeamPayload> {
        let (domain, viewer) = scope(ctx)?;
        let id = parse_id("input.id", &input.id)?;
        let team = domain
            .update_team(
                viewer,
                id,
                input.expected_version,
                TeamChanges {
                    name: patch(input.name),
                    description: patch(input.description),
                    capacity_days_per_week: patch(input.capacity_days_per_week),
                },
            )
            .await?;
        Ok(UpdateTeamPayload { team: Team(team) })
    }
}
