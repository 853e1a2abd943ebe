//! What priorities and capacity need:
//!
//! - `workstreams.priority` (`P0` … `P3`, stored like the other enums;
//!   default `P2`), so a team's commitments across programs can be ranked
//!   and clashes between urgent work found;
//! - `workstreams.effort_days` (nullable, fractional person-days of work)
//!   and `teams.capacity_days_per_week` (nullable, fractional person-days a
//!   team can give in a week), so a team's weekly load can be compared with
//!   what it can do.

use sea_orm_migration::prelude::*;

/// Migration that adds workstream priority and effort and team capacity.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns added, as `(table, column)`.
const COLUMNS: [(&str, &str); 3] = [
    ("workstreams", "priority"),
    ("workstreams", "effort_days"),
    ("teams", "capacity_days_per_week"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let definitions = [
            ColumnDef::new(Alias::new(COLUMNS[0].1))
                .string_len(16)
                .not_null()
                .default("P2")
                .to_owned(),
            ColumnDef::new(Alias::new(COLUMNS[1].1))
                .double()
                .null()
                .to_owned(),
            ColumnDef::new(Alias::new(COLUMNS[2].1))
                .double()
                .null()
                .to_owned(),
        ];
        // One column per statement: SQLite adds a single column at a time.
        for ((table, _), column) in COLUMNS.into_iter().zip(definitions) {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in COLUMNS.into_iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
