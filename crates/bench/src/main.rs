//! `xrepl-bench`: the guide's cross-account replication, measured from the outside with one Rust
//! client that is not the bottleneck, against any endpoint with LocalStack-style keys (access key
//! id = account id, secret `test`): xrepl, ministack, LocalStack, fakecloud.
//!
//! It sets up the replication through the endpoint, PUTs `--objects` objects from `--concurrency`
//! tasks, and HEADs each replica in the destination account until it answers 200 — the same
//! observation for every server, no admin endpoint. See docs/benchmarks.md.

mod listing;
mod measure;
mod setup;

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "xrepl-bench", version, about = "Replication benchmark client for any S3 emulator with LocalStack-style keys")]
struct Args {
    /// The emulator's endpoint (S3 and IAM on one port, path-style).
    #[arg(long)]
    endpoint: String,
    /// Objects to PUT and see replicated (after the warm-up ones).
    #[arg(long, default_value_t = 2000)]
    objects: usize,
    /// Body size of each object, bytes.
    #[arg(long, default_value_t = 1024)]
    size: usize,
    /// Tasks putting objects at once (each PUTs, then HEADs its replica until 200, then the next).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Objects put and waited for before the measurement starts (connections opened, caches warm).
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Source account (access key id) and destination account.
    #[arg(long, default_value = "111111111111")]
    source_account: String,
    #[arg(long, default_value = "222222222222")]
    destination_account: String,
    /// Names buckets and role, so that runs against one server do not collide (default: the time).
    #[arg(long)]
    run_id: Option<String>,
    /// A replica not visible this long after its PUT started is an error; also each call's timeout.
    #[arg(long, default_value_t = 60)]
    deadline_s: u64,
    /// Instead of replication: fill an unreplicated bucket with this many 1-byte keys (from
    /// `--concurrency` tasks) and time 1,000-key ListObjectsV2 pages across it.
    #[arg(long)]
    list_keys: Option<usize>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(keys) = args.list_keys {
        return list(&args, keys).await;
    }
    match run(&args).await {
        Ok(report) => {
            let ok = report.errors == 0;
            if args.json {
                println!("{}", report.to_json(&args.endpoint));
            } else {
                print!("{}", report.to_text(&args.endpoint));
            }
            if !ok {
                eprintln!("xrepl-bench: {} error(s); first: {}", report.errors, report.first_error.as_deref().unwrap_or("?"));
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("xrepl-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn list(args: &Args, keys: usize) -> ExitCode {
    if keys == 0 || args.concurrency == 0 {
        eprintln!("xrepl-bench: --list-keys and --concurrency must be at least 1");
        return ExitCode::FAILURE;
    }
    let client = setup::s3_client(&args.endpoint, &args.source_account, Duration::from_secs(args.deadline_s));
    let bucket = format!("xrepl-bench-{}-listing", run_id(args));
    match listing::run(&client, &bucket, keys, args.concurrency).await {
        Ok(report) => {
            println!("{}", report.to_json(&args.endpoint));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("xrepl-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_id(args: &Args) -> String {
    match &args.run_id {
        Some(id) => id.clone(),
        None => SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default().to_string(),
    }
}

async fn run(args: &Args) -> anyhow::Result<measure::Report> {
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    anyhow::ensure!(args.objects > 0, "--objects must be at least 1");
    let run_id = run_id(args);
    let deadline = Duration::from_secs(args.deadline_s);
    let accounts = setup::Accounts {
        endpoint: &args.endpoint,
        source: &args.source_account,
        destination: &args.destination_account,
        run_id: &run_id,
        timeout: deadline,
    };
    let started = Instant::now();
    let setup = setup::apply(&accounts).await?;
    let setup_time = started.elapsed();

    let plan = measure::Plan { objects: args.warmup, size: args.size, concurrency: args.concurrency, deadline, key_prefix: "warmup/" };
    let warmup = measure::run(&setup, &plan).await;
    anyhow::ensure!(warmup.errors == 0, "warm-up failed: {}", warmup.first_error.unwrap_or_default());

    let plan = measure::Plan { objects: args.objects, key_prefix: "measured/", ..plan };
    let mut report = measure::run(&setup, &plan).await;
    report.setup = setup_time;
    Ok(report)
}
