//! Computed health: what the forecast says about a program, with the
//! reasons, beside the health last posted in a status update.
//!
//! `OFF_TRACK` when the forecast finish is more than the program's
//! `offTrackAfterDays` after its target, or a blocked workstream or an
//! overdue dependency is on the critical path; `AT_RISK` when the forecast is
//! 1…`offTrackAfterDays` days late, or an at-risk (or declined) dependency or an open risk
//! scoring 15 or more touches critical work; else `ON_TRACK`.

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::{
    audit_event::Subject,
    dependency,
    enums::{Commitment, Health, Locale, RiskStatus, WorkstreamStatus},
    risk,
};
use uuid::Uuid;

use super::access::Visible;
use super::planning::ProgramPlan;

/// Risk score from which an open risk on critical work puts a program at risk.
pub const HIGH_RISK_SCORE: i32 = 15;

/// Why the computed health is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReasonCode {
    /// The forecast finish is past the target.
    ForecastLate,
    /// A blocked workstream is on the critical path.
    BlockedOnCriticalPath,
    /// An overdue dependency touches the critical path.
    OverdueDependencyOnCriticalPath,
    /// A dependency at risk or predicted late touches the critical path.
    AtRiskDependencyOnCriticalPath,
    /// The upstream team declined a dependency that touches the critical path.
    DeclinedDependencyOnCriticalPath,
    /// An open, high-scoring risk touches the critical path.
    HighRiskOnCriticalPath,
}

/// What a reason says, with the facts its message needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// Forecast `forecast`, `days` after `target`.
    Late {
        /// The forecast finish.
        forecast: NaiveDate,
        /// The target.
        target: NaiveDate,
        /// Days late.
        days: i64,
    },
    /// Workstream `name` is blocked.
    Blocked {
        /// Its name.
        name: String,
    },
    /// `upstream` → `downstream`, needed by `needed_by`, is overdue.
    Overdue {
        /// Upstream workstream name.
        upstream: String,
        /// Downstream workstream name.
        downstream: String,
        /// When it was needed.
        needed_by: Option<NaiveDate>,
    },
    /// `upstream` → `downstream` is at risk, predicted for `predicted`.
    AtRisk {
        /// Upstream workstream name.
        upstream: String,
        /// Downstream workstream name.
        downstream: String,
        /// Predicted delivery.
        predicted: Option<NaiveDate>,
        /// When it is needed.
        needed_by: Option<NaiveDate>,
    },
    /// The upstream team declined `upstream` → `downstream`.
    Declined {
        /// Upstream workstream name.
        upstream: String,
        /// Downstream workstream name.
        downstream: String,
    },
    /// Risk `title` scores `score`.
    Risk {
        /// Its title.
        title: String,
        /// Likelihood × impact.
        score: i32,
    },
}

impl Fact {
    /// The fact as a sentence in `locale`.
    pub fn text(&self, locale: Locale) -> String {
        let day = |d: &Option<NaiveDate>| d.map_or_else(|| "?".to_owned(), |d| d.to_string());
        match (self, locale) {
            (
                Self::Late {
                    forecast,
                    target,
                    days,
                },
                Locale::En,
            ) => {
                format!("The forecast finish {forecast} is {days} days after the target {target}.")
            }
            (
                Self::Late {
                    forecast,
                    target,
                    days,
                },
                Locale::Ko,
            ) => format!("예상 완료일 {forecast}이(가) 목표일 {target}보다 {days}일 늦습니다."),
            (Self::Blocked { name }, Locale::En) => {
                format!("“{name}” is blocked and on the critical path.")
            }
            (Self::Blocked { name }, Locale::Ko) => {
                format!("주경로의 “{name}”이(가) 막혀 있습니다.")
            }
            (
                Self::Overdue {
                    upstream,
                    downstream,
                    needed_by,
                },
                Locale::En,
            ) => format!(
                "“{downstream}” needed “{upstream}” by {} and is on the critical path.",
                day(needed_by)
            ),
            (
                Self::Overdue {
                    upstream,
                    downstream,
                    needed_by,
                },
                Locale::Ko,
            ) => format!(
                "주경로의 “{downstream}”은(는) {}까지 “{upstream}”이(가) 필요했지만 아직 받지 못했습니다.",
                day(needed_by)
            ),
            (
                Self::AtRisk {
                    upstream,
                    downstream,
                    predicted,
                    needed_by,
                },
                Locale::En,
            ) => format!(
                "“{upstream}” is predicted to deliver to “{downstream}” on {}, needed by {}, on the critical path.",
                day(predicted),
                day(needed_by)
            ),
            (
                Self::AtRisk {
                    upstream,
                    downstream,
                    predicted,
                    needed_by,
                },
                Locale::Ko,
            ) => format!(
                "주경로의 “{downstream}”은(는) {}까지 필요하지만 “{upstream}”은(는) {}에 전달될 것으로 예상됩니다.",
                day(needed_by),
                day(predicted)
            ),
            (
                Self::Declined {
                    upstream,
                    downstream,
                },
                Locale::En,
            ) => format!(
                "The team of “{upstream}” declined to deliver to “{downstream}”, which is on the critical path."
            ),
            (
                Self::Declined {
                    upstream,
                    downstream,
                },
                Locale::Ko,
            ) => format!(
                "“{upstream}” 팀이 주경로의 “{downstream}”에 대한 전달 요청을 거절했습니다."
            ),
            (Self::Risk { title, score }, Locale::En) => {
                format!("Open risk “{title}” (score {score}) touches the critical path.")
            }
            (Self::Risk { title, score }, Locale::Ko) => {
                format!("미해결 리스크 “{title}”(점수 {score})이(가) 주경로에 걸려 있습니다.")
            }
        }
    }
}

