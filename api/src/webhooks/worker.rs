//! The worker that sends the outbox: one per server, claiming due
//! deliveries in batches, posting them concurrently and recording each
//! attempt.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use entity::{enums::DeliveryState, webhook, webhook_delivery};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, Statement,
};
use tokio::sync::{Notify, Semaphore, watch};
use uuid::Uuid;

use super::{WRITTEN, signature, target};

/// Attempts before a delivery is given up (`FAILED`): the first, then six
/// retries that, with the default backoff, span a little over an hour.
pub const MAX_ATTEMPTS: i32 = 7;

/// Most characters of a failure kept on the delivery.
const ERROR_MAX: usize = 300;

/// How deliveries are made, from configuration.
#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// Whether loopback, private and link-local targets are allowed.
    pub allow_private: bool,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// The first retry's delay; each later one is three times the one before.
    pub retry_base: Duration,
    /// How often the outbox is looked at without a wake-up (other
    /// replicas' deliveries, retries coming due).
    pub poll: Duration,
    /// Most deliveries in flight on this server (one program's, at most a quarter).
    pub concurrency: usize,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            concurrency: 16,
        }
    }
}

/// The wait before the attempt after attempt number `attempt` (1-based):
/// `base × 3^(attempt-1)`. With a 10 s base: 10 s, 30 s, 1.5 min, 4.5 min,
/// 13.5 min, 40.5 min, a little over an hour for the six retries.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(12);
    base.saturating_mul(3u32.pow(exponent))
}

/// Claim up to `limit` due deliveries for `lease`, none of programs in
/// `full` (those already using their share of this server's sends): each is
/// taken by one server only, and comes due again if that server dies before
/// recording it.
async fn claim(
    db: &DatabaseConnection,
    limit: usize,
    lease: Duration,
    full: &[Uuid],
) -> Result<Vec<webhook_delivery::Model>, sea_orm::DbErr> {
    let now = Utc::now();
    let until = now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::minutes(1));
    let backend = db.get_database_backend();
    let postgres = backend == DbBackend::Postgres;
    // Numbered on both (`$n`, `?n`): the excluded programs come last.
    let placeholder = |n: usize| {
        if postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    };
    let excluded = if full.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = (0..full.len()).map(|i| placeholder(i + 4)).collect();
        format!("AND program_id NOT IN ({}) ", list.join(", "))
    };
    let lock = if postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET next_attempt_at = {} WHERE id IN (\
           SELECT id FROM webhook_deliveries \
           WHERE state = 'PENDING' AND next_attempt_at <= {} {excluded}\
           ORDER BY next_attempt_at LIMIT {}{lock}) \
         RETURNING *",
        placeholder(1),
        placeholder(2),
        placeholder(3),
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut values: Vec<sea_orm::Value> = vec![until.into(), now.into(), limit.into()];
    values.extend(full.iter().map(|program| (*program).into()));
    webhook_delivery::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await
}

/// What one attempt came to.
struct Attempt {
    status_code: Option<i32>,
    error: Option<String>,
    duration: Duration,
}

impl Attempt {
    fn delivered(&self) -> bool {
        self.error.is_none()
    }
}

/// Post `delivery` to `hook` once.
async fn attempt(
    client: &reqwest::Client,
    policy: &DeliveryPolicy,
    hook: &webhook::Model,
    delivery: &webhook_delivery::Model,
) -> Attempt {
    let started = Instant::now();
    let refused = |error: &str| Attempt {
        status_code: None,
        error: Some(error.to_owned()),
        duration: started.elapsed(),
    };
    let Ok(url) = url::Url::parse(&hook.url) else {
        return refused("the URL does not parse");
    };
    if !target::allowed(&url, policy.allow_private) {
        return refused("the target is a loopback, private or link-local address");
    }
    let body = delivery.payload.clone().into_bytes();
    let header = signature::sign(&hook.secret, Utc::now().timestamp(), &body);
    let sent = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Trestle-Event", &delivery.event)
        .header("Trestle-Delivery", delivery.id.to_string())
        .header("Trestle-Signature", header)
        .body(body)
        .send()
        .await;
    let duration = started.elapsed();
    match sent {
        Ok(response) if response.status().is_success() => Attempt {
            status_code: Some(i32::from(response.status().as_u16())),
            error: None,
            duration,
        },
        Ok(response) => Attempt {
            status_code: Some(i32::from(response.status().as_u16())),
            error: Some(format!(
                "the receiver answered HTTP {}",
                response.status().as_u16()
            )),
            duration,
        },
        Err(error) => Attempt {
            status_code: None,
            error: Some(describe(&error)),
            duration,
        },
    }
}

