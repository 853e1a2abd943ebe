//! One import under way: its rows applied in order (workstreams first, so
//! the others can name them) through the same in-transaction steps as the
//! mutations, each row's errors kept for the report.

use std::collections::HashMap;

use entity::{dependency, link::links_json, milestone, risk, workstream};
use sea_orm::{ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{
    Counts, DependencyRow, ImportSummary, MilestoneRow, RiskRow, WorkstreamRow,
    files::{Place, Rows},
    reference_of,
};
use crate::auth::Viewer;
use crate::domain::{
    Domain, access,
    audit::{Change, Recorded},
    dependencies::{Fields, NewDependency},
    links,
    milestones::{NewMilestone, insert_milestone},
    patch::Patch,
    risks::{NewRisk, insert_risk, level},
    validate::{self, AllInputs},
    versioned,
    workstreams::{NewWorkstream, WorkstreamChanges},
};
use crate::error::{ApiError, ApiResult, RowError};
use crate::i18n::Message;

/// `Set` for a value the row gives, `Clear` for one it leaves out.
fn stated<T>(value: Option<T>) -> Patch<T> {
    value.map_or(Patch::Clear, Patch::Set)
}

/// Which count a row adds to.
pub(super) enum Done {
    Created(fn(&mut Counts) -> &mut usize),
    Updated(fn(&mut Counts) -> &mut usize),
}

/// One import under way, inside its transaction.
pub(super) struct Import<'a> {
    domain: &'a Domain,
    txn: &'a DatabaseTransaction,
    viewer: &'a Viewer,
    actor: Uuid,
    program_id: Uuid,
    /// Workstreams by reference: the program's by external id, then the file's.
    workstreams: HashMap<String, workstream::Model>,
    changes: Vec<Change>,
    summary: ImportSummary,
    errors: Vec<RowError>,
}

impl<'a> Import<'a> {
    /// An import into `program_id` by `viewer` inside `txn`, starting with
    /// the errors found reading the file.
    pub(super) fn new(
        domain: &'a Domain,
        txn: &'a DatabaseTransaction,
        viewer: &'a Viewer,
        program_id: Uuid,
        errors: Vec<RowError>,
    ) -> Self {
        Self {
            domain,
            txn,
            viewer,
            actor: viewer.user.as_ref().map_or(Uuid::nil(), |user| user.id),
            program_id,
            workstreams: HashMap::new(),
            changes: Vec::new(),
            summary: ImportSummary::default(),
            errors,
        }
    }

    /// Apply every row, workstreams first so the others can name them: the
    /// history entries, what was done, and every row's errors.
    pub(super) async fn run(
        mut self,
        rows: Rows,
    ) -> ApiResult<(Vec<Change>, ImportSummary, Vec<RowError>)> {
        self.known_workstreams().await?;
        for (place, row) in rows.workstreams {
            let outcome = self.workstream(row).await;
            self.settle(place, outcome)?;
        }
        for (place, row) in rows.milestones {
            let outcome = self.milestone(row).await;
            self.settle(place, outcome)?;
        }
        for (place, row) in rows.dependencies {
            let outcome = self.dependency(row).await;
            self.settle(place, outcome)?;
        }
        for (place, row) in rows.risks {
            let outcome = self.risk(row).await;
            self.settle(place, outcome)?;
        }
        Ok((self.changes, self.summary, self.errors))
    }

    /// The program's workstreams, by reference (its external id, else its id).
    async fn known_workstreams(&mut self) -> ApiResult<()> {
        let rows = workstream::Entity::find()
            .filter(workstream::Column::ProgramId.eq(self.program_id))
            .all(self.txn)
            .await?;
        for row in rows {
            self.workstreams.insert(reference_of(&row), row);
        }
        Ok(())
    }

    /// Save `active`, the changed `before` at `version`, and keep its history entry.
    async fn save<E>(
        &mut self,
        before: &E::Model,
        version: i32,
        active: E::ActiveModel,
    ) -> ApiResult<()>
    where
        E: versioned::Versioned,
        E::Model: Recorded,
        E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E> + Send,
    {
        let after = versioned::save::<E>(self.txn, before.id(), version, active).await?;
        self.changes.push(Change::updated(before, &after));
        Ok(())
    }

