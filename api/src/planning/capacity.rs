//! A team's work against its capacity: the demand of each ISO week (each
//! workstream's effort spread evenly over the calendar days of its forecast
//! span, both ends included) and clashes between urgent work of different
//! programs whose spans overlap. Pure: spans and numbers in, weeks and pairs
//! out.

use chrono::{Datelike, Duration, NaiveDate};
use uuid::Uuid;

/// A forecast span: first and last day, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First day.
    pub start: NaiveDate,
    /// Last day (never before `start`).
    pub finish: NaiveDate,
}

impl Span {
    /// The span from `start` to `finish`, in order.
    pub fn new(start: NaiveDate, finish: NaiveDate) -> Self {
        Self {
            start: start.min(finish),
            finish: start.max(finish),
        }
    }

    /// Calendar days in the span, both ends included.
    pub fn days(self) -> i64 {
        (self.finish - self.start).num_days() + 1
    }

    /// The days both spans hold, if any.
    pub fn overlap(self, other: Span) -> Option<Span> {
        let start = self.start.max(other.start);
        let finish = self.finish.min(other.finish);
        (start <= finish).then_some(Span { start, finish })
    }
}

/// One piece of work of a team, as the load sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// Person-days of work.
    pub effort_days: f64,
    /// When it is forecast to happen.
    pub span: Span,
}

/// One ISO week of a team's load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadWeek {
    /// The Monday that starts it.
    pub week_start: NaiveDate,
    /// Person-days of work falling in it.
    pub demand_days: f64,
    /// Person-days the team can do in a week, if known.
    pub capacity_days: Option<f64>,
}

/// Demand above capacity by less than this is rounding, not overload.
const TOLERANCE: f64 = 1e-9;

impl LoadWeek {
    /// Demand as a fraction of capacity (1.0 is 100 %); none when the
    /// capacity is unknown or zero.
    pub fn utilization(&self) -> Option<f64> {
        self.capacity_days
            .filter(|capacity| *capacity > 0.0)
            .map(|capacity| self.demand_days / capacity)
    }

    /// Whether more work falls in the week than the team can do (with a
    /// known capacity; any work in a week of zero capacity is too much).
    pub fn overloaded(&self) -> bool {
        self.capacity_days
            .is_some_and(|capacity| self.demand_days > capacity * (1.0 + TOLERANCE) + TOLERANCE)
    }

    /// The whole week: Monday to Sunday.
    pub fn span(&self) -> Span {
        Span::new(self.week_start, self.week_start + Duration::days(6))
    }
}

/// The Monday of `day`'s ISO week.
pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// How many ISO weeks touch `[from, to]` (zero when `to` is before `from`).
pub fn week_count(from: NaiveDate, to: NaiveDate) -> i64 {
    if to < from {
        return 0;
    }
    (monday_of(to) - monday_of(from)).num_days() / 7 + 1
}

/// The load of every ISO week touching `[from, to]`: each demand's effort
/// spread evenly over the days of its span, the week's share being the days
/// of the span inside it.
pub fn weekly_load(
    from: NaiveDate,
    to: NaiveDate,
    capacity_days: Option<f64>,
    demands: &[Demand],
) -> Vec<LoadWeek> {
    (0..week_count(from, to))
        .map(|week| {
            let mut load = LoadWeek {
                week_start: monday_of(from) + Duration::weeks(week),
                demand_days: 0.0,
                capacity_days,
            };
            load.demand_days = demands
                .iter()
                .filter_map(|demand| {
                    let inside = demand.span.overlap(load.span())?;
                    Some(demand.effort_days * inside.days() as f64 / demand.span.days() as f64)
                })
                .sum();
            load
        })
        .collect()
}

/// Urgent work of a team as the clash finder sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Urgent {
    /// The workstream.
    pub id: Uuid,
    /// Its program.
    pub program_id: Uuid,
    /// When it is forecast to happen.
    pub span: Span,
}

/// Two pieces of urgent work of different programs forecast at the same time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clash {
    /// The one that starts first (the smaller id when both start together).
    pub first: Uuid,
    /// The other.
    pub second: Uuid,
    /// The days both are forecast to run.
    pub overlap: Span,
}

