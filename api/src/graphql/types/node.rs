//! Relay's `Node` interface: every entity is refetched by its id alone.

use std::collections::HashMap;

use async_graphql::{Context, ID, Interface};
use uuid::Uuid;

use super::{
    ApiToken, AuditEvent, Baseline, Comment, Cost, Decision, DecisionOption, Dependency, Milestone,
    Notification, Program, ProgramMember, Risk, StatusUpdate, Team, User, Workstream,
    goal::Goal,
    portfolio::Portfolio,
    webhook::{Webhook, WebhookDelivery},
};
use crate::domain::loaders::Loaders;
use crate::domain::nodes::Kind;
use crate::error::ApiResult;
use crate::graphql::context::{loaders, scope};

/// An object with an id unique across the whole API, which `node(id:)` and `nodes(ids:)` refetch.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "The object's id, unique across every type."
))]
pub enum Node {
    User(User),
    Team(Team),
    Program(Program),
    ProgramMember(ProgramMember),
    Workstream(Workstream),
    Milestone(Milestone),
    Dependency(Dependency),
    Decision(Decision),
    DecisionOption(DecisionOption),
    Risk(Risk),
    StatusUpdate(StatusUpdate),
    Cost(Cost),
    Baseline(Baseline),
    Comment(Comment),
    Notification(Notification),
    AuditEvent(AuditEvent),
    ApiToken(ApiToken),
    Portfolio(Portfolio),
    Goal(Goal),
    Webhook(Webhook),
    WebhookDelivery(WebhookDelivery),
}

/// The objects `ids` name, in order: `None` where an id names nothing the
/// caller may see. One statement finds the kinds, then one per kind loads
/// them through its access-checked loader.
pub async fn resolve(ctx: &Context<'_>, ids: &[Uuid]) -> ApiResult<Vec<Option<Node>>> {
    let (domain, viewer) = scope(ctx)?;
    viewer.require_user()?;
    let kinds = domain.kinds_of(viewer, ids).await?;
    let loaders = loaders(ctx)?;
    let mut by_kind: HashMap<Kind, Vec<(usize, Uuid)>> = HashMap::new();
    for (at, id) in ids.iter().enumerate() {
        if let Some(kind) = kinds.get(id) {
            by_kind.entry(*kind).or_default().push((at, *id));
        }
    }
    let loads = by_kind
        .into_iter()
        .map(|(kind, wanted)| load(&loaders, kind, wanted));
    let mut nodes: Vec<Option<Node>> = std::iter::repeat_with(|| None).take(ids.len()).collect();
    for loaded in futures::future::try_join_all(loads).await? {
        for (at, node) in loaded {
            nodes[at] = Some(node);
        }
    }
    Ok(nodes)
}

/// The visible objects of one kind, for each position that asks for one.
async fn load(
    loaders: &Loaders,
    kind: Kind,
    wanted: Vec<(usize, Uuid)>,
) -> ApiResult<Vec<(usize, Node)>> {
    let ids = wanted.iter().map(|(_, id)| *id);
    // A loader under a wider read rule holds a group of one per id: `first`.
    macro_rules! via {
        ($loader:ident, $variant:ident $(, $first:ident)?) => {{
            let rows = loaders.$loader.load_many(ids).await?;
            wanted
                .iter()
                .filter_map(|(at, id)| {
                    let row = rows.get(id)?$(.$first()?)?.clone();
                    Some((*at, Node::$variant($variant(row))))
                })
                .collect()
        }};
    }
    Ok(match kind {
        Kind::User => via!(users, User),
        Kind::Team => via!(teams, Team),
        Kind::Program => via!(programs, Program),
        Kind::ProgramMember => via!(program_members, ProgramMember),
        Kind::Workstream => via!(workstreams, Workstream),
        Kind::Milestone => via!(milestones, Milestone),
        Kind::Dependency => via!(dependencies, Dependency),
        Kind::Decision => via!(decisions, Decision),
        Kind::DecisionOption => via!(decision_options, DecisionOption),
        Kind::Risk => via!(risks, Risk),
        Kind::StatusUpdate => via!(status_updates, StatusUpdate),
        Kind::Cost => via!(costs, Cost),
        Kind::Baseline => via!(baselines, Baseline),
        Kind::Comment => via!(comments, Comment),
        Kind::Notification => via!(notifications, Notification),
        Kind::AuditEvent => via!(audit_events, AuditEvent),
        Kind::ApiToken => via!(api_tokens, ApiToken),
        Kind::Portfolio => via!(portfolios, Portfolio, first),
        Kind::Goal => via!(goals, Goal, first),
        Kind::Webhook => via!(webhooks, Webhook, first),
        Kind::WebhookDelivery => via!(webhook_deliveries, WebhookDelivery, first),
    })
}
