//! Root subscriptions, merged by area.

mod notification;
mod program;

use async_graphql::MergedSubscription;

/// Live updates, over `/graphql/ws` with the `graphql-transport-ws` protocol.
#[derive(MergedSubscription, Default)]
pub struct Subscription(
    program::ProgramSubscription,
    notification::ViewerSubscription,
);
