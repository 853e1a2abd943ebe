//! Who may see and do what: the one place where visibility and program
//! roles are decided.
//!
//! - A signed-in user sees the programs they are a member of (an ADMIN sees
//!   them all) and everything inside them; people and teams form a directory
//!   every signed-in user sees.
//! - Every row says where it lives ([`Scoped::reach`]). A dependency lives
//!   between its two ends' programs, and so does a history entry that names
//!   one: it is visible only to those who can see both programs.
//! - [`Visible<T>`] proves the viewer may see a row, and only this module
//!   makes one: a [`Visibility`] admits rows (a lookup, a loader batch, an
//!   SQL filter through [`visible`]), and an [`Access`] from [`authorize`]
//!   admits the rows of the program it was granted for. GraphQL objects wrap
//!   a `Visible`, so a field that skips the check does not compile.
//! - What a caller cannot see answers exactly like what does not exist, and
//!   costs the same statements.
//!
//! This file is longer than most on purpose: a reviewer of who may see what
//! reads one file, and `Visible`'s constructor stays private to it.

use std::collections::HashSet;
use std::sync::Arc;

use entity::{
    api_token, audit_event, baseline, comment, cost, decision, decision_option, dependency,
    enums::ProgramRole, goal, goal_program, goal_value, milestone, notification, portfolio,
    portfolio_program, program, program_member, risk, status_update, team, user, webhook,
    webhook_delivery, workstream,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Select,
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::pagination::{self, Ordering, Page, PageArgs, SortKey};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// What a caller wants to do inside a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the program and everything in it.
    Read,
    /// Change workstreams, milestones, dependencies, decisions, risks, updates.
    Edit,
    /// Change the program itself and its members.
    Manage,
}

impl Action {
    /// Whether `role` allows this action.
    pub fn allowed_for(self, role: ProgramRole) -> bool {
        match self {
            Self::Read => true,
            Self::Edit => matches!(role, ProgramRole::Owner | ProgramRole::Editor),
            Self::Manage => role == ProgramRole::Owner,
        }
    }
}

/// Where a row lives, which decides who may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// A directory entry (a user, a team): every signed-in user.
    Directory,
    /// Inside one program: its members and ADMINs.
    Program(Uuid),
    /// Between two programs: those who can see both.
    Between(Uuid, Uuid),
    /// One user's own (an API token): that user and ADMINs.
    Owner(Uuid),
    /// Server-wide history outside any program: ADMINs only.
    Admins,
    /// Addressed to one user (a notification) about something in a program
    /// and maybe a second: that user alone, while they can see both.
    Addressed(Uuid, Uuid, Option<Uuid>),
}

impl Reach {
    /// The program a row inside programs lives in, and the other program it
    /// lives between; `None` for rows outside programs.
    pub fn programs(self) -> Option<(Uuid, Option<Uuid>)> {
        match self {
            Self::Program(program_id) => Some((program_id, None)),
            Self::Between(program_id, other) => Some((program_id, Some(other))),
            Self::Addressed(_, program_id, other) => Some((program_id, other)),
            Self::Directory | Self::Owner(_) | Self::Admins => None,
        }
    }
}

/// A row that knows where it lives.
pub trait Scoped {
    /// Where the row lives.
    fn reach(&self) -> Reach;
}

/// An entity whose rows live in programs, so visibility can also be applied
/// in SQL: a row is visible when every one of these columns names a program
/// the viewer can see.
pub trait ScopedEntity: EntityTrait<Model: Scoped> {
    /// The columns naming the row's program(s); empty for directory entities.
    const PROGRAM_COLUMNS: &'static [Self::Column];
    /// Nullable columns naming another program the row may reveal.
    const RELATED_PROGRAM_COLUMNS: &'static [Self::Column] = &[];
    /// Columns naming the one user the row is for (ADMINs included).
    const RECIPIENT_COLUMNS: &'static [Self::Column] = &[];
}

macro_rules! in_program {
    ($($module:ident),* $(,)?) => {
        $(
            impl Scoped for $module::Model {
                fn reach(&self) -> Reach {
                    Reach::Program(self.program_id)
                }
            }
            impl ScopedEntity for $module::Entity {
                const PROGRAM_COLUMNS: &'static [Self::Column] = &[$module::Column::ProgramId];
            }
        )*
    };
}

in_program!(
    workstream,
    milestone,
    decision,
    decision_option,
    risk,
    status_update,
    cost,
    portfolio_program,
    goal_program,
    baseline,
    program_member,
    webhook
);