    /// Count a row's outcome, or keep its errors.
    fn settle(&mut self, place: Place, outcome: ApiResult<Done>) -> ApiResult<()> {
        match outcome {
            Ok(Done::Created(count)) => *count(&mut self.summary.created) += 1,
            Ok(Done::Updated(count)) => *count(&mut self.summary.updated) += 1,
            Err(error) => self.errors.extend(place.errors(error)?),
        }
        Ok(())
    }

    fn workstream_named(&self, reference: &str, field: &str) -> ApiResult<&workstream::Model> {
        self.workstreams
            .get(reference.trim())
            .ok_or_else(|| ApiError::bad_input(field, Message::UnknownReference))
    }

    async fn workstream(&mut self, row: WorkstreamRow) -> ApiResult<Done> {
        let reference = row.reference.clone().or_else(|| row.external_id.clone());
        let existing = match &row.external_id {
            Some(external_id) => {
                links::find_by_external_id::<workstream::Entity>(
                    self.txn,
                    self.program_id,
                    external_id.trim(),
                )
                .await?
            }
            // A row exported without an external id is referred to by its id.
            None => reference
                .as_deref()
                .and_then(|reference| reference.trim().parse::<Uuid>().ok())
                .and_then(|id| {
                    self.workstreams
                        .get(&id.to_string())
                        .filter(|known| known.id == id)
                        .cloned()
                }),
        };
        if let Some(reference) = &reference
            && self.workstreams.contains_key(reference.trim())
            && existing.as_ref().is_none_or(|row| {
                self.workstreams.get(reference.trim()).map(|known| known.id) != Some(row.id)
            })
        {
            return Err(ApiError::bad_input("ref", Message::DuplicateRow));
        }
        let changes = WorkstreamChanges {
            name: Patch::Set(row.name),
            description: stated(row.description),
            team_id: Patch::Keep,
            lead_id: Patch::Keep,
            status: row.status.into(),
            health: row.health.into(),
            start_date: stated(row.start_date),
            target_date: stated(row.target_date),
            progress: row.progress.into(),
            started_on: row.started_on.into(),
            finished_on: row.finished_on.into(),
            external_id: stated(row.external_id),
            links: Patch::Set(row.links),
            priority: row.priority.into(),
            effort_days: stated(row.effort_days),
        };
        let (saved, done) = match existing {
            Some(before) => {
                let after = self
                    .domain
                    .change_workstream(self.txn, &before, changes)
                    .await?;
                self.changes.push(Change::updated(&before, &after));
                (after, Done::Updated(|c| &mut c.workstreams))
            }
            None => {
                let input = NewWorkstream::from_changes(self.program_id, changes)?;
                let created = self.domain.insert_workstream(self.txn, input).await?;
                self.changes.push(Change::created(&created));
                (created, Done::Created(|c| &mut c.workstreams))
            }
        };
        if let Some(reference) = reference {
            self.workstreams.insert(reference.trim().to_owned(), saved);
        }
        Ok(done)
    }

    async fn milestone(&mut self, row: MilestoneRow) -> ApiResult<Done> {
        let parent = self
            .workstream_named(&row.workstream, "workstream")?
            .clone();
        let existing = milestone::Entity::find()
            .filter(milestone::Column::WorkstreamId.eq(parent.id))
            .filter(milestone::Column::Name.eq(row.name.trim()))
            .one(self.txn)
            .await?;
        match existing {
            Some(before) => {
                let description =
                    validate::optional_text("input.description", row.description.as_deref())?;
                let mut active: milestone::ActiveModel = before.clone().into();
                active.description = Set(description);
                active.due_date = Set(row.due_date);
                active.completed_at = Set(row.completed_at);
                self.save::<milestone::Entity>(&before, before.version, active)
                    .await?;
                Ok(Done::Updated(|c| &mut c.milestones))
            }
            None => {
                let input = NewMilestone {
                    workstream_id: parent.id,
                    name: row.name,
                    description: row.description,
                    due_date: row.due_date,
                    completed_at: row.completed_at,
                };
                let created = insert_milestone(self.txn, &parent, input).await?;
                self.changes.push(Change::created(&created));
                Ok(Done::Created(|c| &mut c.milestones))
            }
        }
    }

