//! Replication between two remote S3 endpoints through the SDK, driven by the spec's rules: what
//! lets LocalStack (which rejects cross-account rules) or two single-account emulators replicate.
//!
//! The bridge is deterministic: nothing runs in the background. [`Bridge::sync_until_idle`] lists
//! the source bucket's versions and delete markers, copies every new eligible one, and returns
//! when a pass finds nothing left to do. What it reproduces (semantics doc sections in brackets):
//! - only versions written after the rule was applied [§3], snapshotted by [`Bridge::snapshot`];
//! - rule choice: enabled, prefix and every tag of the filter [§9], SSE-KMS only with the opt-in
//!   [§2], the highest `Priority` wins among overlapping rules [§9];
//! - bytes, content type and the other standard headers, user metadata, tags, storage class (the
//!   rule's, else the source's) [§2, §9];
//! - delete markers only with delete-marker replication, never through a tag filter [§2];
//!   deletes that name a version are never replicated [§3];
//! - later tag changes of replicated versions [§2], not making an ineligible version eligible [§3];
//! - `DstBucketUnversioned` / `DstBucketNotFound` / `Dst*NotPermitted` as failures [§6], final as
//!   AWS's FAILED is [§4].
//!
//! What it cannot reproduce, and the backends say so in their capabilities: replicas get new version
//! ids (PutObject cannot choose one), no `x-amz-replication-status`, the replication role and the
//! bucket policy are not evaluated (the bridge writes as the destination account, so replicas are
//! always owned by it, also for rules without owner override).

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, ServerSideEncryption, StorageClass, Tag, Tagging};
use xrepl_provisioner::{RuleSpec, Spec};

use crate::{FailureView, HarnessError};

/// One side of a bridge: a client for the account that owns `bucket`, at that account's endpoint.
#[derive(Debug, Clone)]
pub struct BucketRef {
    /// An S3 client of the account that owns the bucket.
    pub client: aws_sdk_s3::Client,
    /// The bucket's name.
    pub bucket: String,
}

/// What one pass (or a whole [`Bridge::sync_until_idle`]) did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    /// Object versions copied.
    pub objects: usize,
    /// Delete markers replicated.
    pub delete_markers: usize,
    /// Tag sets pushed to existing replicas.
    pub tag_updates: usize,
    /// Versions that failed for good (see [`Bridge::failures`]).
    pub failed: usize,
    /// New versions no rule selected.
    pub ineligible: usize,
}

impl SyncReport {
    fn did_work(&self) -> bool {
        self.objects + self.delete_markers + self.tag_updates + self.failed + self.ineligible > 0
    }

    fn add(&mut self, other: SyncReport) {
        self.objects += other.objects;
        self.delete_markers += other.delete_markers;
        self.tag_updates += other.tag_updates;
        self.failed += other.failed;
        self.ineligible += other.ineligible;
    }
}

type Tags = Vec<(String, String)>;
/// (key, version id) of a source version or delete marker.
type VersionKey = (String, String);

#[derive(Debug, Clone)]
struct Replica {
    destination_version_id: String,
    /// The tag set last sent, sorted.
    tags: Tags,
    kms: bool,
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<RuleSpec>,
    /// Source versions and markers already decided: existed before the rule, replicated,
    /// ineligible or failed. Never looked at again (except replicas, for tag changes).
    seen: HashSet<VersionKey>,
    replicas: BTreeMap<VersionKey, Replica>,
    /// Source delete marker → destination delete marker.
    markers: BTreeMap<VersionKey, String>,
    failures: Vec<FailureView>,
}

#[derive(Debug, Clone)]
struct Entry {
    key: String,
    version_id: String,
    is_latest: bool,
    marker: bool,
    /// (seconds, nanoseconds) of LastModified.
    modified: (i64, u32),
    /// Position in its list (S3 lists a key's versions newest first).
    index: usize,
}

/// Replication from one source bucket to one destination bucket over two S3 endpoints.
pub struct Bridge {
    source: BucketRef,
    destination: BucketRef,
    state: tokio::sync::Mutex<State>,
}

/// How many passes [`Bridge::sync_until_idle`] makes before deciding someone keeps writing.
const MAX_PASSES: usize = 16;

impl Bridge {
    /// A bridge that replicates `source` into `destination` by `rules` (the spec's rules).
    pub fn new(rules: Vec<RuleSpec>, source: BucketRef, destination: BucketRef) -> Self {
        Self { source, destination, state: tokio::sync::Mutex::new(State { rules, ..State::default() }) }
    }

