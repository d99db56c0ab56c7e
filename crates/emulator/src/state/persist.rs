//! Durable state for `--data-dir`: metadata in redb (an embedded, crash-safe key-value store),
//! object bytes in files ([`super::files::FileBlobStore`]).
//!
//! What is stored, in three tables:
//! - `control`: one document with the accounts (IAM, KMS), access keys and STS sessions, the
//!   buckets' settings and multipart uploads, S3 Batch Operations jobs and OIDC issuers' keys —
//!   small, rewritten when it changed;
//! - `objects`: one row per (bucket, key) with all its versions, written for the keys a request
//!   or a replication task changed (buckets track their dirty keys);
//! - `tasks`: the replication queue, one row per task, added before the task can run and removed
//!   in the same transaction that records its outcome, so queued work runs once after a crash.
//!
//! Each checkpoint is one redb transaction committed with fsync before the response is sent, so
//! an acknowledged write survives `kill -9` (docs/decisions.md has the costs). A checkpoint that
//! fails puts the world back as it was last committed (the in-memory change and the commit are
//! one unit: a write answered 500 leaves nothing behind), and the next write re-opens the
//! database (after an I/O error such as a full disk, redb refuses every write until then).
//! After each commit, object files no committed version refers to any more are removed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::batch::{BatchJobs, JobStatus};
use super::files::FileBlobStore;
use super::s3::Versions;
use super::{AccessKey, AccountState, Bucket, World};

const CONTROL: TableDefinition<&str, &[u8]> = TableDefinition::new("control");
const OBJECTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("objects");
const TASKS: TableDefinition<u64, &[u8]> = TableDefinition::new("tasks");
const WORLD: &str = "world";

/// After a failed commit was rolled back, a checkpoint that finds nothing to commit within this
/// time fails too: it belongs to a request whose change was rolled back with the failed one
/// (requests change the world, then checkpoint), which must not be answered 200.
const ROLLBACK_WINDOW: Duration = Duration::from_secs(2);

/// Dead object files are looked for at most this often (the scan walks every version).
const COLLECT_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("data dir {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("state database in {path}: {message}")]
    Database { path: PathBuf, message: String },
    #[error(
        "the state database {}/state.redb could not be read ({message}): it is damaged or not an xrepl state file. \
         Restore it from a backup, or move the directory {} aside to start with an empty state",
        path.display(),
        path.display()
    )]
    Damaged { path: PathBuf, message: String },
    #[error(
        "stored state in {}/state.redb could not be read ({message}); it was written by another version of xrepl or damaged. \
         Restore it from a backup, or move the directory {} aside to start with an empty state",
        path.display(),
        path.display()
    )]
    Decode { path: PathBuf, message: String },
    #[error("state in {path}: this change was undone with a write that could not be committed at the same time")]
    RolledBack { path: PathBuf },
}

#[derive(serde::Serialize)]
struct ControlRef<'a> {
    accounts: &'a BTreeMap<String, AccountState>,
    keys: &'a HashMap<String, AccessKey>,
    buckets: &'a BTreeMap<String, Bucket>,
    batch: &'a BatchJobs,
    oidc_keys: &'a BTreeMap<String, jsonwebtoken::jwk::JwkSet>,
}

#[derive(serde::Deserialize)]
struct Control {
    accounts: BTreeMap<String, AccountState>,
    keys: HashMap<String, AccessKey>,
    buckets: BTreeMap<String, Bucket>,
    /// Absent in data dirs from before jobs were kept.
    #[serde(default)]
    batch: BatchJobs,
    #[serde(default)]
    oidc_keys: BTreeMap<String, jsonwebtoken::jwk::JwkSet>,
}

