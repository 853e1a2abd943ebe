//! Cross-team commitments and conversation:
//!
//! - `dependencies.commitment` (`REQUESTED`, `COMMITTED`, `DECLINED`,
//!   `DELIVERED`), `commitment_note`, `decline_reason` and `delivered_on`:
//!   the upstream team's answer to a request. Existing promises become
//!   `COMMITTED` and resolved dependencies `DELIVERED`.
//! - `comments` on a workstream, a dependency, a decision or a risk (exactly
//!   one of the four, each deleted with its subject), with the ids of the
//!   members they mention; `related_program_id` is the other end's program
//!   of a cross-program dependency, so the comment is as visible as it.
//! - `notifications`: one row per recipient; `sweep_key` is unique, so a
//!   clock-driven notification is written once per subject, recipient and
//!   day however many replicas sweep at the same time.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;
use super::m20261125_000005_create_programs::Programs;
use super::m20261125_000007_create_workstreams::Workstreams;
use super::m20261125_000009_create_dependencies::Dependencies;
use super::m20261125_000010_create_decisions::Decisions;
use super::m20261125_000012_create_risks::Risks;

/// Migration that adds commitments, comments and notifications.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Promises already recorded keep their meaning.
const BACKFILL_COMMITTED: &str =
    "UPDATE dependencies SET commitment = 'COMMITTED' WHERE committed_date IS NOT NULL";

/// Resolved dependencies were delivered, on the day they were last changed
/// (`day` turns the timestamp into a date in the backend's SQL).
fn backfill_delivered(day: &str) -> String {
    format!(
        "UPDATE dependencies SET commitment = 'DELIVERED', delivered_on = {day} \
         WHERE status = 'RESOLVED'"
    )
}

