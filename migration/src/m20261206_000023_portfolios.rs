//! Portfolios: named groups of programs a leader follows together, owned
//! by the user who made them (`portfolios`), and which programs each holds
//! (`portfolio_programs`).

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;
use super::m20261125_000005_create_programs::Programs;

/// Migration that adds portfolios.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Portfolios::Table)
                    .col(
                        ColumnDef::new(Portfolios::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Portfolios::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Portfolios::Description).text().null())
                    .col(ColumnDef::new(Portfolios::OwnerId).uuid().not_null())
                    .col(ColumnDef::new(Portfolios::Version).integer().not_null())
                    .col(
                        ColumnDef::new(Portfolios::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Portfolios::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_portfolios_owner_id")
                            .from(Portfolios::Table, Portfolios::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_portfolios_owner_id")
                    .table(Portfolios::Table)
                    .col(Portfolios::OwnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PortfolioPrograms::Table)
                    .col(
                        ColumnDef::new(PortfolioPrograms::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PortfolioPrograms::PortfolioId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PortfolioPrograms::ProgramId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PortfolioPrograms::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_portfolio_programs_portfolio_id")
                            .from(PortfolioPrograms::Table, PortfolioPrograms::PortfolioId)
                            .to(Portfolios::Table, Portfolios::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_portfolio_programs_program_id")
                            .from(PortfolioPrograms::Table, PortfolioPrograms::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_portfolio_programs_portfolio_program")
                    .table(PortfolioPrograms::Table)
                    .col(PortfolioPrograms::PortfolioId)
                    .col(PortfolioPrograms::ProgramId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_portfolio_programs_program_id")
                    .table(PortfolioPrograms::Table)
                    .col(PortfolioPrograms::ProgramId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PortfolioPrograms::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Portfolios::Table).to_owned())
            .await
    }
}

/// Identifiers of the `portfolios` table and its columns.
#[derive(DeriveIden)]
pub enum Portfolios {
    /// The table.
    Table,
    /// The `id` column.
    Id,
    /// The `name` column.
    Name,
    /// The `description` column.
    Description,
    /// The `owner_id` column.
    OwnerId,
    /// The `version` column.
    Version,
    /// The `created_at` column.
    CreatedAt,
    /// The `updated_at` column.
    UpdatedAt,
}

/// Identifiers of the `portfolio_programs` table and its columns.
#[derive(DeriveIden)]
pub enum PortfolioPrograms {
    /// The table.
    Table,
    /// The `id` column.
    Id,
    /// The `portfolio_id` column.
    PortfolioId,
    /// The `program_id` column.
    ProgramId,
    /// The `created_at` column.
    CreatedAt,
}