/// A failure in words a program owner can act on, without the chain of
/// library errors.
fn describe(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let text = if error.is_timeout() {
        "the receiver did not answer in time".to_owned()
    } else if error.is_connect() {
        let mut cause = error.source();
        let mut innermost = None;
        while let Some(next) = cause {
            innermost = Some(next.to_string());
            cause = next.source();
        }
        format!(
            "could not connect: {}",
            innermost.unwrap_or_else(|| "connection failed".to_owned())
        )
    } else {
        "the request failed".to_owned()
    };
    match text.char_indices().nth(ERROR_MAX) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text,
    }
}

/// Record `result` on `delivery`: delivered, tried again later, or given up.
async fn record(
    db: &DatabaseConnection,
    policy: &DeliveryPolicy,
    delivery: webhook_delivery::Model,
    result: Attempt,
) -> Result<(), sea_orm::DbErr> {
    let attempt = delivery.attempt + 1;
    let now = entity::now();
    let delivered = result.delivered();
    let mut row: webhook_delivery::ActiveModel = delivery.into();
    row.attempt = Set(attempt);
    row.status_code = Set(result.status_code);
    row.duration_ms = Set(Some(
        i32::try_from(result.duration.as_millis()).unwrap_or(i32::MAX),
    ));
    row.error = Set(result.error);
    if delivered {
        row.state = Set(DeliveryState::Delivered);
        row.delivered_at = Set(Some(now));
        row.next_attempt_at = Set(None);
    } else if attempt >= MAX_ATTEMPTS {
        row.state = Set(DeliveryState::Failed);
        row.next_attempt_at = Set(None);
    } else {
        let wait =
            TimeDelta::from_std(backoff(policy.retry_base, attempt)).unwrap_or(TimeDelta::hours(1));
        row.next_attempt_at = Set(Some(now + wait));
    }
    row.update(db).await.map(|_| ())
}

/// What this server is sending now: a permit per delivery in flight, and
/// how many each program holds.
struct InFlight {
    permits: Arc<Semaphore>,
    by_program: Mutex<HashMap<Uuid, usize>>,
    /// Most deliveries of one program in flight at once.
    per_program: usize,
    /// Rung when a delivery finishes, so the worker claims again.
    finished: Notify,
}

impl InFlight {
    /// Programs using their whole share.
    fn full(&self) -> Vec<Uuid> {
        self.by_program
            .lock()
            .expect("the in-flight map is never poisoned")
            .iter()
            .filter(|(_, count)| **count >= self.per_program)
            .map(|(program, _)| *program)
            .collect()
    }

    fn count(&self, program: Uuid, change: isize) {
        let mut map = self
            .by_program
            .lock()
            .expect("the in-flight map is never poisoned");
        let count = map.entry(program).or_default();
        *count = count.saturating_add_signed(change);
        if *count == 0 {
            map.remove(&program);
        }
    }
}

