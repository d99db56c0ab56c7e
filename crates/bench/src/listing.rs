//! `--list-keys N`: fills an unreplicated bucket of the source account with N small keys, then times
//! 1,000-key ListObjectsV2 pages that start at spread positions (the first, the middle, near the
//! end), so a server whose listing scans from the start of the bucket shows it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;

const PAGES: usize = 21;
const PAGE_SIZE: i32 = 1000;

pub struct ListingReport {
    keys: usize,
    fill_per_s: f64,
    pages: Vec<Duration>,
}

fn key(i: usize) -> String {
    format!("k/{i:07}")
}

pub async fn run(client: &aws_sdk_s3::Client, bucket: &str, keys: usize, concurrency: usize) -> anyhow::Result<ListingReport> {
    client.create_bucket().bucket(bucket).send().await.with_context(|| format!("CreateBucket {bucket}"))?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, bucket, next) = (client.clone(), bucket.to_owned(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= keys {
                    return Ok::<(), anyhow::Error>(());
                }
                client
                    .put_object()
                    .bucket(&bucket)
                    .key(key(i))
                    .body(ByteStream::from_static(b"x"))
                    .send()
                    .await
                    .with_context(|| format!("PutObject {}", key(i)))?;
            }
        }));
    }
    for task in tasks {
        task.await.context("a fill task failed")??;
    }
    let fill_per_s = keys as f64 / started.elapsed().as_secs_f64();

    let mut pages = Vec::with_capacity(PAGES);
    for page in 0..PAGES {
        let position = page * keys.saturating_sub(PAGE_SIZE as usize) / (PAGES - 1);
        let mut request = client.list_objects_v2().bucket(bucket).max_keys(PAGE_SIZE);
        if position > 0 {
            request = request.start_after(key(position - 1));
        }
        let t0 = Instant::now();
        let listed = request.send().await.context("ListObjectsV2")?;
        pages.push(t0.elapsed());
        let expected = PAGE_SIZE.min((keys - position) as i32);
        anyhow::ensure!(listed.key_count() == Some(expected), "page at {position}: {:?} keys, expected {expected}", listed.key_count());
        anyhow::ensure!(
            listed.contents().first().and_then(|o| o.key()) == Some(key(position).as_str()),
            "page at {position} does not start at {}",
            key(position)
        );
    }
    pages.sort_unstable();
    Ok(ListingReport { keys, fill_per_s, pages })
}

impl ListingReport {
    pub fn to_json(&self, endpoint: &str) -> serde_json::Value {
        let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
        json!({
            "endpoint": endpoint,
            "keys": self.keys,
            "fill_per_s": self.fill_per_s.round(),
            "list_pages": self.pages.len(),
            "list_page_keys": PAGE_SIZE,
            "list_p50_ms": ms(self.pages[self.pages.len() / 2]),
            "list_max_ms": ms(self.pages[self.pages.len() - 1]),
        })
    }
}