impl Scoped for program::Model {
    fn reach(&self) -> Reach {
        Reach::Program(self.id)
    }
}

impl ScopedEntity for program::Entity {
    const PROGRAM_COLUMNS: &'static [Self::Column] = &[program::Column::Id];
}

impl Scoped for dependency::Model {
    fn reach(&self) -> Reach {
        between(self.program_id, Some(self.upstream_program_id))
    }
}

impl ScopedEntity for dependency::Entity {
    const PROGRAM_COLUMNS: &'static [Self::Column] = &[
        dependency::Column::ProgramId,
        dependency::Column::UpstreamProgramId,
    ];
}

impl Scoped for audit_event::Model {
    fn reach(&self) -> Reach {
        match self.program_id {
            Some(program_id) => between(program_id, self.related_program_id),
            None => Reach::Admins,
        }
    }
}

impl ScopedEntity for audit_event::Entity {
    const PROGRAM_COLUMNS: &'static [Self::Column] = &[audit_event::Column::ProgramId];
    const RELATED_PROGRAM_COLUMNS: &'static [Self::Column] =
        &[audit_event::Column::RelatedProgramId];
}

impl Scoped for comment::Model {
    fn reach(&self) -> Reach {
        between(self.program_id, self.related_program_id)
    }
}

impl ScopedEntity for comment::Entity {
    const PROGRAM_COLUMNS: &'static [Self::Column] = &[comment::Column::ProgramId];
    const RELATED_PROGRAM_COLUMNS: &'static [Self::Column] = &[comment::Column::RelatedProgramId];
}

impl Scoped for webhook_delivery::Model {
    fn reach(&self) -> Reach {
        between(self.program_id, self.related_program_id)
    }
}

impl ScopedEntity for webhook_delivery::Entity {
    const PROGRAM_COLUMNS: &'static [Self::Column] = &[webhook_delivery::Column::ProgramId];
    const RELATED_PROGRAM_COLUMNS: &'static [Self::Column] =
        &[webhook_delivery::Column::RelatedProgramId];
}

impl Scoped for notification::Model {
    fn reach(&self) -> Reach {
        Reach::Addressed(self.recipient_id, self.program_id, self.related_program_id)
    }
}

impl ScopedEntity for notification::Entity {
    const PROGRAM_COLUMNS: &'static [Self::Column] = &[notification::Column::ProgramId];
    const RELATED_PROGRAM_COLUMNS: &'static [Self::Column] =
        &[notification::Column::RelatedProgramId];
    const RECIPIENT_COLUMNS: &'static [Self::Column] = &[notification::Column::RecipientId];
}

impl Scoped for user::Model {
    fn reach(&self) -> Reach {
        Reach::Directory
    }
}

impl ScopedEntity for user::Entity {
    const PROGRAM_COLUMNS: &'static [Self::Column] = &[];
}

impl Scoped for team::Model {
    fn reach(&self) -> Reach {
        Reach::Directory
    }
}

impl ScopedEntity for team::Entity {
    const PROGRAM_COLUMNS: &'static [Self::Column] = &[];
}

impl Scoped for api_token::Model {
    fn reach(&self) -> Reach {
        Reach::Owner(self.user_id)
    }
}

impl ScopedEntity for api_token::Entity {
    const PROGRAM_COLUMNS: &'static [Self::Column] = &[];
    const RECIPIENT_COLUMNS: &'static [Self::Column] = &[api_token::Column::UserId];
}

/// A portfolio is changed by its owner and ADMINs; who may read it is
/// wider ([`readable_portfolios`]), so the generic [`visible`] of
/// portfolios answers only the caller's own.
impl Scoped for portfolio::Model {
    fn reach(&self) -> Reach {
        Reach::Owner(self.owner_id)
    }
}

impl ScopedEntity for portfolio::Entity {
    const PROGRAM_COLUMNS: &'static [Self::Column] = &[];
    const RECIPIENT_COLUMNS: &'static [Self::Column] = &[portfolio::Column::OwnerId];
}

