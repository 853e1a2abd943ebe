//! Sessions that end, and accounts that leave:
//!
//! - `users.sessions_valid_after`: tokens issued before it are refused
//!   (`logoutEverywhere`);
//! - `users.deactivated_at`: a deactivated account cannot sign in, and
//!   every token and API token of it is refused;
//! - `revoked_sessions`: one signed token ended by `logout`, by the SHA-256
//!   of the token, kept until the token would have expired anyway;
//!   `users.revoked_sessions_until` is the latest such expiry, so a request
//!   looks the table up only for a user who has logged out a token that
//!   could still be presented.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;

/// Migration that adds session ends and deactivation.
#[derive(DeriveMigrationName)]
pub struct Migration;

const USER_COLUMNS: [&str; 3] = [
    "sessions_valid_after",
    "deactivated_at",
    "revoked_sessions_until",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds a single column at a time.
        for column in USER_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(
                            ColumnDef::new(Alias::new(column))
                                .timestamp_with_time_zone()
                                .null(),
                        )
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(RevokedSessions::Table)
                    .col(
                        ColumnDef::new(RevokedSessions::Fingerprint)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RevokedSessions::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(RevokedSessions::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RevokedSessions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_revoked_sessions_user_id")
                            .from(RevokedSessions::Table, RevokedSessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_revoked_sessions_user_id", RevokedSessions::UserId),
            (
                "idx_revoked_sessions_expires_at",
                RevokedSessions::ExpiresAt,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(RevokedSessions::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RevokedSessions::Table).to_owned())
            .await?;
        for column in USER_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Identifiers of the `revoked_sessions` table and its columns.
#[derive(DeriveIden, Clone, Copy)]
pub enum RevokedSessions {
    /// The `revoked_sessions` table itself.
    Table,
    /// The `fingerprint` column: SHA-256 hex of the token.
    Fingerprint,
    /// The `user_id` column.
    UserId,
    /// The `expires_at` column: when the token would have expired.
    ExpiresAt,
    /// The `created_at` column.
    CreatedAt,
}
