//! `xrepl serve --data-dir`: the real binary, killed with SIGKILL and restarted. Every acknowledged
//! write must be there afterwards, and replication that was queued at the crash must complete
//! exactly once (replicas keep their version ids; nothing else appears in the destination).

mod served;

use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use served::{admin, apply_guide, port_of, s3, serve, A, B, DST, SRC};

async fn put(client: &aws_sdk_s3::Client, key: &str, body: &str) -> String {
    let out = client.put_object().bucket(SRC).key(key).body(ByteStream::from(body.as_bytes().to_vec())).send().await.expect("put");
    out.version_id().expect("version id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_and_queued_replication_survive_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = serve(Some(dir.path()), 0);
    let port = port_of(&server.endpoint);
    apply_guide(&server.endpoint);
    let a = s3(&server.endpoint, A);

    // Replicated before the crash: must stay as they are.
    let before = put(&a, "before.txt", "replicated before the crash").await;
    admin(&server.endpoint, "/_xrepl/replication/drain").await;

    // Queued at the crash: replication paused, so every one of these is PENDING when killed.
    admin(&server.endpoint, "/_xrepl/replication/pause").await;
    let mut expected = vec![("before.txt".to_owned(), before, "replicated before the crash".to_owned())];
    for i in 0..20 {
        let (key, body) = (format!("queued/{i}.txt"), format!("object {i}"));
        let vid = put(&a, &key, &body).await;
        expected.push((key, vid, body));
    }
    let overwritten = put(&a, "queued/0.txt", "object 0, second version").await;
    expected.push(("queued/0.txt".to_owned(), overwritten, "object 0, second version".to_owned()));
    let marker = a.delete_object().bucket(SRC).key("queued/1.txt").send().await.expect("delete");
    let marker = marker.version_id().expect("marker").to_owned();

    let mut server = server;
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    drop(server);

    let server = serve(Some(dir.path()), port);
    admin(&server.endpoint, "/_xrepl/replication/drain").await;
    let (a, b) = (s3(&server.endpoint, A), s3(&server.endpoint, B));
    for (key, vid, body) in &expected {
        let source = a.get_object().bucket(SRC).key(key).version_id(vid).send().await.expect("acknowledged version survives");
        assert_eq!(source.replication_status().map(|s| s.as_str()), Some("COMPLETED"), "{key}");
        let replica = b.get_object().bucket(DST).key(key).version_id(vid).send().await.expect("replica with the same version id");
        assert_eq!(replica.replication_status().map(|s| s.as_str()), Some("REPLICA"));
        let bytes = replica.body.collect().await.expect("body").into_bytes();
        assert_eq!(bytes.as_ref(), body.as_bytes(), "{key}");
    }
    let err = b.head_object().bucket(DST).key("queued/1.txt").send().await.expect_err("replicated delete marker");
    let headers = err.raw_response().map(|r| r.headers().get("x-amz-version-id").map(str::to_owned));
    assert_eq!(headers, Some(Some(marker.clone())));
    // Exactly once: the destination holds the expected versions and the marker, nothing else.
    let listed = b.list_object_versions().bucket(DST).send().await.expect("list");
    assert_eq!(listed.versions().len(), expected.len(), "{:?}", listed.versions());
    assert_eq!(listed.delete_markers().iter().filter_map(|m| m.version_id()).collect::<Vec<_>>(), vec![marker.as_str()]);
}

/// Peak resident memory of a process (Linux `VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes 2 GiB to disk; .ci/run runs it"]
async fn a_1_gib_put_streams_to_disk_within_64_mib() {
    const SIZE: u64 = 1024 * 1024 * 1024;
    let dir = tempfile::tempdir().expect("temp dir");
    let server = serve(Some(&dir.path().join("data")), 0);
    let a = s3(&server.endpoint, A);
    a.create_bucket().bucket("big").send().await.expect("bucket");
    let file = dir.path().join("upload.bin");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).expect("file"));
        let chunk: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
        for _ in 0..SIZE / (1024 * 1024) {
            f.write_all(&chunk).expect("write");
        }
    }
    let baseline = peak_rss_kib(server.child.id());
    let body = ByteStream::from_path(&file).await.expect("stream");
    a.put_object().bucket("big").key("1gib").body(body).send().await.expect("1 GiB put");
    let grown = peak_rss_kib(server.child.id()).saturating_sub(baseline);
    assert!(grown <= 64 * 1024, "peak RSS grew by {grown} KiB for a 1 GiB PUT (bound: 64 MiB)");
    let head = a.head_object().bucket("big").key("1gib").send().await.expect("head");
    assert_eq!(head.content_length(), Some(i64::try_from(SIZE).unwrap_or(i64::MAX)));
    let got = a.get_object().bucket("big").key("1gib").range("bytes=1048576-1048591").send().await.expect("range get");
    let bytes = got.body.collect().await.expect("body").into_bytes();
    let expected: Vec<u8> = (0..16).map(|i| (i % 251) as u8).collect();
    assert_eq!(bytes.as_ref(), expected.as_slice());
    println!("1 GiB PUT into --data-dir: peak RSS grew by {grown} KiB");
}

/// A measurement, not a test of speed: how long a `--data-dir` server with N objects (default
/// 100,000; XREPL_RESTART_OBJECTS) takes from spawn to answering S3. Prints the figure for
/// docs/benchmarks.md. Run with a release binary:
/// `XREPL_BIN=target/x86_64-unknown-linux-gnu/release/xrepl cargo test -p xrepl-cli --test durable restart -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement (writes 100,000 objects); run by hand for docs/benchmarks.md"]
async fn restart_time_with_many_objects() {
    let objects: usize = std::env::var("XREPL_RESTART_OBJECTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let server = serve(Some(dir.path()), 0);
    let port = port_of(&server.endpoint);
    let a = s3(&server.endpoint, A);
    a.create_bucket().bucket("many").send().await.expect("bucket");
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writing = Instant::now();
    let writers: Vec<_> = (0..16)
        .map(|_| {
            let (a, next) = (a.clone(), std::sync::Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= objects {
                        return;
                    }
                    a.put_object()
                        .bucket("many")
                        .key(format!("k/{i:07}"))
                        .body(ByteStream::from_static(b"small"))
                        .send()
                        .await
                        .expect("put");
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    println!("wrote {objects} objects from 16 tasks in {:?} (each committed with fsync before its answer)", writing.elapsed());
    drop(server);
    let started = Instant::now();
    let server = serve(Some(dir.path()), port);
    let a = s3(&server.endpoint, A);
    let listed = loop {
        if let Ok(page) = a.list_objects_v2().bucket("many").max_keys(1).send().await {
            break page;
        }
    };
    let elapsed = started.elapsed();
    assert_eq!(listed.key_count(), Some(1));
    let head = a.head_object().bucket("many").key(format!("k/{:07}", objects - 1)).send().await.expect("last object survives");
    assert_eq!(head.content_length(), Some(5));
    let size: u64 = std::fs::read_dir(dir.path().join("blobs")).map(|d| d.count() as u64).unwrap_or(0);
    println!("restart with {objects} objects ({size} blob files): {elapsed:?} from spawn to the first S3 answer");
}
