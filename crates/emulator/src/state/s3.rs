//! Buckets and object versions, with S3's versioning rules (null versions, delete markers).

use std::collections::{BTreeMap, HashMap};

use s3s::dto::ReplicationConfiguration;
use time::OffsetDateTime;

use super::blob::Blob;
use super::iam::StoredPolicy;
use super::random_id;

pub const OWNERSHIP_ENFORCED: &str = "BucketOwnerEnforced";
pub const OWNERSHIP_PREFERRED: &str = "BucketOwnerPreferred";
pub const OWNERSHIP_WRITER: &str = "ObjectWriter";
pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const NULL_VERSION: &str = "null";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Versioning {
    Unversioned,
    Enabled,
    Suspended,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Grantee {
    CanonicalUser(String),
    Group(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Permission {
    FullControl,
    Read,
    Write,
    ReadAcp,
    WriteAcp,
}

impl Permission {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "FULL_CONTROL" => Self::FullControl,
            "READ" => Self::Read,
            "WRITE" => Self::Write,
            "READ_ACP" => Self::ReadAcp,
            "WRITE_ACP" => Self::WriteAcp,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FullControl => "FULL_CONTROL",
            Self::Read => "READ",
            Self::Write => "WRITE",
            Self::ReadAcp => "READ_ACP",
            Self::WriteAcp => "WRITE_ACP",
        }
    }
    /// Whether holding `self` grants `needed`.
    pub fn covers(self, needed: Permission) -> bool {
        self == Self::FullControl || self == needed
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

impl Grant {
    pub fn full_control(canonical_id: &str) -> Self {
        Self { grantee: Grantee::CanonicalUser(canonical_id.to_owned()), permission: Permission::FullControl }
    }
}

/// Server-side encryption of a stored version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Sse {
    S3,
    /// Key ARN (resolved at write time), in the bucket owner's or another account.
    Kms {
        key_arn: String,
    },
    /// SSE-C: S3 keeps only the MD5 of the customer's key (base64), to check later requests.
    Customer {
        key_md5: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DestinationStatus {
    Pending,
    Completed,
    Failed { reason: String },
}

/// Replication facts carried by a version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReplicationState {
    /// A source version: one status per destination bucket.
    Source { destinations: BTreeMap<String, DestinationStatus> },
    /// A version written by replication.
    Replica {
        /// Made under owner override: later ACL changes of the source never reach it
        /// (User Guide `replication-change-owner`).
        owner_override: bool,
        /// Two-way sync (`ReplicaModifications`): metadata changes of this replica on their way
        /// back, per bucket; empty when none is in flight.
        sync: BTreeMap<String, DestinationStatus>,
    },
}

/// The aggregate over several destinations (User Guide `replication-status`): FAILED if any
/// failed, else PENDING while any is pending, else `done`.
fn aggregate(destinations: &BTreeMap<String, DestinationStatus>, done: &'static str) -> &'static str {
    if destinations.values().any(|d| matches!(d, DestinationStatus::Failed { .. })) {
        "FAILED"
    } else if destinations.values().all(|d| *d == DestinationStatus::Completed) {
        done
    } else {
        "PENDING"
    }
}

impl ReplicationState {
    pub fn replica(owner_override: bool) -> Self {
        Self::Replica { owner_override, sync: BTreeMap::new() }
    }

    pub fn is_replica(&self) -> bool {
        matches!(self, Self::Replica { .. })
    }

    /// The `x-amz-replication-status` header value. A replica reports PENDING or FAILED while a
    /// metadata change of its own is replicating back, REPLICA otherwise.
    pub fn header(&self) -> &'static str {
        match self {
            Self::Replica { sync, .. } => aggregate(sync, "REPLICA"),
            Self::Source { destinations } => aggregate(destinations, "COMPLETED"),
        }
    }

    /// Per-destination statuses of this version's own outgoing replication.
    pub fn destinations_mut(&mut self) -> &mut BTreeMap<String, DestinationStatus> {
        match self {
            Self::Source { destinations } => destinations,
            Self::Replica { sync, .. } => sync,
        }
    }
}

/// A restore of an archived (GLACIER / DEEP_ARCHIVE) object: a temporary readable copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Restore {
    /// When the restored copy becomes readable.
    pub ready_at: OffsetDateTime,
    /// When the restored copy expires.
    pub expires_at: OffsetDateTime,
}

/// Storage classes whose objects must be restored before they can be read, and which live
/// replication skips (User Guide `replication-what-is-isnot-replicated`).
pub fn is_archived_class(class: &str) -> bool {
    matches!(class, "GLACIER" | "DEEP_ARCHIVE")
}

/// Standard HTTP representation headers stored with an object.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContentHeaders {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ObjectVersion {
    pub key: String,
    pub version_id: String,
    pub delete_marker: bool,
    /// A handle into the blob store, shared by replicas and copies (the bytes are never copied).
    pub data: Blob,
    /// Hex digest, without quotes (multipart: `<hex>-<parts>`).
    pub etag: String,
    pub last_modified: OffsetDateTime,
    pub headers: ContentHeaders,
    pub metadata: BTreeMap<String, String>,
    pub tags: Vec<(String, String)>,
    pub owner_account: String,
    pub acl: Vec<Grant>,
    pub storage_class: String,
    pub sse: Option<Sse>,
    pub replication: Option<ReplicationState>,
    pub parts_count: Option<usize>,
    pub legal_hold: Option<String>,
    pub retention: Option<(String, OffsetDateTime)>,
    /// For archived storage classes: the restore requested, if any.
    pub restore: Option<Restore>,
}

impl ObjectVersion {
    pub fn size(&self) -> usize {
        self.data.len()
    }

    /// Whether GET may read the bytes: not archived, or restored and not expired.
    pub fn readable_at(&self, now: OffsetDateTime) -> bool {
        !is_archived_class(&self.storage_class) || self.restore.is_some_and(|r| r.ready_at <= now && now < r.expires_at)
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct UploadPart {
    pub data: Blob,
    pub etag: String,
    pub last_modified: OffsetDateTime,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct MultipartUpload {
    pub upload_id: String,
    pub key: String,
    pub initiated: OffsetDateTime,
    pub initiator_account: String,
    /// The version the upload will become, minus data/etag (headers, metadata, tags, ACL, SSE).
    pub template: ObjectVersion,
    pub parts: BTreeMap<i32, UploadPart>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Bucket {
    pub name: String,
    pub owner_account: String,
    pub region: String,
    pub created: OffsetDateTime,
    pub versioning: Versioning,
    /// None when ownership controls were deleted (behaves as ObjectWriter).
    pub ownership: Option<String>,
    pub acl: Vec<Grant>,
    pub policy: Option<StoredPolicy>,
    pub replication: Option<ReplicationConfiguration>,
    /// Versions per key, oldest first (stored row by row, not with the settings).
    #[serde(skip)]
    pub objects: BTreeMap<String, Vec<ObjectVersion>>,
    pub uploads: HashMap<String, MultipartUpload>,
    pub tags: Vec<(String, String)>,
    pub object_lock: bool,
    /// PutObjectLockConfiguration's document (default retention), when one was put.
    pub lock_configuration: Option<LockConfiguration>,
    /// Keys whose versions changed since the last checkpoint (durable mode writes just those).
    #[serde(skip)]
    pub dirty: std::collections::BTreeSet<String>,
}

/// Object Lock configuration of a bucket, as S3 stores it.
pub type LockConfiguration = s3s::dto::ObjectLockConfiguration;

/// What a DELETE without a version id did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteOutcome {
    /// Version id of the delete marker created, if any.
    pub marker_version_id: Option<String>,
}

impl Bucket {
    pub fn new(name: &str, owner_account: &str, region: &str, owner_canonical: &str, now: OffsetDateTime) -> Self {
        Self {
            name: name.to_owned(),
            owner_account: owner_account.to_owned(),
            region: region.to_owned(),
            created: now,
            versioning: Versioning::Unversioned,
            ownership: Some(OWNERSHIP_ENFORCED.to_owned()),
            acl: vec![Grant::full_control(owner_canonical)],
            policy: None,
            replication: None,
            objects: BTreeMap::new(),
            uploads: HashMap::new(),
            tags: Vec::new(),
            object_lock: false,
            lock_configuration: None,
            dirty: std::collections::BTreeSet::new(),
        }
    }

    pub fn acls_enabled(&self) -> bool {
        self.ownership.as_deref() != Some(OWNERSHIP_ENFORCED)
    }

    pub fn is_empty(&self) -> bool {
        self.objects.values().all(Vec::is_empty)
    }

    pub fn latest(&self, key: &str) -> Option<&ObjectVersion> {
        self.objects.get(key).and_then(|v| v.last())
    }

    pub fn version(&self, key: &str, version_id: &str) -> Option<&ObjectVersion> {
        self.objects.get(key).and_then(|vs| vs.iter().find(|v| v.version_id == version_id))
    }

    pub fn version_mut(&mut self, key: &str, version_id: &str) -> Option<&mut ObjectVersion> {
        self.dirty.insert(key.to_owned());
        self.objects.get_mut(key).and_then(|vs| vs.iter_mut().find(|v| v.version_id == version_id))
    }

    /// The version a request addresses: the given id, or the latest.
    pub fn addressed(&self, key: &str, version_id: Option<&str>) -> Option<&ObjectVersion> {
        match version_id {
            Some(id) => self.version(key, id),
            None => self.latest(key),
        }
    }

    /// The id a new version gets under the bucket's versioning state.
    pub fn next_version_id(&self) -> String {
        match self.versioning {
            Versioning::Enabled => new_version_id(),
            Versioning::Unversioned | Versioning::Suspended => NULL_VERSION.to_owned(),
        }
    }

    /// Stores a new version (its `version_id` must come from [`Bucket::next_version_id`]); a new
    /// null version replaces the previous null version, as S3 does.
    pub fn put_version(&mut self, version: ObjectVersion) {
        self.dirty.insert(version.key.clone());
        let versions = self.objects.entry(version.key.clone()).or_insert_with(|| Vec::with_capacity(1));
        if version.version_id == NULL_VERSION {
            versions.retain(|v| v.version_id != NULL_VERSION);
        }
        versions.push(version);
    }

    /// Stores a replica under the source's version id, replacing an earlier copy of that id.
    pub fn put_replica(&mut self, version: ObjectVersion) {
        self.dirty.insert(version.key.clone());
        let versions = self.objects.entry(version.key.clone()).or_insert_with(|| Vec::with_capacity(1));
        if let Some(existing) = versions.iter_mut().find(|v| v.version_id == version.version_id) {
            *existing = version;
        } else {
            versions.push(version);
            versions.sort_by_key(|v| v.last_modified);
        }
    }

    /// DELETE without a version id.
    pub fn delete_current(&mut self, key: &str, owner_account: &str, now: OffsetDateTime) -> DeleteOutcome {
        self.dirty.insert(key.to_owned());
        match self.versioning {
            Versioning::Unversioned => {
                if let Some(vs) = self.objects.get_mut(key) {
                    vs.retain(|v| v.version_id != NULL_VERSION);
                    if vs.is_empty() {
                        self.objects.remove(key);
                    }
                }
                DeleteOutcome { marker_version_id: None }
            }
            Versioning::Enabled | Versioning::Suspended => {
                let version_id = self.next_version_id();
                self.put_version(delete_marker(key, &version_id, owner_account, now));
                DeleteOutcome { marker_version_id: Some(version_id) }
            }
        }
    }

    /// DELETE with a version id: removes that version for good.
    pub fn delete_version(&mut self, key: &str, version_id: &str) -> Option<ObjectVersion> {
        self.dirty.insert(key.to_owned());
        let versions = self.objects.get_mut(key)?;
        let index = versions.iter().position(|v| v.version_id == version_id)?;
        let removed = versions.remove(index);
        if versions.is_empty() {
            self.objects.remove(key);
        }
        Some(removed)
    }
}

pub fn delete_marker(key: &str, version_id: &str, owner_account: &str, now: OffsetDateTime) -> ObjectVersion {
    ObjectVersion {
        key: key.to_owned(),
        version_id: version_id.to_owned(),
        delete_marker: true,
        data: Blob::empty(),
        etag: String::new(),
        last_modified: now,
        headers: ContentHeaders::default(),
        metadata: BTreeMap::new(),
        tags: Vec::new(),
        owner_account: owner_account.to_owned(),
        acl: Vec::new(),
        storage_class: "STANDARD".to_owned(),
        sse: None,
        replication: None,
        parts_count: None,
        legal_hold: None,
        retention: None,
        restore: None,
    }
}

/// A fresh version id: 32 characters, like S3's.
pub fn new_version_id() -> String {
    random_id(32)
}

/// Whether a client-supplied version id could have been issued by S3 ("null" or our format).
pub fn is_valid_version_id(id: &str) -> bool {
    id == NULL_VERSION || (id.len() == 32 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_'))
}
