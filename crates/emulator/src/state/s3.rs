//! Buckets and object versions, with S3's versioning rules (null versions, delete markers).

use std::collections::{BTreeMap, HashMap};
use std::ops::{Bound, Deref};

use s3s::dto::ReplicationConfiguration;
use time::OffsetDateTime;

use super::blob::Blob;
use super::iam::StoredPolicy;
use super::ids::random_id;

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
    /// The `Expires` header, returned as stored (S3 keeps it; caches act on it, S3 does not).
    #[serde(default)]
    pub expires: Option<OffsetDateTime>,
    /// `x-amz-website-redirect-location`: where the bucket's website sends a request for this key.
    #[serde(default)]
    pub website_redirect_location: Option<String>,
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
    /// The object's checksum (User Guide `checking-object-integrity`); absent in data dirs
    /// written before checksums were kept.
    #[serde(default)]
    pub checksum: Option<ObjectChecksum>,
    /// A multipart object's parts (size and checksum), for `?partNumber=` and GetObjectAttributes.
    #[serde(default)]
    pub parts: Vec<PartSummary>,
}

/// A stored checksum: the algorithm (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`), the
/// base64 value (composite values end in `-<parts>`), and whether it covers the whole object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectChecksum {
    pub algorithm: String,
    pub value: String,
    pub full_object: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartSummary {
    pub size: u64,
    pub checksum: Option<String>,
}

impl ObjectVersion {
    /// A version written at `now` by `owner_account` with `acl` (PutObject, CopyObject, a multipart
    /// upload's template, a delete marker), empty until the write fills in its content with struct
    /// update syntax.
    pub fn written(key: &str, owner_account: String, acl: Vec<Grant>, now: OffsetDateTime) -> ObjectVersion {
        ObjectVersion {
            key: key.to_owned(),
            version_id: String::new(),
            delete_marker: false,
            data: Blob::empty(),
            etag: String::new(),
            last_modified: now,
            headers: ContentHeaders::default(),
            metadata: BTreeMap::new(),
            tags: Vec::new(),
            owner_account,
            acl,
            storage_class: "STANDARD".to_owned(),
            sse: None,
            replication: None,
            parts_count: None,
            legal_hold: None,
            retention: None,
            restore: None,
            checksum: None,
            parts: Vec::new(),
        }
    }

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
    /// The part's checksum in the upload's algorithm (base64).
    #[serde(default)]
    pub checksum: Option<String>,
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
    /// The checksum algorithm the upload was created with, and whether its object checksum is
    /// FULL_OBJECT (else COMPOSITE).
    #[serde(default)]
    pub checksum: Option<(String, bool)>,
    /// The key's current version when the upload began (its version id and time; None: no object),
    /// to refuse a conditional completion after another write to the key. Absent in uploads saved
    /// before it was kept.
    #[serde(default)]
    pub key_at_start: Option<Option<(String, OffsetDateTime)>>,
}

impl Bucket {
    /// The key's current object (not a delete marker): its version id and time.
    pub fn current_state(&self, key: &str) -> Option<(String, OffsetDateTime)> {
        self.latest(key).filter(|v| !v.delete_marker).map(|v| (v.version_id.clone(), v.last_modified))
    }
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
    pub objects: BTreeMap<String, Versions>,
    pub uploads: Uploads,
    /// Recently completed uploads (id → key, version id, ETag): completing one again answers as the
    /// first completion did. Bounded to the latest [`COMPLETED_UPLOADS_KEPT`].
    #[serde(default)]
    pub completed_uploads: std::collections::VecDeque<(String, String, String, String)>,
    pub tags: Vec<(String, String)>,
    pub object_lock: bool,
    /// Sub-resources kept as the user put them (lifecycle, CORS, website, logging, ...).
    #[serde(default)]
    pub settings: BucketSettings,
    /// PutObjectLockConfiguration's document (default retention), when one was put.
    pub lock_configuration: Option<LockConfiguration>,
    /// Keys whose versions changed since the last checkpoint (durable mode writes just those).
    #[serde(skip)]
    pub dirty: std::collections::BTreeSet<String>,
    /// For each key in `dirty`: its versions before the first change since the last checkpoint
    /// (None: the key did not exist), so a checkpoint that fails can undo the change.
    #[serde(skip)]
    pub undo: BTreeMap<String, Option<Versions>>,
    /// Whether `dirty` is kept: only a durable emulator drains it, so an in-memory one does not
    /// fill it with a copy of every key (buckets loaded from a data dir track).
    #[serde(skip, default = "tracks_by_default")]
    pub track_dirty: bool,
}

