//! Durable state for `--data-dir`: metadata in redb (an embedded, crash-safe key-value store),
//! object bytes in files ([`super::files::FileBlobStore`]).
//!
//! What is stored, in three tables:
//! - `control`: one document with the accounts (IAM, KMS), access keys and STS sessions, and the
//!   buckets' settings and multipart uploads — small, rewritten when it changed;
//! - `objects`: one row per (bucket, key) with all its versions, written for the keys a request
//!   or a replication task changed (buckets track their dirty keys);
//! - `tasks`: the replication queue, one row per task, added before the task can run and removed
//!   in the same transaction that records its outcome, so queued work runs once after a crash.
//!
//! Each checkpoint is one redb transaction committed with fsync before the response is sent, so
//! an acknowledged write survives `kill -9` (docs/decisions.md has the costs).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::files::FileBlobStore;
use super::s3::Versions;
use super::{AccessKey, AccountState, Bucket, World};

const CONTROL: TableDefinition<&str, &[u8]> = TableDefinition::new("control");
const OBJECTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("objects");
const TASKS: TableDefinition<u64, &[u8]> = TableDefinition::new("tasks");
const WORLD: &str = "world";

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("data dir {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("state database in {path}: {message}")]
    Database { path: PathBuf, message: String },
    #[error("stored state in {path} could not be read ({message}); it was written by another version of xrepl or damaged")]
    Decode { path: PathBuf, message: String },
}

#[derive(serde::Serialize)]
struct ControlRef<'a> {
    accounts: &'a BTreeMap<String, AccountState>,
    keys: &'a HashMap<String, AccessKey>,
    buckets: &'a BTreeMap<String, Bucket>,
}

#[derive(serde::Deserialize)]
struct Control {
    accounts: BTreeMap<String, AccountState>,
    keys: HashMap<String, AccessKey>,
    buckets: BTreeMap<String, Bucket>,
}

/// The durable side of one emulator.
#[derive(Debug)]
pub struct Persist {
    dir: PathBuf,
    /// None once closed (the emulator stopped): its file lock is released at once, so the same
    /// dir can be opened again while stray tasks of the old emulator wind down.
    db: Mutex<Option<Database>>,
    pub blobs: Arc<FileBlobStore>,
    /// Hash of the control document last committed (rewritten only when it changes).
    control_hash: Mutex<u64>,
}

