//! Goals: measurable outcomes a portfolio or its programs pursue
//! (`goals`), the programs each serves (`goal_programs`) and every value
//! recorded for it (`goal_values`).

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;
use super::m20261125_000005_create_programs::Programs;
use super::m20261206_000023_portfolios::Portfolios;

/// Migration that adds goals.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Goals::Table)
                    .col(ColumnDef::new(Goals::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Goals::Title).string_len(200).not_null())
                    .col(ColumnDef::new(Goals::Metric).string_len(200).not_null())
                    .col(ColumnDef::new(Goals::Unit).string_len(50).not_null())
                    .col(ColumnDef::new(Goals::BaselineValue).double().not_null())
                    .col(ColumnDef::new(Goals::TargetValue).double().not_null())
                    .col(ColumnDef::new(Goals::CurrentValue).double().not_null())
                    .col(ColumnDef::new(Goals::TargetDate).date().null())
                    .col(ColumnDef::new(Goals::OwnerId).uuid().not_null())
                    .col(ColumnDef::new(Goals::PortfolioId).uuid().null())
                    .col(ColumnDef::new(Goals::Version).integer().not_null())
                    .col(
                        ColumnDef::new(Goals::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Goals::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_goals_owner_id")
                            .from(Goals::Table, Goals::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_goals_portfolio_id")
                            .from(Goals::Table, Goals::PortfolioId)
                            .to(Portfolios::Table, Portfolios::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GoalPrograms::Table)
                    .col(
                        ColumnDef::new(GoalPrograms::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(GoalPrograms::GoalId).uuid().not_null())
                    .col(ColumnDef::new(GoalPrograms::ProgramId).uuid().not_null())
                    .col(
                        ColumnDef::new(GoalPrograms::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_goal_programs_goal_id")
                            .from(GoalPrograms::Table, GoalPrograms::GoalId)
                            .to(Goals::Table, Goals::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_goal_programs_program_id")
                            .from(GoalPrograms::Table, GoalPrograms::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GoalValues::Table)
                    .col(
                        ColumnDef::new(GoalValues::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(GoalValues::GoalId).uuid().not_null())
                    .col(ColumnDef::new(GoalValues::Value).double().not_null())
                    .col(ColumnDef::new(GoalValues::RecordedOn).date().not_null())
                    .col(ColumnDef::new(GoalValues::Note).text().null())
                    .col(ColumnDef::new(GoalValues::RecordedById).uuid().null())
                    .col(
                        ColumnDef::new(GoalValues::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_goal_values_goal_id")
                            .from(GoalValues::Table, GoalValues::GoalId)
                            .to(Goals::Table, Goals::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_goal_values_recorded_by_id")
                            .from(GoalValues::Table, GoalValues::RecordedById)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, table, column) in [
            (
                "idx_goals_portfolio_id",
                Goals::Table.into_iden(),
                Goals::PortfolioId.into_iden(),
            ),
            (
                "idx_goals_owner_id",
                Goals::Table.into_iden(),
                Goals::OwnerId.into_iden(),
            ),
            (
                "idx_goal_programs_goal_id",
                GoalPrograms::Table.into_iden(),
                GoalPrograms::GoalId.into_iden(),
            ),
            (
                "idx_goal_programs_program_id",
                GoalPrograms::Table.into_iden(),
                GoalPrograms::ProgramId.into_iden(),
            ),
            (
                "idx_goal_values_goal_id",
                GoalValues::Table.into_iden(),
                GoalValues::GoalId.into_iden(),
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            GoalValues::Table.into_iden(),
            GoalPrograms::Table.into_iden(),
            Goals::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Identifiers of the `goals` table and its columns.
#[derive(DeriveIden)]
pub enum Goals {
    /// The table.
    Table,
    /// The `id` column.
    Id,
    /// The `title` column.
    Title,
    /// The `metric` column: what is measured.
    Metric,
    /// The `unit` column.
    Unit,
    /// The `baseline_value` column.
    BaselineValue,
    /// The `target_value` column.
    TargetValue,
    /// The `current_value` column.
    CurrentValue,
    /// The `target_date` column.
    TargetDate,
    /// The `owner_id` column.
    OwnerId,
    /// The `portfolio_id` column.
    PortfolioId,
    /// The `version` column.
    Version,
    /// The `created_at` column.
    CreatedAt,
    /// The `updated_at` column.
    UpdatedAt,
}

/// Identifiers of the `goal_programs` table and its columns.
#[derive(DeriveIden)]
pub enum GoalPrograms {
    /// The table.
    Table,
    /// The `id` column.
    Id,
    /// The `goal_id` column.
    GoalId,
    /// The `program_id` column.
    ProgramId,
    /// The `created_at` column.
    CreatedAt,
}

/// Identifiers of the `goal_values` table and its columns.
#[derive(DeriveIden)]
pub enum GoalValues {
    /// The table.
    Table,
    /// The `id` column.
    Id,
    /// The `goal_id` column.
    GoalId,
    /// The `value` column.
    Value,
    /// The `recorded_on` column.
    RecordedOn,
    /// The `note` column.
    Note,
    /// The `recorded_by_id` column.
    RecordedById,
    /// The `created_at` column.
    CreatedAt,
}
