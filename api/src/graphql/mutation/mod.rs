//! Root mutations, merged by area. Each takes one `input` and returns a payload.

mod account;
mod auth;
mod conversation;
mod costs;
mod goals;
mod governance;
mod integrations;
mod member;
mod portfolio;
mod program;
mod team;
mod users;
mod work;

use async_graphql::MergedObject;

/// The root mutation type.
#[derive(MergedObject, Default)]
pub struct Mutation(
    auth::AuthMutation,
    account::AccountMutation,
    users::UsersMutation,
    conversation::ConversationMutation,
    member::MemberMutation,
    program::ProgramMutation,
    governance::GovernanceMutation,
    costs::CostMutation,
    portfolio::PortfolioMutation,
    goals::GoalMutation,
    integrations::IntegrationsMutation,
    team::TeamMutation,
    work::WorkMutation,
);
