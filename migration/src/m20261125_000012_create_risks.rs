//! Creates the `risks` table (risks) and its indexes.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;
use super::m20261125_000005_create_programs::Programs;
use super::m20261125_000007_create_workstreams::Workstreams;
use super::m20261125_000009_create_dependencies::Dependencies;

/// Migration that creates the `risks` table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Risks::Table)
                    .col(ColumnDef::new(Risks::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Risks::ProgramId).uuid().not_null())
                    .col(ColumnDef::new(Risks::Title).string_len(200).not_null())
                    .col(ColumnDef::new(Risks::Description).text().null())
                    .col(ColumnDef::new(Risks::Likelihood).integer().not_null())
                    .col(ColumnDef::new(Risks::Impact).integer().not_null())
                    .col(ColumnDef::new(Risks::Score).integer().not_null())
                    .col(ColumnDef::new(Risks::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Risks::Mitigation).text().null())
                    .col(ColumnDef::new(Risks::OwnerId).uuid().null())
                    .col(ColumnDef::new(Risks::WorkstreamId).uuid().null())
                    .col(ColumnDef::new(Risks::DependencyId).uuid().null())
                    .col(
                        ColumnDef::new(Risks::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Risks::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Risks::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Check::named(
                        "ck_risks_likelihood",
                        Expr::col(Risks::Likelihood).between(1, 5),
                    ))
                    .check(Check::named(
                        "ck_risks_impact",
                        Expr::col(Risks::Impact).between(1, 5),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_risks_program_id")
                            .from(Risks::Table, Risks::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_risks_owner_id")
                            .from(Risks::Table, Risks::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_risks_workstream_id")
                            .from(Risks::Table, Risks::WorkstreamId)
                            .to(Workstreams::Table, Workstreams::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_risks_dependency_id")
                            .from(Risks::Table, Risks::DependencyId)
                            .to(Dependencies::Table, Dependencies::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_risks_program_id")
                    .table(Risks::Table)
                    .col(Risks::ProgramId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_risks_owner_id")
                    .table(Risks::Table)
                    .col(Risks::OwnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_risks_workstream_id")
                    .table(Risks::Table)
                    .col(Risks::WorkstreamId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_risks_dependency_id")
                    .table(Risks::Table)
                    .col(Risks::DependencyId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Risks::Table).to_owned())
            .await
    }
}

/// Identifiers of the `risks` table and its columns.
#[derive(DeriveIden)]
pub enum Risks {
    /// The `risks` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `program_id` column.
    ProgramId,
    /// The `title` column.
    Title,
    /// The `description` column.
    Description,
    /// The `likelihood` column.
    Likelihood,
    /// The `impact` column.
    Impact,
    /// The `score` column.
    Score,
    /// The `status` column.
    Status,
    /// The `mitigation` column.
    Mitigation,
    /// The `owner_id` column.
    OwnerId,
    /// The `workstream_id` column.
    WorkstreamId,
    /// The `dependency_id` column.
    DependencyId,
    /// The `version` column.
    Version,
    /// The `created_at` column.
    CreatedAt,
    /// The `updated_at` column.
    UpdatedAt,
}
