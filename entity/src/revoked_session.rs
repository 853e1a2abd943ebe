//! The `revoked_sessions` table: signed tokens ended by `logout`.

use sea_orm::entity::prelude::*;

/// One logged-out token, kept until it would have expired.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "revoked_sessions")]
pub struct Model {
    /// SHA-256 hex of the token (primary key).
    #[sea_orm(primary_key, auto_increment = false)]
    pub fingerprint: String,
    /// Whose token it was.
    pub user_id: Uuid,
    /// When the token would have expired; the row may be deleted after it.
    pub expires_at: DateTimeUtc,
    /// When it was logged out.
    pub created_at: DateTimeUtc,
}

/// Relations of the `revoked_sessions` table.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The token's user.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl ActiveModelBehavior for ActiveModel {}
