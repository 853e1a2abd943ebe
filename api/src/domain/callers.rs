//! Signed-in callers remembered between the changes that could end them.
//!
//! Checking a Trestle token takes a statement on every request: the user's
//! row (role, locale, whether the account is active, which sessions ended)
//! and the programs it is a member of. The answer can only change when a
//! change to a user, an API token, a program or a membership commits, so a
//! server keeps it, per user and for the tokens it accepted, and forgets
//! every caller it knows:
//!
//! - on this server, as soon as such a change commits (before the mutation
//!   that made it answers), so the next request reads the database again;
//! - on every other replica, when PostgreSQL delivers the change's
//!   notification (milliseconds), and whenever its listener was lost;
//! - at the latest `ttl` after the caller was read, for what is written
//!   behind the servers' backs (SQL by hand, another process on SQLite).
//!
//! A remembered caller is still presented with its token on each request:
//! the signature and the expiry are checked every time, only the statement
//! is saved. A token the database refused is never remembered.
//!
//! Bounded per user ([`TOKENS_PER_USER`]) and in total ([`MAX_USERS`] users,
//! [`MAX_PROGRAM_IDS`] memberships): when full, everything is forgotten.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use entity::audit_event::Subject;
use entity::enums::{Locale, UserRole};
use uuid::Uuid;

use crate::auth::{AuthUser, Credential};
use crate::events::AccessChanges;

/// How long a caller is remembered unless configured otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5);
/// Most tokens remembered for one user (sessions on several devices).
pub const TOKENS_PER_USER: usize = 8;
/// Most users remembered.
pub const MAX_USERS: usize = 4096;
/// Most program memberships remembered, over every user.
pub const MAX_PROGRAM_IDS: usize = 65_536;

/// Whether a committed change to `subject` can end a credential or change
/// whose programs a caller sees.
pub fn concerns_callers(subject: Subject) -> bool {
    matches!(
        subject,
        Subject::User | Subject::ApiToken | Subject::Program | Subject::ProgramMember
    )
}

/// What a successful check of a user's token found.
struct Known {
    /// [`Callers::epoch`] before it was read.
    epoch: u64,
    read_at: Instant,
    role: UserRole,
    locale: Locale,
    programs: Vec<Uuid>,
    /// Fingerprints of the tokens accepted for it, oldest first.
    tokens: Vec<String>,
}

/// The callers remembered by one server.
pub struct Callers {
    /// How long a caller is remembered.
    ttl: Duration,
    /// Counts the changes that could end a credential or change a caller's
    /// programs, committed here or heard of from another replica.
    changes: AccessChanges,
    state: Mutex<Remembered>,
}

#[derive(Default)]
struct Remembered {
    users: HashMap<Uuid, Known>,
    program_ids: usize,
}

impl Callers {
    /// Remember callers for at most `ttl` (zero: none), forgetting them all
    /// whenever `changes` moves.
    pub fn new(ttl: Duration, changes: AccessChanges) -> Self {
        Self {
            ttl,
            changes,
            state: Mutex::new(Remembered::default()),
        }
    }

    /// The count of access changes now: read it before reading a caller
    /// from the database, and remember the caller under it.
    pub fn epoch(&self) -> u64 {
        self.changes.count()
    }

    /// A change to accounts or memberships committed (or may have, unheard):
    /// every remembered caller is forgotten.
    pub fn access_changed(&self) {
        self.changes.record();
    }

    /// The caller `credential` of user `id` was accepted as, with its
    /// programs, if nothing that could change either has committed since.
    pub fn recall(&self, id: Uuid, credential: &Credential) -> Option<(AuthUser, Vec<Uuid>)> {
        let (_, fingerprint) = credential.signed_token()?;
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let known = state.users.get(&id)?;
        let current = known.epoch == self.epoch() && known.read_at.elapsed() < self.ttl;
        (current && known.tokens.iter().any(|token| token == fingerprint)).then(|| {
            let user = AuthUser {
                id,
                role: known.role,
                locale: known.locale,
                credential: credential.clone(),
            };
            (user, known.programs.clone())
        })
    }