/// Restrict `select` to the portfolios `viewer` may read: their own, every
/// one for an ADMIN, and those holding a program the viewer can see.
pub fn readable_portfolios(
    viewer: &Viewer,
    select: Select<portfolio::Entity>,
) -> ApiResult<VisibleSelect<portfolio::Entity>> {
    let user = viewer.require_user()?;
    let select = if viewer.is_admin() {
        select
    } else {
        let holding_seen_programs = Query::select()
            .column(portfolio_program::Column::PortfolioId)
            .from(portfolio_program::Entity)
            .and_where(
                Expr::col(portfolio_program::Column::ProgramId)
                    .in_subquery(member_program_ids(user.id)),
            )
            .to_owned();
        select.filter(
            Condition::any()
                .add(portfolio::Column::OwnerId.eq(user.id))
                .add(portfolio::Column::Id.in_subquery(holding_seen_programs)),
        )
    };
    Ok(VisibleSelect { select })
}

/// Portfolio `id` if `viewer` may read it (`NOT_FOUND` otherwise, as for a
/// missing one) and, with `manage`, change it (`FORBIDDEN` otherwise).
pub async fn find_portfolio(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    manage: bool,
) -> ApiResult<Visible<portfolio::Model>> {
    let row = readable_portfolios(viewer, portfolio::Entity::find())?
        .narrow(portfolio::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound(Message::NotFound))?;
    let user = viewer.require_user()?;
    if manage && row.owner_id != user.id && !viewer.is_admin() {
        return Err(ApiError::Forbidden(Message::PortfolioOwnerOnly));
    }
    Ok(row)
}

/// A goal is read by its owner, ADMINs, whoever can see one of its
/// programs and whoever may read its portfolio ([`readable_goals`]); the
/// generic [`visible`] of goals answers only the caller's own.
impl Scoped for goal::Model {
    fn reach(&self) -> Reach {
        Reach::Owner(self.owner_id)
    }
}

impl ScopedEntity for goal::Entity {
    const PROGRAM_COLUMNS: &'static [Self::Column] = &[];
    const RECIPIENT_COLUMNS: &'static [Self::Column] = &[goal::Column::OwnerId];
}

/// The ids of the portfolios `user_id` may read (see [`readable_portfolios`]).
fn readable_portfolio_ids(user_id: Uuid) -> SelectStatement {
    Query::select()
        .column(portfolio::Column::Id)
        .from(portfolio::Entity)
        .cond_where(
            Condition::any()
                .add(Expr::col(portfolio::Column::OwnerId).eq(user_id))
                .add(
                    Expr::col(portfolio::Column::Id).in_subquery(
                        Query::select()
                            .column(portfolio_program::Column::PortfolioId)
                            .from(portfolio_program::Entity)
                            .and_where(
                                Expr::col(portfolio_program::Column::ProgramId)
                                    .in_subquery(member_program_ids(user_id)),
                            )
                            .to_owned(),
                    ),
                ),
        )
        .to_owned()
}

/// Restrict `select` to the goals `viewer` may read: their own, every one
/// for an ADMIN, those of a program they can see and those of a portfolio
/// they may read.
pub fn readable_goals(
    viewer: &Viewer,
    select: Select<goal::Entity>,
) -> ApiResult<VisibleSelect<goal::Entity>> {
    let user = viewer.require_user()?;
    let select = if viewer.is_admin() {
        select
    } else {
        let of_seen_programs = Query::select()
            .column(goal_program::Column::GoalId)
            .from(goal_program::Entity)
            .and_where(
                Expr::col(goal_program::Column::ProgramId).in_subquery(member_program_ids(user.id)),
            )
            .to_owned();
        select.filter(
            Condition::any()
                .add(goal::Column::OwnerId.eq(user.id))
                .add(goal::Column::Id.in_subquery(of_seen_programs))
                .add(goal::Column::PortfolioId.in_subquery(readable_portfolio_ids(user.id))),
        )
    };
    Ok(VisibleSelect { select })
}

/// Goal `id` if `viewer` may read it (`NOT_FOUND` otherwise, as for a
/// missing one) and, with `change`, change it (`FORBIDDEN` otherwise): its
/// owner, ADMINs, its portfolio's owner, and OWNERs and EDITORs of one of
/// its programs.
pub async fn find_goal(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    change: bool,
) -> ApiResult<Visible<goal::Model>> {
    let row = readable_goals(viewer, goal::Entity::find())?
        .narrow(goal::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound(Message::NotFound))?;
    let user = viewer.require_user()?;
    if !change || row.owner_id == user.id || viewer.is_admin() {
        return Ok(row);
    }
    let owns_portfolio = match row.portfolio_id {
        Some(portfolio_id) => portfolio::Entity::find_by_id(portfolio_id)
            .filter(portfolio::Column::OwnerId.eq(user.id))
            .one(db)
            .await?
            .is_some(),
        None => false,
    };
    let edits_a_program = program_member::Entity::find()
        .filter(program_member::Column::UserId.eq(user.id))
        .filter(program_member::Column::Role.is_in([ProgramRole::Owner, ProgramRole::Editor]))
        .filter(
            program_member::Column::ProgramId.in_subquery(
                Query::select()
                    .column(goal_program::Column::ProgramId)
                    .from(goal_program::Entity)
                    .and_where(Expr::col(goal_program::Column::GoalId).eq(row.id))
                    .to_owned(),
            ),
        )
        .one(db)
        .await?
        .is_some();
    if owns_portfolio || edits_a_program {
        Ok(row)
    } else {
        Err(ApiError::Forbidden(Message::GoalChangers))
    }
}

