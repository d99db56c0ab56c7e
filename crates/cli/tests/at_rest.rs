//! Integrity at rest and failures that leave no trace, with the real `xrepl serve --data-dir`:
//! damaged object files are never answered as a complete 200, garbage in `state.redb` ends
//! start-up with a message (never a panic), a full disk is survived without a restart and a
//! write answered 500 leaves nothing behind, dead object files are reclaimed while running
//! (docs/durability.md).

mod served;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::CompletedPart;
use served::{s3, A, B, DST, SRC};

const BUCKET: &str = "at-rest";

/// `xrepl serve` with its log (stderr) kept in `log`, killed (SIGKILL) when dropped.
struct Logged {
    child: Child,
    endpoint: String,
    log: PathBuf,
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Logged {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn serve_logged(data_dir: &Path, log: &Path) -> Logged {
    let err = std::fs::File::create(log).expect("log file");
    match served::spawn(Some(data_dir), 0, Stdio::from(err)) {
        Ok((child, endpoint)) => Logged { child, endpoint, log: log.to_owned() },
        Err(status) => panic!("xrepl serve did not start ({status}): {}", std::fs::read_to_string(log).unwrap_or_default()),
    }
}

/// Deterministic, non-repeating bytes.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed).collect()
}

/// The object file under `blobs/` holding exactly `bytes`.
fn file_of(dir: &Path, bytes: &[u8]) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir.join("blobs"))
        .expect("blobs dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| std::fs::read(p).is_ok_and(|b| b == bytes))
        .collect();
    assert_eq!(found.len(), 1, "one file holds the object: {found:?}");
    found.into_iter().next().unwrap_or_default()
}

/// What a plain HTTP client sees: the status, the declared length and the bytes that arrived.
struct Raw {
    status: u16,
    declared: Option<usize>,
    body: Vec<u8>,
}

impl Raw {
    /// A body a client would take as the whole object: every declared byte arrived.
    fn complete(&self) -> bool {
        self.declared == Some(self.body.len())
    }
}

/// GET through a presigned URL, read with a bare socket so no client checks anything.
async fn raw_get(client: &aws_sdk_s3::Client, key: &str, range: Option<&str>) -> Raw {
    let mut get = client.get_object().bucket(BUCKET).key(key);
    if let Some(r) = range {
        get = get.range(r);
    }
    let presigned = get.presigned(PresigningConfig::expires_in(Duration::from_secs(600)).expect("config")).await.expect("presign");
    let rest = presigned.uri().strip_prefix("http://").expect("an http URL");
    let (authority, path) = rest.split_at(rest.find('/').expect("a path"));
    let authority = authority.to_owned();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in presigned.headers() {
        if !name.eq_ignore_ascii_case("host") {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    request.push_str("\r\n");
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&authority).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
        let end = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
        let head = String::from_utf8_lossy(&answer[..end]).to_string();
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
        let declared = head
            .lines()
            .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.trim().to_owned()))
            .and_then(|v| v.parse().ok());
        Raw { status, declared, body: answer[end + 4..].to_vec() }
    })
    .await
    .expect("raw GET")
}

/// A new multipart upload of `key` with `parts` (numbered from 1): its id and the parts to
/// complete it with.
async fn upload_parts(client: &aws_sdk_s3::Client, key: &str, parts: &[&[u8]]) -> (String, Vec<CompletedPart>) {
    let mpu = client.create_multipart_upload().bucket(BUCKET).key(key).send().await.expect("mpu");
    let id = mpu.upload_id().expect("upload id").to_owned();
    upload_parts_to(client, key, &id, parts).await
}

async fn upload_parts_to(client: &aws_sdk_s3::Client, key: &str, id: &str, parts: &[&[u8]]) -> (String, Vec<CompletedPart>) {
    let mut completed = Vec::new();
    for (n, part) in (1..).zip(parts) {
        let out = client
            .upload_part()
            .bucket(BUCKET)
            .key(key)
            .upload_id(id)
            .part_number(n)
            .body(ByteStream::from(part.to_vec()))
            .send()
            .await
            .expect("part");
        completed.push(CompletedPart::builder().part_number(n).e_tag(out.e_tag().unwrap_or_default()).build());
    }
    (id.to_owned(), completed)
}