    /// A bridge for the spec's buckets and rules.
    pub fn from_spec(spec: &Spec, source: aws_sdk_s3::Client, destination: aws_sdk_s3::Client) -> Self {
        Self::new(
            spec.rules.clone(),
            BucketRef { client: source, bucket: spec.source.bucket.clone() },
            BucketRef { client: destination, bucket: spec.destination.bucket.clone() },
        )
    }

    /// The source bucket's name.
    pub fn source_bucket(&self) -> &str {
        &self.source.bucket
    }

    /// The destination bucket's name.
    pub fn destination_bucket(&self) -> &str {
        &self.destination.bucket
    }

    /// Replaces the rules (as a new PutBucketReplication would).
    pub async fn set_rules(&self, rules: Vec<RuleSpec>) {
        self.state.lock().await.rules = rules;
    }

    /// Marks every version now in the source bucket as existing before the rule: live
    /// replication never copies those (only Batch Replication does, §3). Returns how many.
    pub async fn snapshot(&self) -> Result<usize, HarnessError> {
        let entries = self.list_source().await?;
        let mut state = self.state.lock().await;
        let before = state.seen.len();
        state.seen.extend(entries.into_iter().map(|e| (e.key, e.version_id)));
        Ok(state.seen.len() - before)
    }

    /// Replicates until a pass finds nothing new. Deterministic: no sleeps, no background work.
    pub async fn sync_until_idle(&self) -> Result<SyncReport, HarnessError> {
        let mut total = SyncReport::default();
        for _ in 0..MAX_PASSES {
            let pass = self.sync_once().await?;
            if !pass.did_work() {
                return Ok(total);
            }
            total.add(pass);
        }
        Err(HarnessError::Other(format!(
            "bridge s3://{} -> s3://{} still found new work after {MAX_PASSES} passes: is something writing to the source bucket?",
            self.source.bucket, self.destination.bucket
        )))
    }

