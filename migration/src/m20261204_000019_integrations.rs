//! What integrations need:
//!
//! - `external_id` (unique per program) and `links` (JSON
//!   `[{"url", "kind", "title"}]`) on workstreams, dependencies and risks,
//!   so a sync script finds "its" row again and a row says where its work
//!   is tracked;
//! - `idempotency_keys`: a mutation's response kept 24 hours under the key
//!   its caller sent, per user, so a retried request replays it;
//! - `webhooks` and `webhook_deliveries`: a program's subscriptions to its
//!   changes and the outbox of their deliveries, written in the changing
//!   mutation's transaction.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;
use super::m20261125_000005_create_programs::Programs;

/// Migration that adds external ids and links, idempotency keys and webhooks.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables that get `external_id` and `links`.
const LINKED: [&str; 3] = ["workstreams", "dependencies", "risks"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in LINKED {
            // One column per statement: SQLite adds a single column at a time.
            for column in [
                ColumnDef::new(Alias::new("external_id"))
                    .string_len(200)
                    .null()
                    .to_owned(),
                ColumnDef::new(Alias::new("links"))
                    .json_binary()
                    .not_null()
                    .default("[]")
                    .to_owned(),
            ] {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Alias::new(table))
                            .add_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
            manager
                .create_index(
                    Index::create()
                        .name(format!("uq_{table}_program_external_id"))
                        .table(Alias::new(table))
                        .col(Alias::new("program_id"))
                        .col(Alias::new("external_id"))
                        .unique()
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(ColumnDef::new(IdempotencyKeys::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(IdempotencyKeys::Key)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::Fingerprint)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(IdempotencyKeys::StatusCode).integer().null())
                    .col(ColumnDef::new(IdempotencyKeys::Body).text().null())
                    .col(
                        ColumnDef::new(IdempotencyKeys::LockedUntil)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::UserId)
                            .col(IdempotencyKeys::Key),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_idempotency_keys_user_id")
                            .from(IdempotencyKeys::Table, IdempotencyKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotency_keys_expires_at")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .col(ColumnDef::new(Webhooks::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Webhooks::ProgramId).uuid().not_null())
                    .col(ColumnDef::new(Webhooks::Url).string_len(2048).not_null())
                    .col(ColumnDef::new(Webhooks::Events).json_binary().not_null())
                    .col(ColumnDef::new(Webhooks::Description).text().null())
                    .col(ColumnDef::new(Webhooks::Secret).string_len(128).not_null())
                    .col(
                        ColumnDef::new(Webhooks::Active)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(ColumnDef::new(Webhooks::CreatedById).uuid().null())
                    .col(ColumnDef::new(Webhooks::Version).integer().not_null())
                    .col(
                        ColumnDef::new(Webhooks::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Webhooks::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhooks_program_id")
                            .from(Webhooks::Table, Webhooks::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhooks_created_by_id")
                            .from(Webhooks::Table, Webhooks::CreatedById)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_webhooks_program_id", Webhooks::ProgramId),
            ("idx_webhooks_created_by_id", Webhooks::CreatedById),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Webhooks::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(
                        ColumnDef::new(WebhookDeliveries::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::WebhookId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::ProgramId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::RelatedProgramId)
                            .uuid()
                            .null(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::EventId).uuid().not_null())
                    .col(
                        ColumnDef::new(WebhookDeliveries::Event)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::Payload).text().not_null())
                    .col(
                        ColumnDef::new(WebhookDeliveries::State)
                            .string_len(20)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::Attempt)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::StatusCode)
                            .integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::DurationMs)
                            .integer()
                            .null(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::Error).text().null())
                    .col(
                        ColumnDef::new(WebhookDeliveries::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::DeliveredAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_webhook_id")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_program_id")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_webhook_id")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::WebhookId)
                    .col(WebhookDeliveries::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::State)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_program_id")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::ProgramId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Webhooks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await?;
        for table in LINKED {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("uq_{table}_program_external_id"))
                        .table(Alias::new(table))
                        .to_owned(),
                )
                .await?;
            for column in ["external_id", "links"] {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Alias::new(table))
                            .drop_column(Alias::new(column))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

/// Identifiers of the `idempotency_keys` table and its columns.
#[derive(DeriveIden, Clone, Copy)]
pub enum IdempotencyKeys {
    /// The `idempotency_keys` table itself.
    Table,
    /// The `user_id` column: whose key it is.
    UserId,
    /// The `key` column: the `Idempotency-Key` header's value.
    Key,
    /// The `fingerprint` column: SHA-256 hex of the request it came with.
    Fingerprint,
    /// The `status_code` column: the HTTP status answered; null while running.
    StatusCode,
    /// The `body` column: the response answered.
    Body,
    /// The `locked_until` column: while running, when the claim lapses.
    LockedUntil,
    /// The `expires_at` column: when the key is forgotten.
    ExpiresAt,
    /// The `created_at` column.
    CreatedAt,
}

/// Identifiers of the `webhooks` table and its columns.
#[derive(DeriveIden, Clone, Copy)]
pub enum Webhooks {
    /// The `webhooks` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `program_id` column.
    ProgramId,
    /// The `url` column.
    Url,
    /// The `events` column: JSON list of the actions delivered.
    Events,
    /// The `description` column.
    Description,
    /// The `secret` column: the signing secret.
    Secret,
    /// The `active` column.
    Active,
    /// The `created_by_id` column.
    CreatedById,
    /// The `version` column.
    Version,
    /// The `created_at` column.
    CreatedAt,
    /// The `updated_at` column.
    UpdatedAt,
}

/// Identifiers of the `webhook_deliveries` table and its columns.
#[derive(DeriveIden, Clone, Copy)]
pub enum WebhookDeliveries {
    /// The `webhook_deliveries` table itself.
    Table,
    /// The `id` column (the `Trestle-Delivery` header).
    Id,
    /// The `webhook_id` column.
    WebhookId,
    /// The `program_id` column: the webhook's program.
    ProgramId,
    /// The `related_program_id` column: the other program the change lies between.
    RelatedProgramId,
    /// The `event_id` column: the history entry delivered.
    EventId,
    /// The `event` column: its action (the `Trestle-Event` header).
    Event,
    /// The `payload` column: the JSON body sent.
    Payload,
    /// The `state` column: `PENDING`, `DELIVERED` or `FAILED`.
    State,
    /// The `attempt` column: attempts made.
    Attempt,
    /// The `status_code` column: the last answer's HTTP status.
    StatusCode,
    /// The `duration_ms` column: how long the last attempt took.
    DurationMs,
    /// The `error` column: why the last attempt failed.
    Error,
    /// The `next_attempt_at` column: when it is tried next (or, while an
    /// attempt runs, when its claim lapses).
    NextAttemptAt,
    /// The `delivered_at` column.
    DeliveredAt,
    /// The `created_at` column.
    CreatedAt,
}
