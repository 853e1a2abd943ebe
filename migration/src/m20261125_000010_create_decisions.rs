//! Creates the `decisions` table (decision records) and its indexes.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;
use super::m20261125_000005_create_programs::Programs;

/// Migration that creates the `decisions` table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Decisions::Table)
                    .col(
                        ColumnDef::new(Decisions::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Decisions::ProgramId).uuid().not_null())
                    .col(ColumnDef::new(Decisions::Title).string_len(200).not_null())
                    .col(ColumnDef::new(Decisions::Context).text().null())
                    .col(ColumnDef::new(Decisions::Outcome).text().null())
                    .col(ColumnDef::new(Decisions::Rationale).text().null())
                    .col(ColumnDef::new(Decisions::Consequences).text().null())
                    .col(ColumnDef::new(Decisions::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Decisions::DecidedById).uuid().null())
                    .col(
                        ColumnDef::new(Decisions::DecidedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Decisions::DueDate).date().null())
                    .col(ColumnDef::new(Decisions::SupersededById).uuid().null())
                    .col(
                        ColumnDef::new(Decisions::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Decisions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Decisions::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_decisions_program_id")
                            .from(Decisions::Table, Decisions::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_decisions_decided_by_id")
                            .from(Decisions::Table, Decisions::DecidedById)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_decisions_superseded_by_id")
                            .from(Decisions::Table, Decisions::SupersededById)
                            .to(Decisions::Table, Decisions::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_decisions_program_id")
                    .table(Decisions::Table)
                    .col(Decisions::ProgramId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_decisions_superseded_by_id")
                    .table(Decisions::Table)
                    .col(Decisions::SupersededById)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_decisions_decided_by_id")
                    .table(Decisions::Table)
                    .col(Decisions::DecidedById)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Decisions::Table).to_owned())
            .await
    }
}

/// Identifiers of the `decisions` table and its columns.
#[derive(DeriveIden)]
pub enum Decisions {
    /// The `decisions` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `program_id` column.
    ProgramId,
    /// The `title` column.
    Title,
    /// The `context` column.
    Context,
    /// The `outcome` column.
    Outcome,
    /// The `rationale` column.
    Rationale,
    /// The `consequences` column.
    Consequences,
    /// The `status` column.
    Status,
    /// The `decided_by_id` column.
    DecidedById,
    /// The `decided_at` column.
    DecidedAt,
    /// The `due_date` column.
    DueDate,
    /// The `superseded_by_id` column.
    SupersededById,
    /// The `version` column.
    Version,
    /// The `created_at` column.
    CreatedAt,
    /// The `updated_at` column.
    UpdatedAt,
}
