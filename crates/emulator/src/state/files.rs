//! Object bytes in plain files under `<data dir>/blobs`, one file per blob, named by its id.
//! Every file is synced (and its directory entry with it) before the write that refers to it is
//! committed, so an acknowledged object survives `kill -9`. Each blob's CRC64NVME is computed as
//! it is written and kept with its metadata, so a damaged file is detected when read. Replicas
//! and copies share the file of their source; files no committed version refers to any more are
//! removed while running ([`FileBlobStore::collect`], after the commit that stopped referring to
//! them) and when the store is opened.

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::blob::{Blob, BlobStore};

/// How long a blob handed out by the store but never committed (its request failed after the
/// bytes were written) is kept before it counts as garbage: far longer than any request takes
/// between writing the bytes and recording them.
const UNCOMMITTED_GRACE: Duration = Duration::from_secs(600);

#[derive(Debug)]
pub struct FileBlobStore {
    dir: PathBuf,
    next_id: AtomicU64,
    puts: AtomicU64,
    /// Ids whose file exists (found on open, or written since).
    known: Mutex<BTreeSet<u64>>,
    /// Ids not yet seen in committed metadata: being written (None) or handed out at (Some).
    /// [`FileBlobStore::collect`] never removes these before [`UNCOMMITTED_GRACE`].
    uncommitted: Mutex<HashMap<u64, Option<Instant>>>,
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A CRC64NVME digest, as blobs are checked with.
pub fn crc64_digest() -> crc_fast::Digest {
    crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme)
}

/// Whether `bytes` are what `blob` was written with (length, and checksum when one was kept);
/// the error says what differs.
pub fn check(blob: &Blob, bytes: &[u8]) -> Result<(), String> {
    if bytes.len() != blob.len() {
        return Err(format!("{} bytes where {} were written", bytes.len(), blob.len()));
    }
    match blob.crc64() {
        Some(expected) => {
            let found = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, bytes);
            if found == expected {
                Ok(())
            } else {
                Err(format!("CRC64NVME {found:016x} where {expected:016x} was written"))
            }
        }
        None => Ok(()),
    }
}

fn damaged(path: &Path, why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("object file {} is damaged: {why}", path.display()))
}