/// The durable side of one emulator.
#[derive(Debug)]
pub struct Persist {
    dir: PathBuf,
    /// None once closed, or after a failed open (then the next write opens it again).
    db: Mutex<Option<Database>>,
    /// The emulator stopped: its file lock is released at once, so the same dir can be opened
    /// again while stray tasks of the old emulator wind down; nothing is written any more.
    stopped: AtomicBool,
    /// A write failed: redb wants the database closed and opened again before the next one.
    reopen: AtomicBool,
    pub blobs: Arc<FileBlobStore>,
    /// The control document last committed: rewritten only when it changes, and what a failed
    /// checkpoint puts back.
    committed: Mutex<Vec<u8>>,
    rolled_back_at: Mutex<Option<Instant>>,
    /// Something was committed since dead files were last looked for, and when that was.
    collect_due: AtomicBool,
    collected_at: Mutex<Option<Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send>;

/// Runs `f`, turning a panic into an error with its message. redb 4 panics on some kinds of
/// garbage in its file (`unreachable!` in btree.rs, "Invalid page type byte" in btree_base.rs,
/// while opening, reading or writing pages) instead of
/// returning an error; a damaged data dir must end start-up with a message saying what to do,
/// not a panic, so the panic is caught here (nothing it touched outlives it: the database it was
/// opening is dropped). The panic hook stays quiet for this thread meanwhile, so no panic message
/// is printed either; other threads' panics are reported as usual.
fn catch_redb_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _one = lock(&ONE_AT_A_TIME);
    let me = std::thread::current().id();
    let previous: Arc<PanicHook> = Arc::new(std::panic::take_hook());
    let others = Arc::clone(&previous);
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() != me {
            others(info);
        }
    }));
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    drop(std::panic::take_hook());
    if let Ok(hook) = Arc::try_unwrap(previous) {
        std::panic::set_hook(hook);
    }
    result.map_err(|payload| {
        let text = payload.downcast_ref::<&str>().map(|s| (*s).to_owned()).or_else(|| payload.downcast_ref::<String>().cloned());
        format!("redb stopped on it: {}", text.unwrap_or_else(|| "a panic".to_owned()))
    })
}

/// Opens (creating) `dir/state.redb`; damage is an error naming the file and what to do.
fn open_database(dir: &Path) -> Result<Database, PersistError> {
    let damaged = |message: String| PersistError::Damaged { path: dir.to_owned(), message };
    match catch_redb_panic(|| Database::create(dir.join("state.redb"))) {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(redb::DatabaseError::DatabaseAlreadyOpen)) => {
            Err(PersistError::Database { path: dir.to_owned(), message: redb::DatabaseError::DatabaseAlreadyOpen.to_string() })
        }
        // redb reports a file that is not a redb database (garbage in its header) as invalid data.
        Ok(Err(redb::DatabaseError::Storage(redb::StorageError::Io(e))))
            if !matches!(e.kind(), std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof) =>
        {
            Err(PersistError::Io { path: dir.to_owned(), source: e })
        }
        Ok(Err(e)) => Err(damaged(e.to_string())),
        Err(panic) => Err(damaged(panic)),
    }
}

/// What a checkpoint takes from the world: rows to write and the versions they replace.
struct Changes {
    rows: Vec<(String, String, Option<Vec<u8>>)>,
    /// Per bucket: each changed key's versions as last committed (None: the key did not exist).
    undo: Vec<(String, BTreeMap<String, Option<Versions>>)>,
    /// Blobs the written rows refer to.
    blobs: Vec<u64>,
}

impl Persist {
    /// Opens (creating) the data dir: `state.redb` and `blobs/`.
    pub fn open(dir: &Path) -> Result<Self, PersistError> {
        let io = |source| PersistError::Io { path: dir.to_owned(), source };
        std::fs::create_dir_all(dir).map_err(io)?;
        let blobs = FileBlobStore::open(&dir.join("blobs")).map_err(io)?;
        let db = open_database(dir)?;
        let persist = Self {
            dir: dir.to_owned(),
            db: Mutex::new(Some(db)),
            stopped: AtomicBool::new(false),
            reopen: AtomicBool::new(false),
            blobs: Arc::new(blobs),
            committed: Mutex::new(Vec::new()),
            rolled_back_at: Mutex::new(None),
            collect_due: AtomicBool::new(false),
            collected_at: Mutex::new(None),
        };
        // Create the tables, so that reads of a fresh dir find them.
        persist.write(|txn| {
            txn.open_table(CONTROL)?;
            txn.open_table(OBJECTS)?;
            txn.open_table(TASKS)?;
            Ok(())
        })?;
        Ok(persist)
    }

    fn db_error(&self, e: impl std::fmt::Display) -> PersistError {
        PersistError::Database { path: self.dir.clone(), message: e.to_string() }
    }

    fn decode_error(&self, e: impl std::fmt::Display) -> PersistError {
        PersistError::Decode { path: self.dir.clone(), message: e.to_string() }
    }