async fn complete(client: &aws_sdk_s3::Client, key: &str, id: &str, parts: Vec<CompletedPart>) {
    client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(id)
        .multipart_upload(aws_sdk_s3::types::CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .expect("complete");
}

async fn put(client: &aws_sdk_s3::Client, key: &str, bytes: &[u8]) {
    client.put_object().bucket(BUCKET).key(key).body(ByteStream::from(bytes.to_vec())).send().await.expect("put");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_blobs_are_never_served_as_a_complete_200() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("serve.log");
    let data = dir.path().join("data");
    let server = serve_logged(&data, &log);
    let a = s3(&server.endpoint, A);
    a.create_bucket().bucket(BUCKET).send().await.expect("bucket");
    let small = pattern(100_000, 1);
    let zeroed = pattern(70_000, 2);
    let large = pattern(40 * 1024 * 1024 + 17, 3);
    let (part1, part2) = (pattern(5 * 1024 * 1024, 4), pattern(1024 * 1024 + 3, 5));
    let intact = pattern(50_000, 6);
    put(&a, "small", &small).await;
    put(&a, "zeroed", &zeroed).await;
    put(&a, "large", &large).await;
    put(&a, "intact", &intact).await;
    let (upload_id, parts) = upload_parts(&a, "multipart", &[&part1, &part2]).await;
    complete(&a, "multipart", &upload_id, parts).await;
    let joined = [part1.clone(), part2.clone()].concat();

    // The damage: a flipped bit, a zeroed file, a flipped bit deep in a large file and in a
    // multipart object's file.
    let flip = |path: &Path, at: usize| {
        let mut bytes = std::fs::read(path).expect("read");
        bytes[at] ^= 0x10;
        std::fs::write(path, bytes).expect("write");
    };
    let small_file = file_of(&data, &small);
    flip(&small_file, 777);
    let zeroed_file = file_of(&data, &zeroed);
    std::fs::write(&zeroed_file, vec![0u8; zeroed.len()]).expect("zero");
    let large_file = file_of(&data, &large);
    flip(&large_file, large.len() - 5);
    flip(&file_of(&data, &joined), 5 * 1024 * 1024 + 100);

    for (key, range) in [
        ("small", None),
        ("small", Some("bytes=0-99")),
        ("small", Some("bytes=700-800")),
        ("zeroed", None),
        ("zeroed", Some("bytes=10-20")),
        ("multipart", None),
        ("multipart", Some("bytes=5242880-5243000")),
        ("large", None),
        ("large", Some("bytes=0-1023")),
        ("large", Some("bytes=41943000-41943056")),
    ] {
        let got = raw_get(&a, key, range).await;
        assert!(
            !(got.status / 100 == 2 && got.complete()),
            "{key} {range:?}: a damaged object was answered {} with {} complete bytes",
            got.status,
            got.body.len()
        );
        if key != "large" {
            assert_eq!(got.status, 500, "{key} {range:?}: objects this small are checked before the first byte");
            assert!(String::from_utf8_lossy(&got.body).contains("<Code>InternalError</Code>"), "{key}: {:?}", got.body);
        }
    }
    let fine = raw_get(&a, "intact", None).await;
    assert_eq!((fine.status, fine.complete(), fine.body == intact), (200, true, true), "an intact object is served as it was");
    let fine = raw_get(&a, "intact", Some("bytes=10-19")).await;
    assert_eq!((fine.status, fine.body.as_slice()), (206, &intact[10..20]));
    let log = server.log();
    for (key, file) in [("small", &small_file), ("zeroed", &zeroed_file), ("large", &large_file)] {
        let file = file.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_owned();
        assert!(
            log.lines().any(|l| l.contains(key) && l.contains(&file) && l.contains(BUCKET)),
            "the log names {BUCKET}/{key} and its file {file}:\n{log}"
        );
    }
}

/// Garbage written over parts of `state.redb`: start-up ends with a message naming the dir and
/// what to do, never a panic (exit 101).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_in_the_state_database_ends_start_up_with_a_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    {
        let server = serve_logged(&data, &dir.path().join("first.log"));
        let a = s3(&server.endpoint, A);
        a.create_bucket().bucket(BUCKET).send().await.expect("bucket");
        for i in 0..600 {
            put(&a, &format!("k{i}"), &pattern(100, (i % 251) as u8)).await;
        }
        // Stopped cleanly (SIGTERM): redb then trusts its pages on the next open, without the
        // checksummed repair that follows a crash, and meets the garbage while reading.
        let mut server = server;
        let stopped = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().expect("kill -TERM");
        assert!(stopped.success());
        let status = server.child.wait().expect("stopped");
        assert!(status.success(), "xrepl serve stops cleanly on SIGTERM: {status:?}");
    }
    let original = std::fs::read(data.join("state.redb")).expect("state");
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = |len: usize| {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed.to_le_bytes()[0]
            })
            .collect::<Vec<u8>>()
    };
    let len = original.len();
    let mut variants: Vec<(String, Vec<u8>)> = Vec::new();
    for size in [64, 4096] {
        for k in 1..32 {
            let at = len * k / 32;
            let mut v = original.clone();
            let end = (at + size).min(len);
            v[at..end].copy_from_slice(&noise(end - at));
            variants.push((format!("{size} bytes of garbage at {at}"), v));
        }
    }
    let fixed: Vec<(&str, Vec<u8>)> = vec![
        ("garbage after the header", [original[..4096.min(len)].to_vec(), noise(len.saturating_sub(4096))].concat()),
        ("all garbage", noise(len)),
        ("garbage in the middle", {
            let mut v = original.clone();
            let mid = len / 2;
            v[mid..(mid + 65536).min(len)].copy_from_slice(&noise((mid + 65536).min(len) - mid));
            v
        }),
        ("truncated", original[..len / 3].to_vec()),
    ];
    variants.extend(fixed.into_iter().map(|(what, v)| (what.to_owned(), v)));
    for (what, bytes) in variants {
        std::fs::write(data.join("state.redb"), &bytes).expect("damage");
        let out = run_serve_briefly(&data);
        let (code, stderr) = match out {
            Some(done) => done,
            // It started: the damage hit nothing it reads; that is fine as long as it serves.
            None => continue,
        };
        assert_ne!(code, Some(101), "{what}: xrepl serve panicked:\n{stderr}");
        assert!(!stderr.contains("panicked"), "{what}: a panic message:\n{stderr}");
        assert!(stderr.contains(&data.display().to_string()), "{what}: the message names the data dir:\n{stderr}");
        assert!(stderr.contains("state.redb"), "{what}: the message names the file and what to do:\n{stderr}");
    }
}

