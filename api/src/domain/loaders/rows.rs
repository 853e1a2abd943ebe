//! The rows every nested read goes through (workstreams, dependencies,
//! teams) decoded on PostgreSQL by sqlx directly. sea-orm's decoding writes
//! an error message for every NULL column (`"description"` not found as a
//! value) before an `Option` field throws it away, and a dependency row has
//! ten nullable columns: on the dashboard, decoding through sea-orm was an
//! eighth of the server's CPU. The statement is still sea-orm's, and SQLite
//! (and every other table) still decodes through sea-orm; a test holds both
//! decodings to the same models.

use entity::{dependency, team, workstream};
use sea_orm::sqlx::{self, Row, postgres::PgRow};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryTrait,
    Select,
};

/// Decodes one row of a table's every column from PostgreSQL.
pub type Decode<M> = fn(&PgRow) -> Result<M, sqlx::Error>;

/// The rows `select` finds, decoded by `decode` on PostgreSQL and by
/// sea-orm otherwise (or without a decoder).
pub async fn all<E: EntityTrait>(
    select: Select<E>,
    db: &DatabaseConnection,
    decode: Option<Decode<E::Model>>,
) -> Result<Vec<E::Model>, DbErr> {
    let backend = db.get_database_backend();
    let Some(decode) = decode.filter(|_| backend == DbBackend::Postgres) else {
        return select.all(db).await;
    };
    let rows = db.query_all_raw(select.build(backend)).await?;
    rows.iter()
        .map(|row| {
            let row = row
                .try_as_pg_row()
                .ok_or_else(|| DbErr::Custom("a PostgreSQL row was expected".into()))?;
            decode(row).map_err(|error| DbErr::Type(error.to_string()))
        })
        .collect()
}

/// A string-backed enum column.
fn enumerated<T: ActiveEnum<Value = String>>(row: &PgRow, column: &str) -> Result<T, sqlx::Error> {
    let value: String = row.try_get(column)?;
    T::try_from_value(&value).map_err(|error| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: error.to_string().into(),
    })
}

/// A row of `workstreams`.
pub fn workstream(row: &PgRow) -> Result<workstream::Model, sqlx::Error> {
    Ok(workstream::Model {
        id: row.try_get("id")?,
        program_id: row.try_get("program_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        team_id: row.try_get("team_id")?,
        lead_id: row.try_get("lead_id")?,
        status: enumerated(row, "status")?,
        health: enumerated(row, "health")?,
        start_date: row.try_get("start_date")?,
        target_date: row.try_get("target_date")?,
        progress: row.try_get("progress")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        started_on: row.try_get("started_on")?,
        finished_on: row.try_get("finished_on")?,
        external_id: row.try_get("external_id")?,
        links: row.try_get("links")?,
        priority: enumerated(row, "priority")?,
        effort_days: row.try_get("effort_days")?,
    })
}

/// A row of `dependencies`.
pub fn dependency(row: &PgRow) -> Result<dependency::Model, sqlx::Error> {
    Ok(dependency::Model {
        id: row.try_get("id")?,
        program_id: row.try_get("program_id")?,
        upstream_id: row.try_get("upstream_id")?,
        downstream_id: row.try_get("downstream_id")?,
        upstream_program_id: row.try_get("upstream_program_id")?,
        description: row.try_get("description")?,
        needed_by: row.try_get("needed_by")?,
        status: enumerated(row, "status")?,
        committed_date: row.try_get("committed_date")?,
        committed_by_id: row.try_get("committed_by_id")?,
        commitment: enumerated(row, "commitment")?,
        commitment_note: row.try_get("commitment_note")?,
        decline_reason: row.try_get("decline_reason")?,
        delivered_on: row.try_get("delivered_on")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        external_id: row.try_get("external_id")?,
        links: row.try_get("links")?,
    })
}

/// A row of `teams`.
pub fn team(row: &PgRow) -> Result<team::Model, sqlx::Error> {
    Ok(team::Model {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_by_id: row.try_get("created_by_id")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        capacity_days_per_week: row.try_get("capacity_days_per_week")?,
    })
}
