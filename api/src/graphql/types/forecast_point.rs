//! `ForecastPoint`: the program's forecast finish as recorded at one moment.

use async_graphql::{Context, Enum, ID, Object, Result};
use uuid::Uuid;

use super::{Baseline, StatusUpdate};
use crate::domain::baselines::{self, ForecastPoint as DomainPoint};
use crate::graphql::scalars::Date;
use crate::graphql::scalars::Instant;
use crate::graphql::work::Text;

/// What recorded a point of the forecast's history.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ForecastSource {
    /// A status update, which snapshots the forecast when posted.
    StatusUpdate,
    /// A baseline.
    Baseline,
}

/// The program's forecast finish as a status update or a baseline recorded it.
pub struct ForecastPoint(DomainPoint);

/// The `forecastHistory` field of a program: status updates and baselines, oldest first.
pub async fn program_forecast_history(
    ctx: &Context<'_>,
    program_id: Uuid,
    size: usize,
) -> Result<Vec<ForecastPoint>> {
    let (updates, baselines) = futures::try_join!(
        super::status_update::program_rows(ctx, program_id),
        super::baseline::program_rows(ctx, program_id),
    )?;
    Ok(baselines::forecast_history(updates, baselines)
        .into_iter()
        .take(size)
        .map(ForecastPoint)
        .collect())
}

/// The program's forecast finish as a status update or a baseline recorded it.
#[Object]
impl ForecastPoint {
    /// The day it was recorded (UTC).
    async fn on(&self) -> Date {
        Date(self.0.at.date_naive())
    }
    /// When it was recorded.
    async fn at(&self) -> Instant {
        Instant(self.0.at)
    }
    /// The program's forecast finish then; null when nothing was scheduled.
    async fn forecast_finish_date(&self) -> Option<Date> {
        self.0.forecast_finish.map(Date)
    }
    /// The program's target day then.
    async fn target_date(&self) -> Option<Date> {
        self.0.target_date.map(Date)
    }
    /// What recorded it.
    async fn source(&self) -> ForecastSource {
        match self.0.source {
            baselines::ForecastSource::StatusUpdate(_) => ForecastSource::StatusUpdate,
            baselines::ForecastSource::Baseline(_) => ForecastSource::Baseline,
        }
    }
    /// The id of the status update or baseline that recorded it.
    async fn source_id(&self) -> ID {
        ID(self.0.source_id().to_string())
    }
    /// The baseline's name; null for a status update.
    async fn name(&self) -> Option<Text<&str>> {
        match &self.0.source {
            baselines::ForecastSource::Baseline(baseline) => Some(Text(&baseline.name)),
            baselines::ForecastSource::StatusUpdate(_) => None,
        }
    }
    /// The status update that recorded it, if one did.
    async fn status_update(&self) -> Option<StatusUpdate> {
        match &self.0.source {
            baselines::ForecastSource::StatusUpdate(update) => Some(StatusUpdate(update.clone())),
            baselines::ForecastSource::Baseline(_) => None,
        }
    }
    /// The baseline that recorded it, if one did.
    async fn baseline(&self) -> Option<Baseline> {
        match &self.0.source {
            baselines::ForecastSource::Baseline(baseline) => Some(Baseline(baseline.clone())),
            baselines::ForecastSource::StatusUpdate(_) => None,
        }
    }
}
