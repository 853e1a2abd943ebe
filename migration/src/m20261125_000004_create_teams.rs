//! Creates the `teams` table (teams) and its indexes.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;

/// Migration that creates the `teams` table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Teams::Table)
                    .col(ColumnDef::new(Teams::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Teams::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Teams::Description).text().null())
                    .col(ColumnDef::new(Teams::CreatedById).uuid().null())
                    .col(
                        ColumnDef::new(Teams::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Teams::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Teams::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_teams_created_by_id")
                            .from(Teams::Table, Teams::CreatedById)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_teams_name")
                    .table(Teams::Table)
                    .col(Teams::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_teams_created_by_id")
                    .table(Teams::Table)
                    .col(Teams::CreatedById)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Teams::Table).to_owned())
            .await
    }
}

/// Identifiers of the `teams` table and its columns.
#[derive(DeriveIden)]
pub enum Teams {
    /// The `teams` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `name` column.
    Name,
    /// The `description` column.
    Description,
    /// The `created_by_id` column.
    CreatedById,
    /// The `version` column.
    Version,
    /// The `created_at` column.
    CreatedAt,
    /// The `updated_at` column.
    UpdatedAt,
}
