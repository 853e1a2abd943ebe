//! The `settings` table: instance-wide key/value settings.

use sea_orm::entity::prelude::*;

/// One instance-wide setting.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "settings")]
pub struct Model {
    /// Setting key (primary key).
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Setting value as text.
    #[sea_orm(column_type = "Text")]
    pub value: String,
    /// When the setting was last updated.
    pub updated_at: DateTimeUtc,
}

/// Relations of the `settings` table (none).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
