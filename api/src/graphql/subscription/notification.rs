//! The signed-in user's notifications, live.

use async_graphql::{Context, Result, Subscription};
use futures::{Stream, StreamExt};

use crate::domain::loaders::CurrentLoaders;
use crate::graphql::context::{request_data, scope};
use crate::graphql::types::Notification;

/// Subscriptions about the signed-in user.
#[derive(Default)]
pub struct ViewerSubscription;

/// Subscriptions about the signed-in user.
#[Subscription]
impl ViewerSubscription {
    /// Every notification written for you from now on (mentions, requests
    /// and answers, overdue dependencies, decisions and status updates
    /// coming due), while you can see what it is about. Completes when you
    /// fall too far behind; then resubscribe and read `viewer.notifications`.
    async fn viewer_notifications(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Notification> + use<>> {
        let (domain, viewer) = scope(ctx)?;
        let notifications = domain.viewer_notification_stream(viewer).await?;
        let current = request_data::<CurrentLoaders>(ctx)?.clone();
        let (domain, viewer) = (domain.clone(), viewer.clone());
        // Each notification is resolved with loaders of its own.
        Ok(notifications.map(move |notification| {
            current.renew(&domain, &viewer);
            Notification(notification)
        }))
    }
}
