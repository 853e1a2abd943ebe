//! Cost tracking: the `costs` table (money spent on a program, optionally
//! on one of its workstreams) and a program's expected benefit, which with
//! the spend gives its return on investment.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;
use super::m20261125_000005_create_programs::Programs;
use super::m20261125_000007_create_workstreams::Workstreams;

/// Migration that adds costs and the expected benefit.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Costs::Table)
                    .col(ColumnDef::new(Costs::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Costs::ProgramId).uuid().not_null())
                    .col(ColumnDef::new(Costs::WorkstreamId).uuid().null())
                    .col(ColumnDef::new(Costs::Amount).big_integer().not_null())
                    .col(ColumnDef::new(Costs::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Costs::IncurredOn).date().not_null())
                    .col(ColumnDef::new(Costs::Category).string_len(200).not_null())
                    .col(ColumnDef::new(Costs::Description).text().null())
                    .col(ColumnDef::new(Costs::RecordedById).uuid().null())
                    .col(
                        ColumnDef::new(Costs::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_costs_program_id")
                            .from(Costs::Table, Costs::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_costs_workstream_id")
                            .from(Costs::Table, Costs::WorkstreamId)
                            .to(Workstreams::Table, Workstreams::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_costs_recorded_by_id")
                            .from(Costs::Table, Costs::RecordedById)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_costs_program_id", Costs::ProgramId),
            ("idx_costs_workstream_id", Costs::WorkstreamId),
            ("idx_costs_recorded_by_id", Costs::RecordedById),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Costs::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        for mut column in [
            ColumnDef::new(Programs::ExpectedBenefitAmount)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Programs::ExpectedBenefitCurrency)
                .string_len(3)
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Programs::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Programs::ExpectedBenefitAmount,
            Programs::ExpectedBenefitCurrency,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Programs::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Costs::Table).to_owned())
            .await
    }
}

/// Identifiers of the `costs` table and its columns.
#[derive(DeriveIden)]
pub enum Costs {
    /// The table.
    Table,
    /// The `id` column.
    Id,
    /// The `program_id` column.
    ProgramId,
    /// The `workstream_id` column.
    WorkstreamId,
    /// The `amount` column (whole currency units).
    Amount,
    /// The `currency` column (ISO 4217).
    Currency,
    /// The `incurred_on` column.
    IncurredOn,
    /// The `category` column.
    Category,
    /// The `description` column.
    Description,
    /// The `recorded_by_id` column.
    RecordedById,
    /// The `created_at` column.
    CreatedAt,
}