/// Every pair of `work` in different programs whose spans overlap, by the
/// first day of the overlap, then by the pair's ids.
pub fn clashes(work: &[Urgent]) -> Vec<Clash> {
    let mut sorted: Vec<&Urgent> = work.iter().collect();
    sorted.sort_by_key(|w| (w.span.start, w.id));
    let mut found = Vec::new();
    for (i, a) in sorted.iter().enumerate() {
        // Sorted by start: once one starts after `a` finishes, all later ones do.
        for b in sorted[i + 1..]
            .iter()
            .take_while(|b| b.span.start <= a.span.finish)
        {
            if a.program_id == b.program_id {
                continue;
            }
            if let Some(overlap) = a.span.overlap(b.span) {
                found.push(Clash {
                    first: a.id,
                    second: b.id,
                    overlap,
                });
            }
        }
    }
    found.sort_by_key(|c| (c.overlap.start, c.first, c.second));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn weeks_start_on_monday_and_cover_the_range() {
        // 2026-03-04 is a Wednesday; 2026-03-16 a Monday.
        assert_eq!(monday_of(day(2026, 3, 4)), day(2026, 3, 2));
        assert_eq!(monday_of(day(2026, 3, 2)), day(2026, 3, 2));
        assert_eq!(monday_of(day(2026, 3, 8)), day(2026, 3, 2));
        assert_eq!(week_count(day(2026, 3, 4), day(2026, 3, 16)), 3);
        assert_eq!(week_count(day(2026, 3, 4), day(2026, 3, 4)), 1);
        assert_eq!(week_count(day(2026, 3, 5), day(2026, 3, 4)), 0);
    }

    #[test]
    fn effort_is_spread_over_the_days_of_its_span() {
        // 10 days from Thursday 2026-03-05 to Saturday 2026-03-14: 4 days in
        // the first week, 6 in the second.
        let demand = Demand {
            effort_days: 10.0,
            span: Span::new(day(2026, 3, 5), day(2026, 3, 14)),
        };
        let weeks = weekly_load(day(2026, 3, 2), day(2026, 3, 22), Some(5.0), &[demand]);
        let demand: Vec<f64> = weeks.iter().map(|w| w.demand_days).collect();
        assert_eq!(demand, vec![4.0, 6.0, 0.0]);
        assert_eq!(weeks[1].utilization(), Some(1.2));
        assert!(weeks[1].overloaded());
        assert!(!weeks[0].overloaded());
        assert_eq!(weeks[2].utilization(), Some(0.0));
    }

    #[test]
    fn zero_or_unknown_capacity_has_no_utilization() {
        let demand = Demand {
            effort_days: 1.0,
            span: Span::new(day(2026, 3, 2), day(2026, 3, 2)),
        };
        let zero = weekly_load(day(2026, 3, 2), day(2026, 3, 2), Some(0.0), &[demand]);
        assert_eq!(zero[0].utilization(), None);
        assert!(zero[0].overloaded());
        let unknown = weekly_load(day(2026, 3, 2), day(2026, 3, 2), None, &[demand]);
        assert_eq!(unknown[0].utilization(), None);
        assert!(!unknown[0].overloaded());
    }

    #[test]
    fn exactly_full_is_not_overloaded() {
        let third = Demand {
            effort_days: 10.0 / 3.0,
            span: Span::new(day(2026, 3, 2), day(2026, 3, 8)),
        };
        let weeks = weekly_load(day(2026, 3, 2), day(2026, 3, 8), Some(10.0), &[third; 3]);
        assert!(!weeks[0].overloaded(), "{weeks:?}");
    }

    #[test]
    fn clashes_are_overlaps_across_programs_only() {
        let (p, q) = (Uuid::now_v7(), Uuid::now_v7());
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
        let work = [
            Urgent {
                id: ids[0],
                program_id: p,
                span: Span::new(day(2026, 3, 1), day(2026, 3, 10)),
            },
            Urgent {
                id: ids[1],
                program_id: p,
                span: Span::new(day(2026, 3, 5), day(2026, 3, 20)),
            },
            Urgent {
                id: ids[2],
                program_id: q,
                span: Span::new(day(2026, 3, 8), day(2026, 3, 12)),
            },
            Urgent {
                id: ids[3],
                program_id: q,
                span: Span::new(day(2026, 3, 21), day(2026, 3, 30)),
            },
        ];
        let found = clashes(&work);
        assert_eq!(
            found,
            vec![
                Clash {
                    first: ids[0],
                    second: ids[2],
                    overlap: Span::new(day(2026, 3, 8), day(2026, 3, 10)),
                },
                Clash {
                    first: ids[1],
                    second: ids[2],
                    overlap: Span::new(day(2026, 3, 8), day(2026, 3, 12)),
                },
            ]
        );
    }
}
