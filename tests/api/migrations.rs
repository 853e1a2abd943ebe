//! Migrations run up and down on the test database (SQLite or PostgreSQL).

use migration::{Migrator, MigratorTrait};
use sea_orm::Database;

use crate::helpers::TestDb;

#[tokio::test]
async fn migrations_run_up_down_and_up_again() {
    let db = TestDb::new().await;
    let conn = Database::connect(&db.url).await.expect("connect");
    Migrator::up(&conn, None).await.expect("up");
    assert!(
        Migrator::get_pending_migrations(&conn)
            .await
            .unwrap()
            .is_empty()
    );
    let applied = Migrator::get_applied_migrations(&conn).await.unwrap().len();
    assert_eq!(applied, Migrator::migrations().len());
    Migrator::down(&conn, None).await.expect("down");
    assert_eq!(
        Migrator::get_applied_migrations(&conn).await.unwrap().len(),
        0
    );
    Migrator::up(&conn, None).await.expect("up again");
    assert_eq!(
        Migrator::get_pending_migrations(&conn).await.unwrap().len(),
        0
    );
    conn.close().await.ok();
}
