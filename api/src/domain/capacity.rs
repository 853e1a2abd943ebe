//! A team's work across programs: its commitments ranked by priority, the
//! clashes between its urgent work of different programs, and its weekly
//! load against its capacity.
//!
//! Only the team's workstreams in programs the caller can see count: they
//! come from the request's `workstreams_by_team` loader, which admits rows
//! through the caller's `Visibility`, and each forecast span from the plan
//! of its (visible) program, so a hidden program shows on no path. A
//! visible workstream's forecast may be pushed by work the caller cannot
//! see; only the resulting dates show, as in the program's schedule.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use entity::{enums::Priority, team, workstream};
use uuid::Uuid;

use super::{
    Domain,
    access::Visible,
    loaders::{Loaders, group},
    pagination::{Direction, Page, PageArgs, SortKey, paginate_rows},
    planning::is_unfinished,
    validate,
    workstreams::priority_rank,
};
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;
use crate::planning::capacity::{self, Demand, LoadWeek, Span, Urgent};

/// Most ISO weeks `Team.load` covers at once (two years).
pub const MAX_LOAD_WEEKS: i64 = 104;

/// The name of the commitments' ordering in their cursors.
const COMMITMENTS_ORDER: &str = "PRIORITY_THEN_FORECAST_FINISH:Asc";

/// An unfinished workstream of a team with its forecast span.
#[derive(Clone)]
pub struct TeamWork {
    /// The workstream, in a program the caller can see.
    pub workstream: Visible<workstream::Model>,
    /// Its forecast span; none when it is unscheduled (a date missing).
    pub span: Option<Span>,
}

impl TeamWork {
    /// Where it ranks among the team's commitments: by priority, then
    /// forecast finish (unscheduled last); ties are broken by id.
    fn rank(&self) -> i64 {
        const NO_FINISH: i64 = 9_999_999;
        let finish = self
            .span
            .map_or(NO_FINISH, |span| i64::from(span.finish.num_days_from_ce()));
        i64::from(priority_rank(self.workstream.priority)) * 10_000_000 + finish
    }
}

/// Two urgent (`P0`/`P1`) unfinished workstreams of a team, in different
/// programs, forecast to run at the same time.
pub struct PriorityConflict {
    /// The one forecast to start first.
    pub first: Visible<workstream::Model>,
    /// The other.
    pub second: Visible<workstream::Model>,
    /// The days both are forecast to run.
    pub overlap: Span,
}

/// The programs a team's unfinished work among `rows` is in: those whose
/// plans its commitments, conflicts and load read.
pub fn programs_at_work<'a>(
    rows: impl IntoIterator<Item = &'a workstream::Model>,
) -> BTreeSet<Uuid> {
    rows.into_iter()
        .filter(|ws| is_unfinished(ws))
        .map(|ws| ws.program_id)
        .collect()
}

impl Loaders {
    /// The team's unfinished workstreams in programs the caller can see,
    /// each with its forecast span from its program's plan, by priority,
    /// then forecast finish (unscheduled last), then id.
    pub async fn team_work(&self, team_id: Uuid) -> ApiResult<Vec<TeamWork>> {
        let rows: Vec<Visible<workstream::Model>> = group(&self.workstreams_by_team, team_id)
            .await?
            .into_iter()
            .filter(|ws| is_unfinished(ws))
            .collect();
        let program_ids = programs_at_work(rows.iter().map(|ws| &**ws));
        let programs = self.programs.load_many(program_ids).await?;
        let plans = self.plans(&programs.values().collect::<Vec<_>>()).await?;
        let mut work: Vec<TeamWork> = rows
            .into_iter()
            .filter_map(|ws| {
                let plan = plans.get(&ws.program_id)?;
                let span = plan.schedule.forecasts.get(&ws.id);
                Some(TeamWork {
                    span: span.map(|(start, finish)| Span::new(*start, *finish)),
                    workstream: ws,
                })
            })
            .collect();
        work.sort_by_key(|w| (w.rank(), w.workstream.id));
        Ok(work)
    }

    /// Pairs of the team's unfinished `P0`/`P1` workstreams in different
    /// programs the caller can see whose forecast spans overlap, by the
    /// first day of the overlap.
    pub async fn priority_conflicts(&self, team_id: Uuid) -> ApiResult<Vec<PriorityConflict>> {
        let work = self.team_work(team_id).await?;
        let urgent: Vec<Urgent> = work
            .iter()
            .filter(|w| matches!(w.workstream.priority, Priority::P0 | Priority::P1))
            .filter_map(|w| {
                Some(Urgent {
                    id: w.workstream.id,
                    program_id: w.workstream.program_id,
                    span: w.span?,
                })
            })
            .collect();
        let rows: HashMap<Uuid, &Visible<workstream::Model>> = work
            .iter()
            .map(|w| (w.workstream.id, &w.workstream))
            .collect();
        Ok(capacity::clashes(&urgent)
            .into_iter()
            .filter_map(|clash| {
                Some(PriorityConflict {
                    first: (*rows.get(&clash.first)?).clone(),
                    second: (*rows.get(&clash.second)?).clone(),
                    overlap: clash.overlap,
                })
            })
            .collect())
    }

    /// The team's load in every ISO week touching `[from, to]` (at most
    /// [`MAX_LOAD_WEEKS`]): each unfinished workstream with an effort and a
    /// forecast span spreads its effort evenly over the span's days.
    pub async fn team_load(
        &self,
        team: &Visible<team::Model>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> ApiResult<Vec<LoadWeek>> {
        validate::date_order("to", Some(from), Some(to), "from")?;
        if capacity::week_count(from, to) > MAX_LOAD_WEEKS {
            return Err(ApiError::bad_input(
                "to",
                Message::TooManyWeeks {
                    max: MAX_LOAD_WEEKS,
                },
            ));
        }
        let demands: Vec<Demand> = self
            .team_work(team.id)
            .await?
            .iter()
            .filter_map(|w| {
                Some(Demand {
                    effort_days: w.workstream.effort_days?,
                    span: w.span?,
                })
            })
            .collect();
        Ok(capacity::weekly_load(
            from,
            to,
            team.capacity_days_per_week,
            &demands,
        ))
    }
}

impl Domain {
    /// A team's commitments (as [`Loaders::team_work`] orders them) as one page.
    pub fn page_commitments(
        &self,
        work: Vec<TeamWork>,
        args: &PageArgs,
    ) -> ApiResult<Page<Visible<workstream::Model>>> {
        let page = paginate_rows(
            work,
            COMMITMENTS_ORDER,
            Direction::Asc,
            args,
            self.limits.max_page_size,
            |w| SortKey::Int(w.rank()),
            |w| w.workstream.id,
        )?;
        Ok(page.map(|w| w.workstream))
    }
}