/// One reason for the computed health.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// What kind of reason.
    pub code: ReasonCode,
    /// The health it leads to.
    pub health: Health,
    /// The entity it is about, if any.
    pub subject: Option<(Subject, Uuid)>,
    /// The facts of its message.
    pub fact: Fact,
}

/// A program's computed health and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputedHealth {
    /// The health the forecast gives.
    pub health: Health,
    /// Why, most severe first; empty when on track.
    pub reasons: Vec<Reason>,
}

/// The computed health of a plan, given the program's risks.
pub fn computed_health(plan: &ProgramPlan, risks: &[Visible<risk::Model>]) -> ComputedHealth {
    let critical: HashSet<Uuid> = plan
        .schedule
        .slots
        .iter()
        .filter(|slot| slot.critical)
        .map(|slot| slot.id)
        .collect();
    let name = |id: Uuid| {
        plan.workstream(id)
            .map(|ws| ws.name.clone())
            .unwrap_or_default()
    };
    let touches = |dep: &dependency::Model| {
        critical.contains(&dep.upstream_id) || critical.contains(&dep.downstream_id)
    };
    let mut reasons = Vec::new();

    let off_track_after = i64::from(plan.program.off_track_after_days);
    if let (Some(forecast), Some(target)) = (plan.schedule.finish_date, plan.program.target_date)
        && forecast > target
    {
        let days = (forecast - target).num_days();
        reasons.push(Reason {
            code: ReasonCode::ForecastLate,
            health: if days > off_track_after {
                Health::OffTrack
            } else {
                Health::AtRisk
            },
            subject: Some((Subject::Program, plan.program.id)),
            fact: Fact::Late {
                forecast,
                target,
                days,
            },
        });
    }
    for ws in plan.workstreams() {
        if ws.status == WorkstreamStatus::Blocked && critical.contains(&ws.id) {
            reasons.push(Reason {
                code: ReasonCode::BlockedOnCriticalPath,
                health: Health::OffTrack,
                subject: Some((Subject::Workstream, ws.id)),
                fact: Fact::Blocked {
                    name: ws.name.clone(),
                },
            });
        }
    }
    for dep in plan.overdue().filter(|dep| touches(dep)) {
        reasons.push(Reason {
            code: ReasonCode::OverdueDependencyOnCriticalPath,
            health: Health::OffTrack,
            subject: Some((Subject::Dependency, dep.id)),
            fact: Fact::Overdue {
                upstream: name(dep.upstream_id),
                downstream: name(dep.downstream_id),
                needed_by: dep.needed_by,
            },
        });
    }
    for dep in plan.at_risk().filter(|dep| touches(dep)) {
        if dep.commitment == Commitment::Declined {
            reasons.push(Reason {
                code: ReasonCode::DeclinedDependencyOnCriticalPath,
                health: Health::AtRisk,
                subject: Some((Subject::Dependency, dep.id)),
                fact: Fact::Declined {
                    upstream: name(dep.upstream_id),
                    downstream: name(dep.downstream_id),
                },
            });
            continue;
        }
        reasons.push(Reason {
            code: ReasonCode::AtRiskDependencyOnCriticalPath,
            health: Health::AtRisk,
            subject: Some((Subject::Dependency, dep.id)),
            fact: Fact::AtRisk {
                upstream: name(dep.upstream_id),
                downstream: name(dep.downstream_id),
                predicted: plan.predicted_delivery(dep),
                needed_by: dep.needed_by,
            },
        });
    }
    let critical_dependencies: HashSet<Uuid> = plan
        .visible_dependencies()
        .filter(|dep| touches(dep))
        .map(|dep| dep.id)
        .collect();
    for risk in risks {
        let open = matches!(risk.status, RiskStatus::Open | RiskStatus::Mitigating);
        let on_critical = risk.workstream_id.is_some_and(|id| critical.contains(&id))
            || risk
                .dependency_id
                .is_some_and(|id| critical_dependencies.contains(&id));
        if open && risk.score >= HIGH_RISK_SCORE && on_critical {
            reasons.push(Reason {
                code: ReasonCode::HighRiskOnCriticalPath,
                health: Health::AtRisk,
                subject: Some((Subject::Risk, risk.id)),
                fact: Fact::Risk {
                    title: risk.title.clone(),
                    score: risk.score,
                },
            });
        }
    }
    let severity = |health: Health| match health {
        Health::OffTrack => 0,
        Health::AtRisk => 1,
        Health::OnTrack => 2,
    };
    reasons.sort_by_key(|reason| (severity(reason.health), reason.code));
    ComputedHealth {
        health: reasons
            .first()
            .map_or(Health::OnTrack, |reason| reason.health),
        reasons,
    }
}