/// A comment is about exactly one subject.
const ONE_SUBJECT: &str = "(CASE WHEN workstream_id IS NULL THEN 0 ELSE 1 END \
     + CASE WHEN dependency_id IS NULL THEN 0 ELSE 1 END \
     + CASE WHEN decision_id IS NULL THEN 0 ELSE 1 END \
     + CASE WHEN risk_id IS NULL THEN 0 ELSE 1 END) = 1";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(Alias::new("commitment"))
                .string_len(16)
                .not_null()
                .default("REQUESTED")
                .to_owned(),
            ColumnDef::new(Alias::new("commitment_note"))
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(Alias::new("decline_reason"))
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(Alias::new("delivered_on"))
                .date()
                .null()
                .to_owned(),
        ];
        // One column per statement: SQLite adds a single column at a time.
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Dependencies::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        let day = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => "date(updated_at)",
            _ => "CAST(updated_at AS DATE)",
        };
        for statement in [BACKFILL_COMMITTED.to_owned(), backfill_delivered(day)] {
            manager
                .get_connection()
                .execute_unprepared(&statement)
                .await?;
        }

        let subject = |column: Comments, table: TableRef, id: DynIden, name: &str| {
            ForeignKey::create()
                .name(name)
                .from(Comments::Table, column)
                .to(table, id)
                .on_delete(ForeignKeyAction::Cascade)
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(ColumnDef::new(Comments::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Comments::ProgramId).uuid().not_null())
                    .col(ColumnDef::new(Comments::RelatedProgramId).uuid().null())
                    .col(ColumnDef::new(Comments::WorkstreamId).uuid().null())
                    .col(ColumnDef::new(Comments::DependencyId).uuid().null())
                    .col(ColumnDef::new(Comments::DecisionId).uuid().null())
                    .col(ColumnDef::new(Comments::RiskId).uuid().null())
                    .col(ColumnDef::new(Comments::AuthorId).uuid().null())
                    .col(ColumnDef::new(Comments::Body).text().not_null())
                    .col(
                        ColumnDef::new(Comments::MentionIds)
                            .json_binary()
                            .not_null()
                            .default("[]"),
                    )
                    .col(
                        ColumnDef::new(Comments::EditedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Comments::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Comments::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Comments::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Check::named(
                        "ck_comments_one_subject",
                        Expr::cust(ONE_SUBJECT),
                    ))
                    .foreign_key(&mut subject(
                        Comments::ProgramId,
                        Programs::Table.into_table_ref(),
                        Programs::Id.into_iden(),
                        "fk_comments_program_id",
                    ))
                    .foreign_key(&mut subject(
                        Comments::RelatedProgramId,
                        Programs::Table.into_table_ref(),
                        Programs::Id.into_iden(),
                        "fk_comments_related_program_id",
                    ))
                    .foreign_key(&mut subject(
                        Comments::WorkstreamId,
                        Workstreams::Table.into_table_ref(),
                        Workstreams::Id.into_iden(),
                        "fk_comments_workstream_id",
                    ))
                    .foreign_key(&mut subject(
                        Comments::DependencyId,
                        Dependencies::Table.into_table_ref(),
                        Dependencies::Id.into_iden(),
                        "fk_comments_dependency_id",
                    ))
                    .foreign_key(&mut subject(
                        Comments::DecisionId,
                        Decisions::Table.into_table_ref(),
                        Decisions::Id.into_iden(),
                        "fk_comments_decision_id",
                    ))
                    .foreign_key(&mut subject(
                        Comments::RiskId,
                        Risks::Table.into_table_ref(),
                        Risks::Id.into_iden(),
                        "fk_comments_risk_id",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_comments_author_id")
                            .from(Comments::Table, Comments::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_comments_program_id", Comments::ProgramId),
            (
                "idx_comments_related_program_id",
                Comments::RelatedProgramId,
            ),
            ("idx_comments_workstream_id", Comments::WorkstreamId),
            ("idx_comments_dependency_id", Comments::DependencyId),
            ("idx_comments_decision_id", Comments::DecisionId),
            ("idx_comments_risk_id", Comments::RiskId),
            ("idx_comments_author_id", Comments::AuthorId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Comments::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(
                        ColumnDef::new(Notifications::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Notifications::RecipientId).uuid().not_null())
                    .col(
                        ColumnDef::new(Notifications::Kind)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Notifications::ProgramId).uuid().not_null())
                    .col(
                        ColumnDef::new(Notifications::RelatedProgramId)
                            .uuid()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Notifications::SubjectType)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Notifications::SubjectId).uuid().not_null())
                    .col(ColumnDef::new(Notifications::CommentId).uuid().null())
                    .col(ColumnDef::new(Notifications::ActorId).uuid().null())
                    .col(
                        ColumnDef::new(Notifications::SweepKey)
                            .string_len(200)
                            .null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Notifications::ReadAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Notifications::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_recipient_id")
                            .from(Notifications::Table, Notifications::RecipientId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_program_id")
                            .from(Notifications::Table, Notifications::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_related_program_id")
                            .from(Notifications::Table, Notifications::RelatedProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        // Notifications are append-only (live delivery follows
                        // their rows in order): a deleted comment leaves its
                        // mention behind without it.
                        ForeignKey::create()
                            .name("fk_notifications_comment_id")
                            .from(Notifications::Table, Notifications::CommentId)
                            .to(Comments::Table, Comments::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_actor_id")
                            .from(Notifications::Table, Notifications::ActorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_notifications_recipient_id_created_at",
                vec![Notifications::RecipientId, Notifications::CreatedAt],
            ),
            (
                "idx_notifications_recipient_id_read_at",
                vec![Notifications::RecipientId, Notifications::ReadAt],
            ),
            (
                "idx_notifications_program_id",
                vec![Notifications::ProgramId],
            ),
            (
                "idx_notifications_related_program_id",
                vec![Notifications::RelatedProgramId],
            ),
            (
                "idx_notifications_comment_id",
                vec![Notifications::CommentId],
            ),
            ("idx_notifications_actor_id", vec![Notifications::ActorId]),
        ] {
            let mut index = Index::create()
                .name(name)
                .table(Notifications::Table)
                .to_owned();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Notifications::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Comments::Table).to_owned())
            .await?;
        for column in [
            "commitment",
            "commitment_note",
            "decline_reason",
            "delivered_on",
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Dependencies::Table)
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Identifiers of the `comments` table and its columns.
#[derive(DeriveIden, Clone, Copy)]
pub enum Comments {
    /// The `comments` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `program_id` column: the subject's program.
    ProgramId,
    /// The `related_program_id` column: the other end's program of a
    /// cross-program dependency.
    RelatedProgramId,
    /// The `workstream_id` column.
    WorkstreamId,
    /// The `dependency_id` column.
    DependencyId,
    /// The `decision_id` column.
    DecisionId,
    /// The `risk_id` column.
    RiskId,
    /// The `author_id` column.
    AuthorId,
    /// The `body` column.
    Body,
    /// The `mention_ids` column: JSON array of the mentioned users' ids.
    MentionIds,
    /// The `edited_at` column.
    EditedAt,
    /// The `version` column.
    Version,
    /// The `created_at` column.
    CreatedAt,
    /// The `updated_at` column.
    UpdatedAt,
}

/// Identifiers of the `notifications` table and its columns.
#[derive(DeriveIden, Clone, Copy)]
pub enum Notifications {
    /// The `notifications` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `recipient_id` column.
    RecipientId,
    /// The `kind` column.
    Kind,
    /// The `program_id` column.
    ProgramId,
    /// The `related_program_id` column.
    RelatedProgramId,
    /// The `subject_type` column.
    SubjectType,
    /// The `subject_id` column.
    SubjectId,
    /// The `comment_id` column (a mention).
    CommentId,
    /// The `actor_id` column.
    ActorId,
    /// The `sweep_key` column.
    SweepKey,
    /// The `read_at` column.
    ReadAt,
    /// The `created_at` column.
    CreatedAt,
}
