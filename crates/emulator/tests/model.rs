//! Model-based property test of replication (semantics doc §2–§4, §7): proptest generates
//! sequences of puts, overwrites, tag changes, deletes, versioned deletes and configuration/policy
//! changes; after each step the engine is drained, and at the end both accounts' buckets
//! (versions, delete markers, bytes, tags, statuses, owners) must equal a pure model.
//! Cases: `XREPL_MODEL_CASES` (default 1000).

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AccessControlTranslation, DeleteMarkerReplication, DeleteMarkerReplicationStatus, Destination, OwnerOverride, ReplicationConfiguration,
    ReplicationRule, ReplicationRuleFilter, ReplicationRuleStatus,
};
use proptest::prelude::*;
use xrepl_emulator::{Emulator, EmulatorConfig};

use common::{A, B};

const ROLE: &str = "model-replication";
const KEYS: [&str; 3] = ["a", "b", "dir/c"];

#[derive(Debug, Clone)]
enum Op {
    Put {
        key: usize,
        data: u8,
        tag: Option<u8>,
    },
    Tag {
        key: usize,
        tag: u8,
    },
    Delete {
        key: usize,
    },
    /// Deletes the n-th (mod count) version of the key for good.
    DeleteVersion {
        key: usize,
        nth: usize,
    },
    /// Replaces the replication configuration with delete-marker replication on or off.
    DeleteMarkers(bool),
    /// Rewrites the destination bucket policy with or without s3:ReplicateObject.
    PolicyAllowsWrites(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..KEYS.len(), any::<u8>(), proptest::option::of(0u8..3)).prop_map(|(key, data, tag)| Op::Put { key, data, tag }),
        2 => (0..KEYS.len(), 0u8..3).prop_map(|(key, tag)| Op::Tag { key, tag }),
        2 => (0..KEYS.len()).prop_map(|key| Op::Delete { key }),
        1 => (0..KEYS.len(), 0usize..4).prop_map(|(key, nth)| Op::DeleteVersion { key, nth }),
        1 => any::<bool>().prop_map(Op::DeleteMarkers),
        1 => any::<bool>().prop_map(Op::PolicyAllowsWrites),
    ]
}

/// One version as both the model and the emulator describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    marker: bool,
    data: Vec<u8>,
    tags: Vec<(String, String)>,
    /// Source: PENDING/COMPLETED/FAILED or None; destination: REPLICA; markers: None.
    status: Option<String>,
    owner: String,
}

/// A bucket as a comparable value: per key, versions by id and which one is the latest.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Bucket {
    keys: BTreeMap<String, (BTreeMap<String, Version>, String)>,
}

/// Model buckets keep versions in order (oldest first), as S3 does.
#[derive(Debug, Default, Clone)]
struct ModelBucket {
    keys: BTreeMap<String, Vec<(String, Version)>>,
}

impl ModelBucket {
    fn latest(&self, key: &str) -> Option<&(String, Version)> {
        self.keys.get(key).and_then(|v| v.last())
    }
    fn latest_mut(&mut self, key: &str) -> Option<&mut (String, Version)> {
        self.keys.get_mut(key).and_then(|v| v.last_mut())
    }
    fn push(&mut self, key: &str, id: String, v: Version) {
        self.keys.entry(key.to_owned()).or_default().push((id, v));
    }
    fn find_mut(&mut self, key: &str, id: &str) -> Option<&mut Version> {
        self.keys.get_mut(key).and_then(|vs| vs.iter_mut().find(|(i, _)| i == id)).map(|(_, v)| v)
    }
    fn comparable(&self) -> Bucket {
        let mut out = Bucket::default();
        for (key, versions) in &self.keys {
            if let Some((latest, _)) = versions.last() {
                out.keys.insert(key.clone(), (versions.iter().cloned().collect(), latest.clone()));
            }
        }
        out
    }
}

fn tags_of(tag: Option<u8>) -> Vec<(String, String)> {
    tag.map(|t| vec![("t".to_owned(), t.to_string())]).unwrap_or_default()
}

struct World {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    a: aws_sdk_s3::Client,
    b: aws_sdk_s3::Client,
    owners: BTreeMap<String, String>,
}