/// Bucket sub-resources that S3 stores, validates and returns (infrastructure tools read every one
/// of them on refresh); what the emulator acts on is noted per field.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct BucketSettings {
    pub lifecycle: Option<s3s::dto::BucketLifecycleConfiguration>,
    /// The LocationConstraint the bucket was made with when it names the region otherwise (`EU`).
    #[serde(default)]
    pub location_constraint: Option<String>,
    pub cors: Option<s3s::dto::CORSConfiguration>,
    pub website: Option<s3s::dto::WebsiteConfiguration>,
    /// Server access logging: target bucket and prefix (no log objects are written).
    pub logging: Option<(String, String)>,
    /// `Enabled` / `Suspended`; None: never set.
    pub accelerate: Option<String>,
    /// `BucketOwner` (default) or `Requester`.
    pub request_payer: Option<String>,
    /// Default encryption; None: S3's default since 2023, SSE-S3 (AES256). With `aws:kms`, objects
    /// written without encryption headers are encrypted under the configured key.
    pub encryption: Option<s3s::dto::ServerSideEncryptionConfiguration>,
    /// Block Public Access (User Guide `access-control-block-public-access`); new buckets get all
    /// four settings on (absent in data dirs from before it was kept: none).
    #[serde(default)]
    pub public_access_block: Option<PublicAccessBlock>,
    /// The lifecycle's `TransitionDefaultMinimumObjectSize` when one was sent (None: S3's default,
    /// `all_storage_classes_128K`).
    #[serde(default)]
    pub lifecycle_minimum_size: Option<String>,
    /// The configurations named by an id (s3/configurations.rs): kept as put; xrepl publishes no
    /// metrics, exports or inventory reports and moves nothing between tiers.
    #[serde(default)]
    pub metrics: BTreeMap<String, s3s::dto::MetricsConfiguration>,
    #[serde(default)]
    pub analytics: BTreeMap<String, s3s::dto::AnalyticsConfiguration>,
    #[serde(default)]
    pub inventory: BTreeMap<String, s3s::dto::InventoryConfiguration>,
    #[serde(default)]
    pub intelligent_tiering: BTreeMap<String, s3s::dto::IntelligentTieringConfiguration>,
}

/// How many completed uploads a bucket remembers for repeated CompleteMultipartUpload calls.
pub const COMPLETED_UPLOADS_KEPT: usize = 1000;

