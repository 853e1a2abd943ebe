//! The append-only history: every successful mutation writes its entries in
//! its own transaction, through [`Domain::commit`](super::Domain::commit).

use entity::{
    api_token,
    audit_event::{self, Subject, Verb},
    baseline, comment, cost, decision, dependency, goal, milestone, portfolio, program,
    program_member, risk, status_update, team, user, webhook, workstream,
};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseTransaction, Set};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::access::{Reach, Scoped};
use crate::error::ApiResult;

/// Fields never copied into the history (a webhook's URL may hold a
/// receiver's credential, so only its OWNERs read it, on the webhook).
const HIDDEN_FIELDS: [&str; 7] = [
    "url",
    "passwordHash",
    "tokenHash",
    "version",
    "updatedAt",
    "upstreamProgramId",
    "relatedProgramId",
];

/// What lives between two programs (a dependency, a comment on one): its
/// entries are in both programs' histories and reach both programs'
/// subscribers. Another entry that merely names the other program (a risk
/// linked to a dependency across) stays in its own program's history.
pub const SHARED_SUBJECTS: [Subject; 2] = [Subject::Dependency, Subject::Comment];

/// Whether an entry about `entity_type` filed in `program_id` and naming
/// `related_program_id` belongs to the history of `program`.
pub fn files_in(
    program: Uuid,
    program_id: Option<Uuid>,
    related_program_id: Option<Uuid>,
    entity_type: &str,
) -> bool {
    program_id == Some(program)
        || (related_program_id == Some(program)
            && SHARED_SUBJECTS
                .iter()
                .any(|subject| subject.entity_type() == entity_type))
}

/// A row whose changes the history records.
pub trait Recorded: Scoped + serde::Serialize {
    /// What its entries are about.
    const SUBJECT: Subject;
    /// The row's id.
    fn id(&self) -> Uuid;
}

macro_rules! recorded {
    ($($module:ident => $subject:ident),* $(,)?) => {
        $(
            impl Recorded for $module::Model {
                const SUBJECT: Subject = Subject::$subject;
                fn id(&self) -> Uuid {
                    self.id
                }
            }
        )*
    };
}

recorded!(
    user => User,
    api_token => ApiToken,
    team => Team,
    program => Program,
    program_member => ProgramMember,
    workstream => Workstream,
    milestone => Milestone,
    dependency => Dependency,
    decision => Decision,
    risk => Risk,
    status_update => StatusUpdate,
    cost => Cost,
    portfolio => Portfolio,
    goal => Goal,
    baseline => Baseline,
    comment => Comment,
    webhook => Webhook,
);

/// One history entry about to be written.
#[derive(Debug, Clone)]
pub struct Change {
    subject: Subject,
    verb: Verb,
    entity_id: Uuid,
    reach: Reach,
    changes: Value,
}

impl Change {
    /// `verb` done to `row`, with its field changes already worked out.
    pub fn of<R: Recorded>(verb: Verb, row: &R, changes: Value) -> Self {
        Self {
            subject: R::SUBJECT,
            verb,
            entity_id: row.id(),
            reach: row.reach(),
            changes,
        }
    }

    /// A row created.
    pub fn created<R: Recorded>(row: &R) -> Self {
        Self::of(Verb::Create, row, diff(None, Some(row)))
    }

    /// A row changed from `before` to `after`.
    pub fn updated<R: Recorded>(before: &R, after: &R) -> Self {
        Self::of(Verb::Update, after, diff(Some(before), Some(after)))
    }

    /// A row deleted.
    pub fn deleted<R: Recorded>(before: &R) -> Self {
        Self::of(Verb::Delete, before, diff(Some(before), None))
    }

    /// The same change under a more precise verb (`archive`, `decide`, `set`, …).
    pub fn as_verb(mut self, verb: Verb) -> Self {
        self.verb = verb;
        self
    }

