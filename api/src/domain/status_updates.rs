//! Status updates: immutable reports that set a program's health.

use std::collections::HashSet;

use entity::{
    audit_event::Verb,
    enums::{Health, Locale},
    program, status_update,
};
use sea_orm::{ActiveModelTrait, Set};

use uuid::Uuid;

use super::{
    Domain,
    access::{self, Action, Visible},
    audit::{self, Change},
    near::forecast_finish,
    validate, versioned,
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// What `postStatusUpdate` accepts.
#[derive(Debug, Clone)]
pub struct NewStatusUpdate {
    /// The program reported on.
    pub program_id: Uuid,
    /// The program's health as of now.
    pub health: Health,
    /// What happened and what comes next.
    pub summary: String,
    /// The summary in other languages, at most one per language.
    pub translations: Vec<Translation>,
}

/// A status update's summary in one language.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Translation {
    /// The language it is written in.
    pub locale: Locale,
    /// The summary in that language.
    pub summary: String,
}

/// Validate translations like the summary itself, one per language.
fn validate_translations(translations: Vec<Translation>) -> ApiResult<Vec<Translation>> {
    let mut seen = HashSet::new();
    translations
        .into_iter()
        .enumerate()
        .map(|(i, translation)| {
            if !seen.insert(translation.locale) {
                return Err(ApiError::bad_input(
                    format!("input.translations.{i}.locale"),
                    Message::DuplicateLocale,
                ));
            }
            Ok(Translation {
                locale: translation.locale,
                summary: validate::long_text(
                    &format!("input.translations.{i}.summary"),
                    &translation.summary,
                )?,
            })
        })
        .collect()
}

/// The translations stored with a status update (entries that do not parse are left out).
pub fn translations(update: &status_update::Model) -> Vec<Translation> {
    update
        .translations
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|entry| serde_json::from_value(entry.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The summary in `locale` when a translation exists, else as written.
pub fn summary_in(update: &status_update::Model, locale: Locale) -> String {
    translations(update)
        .into_iter()
        .find(|t| t.locale == locale)
        .map_or_else(|| update.summary.clone(), |t| t.summary)
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
        let translations = validate_translations(input.translations)?;

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
            translations: Set(serde_json::to_value(&translations).map_err(ApiError::internal)?),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut active: program::ActiveModel = before.clone().into();
        active.health = Set(input.health);
        let after =
            versioned::save::<program::Entity>(&txn, before.id, before.version, active).await?;
        // Two entries, each `{field: {before, after}}`: the update posted,
        // and the program's health it set.
        self.commit(
            txn,
            user.id,
            [
                Change::of(Verb::Post, &posted, audit::diff(None, Some(&posted))),
                Change::updated(&before, &after),
            ],
        )
        .await?;
        Ok((access.admit(posted)?, access.admit(after)?))
    }
}

/// The newest of a program's status updates, if any.
pub fn latest(rows: Vec<Visible<status_update::Model>>) -> Option<Visible<status_update::Model>> {
    rows.into_iter().max_by_key(|u| (u.created_at, u.id))
}
