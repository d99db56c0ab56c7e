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
    /// CRC64NVME of the bytes, computed as they were written (None: in memory, or written by a
    /// version of xrepl that kept none): reads check it, so damaged files are never served.
    crc64: Option<u64>,
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
        Self { len: 0, location: Location::Memory(Bytes::new()), crc64: None }
    }

    /// A handle for bytes kept by an external store under `id`.
    pub fn external(id: u64, len: usize) -> Self {
        Self { len, location: Location::External(id), crc64: None }
    }

    /// A handle for bytes kept by an external store under `id`, with their CRC64NVME.
    pub fn external_checked(id: u64, len: usize, crc64: u64) -> Self {
        Self { len, location: Location::External(id), crc64: Some(crc64) }
    }

    /// The CRC64NVME the bytes had when written, when it was kept.
    pub fn crc64(&self) -> Option<u64> {
        self.crc64
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
    /// Absent in data dirs from before checksums were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crc64: Option<u64>,
}

impl serde::Serialize for Blob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StoredBlob { len: self.len, id: self.external_id(), crc64: self.crc64 }.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Blob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = StoredBlob::deserialize(d)?;
        Ok(match stored.id {
            Some(id) => Blob { len: stored.len, location: Location::External(id), crc64: stored.crc64 },
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
    /// Takes over a staged file (written and synced) as a blob of `len` bytes whose CRC64NVME is
    /// `crc64`.
    fn adopt(&self, staged: &std::path::Path, len: usize, crc64: u64) -> std::io::Result<Blob> {
        let _ = (staged, len, crc64);
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "this blob store keeps bytes in memory"))
    }
    /// The bytes behind a handle, checked against the length and checksum they were written with:
    /// an error (`InvalidData` for damage) instead of wrong bytes.
    fn read(&self, blob: &Blob) -> std::io::Result<Bytes> {
        Ok(self.get(blob))
    }
    /// Drops a blob this store just handed out that nothing will refer to (its request failed
    /// after writing it); a blob that committed metadata refers to, or may, is left alone.
    fn discard(&self, blob: &Blob) {
        let _ = blob;
    }
    /// The file holding a blob, for streamed reads; None: read it with [`BlobStore::get`].
    fn file(&self, blob: &Blob) -> Option<std::path::PathBuf> {
        let _ = blob;
        None
    }
    /// One blob made of `parts` in order (CompleteMultipartUpload); fails when a part cannot be
    /// read whole or was damaged, or the result cannot be written.
    fn concat(&self, parts: &[Blob]) -> std::io::Result<Blob> {
        let mut all = Vec::with_capacity(parts.iter().map(Blob::len).sum());
        for part in parts {
            all.extend_from_slice(&self.read(part)?);
        }
        Ok(self.put(Bytes::from(all)))
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
        Blob { len: data.len(), location: Location::Memory(data), crc64: None }
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
        let stored = serde_json::to_string(&Blob::external_checked(7, 3, 42)).unwrap_or_default();
        let back: Blob = serde_json::from_str(&stored).unwrap_or_else(|_| Blob::empty());
        assert_eq!((back.external_id(), back.len(), back.crc64()), (Some(7), 3, Some(42)));
        let old: Blob = serde_json::from_str(r#"{"len":3,"id":7}"#).unwrap_or_else(|_| Blob::empty());
        assert_eq!((old.external_id(), old.crc64()), (Some(7), None), "data dirs from before checksums still load");
    }
}
