//! Live changes of a program.

use async_graphql::{Context, ID, Result, Subscription};
use futures::{Stream, StreamExt};

use crate::graphql::context::{parse_id, scope};
use crate::graphql::types::ProgramEvent;

/// Subscriptions about programs.
#[derive(Default)]
pub struct ProgramSubscription;

/// Subscriptions about programs.
#[Subscription]
impl ProgramSubscription {
    /// Every change committed in the program `programId` from now on, for its
    /// members and ADMINs (`NOT_FOUND` for anyone else, as for a missing
    /// program). Completes when the viewer loses access or falls too far
    /// behind; then resubscribe and refetch.
    async fn program_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The program whose changes to follow.")] program_id: ID,
    ) -> Result<impl Stream<Item = ProgramEvent> + use<>> {
        let (domain, viewer) = scope(ctx)?;
        let program_id = parse_id("programId", &program_id)?;
        let events = domain.program_events(viewer, program_id).await?;
        Ok(events.map(ProgramEvent))
    }
}