    /// The entry also names something in `program_id` (a risk linked to a
    /// dependency from another program): only those who can see both read it.
    pub fn revealing(mut self, program_id: Uuid) -> Self {
        self.reach = match self.reach {
            Reach::Program(own) => super::access::between(own, Some(program_id)),
            other => other,
        };
        self
    }

    /// Leave out the earlier value of `field` (it names something the entry
    /// may not reveal).
    pub fn forget_before(mut self, field: &str) -> Self {
        if let Some(change) = self.changes.get_mut(field) {
            change["before"] = Value::Null;
        }
        self
    }

    /// Where the entry is filed: its program and the other program it reveals.
    fn placement(&self) -> (Option<Uuid>, Option<Uuid>) {
        match self.reach.programs() {
            Some((program_id, other)) => (Some(program_id), other),
            None => (None, None),
        }
    }
}

/// Write `change` by `actor` inside the caller's transaction; live
/// subscribers hear of it once that transaction commits (see [`super::events`]).
pub async fn record(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    change: Change,
) -> ApiResult<audit_event::Model> {
    let id = Uuid::now_v7();
    let (program_id, related_program_id) = change.placement();
    let entry = audit_event::ActiveModel {
        id: Set(id),
        program_id: Set(program_id),
        related_program_id: Set(related_program_id),
        actor_id: Set(actor),
        action: Set(audit_event::action(change.subject, change.verb)),
        entity_type: Set(change.subject.entity_type().to_owned()),
        entity_id: Set(change.entity_id),
        changes: Set(change.changes),
        ..Default::default()
    }
    .insert(db)
    .await?;
    crate::events::announce(db, id, super::callers::concerns_callers(change.subject)).await?;
    Ok(entry)
}

impl super::Domain {
    /// Record a mutation's history entries and commit its transaction: the
    /// last step of every mutation, so no mutation commits without its
    /// history. The webhooks subscribed to the entries get their deliveries
    /// in the same transaction, so a change is delivered exactly when it
    /// commits, and so does the mark on the request's idempotency key, if it
    /// holds one. A change to accounts or memberships makes this server read
    /// its callers anew before the mutation answers (other replicas hear of
    /// it through the entry's announcement).
    pub async fn commit(
        &self,
        txn: DatabaseTransaction,
        actor: impl Into<Option<Uuid>>,
        changes: impl IntoIterator<Item = Change>,
    ) -> ApiResult<()> {
        let actor = actor.into();
        let mut entries = Vec::new();
        let mut access = false;
        for change in changes {
            access |= super::callers::concerns_callers(change.subject);
            entries.push(record(&txn, actor, change).await?);
        }
        let delivering = super::webhooks::enqueue(&txn, &entries).await?;
        super::idempotency::mark_committed(&txn).await?;
        txn.commit().await?;
        if access {
            self.callers.access_changed();
        }
        if delivering {
            crate::webhooks::wake();
        }
        Ok(())
    }
}

/// The field-by-field difference between two serialisable snapshots;
/// `None` stands for "did not exist" (creation or deletion).
pub fn diff<T: serde::Serialize>(before: Option<&T>, after: Option<&T>) -> Value {
    let as_map = |snapshot: Option<&T>| -> Map<String, Value> {
        match snapshot.map(serde_json::to_value) {
            Some(Ok(Value::Object(map))) => map,
            _ => Map::new(),
        }
    };
    let before = as_map(before);
    let after = as_map(after);
    let mut changes = Map::new();
    let keys = before
        .keys()
        .chain(after.keys())
        .cloned()
        .collect::<std::collections::BTreeSet<_>>();
    for key in keys {
        if HIDDEN_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let old = before.get(&key).cloned().unwrap_or(Value::Null);
        let new = after.get(&key).cloned().unwrap_or(Value::Null);
        if old != new {
            changes.insert(key, json!({ "before": old, "after": new }));
        }
    }
    Value::Object(changes)
}
