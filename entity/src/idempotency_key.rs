//! The `idempotency_keys` table: a mutation's response kept under the
//! `Idempotency-Key` its caller sent, so a retried request replays it.

use sea_orm::entity::prelude::*;

/// One key of one user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// Whose key it is.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The header's value.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// SHA-256 hex of the request the key first came with.
    pub fingerprint: String,
    /// The HTTP status answered; `None` while the first request runs.
    pub status_code: Option<i32>,
    /// The response answered (JSON); `None` while running, or when too large to keep.
    #[sea_orm(column_type = "Text", nullable)]
    pub body: Option<String>,
    /// While running, when the claim lapses (a server that died mid-request).
    pub locked_until: DateTimeUtc,
    /// When the key is forgotten.
    pub expires_at: DateTimeUtc,
    /// When the key was first used.
    pub created_at: DateTimeUtc,
}

/// Relations of the `idempotency_keys` table.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The key's user.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl ActiveModelBehavior for ActiveModel {}
