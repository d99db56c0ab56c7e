//! The runtime context every service works in: the world behind its lock, the replication
//! queue, the configuration and the durable store. It sits below the services (`s3`, `iam`,
//! `sts`, `kms`, `replication`), which depend on it and on `state`, never on the front door
//! (`server`), which is built on top of them.

pub mod failure;
pub mod lease;
pub mod queue;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use self::queue::ReplicationControl;
use crate::config::EmulatorConfig;
use crate::error::EmulatorError;
use crate::state::persist::Persist;
use crate::state::World;

/// How often durable mode looks for dead object files once something was written.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// State shared by every handler and the replication engine.
pub struct Shared {
    world: Mutex<World>,
    pub replication: ReplicationControl,
    pub config: EmulatorConfig,
    /// Durable state (`data_dir`); None keeps everything in memory.
    pub persist: Option<Arc<Persist>>,
    lock_stats: LockStats,
    /// Renewed by whoever started the emulator (`POST /_xrepl/lease`); see [`lease::Lease`].
    pub lease: lease::Lease,
}

/// How often the world lock was taken, and how often a taker had to wait for another holder:
/// the measurement that decides whether the lock needs splitting (docs/benchmarks.md).
#[derive(Default)]
struct LockStats {
    acquisitions: AtomicU64,
    contended: AtomicU64,
}

/// A snapshot of `LockStats`, served at `GET /_xrepl/stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WorldLockStats {
    pub acquisitions: u64,
    pub contended: u64,
}

impl Shared {
    /// In-memory state (the configuration's `data_dir` is ignored: see [`Shared::open`]).
    pub fn new(config: EmulatorConfig) -> Arc<Self> {
        Arc::new(Self {
            world: Mutex::new(World::new(&config)),
            replication: ReplicationControl::new(),
            config,
            persist: None,
            lock_stats: LockStats::default(),
            lease: lease::Lease::default(),
        })
    }

    /// The state the configuration asks for: loaded from `data_dir` (queued replication
    /// included) when one is given, else fresh and in memory.
    pub fn open(config: EmulatorConfig) -> Result<Arc<Self>, EmulatorError> {
        let Some(dir) = config.data_dir.clone() else { return Ok(Self::new(config)) };
        let persist = Arc::new(Persist::open(&dir)?);
        let mut world = World::new(&config);
        world.blobs = Arc::clone(&persist.blobs) as Arc<dyn crate::state::BlobStore>;
        let queued = persist.load(&mut world)?;
        let replication = ReplicationControl::durable(Arc::clone(&persist));
        replication.restore(queued).map_err(EmulatorError::Config)?;
        let shared = Arc::new(Self {
            world: Mutex::new(world),
            replication,
            config,
            persist: Some(persist),
            lock_stats: LockStats::default(),
            lease: lease::Lease::default(),
        });
        shared.spawn_sweeper();
        Ok(shared)
    }

    /// Durable mode: every [`SWEEP_EVERY`], removes the object files that writes since the last
    /// sweep left dead (overwritten, deleted, parts of completed or aborted uploads), after
    /// committing what is pending. Ends with the emulator (its last `Arc`) or its data dir.
    fn spawn_sweeper(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let weak = Arc::downgrade(self);
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(SWEEP_EVERY).await;
                let Some(shared) = weak.upgrade() else { return };
                let Some(persist) = shared.persist.clone() else { return };
                if persist.is_closed() {
                    return;
                }
                let swept = tokio::task::spawn_blocking(move || persist.collect_if_due(&mut shared.world())).await;
                if let Ok(Err(e)) = swept {
                    tracing::warn!("dead object files could not be removed yet: {e}");
                }
            }
        });
    }

    /// Empties the emulator (the admin reset, as moto's and LocalStack's reset endpoints do): with
    /// an account, only that account's buckets, IAM entities, KMS keys and non-root keys; without,
    /// everything, back to the configured accounts. Queued replication of what is gone is dropped.
    pub fn reset(&self, account: Option<&str>) -> Result<(), crate::state::persist::PersistError> {
        let mut world = self.world();
        match account {
            None => {
                let blobs = std::sync::Arc::clone(&world.blobs);
                *world = World::new(&self.config);
                world.blobs = blobs;
            }
            Some(id) => {
                world.buckets.retain(|_, b| b.owner_account != id);
                world.keys.retain(|_, k| k.account != id || k.owner == crate::state::KeyOwner::Root);
                world.batch.jobs.retain(|_, j| j.account != id);
                if let Some(state) = world.accounts.get_mut(id) {
                    state.iam = crate::state::IamAccount::default();
                    state.kms = crate::state::KmsAccount::default();
                }
            }
        }
        let remaining: std::collections::BTreeSet<String> = world.buckets.keys().cloned().collect();
        self.replication.forget(|t| remaining.contains(&t.source_bucket));
        if let Some(persist) = &self.persist {
            persist.clear(account.is_none())?;
            for bucket in world.buckets.values_mut() {
                let keys: Vec<String> = bucket.objects.keys().cloned().collect();
                bucket.dirty.extend(keys);
            }
            persist.checkpoint(&mut world, &[])?;
        }
        Ok(())
    }

    /// Commits what changed to the data dir (a no-op in memory), with the replication tasks that
    /// finished; called before a response is sent, so acknowledged writes are durable. When the
    /// commit fails, the world is put back as last committed before the error is returned.
    pub fn checkpoint(&self, finished_tasks: &[u64]) -> Result<(), crate::state::persist::PersistError> {
        match &self.persist {
            Some(persist) => persist.checkpoint(&mut self.world(), finished_tasks),
            None => Ok(()),
        }
    }

    /// Locks the world. Never hold the guard across an `.await`.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.lock_stats.acquisitions.fetch_add(1, Ordering::Relaxed);
        // A panic while holding the lock must not take the emulator down with it.
        match self.world.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                self.lock_stats.contended.fetch_add(1, Ordering::Relaxed);
                self.world.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
            }
        }
    }

    /// How often the world lock was taken and how often a taker had to wait, since the start.
    pub fn world_lock_stats(&self) -> WorldLockStats {
        WorldLockStats {
            acquisitions: self.lock_stats.acquisitions.load(Ordering::Relaxed),
            contended: self.lock_stats.contended.load(Ordering::Relaxed),
        }
    }
}