/// `xrepl serve` on a damaged dir: Some(exit code, stderr) when it ended before it listened,
/// None when it served (then killed).
fn run_serve_briefly(data: &Path) -> Option<(Option<i32>, String)> {
    let log = data.with_extension("serve.log");
    let err = std::fs::File::create(&log).expect("log file");
    let outcome = match served::spawn(Some(data), 0, Stdio::from(err)) {
        Ok((mut child, _)) => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
        Err(status) => Some((status.code(), std::fs::read_to_string(&log).unwrap_or_default())),
    };
    let _ = std::fs::remove_file(&log);
    outcome
}

/// A tmpfs of `mib` MiB mounted on a fresh dir, unmounted when dropped. Panics (the test is not a
/// pass) when mounting is impossible, saying why: these tests need root, as CI has.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u32) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run mount (needed to fill a small disk): {e}"));
        assert!(out.status.success(), "cannot mount a {mib} MiB tmpfs (needs root, as CI has): {}", String::from_utf8_lossy(&out.stderr));
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the disk with a file (until ENOSPC).
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        let chunk = vec![0xa5u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        let small = [0u8; 512];
        while file.write_all(&small).is_ok() {}
        while file.write_all(&[0u8]).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// A replication whose outcome cannot be committed (the disk is full) is undone and stays PENDING, and
/// completes once space is freed, without a restart (docs/durability.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_blocked_by_a_full_disk_completes_once_space_is_freed() {
    let disk = SmallDisk::mount(24);
    let data = disk.path().join("data");
    let log = std::env::temp_dir().join(format!("xrepl-enospc-replication-{}.log", std::process::id()));
    let server = serve_logged(&data, &log);
    served::apply_guide(&server.endpoint);
    // The task waits 3 s before it runs: time to fill the disk under it.
    served::admin(&server.endpoint, "/_xrepl/replication/latency?ms=3000").await;
    let a = s3(&server.endpoint, A);
    let body = pattern(4096, 7);
    let put = a.put_object().bucket(SRC).key("blocked.bin").body(ByteStream::from(body.clone())).send().await.expect("put");
    let version = put.version_id().expect("a version id").to_owned();
    let status = |client: aws_sdk_s3::Client, version: String| async move {
        let head = client.head_object().bucket(SRC).key("blocked.bin").version_id(version).send().await.expect("head source");
        head.replication_status().map(|s| s.as_str().to_owned()).unwrap_or_default()
    };

    let filler = disk.fill();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(status(a.clone(), version.clone()).await, "PENDING", "nothing can be committed:\n{}", server.log());

    std::fs::remove_file(&filler).expect("free space");
    let started = Instant::now();
    while status(a.clone(), version.clone()).await != "COMPLETED" {
        assert!(started.elapsed() < Duration::from_secs(20), "not replicated after space was freed:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let replica = s3(&server.endpoint, B).get_object().bucket(DST).key("blocked.bin").version_id(&version).send().await;
    let replica = replica.expect("the replica, with the source's version id").body.collect().await.expect("replica body");
    assert_eq!(replica.into_bytes().as_ref(), body.as_slice());
    let _ = std::fs::remove_file(&log);
}

fn status_of<E>(e: &aws_sdk_s3::error::SdkError<E>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

fn raw_status<T, E>(result: &Result<T, aws_sdk_s3::error::SdkError<E>>) -> u16 {
    match result {
        Ok(_) => 200,
        Err(e) => e.raw_response().map_or(0, |r| r.status().as_u16()),
    }
}

/// One client without retries: a 500 is seen as it is.
fn no_retry(endpoint: &str) -> aws_sdk_s3::Client {
    served::s3_with_retries(endpoint, A, aws_sdk_s3::config::retry::RetryConfig::disabled())
}

async fn tags(client: &aws_sdk_s3::Client) -> Vec<(String, String)> {
    match client.get_bucket_tagging().bucket(BUCKET).send().await {
        Ok(out) => out.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect(),
        Err(_) => Vec::new(),
    }
}

async fn put_tags(client: &aws_sdk_s3::Client, value: &str) -> u16 {
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("t").value(value).build().expect("tag"))
        .build()
        .expect("tagging");
    let result = client.put_bucket_tagging().bucket(BUCKET).tagging(tagging).send().await;
    raw_status(&result)
}

/// After ENOSPC, writes fail while the disk is full and succeed again once space is freed,
/// without a restart; every write answered 500 meanwhile left nothing behind (in memory, and on
/// disk: checked after a restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_survived_and_failed_writes_leave_nothing() {
    let disk = SmallDisk::mount(24);
    let data = disk.path().join("data");
    let log = std::env::temp_dir().join(format!("xrepl-enospc-{}.log", std::process::id()));
    let server = serve_logged(&data, &log);
    let a = no_retry(&server.endpoint);
    a.create_bucket().bucket(BUCKET).send().await.expect("bucket");
    assert_eq!(put_tags(&a, "before").await, 200);
    put(&a, "before", b"written before the disk filled").await;

    let filler = disk.fill();
    // Writes until one is refused: tags (metadata only), objects, buckets.
    let mut refused = (None, None, None);
    for i in 0..400 {
        if refused.0.is_none() {
            let value = format!("full-{i}-{}", "x".repeat(200));
            if put_tags(&a, &value).await == 500 {
                refused.0 = Some(value);
            }
        }
        if refused.1.is_none() {
            let key = format!("full-{i}");
            let result = a.put_object().bucket(BUCKET).key(&key).body(ByteStream::from(pattern(300, 9))).send().await;
            if raw_status(&result) == 500 {
                refused.1 = Some(key);
            }
        }
        if refused.2.is_none() {
            let name = format!("full-bucket-{i}");
            if raw_status(&a.create_bucket().bucket(&name).send().await) == 500 {
                refused.2 = Some(name);
            }
        }
        if refused.0.is_some() && refused.1.is_some() && refused.2.is_some() {
            break;
        }
    }
    let (tag, key, bucket) = (
        refused.0.expect("a PutBucketTagging was refused on the full disk"),
        refused.1.expect("a PutObject was refused on the full disk"),
        refused.2.expect("a CreateBucket was refused on the full disk"),
    );
    let check_nothing_left = |client: aws_sdk_s3::Client| {
        let (tag, key, bucket) = (tag.clone(), key.clone(), bucket.clone());
        async move {
            assert!(!tags(&client).await.iter().any(|(_, v)| *v == tag), "a PutBucketTagging answered 500 is not visible");
            let got = client.get_object().bucket(BUCKET).key(&key).send().await;
            assert!(got.is_err(), "a PUT answered 500 is not served");
            let head = client.head_object().bucket(BUCKET).key(&key).send().await;
            assert_eq!(head.as_ref().err().and_then(status_of), Some(404), "a PUT answered 500 does not exist");
            let listed = client.list_buckets().send().await.expect("list");
            assert!(!listed.buckets().iter().any(|b| b.name() == Some(bucket.as_str())), "a CreateBucket answered 500 is not listed");
            let head = client.head_bucket().bucket(&bucket).send().await;
            assert_eq!(head.as_ref().err().and_then(status_of), Some(404), "a CreateBucket answered 500 does not exist");
        }
    };
    check_nothing_left(a.clone()).await;

    // Space again: writes succeed without a restart.
    std::fs::remove_file(&filler).expect("free space");
    let started = Instant::now();
    loop {
        if put_tags(&a, "after").await == 200 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "writes still fail after space was freed:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(tags(&a).await, vec![("t".to_owned(), "after".to_owned())]);
    put(&a, "after", b"written after space was freed").await;
    a.create_bucket().bucket("after-bucket").send().await.expect("CreateBucket after space was freed");
    check_nothing_left(a.clone()).await;

    // On disk too: after kill -9 and a restart, what was acknowledged is there, nothing else.
    let mut server = server;
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    drop(server);
    let server = serve_logged(&data, &log);
    let a = no_retry(&server.endpoint);
    check_nothing_left(a.clone()).await;
    assert_eq!(tags(&a).await, vec![("t".to_owned(), "after".to_owned())]);
    for (k, body) in [("before", &b"written before the disk filled"[..]), ("after", b"written after space was freed")] {
        let got = a.get_object().bucket(BUCKET).key(k).send().await.expect("acknowledged object");
        assert_eq!(got.body.collect().await.expect("body").into_bytes().as_ref(), body);
    }
    a.head_bucket().bucket("after-bucket").send().await.expect("acknowledged bucket");
    let _ = std::fs::remove_file(&log);
}

fn blob_count(data: &Path) -> usize {
    std::fs::read_dir(data.join("blobs")).map(|d| d.filter_map(Result::ok).count()).unwrap_or(0)
}

/// Overwritten and deleted objects' files, and completed and aborted uploads' parts, are removed
/// while the server runs; after kill -9 every live object is still whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_blobs_are_reclaimed_while_running() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let server = serve_logged(&data, &log);
    let a = s3(&server.endpoint, A);
    a.create_bucket().bucket(BUCKET).send().await.expect("bucket");
    for i in 0..5 {
        put(&a, "overwritten", &pattern(10_000, i)).await;
    }
    put(&a, "deleted", &pattern(10_000, 7)).await;
    a.delete_object().bucket(BUCKET).key("deleted").send().await.expect("delete");
    let part = pattern(5 * 1024 * 1024, 8);
    let (completed, parts) = upload_parts(&a, "completed", &[&part, &part]).await;
    // A part uploaded again replaces the first one.
    let (_, again) = upload_parts_to(&a, "completed", &completed, &[&part, &part]).await;
    assert_eq!(again.len(), parts.len());
    complete(&a, "completed", &completed, again).await;
    let (aborted, _) = upload_parts(&a, "aborted", &[&part, &part]).await;
    upload_parts_to(&a, "aborted", &aborted, &[&part]).await;
    a.abort_multipart_upload().bucket(BUCKET).key("aborted").upload_id(&aborted).send().await.expect("abort");

    // Live: the last "overwritten" and "completed".
    let started = Instant::now();
    while blob_count(&data) != 2 {
        if started.elapsed() > Duration::from_secs(15) {
            let files: Vec<(String, u64)> = std::fs::read_dir(data.join("blobs"))
                .map(|d| {
                    d.filter_map(Result::ok)
                        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.metadata().map(|m| m.len()).unwrap_or(0)))
                        .collect()
                })
                .unwrap_or_default();
            panic!("{} object files remain, 2 are live: {files:?}\n{}", files.len(), server.log());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut server = server;
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    drop(server);
    let server = serve_logged(&data, &log);
    let a = s3(&server.endpoint, A);
    let got = a.get_object().bucket(BUCKET).key("overwritten").send().await.expect("live object");
    assert_eq!(got.body.collect().await.expect("body").into_bytes().as_ref(), pattern(10_000, 4).as_slice());
    let got = a.get_object().bucket(BUCKET).key("completed").send().await.expect("live object");
    assert_eq!(got.body.collect().await.expect("body").into_bytes().as_ref(), [part.clone(), part.clone()].concat().as_slice());
    assert_eq!(blob_count(&data), 2);
}
