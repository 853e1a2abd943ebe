//! Planning through a request's loaders: every program the fields of a
//! request ask a plan of is planned once, the programs one batch asks for
//! from one load, and what the plans cost is charged to the request's work
//! meter; the computed health and the brief are read from those plans.

use std::collections::HashMap;
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use async_graphql::dataloader::Loader;
use entity::program;
use uuid::Uuid;

use super::{Loaders, group};
use crate::domain::Domain;
use crate::domain::access::{Visibility, Visible};
use crate::domain::planning::ProgramPlan;
use crate::error::{ApiError, ApiResult};
use crate::planning::brief::{self, BriefFacts};

/// The work a request did beyond the fields it returns (plans,
/// rendering), in cost points, against the request's limit.
#[derive(Clone)]
pub(super) struct WorkMeter {
    pub(super) used: Arc<AtomicU64>,
    pub(super) limit: u64,
}

impl WorkMeter {
    /// Add `points`; past the limit the work is refused (what was done
    /// already stays charged).
    pub(super) fn charge(&self, points: u64) -> ApiResult<()> {
        let total = self
            .used
            .fetch_add(points, Ordering::Relaxed)
            .saturating_add(points);
        self.refuse_past(total)
    }

    /// Refuse more work once the request is past its limit, before doing it.
    fn check(&self) -> ApiResult<()> {
        self.refuse_past(self.used.load(Ordering::Relaxed))
    }

    fn refuse_past(&self, total: u64) -> ApiResult<()> {
        if total > self.limit {
            return Err(ApiError::QueryTooComplex {
                measure: crate::error::Measure::Work,
                cost: total,
                limit: self.limit,
            });
        }
        Ok(())
    }
}

/// Plans the programs the fields of a request ask for, every program one
/// batch asks for from one load; each plan costs a point per workstream
/// and dependency loaded.
pub struct Plans {
    domain: Domain,
    visibility: Arc<Visibility>,
    work: WorkMeter,
    /// The programs asked for, as the fields asking hold them.
    asked: std::sync::Mutex<HashMap<Uuid, Visible<program::Model>>>,
    /// Whether plans are kept for the rest of the request (not in a
    /// document that writes, whose later fields must see its changes).
    remember: bool,
    /// The plans made; held while planning, so that a batch asking again
    /// for a plan another batch is making waits for it.
    made: tokio::sync::Mutex<HashMap<Uuid, Arc<ProgramPlan>>>,
}

impl Plans {
    /// A loader of `domain`'s plans for one request of the caller of
    /// `visibility`, keeping them for the request when `remember`.
    pub(super) fn new(
        domain: &Domain,
        visibility: Arc<Visibility>,
        work: WorkMeter,
        remember: bool,
    ) -> Self {
        Self {
            domain: domain.clone(),
            visibility,
            work,
            asked: Default::default(),
            remember,
            made: Default::default(),
        }
    }

    /// Ask for the plans of `programs`.
    fn ask<'p>(&self, programs: impl IntoIterator<Item = &'p Visible<program::Model>>) {
        let mut asked = self
            .asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for program in programs {
            asked.entry(program.id).or_insert_with(|| program.clone());
        }
    }
}

impl Loader<Uuid> for Plans {
    type Value = Arc<ProgramPlan>;
    type Error = ApiError;

    #[tracing::instrument(level = "debug", skip_all, fields(keys = keys.len()))]
    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut made = self.made.lock().await;
        let mut found: HashMap<Uuid, Self::Value> = keys
            .iter()
            .filter_map(|key| Some((*key, made.get(key)?.clone())))
            .collect();
        let missing: Vec<Visible<program::Model>> = {
            let asked = self
                .asked
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            keys.iter()
                .filter(|key| !found.contains_key(key))
                .filter_map(|key| asked.get(key).cloned())
                .collect()
        };
        if missing.is_empty() {
            return Ok(found);
        }
        self.work.check()?;
        // Boxed, as the other large futures a field awaits: every field of
        // a type moves a future the size of its largest field's when it
        // starts, so a planning field inline would make `id` cost kilobytes.
        let plans = Box::pin(self.domain.program_plans(&self.visibility, missing)).await?;
        let size = plans.values().map(|plan| plan.size() as u64).sum();
        // Charged before they are kept: plans past the limit are not served
        // to a field asking later (which is refused before planning again).
        self.work.charge(size)?;
        for (id, plan) in plans {
            let plan = Arc::new(plan);
            if self.remember {
                made.insert(id, plan.clone());
            }
            found.insert(id, plan);
        }
        Ok(found)
    }
}

