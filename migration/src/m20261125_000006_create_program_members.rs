//! Creates the `program_members` table (program memberships) and its indexes.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;
use super::m20261125_000005_create_programs::Programs;

/// Migration that creates the `program_members` table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProgramMembers::Table)
                    .col(
                        ColumnDef::new(ProgramMembers::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ProgramMembers::ProgramId).uuid().not_null())
                    .col(ColumnDef::new(ProgramMembers::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(ProgramMembers::Role)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProgramMembers::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(ProgramMembers::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProgramMembers::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_program_members_program_id")
                            .from(ProgramMembers::Table, ProgramMembers::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_program_members_user_id")
                            .from(ProgramMembers::Table, ProgramMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_program_members_program_id_user_id")
                    .table(ProgramMembers::Table)
                    .col(ProgramMembers::ProgramId)
                    .col(ProgramMembers::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_program_members_user_id")
                    .table(ProgramMembers::Table)
                    .col(ProgramMembers::UserId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProgramMembers::Table).to_owned())
            .await
    }
}

/// Identifiers of the `program_members` table and its columns.
#[derive(DeriveIden)]
pub enum ProgramMembers {
    /// The `program_members` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `program_id` column.
    ProgramId,
    /// The `user_id` column.
    UserId,
    /// The `role` column.
    Role,
    /// The `version` column.
    Version,
    /// The `created_at` column.
    CreatedAt,
    /// The `updated_at` column.
    UpdatedAt,
}
