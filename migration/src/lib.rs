//! Database migrations for Trestle, written with sea-query builders so they run
//! on both SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_users;
mod m20261125_000002_create_api_tokens;
mod m20261125_000003_create_settings;
mod m20261125_000004_create_teams;
mod m20261125_000005_create_programs;
mod m20261125_000006_create_program_members;
mod m20261125_000007_create_workstreams;
mod m20261125_000008_create_milestones;
mod m20261125_000009_create_dependencies;
mod m20261125_000010_create_decisions;
mod m20261125_000011_create_decision_options;
mod m20261125_000012_create_risks;
mod m20261125_000013_create_status_updates;
mod m20261125_000014_create_audit_events;
mod m20261130_000015_add_program_scope_columns;
mod m20261201_000016_forecast_from_reality;
mod m20261202_000017_commitments_and_conversation;
mod m20261203_000018_sessions_and_deactivation;
mod m20261204_000019_integrations;
mod m20261205_000020_shared_limits;
mod m20261206_000021_priorities_and_capacity;
mod m20261206_000022_costs;
mod m20261206_000023_portfolios;
mod m20261206_000024_goals;

/// Runs Trestle's schema migrations in dependency order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users::Migration),
            Box::new(m20261125_000002_create_api_tokens::Migration),
            Box::new(m20261125_000003_create_settings::Migration),
            Box::new(m20261125_000004_create_teams::Migration),
            Box::new(m20261125_000005_create_programs::Migration),
            Box::new(m20261125_000006_create_program_members::Migration),
            Box::new(m20261125_000007_create_workstreams::Migration),
            Box::new(m20261125_000008_create_milestones::Migration),
            Box::new(m20261125_000009_create_dependencies::Migration),
            Box::new(m20261125_000010_create_decisions::Migration),
            Box::new(m20261125_000011_create_decision_options::Migration),
            Box::new(m20261125_000012_create_risks::Migration),
            Box::new(m20261125_000013_create_status_updates::Migration),
            Box::new(m20261125_000014_create_audit_events::Migration),
            Box::new(m20261130_000015_add_program_scope_columns::Migration),
            Box::new(m20261201_000016_forecast_from_reality::Migration),
            Box::new(m20261202_000017_commitments_and_conversation::Migration),
            Box::new(m20261203_000018_sessions_and_deactivation::Migration),
            Box::new(m20261204_000019_integrations::Migration),
            Box::new(m20261205_000020_shared_limits::Migration),
            Box::new(m20261206_000021_priorities_and_capacity::Migration),
            Box::new(m20261206_000022_costs::Migration),
            Box::new(m20261206_000023_portfolios::Migration),
            Box::new(m20261206_000024_goals::Migration),
        ]
    }
}
