//! How a list is ordered: the sortable fields of each list, declared once
//! ([`order_fields!`], [`sql_order_fields!`]), the value a row sorts by, and
//! the opaque cursor that marks a place in an ordering.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, Value};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Sort direction of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// The value a row is sorted by, as carried inside a cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v")]
pub enum SortKey {
    /// A text column.
    Text(String),
    /// An integer column.
    Int(i64),
    /// A calendar-day column.
    Date(NaiveDate),
    /// A timestamp column.
    Time(DateTime<Utc>),
    /// A NULL in a nullable column (sorted last).
    Null,
}

impl SortKey {
    pub(super) fn value(&self) -> Option<Value> {
        match self {
            Self::Text(text) => Some(text.clone().into()),
            Self::Int(int) => Some((*int).into()),
            Self::Date(date) => Some((*date).into()),
            Self::Time(time) => Some((*time).into()),
            Self::Null => None,
        }
    }
}

impl From<String> for SortKey {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}
impl From<i32> for SortKey {
    fn from(value: i32) -> Self {
        Self::Int(value.into())
    }
}
impl From<NaiveDate> for SortKey {
    fn from(value: NaiveDate) -> Self {
        Self::Date(value)
    }
}
impl From<DateTime<Utc>> for SortKey {
    fn from(value: DateTime<Utc>) -> Self {
        Self::Time(value)
    }
}
impl<T: Into<SortKey>> From<Option<T>> for SortKey {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}

/// A position in a list: the sort value and the id that breaks ties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Which ordering issued the cursor (a cursor is only valid for it).
    #[serde(rename = "o")]
    pub ordering: String,
    /// The sort value.
    #[serde(rename = "k")]
    pub key: SortKey,
    /// The row id.
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl Cursor {
    /// The opaque string handed to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub(super) fn decode(field: &str, text: &str, ordering: &str) -> ApiResult<Self> {
        let invalid = || ApiError::bad_input(field, Message::InvalidCursor);
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let cursor: Self = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.ordering != ordering {
            return Err(invalid());
        }
        Ok(cursor)
    }
}

impl<C: ColumnTrait> Ordering<C> {
    /// The ordering by `field` of an `E` list, ties broken by `id_column`.
    pub fn of<E, F>(field: F, direction: Direction, id_column: C) -> Self
    where
        E: EntityTrait<Column = C>,
        F: SqlOrderField<E>,
    {
        Self {
            name: format!("{}:{direction:?}", field.name()),
            column: field.column(),
            id_column,
            direction,
        }
    }
}

/// How a list is ordered: one column plus the id as tie-break.
pub struct Ordering<C> {
    /// A stable name of the ordering, checked against cursors.
    pub name: String,
    /// The sorted column.
    pub column: C,
    /// The id column (tie-break).
    pub id_column: C,
    /// Sort direction of both.
    pub direction: Direction,
}

/// A field a list of `M` can be sorted by.
pub trait OrderField<M>: Copy {
    /// Its name in cursors, e.g. `TARGET_DATE` (a cursor is only valid for
    /// the ordering that issued it).
    fn name(self) -> &'static str;
    /// The value `row` sorts by; `SortKey::Null` sorts last.
    fn key(self, row: &M) -> SortKey;
}

/// A field a list of `E` can be sorted by in SQL.
pub trait SqlOrderField<E: EntityTrait>: OrderField<E::Model> {
    /// The sorted column.
    fn column(self) -> E::Column;
}

/// Declare the sortable fields of a list of `$model`: each variant with its
/// cursor name and the value a row sorts by, in one place.
macro_rules! order_fields {
    (
        $(#[$meta:meta])*
        pub enum $name:ident for $model:ty {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $label:literal => |$row:ident| $key:expr
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )*
        }

        impl $crate::domain::pagination::OrderField<$model> for $name {
            fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $label, )*
                }
            }

            fn key(self, row: &$model) -> $crate::domain::pagination::SortKey {
                match self {
                    $( Self::$variant => {
                        let $row = row;
                        $key.into()
                    } )*
                }
            }
        }
    };
}
pub(crate) use order_fields;

/// [`order_fields!`] for a list sorted in SQL: each variant also names the
/// column of `$module`'s table it sorts by.
macro_rules! sql_order_fields {
    (
        $(#[$meta:meta])*
        pub enum $name:ident for $module:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $label:literal, $column:ident => |$row:ident| $key:expr
            ),* $(,)?
        }
    ) => {
        $crate::domain::pagination::order_fields! {
            $(#[$meta])*
            pub enum $name for $module::Model {
                $( $(#[$variant_meta])* $variant = $label => |$row| $key, )*
            }
        }

        impl $crate::domain::pagination::SqlOrderField<$module::Entity> for $name {
            fn column(self) -> $module::Column {
                match self {
                    $( Self::$variant => $module::Column::$column, )*
                }
            }
        }
    };
}
pub(crate) use sql_order_fields;

/// Order two rows of a list: by sort value in `direction` with NULLs last,
/// then by id in the same direction.
pub(super) fn compare(
    a: (&SortKey, Uuid),
    b: (&SortKey, Uuid),
    direction: Direction,
) -> std::cmp::Ordering {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let flip = |ord: std::cmp::Ordering| match direction {
        Direction::Asc => ord,
        Direction::Desc => ord.reverse(),
    };
    let by_key = match (a.0, b.0) {
        (SortKey::Null, SortKey::Null) => Equal,
        (SortKey::Null, _) => return Greater,
        (_, SortKey::Null) => return Less,
        (SortKey::Text(x), SortKey::Text(y)) => flip(x.cmp(y)),
        (SortKey::Int(x), SortKey::Int(y)) => flip(x.cmp(y)),
        (SortKey::Date(x), SortKey::Date(y)) => flip(x.cmp(y)),
        (SortKey::Time(x), SortKey::Time(y)) => flip(x.cmp(y)),
        _ => Equal,
    };
    by_key.then_with(|| flip(a.1.cmp(&b.1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_ordering() {
        let cursor = Cursor {
            ordering: "NAME:ASC".into(),
            key: SortKey::Text("한국".into()),
            id: Uuid::now_v7(),
        };
        let text = cursor.encode();
        assert_eq!(Cursor::decode("after", &text, "NAME:ASC").unwrap(), cursor);
        assert!(Cursor::decode("after", &text, "NAME:DESC").is_err());
        assert!(Cursor::decode("after", "garbage!", "NAME:ASC").is_err());
    }
}