impl FileBlobStore {
    /// Opens (creating) `dir`; staged uploads a crash left behind are removed.
    pub fn open(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let mut known = BTreeSet::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            match name.parse::<u64>() {
                Ok(id) => {
                    known.insert(id);
                }
                Err(_) => fs::remove_file(entry.path())?,
            }
        }
        let next = known.last().map_or(1, |max| max + 1);
        Ok(Self {
            dir: dir.to_owned(),
            next_id: AtomicU64::new(next),
            puts: AtomicU64::new(0),
            known: Mutex::new(known),
            uncommitted: Mutex::new(HashMap::new()),
        })
    }

    fn path(&self, id: u64) -> PathBuf {
        self.dir.join(id.to_string())
    }

    /// A fresh id, protected from collection while its file is written.
    fn new_id(&self) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.uncommitted).insert(id, None);
        lock(&self.known).insert(id);
        id
    }

    /// The file of `id` is written: from now on the grace period runs.
    fn handed_out(&self, id: u64) {
        lock(&self.uncommitted).insert(id, Some(Instant::now()));
        self.puts.fetch_add(1, Ordering::Relaxed);
    }

    /// A file that could not be written whole: removed at once.
    fn abandon(&self, id: u64) {
        let _ = fs::remove_file(self.path(id));
        lock(&self.uncommitted).remove(&id);
        lock(&self.known).remove(&id);
    }

    /// Records that committed metadata now refers to these blobs (they lose the grace period:
    /// once no committed version refers to them, they are garbage).
    pub fn committed(&self, ids: impl IntoIterator<Item = u64>) {
        let mut uncommitted = lock(&self.uncommitted);
        if uncommitted.is_empty() {
            return;
        }
        for id in ids {
            uncommitted.remove(&id);
        }
    }

    /// Removes the files of blobs nobody refers to (objects deleted for good, uploads aborted, and
    /// writes a crash cut off before their metadata was committed) — at open, with nothing in
    /// flight.
    pub fn collect_garbage(&self, live: &BTreeSet<u64>) -> io::Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let id = entry.file_name().to_string_lossy().parse::<u64>().ok();
            if let Some(id) = id.filter(|id| !live.contains(id)) {
                fs::remove_file(entry.path())?;
                lock(&self.known).remove(&id);
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// While running: removes the files of blobs that `live` (what the committed metadata refers
    /// to, computed right after a commit) does not name, except those still being written or
    /// handed out within the grace period. Returns how many files were removed.
    pub fn collect(&self, live: &BTreeSet<u64>) -> usize {
        let now = Instant::now();
        let doomed: Vec<u64> = {
            let mut uncommitted = lock(&self.uncommitted);
            uncommitted.retain(|id, _| !live.contains(id));
            lock(&self.known)
                .iter()
                .copied()
                .filter(|id| {
                    !live.contains(id)
                        && match uncommitted.get(id) {
                            None => true,
                            Some(None) => false,
                            Some(Some(at)) => now.duration_since(*at) > UNCOMMITTED_GRACE,
                        }
                })
                .collect()
        };
        let mut removed = 0;
        for id in doomed {
            match fs::remove_file(self.path(id)) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!("could not remove the unused object file {}: {e}", self.path(id).display());
                    continue;
                }
            }
            lock(&self.known).remove(&id);
            lock(&self.uncommitted).remove(&id);
        }
        removed
    }

    fn write_synced(&self, data: &[u8]) -> io::Result<Blob> {
        let id = self.new_id();
        let written = (|| {
            let mut file = File::create(self.path(id))?;
            file.write_all(data)?;
            file.sync_all()?;
            sync_dir(&self.dir)
        })();
        if let Err(e) = written {
            self.abandon(id);
            return Err(e);
        }
        self.handed_out(id);
        Ok(Blob::external_checked(id, data.len(), crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, data)))
    }

    /// Appends a blob's bytes to `out`, checking them against what was written.
    fn copy_checked(&self, part: &Blob, out: &mut File, total: &mut crc_fast::Digest) -> io::Result<()> {
        let Some(path) = self.file(part) else {
            let bytes = self.get(part);
            total.update(&bytes);
            return out.write_all(&bytes);
        };
        let mut file = File::open(&path)?;
        let mut digest = crc64_digest();
        let mut buf = vec![0u8; 256 * 1024];
        let mut len = 0usize;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            len += n;
            digest.update(chunk);
            total.update(chunk);
            out.write_all(chunk)?;
        }
        if len != part.len() {
            return Err(damaged(&path, &format!("{len} bytes where {} were written", part.len())));
        }
        match part.crc64() {
            Some(expected) if digest.finalize() != expected => Err(damaged(&path, "its CRC64NVME differs from the one written")),
            _ => Ok(()),
        }
    }
}

impl BlobStore for FileBlobStore {
    fn put(&self, data: Bytes) -> Blob {
        if data.is_empty() {
            return Blob::empty();
        }
        match self.write_synced(&data) {
            Ok(blob) => blob,
            Err(e) => {
                // The trait has no error path: log and keep the bytes in memory for this process,
                // so the request still succeeds (they are lost on restart, as the log says).
                tracing::error!("could not write object bytes under {}: {e}", self.dir.display());
                super::blob::MemoryBlobStore::default().put(data)
            }
        }
    }

    fn get(&self, blob: &Blob) -> Bytes {
        match blob.external_id() {
            Some(id) => fs::read(self.path(id)).map(Bytes::from).unwrap_or_default(),
            None => super::blob::MemoryBlobStore::default().get(blob),
        }
    }

    fn read(&self, blob: &Blob) -> io::Result<Bytes> {
        let Some(path) = self.file(blob) else { return Ok(self.get(blob)) };
        let bytes = fs::read(&path)?;
        check(blob, &bytes).map_err(|why| damaged(&path, &why))?;
        Ok(Bytes::from(bytes))
    }

    fn puts(&self) -> u64 {
        self.puts.load(Ordering::Relaxed)
    }

    fn staging_path(&self) -> Option<PathBuf> {
        Some(self.dir.join(format!("staging-{}", super::ids::random_id(16))))
    }