/// One emulator and one set of clients for all cases; each case gets its own buckets.
fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let (emulator, a, b) = runtime.block_on(async {
            let emulator = Emulator::start(EmulatorConfig::with_accounts(&[A, B])).await.expect("emulator");
            let endpoint = emulator.endpoint();
            let s3 = |config: aws_config::SdkConfig| aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
            let a = s3(common::sdk_config(&endpoint, A, "test", None).await);
            let b = s3(common::sdk_config(&endpoint, B, "test", None).await);
            let iam = aws_sdk_iam::Client::new(&common::sdk_config(&endpoint, A, "test", None).await);
            iam.create_role()
                .role_name(ROLE)
                .assume_role_policy_document(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
                )
                .send()
                .await
                .expect("role");
            iam.put_role_policy()
                .role_name(ROLE)
                .policy_name("all")
                .policy_document(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Replicate*","s3:ObjectOwnerOverrideToBucketOwner"],"Resource":"*"}]}"#,
                )
                .send()
                .await
                .expect("role policy");
            (emulator, a, b)
        });
        let owners = emulator.accounts().into_iter().map(|a| (a.canonical_id, a.account_id)).collect();
        World { runtime, emulator, a, b, owners }
    })
}

fn role_arn() -> String {
    format!("arn:aws:iam::{A}:role/{ROLE}")
}

async fn configure(w: &World, src: &str, dst: &str, delete_markers: bool) {
    let dmr = if delete_markers { DeleteMarkerReplicationStatus::Enabled } else { DeleteMarkerReplicationStatus::Disabled };
    let rule = ReplicationRule::builder()
        .id("model")
        .priority(1)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().build())
        .delete_marker_replication(DeleteMarkerReplication::builder().status(dmr).build())
        .destination(
            Destination::builder()
                .bucket(format!("arn:aws:s3:::{dst}"))
                .account(B)
                .access_control_translation(AccessControlTranslation::builder().owner(OwnerOverride::Destination).build().expect("act"))
                .build()
                .expect("destination"),
        )
        .build()
        .expect("rule");
    w.a.put_bucket_replication()
        .bucket(src)
        .replication_configuration(ReplicationConfiguration::builder().role(role_arn()).rules(rule).build().expect("config"))
        .send()
        .await
        .expect("put replication");
}

