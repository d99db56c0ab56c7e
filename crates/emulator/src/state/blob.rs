//! Where object bytes live. The world keeps metadata (versions, owners, tags, statuses); the bytes
//! go through [`BlobStore`], so a store that keeps them on disk can replace the in-memory one
//! without touching the S3 handlers or the replication engine. Versions, replicas and copies hold
//! a [`Blob`] handle: replicating or copying an object shares the handle, never the bytes.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

/// A handle to stored bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Blob {
    len: usize,
    location: Location,
}

#[derive(Clone, PartialEq, Eq)]
enum Location {
    /// The in-memory store keeps the (reference-counted) bytes in the handle itself.
    Memory(Bytes),
    /// Any other store: an id it assigned.
    External(u64),
}

impl Blob {
    pub fn empty() -> Self {
        Self { len: 0, location: Location::Memory(Bytes::new()) }
    }

    /// A handle for bytes kept by an external store under `id`.
    pub fn external(id: u64, len: usize) -> Self {
        Self { len, location: Location::External(id) }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The id an external store assigned (None for in-memory blobs).
    pub fn external_id(&self) -> Option<u64> {
        match self.location {
            Location::External(id) => Some(id),
            Location::Memory(_) => None,
        }
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::Memory(_) => write!(f, "Blob(memory, {} bytes)", self.len),
            Location::External(id) => write!(f, "Blob(#{id}, {} bytes)", self.len),
        }
    }
}

/// The stored form of a handle: its length and, for external stores, the id (the in-memory
/// store's bytes are not persisted; a durable world only holds external blobs).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredBlob {
    len: usize,
    id: Option<u64>,
}

impl serde::Serialize for Blob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StoredBlob { len: self.len, id: self.external_id() }.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Blob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = StoredBlob::deserialize(d)?;
        Ok(match stored.id {
            Some(id) => Blob::external(id, stored.len),
            None => Blob::empty(),
        })
    }
}

/// Stores object bytes. `put`/`get` take whole buffers; a store that keeps bytes in files also
/// offers streaming (a staged file adopted after upload, a file path for reads), so a large object
/// never sits in memory whole.
pub trait BlobStore: Send + Sync + fmt::Debug {
    fn put(&self, data: Bytes) -> Blob;
    /// The bytes behind a handle; an unknown handle reads as empty.
    fn get(&self, blob: &Blob) -> Bytes;
    /// How many puts this store has served (for tests and metrics).
    fn puts(&self) -> u64;
    /// A fresh path to stream an upload into before [`BlobStore::adopt`]; None for stores that
    /// keep bytes in memory.
    fn staging_path(&self) -> Option<std::path::PathBuf> {
        None
    }
    /// Takes over a staged file (written and synced) as a blob of `len` bytes.
    fn adopt(&self, staged: &std::path::Path, len: usize) -> std::io::Result<Blob> {
        let _ = (staged, len);
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "this blob store keeps bytes in memory"))
    }
    /// The file holding a blob, for streamed reads; None: read it with [`BlobStore::get`].
    fn file(&self, blob: &Blob) -> Option<std::path::PathBuf> {
        let _ = blob;
        None
    }
    /// One blob made of `parts` in order (CompleteMultipartUpload).
    fn concat(&self, parts: &[Blob]) -> Blob {
        let mut all = Vec::with_capacity(parts.iter().map(Blob::len).sum());
        for part in parts {
            all.extend_from_slice(&self.get(part));
        }
        self.put(Bytes::from(all))
    }
}

/// The default store: bytes stay in memory, shared by every handle.
#[derive(Debug, Default)]
pub struct MemoryBlobStore {
    puts: AtomicU64,
}

impl BlobStore for MemoryBlobStore {
    fn put(&self, data: Bytes) -> Blob {
        self.puts.fetch_add(1, Ordering::Relaxed);
        Blob { len: data.len(), location: Location::Memory(data) }
    }

    fn get(&self, blob: &Blob) -> Bytes {
        match &blob.location {
            Location::Memory(bytes) => bytes.clone(),
            Location::External(_) => Bytes::new(),
        }
    }

    fn puts(&self) -> u64 {
        self.puts.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_blobs_share_their_bytes() {
        let store = MemoryBlobStore::default();
        let data = Bytes::from_static(b"shared");
        let blob = store.put(data.clone());
        let copy = blob.clone();
        assert_eq!(store.get(&copy), data);
        assert_eq!(store.get(&copy).as_ptr(), data.as_ptr(), "the same buffer, not a copy");
        assert_eq!((blob.len(), store.puts()), (6, 1));
        assert!(Blob::empty().is_empty());
        assert_eq!(store.get(&Blob::external(7, 3)), Bytes::new());
    }
}