/// Claim what free permits allow and send each delivery on its own task;
/// whether anything was claimed. A slow receiver holds only its own
/// permits, and one program at most a quarter of them, so one tenant's
/// receivers cannot stall everyone's deliveries.
async fn send_due(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    policy: &Arc<DeliveryPolicy>,
    in_flight: &Arc<InFlight>,
) -> Result<bool, sea_orm::DbErr> {
    let free = in_flight.permits.available_permits();
    if free == 0 {
        return Ok(false);
    }
    let lease = policy.timeout + Duration::from_secs(30);
    let batch = claim(db, free, lease, &in_flight.full()).await?;
    if batch.is_empty() {
        return Ok(false);
    }
    let hook_ids: Vec<Uuid> = batch.iter().map(|delivery| delivery.webhook_id).collect();
    let hooks: HashMap<Uuid, webhook::Model> = webhook::Entity::find()
        .filter(webhook::Column::Id.is_in(hook_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|hook| (hook.id, hook))
        .collect();
    let mut sent = false;
    let mut returned = Vec::new();
    for delivery in batch {
        // One claim may hold several rows of a program: those past its
        // share go back, due at once, for when its receiver frees a permit.
        let over_share = in_flight.full().contains(&delivery.program_id);
        let permit = match in_flight.permits.clone().try_acquire_owned() {
            Ok(permit) if !over_share => permit,
            _ => {
                returned.push(delivery.id);
                continue;
            }
        };
        sent = true;
        let hook = hooks.get(&delivery.webhook_id).cloned();
        let (db, client, policy, in_flight) = (
            db.clone(),
            client.clone(),
            policy.clone(),
            in_flight.clone(),
        );
        in_flight.count(delivery.program_id, 1);
        tokio::spawn(async move {
            let program = delivery.program_id;
            let result = match &hook {
                Some(hook) if hook.active => attempt(&client, &policy, hook, &delivery).await,
                _ => Attempt {
                    status_code: None,
                    error: Some("the webhook is paused".to_owned()),
                    duration: Duration::ZERO,
                },
            };
            if let Err(error) = record(&db, &policy, delivery, result).await {
                tracing::warn!(%error, "recording a webhook delivery failed");
            }
            in_flight.count(program, -1);
            drop(permit);
            in_flight.finished.notify_one();
        });
    }
    if !returned.is_empty() {
        webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::NextAttemptAt,
                sea_orm::sea_query::Expr::value(Some(entity::now())),
            )
            .filter(webhook_delivery::Column::Id.is_in(returned))
            .exec(db)
            .await?;
    }
    Ok(sent)
}

/// The HTTP client deliveries go out with: no proxy, no redirects, public
/// addresses only unless allowed, bounded in time.
pub fn client(policy: &DeliveryPolicy) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(policy.timeout)
        .connect_timeout(policy.timeout)
        .user_agent(concat!("Trestle-Webhooks/", env!("CARGO_PKG_VERSION")));
    let builder = if policy.allow_private {
        builder
    } else {
        builder.dns_resolver(std::sync::Arc::new(target::PublicOnly))
    };
    builder.build().expect("the webhook client builds")
}

/// Send the outbox of `db` until `stop` becomes `true`: at once when this
/// server commits deliveries or a send finishes, and every `policy.poll` for
/// the rest.
pub async fn run(db: DatabaseConnection, policy: DeliveryPolicy, mut stop: watch::Receiver<bool>) {
    let client = client(&policy);
    let concurrency = policy.concurrency.max(1);
    let in_flight = Arc::new(InFlight {
        permits: Arc::new(Semaphore::new(concurrency)),
        by_program: Mutex::new(HashMap::new()),
        per_program: (concurrency / 4).max(1),
        finished: Notify::new(),
    });
    let policy = Arc::new(policy);
    let mut written = WRITTEN.subscribe();
    let mut ticks = tokio::time::interval(policy.poll);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        match send_due(&db, &client, &policy, &in_flight).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "the webhook worker failed; trying again later"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = written.changed() => {}
            _ = in_flight.finished.notified() => {}
            _ = ticks.tick() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_a_little_over_an_hour() {
        let base = Duration::from_secs(10);
        let waits: Vec<u64> = (1..MAX_ATTEMPTS)
            .map(|attempt| backoff(base, attempt).as_secs())
            .collect();
        assert_eq!(waits, [10, 30, 90, 270, 810, 2430]);
        let total: u64 = waits.iter().sum();
        assert!((3600..7200).contains(&total), "{total}");
    }
}
