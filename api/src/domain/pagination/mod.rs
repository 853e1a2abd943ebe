//! Relay-style keyset pagination: stable pages while rows come and go, in
//! SQL ([`paginate`]) or over rows already loaded ([`paginate_rows`]), in an
//! ordering declared in [`order`].

use std::sync::Arc;

use futures::future::BoxFuture;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Value,
    sea_query::{Expr, NullOrdering},
};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: usize = 50;

mod order;

use order::compare;
pub use order::{Cursor, Direction, OrderField, Ordering, SortKey, SqlOrderField};
pub(crate) use order::{order_fields, sql_order_fields};

/// The raw pagination arguments of a connection field.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    /// Items after `after`, at most this many.
    pub first: Option<i32>,
    /// Cursor to start after.
    pub after: Option<String>,
    /// Items before `before`, at most this many.
    pub last: Option<i32>,
    /// Cursor to end before.
    pub before: Option<String>,
}

/// Lazily counts the whole filtered list, only when a client asks.
pub type TotalCount = Arc<dyn Fn() -> BoxFuture<'static, ApiResult<u64>> + Send + Sync>;

/// One page of a list.
pub struct Page<T> {
    /// Items with their cursors, in list order. A cursor is encoded only
    /// when a client asks for it.
    pub items: Vec<(Cursor, T)>,
    /// Whether items exist before this page.
    pub has_previous_page: bool,
    /// Whether items exist after this page.
    pub has_next_page: bool,
    /// The size of the whole list.
    pub total_count: TotalCount,
}

impl<T> Page<T> {
    /// A list with nothing in it.
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            has_previous_page: false,
            has_next_page: false,
            total_count: Arc::new(|| Box::pin(async { Ok(0) })),
        }
    }

    /// The same page with each item mapped.
    pub fn map<U>(self, f: impl Fn(T) -> U) -> Page<U> {
        Page {
            items: self
                .items
                .into_iter()
                .map(|(cursor, item)| (cursor, f(item)))
                .collect(),
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            total_count: self.total_count,
        }
    }
}

struct Window {
    after: Option<Cursor>,
    before: Option<Cursor>,
    limit: usize,
    backward: bool,
}

/// How many items a plain list returns: `first` when given (0 to `max`,
/// `BAD_USER_INPUT` otherwise), else `max`.
pub fn list_size(first: Option<i32>, max: usize) -> ApiResult<usize> {
    Ok(page_size("first", first, max)?.unwrap_or(max))
}

fn page_size(field: &str, value: Option<i32>, max: usize) -> ApiResult<Option<usize>> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(ApiError::bad_input(
            field,
            Message::OutOfRange {
                min: 0,
                max: max as i64,
            },
        )),
        Some(n) if n as usize > max => {
            Err(ApiError::bad_input(field, Message::PageTooLarge { max }))
        }
        Some(n) => Ok(Some(n as usize)),
    }
}

fn window(args: &PageArgs, ordering: &str, max: usize) -> ApiResult<Window> {
    let first = page_size("first", args.first, max)?;
    let last = page_size("last", args.last, max)?;
    if first.is_some() && last.is_some() {
        return Err(ApiError::bad_input("last", Message::FirstAndLast));
    }
    let after = args
        .after
        .as_deref()
        .map(|c| Cursor::decode("after", c, ordering))
        .transpose()?;
    let before = args
        .before
        .as_deref()
        .map(|c| Cursor::decode("before", c, ordering))
        .transpose()?;
    Ok(match last {
        Some(limit) => Window {
            after,
            before,
            limit,
            backward: true,
        },
        None => Window {
            after,
            before,
            limit: first.unwrap_or(DEFAULT_PAGE_SIZE.min(max)),
            backward: false,
        },
    })
}