/// The four Block Public Access settings of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// What S3 gives every new bucket since April 2023.
    pub const NEW_BUCKET: Self =
        Self { block_public_acls: true, ignore_public_acls: true, block_public_policy: true, restrict_public_buckets: true };
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
    /// The retention a new object version gets when it names none: the bucket's Object Lock default
    /// retention (mode, and `now` plus its days or years), if it has one.
    pub fn default_retention(&self, now: OffsetDateTime) -> Option<(String, OffsetDateTime)> {
        let rule = self.lock_configuration.as_ref()?.rule.as_ref()?.default_retention.as_ref()?;
        let mode = rule.mode.as_ref()?.as_str().to_owned();
        let days = i64::from(rule.days.unwrap_or(0)) + 365 * i64::from(rule.years.unwrap_or(0));
        Some((mode, now + time::Duration::days(days)))
    }

    /// The Block Public Access settings in force (none: nothing blocked).
    pub fn public_access(&self) -> PublicAccessBlock {
        self.settings.public_access_block.unwrap_or(PublicAccessBlock {
            block_public_acls: false,
            ignore_public_acls: false,
            block_public_policy: false,
            restrict_public_buckets: false,
        })
    }

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
            uploads: Uploads::default(),
            completed_uploads: std::collections::VecDeque::new(),
            tags: Vec::new(),
            object_lock: false,
            settings: BucketSettings { public_access_block: Some(PublicAccessBlock::NEW_BUCKET), ..BucketSettings::default() },
            lock_configuration: None,
            dirty: std::collections::BTreeSet::new(),
            undo: BTreeMap::new(),
            track_dirty: true,
        }
    }

    /// Records that `key`'s versions are about to change (for the next durable checkpoint), and
    /// on the first change since the last one, how they were (to undo a failed checkpoint).
    fn mark_dirty(&mut self, key: &str) {
        if self.track_dirty && self.dirty.insert(key.to_owned()) {
            self.undo.insert(key.to_owned(), self.objects.get(key).cloned());
        }
    }

    pub fn acls_enabled(&self) -> bool {
        self.ownership.as_deref() != Some(OWNERSHIP_ENFORCED)
    }

    pub fn is_empty(&self) -> bool {
        self.objects.values().all(|v| v.is_empty())
    }

    pub fn latest(&self, key: &str) -> Option<&ObjectVersion> {
        self.objects.get(key).and_then(|v| v.last())
    }

    pub fn version(&self, key: &str, version_id: &str) -> Option<&ObjectVersion> {
        self.objects.get(key).and_then(|vs| vs.by_id(version_id))
    }

    pub fn version_mut(&mut self, key: &str, version_id: &str) -> Option<&mut ObjectVersion> {
        self.mark_dirty(key);
        self.objects.get_mut(key).and_then(|vs| vs.by_id_mut(version_id))
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
        self.mark_dirty(&version.key);
        let versions = self.objects.entry(version.key.clone()).or_default();
        if version.version_id == NULL_VERSION {
            versions.remove(NULL_VERSION);
        }
        versions.push(version);
    }

    /// Stores a replica under the source's version id, replacing an earlier copy of that id.
    pub fn put_replica(&mut self, version: ObjectVersion) {
        self.mark_dirty(&version.key);
        let versions = self.objects.entry(version.key.clone()).or_default();
        if let Some(existing) = versions.by_id_mut(&version.version_id) {
            *existing = version;
        } else {
            versions.insert_by_time(version);
        }
    }

    /// DELETE without a version id.
    pub fn delete_current(&mut self, key: &str, owner_account: &str, now: OffsetDateTime) -> DeleteOutcome {
        self.mark_dirty(key);
        match self.versioning {
            Versioning::Unversioned => {
                if let Some(vs) = self.objects.get_mut(key) {
                    vs.remove(NULL_VERSION);
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
        self.mark_dirty(key);
        let versions = self.objects.get_mut(key)?;
        let removed = versions.remove(version_id)?;
        if versions.is_empty() {
            self.objects.remove(key);
        }
        Some(removed)
    }
}

/// The versions of one key, oldest first (read them as a slice), indexed by version id.
#[derive(Debug, Clone, Default)]
pub struct Versions {
    list: Vec<ObjectVersion>,
    /// Version id → position, kept only for keys with more than [`INDEXED_FROM`] versions: most
    /// keys have one, and a hash table each would cost more than the version (issue 11's memory
    /// target); a short list is searched instead.
    index: HashMap<String, usize>,
}

/// Keys with more versions than this get an index by version id.
const INDEXED_FROM: usize = 8;

impl Deref for Versions {
    type Target = [ObjectVersion];
    fn deref(&self) -> &[ObjectVersion] {
        &self.list
    }
}

impl From<Vec<ObjectVersion>> for Versions {
    fn from(list: Vec<ObjectVersion>) -> Self {
        let mut versions = Versions { list, index: HashMap::new() };
        versions.reindex(0);
        versions
    }
}

/// Stored as the list; the index is rebuilt when loaded.
impl serde::Serialize for Versions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.list.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Versions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<ObjectVersion>::deserialize(d).map(Versions::from)
    }
}

impl Versions {
    pub fn by_id(&self, version_id: &str) -> Option<&ObjectVersion> {
        self.position(version_id).and_then(|i| self.list.get(i))
    }

    pub fn by_id_mut(&mut self, version_id: &str) -> Option<&mut ObjectVersion> {
        self.position(version_id).and_then(|i| self.list.get_mut(i))
    }