async fn set_policy(w: &World, dst: &str, allows_writes: bool) {
    let mut actions = vec!["s3:ReplicateDelete", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"];
    if allows_writes {
        actions.push("s3:ReplicateObject");
    }
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": role_arn()}, "Action": actions, "Resource": format!("arn:aws:s3:::{dst}/*")}]});
    w.b.put_bucket_policy().bucket(dst).policy(policy.to_string()).send().await.expect("bucket policy");
}

/// Reads a bucket back through the SDK.
async fn observe(w: &World, s3: &aws_sdk_s3::Client, bucket: &str) -> Bucket {
    let listed = s3.list_object_versions().bucket(bucket).send().await.expect("list versions");
    let owner_of =
        |o: Option<&aws_sdk_s3::types::Owner>| w.owners.get(o.and_then(|o| o.id()).unwrap_or_default()).cloned().unwrap_or_default();
    let mut out = Bucket::default();
    for v in listed.versions() {
        let (key, id) = (v.key().unwrap_or_default().to_owned(), v.version_id().unwrap_or_default().to_owned());
        let got = s3.get_object().bucket(bucket).key(&key).version_id(&id).send().await.expect("get version");
        let status = got.replication_status().map(|s| s.as_str().to_owned());
        let data = got.body.collect().await.expect("body").into_bytes().to_vec();
        let tags = s3.get_object_tagging().bucket(bucket).key(&key).version_id(&id).send().await.expect("tags");
        let tags = tags.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
        let entry = out.keys.entry(key).or_default();
        if v.is_latest() == Some(true) {
            entry.1 = id.clone();
        }
        entry.0.insert(id, Version { marker: false, data, tags, status, owner: owner_of(v.owner()) });
    }
    for m in listed.delete_markers() {
        let (key, id) = (m.key().unwrap_or_default().to_owned(), m.version_id().unwrap_or_default().to_owned());
        let entry = out.keys.entry(key).or_default();
        if m.is_latest() == Some(true) {
            entry.1 = id.clone();
        }
        entry.0.insert(id, Version { marker: true, data: Vec::new(), tags: Vec::new(), status: None, owner: owner_of(m.owner()) });
    }
    out
}

/// Runs one generated sequence against the emulator and the model; returns both sides.
async fn run_case(w: &World, case: usize, ops: &[Op]) -> ((Bucket, Bucket), (Bucket, Bucket)) {
    let (src, dst) = (format!("model-src-{case}"), format!("model-dst-{case}"));
    common::versioned_bucket(&w.a, &src).await;
    common::versioned_bucket(&w.b, &dst).await;
    set_policy(w, &dst, true).await;
    configure(w, &src, &dst, true).await;
    let (mut msrc, mut mdst) = (ModelBucket::default(), ModelBucket::default());
    let (mut delete_markers, mut allows_writes) = (true, true);
    for op in ops {
        match op {
            Op::Put { key, data, tag } => {
                let key = KEYS[*key];
                let out =
                    w.a.put_object()
                        .bucket(&src)
                        .key(key)
                        .set_tagging(tag.map(|t| format!("t={t}")))
                        .body(ByteStream::from(vec![*data]))
                        .send()
                        .await
                        .expect("put");
                let id = out.version_id().expect("id").to_owned();
                let tags = tags_of(*tag);
                // §4/§5: the write is checked when processed; a missing permission is final.
                let status = if allows_writes { "COMPLETED" } else { "FAILED" };
                msrc.push(
                    key,
                    id.clone(),
                    Version { marker: false, data: vec![*data], tags: tags.clone(), status: Some(status.to_owned()), owner: A.to_owned() },
                );
                if allows_writes {
                    // §2/§7: same version id, bytes, tags; REPLICA; owned by B (override).
                    mdst.push(
                        key,
                        id,
                        Version { marker: false, data: vec![*data], tags, status: Some("REPLICA".to_owned()), owner: B.to_owned() },
                    );
                }
            }
            Op::Tag { key, tag } => {
                let key = KEYS[*key];
                let Some((id, latest)) = msrc.latest(key).cloned() else { continue };
                if latest.marker {
                    continue; // tagging a delete marker is 405 in S3; the model skips it
                }
                let tagging = aws_sdk_s3::types::Tagging::builder()
                    .tag_set(aws_sdk_s3::types::Tag::builder().key("t").value(tag.to_string()).build().expect("tag"))
                    .build()
                    .expect("tagging");
                w.a.put_object_tagging().bucket(&src).key(key).tagging(tagging).send().await.expect("tag");
                let tags = tags_of(Some(*tag));
                if let Some((_, v)) = msrc.latest_mut(key) {
                    v.tags = tags.clone();
                }
                // §2: later tag changes reach replicas that exist.
                if latest.status.as_deref() == Some("COMPLETED") {
                    if let Some(r) = mdst.find_mut(key, &id) {
                        r.tags = tags;
                    }
                }
            }
            Op::Delete { key } => {
                let key = KEYS[*key];
                let out = w.a.delete_object().bucket(&src).key(key).send().await.expect("delete");
                let id = out.version_id().expect("marker id").to_owned();
                msrc.push(key, id.clone(), Version { marker: true, data: Vec::new(), tags: Vec::new(), status: None, owner: A.to_owned() });
                // §2: markers replicate with DeleteMarkerReplication (s3:ReplicateDelete stays allowed).
                if delete_markers {
                    mdst.push(key, id, Version { marker: true, data: Vec::new(), tags: Vec::new(), status: None, owner: B.to_owned() });
                }
            }
            Op::DeleteVersion { key, nth } => {
                let key = KEYS[*key];
                let Some(versions) = msrc.keys.get_mut(key) else { continue };
                if versions.is_empty() {
                    continue;
                }
                let (id, _) = versions.remove(nth % versions.len());
                if versions.is_empty() {
                    msrc.keys.remove(key);
                }
                w.a.delete_object().bucket(&src).key(key).version_id(&id).send().await.expect("versioned delete");
                // §3: never replicated.
            }
            Op::DeleteMarkers(on) => {
                configure(w, &src, &dst, *on).await;
                delete_markers = *on;
            }
            Op::PolicyAllowsWrites(on) => {
                set_policy(w, &dst, *on).await;
                allows_writes = *on;
            }
        }
        w.emulator.drain().await;
    }
    let observed = (observe(w, &w.a, &src).await, observe(w, &w.b, &dst).await);
    (observed, (msrc.comparable(), mdst.comparable()))
}

static CASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("XREPL_MODEL_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1000),
        ..ProptestConfig::default()
    })]
    #[test]
    fn engine_matches_model(ops in proptest::collection::vec(op(), 1..10)) {
        let w = world();
        let case = CASE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let ((src, dst), (model_src, model_dst)) = w.runtime.block_on(run_case(w, case, &ops));
        prop_assert_eq!(src, model_src, "source bucket diverged from the model after {:?}", ops);
        prop_assert_eq!(dst, model_dst, "destination bucket diverged from the model after {:?}", ops);
    }
}