    /// One pass: new versions and delete markers in write order, then tag changes of replicas.
    pub async fn sync_once(&self) -> Result<SyncReport, HarnessError> {
        let entries = self.list_source().await?;
        let mut state = self.state.lock().await;
        let mut report = SyncReport::default();
        let mut destination_ok: Option<Result<(), (&'static str, String)>> = None;
        let mut fresh: HashSet<VersionKey> = HashSet::new();
        for entry in &entries {
            let id = (entry.key.clone(), entry.version_id.clone());
            if state.seen.contains(&id) {
                continue;
            }
            let outcome = if entry.marker {
                self.replicate_marker(&mut state, entry, &mut destination_ok).await?
            } else {
                self.replicate_version(&mut state, entry, &mut destination_ok).await?
            };
            match outcome {
                Outcome::Done => {
                    if entry.marker {
                        report.delete_markers += 1;
                    } else {
                        report.objects += 1;
                    }
                    fresh.insert(id.clone());
                }
                Outcome::Ineligible => report.ineligible += 1,
                Outcome::Failed => report.failed += 1,
            }
            state.seen.insert(id);
        }
        let listed: HashSet<VersionKey> = entries.iter().filter(|e| !e.marker).map(|e| (e.key.clone(), e.version_id.clone())).collect();
        let replicas: Vec<(VersionKey, Replica)> = state
            .replicas
            .iter()
            .filter(|(k, _)| listed.contains(*k) && !fresh.contains(*k))
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect();
        for ((key, version_id), replica) in replicas {
            if self.replicate_tags(&mut state, &key, &version_id, &replica).await? {
                report.tag_updates += 1;
            }
        }
        Ok(report)
    }

    /// The destination version id the bridge gave the replica of a source version or marker.
    pub async fn destination_version(&self, key: &str, source_version_id: &str) -> Option<String> {
        let state = self.state.lock().await;
        let id = (key.to_owned(), source_version_id.to_owned());
        state.replicas.get(&id).map(|r| r.destination_version_id.clone()).or_else(|| state.markers.get(&id).cloned())
    }

    /// Failures recorded so far, as the harness shows them.
    pub async fn failures(&self) -> Vec<FailureView> {
        self.state.lock().await.failures.clone()
    }

    async fn list_source(&self) -> Result<Vec<Entry>, HarnessError> {
        let mut entries = Vec::new();
        let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let page = self
                .source
                .client
                .list_object_versions()
                .bucket(&self.source.bucket)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| HarnessError::aws("ListObjectVersions", &e))?;
            for v in page.versions() {
                if let (Some(key), Some(version_id)) = (v.key(), v.version_id()) {
                    let index = entries.len();
                    entries.push(Entry {
                        key: key.to_owned(),
                        version_id: version_id.to_owned(),
                        is_latest: v.is_latest() == Some(true),
                        marker: false,
                        modified: v.last_modified().map_or((0, 0), |t| (t.secs(), t.subsec_nanos())),
                        index,
                    });
                }
            }
            for m in page.delete_markers() {
                if let (Some(key), Some(version_id)) = (m.key(), m.version_id()) {
                    let index = entries.len();
                    entries.push(Entry {
                        key: key.to_owned(),
                        version_id: version_id.to_owned(),
                        is_latest: m.is_latest() == Some(true),
                        marker: true,
                        modified: m.last_modified().map_or((0, 0), |t| (t.secs(), t.subsec_nanos())),
                        index,
                    });
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
            if key_marker.is_none() && version_marker.is_none() {
                break;
            }
        }
        // Write order per key, so the destination's latest version is the source's latest. The
        // SDK returns versions and markers as two lists; within each a key is newest first, so
        // ties in LastModified fall back to list position, and the latest always goes last.
        entries.sort_by(|a, b| {
            a.key
                .cmp(&b.key)
                .then(a.is_latest.cmp(&b.is_latest))
                .then(a.modified.cmp(&b.modified))
                .then(a.marker.cmp(&b.marker))
                .then(b.index.cmp(&a.index))
        });
        Ok(entries)
    }

    /// Whether the destination can take replicas now (checked once per pass, §6).
    async fn destination_ready(
        &self,
        cache: &mut Option<Result<(), (&'static str, String)>>,
    ) -> Result<Result<(), (&'static str, String)>, HarnessError> {
        if let Some(known) = cache {
            return Ok(known.clone());
        }
        let got = self.destination.client.get_bucket_versioning().bucket(&self.destination.bucket).send().await;
        let verdict = match got {
            Ok(out) if out.status() == Some(&BucketVersioningStatus::Enabled) => Ok(()),
            Ok(out) => Err((
                "DstBucketUnversioned",
                format!(
                    "the destination bucket {} has versioning {}; replication needs it Enabled",
                    self.destination.bucket,
                    out.status().map_or("never enabled", |s| s.as_str())
                ),
            )),
            Err(e) if error_code(&e) == Some("NoSuchBucket") => {
                Err(("DstBucketNotFound", format!("the destination bucket {} does not exist", self.destination.bucket)))
            }
            Err(e) => return Err(HarnessError::aws("GetBucketVersioning (destination)", &e)),
        };
        *cache = Some(verdict.clone());
        Ok(verdict)
    }

    async fn replicate_version(
        &self,
        state: &mut State,
        entry: &Entry,
        destination_ok: &mut Option<Result<(), (&'static str, String)>>,
    ) -> Result<Outcome, HarnessError> {
        let Some(tags) = self.source_tags(&entry.key, &entry.version_id).await? else {
            return Ok(Outcome::Ineligible); // deleted for good in the meantime
        };
        let got = self.source.client.get_object().bucket(&self.source.bucket).key(&entry.key).version_id(&entry.version_id).send().await;
        let object = match got {
            Ok(o) => o,
            Err(e) if matches!(error_code(&e), Some("NoSuchKey" | "NoSuchVersion")) => return Ok(Outcome::Ineligible),
            Err(e) => return Err(HarnessError::aws("GetObject (source)", &e)),
        };
        let kms = object.server_side_encryption() == Some(&ServerSideEncryption::AwsKms);
        let Some(rule) = select_rule(&state.rules, &entry.key, &tags, kms, false).cloned() else {
            return Ok(Outcome::Ineligible);
        };
        if let Err((reason, why)) = self.destination_ready(destination_ok).await? {
            self.fail(state, entry, &rule.id, "PutObject", reason, why);
            return Ok(Outcome::Failed);
        }
        let put = self.replica_put(&entry.key, &object, &rule, &tags, kms);
        let body = object
            .body
            .collect()
            .await
            .map_err(|e| HarnessError::Other(format!("reading s3://{}/{}: {e}", self.source.bucket, entry.key)))?;
        let put = put.body(ByteStream::from(body.into_bytes())).send().await;
        match put {
            Ok(out) => {
                let destination_version_id = out.version_id().unwrap_or("null").to_owned();
                state.replicas.insert((entry.key.clone(), entry.version_id.clone()), Replica { destination_version_id, tags, kms });
                Ok(Outcome::Done)
            }
            Err(e) => match error_code(&e) {
                Some("AccessDenied") => {
                    let why = format!("the destination refused PutObject: {}", e.message().unwrap_or("Access Denied"));
                    self.fail(state, entry, &rule.id, "PutObject", "DstPutObjectNotPermitted", why);
                    Ok(Outcome::Failed)
                }
                Some("NoSuchBucket") => {
                    let why = format!("the destination bucket {} does not exist", self.destination.bucket);
                    self.fail(state, entry, &rule.id, "PutObject", "DstBucketNotFound", why);
                    Ok(Outcome::Failed)
                }
                _ => Err(HarnessError::aws("PutObject (destination)", &e)),
            },
        }
    }

    /// The PutObject of a replica of `object`: its headers and metadata, the rule's storage class
    /// (else the source's), SSE as the source's (SSE-KMS with the rule's replica key), its tags.
    fn replica_put(&self, key: &str, object: &GetObjectOutput, rule: &RuleSpec, tags: &Tags, kms: bool) -> PutObjectFluentBuilder {
        let storage_class = rule
            .storage_class
            .as_deref()
            .map(StorageClass::from)
            .or_else(|| object.storage_class().filter(|c| **c != StorageClass::Standard).cloned());
        let sse = if kms {
            Some(ServerSideEncryption::AwsKms)
        } else {
            object.server_side_encryption().filter(|s| **s == ServerSideEncryption::Aes256).cloned()
        };
        let mut put = self
            .destination
            .client
            .put_object()
            .bucket(&self.destination.bucket)
            .key(key)
            .set_content_type(object.content_type().map(str::to_owned))
            .set_cache_control(object.cache_control().map(str::to_owned))
            .set_content_disposition(object.content_disposition().map(str::to_owned))
            .set_content_encoding(object.content_encoding().map(str::to_owned))
            .set_content_language(object.content_language().map(str::to_owned))
            .set_metadata(object.metadata().cloned())
            .set_storage_class(storage_class)
            .set_server_side_encryption(sse);
        if kms {
            put = put.set_ssekms_key_id(rule.replica_kms_key_id.clone());
        }
        if !tags.is_empty() {
            put = put.tagging(encode_tags(tags));
        }
        put
    }

    async fn replicate_marker(
        &self,
        state: &mut State,
        entry: &Entry,
        destination_ok: &mut Option<Result<(), (&'static str, String)>>,
    ) -> Result<Outcome, HarnessError> {
        let Some(rule) = select_rule(&state.rules, &entry.key, &[], false, true).cloned() else {
            return Ok(Outcome::Ineligible);
        };
        if let Err((reason, why)) = self.destination_ready(destination_ok).await? {
            self.fail(state, entry, &rule.id, "DeleteMarker", reason, why);
            return Ok(Outcome::Failed);
        }
        // No version id: the destination creates its own delete marker, as S3 does for a replica.
        match self.destination.client.delete_object().bucket(&self.destination.bucket).key(&entry.key).send().await {
            Ok(out) => {
                state.markers.insert((entry.key.clone(), entry.version_id.clone()), out.version_id().unwrap_or("null").to_owned());
                Ok(Outcome::Done)
            }
            Err(e) if error_code(&e) == Some("AccessDenied") => {
                let why = format!("the destination refused DeleteObject: {}", e.message().unwrap_or("Access Denied"));
                self.fail(state, entry, &rule.id, "DeleteMarker", "DstDelObjNotPermitted", why);
                Ok(Outcome::Failed)
            }
            Err(e) => Err(HarnessError::aws("DeleteObject (destination)", &e)),
        }
    }

    /// Pushes a changed tag set to the replica; true when something was sent. A denied push is
    /// recorded as `DstPutTaggingNotPermitted` once and not retried.
    async fn replicate_tags(&self, state: &mut State, key: &str, version_id: &str, replica: &Replica) -> Result<bool, HarnessError> {
        let Some(tags) = self.source_tags(key, version_id).await? else { return Ok(false) };
        if tags == replica.tags {
            return Ok(false);
        }
        // The change flows only while a rule still selects the version with its new tags.
        let Some(rule_id) = select_rule(&state.rules, key, &tags, replica.kms, false).map(|r| r.id.clone()) else {
            return Ok(false);
        };
        let dst = &self.destination;
        let dst_version = &replica.destination_version_id;
        let sent = if tags.is_empty() {
            dst.client.delete_object_tagging().bucket(&dst.bucket).key(key).version_id(dst_version).send().await.map(|_| ()).map_err(|e| {
                let code = error_code(&e).map(str::to_owned);
                (code, HarnessError::aws("DeleteObjectTagging (destination)", &e))
            })
        } else {
            let set = tags
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| HarnessError::Other(e.to_string()))?;
            let tagging = Tagging::builder().set_tag_set(Some(set)).build().map_err(|e| HarnessError::Other(e.to_string()))?;
            dst.client
                .put_object_tagging()
                .bucket(&dst.bucket)
                .key(key)
                .version_id(dst_version)
                .tagging(tagging)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    let code = error_code(&e).map(str::to_owned);
                    (code, HarnessError::aws("PutObjectTagging (destination)", &e))
                })
        };
        let pushed = match sent {
            Ok(()) => true,
            Err((Some(code), _)) if code == "AccessDenied" => {
                let entry = Entry {
                    key: key.to_owned(),
                    version_id: version_id.to_owned(),
                    is_latest: false,
                    marker: false,
                    modified: (0, 0),
                    index: 0,
                };
                self.fail(
                    state,
                    &entry,
                    &rule_id,
                    "PutObjectTagging",
                    "DstPutTaggingNotPermitted",
                    "the destination refused the tag change".to_owned(),
                );
                false
            }
            Err((_, e)) => return Err(e),
        };
        if let Some(r) = state.replicas.get_mut(&(key.to_owned(), version_id.to_owned())) {
            r.tags = tags;
        }
        Ok(pushed)
    }

    /// The version's tags, sorted; None when the version is gone.
    async fn source_tags(&self, key: &str, version_id: &str) -> Result<Option<Tags>, HarnessError> {
        let got = self.source.client.get_object_tagging().bucket(&self.source.bucket).key(key).version_id(version_id).send().await;
        match got {
            Ok(out) => {
                let mut tags: Tags = out.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
                tags.sort();
                Ok(Some(tags))
            }
            Err(e) if matches!(error_code(&e), Some("NoSuchKey" | "NoSuchVersion")) => Ok(None),
            Err(e) => Err(HarnessError::aws("GetObjectTagging (source)", &e)),
        }
    }

    fn fail(&self, state: &mut State, entry: &Entry, rule_id: &str, operation: &str, reason: &str, why: String) {
        let explanation = format!(
            "replication of s3://{}/{} (version {}) to {} failed with {reason} (rule {rule_id}): {why}",
            self.source.bucket, entry.key, entry.version_id, self.destination.bucket
        );
        tracing::warn!("{explanation}");
        state.failures.push(FailureView {
            key: entry.key.clone(),
            version_id: entry.version_id.clone(),
            rule_id: rule_id.to_owned(),
            destination_bucket: self.destination.bucket.clone(),
            operation: operation.to_owned(),
            reason: reason.to_owned(),
            explanation,
            fix: None,
        });
    }
}

enum Outcome {
    Done,
    Ineligible,
    Failed,
}

fn error_code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.code()
}