    /// Where a version sits (0 = oldest).
    pub fn position(&self, version_id: &str) -> Option<usize> {
        if self.list.len() > INDEXED_FROM {
            self.index.get(version_id).copied()
        } else {
            self.list.iter().position(|v| v.version_id == version_id)
        }
    }

    /// Appends the newest version.
    fn push(&mut self, version: ObjectVersion) {
        let at = self.list.len();
        // Most keys keep one version: room for exactly one (a plain push would make room for
        // four, 2.6 KiB per key at this struct's size).
        if self.list.capacity() == 0 {
            self.list.reserve_exact(1);
        }
        self.list.push(version);
        self.reindex(at);
    }

    /// Inserts a version at its place by last-modified time (replicas arrive out of order).
    fn insert_by_time(&mut self, version: ObjectVersion) {
        let at = self.list.partition_point(|v| v.last_modified <= version.last_modified);
        if self.list.capacity() == 0 {
            self.list.reserve_exact(1);
        }
        self.list.insert(at, version);
        self.reindex(at);
    }

    fn remove(&mut self, version_id: &str) -> Option<ObjectVersion> {
        let at = self.position(version_id)?;
        self.index.remove(version_id);
        let removed = self.list.remove(at);
        self.reindex(at);
        Some(removed)
    }

    /// Brings the index up to date from position `from` on, or drops it when the list is short.
    fn reindex(&mut self, from: usize) {
        if self.list.len() <= INDEXED_FROM {
            if !self.index.is_empty() {
                self.index = HashMap::new();
            }
            return;
        }
        // A list that has just outgrown the threshold is indexed whole.
        let from = if self.index.is_empty() { 0 } else { from };
        for (i, v) in self.list.iter().enumerate().skip(from) {
            self.index.insert(v.version_id.clone(), i);
        }
    }
}

/// Multipart uploads in progress, by upload id and in listing order (key, then initiation).
#[derive(Debug, Clone, Default)]
pub struct Uploads {
    by_id: HashMap<String, MultipartUpload>,
    order: std::collections::BTreeSet<(String, OffsetDateTime, String)>,
}

/// Stored by upload id; the listing order is rebuilt when loaded.
impl serde::Serialize for Uploads {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.by_id.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Uploads {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut uploads = Uploads::default();
        for (id, upload) in HashMap::<String, MultipartUpload>::deserialize(d)? {
            uploads.insert(id, upload);
        }
        Ok(uploads)
    }
}

impl Uploads {
    /// Every upload in progress, in no particular order.
    pub fn all(&self) -> impl Iterator<Item = &MultipartUpload> {
        self.by_id.values()
    }

    pub fn insert(&mut self, upload_id: String, upload: MultipartUpload) {
        self.remove(&upload_id);
        self.order.insert((upload.key.clone(), upload.initiated, upload_id.clone()));
        self.by_id.insert(upload_id, upload);
    }

    pub fn remove(&mut self, upload_id: &str) -> Option<MultipartUpload> {
        let upload = self.by_id.remove(upload_id)?;
        self.order.remove(&(upload.key.clone(), upload.initiated, upload_id.to_owned()));
        Some(upload)
    }

    pub fn get(&self, upload_id: &str) -> Option<&MultipartUpload> {
        self.by_id.get(upload_id)
    }