/// Rows strictly after (`forward`) or before (`!forward`) `cursor` in the
/// list's order, where NULL sort values come after every other value.
fn beyond<C: ColumnTrait>(ordering: &Ordering<C>, cursor: &Cursor, forward: bool) -> Condition {
    let ascending = (ordering.direction == Direction::Asc) == forward;
    let cmp = |column: C, value: Value| {
        if ascending {
            column.gt(value)
        } else {
            column.lt(value)
        }
    };
    let id_beyond = cmp(ordering.id_column, cursor.id.into());
    match (cursor.key.value(), forward) {
        (Some(value), true) => Condition::any()
            .add(cmp(ordering.column, value.clone()))
            .add(
                Condition::all()
                    .add(ordering.column.eq(value))
                    .add(id_beyond),
            )
            .add(ordering.column.is_null()),
        (Some(value), false) => Condition::any()
            .add(cmp(ordering.column, value.clone()))
            .add(
                Condition::all()
                    .add(ordering.column.eq(value))
                    .add(id_beyond),
            ),
        (None, true) => Condition::all()
            .add(ordering.column.is_null())
            .add(id_beyond),
        (None, false) => Condition::any().add(ordering.column.is_not_null()).add(
            Condition::all()
                .add(ordering.column.is_null())
                .add(id_beyond),
        ),
    }
}

/// Fetch one page of `select` in `ordering`; `key` and `id` read a row's cursor parts.
pub async fn paginate<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    ordering: Ordering<E::Column>,
    args: &PageArgs,
    max_page_size: usize,
    key: impl Fn(&E::Model) -> SortKey,
    id: impl Fn(&E::Model) -> Uuid,
) -> ApiResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let window = window(args, &ordering.name, max_page_size)?;
    let total_count: TotalCount = {
        let db = db.clone();
        let select = select.clone();
        Arc::new(move || {
            let db = db.clone();
            let select = select.clone();
            Box::pin(async move { Ok(select.count(&db).await?) })
        })
    };

    let mut query = select;
    if let Some(after) = &window.after {
        query = query.filter(beyond(&ordering, after, true));
    }
    if let Some(before) = &window.before {
        query = query.filter(beyond(&ordering, before, false));
    }
    let forward_asc = ordering.direction == Direction::Asc;
    let ascending = forward_asc != window.backward;
    let (order, nulls) = if ascending {
        (
            Order::Asc,
            if window.backward {
                NullOrdering::First
            } else {
                NullOrdering::Last
            },
        )
    } else {
        (
            Order::Desc,
            if window.backward {
                NullOrdering::First
            } else {
                NullOrdering::Last
            },
        )
    };
    let rows = query
        .order_by_with_nulls(Expr::col(ordering.column), order.clone(), nulls)
        .order_by(ordering.id_column, order)
        .limit(window.limit as u64 + 1)
        .all(db)
        .await?;

    let has_more = rows.len() > window.limit;
    let mut rows: Vec<E::Model> = rows.into_iter().take(window.limit).collect();
    if window.backward {
        rows.reverse();
    }
    let items = rows
        .into_iter()
        .map(|row| {
            let cursor = Cursor {
                ordering: ordering.name.clone(),
                key: key(&row),
                id: id(&row),
            };
            (cursor, row)
        })
        .collect();
    let (has_previous_page, has_next_page) = if window.backward {
        (has_more, window.before.is_some())
    } else {
        (window.after.is_some(), has_more)
    };
    Ok(Page {
        items,
        has_previous_page,
        has_next_page,
        total_count,
    })
}

impl super::Domain {
    /// Rows a loader holds, newest first (ties broken by id), as one page;
    /// `list` names the list in its cursors.
    pub fn page_newest_first<M: Send + Sync + 'static>(
        &self,
        rows: Vec<super::access::Visible<M>>,
        list: &str,
        args: &PageArgs,
        created: impl Fn(&M) -> chrono::DateTime<chrono::Utc>,
        id: impl Fn(&M) -> Uuid,
    ) -> ApiResult<Page<super::access::Visible<M>>> {
        paginate_rows(
            rows,
            &format!("{list}:CREATED_AT:Desc"),
            Direction::Desc,
            args,
            self.limits.max_page_size,
            |row| created(row).into(),
            |row| id(row),
        )
    }

    /// Filter (`keep`), order and page rows already in memory (a parent's
    /// children, loaded in one batch), as [`paginate_rows`].
    pub fn page_loaded<M, F>(
        &self,
        rows: Vec<super::access::Visible<M>>,
        keep: impl Fn(&M) -> bool,
        order: (F, Direction),
        args: &PageArgs,
        id: impl Fn(&M) -> Uuid,
    ) -> ApiResult<Page<super::access::Visible<M>>>
    where
        M: Send + Sync + 'static,
        F: OrderField<M>,
    {
        let (field, direction) = order;
        let rows = rows.into_iter().filter(|row| keep(row)).collect();
        paginate_rows(
            rows,
            &format!("{}:{direction:?}", field.name()),
            direction,
            args,
            self.limits.max_page_size,
            |row| field.key(row),
            |row| id(row),
        )
    }
}