/// A goal the caller has just set or changed, having passed
/// [`find_goal`] (or the checks of its creation) in the same transaction:
/// they see the result of their own change, even one that hands the goal
/// to someone else.
pub fn changed_goal(row: goal::Model) -> Visible<goal::Model> {
    Visible::new(row)
}

/// The programs `user_id` is an OWNER of, as a subquery.
fn owned_program_ids(user_id: Uuid) -> SelectStatement {
    member_program_ids(user_id)
        .and_where(Expr::col(program_member::Column::Role).eq(ProgramRole::Owner))
        .to_owned()
}

/// Restrict `select` to the webhooks `viewer` manages: those of the
/// programs they are an OWNER of, every one for an ADMIN.
pub fn managed_webhooks(
    viewer: &Viewer,
    select: Select<webhook::Entity>,
) -> ApiResult<VisibleSelect<webhook::Entity>> {
    let user = viewer.require_user()?;
    Ok(VisibleSelect {
        select: if viewer.is_admin() {
            select
        } else {
            select.filter(webhook::Column::ProgramId.in_subquery(owned_program_ids(user.id)))
        },
    })
}

/// Restrict `select` to the deliveries of webhooks `viewer` manages, a
/// delivery between two programs only while they see the other one too.
pub fn managed_deliveries(
    viewer: &Viewer,
    select: Select<webhook_delivery::Entity>,
) -> ApiResult<VisibleSelect<webhook_delivery::Entity>> {
    use sea_orm::{QuerySelect, QueryTrait};
    let webhooks = managed_webhooks(viewer, webhook::Entity::find())?
        .select
        .select_only()
        .column(webhook::Column::Id)
        .into_query();
    Ok(visible(viewer, select)?.narrow(webhook_delivery::Column::WebhookId.in_subquery(webhooks)))
}

/// Restrict `select` to the values of goals `viewer` may read
/// ([`readable_goals`]).
pub fn readable_goal_values(
    viewer: &Viewer,
    select: Select<goal_value::Entity>,
) -> ApiResult<VisibleSelect<goal_value::Entity>> {
    use sea_orm::{QuerySelect, QueryTrait};
    let goals = readable_goals(viewer, goal::Entity::find())?
        .select
        .select_only()
        .column(goal::Column::Id)
        .into_query();
    Ok(VisibleSelect {
        select: select.filter(goal_value::Column::GoalId.in_subquery(goals)),
    })
}

impl<T: Scoped> Scoped for std::sync::Arc<T> {
    fn reach(&self) -> Reach {
        (**self).reach()
    }
}

/// `Program(a)` when both are the same program, else `Between(a, b)`.
pub fn between(program_id: Uuid, other: Option<Uuid>) -> Reach {
    match other {
        Some(other) if other != program_id => Reach::Between(program_id, other),
        _ => Reach::Program(program_id),
    }
}

/// Proof that the caller of this request may see the row it holds. The row
/// is shared: a request hands the same row to every field that asks for it
/// (a workstream is the far end of many dependencies) without copying it.
#[derive(Debug, PartialEq)]
pub struct Visible<T>(Arc<T>);

/// A copy of the proof shares the row.
impl<T> Clone for Visible<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Visible<T> {
    fn new(row: T) -> Self {
        Self(Arc::new(row))
    }

    /// The row, giving up the proof.
    pub fn into_inner(self) -> T
    where
        T: Clone,
    {
        Arc::unwrap_or_clone(self.0)
    }

    /// A directory entry this row names (its author, its team): visible to
    /// whoever may see the row.
    pub fn directory_part<U: Scoped>(
        &self,
        part: impl FnOnce(&T) -> Option<U>,
    ) -> Option<Visible<U>> {
        part(&self.0)
            .filter(|part| part.reach() == Reach::Directory)
            .map(Visible::new)
    }
}

