//! The `persisted_queries` table: documents registered by automatic
//! persisted queries, shared by every replica on the database.

use sea_orm::entity::prelude::*;

/// One registered document.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persisted_queries")]
pub struct Model {
    /// The document's lowercase SHA-256 hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    /// The document.
    #[sea_orm(column_type = "Text")]
    pub document: String,
    /// What the entry weighs against the cache's budget in bytes.
    pub bytes: i32,
    /// When a replica last read it.
    pub used_at: DateTimeUtc,
}

/// The table has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
