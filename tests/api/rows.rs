//! The loaders' own decoding of workstreams, dependencies and teams on
//! PostgreSQL (sqlx, without sea-orm's) gives the very models sea-orm
//! decodes, NULL and set columns alike. On SQLite both are sea-orm's.

use chrono::{NaiveDate, TimeZone, Utc};
use entity::{dependency, team, workstream};
use sea_orm::{ActiveModelTrait, Database, DatabaseConnection, EntityTrait, IntoActiveModel, Set};
use serde_json::json;
use trestle_api::domain::loaders::rows::{self, Decode};

use crate::helpers::{TestDb, spawn_app_on};

/// Every row of `E`, decoded by sea-orm and by `decode`, the same (by id).
async fn both_decodings<E: EntityTrait>(
    db: &DatabaseConnection,
    decode: Decode<E::Model>,
    id: fn(&E::Model) -> uuid::Uuid,
) -> usize
where
    E::Model: PartialEq + std::fmt::Debug,
{
    let mut by_sea_orm = E::find().all(db).await.expect("sea-orm reads");
    let mut by_sqlx = rows::all(E::find(), db, Some(decode))
        .await
        .expect("the loaders read");
    by_sea_orm.sort_by_key(id);
    by_sqlx.sort_by_key(id);
    assert_eq!(by_sqlx, by_sea_orm);
    by_sea_orm.len()
}

#[tokio::test]
async fn rows_decoded_by_the_loaders_are_the_models_sea_orm_decodes() {
    let database = TestDb::new().await;
    let url = database.url.clone();
    let _app = spawn_app_on(database, &["--demo"]).await;
    let db = Database::connect(&url).await.expect("the test database");

    // One row of each with every nullable column set; the demo leaves most
    // of them NULL elsewhere.
    let day = NaiveDate::from_ymd_opt(2026, 3, 4).expect("a day");
    let links = json!([{ "url": "https://example.com/X-1", "kind": "JIRA", "title": "X-1" }]);
    let first = workstream::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .expect("a workstream");
    let lead = entity::user::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .expect("a user")
        .id;
    let mut row = first.into_active_model();
    row.description = Set(Some("every column set".into()));
    row.lead_id = Set(Some(lead));
    row.started_on = Set(Some(day));
    row.finished_on = Set(Some(day));
    row.external_id = Set(Some("X-1".into()));
    row.links = Set(links.clone());
    row.effort_days = Set(Some(2.5));
    row.updated_at = Set(Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap());
    row.update(&db)
        .await
        .expect("a workstream with every column set");
    let first = dependency::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .expect("a dependency");
    let mut row = first.into_active_model();
    row.description = Set(Some("every column set".into()));
    row.needed_by = Set(Some(day));
    row.committed_date = Set(Some(day));
    row.committed_by_id = Set(Some(lead));
    row.commitment_note = Set(Some("by March".into()));
    row.decline_reason = Set(Some("none".into()));
    row.delivered_on = Set(Some(day));
    row.external_id = Set(Some("X-2".into()));
    row.links = Set(links);
    row.update(&db)
        .await
        .expect("a dependency with every column set");
    let first = team::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .expect("a team");
    let mut row = first.into_active_model();
    row.description = Set(Some("every column set".into()));
    row.created_by_id = Set(Some(lead));
    row.capacity_days_per_week = Set(Some(12.5));
    row.update(&db).await.expect("a team with every column set");

    assert!(both_decodings::<workstream::Entity>(&db, rows::workstream, |m| m.id).await > 1);
    assert!(both_decodings::<dependency::Entity>(&db, rows::dependency, |m| m.id).await > 1);
    assert!(both_decodings::<team::Entity>(&db, rows::team, |m| m.id).await > 1);
}