impl<T> std::ops::Deref for Visible<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The programs one caller may see.
#[derive(Debug)]
enum Scope {
    /// An ADMIN: every program.
    Everything,
    /// A member of these programs.
    Programs(HashSet<Uuid>),
}

impl Scope {
    fn sees(&self, program_id: Uuid) -> bool {
        match self {
            Self::Everything => true,
            Self::Programs(ids) => ids.contains(&program_id),
        }
    }
}

/// What one caller may see, for one request: the programs they are a member
/// of are read once, when first needed.
pub struct Visibility {
    viewer: Viewer,
    scope: OnceCell<Scope>,
}

impl Visibility {
    /// The visibility of `viewer`; nothing is read yet.
    pub fn new(viewer: Viewer) -> Self {
        Self {
            viewer,
            scope: OnceCell::new(),
        }
    }

    /// Take `programs` as the caller's memberships, read with its
    /// credential at the start of this request (an ADMIN sees every program
    /// whatever its memberships).
    pub fn know_programs(&self, programs: Vec<Uuid>) {
        if !self.viewer.is_admin() {
            let _ = self
                .scope
                .set(Scope::Programs(programs.into_iter().collect()));
        }
    }

    /// Whose visibility this is.
    pub fn viewer(&self) -> &Viewer {
        &self.viewer
    }

    async fn scope(&self, db: &impl ConnectionTrait) -> ApiResult<&Scope> {
        let user = self.viewer.require_user()?;
        let is_admin = self.viewer.is_admin();
        self.scope
            .get_or_try_init(|| async move {
                if is_admin {
                    return Ok(Scope::Everything);
                }
                let ids = program_member::Entity::find()
                    .select_only()
                    .column(program_member::Column::ProgramId)
                    .filter(program_member::Column::UserId.eq(user.id))
                    .into_tuple::<Uuid>()
                    .all(db)
                    .await?;
                Ok(Scope::Programs(ids.into_iter().collect()))
            })
            .await
    }

    /// Whether the caller may see a row that lives at `reach`.
    async fn sees(&self, db: &impl ConnectionTrait, reach: Reach) -> ApiResult<bool> {
        let Some(user) = &self.viewer.user else {
            return Ok(false);
        };
        Ok(match reach {
            Reach::Directory => true,
            Reach::Owner(owner) => owner == user.id || self.viewer.is_admin(),
            Reach::Admins => self.viewer.is_admin(),
            Reach::Program(program_id) => self.scope(db).await?.sees(program_id),
            Reach::Between(a, b) => {
                let scope = self.scope(db).await?;
                scope.sees(a) && scope.sees(b)
            }
            Reach::Addressed(recipient, a, b) => {
                if recipient != user.id {
                    return Ok(false);
                }
                let scope = self.scope(db).await?;
                scope.sees(a) && b.is_none_or(|b| scope.sees(b))
            }
        })
    }

    /// `row`, if the caller may see it.
    pub async fn admit<T: Scoped>(
        &self,
        db: &impl ConnectionTrait,
        row: T,
    ) -> ApiResult<Option<Visible<T>>> {
        Ok(self
            .sees(db, row.reach())
            .await?
            .then_some(Visible::new(row)))
    }

    /// The rows of `rows` the caller may see, in order.
    pub async fn admit_all<T: Scoped>(
        &self,
        db: &impl ConnectionTrait,
        rows: impl IntoIterator<Item = T>,
    ) -> ApiResult<Vec<Visible<T>>> {
        let mut visible = Vec::new();
        for row in rows {
            if let Some(row) = self.admit(db, row).await? {
                visible.push(row);
            }
        }
        Ok(visible)
    }
}