    fn adopt(&self, staged: &Path, len: usize, crc64: u64) -> io::Result<Blob> {
        if len == 0 {
            fs::remove_file(staged)?;
            return Ok(Blob::empty());
        }
        let id = self.new_id();
        let adopted = fs::rename(staged, self.path(id)).and_then(|()| sync_dir(&self.dir));
        if let Err(e) = adopted {
            self.abandon(id);
            return Err(e);
        }
        self.handed_out(id);
        Ok(Blob::external_checked(id, len, crc64))
    }

    fn discard(&self, blob: &Blob) {
        let Some(id) = blob.external_id() else { return };
        if lock(&self.uncommitted).get(&id).is_some_and(Option::is_some) {
            self.abandon(id);
        }
    }

    fn file(&self, blob: &Blob) -> Option<PathBuf> {
        blob.external_id().map(|id| self.path(id))
    }

    fn concat(&self, parts: &[Blob]) -> io::Result<Blob> {
        let total: usize = parts.iter().map(Blob::len).sum();
        if total == 0 {
            return Ok(Blob::empty());
        }
        let id = self.new_id();
        let mut digest = crc64_digest();
        let joined = (|| -> io::Result<()> {
            let mut out = File::create(self.path(id))?;
            for part in parts {
                self.copy_checked(part, &mut out, &mut digest)?;
            }
            out.sync_all()?;
            sync_dir(&self.dir)
        })();
        if let Err(e) = joined {
            self.abandon(id);
            tracing::error!("could not join multipart parts under {}: {e}", self.dir.display());
            return Err(e);
        }
        self.handed_out(id);
        Ok(Blob::external_checked(id, total, digest.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        std::env::temp_dir().join(format!("xrepl-blobs-{}", super::super::ids::random_id(8)))
    }

    #[test]
    fn files_survive_reopening_and_unreferenced_ones_are_collected() -> io::Result<()> {
        let dir = temp_dir();
        let store = FileBlobStore::open(&dir)?;
        let kept = store.put(Bytes::from_static(b"kept"));
        let dropped = store.put(Bytes::from_static(b"dropped"));
        let joined = store.concat(&[kept.clone(), dropped.clone()])?;
        assert_eq!(store.read(&joined)?, Bytes::from_static(b"keptdropped"));
        let staged = store.staging_path().unwrap_or_default();
        fs::write(&staged, b"left behind by a crash")?;
        drop(store);
        let store = FileBlobStore::open(&dir)?;
        assert!(!staged.exists(), "staged files are removed on open");
        assert_eq!(store.read(&kept)?, Bytes::from_static(b"kept"));
        let live = [kept.external_id(), joined.external_id()].into_iter().flatten().collect();
        assert_eq!(store.collect_garbage(&live)?, 1);
        assert_eq!(store.get(&dropped), Bytes::new());
        let next = store.put(Bytes::from_static(b"new"));
        assert!(next.external_id() > joined.external_id(), "ids are never reused");
        fs::remove_dir_all(&dir)
    }

    #[test]
    fn damaged_files_are_refused_and_running_collection_spares_uncommitted_blobs() -> io::Result<()> {
        let dir = temp_dir();
        let store = FileBlobStore::open(&dir)?;
        let a = store.put(Bytes::from_static(b"some bytes"));
        let b = store.put(Bytes::from_static(b"other bytes"));
        let path = store.file(&a).unwrap_or_default();
        fs::write(&path, b"some bytez")?;
        assert_eq!(store.read(&a).map_err(|e| e.kind()), Err(io::ErrorKind::InvalidData));
        assert!(store.concat(&[a.clone(), b.clone()]).is_err(), "a damaged part is not joined");
        fs::write(&path, b"some")?;
        assert!(store.read(&a).is_err(), "a short file is damage too");
        // Neither is committed yet: not collected, though nothing refers to them.
        assert_eq!(store.collect(&BTreeSet::new()), 0);
        store.committed(a.external_id());
        assert_eq!(store.collect(&b.external_id().into_iter().collect()), 1, "a committed blob no one refers to is collected");
        assert!(!path.exists());
        assert_eq!(store.read(&b)?, Bytes::from_static(b"other bytes"));
        fs::remove_dir_all(&dir)
    }
}
