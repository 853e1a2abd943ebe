//! Safe retries: a mutation sent with an `Idempotency-Key` runs once per
//! user and key. Its response is kept [`KEPT_FOR`] in the database (so every
//! replica knows it) and replayed to a retry of the same request; the same
//! key with another request, or while the first still runs, is `CONFLICT`.
//!
//! A key is claimed before the request runs (a row without a status), then
//! either completed with the response or released when the request failed
//! in a way a retry should not repeat (an internal error, a refused rate).
//! A claim lapses at `locked_until`, so a server that died mid-request does
//! not hold the key for a day. What the request commits marks its key as
//! run in the same transaction ([`holding`]): a server that dies after its
//! work committed but before it kept the answer leaves a key that a retry
//! never runs again (it is told the answer was not kept), and an answer
//! that frees the key (an internal error) frees it only when nothing
//! committed.

use chrono::{DateTime, TimeDelta, Utc};
use entity::idempotency_key;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};
use uuid::Uuid;

use super::Domain;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// How long a key and its response are kept.
pub const KEPT_FOR: TimeDelta = TimeDelta::hours(24);

/// Largest response kept for replay; a larger one is remembered as run,
/// and a retry is told so instead of running it again.
pub const MAX_KEPT_BYTES: usize = 256 * 1024;

/// The status a claimed key holds once the request's work committed and
/// before its answer is kept.
const COMMITTED: i32 = 0;

tokio::task_local! {
    /// The user and key claimed by the request running in this task.
    static CLAIMED: (Uuid, String);
}

/// Run `work` (a request's execution) holding `user`'s claimed `key`: each
/// mutation it commits marks the key as run in its own transaction.
pub async fn holding<F: std::future::Future>(user: Uuid, key: String, work: F) -> F::Output {
    CLAIMED.scope((user, key), work).await
}

/// Inside a mutation's transaction: mark the key claimed by the request
/// running in this task, if any, as run.
pub(super) async fn mark_committed(txn: &DatabaseTransaction) -> ApiResult<()> {
    let Ok((user, key)) = CLAIMED.try_with(Clone::clone) else {
        return Ok(());
    };
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::StatusCode,
            sea_orm::sea_query::Expr::value(COMMITTED),
        )
        .filter(idempotency_key::Column::UserId.eq(user))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::StatusCode.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

/// What a request carrying a key may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or forgotten): run the request, then [`Domain::complete_idempotent`].
    Run,
    /// The same request ran before: answer this.
    Replay {
        /// The HTTP status it was answered with.
        status: u16,
        /// The response body.
        body: String,
    },
}

/// Whether `row` no longer binds its key: expired, or a claim that lapsed.
fn forgotten(row: &idempotency_key::Model, now: DateTime<Utc>) -> bool {
    row.expires_at <= now || (row.status_code.is_none() && row.locked_until <= now)
}

/// The same test in SQL, for taking a forgotten key over.
fn forgotten_condition(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(idempotency_key::Column::ExpiresAt.lte(now))
        .add(
            Condition::all()
                .add(idempotency_key::Column::StatusCode.is_null())
                .add(idempotency_key::Column::LockedUntil.lte(now)),
        )
}

impl Domain {
    /// Claim `key` of `user` for a request whose fingerprint is
    /// `fingerprint`, held at most `lease` while it runs.
    pub async fn claim_idempotent(
        &self,
        user: Uuid,
        key: &str,
        fingerprint: &str,
        lease: std::time::Duration,
    ) -> ApiResult<Claim> {
        let now = entity::now();
        let locked_until = now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::minutes(1));
        let claim = idempotency_key::ActiveModel {
            user_id: Set(user),
            key: Set(key.to_owned()),
            fingerprint: Set(fingerprint.to_owned()),
            status_code: Set(None),
            body: Set(None),
            locked_until: Set(locked_until),
            expires_at: Set(now + KEPT_FOR),
            created_at: Set(now),
        };
        let inserted = idempotency_key::Entity::insert(claim.clone())
            .on_conflict(
                OnConflict::columns([
                    idempotency_key::Column::UserId,
                    idempotency_key::Column::Key,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        if inserted == 1 {
            return Ok(Claim::Run);
        }
        let row = idempotency_key::Entity::find_by_id((user, key.to_owned()))
            .one(&self.db)
            .await?
            .ok_or(ApiError::Conflict(Message::IdempotencyKeyInProgress))?;
        if forgotten(&row, now) {
            // Only one of several retries racing for a forgotten key wins it.
            let taken = idempotency_key::Entity::update_many()
                .set(claim)
                .filter(idempotency_key::Column::UserId.eq(user))
                .filter(idempotency_key::Column::Key.eq(key))
                .filter(forgotten_condition(now))
                .exec(&self.db)
                .await?;
            return if taken.rows_affected == 1 {
                Ok(Claim::Run)
            } else {
                Err(ApiError::Conflict(Message::IdempotencyKeyInProgress))
            };
        }
        if row.fingerprint != fingerprint {
            return Err(ApiError::Conflict(Message::IdempotencyKeyReused));
        }
        match (row.status_code, row.body) {
            (None, _) => Err(ApiError::Conflict(Message::IdempotencyKeyInProgress)),
            // Its work committed; its answer comes unless its server died.
            (Some(COMMITTED), None) if row.locked_until > now => {
                Err(ApiError::Conflict(Message::IdempotencyKeyInProgress))
            }
            (Some(status), Some(body)) => Ok(Claim::Replay {
                status: u16::try_from(status).unwrap_or(200),
                body,
            }),
            (Some(_), None) => Err(ApiError::Conflict(Message::IdempotencyResponseNotKept)),
        }
    }

    /// Keep the response of the request that claimed `key` (an empty body,
    /// or one over [`MAX_KEPT_BYTES`], is remembered as run, without the body).
    pub async fn complete_idempotent(
        &self,
        user: Uuid,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> ApiResult<()> {
        let body = (!body.is_empty() && body.len() <= MAX_KEPT_BYTES)
            .then(|| String::from_utf8_lossy(body).into_owned());
        idempotency_key::Entity::update_many()
            .col_expr(
                idempotency_key::Column::StatusCode,
                sea_orm::sea_query::Expr::value(i32::from(status)),
            )
            .col_expr(
                idempotency_key::Column::Body,
                sea_orm::sea_query::Expr::value(body),
            )
            .filter(idempotency_key::Column::UserId.eq(user))
            .filter(idempotency_key::Column::Key.eq(key))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Give `key` back: the request failed in a way a retry should run
    /// again. When some of its work committed, the key stays, as run and
    /// with its answer not kept.
    pub async fn release_idempotent(&self, user: Uuid, key: &str) -> ApiResult<()> {
        let deleted = idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::UserId.eq(user))
            .filter(idempotency_key::Column::Key.eq(key))
            .filter(idempotency_key::Column::StatusCode.is_null())
            .exec(&self.db)
            .await?;
        if deleted.rows_affected == 0 {
            idempotency_key::Entity::update_many()
                .col_expr(
                    idempotency_key::Column::LockedUntil,
                    sea_orm::sea_query::Expr::value(entity::now()),
                )
                .filter(idempotency_key::Column::UserId.eq(user))
                .filter(idempotency_key::Column::Key.eq(key))
                .filter(idempotency_key::Column::StatusCode.eq(COMMITTED))
                .exec(&self.db)
                .await?;
        }
        Ok(())
    }

    /// Delete the keys past their day; returns how many.
    pub async fn forget_expired_idempotency_keys(&self) -> ApiResult<u64> {
        let deleted = idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::ExpiresAt.lte(entity::now()))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected)
    }
}