/// Those of `candidates` (user ids) who may see what lives at `reach`, in
/// two statements whatever their number: ADMINs, and members of every
/// program it lives in.
pub async fn who_sees(
    db: &impl ConnectionTrait,
    reach: Reach,
    candidates: &[Uuid],
) -> ApiResult<Vec<Uuid>> {
    let Some((program_id, other)) = reach.programs() else {
        return Err(ApiError::internal("who_sees on a row outside programs"));
    };
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let programs: Vec<Uuid> = std::iter::once(program_id).chain(other).collect();
    let memberships: Vec<Uuid> = program_member::Entity::find()
        .select_only()
        .column(program_member::Column::UserId)
        .filter(program_member::Column::UserId.is_in(candidates.iter().copied()))
        .filter(program_member::Column::ProgramId.is_in(programs.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let mut programs_seen: std::collections::HashMap<Uuid, usize> = Default::default();
    for user_id in memberships {
        *programs_seen.entry(user_id).or_default() += 1;
    }
    let admins: HashSet<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Id.is_in(candidates.iter().copied()))
        .filter(user::Column::Role.eq(entity::enums::UserRole::Admin))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(candidates
        .iter()
        .copied()
        .filter(|id| admins.contains(id) || programs_seen.get(id) == Some(&programs.len()))
        .collect())
}

/// The programs `user_id` is a member of, as a subquery.
fn member_program_ids(user_id: Uuid) -> SelectStatement {
    Query::select()
        .column(program_member::Column::ProgramId)
        .from(program_member::Entity)
        .and_where(Expr::col(program_member::Column::UserId).eq(user_id))
        .to_owned()
}

/// A query restricted, in SQL, to rows the caller may see: whatever is read
/// through it comes out [`Visible`].
pub struct VisibleSelect<E: EntityTrait> {
    select: Select<E>,
}

/// Restrict `select` to the rows `viewer` may see (`UNAUTHENTICATED` when
/// signed out): one statement whether a row is missing or hidden.
pub fn visible<E: ScopedEntity>(viewer: &Viewer, select: Select<E>) -> ApiResult<VisibleSelect<E>> {
    let user = viewer.require_user()?;
    let select = E::RECIPIENT_COLUMNS
        .iter()
        .fold(select, |select, column| select.filter(column.eq(user.id)));
    let select = if viewer.is_admin() {
        select
    } else {
        let select = E::PROGRAM_COLUMNS.iter().fold(select, |select, column| {
            select.filter(column.in_subquery(member_program_ids(user.id)))
        });
        E::RELATED_PROGRAM_COLUMNS
            .iter()
            .fold(select, |select, column| {
                select.filter(
                    Condition::any()
                        .add(column.is_null())
                        .add(column.in_subquery(member_program_ids(user.id))),
                )
            })
    };
    Ok(VisibleSelect { select })
}

impl<E: EntityTrait> VisibleSelect<E> {
    /// The `id` of each visible row with the constant `kind` beside it, as
    /// a statement to unite with other entities' (`domain/nodes.rs`).
    pub fn tagged_ids(self, id: E::Column, kind: i32) -> SelectStatement {
        use sea_orm::QueryTrait;
        self.select
            .select_only()
            .column_as(id, "id")
            .column_as(Expr::val(kind), "kind")
            .into_query()
    }

    /// Narrow the rows further.
    pub fn narrow(self, condition: impl Into<Condition>) -> Self {
        Self {
            select: self.select.filter(condition.into()),
        }
    }

    /// The first visible row.
    pub async fn one(self, db: &impl ConnectionTrait) -> ApiResult<Option<Visible<E::Model>>> {
        Ok(self.select.one(db).await?.map(Visible::new))
    }

    /// Every visible row.
    pub async fn all(self, db: &impl ConnectionTrait) -> ApiResult<Vec<Visible<E::Model>>> {
        Ok(self
            .select
            .all(db)
            .await?
            .into_iter()
            .map(Visible::new)
            .collect())
    }

    /// How many visible rows share each pair of values of the text columns `a` and `b`.
    pub async fn count_by_pair(
        self,
        db: &impl ConnectionTrait,
        a: E::Column,
        b: E::Column,
    ) -> ApiResult<Vec<(String, String, i64)>> {
        Ok(self
            .select
            .select_only()
            .column(a)
            .column(b)
            .column_as(Expr::cust("COUNT(*)"), "n")
            .group_by(a)
            .group_by(b)
            .into_tuple::<(String, String, i64)>()
            .all(db)
            .await?)
    }

    /// One page of the visible rows, in `ordering` (see [`pagination::paginate`]).
    pub async fn page(
        self,
        db: &sea_orm::DatabaseConnection,
        ordering: Ordering<E::Column>,
        args: &PageArgs,
        max_page_size: usize,
        key: impl Fn(&E::Model) -> SortKey,
        id: impl Fn(&E::Model) -> Uuid,
    ) -> ApiResult<Page<Visible<E::Model>>>
    where
        E::Model: Send + Sync + 'static,
    {
        let page =
            pagination::paginate(db, self.select, ordering, args, max_page_size, key, id).await?;
        Ok(page.map(Visible::new))
    }
}

/// The caller's standing in one program they may see.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    program_id: Uuid,
    role: Option<ProgramRole>,
    is_admin: bool,
}