/// `k=v&k2=v2`, URL-encoded, as the `x-amz-tagging` header wants it.
fn encode_tags(tags: &[(String, String)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in tags {
        out.append_pair(k, v);
    }
    out.finish()
}

/// The rule that replicates a change to the destination, AWS's way:
/// enabled; filter prefix and every filter tag match (§9: Prefix, Tag or And); SSE-KMS objects
/// only with `replicate_kms_objects` (§2); delete markers only with delete-marker replication,
/// and a tag filter never matches one (markers have no tags, §2); of overlapping rules the
/// highest `Priority` wins (§9). Tags are the ones the version had when the bridge first saw it.
pub fn select_rule<'r>(
    rules: &'r [RuleSpec],
    key: &str,
    tags: &[(String, String)],
    kms: bool,
    delete_marker: bool,
) -> Option<&'r RuleSpec> {
    let tag_map: HashMap<&str, &str> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    rules
        .iter()
        .filter(|r| r.enabled)
        .filter(|r| key.starts_with(r.prefix_str()))
        .filter(|r| r.tags.iter().all(|(k, v)| !delete_marker && tag_map.get(k.as_str()) == Some(&v.as_str())))
        .filter(|r| !kms || r.replicate_kms_objects)
        .filter(|r| !delete_marker || r.delete_marker_replication)
        .max_by_key(|r| r.priority)
}