impl Loaders {
    /// The program's plan, loaded and scheduled once per request however many
    /// planning fields ask for it, together with the plans other fields
    /// ask for at the same time.
    pub async fn plan(&self, program: &Visible<program::Model>) -> ApiResult<Arc<ProgramPlan>> {
        self.plans.loader().ask([program]);
        self.plans
            .load_one(program.id)
            .await?
            .ok_or_else(|| ApiError::internal("a program asked for was not planned"))
    }

    /// The plans of `programs`, loaded together, by program id.
    pub async fn plans(
        &self,
        programs: &[&Visible<program::Model>],
    ) -> ApiResult<HashMap<Uuid, Arc<ProgramPlan>>> {
        self.plans.loader().ask(programs.iter().copied());
        self.plans.load_many(programs.iter().map(|p| p.id)).await
    }

    /// Plan `programs` now, together, without waiting for other fields to
    /// ask (loading ahead, which knows every program a page will plan).
    pub async fn plan_now(&self, programs: &[&Visible<program::Model>]) -> ApiResult<()> {
        let plans = self.plans.loader();
        plans.ask(programs.iter().copied());
        let ids: Vec<Uuid> = programs.iter().map(|p| p.id).collect();
        plans.load(&ids).await?;
        Ok(())
    }

    /// The program's health computed from its forecast, with reasons.
    pub async fn computed_health(
        &self,
        program: &Visible<program::Model>,
    ) -> ApiResult<crate::domain::health::ComputedHealth> {
        let plan = self.plan(program).await?;
        self.computed_health_of(&plan).await
    }

    /// The health computed from `plan`, with reasons.
    async fn computed_health_of(
        &self,
        plan: &ProgramPlan,
    ) -> ApiResult<crate::domain::health::ComputedHealth> {
        let risks = group(&self.risks_by_program, plan.program.id).await?;
        Ok(crate::domain::health::computed_health(plan, &risks))
    }

    /// What the program's brief says, gathered once per request however
    /// many brief fields (and languages) ask for it.
    async fn brief_facts(&self, program: &Visible<program::Model>) -> ApiResult<Arc<BriefFacts>> {
        let plan = self.plan(program).await?;
        let mut briefs = self.briefs.lock().await;
        if let Some(facts) = briefs.get(&program.id) {
            return Ok(facts.clone());
        }
        let mut facts = Box::pin(self.domain.brief_facts(self.visibility.viewer(), &plan)).await?;
        facts.computed_health = Some(self.computed_health_of(&plan).await?.health);
        let facts = Arc::new(facts);
        briefs.insert(program.id, facts.clone());
        Ok(facts)
    }

    /// The program's executive brief in `locale`; rendering costs a point
    /// per 64 bytes written.
    pub async fn brief(
        &self,
        program: &Visible<program::Model>,
        locale: entity::enums::Locale,
    ) -> ApiResult<String> {
        let brief = brief::render(&*self.brief_facts(program).await?, locale);
        self.charge(rendering_cost(&brief))?;
        Ok(brief)
    }

    /// The brief's opening paragraph in `locale`; rendering costs a point
    /// per 64 bytes written.
    pub async fn brief_summary(
        &self,
        program: &Visible<program::Model>,
        locale: entity::enums::Locale,
    ) -> ApiResult<String> {
        let summary = brief::summary(&*self.brief_facts(program).await?, locale);
        self.charge(rendering_cost(&summary))?;
        Ok(summary)
    }

    /// The program's dependency graph as text; rendering costs a point per
    /// 64 bytes written.
    pub async fn dependency_graph(
        &self,
        program: &Visible<program::Model>,
        format: crate::domain::planning::GraphFormat,
    ) -> ApiResult<String> {
        let plan = self.plan(program).await?;
        let graph = self
            .domain
            .dependency_graph(&plan, format, self.visibility.viewer().locale)
            .await?;
        self.charge(rendering_cost(&graph))?;
        Ok(graph)
    }
}

/// Cost points of rendering or returning `text`.
pub fn rendering_cost(text: &str) -> u64 {
    (text.len() as u64).div_ceil(64)
}
