//! Creates the `status_updates` table (program status updates) and its indexes.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;
use super::m20261125_000005_create_programs::Programs;

/// Migration that creates the `status_updates` table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StatusUpdates::Table)
                    .col(
                        ColumnDef::new(StatusUpdates::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(StatusUpdates::ProgramId).uuid().not_null())
                    .col(ColumnDef::new(StatusUpdates::AuthorId).uuid().null())
                    .col(
                        ColumnDef::new(StatusUpdates::Health)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(StatusUpdates::Summary).text().not_null())
                    .col(ColumnDef::new(StatusUpdates::ForecastFinish).date().null())
                    .col(ColumnDef::new(StatusUpdates::TargetDate).date().null())
                    .col(
                        ColumnDef::new(StatusUpdates::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_status_updates_program_id")
                            .from(StatusUpdates::Table, StatusUpdates::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_status_updates_author_id")
                            .from(StatusUpdates::Table, StatusUpdates::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_status_updates_program_id_created_at")
                    .table(StatusUpdates::Table)
                    .col(StatusUpdates::ProgramId)
                    .col(StatusUpdates::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_status_updates_author_id")
                    .table(StatusUpdates::Table)
                    .col(StatusUpdates::AuthorId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StatusUpdates::Table).to_owned())
            .await
    }
}

/// Identifiers of the `status_updates` table and its columns.
#[derive(DeriveIden)]
pub enum StatusUpdates {
    /// The `status_updates` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `program_id` column.
    ProgramId,
    /// The `author_id` column.
    AuthorId,
    /// The `health` column.
    Health,
    /// The `summary` column.
    Summary,
    /// The `forecast_finish` column.
    ForecastFinish,
    /// The `target_date` column.
    TargetDate,
    /// The `created_at` column.
    CreatedAt,
    /// The `translations` column (added by the forecast migration).
    Translations,
}
