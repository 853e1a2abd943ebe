//! Root queries, merged by area.

mod governance;
mod node;
mod portfolio;
mod program;
mod team;
mod user;
mod work;

use async_graphql::MergedObject;

/// The root query type.
#[derive(MergedObject, Default)]
pub struct Query(
    user::UserQuery,
    program::ProgramQuery,
    governance::GovernanceQuery,
    team::TeamQuery,
    portfolio::PortfolioQuery,
    work::WorkQuery,
    node::NodeQuery,
);
