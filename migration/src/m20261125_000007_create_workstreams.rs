//! Creates the `workstreams` table (workstreams) and its indexes.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;
use super::m20261125_000004_create_teams::Teams;
use super::m20261125_000005_create_programs::Programs;

/// Migration that creates the `workstreams` table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workstreams::Table)
                    .col(
                        ColumnDef::new(Workstreams::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Workstreams::ProgramId).uuid().not_null())
                    .col(ColumnDef::new(Workstreams::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Workstreams::Description).text().null())
                    .col(ColumnDef::new(Workstreams::TeamId).uuid().null())
                    .col(ColumnDef::new(Workstreams::LeadId).uuid().null())
                    .col(
                        ColumnDef::new(Workstreams::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Workstreams::Health)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Workstreams::StartDate).date().null())
                    .col(ColumnDef::new(Workstreams::TargetDate).date().null())
                    .col(ColumnDef::new(Workstreams::Progress).integer().not_null())
                    .col(
                        ColumnDef::new(Workstreams::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Workstreams::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Workstreams::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Check::named(
                        "ck_workstreams_progress",
                        Expr::col(Workstreams::Progress).between(0, 100),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workstreams_program_id")
                            .from(Workstreams::Table, Workstreams::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workstreams_team_id")
                            .from(Workstreams::Table, Workstreams::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workstreams_lead_id")
                            .from(Workstreams::Table, Workstreams::LeadId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_workstreams_program_id")
                    .table(Workstreams::Table)
                    .col(Workstreams::ProgramId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_workstreams_team_id")
                    .table(Workstreams::Table)
                    .col(Workstreams::TeamId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_workstreams_lead_id")
                    .table(Workstreams::Table)
                    .col(Workstreams::LeadId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Workstreams::Table).to_owned())
            .await
    }
}

/// Identifiers of the `workstreams` table and its columns.
#[derive(DeriveIden)]
pub enum Workstreams {
    /// The `workstreams` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `program_id` column.
    ProgramId,
    /// The `name` column.
    Name,
    /// The `description` column.
    Description,
    /// The `team_id` column.
    TeamId,
    /// The `lead_id` column.
    LeadId,
    /// The `status` column.
    Status,
    /// The `health` column.
    Health,
    /// The `start_date` column.
    StartDate,
    /// The `target_date` column.
    TargetDate,
    /// The `progress` column.
    Progress,
    /// The `version` column.
    Version,
    /// The `created_at` column.
    CreatedAt,
    /// The `updated_at` column.
    UpdatedAt,
    /// The `started_on` column (added by the forecast migration).
    StartedOn,
    /// The `finished_on` column (added by the forecast migration).
    FinishedOn,
}
