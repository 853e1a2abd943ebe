//! Loading now: loading ahead (`graphql::prefetch`) knows every key a
//! level needs, so it loads them straight away instead of waiting for a
//! DataLoader batch to gather on its timer, and remembers what it loaded.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use uuid::Uuid;

use super::Loaders;
use crate::error::{ApiError, ApiResult};

impl Loaders {
    /// Load `keys` with `loader` at once and remember what was found.
    /// Loading ahead knows every key a level needs, so it does not wait for
    /// a batch to gather on the DataLoader's timer; keys it loaded before in
    /// this request come from the loader's cache. Two loads ahead through
    /// one loader take turns, so a key the other is loading is found in the
    /// cache rather than asked for again.
    pub async fn load_now<L>(
        &self,
        loader: &DataLoader<L, HashMapCache>,
        keys: impl IntoIterator<Item = Uuid>,
    ) -> ApiResult<HashMap<Uuid, L::Value>>
    where
        L: Loader<Uuid, Error = ApiError>,
    {
        let loaded = self.loaded_now_by(loader);
        let mut loaded = loaded.lock().await;
        let (mut known, mut missing) = (Vec::new(), Vec::new());
        for key in keys {
            if loaded.insert(key) {
                missing.push(key);
            } else {
                known.push(key);
            }
        }
        let mut found = if missing.is_empty() {
            HashMap::new()
        } else {
            let found = loader.loader().load(&missing).await?;
            loader
                .feed_many(found.iter().map(|(key, value)| (*key, value.clone())))
                .await;
            found
        };
        if !known.is_empty() {
            found.extend(loader.load_many(known).await?);
        }
        Ok(found)
    }

    /// Put `rows` (already admitted) in `loader`'s cache as if loaded now,
    /// so that loading them ahead later reads nothing again.
    pub async fn feed_now<L>(
        &self,
        loader: &DataLoader<L, HashMapCache>,
        rows: impl IntoIterator<Item = (Uuid, L::Value)>,
    ) where
        L: Loader<Uuid, Error = ApiError>,
    {
        let rows: Vec<_> = rows.into_iter().collect();
        let loaded = self.loaded_now_by(loader);
        let mut loaded = loaded.lock().await;
        loaded.extend(rows.iter().map(|(key, _)| *key));
        loader.feed_many(rows).await;
    }

    /// The keys [`Loaders::load_now`] loaded with `loader`.
    fn loaded_now_by<L>(
        &self,
        loader: &DataLoader<L, HashMapCache>,
    ) -> Arc<tokio::sync::Mutex<HashSet<Uuid>>>
    where
        L: Loader<Uuid>,
    {
        let tag = std::ptr::from_ref(loader) as usize;
        self.loaded_now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(tag)
            .or_default()
            .clone()
    }

    /// Those of `rows` (with their `id`) not yet loaded ahead under every
    /// one of `fields`; from now on they count as loaded ahead under all of
    /// them.
    pub fn first_time_ahead<'r, T>(
        &self,
        fields: &[usize],
        rows: &[&'r T],
        id: impl Fn(&T) -> Uuid,
    ) -> Vec<&'r T> {
        let mut done = self
            .loaded_ahead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rows.iter()
            .copied()
            .filter(|row| {
                let id = id(row);
                let mut fresh = false;
                for field in fields {
                    fresh |= done.insert((*field, id));
                }
                fresh
            })
            .collect()
    }
}
