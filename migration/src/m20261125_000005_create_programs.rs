//! Creates the `programs` table (programs) and its indexes.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;

/// Migration that creates the `programs` table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Programs::Table)
                    .col(ColumnDef::new(Programs::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Programs::Key).string_len(10).not_null())
                    .col(ColumnDef::new(Programs::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Programs::Description).text().null())
                    .col(ColumnDef::new(Programs::Objective).text().null())
                    .col(ColumnDef::new(Programs::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Programs::Health).string_len(16).not_null())
                    .col(ColumnDef::new(Programs::StartDate).date().null())
                    .col(ColumnDef::new(Programs::TargetDate).date().null())
                    .col(ColumnDef::new(Programs::BudgetAmount).big_integer().null())
                    .col(
                        ColumnDef::new(Programs::BudgetCurrency)
                            .string_len(3)
                            .null(),
                    )
                    .col(ColumnDef::new(Programs::OwnerId).uuid().not_null())
                    .col(
                        ColumnDef::new(Programs::ArchivedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Programs::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Programs::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Programs::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_programs_owner_id")
                            .from(Programs::Table, Programs::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_programs_key")
                    .table(Programs::Table)
                    .col(Programs::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_programs_owner_id")
                    .table(Programs::Table)
                    .col(Programs::OwnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_programs_created_at")
                    .table(Programs::Table)
                    .col(Programs::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_programs_status")
                    .table(Programs::Table)
                    .col(Programs::Status)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Programs::Table).to_owned())
            .await
    }
}

/// Identifiers of the `programs` table and its columns.
#[derive(DeriveIden)]
pub enum Programs {
    /// The `programs` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `key` column.
    Key,
    /// The `name` column.
    Name,
    /// The `description` column.
    Description,
    /// The `objective` column.
    Objective,
    /// The `status` column.
    Status,
    /// The `health` column.
    Health,
    /// The `start_date` column.
    StartDate,
    /// The `target_date` column.
    TargetDate,
    /// The `budget_amount` column.
    BudgetAmount,
    /// The `budget_currency` column.
    BudgetCurrency,
    /// The `owner_id` column.
    OwnerId,
    /// The `archived_at` column.
    ArchivedAt,
    /// The `version` column.
    Version,
    /// The `created_at` column.
    CreatedAt,
    /// The `updated_at` column.
    UpdatedAt,
    /// The `time_zone` column (added by the forecast migration).
    TimeZone,
    /// The `off_track_after_days` column (added by the forecast migration).
    OffTrackAfterDays,
    /// The `expected_benefit_amount` column (added by the costs migration).
    ExpectedBenefitAmount,
    /// The `expected_benefit_currency` column (added by the costs migration).
    ExpectedBenefitCurrency,
}