impl Persist {
    /// Opens (creating) the data dir: `state.redb` and `blobs/`.
    pub fn open(dir: &Path) -> Result<Self, PersistError> {
        let io = |source| PersistError::Io { path: dir.to_owned(), source };
        std::fs::create_dir_all(dir).map_err(io)?;
        let blobs = FileBlobStore::open(&dir.join("blobs")).map_err(io)?;
        let db = Database::create(dir.join("state.redb"))
            .map_err(|e| PersistError::Database { path: dir.to_owned(), message: e.to_string() })?;
        let persist = Self { dir: dir.to_owned(), db: Mutex::new(Some(db)), blobs: Arc::new(blobs), control_hash: Mutex::new(0) };
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

    /// Releases the database (and its lock); later checkpoints fail.
    pub fn close(&self) {
        self.db.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    }

    /// One write transaction, committed (with fsync) when `f` succeeds.
    fn write(&self, f: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>) -> Result<(), PersistError> {
        let db = self.db.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let db = db.as_ref().ok_or_else(|| self.db_error("the emulator was stopped"))?;
        let txn = db.begin_write().map_err(|e| self.db_error(e))?;
        f(&txn).map_err(|e| self.db_error(e))?;
        txn.commit().map_err(|e| self.db_error(e))
    }

    /// Fills `world` with what was stored; returns the queued replication tasks (id, encoded).
    pub fn load(&self, world: &mut World) -> Result<Vec<(u64, Vec<u8>)>, PersistError> {
        let db = self.db.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let db = db.as_ref().ok_or_else(|| self.db_error("the emulator was stopped"))?;
        let txn = db.begin_read().map_err(|e| self.db_error(e))?;
        let control = txn.open_table(CONTROL).map_err(|e| self.db_error(e))?;
        if let Some(doc) = control.get(WORLD).map_err(|e| self.db_error(e))? {
            let stored: Control = serde_json::from_slice(doc.value()).map_err(|e| self.decode_error(e))?;
            world.accounts.extend(stored.accounts);
            // Keys the configuration gives (`--key`) win over stored ones with the same id.
            for (id, key) in stored.keys {
                world.keys.entry(id).or_insert(key);
            }
            world.buckets = stored.buckets;
        }
        let objects = txn.open_table(OBJECTS).map_err(|e| self.db_error(e))?;
        for row in objects.iter().map_err(|e| self.db_error(e))? {
            let (key, value) = row.map_err(|e| self.db_error(e))?;
            let (bucket, object_key) = key.value();
            let versions: Versions = serde_json::from_slice(value.value()).map_err(|e| self.decode_error(e))?;
            if let Some(b) = world.buckets.get_mut(bucket) {
                b.objects.insert(object_key.to_owned(), versions);
            }
        }
        let tasks = txn.open_table(TASKS).map_err(|e| self.db_error(e))?;
        let mut queued = Vec::new();
        for row in tasks.iter().map_err(|e| self.db_error(e))? {
            let (id, value) = row.map_err(|e| self.db_error(e))?;
            queued.push((id.value(), value.value().to_vec()));
        }
        let live = live_blobs(world);
        let removed = self.blobs.collect_garbage(&live).map_err(|source| PersistError::Io { path: self.dir.clone(), source })?;
        if removed > 0 {
            tracing::info!("removed {removed} object files no version refers to");
        }
        Ok(queued)
    }

    /// Commits what changed in `world` since the last checkpoint (and removes finished tasks) in
    /// one transaction.
    pub fn checkpoint(&self, world: &mut World, finished_tasks: &[u64]) -> Result<(), PersistError> {
        let control = serde_json::to_vec(&ControlRef { accounts: &world.accounts, keys: &world.keys, buckets: &world.buckets })
            .map_err(|e| self.decode_error(e))?;
        let hash = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            control.hash(&mut h);
            h.finish()
        };
        let control_changed = *self.control_hash.lock().unwrap_or_else(std::sync::PoisonError::into_inner) != hash;
        let mut rows: Vec<(String, String, Option<Vec<u8>>)> = Vec::new();
        for (name, bucket) in &mut world.buckets {
            for key in std::mem::take(&mut bucket.dirty) {
                let value = match bucket.objects.get(&key) {
                    Some(versions) => Some(serde_json::to_vec(versions).map_err(|e| self.decode_error(e))?),
                    None => None,
                };
                rows.push((name.clone(), key, value));
            }
        }
        if !control_changed && rows.is_empty() && finished_tasks.is_empty() {
            return Ok(());
        }
        self.write(|txn| {
            if control_changed {
                txn.open_table(CONTROL)?.insert(WORLD, control.as_slice())?;
            }
            let mut objects = txn.open_table(OBJECTS)?;
            for (bucket, key, value) in &rows {
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
        })?;
        *self.control_hash.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = hash;
        Ok(())
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
    /// then marks what remains dirty and checkpoints. Object files are collected on next open.
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
        *self.control_hash.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = 0;
        Ok(())
    }
}

/// Every blob id a version or a multipart part refers to.
fn live_blobs(world: &World) -> BTreeSet<u64> {
    let mut live = BTreeSet::new();
    for bucket in world.buckets.values() {
        live.extend(bucket.objects.values().flat_map(|vs| vs.iter()).filter_map(|v| v.data.external_id()));
        for upload in bucket.uploads.all() {
            live.extend(upload.parts.values().filter_map(|p| p.data.external_id()));
        }
    }
    live
}