/// The bridges of a backend: one per (source bucket, destination bucket) the harness applied.
#[derive(Default)]
pub struct Bridges {
    bridges: tokio::sync::Mutex<Vec<Bridge>>,
}

impl Bridges {
    /// Starts (or re-rules) the bridge for the spec's buckets. A re-applied spec first finishes
    /// what its old rules owe (those writes happened while they were in force), then snapshots.
    pub async fn on_applied(&self, spec: &Spec, source: aws_sdk_s3::Client, destination: aws_sdk_s3::Client) -> Result<(), HarnessError> {
        let mut bridges = self.bridges.lock().await;
        if let Some(existing) =
            bridges.iter().find(|b| b.source_bucket() == spec.source.bucket && b.destination_bucket() == spec.destination.bucket)
        {
            existing.sync_until_idle().await?;
            existing.set_rules(spec.rules.clone()).await;
            existing.snapshot().await?;
            return Ok(());
        }
        let bridge = Bridge::from_spec(spec, source, destination);
        bridge.snapshot().await?;
        bridges.push(bridge);
        Ok(())
    }

    /// Runs every bridge until none has work left; what they did, added up.
    pub async fn drain(&self) -> Result<SyncReport, HarnessError> {
        let bridges = self.bridges.lock().await;
        let mut total = SyncReport::default();
        for bridge in bridges.iter() {
            total.add(bridge.sync_until_idle().await?);
        }
        Ok(total)
    }

