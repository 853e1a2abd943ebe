//! Creates the `dependencies` table (cross-workstream dependencies) and its indexes.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;
use super::m20261125_000005_create_programs::Programs;
use super::m20261125_000007_create_workstreams::Workstreams;

/// Migration that creates the `dependencies` table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Dependencies::Table)
                    .col(
                        ColumnDef::new(Dependencies::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Dependencies::ProgramId).uuid().not_null())
                    .col(ColumnDef::new(Dependencies::UpstreamId).uuid().not_null())
                    .col(ColumnDef::new(Dependencies::DownstreamId).uuid().not_null())
                    .col(ColumnDef::new(Dependencies::Description).text().null())
                    .col(ColumnDef::new(Dependencies::NeededBy).date().null())
                    .col(
                        ColumnDef::new(Dependencies::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Dependencies::CommittedDate).date().null())
                    .col(ColumnDef::new(Dependencies::CommittedById).uuid().null())
                    .col(
                        ColumnDef::new(Dependencies::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Dependencies::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Dependencies::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Check::named(
                        "ck_dependencies_distinct",
                        Expr::col(Dependencies::UpstreamId)
                            .ne(Expr::col(Dependencies::DownstreamId)),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dependencies_program_id")
                            .from(Dependencies::Table, Dependencies::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dependencies_upstream_id")
                            .from(Dependencies::Table, Dependencies::UpstreamId)
                            .to(Workstreams::Table, Workstreams::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dependencies_downstream_id")
                            .from(Dependencies::Table, Dependencies::DownstreamId)
                            .to(Workstreams::Table, Workstreams::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dependencies_committed_by_id")
                            .from(Dependencies::Table, Dependencies::CommittedById)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_dependencies_upstream_id_downstream_id")
                    .table(Dependencies::Table)
                    .col(Dependencies::UpstreamId)
                    .col(Dependencies::DownstreamId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_dependencies_program_id")
                    .table(Dependencies::Table)
                    .col(Dependencies::ProgramId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_dependencies_downstream_id")
                    .table(Dependencies::Table)
                    .col(Dependencies::DownstreamId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_dependencies_committed_by_id")
                    .table(Dependencies::Table)
                    .col(Dependencies::CommittedById)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Dependencies::Table).to_owned())
            .await
    }
}

/// Identifiers of the `dependencies` table and its columns.
#[derive(DeriveIden)]
pub enum Dependencies {
    /// The `dependencies` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `program_id` column.
    ProgramId,
    /// The `upstream_id` column.
    UpstreamId,
    /// The `downstream_id` column.
    DownstreamId,
    /// The `description` column.
    Description,
    /// The `needed_by` column.
    NeededBy,
    /// The `status` column.
    Status,
    /// The `committed_date` column.
    CommittedDate,
    /// The `committed_by_id` column.
    CommittedById,
    /// The `version` column.
    Version,
    /// The `created_at` column.
    CreatedAt,
    /// The `updated_at` column.
    UpdatedAt,
}
