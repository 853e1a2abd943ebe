//! Creates the `settings` table (instance-wide settings) and its indexes.

use sea_orm_migration::prelude::*;

/// Migration that creates the `settings` table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(
                        ColumnDef::new(Settings::Key)
                            .string_len(200)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Settings::Value).text().not_null())
                    .col(
                        ColumnDef::new(Settings::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Settings::Table).to_owned())
            .await
    }
}

/// Identifiers of the `settings` table and its columns.
#[derive(DeriveIden)]
pub enum Settings {
    /// The `settings` table itself.
    Table,
    /// The `key` column.
    Key,
    /// The `value` column.
    Value,
    /// The `updated_at` column.
    UpdatedAt,
}