    fn damaged(&self, e: impl std::fmt::Display) -> PersistError {
        PersistError::Damaged { path: self.dir.clone(), message: e.to_string() }
    }

    /// Releases the database (and its lock); later checkpoints fail.
    pub fn close(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        lock(&self.db).take();
    }

    /// Whether the emulator stopped (background work ends).
    pub fn is_closed(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// One write transaction, committed (with fsync) when `f` succeeds. After a failed write the
    /// database is closed and opened again first: redb answers every write after an I/O error
    /// with "Previous I/O error occurred" until then, so this is how a freed disk is noticed.
    fn write(&self, f: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>) -> Result<(), PersistError> {
        let mut db = lock(&self.db);
        if self.is_closed() {
            return Err(self.db_error("the emulator was stopped"));
        }
        if self.reopen.load(Ordering::SeqCst) || db.is_none() {
            // Dropping closes it (redb logs what it could not write; the file stays consistent).
            db.take();
            *db = Some(open_database(&self.dir)?);
            self.reopen.store(false, Ordering::SeqCst);
            tracing::warn!("the state database in {} was opened again after a failed write", self.dir.display());
        }
        let Some(database) = db.as_ref() else { return Err(self.db_error("the database is not open")) };
        // A write reads pages too: on a damaged file redb may panic there as well.
        let written = catch_redb_panic(|| -> Result<(), redb::Error> {
            let txn = database.begin_write()?;
            f(&txn)?;
            txn.commit()?;
            Ok(())
        });
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                self.reopen.store(true, Ordering::SeqCst);
                Err(self.db_error(e))
            }
            Err(panic) => {
                self.reopen.store(true, Ordering::SeqCst);
                Err(self.damaged(panic))
            }
        }
    }

    /// Fills `world` with what was stored; returns the queued replication tasks (id, encoded).
    pub fn load(&self, world: &mut World) -> Result<Vec<(u64, Vec<u8>)>, PersistError> {
        let stored = {
            let db = lock(&self.db);
            let db = db.as_ref().ok_or_else(|| self.db_error("the emulator was stopped"))?;
            catch_redb_panic(|| self.read_all(db)).map_err(|e| self.damaged(e))??
        };
        let (control, rows, queued) = stored;
        if let Some(doc) = control {
            let stored: Control = serde_json::from_slice(&doc).map_err(|e| self.decode_error(e))?;
            world.accounts.extend(stored.accounts);
            // Keys the configuration gives (`--key`) win over stored ones with the same id.
            for (id, key) in stored.keys {
                world.keys.entry(id).or_insert(key);
            }
            world.buckets = stored.buckets;
            world.batch = stored.batch;
            world.oidc_keys = stored.oidc_keys;
            interrupt_jobs(&mut world.batch);
        }
        for (bucket, object_key, value) in rows {
            let versions: Versions = serde_json::from_slice(&value).map_err(|e| self.decode_error(e))?;
            if let Some(b) = world.buckets.get_mut(&bucket) {
                b.objects.insert(object_key, versions);
            }
        }
        let live = live_blobs(world);
        let removed = self.blobs.collect_garbage(&live).map_err(|source| PersistError::Io { path: self.dir.clone(), source })?;
        if removed > 0 {
            tracing::info!("removed {removed} object files no version refers to");
        }
        // What a failed checkpoint goes back to from now on.
        self.checkpoint(world, &[])?;
        Ok(queued)
    }

    /// Every stored control document, object row and task, as bytes.
    #[allow(clippy::type_complexity)]
    fn read_all(&self, db: &Database) -> Result<(Option<Vec<u8>>, Vec<(String, String, Vec<u8>)>, Vec<(u64, Vec<u8>)>), PersistError> {
        let txn = db.begin_read().map_err(|e| self.damaged(e))?;
        let control = txn.open_table(CONTROL).map_err(|e| self.damaged(e))?;
        let doc = control.get(WORLD).map_err(|e| self.damaged(e))?.map(|d| d.value().to_vec());
        let objects = txn.open_table(OBJECTS).map_err(|e| self.damaged(e))?;
        let mut rows = Vec::new();
        for row in objects.iter().map_err(|e| self.damaged(e))? {
            let (key, value) = row.map_err(|e| self.damaged(e))?;
            let (bucket, object_key) = key.value();
            rows.push((bucket.to_owned(), object_key.to_owned(), value.value().to_vec()));
        }
        let tasks = txn.open_table(TASKS).map_err(|e| self.damaged(e))?;
        let mut queued = Vec::new();
        for row in tasks.iter().map_err(|e| self.damaged(e))? {
            let (id, value) = row.map_err(|e| self.damaged(e))?;
            queued.push((id.value(), value.value().to_vec()));
        }
        Ok((doc, rows, queued))
    }

    /// Takes the dirty keys (with their undo) out of every bucket.
    fn take_changes(&self, world: &mut World) -> Result<Changes, PersistError> {
        let mut changes = Changes { rows: Vec::new(), undo: Vec::new(), blobs: Vec::new() };
        for (name, bucket) in &mut world.buckets {
            for key in std::mem::take(&mut bucket.dirty) {
                let value = match bucket.objects.get(&key) {
                    Some(versions) => {
                        changes.blobs.extend(versions.iter().filter_map(|v| v.data.external_id()));
                        Some(serde_json::to_vec(versions).map_err(|e| self.decode_error(e))?)
                    }
                    None => None,
                };
                changes.rows.push((name.clone(), key, value));
            }
            let undo = std::mem::take(&mut bucket.undo);
            if !undo.is_empty() {
                changes.undo.push((name.clone(), undo));
            }
        }
        Ok(changes)
    }

    /// Commits what changed in `world` since the last checkpoint (and removes finished tasks) in
    /// one transaction. When the commit fails, `world` is put back as last committed and the
    /// error returned: nothing of the failed change stays visible.
    pub fn checkpoint(&self, world: &mut World, finished_tasks: &[u64]) -> Result<(), PersistError> {
        let control = serde_json::to_vec(&ControlRef {
            accounts: &world.accounts,
            keys: &world.keys,
            buckets: &world.buckets,
            batch: &world.batch,
            oidc_keys: &world.oidc_keys,
        })
        .map_err(|e| self.decode_error(e))?;
        let control_changed = *lock(&self.committed) != control;
        let changes = self.take_changes(world)?;
        if !control_changed && changes.rows.is_empty() && finished_tasks.is_empty() {
            if lock(&self.rolled_back_at).is_some_and(|at| at.elapsed() < ROLLBACK_WINDOW) {
                return Err(PersistError::RolledBack { path: self.dir.clone() });
            }
            return Ok(());
        }
        let written = self.write(|txn| {
            if control_changed {
                txn.open_table(CONTROL)?.insert(WORLD, control.as_slice())?;
            }
            let mut objects = txn.open_table(OBJECTS)?;
            for (bucket, key, value) in &changes.rows {
                match value {
                    Some(v) => {
                        objects.insert((bucket.as_str(), key.as_str()), v.as_slice())?;
                    }
                    None => {
                        objects.remove((bucket.as_str(), key.as_str()))?;
                    }
                }
            }
            let mut tasks = txn.open_table(TASKS)?;
            for id in finished_tasks {
                tasks.remove(id)?;
            }
            Ok(())
        });
        if let Err(e) = written {
            tracing::error!("a change could not be committed ({e}); it is undone");
            self.roll_back(world, changes.undo);
            return Err(e);
        }
        // The committed metadata now refers to these blobs: no grace period for them any more.
        self.blobs.committed(changes.blobs);
        if control_changed {
            self.blobs.committed(upload_blobs(world));
            *lock(&self.committed) = control;
        }
        self.collect_due.store(true, Ordering::SeqCst);
        if lock(&self.collected_at).is_none_or(|at| at.elapsed() >= COLLECT_EVERY) {
            self.collect(world);
        }
        Ok(())
    }

    /// When something was committed since dead object files were last looked for: commits what
    /// is pending, then removes the files no committed version refers to any more (the
    /// background sweep, so files die within a second or two of the write that killed them even
    /// when no other write follows).
    pub fn collect_if_due(&self, world: &mut World) -> Result<(), PersistError> {
        if !self.collect_due.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.checkpoint(world, &[])?;
        if self.collect_due.load(Ordering::SeqCst) {
            self.collect(world);
        }
        Ok(())
    }

    /// Removes the object files that no version or part refers to. Only right after a
    /// successful checkpoint, with the world still locked: then what `world` refers to is what
    /// is committed, so a file is removed only once the metadata that stopped referring to it is
    /// durable (a crash before that leaves garbage, which the next open removes).
    fn collect(&self, world: &World) {
        self.collect_due.store(false, Ordering::SeqCst);
        *lock(&self.collected_at) = Some(Instant::now());
        let removed = self.blobs.collect(&live_blobs(world));
        if removed > 0 {
            tracing::debug!("removed {removed} object files no committed version refers to");
        }
    }

    /// Puts `world` back as last committed: the committed control document (accounts, keys,
    /// buckets' settings and uploads, jobs, issuers' keys) and, for each key changed since, its
    /// committed versions.
    fn roll_back(&self, world: &mut World, undo: Vec<(String, BTreeMap<String, Option<Versions>>)>) {
        *lock(&self.rolled_back_at) = Some(Instant::now());
        let committed = lock(&self.committed);
        let stored: Control = match serde_json::from_slice(&committed) {
            Ok(stored) => stored,
            Err(e) => {
                tracing::error!("the last committed state could not be read back ({e}); the failed change stays in memory");
                return;
            }
        };
        let mut current = std::mem::take(&mut world.buckets);
        for (name, keys) in undo {
            if let Some(bucket) = current.get_mut(&name) {
                for (key, versions) in keys {
                    match versions {
                        Some(v) => bucket.objects.insert(key, v),
                        None => bucket.objects.remove(&key),
                    };
                }
            }
        }
        world.buckets = stored.buckets;
        for (name, bucket) in &mut world.buckets {
            if let Some(was) = current.remove(name) {
                bucket.objects = was.objects;
            }
        }
        world.accounts = stored.accounts;
        world.keys = stored.keys;
        world.batch = stored.batch;
        world.oidc_keys = stored.oidc_keys;
    }

    /// Records replication tasks before they can run.
    pub fn add_tasks(&self, tasks: &[(u64, Vec<u8>)]) -> Result<(), PersistError> {
        self.write(|txn| {
            let mut table = txn.open_table(TASKS)?;
            for (id, encoded) in tasks {
                table.insert(id, encoded.as_slice())?;
            }
            Ok(())
        })
    }

    /// Forgets the stored world, and with `tasks` the queue too (the admin reset); the caller
    /// then marks what remains dirty and checkpoints. Object files are collected after it.
    pub fn clear(&self, tasks: bool) -> Result<(), PersistError> {
        self.write(|txn| {
            txn.delete_table(CONTROL)?;
            txn.delete_table(OBJECTS)?;
            txn.open_table(CONTROL)?;
            txn.open_table(OBJECTS)?;
            if tasks {
                txn.delete_table(TASKS)?;
                txn.open_table(TASKS)?;
            }
            Ok(())
        })?;
        lock(&self.committed).clear();
        Ok(())
    }
}