    /// Every bridge's recorded replication failures.
    pub async fn failures(&self) -> Vec<FailureView> {
        let bridges = self.bridges.lock().await;
        let mut all = Vec::new();
        for bridge in bridges.iter() {
            all.extend(bridge.failures().await);
        }
        all
    }

    /// The destination version id of the replica of `key@source_version_id`, in any bridge.
    pub async fn destination_version(&self, key: &str, source_version_id: &str) -> Option<String> {
        let bridges = self.bridges.lock().await;
        for bridge in bridges.iter() {
            if let Some(v) = bridge.destination_version(key, source_version_id).await {
                return Some(v);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, priority: i32) -> RuleSpec {
        RuleSpec::new(id, priority)
    }

    #[test]
    fn highest_priority_wins_among_matches() {
        let mut logs = rule("logs", 1);
        logs.prefix = Some("logs/".to_owned());
        let all = rule("all", 2);
        let rules = vec![logs, all];
        assert_eq!(select_rule(&rules, "logs/a", &[], false, false).map(|r| r.id.as_str()), Some("all"));
        assert_eq!(select_rule(&rules, "other", &[], false, false).map(|r| r.id.as_str()), Some("all"));
    }

    #[test]
    fn tag_filters_need_every_tag_and_never_match_markers() {
        let mut tagged = rule("tagged", 1);
        tagged.tags.insert("team".to_owned(), "a".to_owned());
        tagged.delete_marker_replication = true;
        let rules = vec![tagged];
        let a = vec![("team".to_owned(), "a".to_owned())];
        assert!(select_rule(&rules, "k", &a, false, false).is_some());
        assert!(select_rule(&rules, "k", &[], false, false).is_none());
        assert!(select_rule(&rules, "k", &[], false, true).is_none());
    }

    #[test]
    fn markers_need_delete_marker_replication_and_kms_needs_opt_in() {
        let mut r = rule("r", 1);
        let rules = vec![r.clone()];
        assert!(select_rule(&rules, "k", &[], false, true).is_none());
        assert!(select_rule(&rules, "k", &[], true, false).is_none());
        r.delete_marker_replication = true;
        r.replicate_kms_objects = true;
        let rules = vec![r];
        assert!(select_rule(&rules, "k", &[], false, true).is_some());
        assert!(select_rule(&rules, "k", &[], true, false).is_some());
    }

    #[test]
    fn disabled_rules_never_match() {
        let mut r = rule("r", 1);
        r.enabled = false;
        assert!(select_rule(&[r], "k", &[], false, false).is_none());
    }

    #[test]
    fn tags_are_url_encoded() {
        assert_eq!(encode_tags(&[("a b".to_owned(), "x&y".to_owned()), ("c".to_owned(), "=".to_owned())]), "a+b=x%26y&c=%3D");
    }
}
