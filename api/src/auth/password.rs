//! Argon2id password hashing.
//!
//! Argon2 fills 19 MiB of memory per hash. Each hash takes that memory from
//! the system and gives it back when it is done, so a server that signed
//! people in does not keep 19 MiB per hashing thread for the rest of its
//! life: the allocation asks for more than the largest size glibc's malloc
//! ever serves from its arenas ([`MAPPED`]), which it therefore maps afresh
//! and unmaps when freed; only the blocks argon2 uses become resident. The
//! [`Hasher`]'s fixed threads bound hashing to threads × 19 MiB at once.

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng},
};

use crate::error::{ApiError, ApiResult};

/// Most memory blocks (KiB) a stored hash may ask for: four times the default.
const MAX_BLOCKS: usize = 4 * 19 * 1024;

/// Bytes above glibc's largest dynamic mmap threshold (32 MiB on 64-bit):
/// an allocation this large is always mapped on its own and unmapped when
/// freed, never kept in an arena.
const MAPPED: usize = 33 * 1024 * 1024;

/// Run argon2 `argon` over memory of its own, returned when it is done.
fn compute(argon: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    let blocks = argon.params().block_count();
    if blocks > MAX_BLOCKS {
        return Err(argon2::Error::MemoryTooMuch);
    }
    let reserved = blocks.max(MAPPED / std::mem::size_of::<Block>());
    let mut memory: Vec<Block> = Vec::with_capacity(reserved);
    memory.resize(blocks, Block::default());
    argon.hash_password_into_with_memory(password, salt, out, &mut memory)
}

/// Hash a password with argon2id, default parameters and a random salt (PHC string format).
pub fn hash(password: &str) -> ApiResult<String> {
    let internal = |e: &dyn std::fmt::Display| ApiError::internal(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| internal(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&argon, password.as_bytes(), salt_bytes, &mut out).map_err(|e| internal(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| internal(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| internal(&e))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the stored PHC `hash` (compared in constant time).
pub fn verify(password: &str, hash: &str) -> bool {
    let check = || -> Option<bool> {
        let parsed = PasswordHash::new(hash).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = match parsed.version {
            Some(version) => Version::try_from(version).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
        let argon = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        compute(&argon, password.as_bytes(), salt, &mut out).ok()?;
        Some(Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
}

/// A hash of a random password, verified against when the user is unknown so
/// that a failed sign-in takes as long whether or not the account exists.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&random_secret(24)).unwrap_or_default())
}

/// A job for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// Password hashing on its own fixed set of threads, at most `threads`
/// hashes at once: argon2 takes 19 MiB per hash, so concurrent sign-ins
/// wait their turn instead of taking the memory. Callers wait in line,
/// asynchronously, for a free thread.
pub struct Hasher {
    jobs: std::sync::mpsc::Sender<Job>,
    permits: tokio::sync::Semaphore,
    threads: usize,
}

impl Hasher {
    /// A pool of `threads` hashing threads (at least one).
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for n in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only to take the next job.
                        let next = queue
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        match next {
                            Ok(job) => job(),
                            // The pool was dropped.
                            Err(_) => return,
                        }
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a password hashing thread");
            }
        }
        Self {
            jobs,
            permits: tokio::sync::Semaphore::new(threads),
            threads,
        }
    }

    /// How many hashes may run at once.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Run `work` on a hashing thread once one is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> ApiResult<T> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
            }))
            .map_err(|_| ApiError::internal("the password hashing threads are gone"))?;
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(ApiError::internal("password hashing panicked")),
            Err(_) => Err(ApiError::internal("a password hashing thread stopped")),
        }
    }

    /// Hash a new password.
    pub async fn hash(&self, password: String) -> ApiResult<String> {
        self.run(move || hash(&password)).await?
    }

    /// Whether `password` matches `stored`; with `None` (an unknown user)
    /// the work is done against a dummy hash, so the answer takes as long.
    pub async fn verify(&self, password: String, stored: Option<String>) -> ApiResult<bool> {
        self.run(move || {
            let known = stored.is_some();
            let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
            verify(&password, &stored) && known
        })
        .await
    }
}

/// A random URL-safe secret of `len` characters.
pub fn random_secret(len: usize) -> String {
    use rand::{Rng, distr::Alphanumeric};
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_hasher_runs_at_most_its_threads_at_once() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hasher = Arc::new(Hasher::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let (hasher, running, most) = (hasher.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    hasher
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(30));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_hasher_verifies_like_the_functions_and_never_an_unknown_user() {
        let hasher = Hasher::new(1);
        let stored = hasher.hash("correct horse".into()).await.unwrap();
        assert!(
            hasher
                .verify("correct horse".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("wrong".into(), Some(stored)).await.unwrap());
        assert!(!hasher.verify("anything".into(), None).await.unwrap());
    }

    #[test]
    fn hashes_are_interchangeable_with_the_argon2_crates_own() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify("correct horse", &theirs));
        assert!(!verify("correct hose", &theirs));
        let ours = hash("correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
    }

    #[test]
    fn a_hash_verifies_only_its_password() {
        let stored = hash("correct horse").expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse", &stored));
        assert!(!verify("wrong horse", &stored));
        assert!(!verify("correct horse", "not a hash"));
    }
}
