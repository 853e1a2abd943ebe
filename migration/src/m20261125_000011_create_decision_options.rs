//! Creates the `decision_options` table (options considered for decisions) and its indexes.

use sea_orm_migration::prelude::*;

use super::m20261125_000010_create_decisions::Decisions;

/// Migration that creates the `decision_options` table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DecisionOptions::Table)
                    .col(
                        ColumnDef::new(DecisionOptions::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(DecisionOptions::DecisionId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DecisionOptions::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DecisionOptions::Title)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(DecisionOptions::Pros).text().null())
                    .col(ColumnDef::new(DecisionOptions::Cons).text().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_decision_options_decision_id")
                            .from(DecisionOptions::Table, DecisionOptions::DecisionId)
                            .to(Decisions::Table, Decisions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_decision_options_decision_id_position")
                    .table(DecisionOptions::Table)
                    .col(DecisionOptions::DecisionId)
                    .col(DecisionOptions::Position)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DecisionOptions::Table).to_owned())
            .await
    }
}

/// Identifiers of the `decision_options` table and its columns.
#[derive(DeriveIden)]
pub enum DecisionOptions {
    /// The `decision_options` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `decision_id` column.
    DecisionId,
    /// The `position` column.
    Position,
    /// The `title` column.
    Title,
    /// The `pros` column.
    Pros,
    /// The `cons` column.
    Cons,
}
