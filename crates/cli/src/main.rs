//! `xrepl`: set up AWS cross-account S3 replication and prove it works.
//!
//! Exit codes: 0 success; 1 the check found problems (lint errors, failed verification, a
//! replication failure); 2 bad input (usage, unreadable or invalid file); 3 an AWS or endpoint
//! call failed (unreachable endpoint, wrong credentials, AWS error).

mod cmd;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::output::{Format, Output};

#[derive(Parser)]
#[command(
    name = "xrepl",
    version,
    about = "Set up AWS cross-account S3 replication, and prove it works without an AWS account",
    after_help = "Examples:
  xrepl demo                                  # the guide's setup on the embedded emulator, in under a second
  xrepl lint fixtures/guide/trust-policy.json # finds the guide's en-dash \"Version\"
  xrepl export --spec fixtures/guide/spec.toml
  xrepl check --spec my-replication.toml      # your spec against the embedded emulator
  xrepl apply --spec my-replication.toml      # real AWS (profiles in the spec) or --endpoint URL
  xrepl serve --port 4566                     # S3+IAM+STS+KMS for two or more accounts

Exit codes: 0 ok, 1 problems found, 2 bad input, 3 AWS/endpoint error.
Environment: NO_COLOR disables colour, RUST_LOG=debug shows each API call."
)]
struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    output: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the guide's setup on the embedded emulator, replicate, and show a broken variant failing.
    #[command(after_help = "Example:\n  xrepl demo --output json")]
    Demo,
    /// Apply your spec to the embedded emulator and prove it replicates (objects, owner, tags, deletes).
    #[command(after_help = "Example:\n  xrepl check --spec fixtures/variants/prefix-filter.toml")]
    Check {
        #[arg(long)]
        spec: PathBuf,
    },
    /// Check specs (.toml), policy documents and put-bucket-replication JSON before touching AWS.
    #[command(
        after_help = "Examples:\n  xrepl lint fixtures/guide/spec.toml\n  xrepl lint fixtures/guide/trust-policy.json fixtures/guide/destination-bucket-policy.json\n  xrepl lint --kind trust my-trust.json"
    )]
    Lint {
        /// Files to check; the kind of a JSON document is recognised from its content.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Force the kind of the JSON documents.
        #[arg(long, value_enum)]
        kind: Option<cmd::provision::DocKind>,
    },
    /// Print the documents a spec needs (trust policy, role policy, bucket policy, replication configuration).
    #[command(after_help = "Example:\n  xrepl export --spec fixtures/guide/spec.toml --document bucket-policy --minimal")]
    Export {
        #[arg(long)]
        spec: PathBuf,
        #[arg(long, value_enum, default_value_t = cmd::provision::Document::All)]
        document: cmd::provision::Document,
        /// AWS's minimal bucket policy: no s3:ReplicateTags (s3:ReplicateObject already lets tags replicate).
        #[arg(long)]
        minimal: bool,
    },
    /// Read both accounts and show what apply would create, update or leave alone.
    #[command(after_help = "Example:\n  xrepl plan --spec my.toml --side destination")]
    Plan(cmd::provision::Target),
    /// Create or update everything, in the safe order; a second run changes nothing.
    #[command(after_help = "Example:\n  xrepl apply --spec my.toml --endpoint http://127.0.0.1:4566")]
    Apply(cmd::provision::Target),
    /// Write probe objects, wait for them to replicate, check owner/tags/delete marker, clean up.
    #[command(after_help = "Example:\n  xrepl verify --spec my.toml --timeout 900")]
    Verify {
        #[command(flatten)]
        target: cmd::provision::Target,
        /// Seconds to wait for each replication (AWS: most objects within 15 minutes).
        #[arg(long, default_value_t = 900)]
        timeout: u64,
    },
    /// Remove what xrepl created (buckets that hold data only with --force).
    #[command(after_help = "Example:\n  xrepl destroy --spec my.toml --force")]
    Destroy {
        #[command(flatten)]
        target: cmd::provision::Target,
        #[arg(long)]
        force: bool,
    },
    /// Read an existing replication setup (configuration, role and its policies, destination bucket
    /// policy) and write the spec that describes it.
    #[command(
        after_help = "Examples:\n  xrepl import --bucket my-source --out imported/spec.toml                 # default credentials (AWS)\n  xrepl import --bucket xrepl-guide-source --account 111111111111 --endpoint http://127.0.0.1:4566"
    )]
    Import(cmd::provision::ImportArgs),
    /// Replicate existing objects (written before the rule, or FAILED) with an S3 Batch Replication job.
    #[command(
        after_help = "Examples:\n  xrepl batch-replicate --spec my.toml                                  # NONE and FAILED objects\n  xrepl batch-replicate --spec fixtures/batch/repair-then-replicate.toml --endpoint http://127.0.0.1:4566 --status FAILED"
    )]
    BatchReplicate(cmd::batch::BatchArgs),
    /// Serve the emulator (S3, IAM, STS, KMS on one port) until Ctrl-C.
    #[command(
        after_help = "Example:\n  xrepl serve --port 4566 --account 111111111111 --account 222222222222\n  aws --endpoint-url http://127.0.0.1:4566 s3 ls   # with AWS_ACCESS_KEY_ID=111111111111 AWS_SECRET_ACCESS_KEY=test"
    )]
    Serve(cmd::serve::ServeArgs),
    /// Exit 0 when a served emulator answers its health endpoint (container health checks).
    Health {
        #[arg(long, default_value = "http://127.0.0.1:4566")]
        endpoint: String,
    },
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(output::color_enabled()).try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let out = Output::new(cli.output);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo => cmd::demo::demo(&out).await,
            Command::Check { spec } => cmd::demo::check(&out, &spec).await,
            Command::Lint { files, kind } => cmd::provision::lint(&out, &files, kind),
            Command::Export { spec, document, minimal } => cmd::provision::export(&out, &spec, document, minimal),
            Command::Plan(target) => cmd::provision::plan(&out, &target).await,
            Command::Apply(target) => cmd::provision::apply(&out, &target).await,
            Command::Verify { target, timeout } => cmd::provision::verify(&out, &target, timeout).await,
            Command::Destroy { target, force } => cmd::provision::destroy(&out, &target, force).await,
            Command::Import(args) => cmd::provision::import(&out, &args).await,
            Command::BatchReplicate(args) => cmd::batch::batch_replicate(&out, &args).await,
            Command::Serve(args) => cmd::serve::serve(&out, args).await,
            Command::Health { endpoint } => cmd::serve::health(&out, &endpoint).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            out.error(&err);
            err.exit_code()
        }
    }
}
