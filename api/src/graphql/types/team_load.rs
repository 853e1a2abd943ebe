//! `TeamLoad`, `TeamLoadWeek` and `PriorityConflict`: a team's work across
//! programs against its capacity and its other urgent work.

use async_graphql::Object;

use super::Workstream;
use crate::domain::capacity::PriorityConflict as DomainConflict;
use crate::graphql::scalars::Date;
use crate::planning::capacity::LoadWeek;

/// Two urgent (P0 or P1) unfinished workstreams of one team, in different
/// programs, forecast to run at the same time.
pub struct PriorityConflict(pub DomainConflict);

/// Two urgent (P0 or P1) unfinished workstreams of one team, in different
/// programs, forecast to run at the same time: one of them will have to wait.
#[Object]
impl PriorityConflict {
    /// The workstream forecast to start first.
    async fn first(&self) -> Workstream {
        Workstream(self.0.first.clone())
    }
    /// The other workstream, in another program.
    async fn second(&self) -> Workstream {
        Workstream(self.0.second.clone())
    }
    /// The first day both are forecast to run.
    async fn overlap_start(&self) -> Date {
        Date(self.0.overlap.start)
    }
    /// The last day both are forecast to run.
    async fn overlap_end(&self) -> Date {
        Date(self.0.overlap.finish)
    }
    /// Calendar days both are forecast to run, both ends included.
    async fn overlap_days(&self) -> i64 {
        self.0.overlap.days()
    }
}

/// A team's load, week by week.
pub struct TeamLoad(pub Vec<LoadWeek>);

/// A team's load week by week: the work its unfinished workstreams in the
/// programs the viewer can see put on it, against what it can do.
#[Object]
impl TeamLoad {
    /// Every ISO week (Monday to Sunday) touching the range asked for, in order.
    async fn weeks(&self) -> Vec<TeamLoadWeek> {
        self.0.iter().copied().map(TeamLoadWeek).collect()
    }
    /// How many of the weeks are overloaded.
    async fn overloaded_weeks(&self) -> usize {
        self.0.iter().filter(|week| week.overloaded()).count()
    }
}

/// One ISO week of a team's load.
pub struct TeamLoadWeek(pub LoadWeek);

/// One ISO week (Monday to Sunday) of a team's load: each unfinished
/// workstream with an effort estimate spreads it evenly over the calendar
/// days of its forecast span (both ends included); the week holds the share
/// of its days.
#[Object]
impl TeamLoadWeek {
    /// The Monday the week starts on.
    async fn week_start(&self) -> Date {
        Date(self.0.week_start)
    }
    /// Person-days of work falling in the week.
    async fn demand_days(&self) -> f64 {
        self.0.demand_days
    }
    /// Person-days the team can do in a week (its `capacityDaysPerWeek`); null when not set.
    async fn capacity_days(&self) -> Option<f64> {
        self.0.capacity_days
    }
    /// Demand as a fraction of capacity (1.0 is 100 %); null when the capacity is not set or zero.
    async fn utilization(&self) -> Option<f64> {
        self.0.utilization()
    }
    /// Whether more work falls in the week than the team can do (utilization above 1.0, or any work in a week of zero capacity).
    async fn overloaded(&self) -> bool {
        self.0.overloaded()
    }
}
