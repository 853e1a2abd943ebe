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

/// Rows written before the program-scope columns existed get them filled
/// in, and people named outside the programs they are named in are unassigned.
#[tokio::test]
async fn program_scope_columns_are_back_filled_for_existing_rows() {
    use entity::enums::{
        DecisionStatus, DependencyStatus, Health, Locale, ProgramRole, ProgramStatus, UserRole,
        WorkstreamStatus,
    };
    use sea_orm::{
        ActiveModelTrait, ConnectionTrait, EntityTrait, Set,
        sea_query::{Alias, Query},
    };
    use serde_json::json;
    use uuid::Uuid;

    let db = TestDb::new().await;
    let conn = Database::connect(&db.url).await.expect("connect");
    // Up to the migration before `add_program_scope_columns`; rows are
    // written with the columns that existed then (the later ones unset).
    let before_scope_columns = Migrator::migrations()
        .iter()
        .position(|m| m.name().contains("add_program_scope_columns"))
        .expect("the scope migration") as u32;
    Migrator::up(&conn, Some(before_scope_columns))
        .await
        .expect("up to the migration before");
    let now = chrono::Utc::now();

    let user = |name: &str| entity::user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(format!("{name}@backfill.test")),
        name: Set(name.into()),
        password_hash: Set(None),
        role: Set(UserRole::Member),
        locale: Set(Locale::En),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        // Columns of later migrations stay unset.
        ..Default::default()
    };
    // Inserted without RETURNING: the table has none of the later columns yet.
    let insert_user = async |name: &str| {
        let row = user(name);
        let id = row.id.clone().unwrap();
        entity::user::Entity::insert(row)
            .exec_without_returning(&conn)
            .await
            .unwrap();
        id
    };
    let both = insert_user("both").await;
    let only_p = insert_user("only-p").await;
    let nobody = insert_user("nobody").await;
    let program = |key: &str| entity::program::ActiveModel {
        id: Set(Uuid::now_v7()),
        key: Set(key.into()),
        name: Set(key.into()),
        description: Set(None),
        objective: Set(None),
        status: Set(ProgramStatus::Active),
        health: Set(Health::OnTrack),
        start_date: Set(None),
        target_date: Set(None),
        budget_amount: Set(None),
        budget_currency: Set(None),
        owner_id: Set(both),
        archived_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let old_row = async |row: entity::program::ActiveModel| {
        let id = row.id.clone().unwrap();
        entity::program::Entity::insert(row)
            .exec_without_returning(&conn)
            .await
            .unwrap();
        id
    };
    let p = old_row(program("PPP")).await;
    let q = old_row(program("QQQ")).await;
    for (program_id, user_id, role) in [
        (p, both, ProgramRole::Owner),
        (q, both, ProgramRole::Owner),
        (p, only_p, ProgramRole::Viewer),
    ] {
        entity::program_member::ActiveModel {
            id: Set(Uuid::now_v7()),
            program_id: Set(program_id),
            user_id: Set(user_id),
            role: Set(role),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&conn)
        .await
        .unwrap();
    }
    let workstream = |program_id: Uuid, lead: Uuid| entity::workstream::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program_id),
        name: Set("ws".into()),
        description: Set(None),
        team_id: Set(None),
        lead_id: Set(Some(lead)),
        status: Set(WorkstreamStatus::NotStarted),
        health: Set(Health::OnTrack),
        start_date: Set(None),
        target_date: Set(None),
        progress: Set(0),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let old_workstream = async |row: entity::workstream::ActiveModel| {
        let id = row.id.clone().unwrap();
        entity::workstream::Entity::insert(row)
            .exec_without_returning(&conn)
            .await
            .unwrap();
        id
    };
    let in_p = old_workstream(workstream(p, nobody)).await;
    let in_q = old_workstream(workstream(q, both)).await;
    let decision = entity::decision::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(p),
        title: Set("d".into()),
        context: Set(None),
        outcome: Set(None),
        rationale: Set(None),
        consequences: Set(None),
        status: Set(DecisionStatus::Proposed),
        decided_by_id: Set(None),
        decided_at: Set(None),
        due_date: Set(None),
        superseded_by_id: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&conn)
    .await
    .unwrap()
    .id;

    let insert = |table: &str, columns: Vec<&str>, values: Vec<sea_orm::Value>| {
        Query::insert()
            .into_table(Alias::new(table))
            .columns(columns.into_iter().map(Alias::new))
            .values_panic(values.into_iter().map(Into::into))
            .to_owned()
    };
    let dependency = Uuid::now_v7();
    let milestone = Uuid::now_v7();
    let option = Uuid::now_v7();
    for statement in [
        insert(
            "dependencies",
            vec![
                "id",
                "program_id",
                "upstream_id",
                "downstream_id",
                "status",
                "committed_by_id",
                "version",
                "created_at",
                "updated_at",
            ],
            vec![
                dependency.into(),
                p.into(),
                in_q.into(),
                in_p.into(),
                "OPEN".into(),
                only_p.into(),
                1.into(),
                now.into(),
                now.into(),
            ],
        ),
        insert(
            "milestones",
            vec![
                "id",
                "workstream_id",
                "name",
                "version",
                "created_at",
                "updated_at",
            ],
            vec![
                milestone.into(),
                in_p.into(),
                "m".into(),
                1.into(),
                now.into(),
                now.into(),
            ],
        ),
        insert(
            "decision_options",
            vec!["id", "decision_id", "position", "title"],
            vec![option.into(), decision.into(), 0.into(), "o".into()],
        ),
    ] {
        conn.execute(&statement).await.expect("insert an old row");
    }
    let risk = Uuid::now_v7();
    conn.execute(&insert(
        "risks",
        vec![
            "id",
            "program_id",
            "title",
            "likelihood",
            "impact",
            "score",
            "status",
            "owner_id",
            "dependency_id",
            "version",
            "created_at",
            "updated_at",
        ],
        vec![
            risk.into(),
            p.into(),
            "r".into(),
            3.into(),
            3.into(),
            9.into(),
            "OPEN".into(),
            nobody.into(),
            dependency.into(),
            1.into(),
            now.into(),
            now.into(),
        ],
    ))
    .await
    .expect("insert an old risk");
    let deleted_dependency = Uuid::now_v7();
    let mut events = Vec::new();
    for (entity_type, entity_id, changes) in [
        (
            "Dependency",
            dependency,
            json!({ "upstreamId": { "before": null, "after": in_q.to_string() } }),
        ),
        (
            "Dependency",
            deleted_dependency,
            json!({ "upstreamId": { "before": in_q.to_string(), "after": null } }),
        ),
        (
            "Risk",
            risk,
            json!({ "dependencyId": { "before": null, "after": dependency.to_string() } }),
        ),
        (
            "Workstream",
            in_p,
            json!({ "name": { "before": null, "after": "ws" } }),
        ),
    ] {
        let id = Uuid::now_v7();
        events.push(id);
        let statement = insert(
            "audit_events",
            vec![
                "id",
                "program_id",
                "actor_id",
                "action",
                "entity_type",
                "entity_id",
                "changes",
                "at",
            ],
            vec![
                id.into(),
                p.into(),
                both.into(),
                "x.create".into(),
                entity_type.into(),
                entity_id.into(),
                changes.into(),
                now.into(),
            ],
        );
        conn.execute(&statement).await.expect("insert an old entry");
    }

    Migrator::up(&conn, None)
        .await
        .expect("the scope migration");

    let milestone = entity::milestone::Entity::find_by_id(milestone)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(milestone.program_id, p);
    let option = entity::decision_option::Entity::find_by_id(option)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(option.program_id, p);
    let dependency = entity::dependency::Entity::find_by_id(dependency)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dependency.upstream_program_id, q);
    assert_eq!(dependency.status, DependencyStatus::Open);
    assert_eq!(
        dependency.committed_by_id, None,
        "not a member of the upstream program"
    );
    let lead = |id| {
        let conn = &conn;
        async move {
            entity::workstream::Entity::find_by_id(id)
                .one(conn)
                .await
                .unwrap()
                .unwrap()
                .lead_id
        }
    };
    assert_eq!(lead(in_p).await, None, "not a member of the program");
    assert_eq!(lead(in_q).await, Some(both));
    let risk = entity::risk::Entity::find_by_id(risk)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(risk.owner_id, None);
    let mut related = Vec::new();
    for id in events {
        related.push(
            entity::audit_event::Entity::find_by_id(id)
                .one(&conn)
                .await
                .unwrap()
                .unwrap()
                .related_program_id,
        );
    }
    assert_eq!(related, vec![Some(q), Some(q), Some(q), None]);
    conn.close().await.ok();
}
