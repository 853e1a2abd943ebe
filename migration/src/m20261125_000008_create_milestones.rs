//! Creates the `milestones` table (milestones) and its indexes.

use sea_orm_migration::prelude::*;

use super::m20261125_000007_create_workstreams::Workstreams;

/// Migration that creates the `milestones` table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Milestones::Table)
                    .col(
                        ColumnDef::new(Milestones::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Milestones::WorkstreamId).uuid().not_null())
                    .col(ColumnDef::new(Milestones::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Milestones::Description).text().null())
                    .col(ColumnDef::new(Milestones::DueDate).date().null())
                    .col(
                        ColumnDef::new(Milestones::CompletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Milestones::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Milestones::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Milestones::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_milestones_workstream_id")
                            .from(Milestones::Table, Milestones::WorkstreamId)
                            .to(Workstreams::Table, Workstreams::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_milestones_workstream_id")
                    .table(Milestones::Table)
                    .col(Milestones::WorkstreamId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_milestones_due_date")
                    .table(Milestones::Table)
                    .col(Milestones::DueDate)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Milestones::Table).to_owned())
            .await
    }
}

/// Identifiers of the `milestones` table and its columns.
#[derive(DeriveIden)]
pub enum Milestones {
    /// The `milestones` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `workstream_id` column.
    WorkstreamId,
    /// The `name` column.
    Name,
    /// The `description` column.
    Description,
    /// The `due_date` column.
    DueDate,
    /// The `completed_at` column.
    CompletedAt,
    /// The `version` column.
    Version,
    /// The `created_at` column.
    CreatedAt,
    /// The `updated_at` column.
    UpdatedAt,
}
