//! Gives every program-scoped row the program(s) it belongs to, so who may
//! see it is decided from the row alone:
//!
//! - `milestones.program_id` and `decision_options.program_id` (copied from
//!   their workstream and decision, which never change program);
//! - `dependencies.upstream_program_id`, the program of the upstream end (a
//!   dependency is visible only to those who can see both ends);
//! - `audit_events.related_program_id`, the other program a history entry
//!   reveals (a cross-program dependency, or a risk linked to one).
//!
//! The copies need no foreign key of their own: the parent's (cascading) key
//! already ties the row's life to its program. Existing rows are back-filled,
//! and people named on a program's objects who are not its members are
//! unassigned (a workstream lead, a risk owner, a dependency's `committedBy`
//! outside the upstream program), as the API refuses them from now on.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use super::m20261125_000008_create_milestones::Milestones;
use super::m20261125_000009_create_dependencies::Dependencies;
use super::m20261125_000011_create_decision_options::DecisionOptions;
use super::m20261125_000014_create_audit_events::AuditEvents;

/// Migration that adds the program-scope columns.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// A `uuid NOT NULL` column; the placeholder default is overwritten by the
/// back-fill (SQLite cannot add a NOT NULL column without one).
fn program_column(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .uuid()
        .not_null()
        .default(sea_orm_migration::sea_orm::prelude::Uuid::nil())
        .to_owned()
}

/// Statements filling the new columns from the rows they copy.
const BACKFILL: [&str; 3] = [
    "UPDATE milestones SET program_id = \
       (SELECT w.program_id FROM workstreams w WHERE w.id = milestones.workstream_id)",
    "UPDATE decision_options SET program_id = \
       (SELECT d.program_id FROM decisions d WHERE d.id = decision_options.decision_id)",
    "UPDATE dependencies SET upstream_program_id = \
       (SELECT w.program_id FROM workstreams w WHERE w.id = dependencies.upstream_id)",
];

/// Statements unassigning people who are not members of the program they are named in.
const UNASSIGN_NON_MEMBERS: [&str; 3] = [
    "UPDATE workstreams SET lead_id = NULL WHERE lead_id IS NOT NULL AND NOT EXISTS \
       (SELECT 1 FROM program_members m \
        WHERE m.program_id = workstreams.program_id AND m.user_id = workstreams.lead_id)",
    "UPDATE risks SET owner_id = NULL WHERE owner_id IS NOT NULL AND NOT EXISTS \
       (SELECT 1 FROM program_members m \
        WHERE m.program_id = risks.program_id AND m.user_id = risks.owner_id)",
    "UPDATE dependencies SET committed_by_id = NULL WHERE committed_by_id IS NOT NULL \
       AND NOT EXISTS (SELECT 1 FROM program_members m \
        WHERE m.program_id = dependencies.upstream_program_id \
          AND m.user_id = dependencies.committed_by_id)",
];

/// History entries that reveal another program: dependencies whose ends lie
/// in two programs, and risks linked to one. The ids inside `changes` are
/// JSON text; the tables hold native UUIDs (PostgreSQL) or 16-byte blobs (SQLite).
fn related_program_backfill(backend: DbBackend) -> [String; 2] {
    /// Renders an SQL expression from a field or column name.
    type Render = fn(&str) -> String;
    let (json_id, column_id): (Render, Render) = match backend {
        DbBackend::Postgres => (
            |field: &str| {
                format!("COALESCE(a.changes->'{field}'->>'after', a.changes->'{field}'->>'before')")
            },
            |column: &str| format!("{column}::text"),
        ),
        _ => (
            |field: &str| {
                format!(
                    "upper(replace(COALESCE(json_extract(a.changes, '$.{field}.after'), \
                     json_extract(a.changes, '$.{field}.before')), '-', ''))"
                )
            },
            |column: &str| format!("hex({column})"),
        ),
    };
    [
        // A dependency names its upstream workstream.
        format!(
            "UPDATE audit_events SET related_program_id = \
               (SELECT w.program_id FROM workstreams w, audit_events a \
                WHERE a.id = audit_events.id AND {} = {} \
                  AND w.program_id <> a.program_id) \
             WHERE entity_type = 'Dependency'",
            column_id("w.id"),
            json_id("upstreamId"),
        ),
        // A risk names the dependency it threatens.
        format!(
            "UPDATE audit_events SET related_program_id = \
               (SELECT d.upstream_program_id FROM dependencies d, audit_events a \
                WHERE a.id = audit_events.id AND {} = {} \
                  AND d.upstream_program_id <> a.program_id) \
             WHERE entity_type = 'Risk'",
            column_id("d.id"),
            json_id("dependencyId"),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Milestones::Table)
                    .add_column(program_column(Alias::new("program_id")))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DecisionOptions::Table)
                    .add_column(program_column(Alias::new("program_id")))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Dependencies::Table)
                    .add_column(program_column(Alias::new("upstream_program_id")))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvents::Table)
                    .add_column(
                        ColumnDef::new(Alias::new("related_program_id"))
                            .uuid()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for statement in BACKFILL
            .iter()
            .chain(UNASSIGN_NON_MEMBERS.iter())
            .map(|sql| (*sql).to_owned())
            .chain(related_program_backfill(backend))
        {
            db.execute_unprepared(&statement).await?;
        }

        manager
            .create_index(
                Index::create()
                    .name("idx_milestones_program_id")
                    .table(Milestones::Table)
                    .col(Alias::new("program_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_dependencies_upstream_program_id")
                    .table(Dependencies::Table)
                    .col(Alias::new("upstream_program_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_related_program_at")
                    .table(AuditEvents::Table)
                    .col(Alias::new("related_program_id"))
                    .col(AuditEvents::At)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, index) in [
            ("milestones", "idx_milestones_program_id"),
            ("dependencies", "idx_dependencies_upstream_program_id"),
            ("audit_events", "idx_audit_events_related_program_at"),
        ] {
            manager
                .drop_index(
                    Index::drop()
                        .name(index)
                        .table(Alias::new(table))
                        .to_owned(),
                )
                .await?;
        }
        for (table, column) in [
            (Milestones::Table.into_iden(), "program_id"),
            (DecisionOptions::Table.into_iden(), "program_id"),
            (Dependencies::Table.into_iden(), "upstream_program_id"),
            (AuditEvents::Table.into_iden(), "related_program_id"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
