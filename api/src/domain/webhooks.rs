//! A program's webhooks (its OWNERs' to manage and read) and the outbox
//! their deliveries are written to, in the transaction of the change they
//! report ([`enqueue`], called by `Domain::commit`). Sending is
//! `crate::webhooks`.
//!
//! A webhook of program P receives the history entries filed in P (those
//! between P and another program, such as a dependency across, too) whose
//! action matches one of its `events`. An entry that names another program
//! is delivered only while the webhook's creator can see that program as
//! well, so a webhook never carries what its owner could not read.

use std::collections::{HashMap, HashSet};

use entity::{
    audit_event::{self, Subject, Verb},
    enums::DeliveryState,
    user, webhook, webhook_delivery,
};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::validate::AllInputs;
use super::{
    Domain,
    access::{self, Action, Reach, Visible},
    audit::{self, Change},
    patch::{self, Patch},
    validate,
    versioned::{self, check_expected},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::events::ChangeKind;
use crate::i18n::Message;

/// Most webhooks of one program.
pub const MAX_PER_PROGRAM: usize = 20;
/// Most event patterns of one webhook.
pub const MAX_EVENTS: usize = 50;
/// Deliveries of one webhook a list reads (the newest).
pub const DELIVERIES_KEPT_IN_LISTS: u64 = 100;
/// Deliveries written per statement.
const INSERT_CHUNK: usize = 500;
/// Days a finished delivery is kept.
pub const DELIVERIES_KEPT_DAYS: i64 = 30;

/// What `createWebhook` accepts.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// The program whose changes it receives.
    pub program_id: Uuid,
    /// Where deliveries are posted.
    pub url: String,
    /// The actions delivered (`workstream.create`, `risk.*`, `*`).
    pub events: Vec<String>,
    /// What it is for.
    pub description: Option<String>,
}

/// What `updateWebhook` changes.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    /// New target.
    pub url: Patch<String>,
    /// New event patterns.
    pub events: Patch<Vec<String>>,
    /// New description.
    pub description: Patch<String>,
    /// Paused (`false`) or delivering (`true`).
    pub active: Patch<bool>,
}

/// One event pattern: `*`, `<subject>.*` or `<subject>.<verb>` of the
/// history's vocabulary (`workstream.create`, `dependency.commit`).
fn event_pattern(field: &str, value: &str) -> ApiResult<String> {
    use sea_orm::Iterable;
    let value = value.trim();
    let known = value == "*"
        || match value.split_once('.') {
            Some((prefix, verb)) => {
                Subject::iter().any(|subject| subject.action_prefix() == prefix)
                    && (verb == "*" || Verb::iter().any(|known| known.as_str() == verb))
            }
            None => false,
        };
    if known {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_input(field, Message::UnknownWebhookEvent))
    }
}

/// The patterns of a webhook: one or more, each known, no repeats.
fn event_patterns(events: Vec<String>) -> ApiResult<Vec<String>> {
    if events.is_empty() {
        return Err(ApiError::bad_input("input.events", Message::Required));
    }
    if events.len() > MAX_EVENTS {
        return Err(ApiError::bad_input(
            "input.events",
            Message::TooManyItems { max: MAX_EVENTS },
        ));
    }
    let mut patterns = validate::all_of(
        events
            .iter()
            .enumerate()
            .map(|(index, event)| event_pattern(&format!("input.events.{index}"), event)),
    )?;
    patterns.sort();
    patterns.dedup();
    Ok(patterns)
}

/// Whether `pattern` selects history `action`.
pub fn matches(pattern: &str, action: &str) -> bool {
    pattern == "*"
        || pattern == action
        || pattern
            .strip_suffix(".*")
            .is_some_and(|prefix| action.split_once('.').is_some_and(|(p, _)| p == prefix))
}