impl Access {
    /// Whether this standing allows `action`.
    pub fn allows(&self, action: Action) -> bool {
        self.is_admin || self.role.is_some_and(|role| action.allowed_for(role))
    }

    /// The caller's membership role, if a member.
    pub fn role(&self) -> Option<ProgramRole> {
        self.role
    }

    /// The program this standing is in.
    pub fn program_id(&self) -> Uuid {
        self.program_id
    }

    /// The standing of a program's creator in it, who has just been made its OWNER.
    pub(super) fn founder(program_id: Uuid) -> Self {
        Self {
            program_id,
            role: Some(ProgramRole::Owner),
            is_admin: false,
        }
    }

    fn covers(&self, program_id: Uuid) -> bool {
        self.is_admin || self.program_id == program_id
    }

    /// A row of this program (or a directory entry), now known to be visible.
    pub fn admit<T: Scoped>(&self, row: T) -> ApiResult<Visible<T>> {
        self.admit_with(None, row)
    }

    /// A row between this program and `other`'s (a dependency), now known visible.
    pub fn admit_between<T: Scoped>(&self, other: &Access, row: T) -> ApiResult<Visible<T>> {
        self.admit_with(Some(other), row)
    }

    fn admit_with<T: Scoped>(&self, other: Option<&Access>, row: T) -> ApiResult<Visible<T>> {
        let covered = |program_id| {
            self.covers(program_id) || other.is_some_and(|other| other.covers(program_id))
        };
        let visible = match row.reach() {
            Reach::Directory => true,
            Reach::Program(program_id) => covered(program_id),
            Reach::Between(a, b) => covered(a) && covered(b),
            Reach::Owner(_) | Reach::Admins => self.is_admin,
            // Only a `Visibility` knows whose notification it is.
            Reach::Addressed(..) => false,
        };
        if visible {
            Ok(Visible::new(row))
        } else {
            Err(ApiError::internal(
                "a row outside the programs the caller was authorized for",
            ))
        }
    }
}

/// The viewer's membership role in `program_id`, if any.
pub async fn role_in(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    program_id: Uuid,
) -> ApiResult<Option<ProgramRole>> {
    Ok(program_member::Entity::find()
        .select_only()
        .column(program_member::Column::Role)
        .filter(program_member::Column::ProgramId.eq(program_id))
        .filter(program_member::Column::UserId.eq(user_id))
        .into_tuple::<ProgramRole>()
        .one(db)
        .await?)
}