/// Page through rows already in memory (a parent's children, loaded in one
/// batch), with the same cursors and ordering rules as [`paginate`].
pub fn paginate_rows<M: Send + Sync + 'static>(
    rows: Vec<M>,
    ordering: &str,
    direction: Direction,
    args: &PageArgs,
    max_page_size: usize,
    key: impl Fn(&M) -> SortKey,
    id: impl Fn(&M) -> Uuid,
) -> ApiResult<Page<M>> {
    let window = window(args, ordering, max_page_size)?;
    let total = rows.len() as u64;
    let mut keyed: Vec<(SortKey, Uuid, M)> = rows
        .into_iter()
        .map(|row| (key(&row), id(&row), row))
        .collect();
    keyed.sort_by(|a, b| compare((&a.0, a.1), (&b.0, b.1), direction));
    let inside = |item: &(SortKey, Uuid, M)| {
        window.after.as_ref().is_none_or(|c| {
            compare((&item.0, item.1), (&c.key, c.id), direction) == std::cmp::Ordering::Greater
        }) && window.before.as_ref().is_none_or(|c| {
            compare((&item.0, item.1), (&c.key, c.id), direction) == std::cmp::Ordering::Less
        })
    };
    let selected: Vec<(SortKey, Uuid, M)> = keyed.into_iter().filter(|item| inside(item)).collect();
    let count = selected.len();
    let (skip, has_previous_page, has_next_page) = if window.backward {
        let skip = count.saturating_sub(window.limit);
        (skip, skip > 0, window.before.is_some())
    } else {
        (0, window.after.is_some(), count > window.limit)
    };
    let items = selected
        .into_iter()
        .skip(skip)
        .take(window.limit)
        .map(|(key, id, row)| {
            let cursor = Cursor {
                ordering: ordering.to_owned(),
                key,
                id,
            };
            (cursor, row)
        })
        .collect();
    Ok(Page {
        items,
        has_previous_page,
        has_next_page,
        total_count: Arc::new(move || Box::pin(async move { Ok(total) })),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_in_memory_page_like_the_database_does() {
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        let rows: Vec<(Option<i32>, Uuid)> = vec![
            (Some(3), ids[0]),
            (None, ids[1]),
            (Some(1), ids[2]),
            (Some(3), ids[3]),
            (None, ids[4]),
        ];
        let page = |args: PageArgs| {
            paginate_rows(
                rows.clone(),
                "X",
                Direction::Asc,
                &args,
                100,
                |r| r.0.into(),
                |r| r.1,
            )
            .unwrap()
        };
        let all = page(PageArgs::default());
        let order: Vec<Uuid> = all.items.iter().map(|(_, r)| r.1).collect();
        assert_eq!(order, vec![ids[2], ids[0], ids[3], ids[1], ids[4]]);
        let first = page(PageArgs {
            first: Some(2),
            ..Default::default()
        });
        assert!(first.has_next_page);
        let next = page(PageArgs {
            first: Some(2),
            after: Some(first.items[1].0.encode()),
            ..Default::default()
        });
        assert_eq!(
            next.items.iter().map(|(_, r)| r.1).collect::<Vec<_>>(),
            vec![ids[3], ids[1]]
        );
        let last = page(PageArgs {
            last: Some(2),
            ..Default::default()
        });
        assert_eq!(
            last.items.iter().map(|(_, r)| r.1).collect::<Vec<_>>(),
            vec![ids[1], ids[4]]
        );
        assert!(last.has_previous_page);
    }

    use super::*;

    #[test]
    fn page_sizes_above_the_cap_are_refused_not_clamped() {
        let args = PageArgs {
            first: Some(101),
            ..Default::default()
        };
        assert!(window(&args, "x", 100).is_err());
        let args = PageArgs {
            first: Some(-1),
            ..Default::default()
        };
        assert!(window(&args, "x", 100).is_err());
        let args = PageArgs::default();
        assert_eq!(window(&args, "x", 100).unwrap().limit, 50);
    }
}