/// A target: an `http`/`https` URL that is not inside this network unless allowed.
fn target(url: &str, allow_private: bool) -> ApiResult<String> {
    let parsed = validate::http_url("input.url", url)?;
    if !crate::webhooks::target::allowed(&parsed, allow_private) {
        return Err(ApiError::bad_input(
            "input.url",
            Message::WebhookTargetPrivate,
        ));
    }
    Ok(parsed.to_string())
}

/// A new signing secret: `whsec_` and 32 random bytes in hex.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// Write the deliveries of `entries` (just recorded in `txn`) to the
/// webhooks subscribed to them; whether any was written.
pub async fn enqueue(txn: &DatabaseTransaction, entries: &[audit_event::Model]) -> ApiResult<bool> {
    let programs: HashSet<Uuid> = entries
        .iter()
        .flat_map(|entry| [entry.program_id, entry.related_program_id])
        .flatten()
        .collect();
    if programs.is_empty() {
        return Ok(false);
    }
    let hooks = webhook::Entity::find()
        .filter(webhook::Column::ProgramId.is_in(programs))
        .filter(webhook::Column::Active.eq(true))
        .all(txn)
        .await?;
    if hooks.is_empty() {
        return Ok(false);
    }
    // Each webhook's patterns, read once for every entry.
    let patterns: HashMap<Uuid, Vec<String>> = hooks
        .iter()
        .map(|hook| (hook.id, hook.event_patterns()))
        .collect();
    let mut deliveries = Vec::new();
    let mut actors: HashMap<Uuid, Option<user::Model>> = HashMap::new();
    for entry in entries {
        let subscribed: Vec<&webhook::Model> = hooks
            .iter()
            .filter(|hook| {
                audit::files_in(
                    hook.program_id,
                    entry.program_id,
                    entry.related_program_id,
                    &entry.entity_type,
                ) && patterns[&hook.id]
                    .iter()
                    .any(|pattern| matches(pattern, &entry.action))
            })
            .collect();
        if subscribed.is_empty() {
            continue;
        }
        // Between two programs: only for creators who can see both.
        let cleared: Option<HashSet<Uuid>> = match (entry.program_id, entry.related_program_id) {
            (Some(program_id), Some(other)) if other != program_id => {
                let creators: Vec<Uuid> = subscribed
                    .iter()
                    .filter_map(|hook| hook.created_by_id)
                    .collect();
                Some(
                    access::who_sees(txn, Reach::Between(program_id, other), &creators)
                        .await?
                        .into_iter()
                        .collect(),
                )
            }
            _ => None,
        };
        let actor = match entry.actor_id {
            Some(id) => match actors.get(&id) {
                Some(found) => found.clone(),
                None => {
                    let found = user::Entity::find_by_id(id).one(txn).await?;
                    actors.insert(id, found.clone());
                    found
                }
            },
            None => None,
        };
        let payload = json!({
            "id": entry.id,
            "kind": ChangeKind::of(&entry.action, &entry.changes).name(),
            "action": entry.action,
            "entityType": entry.entity_type,
            "entityId": entry.entity_id,
            "programId": entry.program_id,
            "actor": actor.map(|actor| json!({ "id": actor.id, "name": actor.name, "email": actor.email })),
            "at": entry.at,
            "changes": entry.changes,
        })
        .to_string();
        for hook in subscribed {
            let reveals_too_much = cleared
                .as_ref()
                .is_some_and(|cleared| !hook.created_by_id.is_some_and(|id| cleared.contains(&id)));
            if reveals_too_much {
                continue;
            }
            // `insert_many` skips `before_save`: stamped here.
            let related = [entry.program_id, entry.related_program_id]
                .into_iter()
                .flatten()
                .find(|program| *program != hook.program_id);
            deliveries.push(webhook_delivery::ActiveModel {
                id: Set(Uuid::now_v7()),
                created_at: Set(entity::now()),
                webhook_id: Set(hook.id),
                program_id: Set(hook.program_id),
                related_program_id: Set(related),
                event_id: Set(entry.id),
                event: Set(entry.action.clone()),
                payload: Set(payload.clone()),
                state: Set(DeliveryState::Pending),
                attempt: Set(0),
                next_attempt_at: Set(Some(entity::now())),
                ..Default::default()
            });
        }
    }
    if deliveries.is_empty() {
        return Ok(false);
    }
    // Bounded statements: PostgreSQL takes at most 65,535 values in one.
    for chunk in deliveries.chunks(INSERT_CHUNK) {
        webhook_delivery::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(true)
}

impl Domain {
    /// Create a webhook of a program (OWNER); returns it and its signing
    /// secret, which is shown this once.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_webhook(
        &self,
        viewer: &Viewer,
        input: NewWebhook,
    ) -> ApiResult<(Visible<webhook::Model>, String)> {
        let user = viewer.require_user()?;
        let (url, events, description) = (
            target(&input.url, self.limits.allow_private_webhooks),
            event_patterns(input.events),
            validate::optional_text("input.description", input.description.as_deref()),
        )
            .all()?;
        let txn = self.begin_write().await?;
        let access = access::authorize(&txn, viewer, input.program_id, Action::Manage).await?;
        let existing = webhook::Entity::find()
            .filter(webhook::Column::ProgramId.eq(input.program_id))
            .count(&txn)
            .await?;
        if existing >= MAX_PER_PROGRAM as u64 {
            return Err(ApiError::bad_input(
                "input.programId",
                Message::TooManyItems {
                    max: MAX_PER_PROGRAM,
                },
            ));
        }
        let secret = new_secret();
        let created = webhook::ActiveModel {
            program_id: Set(input.program_id),
            url: Set(url),
            events: Set(json!(events)),
            description: Set(description),
            secret: Set(secret.clone()),
            active: Set(true),
            created_by_id: Set(Some(user.id)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.commit(txn, user.id, [Change::created(&created)])
            .await?;
        Ok((access.admit(created)?, secret))
    }

    /// Change a webhook (OWNER of its program).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_webhook(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
        changes: WebhookChanges,
    ) -> ApiResult<Visible<webhook::Model>> {
        let user = viewer.require_user()?;
        let allow_private = self.limits.allow_private_webhooks;
        let (url, events, description, active) = (
            changes
                .url
                .required_with("input.url", |_, url| target(&url, allow_private)),
            changes
                .events
                .required("input.events")
                .and_then(|events| events.map(event_patterns).transpose()),
            changes
                .description
                .try_map(|text| validate::long_text("input.description", &text)),
            changes.active.required("input.active"),
        )
            .all()?;
        let txn = self.begin_write().await?;
        let (before, access) =
            access::find_authorized::<webhook::Entity>(&txn, viewer, id, Action::Manage).await?;
        check_expected(before.version, expected_version)?;
        let mut active_model: webhook::ActiveModel = before.clone().into();
        // Whoever points it somewhere else answers for what it carries: what
        // lies between two programs is delivered only while they see both.
        if url.as_ref().is_some_and(|url| *url != before.url) {
            active_model.created_by_id = Set(Some(user.id));
        }
        patch::assign(&mut active_model.url, url);
        patch::assign(&mut active_model.events, events.map(|events| json!(events)));
        description.assign(&mut active_model.description);
        patch::assign(&mut active_model.active, active);
        let after =
            versioned::save::<webhook::Entity>(&txn, id, before.version, active_model).await?;
        self.commit(txn, user.id, [Change::updated(&before, &after)])
            .await?;
        access.admit(after)
    }

    /// Delete a webhook and its deliveries (OWNER of its program).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_webhook(
        &self,
        viewer: &Viewer,
        id: Uuid,
        expected_version: Option<i32>,
    ) -> ApiResult<Visible<webhook::Model>> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let (before, access) =
            access::find_authorized::<webhook::Entity>(&txn, viewer, id, Action::Manage).await?;
        check_expected(before.version, expected_version)?;
        versioned::delete::<webhook::Entity>(&txn, id, before.version).await?;
        self.commit(txn, user.id, [Change::deleted(&before)])
            .await?;
        access.admit(before)
    }

    /// Send a delivery again, as a new delivery of the same entry (OWNER).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn redeliver_webhook(
        &self,
        viewer: &Viewer,
        delivery_id: Uuid,
    ) -> ApiResult<Visible<webhook_delivery::Model>> {
        let user = viewer.require_user()?;
        let txn = self.begin_write().await?;
        let (original, access) = access::find_authorized::<webhook_delivery::Entity>(
            &txn,
            viewer,
            delivery_id,
            Action::Manage,
        )
        .await?;
        let again = webhook_delivery::ActiveModel {
            webhook_id: Set(original.webhook_id),
            program_id: Set(original.program_id),
            related_program_id: Set(original.related_program_id),
            event_id: Set(original.event_id),
            event: Set(original.event),
            payload: Set(original.payload),
            state: Set(DeliveryState::Pending),
            attempt: Set(0),
            next_attempt_at: Set(Some(entity::now())),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.commit(txn, user.id, []).await?;
        crate::webhooks::wake();
        access.admit(again)
    }

    /// The webhooks of a program (OWNER), oldest first.
    pub async fn program_webhooks(
        &self,
        viewer: &Viewer,
        program_id: Uuid,
    ) -> ApiResult<Vec<Visible<webhook::Model>>> {
        let access = access::authorize(&self.db, viewer, program_id, Action::Manage).await?;
        webhook::Entity::find()
            .filter(webhook::Column::ProgramId.eq(program_id))
            .order_by_asc(webhook::Column::CreatedAt)
            .limit(MAX_PER_PROGRAM as u64)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| access.admit(row))
            .collect()
    }

    /// The newest deliveries of a webhook (OWNER of its program).
    pub async fn webhook_deliveries(
        &self,
        viewer: &Viewer,
        webhook: &webhook::Model,
    ) -> ApiResult<Vec<Visible<webhook_delivery::Model>>> {
        access::authorize(&self.db, viewer, webhook.program_id, Action::Manage).await?;
        // A delivery between two programs only for those who see both.
        access::visible(
            viewer,
            webhook_delivery::Entity::find()
                .filter(webhook_delivery::Column::WebhookId.eq(webhook.id))
                .order_by_desc(webhook_delivery::Column::CreatedAt)
                .order_by_desc(webhook_delivery::Column::Id)
                .limit(DELIVERIES_KEPT_IN_LISTS),
        )?
        .all(&self.db)
        .await
    }

    /// Delete the deliveries finished more than [`DELIVERIES_KEPT_DAYS`] ago; how many.
    pub async fn forget_old_deliveries(&self) -> ApiResult<u64> {
        let before = entity::now() - chrono::TimeDelta::days(DELIVERIES_KEPT_DAYS);
        let deleted = webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::State.ne(DeliveryState::Pending))
            .filter(webhook_delivery::Column::CreatedAt.lt(before))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_select_actions() {
        assert!(matches("*", "workstream.create"));
        assert!(matches("workstream.*", "workstream.update"));
        assert!(!matches("workstream.*", "risk.update"));
        assert!(matches("dependency.commit", "dependency.commit"));
        assert!(!matches("dependency.commit", "dependency.decline"));
        assert!(!matches("work.*", "workstream.create"));
    }

    #[test]
    fn only_known_patterns_are_accepted() {
        for good in [
            "*",
            "risk.*",
            "workstream.create",
            "dependency.deliver",
            "member.set",
        ] {
            assert!(event_pattern("f", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "risk",
            "risks.*",
            "workstream.created",
            "*.create",
            "risk.*.x",
        ] {
            assert!(event_pattern("f", bad).is_err(), "{bad}");
        }
        assert_eq!(
            event_patterns(vec!["risk.*".into(), "*".into(), "risk.*".into()]).unwrap(),
            ["*", "risk.*"]
        );
    }
}