/// The membership role of `user_id` in each of `program_ids` where they are a member.
pub async fn roles_in(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    program_ids: &[Uuid],
) -> ApiResult<std::collections::HashMap<Uuid, ProgramRole>> {
    if program_ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(program_member::Entity::find()
        .select_only()
        .column(program_member::Column::ProgramId)
        .column(program_member::Column::Role)
        .filter(program_member::Column::UserId.eq(user_id))
        .filter(program_member::Column::ProgramId.is_in(program_ids.iter().copied()))
        .into_tuple::<(Uuid, ProgramRole)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Check that the viewer may perform `action` in `program_id`.
///
/// A program the viewer cannot see answers `NOT_FOUND`, exactly like one that
/// does not exist (one statement either way); a visible one with too low a
/// role answers `FORBIDDEN`.
pub async fn authorize(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    program_id: Uuid,
    action: Action,
) -> ApiResult<Access> {
    let user = viewer.require_user()?;
    let is_admin = viewer.is_admin();
    let role = role_in(db, user.id, program_id).await?;
    if !is_admin && role.is_none() {
        return Err(ApiError::NotFound(Message::NotFound));
    }
    if is_admin && role.is_none() {
        let exists = program::Entity::find_by_id(program_id)
            .select_only()
            .column(program::Column::Id)
            .into_tuple::<Uuid>()
            .one(db)
            .await?
            .is_some();
        if !exists {
            return Err(ApiError::NotFound(Message::NotFound));
        }
    }
    let access = Access {
        program_id,
        role,
        is_admin,
    };
    if access.allows(action) {
        Ok(access)
    } else {
        Err(ApiError::Forbidden(Message::ProgramRoleTooLow))
    }
}

/// Check that the viewer may perform `action` in each of `program_ids`, in
/// one statement whatever their number: the first that fails, in order,
/// answers as [`authorize`] would.
pub async fn authorize_all(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    program_ids: &[Uuid],
    action: Action,
) -> ApiResult<()> {
    let user = viewer.require_user()?;
    if viewer.is_admin() {
        let existing: HashSet<Uuid> = program::Entity::find()
            .select_only()
            .column(program::Column::Id)
            .filter(program::Column::Id.is_in(program_ids.iter().copied()))
            .into_tuple::<Uuid>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        return match program_ids.iter().find(|id| !existing.contains(id)) {
            Some(_) => Err(ApiError::NotFound(Message::NotFound)),
            None => Ok(()),
        };
    }
    let roles = roles_in(db, user.id, program_ids).await?;
    for id in program_ids {
        match roles.get(id) {
            None => return Err(ApiError::NotFound(Message::NotFound)),
            Some(role) if !action.allowed_for(*role) => {
                return Err(ApiError::Forbidden(Message::ProgramRoleTooLow));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Row `id` of `E` if the viewer may see it; `NOT_FOUND` when it is missing
/// or hidden, in one statement either way.
pub async fn find_visible<E>(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> ApiResult<Visible<E::Model>>
where
    E: ScopedEntity,
    E::Model: Send + Sync,
{
    use sea_orm::{Iterable, PrimaryKeyToColumn};
    let primary = E::PrimaryKey::iter()
        .next()
        .map(|key| key.into_column())
        .ok_or_else(|| ApiError::internal("an entity without a primary key"))?;
    visible(viewer, E::find().filter(primary.eq(id)))?
        .one(db)
        .await?
        .ok_or(ApiError::NotFound(Message::NotFound))
}

/// Row `id` of `E`, which lives in one program, with the viewer's standing
/// there for `action`: `NOT_FOUND` when missing or hidden (one statement
/// either way), `FORBIDDEN` when the role is too low.
pub async fn find_authorized<E>(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    action: Action,
) -> ApiResult<(E::Model, Access)>
where
    E: ScopedEntity,
    E::Model: Send + Sync,
{
    let row = find_visible::<E>(db, viewer, id).await?.into_inner();
    let Reach::Program(program_id) = row.reach() else {
        return Err(ApiError::internal(
            "find_authorized on a row between programs",
        ));
    };
    let access = authorize(db, viewer, program_id, action).await?;
    Ok((row, access))
}

/// A row outside every program (a directory entry, the caller's own API
/// token, server-wide history), if the caller may see it; no statement runs.
pub fn admit_unscoped<T: Scoped>(viewer: &Viewer, row: T) -> ApiResult<Visible<T>> {
    let user = viewer.require_user()?;
    let visible = match row.reach() {
        Reach::Directory => true,
        Reach::Owner(owner) => owner == user.id || viewer.is_admin(),
        Reach::Admins => viewer.is_admin(),
        Reach::Program(_) | Reach::Between(..) | Reach::Addressed(..) => {
            return Err(ApiError::internal("a program's row admitted as unscoped"));
        }
    };
    if visible {
        Ok(Visible::new(row))
    } else {
        Err(ApiError::NotFound(Message::NotFound))
    }
}

/// The one user the caller has just proven to be (at sign-in), visible to themself.
pub(super) fn own_account(user: user::Model) -> Visible<user::Model> {
    Visible::new(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dependency_inside_one_program_lives_in_that_program() {
        let (p, q) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(between(p, Some(p)), Reach::Program(p));
        assert_eq!(between(p, None), Reach::Program(p));
        assert_eq!(between(p, Some(q)), Reach::Between(p, q));
    }

    #[test]
    fn an_access_admits_only_rows_of_its_program() {
        let (p, q) = (Uuid::now_v7(), Uuid::now_v7());
        let member = Access {
            program_id: p,
            role: Some(ProgramRole::Viewer),
            is_admin: false,
        };
        let other = Access {
            program_id: q,
            role: Some(ProgramRole::Viewer),
            is_admin: false,
        };
        struct Row(Reach);
        impl Scoped for Row {
            fn reach(&self) -> Reach {
                self.0
            }
        }
        assert!(member.admit(Row(Reach::Program(p))).is_ok());
        assert!(member.admit(Row(Reach::Program(q))).is_err());
        assert!(member.admit(Row(Reach::Between(p, q))).is_err());
        assert!(
            member
                .admit_between(&other, Row(Reach::Between(p, q)))
                .is_ok()
        );
        assert!(member.admit(Row(Reach::Owner(Uuid::now_v7()))).is_err());
    }
}
