//! What the forecast needs beyond the plan:
//!
//! - `programs.time_zone` (IANA name, "today" is taken there; default `UTC`)
//!   and `programs.off_track_after_days` (days late before the computed
//!   health is `OFF_TRACK`; default 14);
//! - `workstreams.started_on` / `finished_on`, the actual days work began
//!   and ended (back-filled from the planned start for work already under
//!   way, so it keeps its forecast);
//! - `status_updates.translations`, the summary in other languages
//!   (`[{"locale": "KO", "summary": "…"}]`);
//! - `baselines`: named snapshots of every workstream's and milestone's
//!   planned and forecast dates, never changed once captured. The entries
//!   are JSON beside the row, since a snapshot outlives the workstreams it
//!   names.

use sea_orm_migration::prelude::*;

use super::m20261125_000001_create_users::Users;
use super::m20261125_000005_create_programs::Programs;
use super::m20261125_000007_create_workstreams::Workstreams;
use super::m20261125_000013_create_status_updates::StatusUpdates;

/// Migration that adds actuals, time zones, translations and baselines.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Work under way keeps its forecast: it started on its planned start.
const BACKFILL_STARTED: &str = "UPDATE workstreams SET started_on = start_date \
     WHERE status IN ('IN_PROGRESS', 'BLOCKED') AND start_date IS NOT NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds a single column at a time.
        let columns = [
            (
                Programs::Table.into_iden(),
                ColumnDef::new(Programs::TimeZone)
                    .string_len(64)
                    .not_null()
                    .default("UTC")
                    .to_owned(),
            ),
            (
                Programs::Table.into_iden(),
                ColumnDef::new(Programs::OffTrackAfterDays)
                    .integer()
                    .not_null()
                    .default(14)
                    .to_owned(),
            ),
            (
                Workstreams::Table.into_iden(),
                ColumnDef::new(Workstreams::StartedOn)
                    .date()
                    .null()
                    .to_owned(),
            ),
            (
                Workstreams::Table.into_iden(),
                ColumnDef::new(Workstreams::FinishedOn)
                    .date()
                    .null()
                    .to_owned(),
            ),
            (
                StatusUpdates::Table.into_iden(),
                ColumnDef::new(StatusUpdates::Translations)
                    .json_binary()
                    .not_null()
                    .default("[]")
                    .to_owned(),
            ),
        ];
        for (table, mut column) in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(BACKFILL_STARTED)
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Baselines::Table)
                    .col(
                        ColumnDef::new(Baselines::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Baselines::ProgramId).uuid().not_null())
                    .col(ColumnDef::new(Baselines::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Baselines::CapturedById).uuid().null())
                    .col(ColumnDef::new(Baselines::TargetDate).date().null())
                    .col(ColumnDef::new(Baselines::ForecastFinish).date().null())
                    .col(
                        ColumnDef::new(Baselines::Workstreams)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Baselines::Milestones)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Baselines::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_baselines_program_id")
                            .from(Baselines::Table, Baselines::ProgramId)
                            .to(Programs::Table, Programs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_baselines_captured_by_id")
                            .from(Baselines::Table, Baselines::CapturedById)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_baselines_program_id_created_at", Baselines::ProgramId),
            ("idx_baselines_captured_by_id", Baselines::CapturedById),
        ] {
            let mut index = Index::create()
                .name(name)
                .table(Baselines::Table)
                .col(column)
                .to_owned();
            if name.ends_with("created_at") {
                index.col(Baselines::CreatedAt);
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Baselines::Table).to_owned())
            .await?;
        let columns = [
            (Programs::Table.into_iden(), Programs::TimeZone.into_iden()),
            (
                Programs::Table.into_iden(),
                Programs::OffTrackAfterDays.into_iden(),
            ),
            (
                Workstreams::Table.into_iden(),
                Workstreams::StartedOn.into_iden(),
            ),
            (
                Workstreams::Table.into_iden(),
                Workstreams::FinishedOn.into_iden(),
            ),
            (
                StatusUpdates::Table.into_iden(),
                StatusUpdates::Translations.into_iden(),
            ),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Identifiers of the `baselines` table and its columns.
#[derive(DeriveIden)]
pub enum Baselines {
    /// The `baselines` table itself.
    Table,
    /// The `id` column.
    Id,
    /// The `program_id` column.
    ProgramId,
    /// The `name` column.
    Name,
    /// The `captured_by_id` column.
    CapturedById,
    /// The `target_date` column: the program's target when captured.
    TargetDate,
    /// The `forecast_finish` column: the program's forecast when captured.
    ForecastFinish,
    /// The `workstreams` column: JSON entries of planned and forecast dates.
    Workstreams,
    /// The `milestones` column: JSON entries of due and forecast dates.
    Milestones,
    /// The `created_at` column.
    CreatedAt,
}
