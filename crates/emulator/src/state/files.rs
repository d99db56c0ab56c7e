//! Object bytes in plain files under `<data dir>/blobs`, one file per blob, named by its id.
//! Every file is synced (and its directory entry with it) before the write that refers to it is
//! committed, so an acknowledged object survives `kill -9`. Replicas and copies share the file of
//! their source; files no version refers to any more are removed when the store is opened.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use super::blob::{Blob, BlobStore};

#[derive(Debug)]
pub struct FileBlobStore {
    dir: PathBuf,
    next_id: AtomicU64,
    puts: AtomicU64,
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl FileBlobStore {
    /// Opens (creating) `dir`; staged uploads a crash left behind are removed.
    pub fn open(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let mut max = 0;
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            match name.parse::<u64>() {
                Ok(id) => max = max.max(id),
                Err(_) => fs::remove_file(entry.path())?,
            }
        }
        Ok(Self { dir: dir.to_owned(), next_id: AtomicU64::new(max + 1), puts: AtomicU64::new(0) })
    }

    fn path(&self, id: u64) -> PathBuf {
        self.dir.join(id.to_string())
    }

    fn new_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Removes the files of blobs nobody refers to (objects deleted for good, uploads aborted, and
    /// writes a crash cut off before their metadata was committed).
    pub fn collect_garbage(&self, live: &BTreeSet<u64>) -> io::Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let id = entry.file_name().to_string_lossy().parse::<u64>().ok();
            if id.is_some_and(|id| !live.contains(&id)) {
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn write_synced(&self, data: &[u8]) -> io::Result<Blob> {
        let id = self.new_id();
        let mut file = File::create(self.path(id))?;
        file.write_all(data)?;
        file.sync_all()?;
        sync_dir(&self.dir)?;
        self.puts.fetch_add(1, Ordering::Relaxed);
        Ok(Blob::external(id, data.len()))
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

    fn puts(&self) -> u64 {
        self.puts.load(Ordering::Relaxed)
    }

    fn staging_path(&self) -> Option<PathBuf> {
        Some(self.dir.join(format!("staging-{}", super::random_id(16))))
    }

    fn adopt(&self, staged: &Path, len: usize) -> io::Result<Blob> {
        if len == 0 {
            fs::remove_file(staged)?;
            return Ok(Blob::empty());
        }
        let id = self.new_id();
        fs::rename(staged, self.path(id))?;
        sync_dir(&self.dir)?;
        self.puts.fetch_add(1, Ordering::Relaxed);
        Ok(Blob::external(id, len))
    }

    fn file(&self, blob: &Blob) -> Option<PathBuf> {
        blob.external_id().map(|id| self.path(id))
    }

    fn concat(&self, parts: &[Blob]) -> Blob {
        let total: usize = parts.iter().map(Blob::len).sum();
        let result = (|| -> io::Result<Blob> {
            let id = self.new_id();
            let mut out = File::create(self.path(id))?;
            for part in parts {
                if let Some(path) = self.file(part) {
                    io::copy(&mut File::open(path)?, &mut out)?;
                } else {
                    out.write_all(&self.get(part))?;
                }
            }
            out.sync_all()?;
            sync_dir(&self.dir)?;
            self.puts.fetch_add(1, Ordering::Relaxed);
            Ok(Blob::external(id, total))
        })();
        result.unwrap_or_else(|e| {
            tracing::error!("could not join multipart parts under {}: {e}", self.dir.display());
            Blob::empty()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_survive_reopening_and_unreferenced_ones_are_collected() -> io::Result<()> {
        let dir = std::env::temp_dir().join(format!("xrepl-blobs-{}", super::super::random_id(8)));
        let store = FileBlobStore::open(&dir)?;
        let kept = store.put(Bytes::from_static(b"kept"));
        let dropped = store.put(Bytes::from_static(b"dropped"));
        let joined = store.concat(&[kept.clone(), dropped.clone()]);
        assert_eq!(store.get(&joined), Bytes::from_static(b"keptdropped"));
        let staged = store.staging_path().unwrap_or_default();
        fs::write(&staged, b"left behind by a crash")?;
        drop(store);
        let store = FileBlobStore::open(&dir)?;
        assert!(!staged.exists(), "staged files are removed on open");
        assert_eq!(store.get(&kept), Bytes::from_static(b"kept"));
        let live = [kept.external_id(), joined.external_id()].into_iter().flatten().collect();
        assert_eq!(store.collect_garbage(&live)?, 1);
        assert_eq!(store.get(&dropped), Bytes::new());
        let next = store.put(Bytes::from_static(b"new"));
        assert!(next.external_id() > joined.external_id(), "ids are never reused");
        fs::remove_dir_all(&dir)
    }
}