    /// Parts may be added; the key and initiation time (the listing order) never change.
    pub fn get_mut(&mut self, upload_id: &str) -> Option<&mut MultipartUpload> {
        self.by_id.get_mut(upload_id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Uploads in listing order, starting after `key_marker` (or, with `upload_id_marker`, after
    /// that upload of `key_marker`), beginning no earlier than `prefix`.
    pub fn after<'a>(
        &'a self,
        prefix: &str,
        key_marker: &str,
        upload_id_marker: Option<&str>,
    ) -> impl Iterator<Item = &'a MultipartUpload> + 'a {
        let known = upload_id_marker.and_then(|id| self.by_id.get(id).filter(|u| u.key == key_marker).map(|u| (u, id)));
        // An upload id marker that is not one of the marker key's uploads: that key's uploads
        // with a greater id (S3's rule), then later keys.
        let unknown_marker = upload_id_marker.filter(|_| known.is_none()).map(|id| (key_marker.to_owned(), id.to_owned()));
        let start = match known {
            Some((u, id)) => Bound::Excluded((u.key.clone(), u.initiated, id.to_owned())),
            None if unknown_marker.is_some() => Bound::Included((key_marker.to_owned(), OffsetDateTime::UNIX_EPOCH, String::new())),
            // No upload id marker: the first key after the key marker.
            None => Bound::Excluded((key_marker.to_owned(), MAX_TIME, String::new())),
        };
        let floor = Bound::Included((prefix.to_owned(), OffsetDateTime::UNIX_EPOCH, String::new()));
        let start = if bound_below(&floor, &start) { start } else { floor };
        self.order
            .range((start, Bound::Unbounded))
            .filter(move |(key, _, id)| unknown_marker.as_ref().is_none_or(|(mk, mid)| key != mk || id > mid))
            .filter_map(|(_, _, id)| self.by_id.get(id))
    }
}

/// A time after every upload's initiation (`Excluded((key, MAX_TIME, ""))` skips a key's uploads).
const MAX_TIME: OffsetDateTime = time::macros::datetime!(9999-12-31 23:59:59 UTC);

/// Whether lower bound `a` starts no later than lower bound `b`.
fn bound_below<T: Ord>(a: &Bound<T>, b: &Bound<T>) -> bool {
    match (a, b) {
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => x <= y,
        (Bound::Unbounded, _) => true,
        (_, Bound::Unbounded) => false,
    }
}

/// One entry of a listing over ordered keys.
#[derive(Debug)]
pub enum Entry<'a> {
    Key(&'a str, &'a Versions),
    /// A common prefix; `last_key` is the last key it stands for (where the next page resumes).
    Prefix {
        prefix: String,
        last_key: &'a str,
    },
}

/// The keys of a bucket under `prefix` and after `after`, in order, each common prefix (by
/// `delimiter`) folded into one entry. Plain keys come from one ordered-map cursor; a folded
/// prefix costs a lookup for its last key and a new cursor after it. So a page costs
/// O(page + folded prefixes · log n) however many keys the bucket or a folded prefix holds.
pub struct KeyScan<'a> {
    objects: &'a BTreeMap<String, Versions>,
    prefix: &'a str,
    delimiter: Option<&'a str>,
    /// Where the next cursor starts (`Unbounded` once the scan is finished).
    next: Bound<String>,
    cursor: Option<std::collections::btree_map::Range<'a, String, Versions>>,
    /// Map lookups (cursor seeks) made so far (tests check the cost).
    pub lookups: usize,
}

impl Bucket {
    pub fn scan<'a>(&'a self, prefix: &'a str, delimiter: Option<&'a str>, after: &str) -> KeyScan<'a> {
        let next = if after >= prefix { Bound::Excluded(after.to_owned()) } else { Bound::Included(prefix.to_owned()) };
        KeyScan { objects: &self.objects, prefix, delimiter: delimiter.filter(|d| !d.is_empty()), next, cursor: None, lookups: 0 }
    }
}

impl<'a> KeyScan<'a> {
    fn finish(&mut self) -> Option<Entry<'a>> {
        self.cursor = None;
        self.next = Bound::Unbounded;
        None
    }
}

impl<'a> Iterator for KeyScan<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        if self.cursor.is_none() {
            // `Unbounded` is never a resume point: it marks a finished scan.
            let lower = std::mem::replace(&mut self.next, Bound::Unbounded);
            if lower == Bound::Unbounded {
                return None;
            }
            self.lookups += 1;
            let objects: &'a BTreeMap<String, Versions> = self.objects;
            self.cursor = Some(objects.range::<str, _>((lower.as_ref().map(String::as_str), Bound::Unbounded)));
        }
        let Some((key, versions)) = self.cursor.as_mut().and_then(Iterator::next) else { return self.finish() };
        // Keys are ordered: the first one outside the prefix ends the listing.
        let Some(rest) = key.strip_prefix(self.prefix) else { return self.finish() };
        let folded = self.delimiter.and_then(|d| rest.find(d).map(|i| format!("{}{}", self.prefix, &rest[..i + d.len()])));
        let Some(prefix) = folded else {
            return Some(Entry::Key(key, versions));
        };
        self.lookups += 1;
        let upper = prefix_end(&prefix).map_or(Bound::Unbounded, Bound::Excluded);
        let last_key = self
            .objects
            .range::<str, _>((Bound::Included(prefix.as_str()), upper.as_ref().map(String::as_str)))
            .next_back()
            .map_or(key, |(k, _)| k);
        // The next entry starts after everything the prefix stands for: a new cursor.
        self.cursor = None;
        self.next = Bound::Excluded(last_key.clone());
        Some(Entry::Prefix { prefix, last_key })
    }
}

