//! The measurement: tasks take the next object number, PUT it in the source account, then HEAD the
//! replica in the destination account with no pause until it answers 200. A 404 means "not yet";
//! anything else, or a replica still missing at the deadline, is an error.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;

use crate::setup::Setup;

#[derive(Clone, Copy)]
pub struct Plan {
    pub objects: usize,
    pub size: usize,
    pub concurrency: usize,
    pub deadline: Duration,
    pub key_prefix: &'static str,
}

/// One object: when its PUT started, how long the PUT took, when its replica was first seen.
struct Sample {
    put_start: Instant,
    put: Duration,
    visible_at: Instant,
}

#[derive(Default)]
struct TaskResult {
    samples: Vec<Sample>,
    head_misses: u64,
    errors: u64,
    first_error: Option<String>,
}

impl TaskResult {
    fn error(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }
}

pub struct Report {
    pub objects: usize,
    pub size: usize,
    pub concurrency: usize,
    pub setup: Duration,
    pub put_p50: Duration,
    pub visible_p50: Duration,
    pub visible_p95: Duration,
    pub replicated_per_s: f64,
    pub head_misses: u64,
    pub errors: u64,
    pub first_error: Option<String>,
}

pub async fn run(setup: &Setup, plan: &Plan) -> Report {
    let body = bytes_of(plan.size);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(plan.concurrency);
    for _ in 0..plan.concurrency {
        let (source, destination) = (setup.source.clone(), setup.destination.clone());
        let (source_bucket, destination_bucket) = (setup.source_bucket.clone(), setup.destination_bucket.clone());
        let (next, body, plan) = (Arc::clone(&next), body.clone(), *plan);
        tasks.push(tokio::spawn(async move {
            let mut result = TaskResult::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= plan.objects {
                    return result;
                }
                let key = format!("{}{i:07}", plan.key_prefix);
                let put_start = Instant::now();
                let put = source.put_object().bucket(&source_bucket).key(&key).body(ByteStream::from(body.clone())).send().await;
                if let Err(error) = put {
                    result.error(format!("PutObject {key}: {}", describe(&error)));
                    continue;
                }
                let put = put_start.elapsed();
                loop {
                    match destination.head_object().bucket(&destination_bucket).key(&key).send().await {
                        Ok(_) => {
                            result.samples.push(Sample { put_start, put, visible_at: Instant::now() });
                            break;
                        }
                        Err(error) if status(&error) == Some(404) => {
                            result.head_misses += 1;
                            if put_start.elapsed() > plan.deadline {
                                result.error(format!("replica of {key} not visible after {:?}", plan.deadline));
                                break;
                            }
                        }
                        Err(error) => {
                            result.error(format!("HeadObject {key} on the destination: {}", describe(&error)));
                            break;
                        }
                    }
                }
            }
        }));
    }
    let mut all = TaskResult::default();
    for task in tasks {
        match task.await {
            Ok(mut result) => {
                all.samples.append(&mut result.samples);
                all.head_misses += result.head_misses;
                all.errors += result.errors;
                if let Some(error) = result.first_error {
                    all.first_error.get_or_insert(error);
                }
            }
            Err(join) => all.error(format!("a client task failed: {join}")),
        }
    }
    summarize(plan, all)
}

fn summarize(plan: &Plan, all: TaskResult) -> Report {
    let mut puts: Vec<Duration> = all.samples.iter().map(|s| s.put).collect();
    let mut visible: Vec<Duration> = all.samples.iter().map(|s| s.visible_at - s.put_start).collect();
    puts.sort_unstable();
    visible.sort_unstable();
    let first = all.samples.iter().map(|s| s.put_start).min();
    let last = all.samples.iter().map(|s| s.visible_at).max();
    let replicated_per_s = match (first, last) {
        (Some(first), Some(last)) if last > first => all.samples.len() as f64 / (last - first).as_secs_f64(),
        _ => 0.0,
    };
    Report {
        objects: plan.objects,
        size: plan.size,
        concurrency: plan.concurrency,
        setup: Duration::ZERO,
        put_p50: percentile(&puts, 50),
        visible_p50: percentile(&visible, 50),
        visible_p95: percentile(&visible, 95),
        replicated_per_s,
        head_misses: all.head_misses,
        errors: all.errors,
        first_error: all.first_error,
    }
}

/// Nearest-rank percentile of sorted values (zero when there are none).
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn bytes_of(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

fn status<E>(error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Option<u16> {
    error.raw_response().map(|response| response.status().as_u16())
}

fn describe<E: std::error::Error + 'static>(error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> String {
    match status(error) {
        Some(code) => format!("HTTP {code}: {}", aws_sdk_s3::error::DisplayErrorContext(error)),
        None => aws_sdk_s3::error::DisplayErrorContext(error).to_string(),
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

impl Report {
    /// The fields issue 11 names, in that order, plus `head_misses` (HEADs that found no replica yet).
    pub fn to_json(&self, endpoint: &str) -> serde_json::Value {
        json!({
            "endpoint": endpoint,
            "objects": self.objects,
            "size": self.size,
            "concurrency": self.concurrency,
            "setup_ms": ms(self.setup),
            "put_p50_ms": ms(self.put_p50),
            "visible_p50_ms": ms(self.visible_p50),
            "visible_p95_ms": ms(self.visible_p95),
            "replicated_per_s": (self.replicated_per_s * 10.0).round() / 10.0,
            "errors": self.errors,
            "head_misses": self.head_misses,
        })
    }

    pub fn to_text(&self, endpoint: &str) -> String {
        format!(
            "endpoint {endpoint}: {} objects of {} B from {} tasks\n  setup {} ms\n  PUT p50 {} ms\n  PUT -> replica visible p50 {} ms, p95 {} ms\n  {:.1} replicated objects/s\n  {} HEADs before the replica was there, {} errors\n",
            self.objects,
            self.size,
            self.concurrency,
            ms(self.setup),
            ms(self.put_p50),
            ms(self.visible_p50),
            ms(self.visible_p95),
            self.replicated_per_s,
            self.head_misses,
            self.errors
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 50), Duration::from_millis(50));
        assert_eq!(percentile(&values, 95), Duration::from_millis(95));
        assert_eq!(percentile(&values[..1], 95), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50), Duration::ZERO);
    }
}