/// Jobs that were running when the emulator stopped do not go on after a restart: they end as
/// `Failed` (`Cancelled` if they were being cancelled), saying why. Jobs awaiting confirmation
/// and finished ones are kept as they were.
fn interrupt_jobs(batch: &mut BatchJobs) {
    for job in batch.jobs.values_mut() {
        match job.status {
            JobStatus::New | JobStatus::Preparing | JobStatus::Ready | JobStatus::Active | JobStatus::Failing => {
                job.failures
                    .push(("InternalError".to_owned(), "The emulator stopped while the job was running; create the job again".to_owned()));
                job.status = JobStatus::Failed;
                job.terminated = Some(super::now());
            }
            JobStatus::Cancelling => {
                job.status = JobStatus::Cancelled;
                job.terminated = Some(super::now());
            }
            JobStatus::Suspended | JobStatus::Cancelled | JobStatus::Complete | JobStatus::Failed => {}
        }
    }
}

/// Every blob id a multipart part refers to.
fn upload_blobs(world: &World) -> impl Iterator<Item = u64> + '_ {
    world.buckets.values().flat_map(|b| b.uploads.all()).flat_map(|u| u.parts.values()).filter_map(|p| p.data.external_id())
}

/// Every blob id a version or a multipart part refers to.
fn live_blobs(world: &World) -> BTreeSet<u64> {
    let mut live: BTreeSet<u64> = upload_blobs(world).collect();
    for bucket in world.buckets.values() {
        live.extend(bucket.objects.values().flat_map(|vs| vs.iter()).filter_map(|v| v.data.external_id()));
    }
    live
}
