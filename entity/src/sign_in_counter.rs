//! The `sign_in_counters` table: failed sign-ins per client address and per
//! account, shared by every replica on the database.

use sea_orm::entity::prelude::*;

/// One counter.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_counters")]
pub struct Model {
    /// `address:` and a client network, or `account:` and a normalised email.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// The counter as JSON.
    #[sea_orm(column_type = "Text")]
    pub state: String,
    /// When the counter no longer matters and may be deleted.
    pub expires_at: DateTimeUtc,
}

/// The table has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
