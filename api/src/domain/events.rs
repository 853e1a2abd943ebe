//! A program's live changes for one subscriber: the bus's events (see
//! [`crate::events`]) filtered to its program, past its horizon, and to what
//! the subscriber may read, re-checked when membership changes.

use std::sync::Arc;

use entity::audit_event::Subject;
use futures::Stream;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{
    Domain,
    access::{self, Action},
};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::events::{ChangeEvent, Horizon, Live};

impl access::Scoped for ChangeEvent {
    fn reach(&self) -> access::Reach {
        match self.program_id {
            Some(program_id) => access::between(program_id, self.related_program_id),
            None => access::Reach::Admins,
        }
    }
}

/// One subscriber's view of the bus: its program's events while it may read them.
struct ProgramWatch {
    receiver: broadcast::Receiver<Arc<ChangeEvent>>,
    domain: Domain,
    viewer: Viewer,
    /// The subscriber's standing in the program, checked when it subscribed.
    access: access::Access,
    program_id: Uuid,
    /// Changes committed by then are not delivered.
    horizon: Horizon,
    _live: Live,
}

impl ProgramWatch {
    /// The next event to deliver; `None` ends the subscription.
    async fn next(&mut self) -> Option<access::Visible<Arc<ChangeEvent>>> {
        loop {
            let event = match self.receiver.recv().await {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    // Skipping silently would leave the client with a wrong
                    // picture; ending makes it resubscribe and refetch.
                    tracing::warn!(
                        missed,
                        program_id = %self.program_id,
                        "a subscriber fell behind; ending its subscription"
                    );
                    return None;
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            // A change to what lives between two programs reaches both
            // programs' subscribers.
            let here = super::audit::files_in(
                self.program_id,
                event.program_id,
                event.related_program_id,
                &event.entity_type,
            );
            if !here || self.horizon.includes(event.position) {
                continue;
            }
            // Membership changes are the only events that can change what this
            // viewer may read: check again before delivering one.
            if event.entity_type == Subject::ProgramMember.entity_type()
                && let Err(error) =
                    access::authorize(&self.domain.db, &self.viewer, self.program_id, Action::Read)
                        .await
            {
                if let ApiError::Internal(cause) = &error {
                    tracing::error!(cause = %cause, "could not re-check a subscriber's access");
                }
                return None;
            }
            // An entry that also names another program (a cross-program
            // dependency) reaches only those who can see that program too,
            // which is checked as it arrives.
            let admitted = match event.related_program_id {
                None => self.access.admit(event).map(Some),
                Some(_) => {
                    access::Visibility::new(self.viewer.clone())
                        .admit(&self.domain.db, event)
                        .await
                }
            };
            match admitted {
                Ok(Some(event)) => return Some(event),
                Ok(None) => continue,
                Err(error) => {
                    tracing::error!(error = ?error, "could not check a subscriber's access");
                    return None;
                }
            }
        }
    }
}

impl Domain {
    /// Every change committed in `program_id` from now on, for a member or
    /// ADMIN; others get `NOT_FOUND`, as for a program that does not exist.
    /// The stream ends when the viewer loses access or falls too far behind.
    pub async fn program_events(
        &self,
        viewer: &Viewer,
        program_id: Uuid,
    ) -> ApiResult<impl Stream<Item = access::Visible<Arc<ChangeEvent>>> + Send + use<>> {
        // Subscribe before reading the horizon: every change committed after
        // it is then on its way to this receiver.
        let receiver = self.events.subscribe();
        let horizon = Horizon::now::<crate::events::HistoryFeed>(&self.db).await?;
        let access = access::authorize(&self.db, viewer, program_id, Action::Read).await?;
        let watch = ProgramWatch {
            access,
            receiver,
            domain: self.clone(),
            viewer: viewer.clone(),
            program_id,
            horizon,
            _live: self.events.live(),
        };
        Ok(futures::stream::unfold(watch, |mut watch| async move {
            watch.next().await.map(|event| (event, watch))
        }))
    }
}
