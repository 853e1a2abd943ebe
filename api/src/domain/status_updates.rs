//! Status updates: immutable reports that set a program's health.

use entity::{audit_event::Verb, enums::Health, program, status_update};
use sea_orm::{ActiveModelTrait, Set};

use uuid::Uuid;

use super::{
    Domain,
    access::{self, Action, Visible},
    audit::{self, Change},
    decisions::with_related,
    near::forecast_finish,
    pagination::{self, Direction, Page, PageArgs},
    validate, versioned,
};
use crate::auth::Viewer;
use crate::error::ApiResult;

/// What `postStatusUpdate` accepts.
#[derive(Debug, Clone)]
pub struct NewStatusUpdate {
    /// The program reported on.
    pub program_id: Uuid,
    /// The program's health as of now.
    pub health: Health,
    /// What happened and what comes next.
    pub summary: String,
}

impl Domain {
    /// Post a status update (OWNER, EDITOR) and set the program's health to it,
    /// snapshotting the forecast finish and target date; returns both rows.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn post_status_update(
        &self,
        viewer: &Viewer,
        input: NewStatusUpdate,
    ) -> ApiResult<(Visible<status_update::Model>, Visible<program::Model>)> {
        let user = viewer.require_user()?;
        let summary = validate::long_text("input.summary", &input.summary)?;

        let txn = self.begin_write().await?;
        let (before, access) = access::find_authorized::<program::Entity>(
            &txn,
            viewer,
            input.program_id,
            Action::Edit,
        )
        .await?;
        // The forecast as of now, snapshotted with the update.
        let forecast = forecast_finish(&txn, &before, self.today_of(&before)).await?;
        let posted = status_update::ActiveModel {
            program_id: Set(input.program_id),
            author_id: Set(Some(user.id)),
            health: Set(input.health),
            summary: Set(summary),
            forecast_finish: Set(forecast),
            target_date: Set(before.target_date),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut active: program::ActiveModel = before.clone().into();
        active.health = Set(input.health);
        let after =
            versioned::save::<program::Entity>(&txn, before.id, before.version, active).await?;
        let changes = with_related(
            audit::diff(None, Some(&posted)),
            "program",
            "Program",
            after.id,
            audit::diff(Some(&before), Some(&after)),
        );
        audit::commit(txn, user.id, [Change::of(Verb::Post, &posted, changes)]).await?;
        Ok((access.admit(posted)?, access.admit(after)?))
    }

    /// Page a program's status updates, already loaded in one batch, newest first.
    pub fn status_update_page(
        &self,
        rows: Vec<Visible<status_update::Model>>,
        args: &PageArgs,
    ) -> ApiResult<Page<Visible<status_update::Model>>> {
        pagination::paginate_rows(
            rows,
            "statusUpdates:CREATED_AT:Desc",
            Direction::Desc,
            args,
            self.limits.max_page_size,
            |u| u.created_at.into(),
            |u| u.id,
        )
    }
}

/// The newest of a program's status updates, if any.
pub fn latest(rows: Vec<Visible<status_update::Model>>) -> Option<Visible<status_update::Model>> {
    rows.into_iter().max_by_key(|u| (u.created_at, u.id))
}
