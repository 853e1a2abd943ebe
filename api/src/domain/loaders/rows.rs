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

/// `pub fn $entity(row) -> $entity::Model`: each field read from the column
/// of its name, the string-backed enums after `enums` through
/// [`enumerated`]. A column added to the entity fails to compile here until
/// it is listed.
macro_rules! decode {
    ($entity:ident { $($field:ident),* $(,)? } enums { $($enumerated:ident),* $(,)? }) => {
        #[doc = concat!("A row of the `", stringify!($entity), "` entity's table.")]
        pub fn $entity(row: &PgRow) -> Result<$entity::Model, sqlx::Error> {
            Ok($entity::Model {
                $($field: row.try_get(stringify!($field))?,)*
                $($enumerated: enumerated(row, stringify!($enumerated))?,)*
            })
        }
    };
}

decode!(workstream {
    id, program_id, name, description, team_id, lead_id, start_date, target_date, progress,
    version, created_at, updated_at, started_on, finished_on, external_id, links, effort_days,
} enums { status, health, priority });

decode!(dependency {
    id, program_id, upstream_id, downstream_id, upstream_program_id, description, needed_by,
    committed_date, committed_by_id, commitment_note, decline_reason, delivered_on, version,
    created_at, updated_at, external_id, links,
} enums { status, commitment });

decode!(team {
    id, name, description, created_by_id, version, created_at, updated_at, capacity_days_per_week,
} enums {});