    /// Remember `user`, accepted with its credential and member of
    /// `programs`, as read after [`Callers::epoch`] was `epoch`; nothing when
    /// a change has committed since.
    pub fn remember(&self, epoch: u64, user: &AuthUser, programs: &[Uuid]) {
        let Some((_, fingerprint)) = user.credential.signed_token() else {
            return;
        };
        if self.ttl.is_zero() || epoch != self.epoch() || programs.len() > MAX_PROGRAM_IDS {
            return;
        }
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let state = &mut *state;
        if let Some(known) = state.users.get_mut(&user.id)
            && known.epoch == epoch
            && known.read_at.elapsed() < self.ttl
        {
            if !known.tokens.iter().any(|token| token == fingerprint) {
                if known.tokens.len() == TOKENS_PER_USER {
                    known.tokens.remove(0);
                }
                known.tokens.push(fingerprint.to_owned());
            }
            return;
        }
        if let Some(stale) = state.users.remove(&user.id) {
            state.program_ids -= stale.programs.len();
        }
        if state.users.len() == MAX_USERS || state.program_ids + programs.len() > MAX_PROGRAM_IDS {
            state.users.clear();
            state.program_ids = 0;
        }
        state.program_ids += programs.len();
        state.users.insert(
            user.id,
            Known {
                epoch,
                read_at: Instant::now(),
                role: user.role,
                locale: user.locale,
                programs: programs.to_vec(),
                tokens: vec![fingerprint.to_owned()],
            },
        );
    }

    /// How many users and memberships are remembered.
    #[cfg(test)]
    fn size(&self) -> (usize, usize) {
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        (state.users.len(), state.program_ids)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn session(fingerprint: &str) -> Credential {
        Credential::Session {
            issued_at: Utc::now(),
            expires_at: Utc::now(),
            fingerprint: fingerprint.to_owned(),
        }
    }

    fn user(id: Uuid, fingerprint: &str) -> AuthUser {
        AuthUser {
            id,
            role: UserRole::Member,
            locale: Locale::En,
            credential: session(fingerprint),
        }
    }

    #[test]
    fn a_caller_is_recalled_for_its_own_tokens_until_access_changes() {
        let callers = Callers::new(Duration::from_secs(60), AccessChanges::default());
        let id = Uuid::now_v7();
        let programs = vec![Uuid::now_v7()];
        let epoch = callers.epoch();
        callers.remember(epoch, &user(id, "a"), &programs);
        let (recalled, recalled_programs) = callers.recall(id, &session("a")).expect("recalled");
        assert_eq!((recalled.id, recalled_programs), (id, programs.clone()));
        assert!(callers.recall(id, &session("b")).is_none(), "another token");
        assert!(callers.recall(Uuid::now_v7(), &session("a")).is_none());
        callers.access_changed();
        assert!(
            callers.recall(id, &session("a")).is_none(),
            "after a change"
        );
        callers.remember(epoch, &user(id, "a"), &programs);
        assert!(
            callers.recall(id, &session("a")).is_none(),
            "read before the change: not remembered"
        );
    }

    #[test]
    fn nothing_is_recalled_past_its_time_or_with_no_time() {
        let id = Uuid::now_v7();
        let off = Callers::new(Duration::ZERO, AccessChanges::default());
        off.remember(off.epoch(), &user(id, "a"), &[]);
        assert!(off.recall(id, &session("a")).is_none());
        let brief = Callers::new(Duration::from_millis(20), AccessChanges::default());
        brief.remember(brief.epoch(), &user(id, "a"), &[]);
        std::thread::sleep(Duration::from_millis(40));
        assert!(brief.recall(id, &session("a")).is_none());
    }

    #[test]
    fn tokens_per_user_and_users_in_total_are_bounded() {
        let callers = Callers::new(Duration::from_secs(60), AccessChanges::default());
        let id = Uuid::now_v7();
        let epoch = callers.epoch();
        for token in 0..=TOKENS_PER_USER {
            callers.remember(epoch, &user(id, &token.to_string()), &[]);
        }
        assert!(
            callers.recall(id, &session("0")).is_none(),
            "the oldest went"
        );
        assert!(callers.recall(id, &session("1")).is_some());
        let program = [Uuid::now_v7()];
        for _ in 0..MAX_USERS + 10 {
            callers.remember(epoch, &user(Uuid::now_v7(), "x"), &program);
        }
        let (users, program_ids) = callers.size();
        assert!(
            users <= MAX_USERS && program_ids == users,
            "{users} {program_ids}"
        );
    }
}