    async fn dependency(&mut self, row: DependencyRow) -> ApiResult<Done> {
        let downstream = self.workstream_named(&row.downstream, "downstream")?.id;
        let upstream = match (&row.upstream, row.upstream_id) {
            (Some(reference), None) => self.workstream_named(reference, "upstream")?.id,
            (None, Some(id)) => id,
            _ => return Err(ApiError::bad_input("upstream", Message::Required)),
        };
        if upstream == downstream {
            return Err(ApiError::bad_input("upstream", Message::DependsOnItself));
        }
        let (description, (external_id, links)) = (
            validate::optional_text("input.description", row.description.as_deref()),
            links::new_fields(row.external_id.as_deref(), Some(row.links)),
        )
            .all()?;
        // Only a dependency the importer can see (both ends) is matched; one
        // on a hidden program is refused like a missing one when created.
        let by_external_id = external_id.as_ref().map(|external_id| {
            Condition::all()
                .add(dependency::Column::ProgramId.eq(self.program_id))
                .add(dependency::Column::ExternalId.eq(external_id.as_str()))
        });
        let by_ends = Condition::all()
            .add(dependency::Column::UpstreamId.eq(upstream))
            .add(dependency::Column::DownstreamId.eq(downstream));
        let mut existing = None;
        for condition in by_external_id.into_iter().chain([by_ends]) {
            existing = access::visible(self.viewer, dependency::Entity::find().filter(condition))?
                .one(self.txn)
                .await?
                .map(access::Visible::into_inner);
            if existing.is_some() {
                break;
            }
        }
        match existing {
            Some(before) => {
                if before.upstream_id != upstream || before.downstream_id != downstream {
                    return Err(ApiError::bad_input("externalId", Message::ExternalIdTaken));
                }
                let mut active: dependency::ActiveModel = before.clone().into();
                active.description = Set(description);
                active.needed_by = Set(row.needed_by);
                active.external_id = Set(external_id);
                active.links = Set(links);
                self.save::<dependency::Entity>(&before, before.version, active)
                    .await?;
                Ok(Done::Updated(|c| &mut c.dependencies))
            }
            None => {
                let input = NewDependency {
                    upstream_id: upstream,
                    downstream_id: downstream,
                    description: None,
                    needed_by: row.needed_by,
                    status: row.status,
                    committed_date: None,
                    committed_by_id: None,
                    external_id: None,
                    links: None,
                };
                let fields = Fields {
                    description,
                    external_id,
                    links,
                };
                let (created, ..) = self
                    .domain
                    .insert_dependency_in(self.txn, self.viewer, self.actor, &input, fields)
                    .await?;
                self.changes.push(Change::created(&created));
                Ok(Done::Created(|c| &mut c.dependencies))
            }
        }
    }

    async fn risk(&mut self, row: RiskRow) -> ApiResult<Done> {
        let workstream_id = match &row.workstream {
            Some(reference) => Some(self.workstream_named(reference, "workstream")?.id),
            None => None,
        };
        let existing = match &row.external_id {
            Some(external_id) => {
                links::find_by_external_id::<risk::Entity>(
                    self.txn,
                    self.program_id,
                    external_id.trim(),
                )
                .await?
            }
            None => None,
        };
        match existing {
            Some(before) => {
                let (title, description, mitigation, likelihood, impact, links) = (
                    validate::name("input.title", &row.title),
                    validate::optional_text("input.description", row.description.as_deref()),
                    validate::optional_text("input.mitigation", row.mitigation.as_deref()),
                    level("input.likelihood", row.likelihood),
                    level("input.impact", row.impact),
                    links::links("input.links", row.links),
                )
                    .all()?;
                let mut active: risk::ActiveModel = before.clone().into();
                active.title = Set(title);
                active.description = Set(description);
                active.mitigation = Set(mitigation);
                active.likelihood = Set(likelihood);
                active.impact = Set(impact);
                active.score = Set(likelihood * impact);
                if let Some(status) = row.status {
                    active.status = Set(status);
                }
                active.workstream_id = Set(workstream_id);
                active.links = Set(links_json(&links));
                self.save::<risk::Entity>(&before, before.version, active)
                    .await?;
                Ok(Done::Updated(|c| &mut c.risks))
            }
            None => {
                let input = NewRisk {
                    program_id: self.program_id,
                    title: row.title,
                    description: row.description,
                    likelihood: row.likelihood,
                    impact: row.impact,
                    status: row.status,
                    mitigation: row.mitigation,
                    owner_id: None,
                    workstream_id,
                    dependency_id: None,
                    external_id: row.external_id,
                    links: Some(row.links),
                };
                let (_, change) = insert_risk(self.txn, self.viewer, input).await?;
                self.changes.push(change);
                Ok(Done::Created(|c| &mut c.risks))
            }
        }
    }
}
