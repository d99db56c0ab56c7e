//! A bounded load test (not a timing test): concurrent clients run mixed operations against a
//! served emulator with the guide's replication, then the outcome is checked: no 5xx, every
//! surviving source version replicated exactly once under its version id, every surviving
//! delete marker replicated, and nothing in the destination that the source never acknowledged.
//!
//! Size: XREPL_LOAD_CLIENTS (default 16) x XREPL_LOAD_OPS (default 2000); `.ci/run` runs the
//! full size: `cargo test -p xrepl-cli --test load -- --ignored`.

mod served;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use served::{s3, A, B, DST, SRC};
use xrepl_emulator::server::admin_client;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A tiny deterministic generator (each client its own seed), so a failing run can be repeated.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        usize::try_from((self.0 >> 33) % below as u64).unwrap_or(0)
    }
}

/// A failed call is fine (a tag on a deleted key is NoSuchKey), a server error is not.
fn check<T, E: ProvideErrorMetadata + std::fmt::Debug, R>(
    result: &Result<T, aws_sdk_s3::error::SdkError<E, R>>,
    what: &str,
) -> Result<(), String>
where
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(()),
        Err(aws_sdk_s3::error::SdkError::ServiceError(e)) => {
            let code = e.err().code().unwrap_or("");
            if matches!(code, "InternalError" | "ServiceUnavailable" | "SlowDown") {
                Err(format!("{what}: server error {code}"))
            } else {
                Ok(())
            }
        }
        Err(e) => Err(format!("{what}: {e:?}")),
    }
}

/// What one client wrote and the server acknowledged.
#[derive(Default)]
struct Acked {
    versions: BTreeSet<String>,
    markers: BTreeSet<String>,
}

async fn client_run(client: aws_sdk_s3::Client, id: usize, ops: usize) -> Result<Acked, String> {
    let mut rng = Lcg(id as u64 + 1);
    let mut acked = Acked::default();
    let mut known: Vec<(String, String)> = Vec::new();
    for op in 0..ops {
        let key = format!("c{id}/k{}", rng.next(50));
        match rng.next(100) {
            0..=39 => {
                let r = client.put_object().bucket(SRC).key(&key).body(ByteStream::from(format!("{id}-{op}").into_bytes())).send().await;
                check(&r, "PutObject")?;
                if let Ok(out) = r {
                    let vid = out.version_id().unwrap_or_default().to_owned();
                    acked.versions.insert(vid.clone());
                    known.push((key, vid));
                }
            }
            40..=54 => {
                let tag = aws_sdk_s3::types::Tag::builder().key("op").value(op.to_string()).build().map_err(|e| e.to_string())?;
                let tagging = aws_sdk_s3::types::Tagging::builder().tag_set(tag).build().map_err(|e| e.to_string())?;
                check(&client.put_object_tagging().bucket(SRC).key(&key).tagging(tagging).send().await, "PutObjectTagging")?;
            }
            55..=69 => {
                let r = client.delete_object().bucket(SRC).key(&key).send().await;
                check(&r, "DeleteObject")?;
                if let Some(vid) = r.ok().and_then(|o| o.version_id().map(str::to_owned)) {
                    acked.markers.insert(vid);
                }
            }
            70..=79 if !known.is_empty() => {
                let (key, vid) = known.swap_remove(rng.next(known.len()));
                check(&client.delete_object().bucket(SRC).key(&key).version_id(&vid).send().await, "DeleteObject(version)")?;
            }
            _ => {
                check(&client.list_objects_v2().bucket(SRC).prefix(format!("c{id}/")).send().await, "ListObjectsV2")?;
            }
        }
    }
    Ok(acked)
}

/// Every version and delete marker of a bucket: (key, version id) -> (is marker, replication status).
async fn all_versions(client: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<(String, String), (bool, Option<String>)> {
    let mut out = BTreeMap::new();
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = client
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .expect("list versions");
        for v in page.versions() {
            out.insert((v.key().unwrap_or_default().to_owned(), v.version_id().unwrap_or_default().to_owned()), (false, None));
        }
        for m in page.delete_markers() {
            out.insert((m.key().unwrap_or_default().to_owned(), m.version_id().unwrap_or_default().to_owned()), (true, None));
        }
        if page.is_truncated() != Some(true) {
            return out;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a load test (about a minute); .ci/run runs it"]
async fn mixed_load_replicates_every_version_exactly_once() {
    let (clients, ops) = (env_number("XREPL_LOAD_CLIENTS", 16), env_number("XREPL_LOAD_OPS", 2000));
    let server = served::serve(None, 0);
    let endpoint = server.endpoint.clone();
    served::apply_guide(&endpoint);

    let began = Instant::now();
    let tasks: Vec<_> = (0..clients).map(|id| tokio::spawn(client_run(s3(&endpoint, A), id, ops))).collect();
    let mut acked = Acked::default();
    for task in tasks {
        let done = task.await.expect("client task").unwrap_or_else(|e| panic!("{e}"));
        acked.versions.extend(done.versions);
        acked.markers.extend(done.markers);
    }
    let (status, body) =
        admin_client::request(&endpoint, "POST", "/_xrepl/replication/drain", Duration::from_secs(600)).await.expect("drain");
    assert_eq!(status, 200, "{body}");
    println!("{clients} clients x {ops} operations in {:?}", began.elapsed());

    let (a, b) = (s3(&endpoint, A), s3(&endpoint, B));
    let source = all_versions(&a, SRC).await;
    let destination = all_versions(&b, DST).await;
    // Nothing in the destination the source never acknowledged, and no version twice (the map
    // key is (key, version id); version ids are unique, so count them too).
    let ids: Vec<&String> = destination.keys().map(|(_, v)| v).collect();
    let unique: BTreeSet<&String> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "a version replicated twice");
    for ((key, vid), (marker, _)) in &destination {
        let known = if *marker { acked.markers.contains(vid) } else { acked.versions.contains(vid) };
        assert!(known, "{key}@{vid} in the destination was never acknowledged by the source");
    }
    // Every surviving source version and marker is in the destination under the same id.
    let mut checked = 0;
    for ((key, vid), (marker, _)) in &source {
        assert!(destination.contains_key(&(key.clone(), vid.clone())), "{key}@{vid} (marker: {marker}) was not replicated");
        if !marker {
            let head = a.head_object().bucket(SRC).key(key).version_id(vid).send().await.expect("head source");
            assert_eq!(head.replication_status().map(|s| s.as_str()), Some("COMPLETED"), "{key}@{vid}");
        }
        checked += 1;
    }
    println!("{checked} source versions and markers checked; {} in the destination", destination.len());
}