/// The least string greater than every string that starts with `prefix` (None: there is none).
fn tracks_by_default() -> bool {
    true
}

pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let bumped = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(c) = bumped {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

pub fn delete_marker(key: &str, version_id: &str, owner_account: &str, now: OffsetDateTime) -> ObjectVersion {
    ObjectVersion {
        version_id: version_id.to_owned(),
        delete_marker: true,
        ..ObjectVersion::written(key, owner_account.to_owned(), Vec::new(), now)
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

impl Bucket {
    /// The bucket's settings without its objects (cheap to clone for decisions made under the lock).
    pub fn clone_settings(&self) -> Bucket {
        Bucket {
            name: self.name.clone(),
            owner_account: self.owner_account.clone(),
            region: self.region.clone(),
            created: self.created,
            versioning: self.versioning,
            ownership: self.ownership.clone(),
            acl: self.acl.clone(),
            policy: self.policy.clone(),
            replication: self.replication.clone(),
            objects: BTreeMap::new(),
            uploads: Default::default(),
            completed_uploads: Default::default(),
            tags: self.tags.clone(),
            object_lock: self.object_lock,
            settings: self.settings.clone(),
            lock_configuration: self.lock_configuration.clone(),
            dirty: std::collections::BTreeSet::new(),
            undo: BTreeMap::new(),
            track_dirty: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket_with(keys: &[String]) -> Bucket {
        let mut b = Bucket::new("b", "111111111111", "us-east-1", "c", OffsetDateTime::UNIX_EPOCH);
        for k in keys {
            b.put_version(ObjectVersion {
                data: Blob::empty(),
                ..delete_marker(k, NULL_VERSION, "111111111111", OffsetDateTime::UNIX_EPOCH)
            });
        }
        b
    }

    /// Versions are found by id whether the key's list is short (searched) or long (indexed),
    /// across the threshold in both directions and after out-of-order replica inserts.
    #[test]
    fn versions_are_found_by_id_below_and_above_the_index_threshold() {
        let mut b = Bucket::new("b", "111111111111", "us-east-1", "c", OffsetDateTime::UNIX_EPOCH);
        let at = |s: i64| OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(s);
        let mut ids = Vec::new();
        for i in 0..20i64 {
            let id = format!("v{i:02}");
            // Every third arrives as a replica with an older time than the ones before it.
            if i % 3 == 2 {
                b.put_replica(delete_marker("k", &id, "111111111111", at(i - 10)));
            } else {
                b.put_version(delete_marker("k", &id, "111111111111", at(i * 10)));
            }
            ids.push(id);
            assert!(ids.iter().all(|id| b.version("k", id).is_some_and(|v| &v.version_id == id)), "after adding {i}");
        }
        while let Some(id) = ids.pop() {
            let removed = b.delete_version("k", &ids.first().cloned().unwrap_or_else(|| id.clone()));
            assert!(removed.is_some());
            if !ids.is_empty() {
                ids.remove(0);
                ids.push(id);
            }
            assert!(ids.iter().all(|id| b.version("k", id).is_some_and(|v| &v.version_id == id)), "{} left", ids.len());
        }
        assert!(b.objects.is_empty());
    }

    fn render(entries: Vec<Entry<'_>>) -> Vec<String> {
        entries
            .into_iter()
            .map(|e| match e {
                Entry::Key(k, _) => k.to_owned(),
                Entry::Prefix { prefix, last_key } => format!("{prefix}..{last_key}"),
            })
            .collect()
    }

    #[test]
    fn a_page_costs_lookups_for_its_entries_not_for_the_bucket() {
        let mut keys: Vec<String> = (0..10_000).map(|i| format!("logs/{i:05}")).collect();
        keys.extend(["a".to_owned(), "m/1".to_owned(), "m/2".to_owned(), "z".to_owned()]);
        let b = bucket_with(&keys);
        // 10,000 keys folded into one common prefix: a handful of lookups.
        let mut scan = b.scan("", Some("/"), "");
        let page = render(scan.by_ref().take(4).collect());
        assert_eq!(page, ["a", "logs/..logs/09999", "m/..m/2", "z"]);
        assert!(scan.lookups <= 8, "{} lookups", scan.lookups);
        // A prefix near the end of the bucket, resumed after a key: no walk from the start.
        let mut scan = b.scan("m/", None, "m/1");
        assert_eq!(render(scan.by_ref().collect()), ["m/2"]);
        assert!(scan.lookups <= 2, "{} lookups", scan.lookups);
        // Paging through the folded prefix's own keys, 100 at a time.
        let mut scan = b.scan("logs/", None, "logs/04999");
        let page = render(scan.by_ref().take(100).collect());
        assert_eq!((page.first().map(String::as_str), page.len()), (Some("logs/05000"), 100));
        assert!(scan.lookups <= 100, "{} lookups", scan.lookups);
        // A prefix no key has ends at once.
        let mut scan = b.scan("n", None, "");
        assert!(scan.next().is_none());
        assert!(scan.next().is_none(), "a finished scan stays finished");
        assert_eq!(scan.lookups, 1);
    }

    #[test]
    fn uploads_resume_after_their_markers() {
        let mut uploads = Uploads::default();
        let at = |s: i64| OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(s);
        for (id, key, t) in [("m2", "a", 1), ("m1", "b", 2), ("z0", "b", 3), ("k9", "c", 4)] {
            let template = delete_marker(key, "null", "111111111111", at(t));
            let upload = MultipartUpload {
                upload_id: id.to_owned(),
                key: key.to_owned(),
                initiated: at(t),
                initiator_account: "111111111111".to_owned(),
                template,
                parts: BTreeMap::new(),
                checksum: None,
                key_at_start: None,
            };
            uploads.insert(id.to_owned(), upload);
        }
        let ids = |it: &mut dyn Iterator<Item = &MultipartUpload>| it.map(|u| u.upload_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&mut uploads.after("", "", None)), ["m2", "m1", "z0", "k9"], "key, then initiation order");
        assert_eq!(ids(&mut uploads.after("", "b", Some("m1"))), ["z0", "k9"], "after a known upload");
        assert_eq!(ids(&mut uploads.after("", "b", Some("n"))), ["z0", "k9"], "an unknown id: greater ids of that key");
        assert_eq!(ids(&mut uploads.after("", "b", None)), ["k9"], "a key marker alone skips that key");
        assert_eq!(ids(&mut uploads.after("c", "a", None)), ["k9"], "never before the prefix");
        assert!(uploads.remove("z0").is_some());
        assert_eq!(ids(&mut uploads.after("", "a", None)), ["m1", "k9"]);
    }

    #[test]
    fn prefix_ends() {
        assert_eq!(prefix_end("a/").as_deref(), Some("a0"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
    }

    #[test]
    fn versions_are_found_by_id_after_removals_and_out_of_order_inserts() {
        let mut b = bucket_with(&[]);
        let at = |s: i64| OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(s);
        for (id, t) in [("v1", 1), ("v3", 3), ("null", 4)] {
            b.put_version(delete_marker("k", id, "111111111111", at(t)));
        }
        b.put_replica(delete_marker("k", "v2", "111111111111", at(2)));
        b.put_version(delete_marker("k", NULL_VERSION, "111111111111", at(5)));
        let ids: Vec<&str> = b.objects["k"].iter().map(|v| v.version_id.as_str()).collect();
        assert_eq!(ids, ["v1", "v2", "v3", "null"]);
        assert!(b.delete_version("k", "v2").is_some());
        for id in ["v1", "v3", "null"] {
            assert_eq!(b.version("k", id).map(|v| v.version_id.as_str()), Some(id));
        }
        assert_eq!(b.objects["k"].position("null"), Some(2));
        assert!(b.version("k", "v2").is_none());
    }
}
