//! State that every replica on one database shares, so a limit holds across
//! any number of them:
//!
//! - `rate_budgets`: each principal's token bucket of query-cost points
//!   (used on PostgreSQL; a SQLite server is one process and keeps its
//!   buckets in memory);
//! - `sign_in_counters`: failed sign-ins per client address and per account;
//! - `persisted_queries`: documents registered by automatic persisted
//!   queries, so a client registers a document once for every replica.
//!
//! All three are caches of the recent past: on PostgreSQL they are
//! `UNLOGGED` (no write-ahead log; emptied if PostgreSQL crashes, which
//! forgives budgets and failed sign-ins, forgets the addresses accounts
//! signed in from, and the documents clients then send again).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// Migration that adds the tables of shared limits.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateBudgets::Table)
                    .col(
                        ColumnDef::new(RateBudgets::Principal)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RateBudgets::Level).double().not_null())
                    .col(
                        ColumnDef::new(RateBudgets::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SignInCounters::Table)
                    .col(
                        ColumnDef::new(SignInCounters::Key)
                            .string_len(400)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SignInCounters::State).text().not_null())
                    .col(
                        ColumnDef::new(SignInCounters::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sign_in_counters_expires_at")
                    .table(SignInCounters::Table)
                    .col(SignInCounters::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PersistedQueries::Table)
                    .col(
                        ColumnDef::new(PersistedQueries::Hash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(PersistedQueries::Document).text().not_null())
                    .col(ColumnDef::new(PersistedQueries::Bytes).integer().not_null())
                    .col(
                        ColumnDef::new(PersistedQueries::UsedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_persisted_queries_used_at")
                    .table(PersistedQueries::Table)
                    .col(PersistedQueries::UsedAt)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            for table in ["rate_budgets", "sign_in_counters", "persisted_queries"] {
                manager
                    .get_connection()
                    .execute_unprepared(&format!("ALTER TABLE {table} SET UNLOGGED"))
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PersistedQueries::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SignInCounters::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RateBudgets::Table).to_owned())
            .await?;
        Ok(())
    }
}

/// Identifiers of the `rate_budgets` table and its columns.
#[derive(DeriveIden)]
enum RateBudgets {
    /// The table.
    Table,
    /// The `principal` column: a user id, or `address:` and a client network.
    Principal,
    /// The `level` column: points available at `at` (negative in debt).
    Level,
    /// The `at` column: when `level` was computed.
    At,
}

/// Identifiers of the `sign_in_counters` table and its columns.
#[derive(DeriveIden)]
enum SignInCounters {
    /// The table.
    Table,
    /// The `key` column: `address:` and a client network, or `account:` and an email.
    Key,
    /// The `state` column: the counter as JSON.
    State,
    /// The `expires_at` column: when the counter no longer matters.
    ExpiresAt,
}

/// Identifiers of the `persisted_queries` table and its columns.
#[derive(DeriveIden)]
enum PersistedQueries {
    /// The table.
    Table,
    /// The `hash` column: the document's lowercase SHA-256 hex.
    Hash,
    /// The `document` column.
    Document,
    /// The `bytes` column: what the entry weighs against the cache's budget.
    Bytes,
    /// The `used_at` column: when a replica last read it.
    UsedAt,
}
