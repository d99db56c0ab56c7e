//! Prove that replication works: write a probe object per rule, wait for S3 to replicate it, and
//! check what the guide only asks you to eyeball — status, version id, owner, tags, storage class,
//! encryption and delete markers. Probes live under `<rule prefix>xrepl-verify/<run id>/` and are
//! removed (every version, both sides) at the end.
//!
//! Waiting is polling with backoff bounded by a deadline, never a fixed sleep.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types as s3t;

use crate::aws::{aws_error, is_not_found, AccountClients, Accounts};
use crate::error::ProvisionError;
use crate::spec::{RuleSpec, Spec};

/// Where probes go, under each rule's prefix.
pub const PROBE_PREFIX: &str = "xrepl-verify/";
/// Tag put on every probe (its value is the run id).
pub const PROBE_TAG: &str = "xrepl-probe";
/// How long a probe may carry no replication status before verify concludes no rule matches it.
const NO_STATUS_GRACE: Duration = Duration::from_secs(30);

/// How [`verify`] waits. The default waits up to 15 minutes per replication, polling from every
/// 50 ms up to every 5 s, and removes the probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// How long to wait for each replication (AWS: most objects within 15 minutes).
    pub timeout: Duration,
    /// The delay before the second poll; it doubles after each poll, up to `poll_max`.
    pub poll_initial: Duration,
    /// The largest delay between two polls.
    pub poll_max: Duration,
    /// Leave the probes in place (for debugging).
    pub keep_probes: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            timeout: Duration::from_secs(15 * 60),
            poll_initial: Duration::from_millis(50),
            poll_max: Duration::from_secs(5),
            keep_probes: false,
        }
    }
}

/// A check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// What the rule promises happened.
    Passed,
    /// It did not: why, in words (e.g. the source status became FAILED, the replica's owner is
    /// the source account).
    Failed(String),
    /// Not checked, and why (a disabled rule, a check the rule does not call for such as
    /// storage class without `storage_class`, or canonical ids that could not be read).
    Skipped(String),
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The rule the check belongs to (empty for `replication-configured`).
    pub rule_id: String,
    /// `replication-configured` (only when missing), `probe-written`, `source-status`,
    /// `replica-version`, `replica-content`, `replica-owner`, `replica-tags`,
    /// `replica-storage-class`, `replica-encryption`, `delete-marker`.
    pub name: &'static str,
    /// Passed, failed (with the reason) or skipped.
    pub outcome: Outcome,
    /// What was observed.
    pub detail: String,
    /// Time from the start of the rule's checks to this result.
    pub elapsed: Duration,
}

/// What [`verify`] found. Displays one line per check: `PASS|FAIL|SKIP [rule] name: why (detail; seconds)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// This run's id: the probes' key segment under [`PROBE_PREFIX`] and the [`PROBE_TAG`] value.
    pub run_id: String,
    /// Every check, rule by rule, in order.
    pub checks: Vec<Check>,
    /// Probe versions that could not be removed.
    pub cleanup_errors: Vec<String>,
}

impl VerifyReport {
    /// No check failed (skipped checks do not count against it).
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(|c| matches!(c.outcome, Outcome::Failed(_)))
    }

    /// The check `name` (see [`Check::name`]) of rule `rule_id`, if it ran.
    pub fn check(&self, rule_id: &str, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.rule_id == rule_id && c.name == name)
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            let (mark, why) = match &c.outcome {
                Outcome::Passed => ("PASS", String::new()),
                Outcome::Failed(m) => ("FAIL", format!(": {m}")),
                Outcome::Skipped(m) => ("SKIP", format!(": {m}")),
            };
            writeln!(f, "{mark} [{}] {}{why} ({}; {:.1}s)", c.rule_id, c.name, c.detail, c.elapsed.as_secs_f64())?;
        }
        for e in &self.cleanup_errors {
            writeln!(f, "cleanup: {e}")?;
        }
        Ok(())
    }
}

/// Polls with exponential backoff until a deadline.
struct Poller {
    deadline: Instant,
    delay: Duration,
    max: Duration,
}

impl Poller {
    fn new(o: &VerifyOptions) -> Poller {
        Poller { deadline: Instant::now() + o.timeout, delay: o.poll_initial, max: o.poll_max }
    }

    /// Sleep before the next poll; false once the deadline has passed.
    async fn wait(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        tokio::time::sleep(self.delay.min(self.deadline - now)).await;
        self.delay = (self.delay * 2).min(self.max);
        true
    }
}

fn run_id() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", nanos, std::process::id())
}

/// Key-safe form of a rule id.
fn slug(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// The rule S3 applies to an object for `destination_bucket`: among the enabled rules to that
/// destination that match, the highest priority (each destination gets its own copy).
pub fn effective_rule<'a>(spec: &'a Spec, destination_bucket: &str, key: &str, tags: &BTreeMap<String, String>) -> Option<&'a RuleSpec> {
    spec.rules
        .iter()
        .filter(|r| r.enabled && spec.destination_of(r).bucket == destination_bucket)
        .filter(|r| key.starts_with(r.prefix_str()))
        .filter(|r| r.tags.iter().all(|(k, v)| tags.get(k) == Some(v)))
        .max_by_key(|r| r.priority)
}

fn encode_tags(tags: &BTreeMap<String, String>) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    tags.iter()
        .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, NON_ALPHANUMERIC), utf8_percent_encode(v, NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Records checks for one rule.
struct Recorder<'a> {
    rule_id: &'a str,
    started: Instant,
    checks: Vec<Check>,
}

impl Recorder<'_> {
    fn push(&mut self, name: &'static str, outcome: Outcome, detail: impl Into<String>) {
        self.checks.push(Check {
            rule_id: self.rule_id.to_string(),
            name,
            outcome,
            detail: detail.into(),
            elapsed: self.started.elapsed(),
        });
    }

    fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.push(name, Outcome::Passed, detail);
    }

    fn fail(&mut self, name: &'static str, why: impl Into<String>, detail: impl Into<String>) {
        self.push(name, Outcome::Failed(why.into()), detail);
    }

    fn skip(&mut self, name: &'static str, why: impl Into<String>) {
        self.push(name, Outcome::Skipped(why.into()), "");
    }
}

/// Verify every enabled rule of an applied spec, then remove the probes.
///
/// For each enabled rule it writes one probe object (PutObject, tagged with the rule's tags and
/// [`PROBE_TAG`], SSE-KMS when the rule replicates KMS objects) under
/// `<rule prefix>xrepl-verify/<run id>/`, polls its replication status (HeadObject) until
/// COMPLETED or FAILED, then checks the replica in the destination: version id, content, owner,
/// tags, storage class, encryption, and with delete marker replication a DeleteObject's marker.
/// Failed checks are results, not errors: see [`VerifyReport::passed`]. Without a replication
/// configuration on the source bucket it stops at once with a failed `replication-configured`.
///
/// # Errors
///
/// [`ProvisionError::MissingClients`] without the source's or a destination's clients;
/// [`ProvisionError::Aws`] when GetBucketReplication fails other than "not found".
pub async fn verify(spec: &Spec, accounts: &Accounts, options: &VerifyOptions) -> Result<VerifyReport, ProvisionError> {
    let src = accounts.source()?;
    let run = run_id();
    let mut report = VerifyReport { run_id: run.clone(), checks: Vec::new(), cleanup_errors: Vec::new() };
    // Without a replication configuration no probe can replicate: say so now, not after a timeout.
    match crate::plan::observe_replication(src, &spec.source.bucket).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            report.checks.push(Check {
                rule_id: String::new(),
                name: "replication-configured",
                outcome: Outcome::Failed(format!("s3://{} has no replication configuration: apply the spec first", spec.source.bucket)),
                detail: String::new(),
                elapsed: Duration::ZERO,
            });
            return Ok(report);
        }
        Err(e) => return Err(e),
    }
    let mut prefixes = Vec::new();
    for rule in &spec.rules {
        let mut rec = Recorder { rule_id: &rule.id, started: Instant::now(), checks: Vec::new() };
        if !rule.enabled {
            rec.skip("probe-written", "the rule is disabled");
            report.checks.extend(rec.checks);
            continue;
        }
        let prefix = format!("{}{PROBE_PREFIX}{run}/{}/", rule.prefix_str(), slug(&rule.id));
        // Each rule's probe is checked in the destination that rule replicates to.
        let destination = spec.destination_of(rule);
        let dst = accounts.for_destination(&destination.account_id)?;
        let owners = Owners::read(src, dst, &destination.bucket).await;
        prefixes.push(prefix.clone());
        verify_rule(spec, src, (dst, &destination.bucket), rule, &prefix, &run, &owners, options, &mut rec).await;
        report.checks.extend(rec.checks);
    }
    if !options.keep_probes {
        // A probe may match rules to other destinations too: clean every destination.
        let mut buckets = vec![(src, &spec.source.bucket)];
        for d in spec.destinations() {
            buckets.push((accounts.for_destination(&d.account_id)?, &d.bucket));
        }
        for prefix in &prefixes {
            for &(clients, bucket) in &buckets {
                if let Err(e) = remove_versions(clients, bucket, prefix).await {
                    report.cleanup_errors.push(format!("{bucket}/{prefix}: {e}"));
                }
            }
        }
    }
    Ok(report)
}

/// Canonical ids and the destination's ownership setting, for the owner check.
struct Owners {
    source: Option<String>,
    destination: Option<String>,
    destination_enforced: bool,
}

impl Owners {
    async fn read(src: &AccountClients, dst: &AccountClients, bucket: &str) -> Owners {
        let enforced = match dst.s3.get_bucket_ownership_controls().bucket(bucket).send().await {
            Ok(out) => out
                .ownership_controls()
                .is_some_and(|c| c.rules().iter().any(|r| *r.object_ownership() == s3t::ObjectOwnership::BucketOwnerEnforced)),
            Err(_) => false,
        };
        Owners {
            source: src.canonical_user_id().await.ok().flatten(),
            destination: dst.canonical_user_id().await.ok().flatten(),
            destination_enforced: enforced,
        }
    }
}

/// One rule's probe object: where it is written, where its replica should appear, and what the
/// rule S3 will apply to it promises.
struct Probe<'a> {
    src: &'a AccountClients,
    src_bucket: &'a str,
    dst: &'a AccountClients,
    dst_bucket: &'a str,
    key: String,
    body: String,
    tags: BTreeMap<String, String>,
    /// The rule S3 actually applies to the probe (overlapping rules: highest priority).
    effective: &'a RuleSpec,
    options: &'a VerifyOptions,
}

#[allow(clippy::too_many_arguments)]
async fn verify_rule(
    spec: &Spec,
    src: &AccountClients,
    (dst, dst_bucket): (&AccountClients, &str),
    rule: &RuleSpec,
    prefix: &str,
    run: &str,
    owners: &Owners,
    options: &VerifyOptions,
    rec: &mut Recorder<'_>,
) {
    let key = format!("{prefix}object");
    let body = format!("xrepl verify probe {run} for rule {}\n", rule.id);
    let mut tags = rule.tags.clone();
    tags.insert(PROBE_TAG.to_string(), run.to_string());
    // Expectations follow the rule S3 will actually apply (overlapping rules: highest priority).
    let effective = effective_rule(spec, dst_bucket, &key, &tags).unwrap_or(rule);
    let probe = Probe { src, src_bucket: &spec.source.bucket, dst, dst_bucket, key, body, tags, effective, options };

    // 1. Write the probe.
    let Some(version) = probe.write(rule, rec).await else { return };
    // 2. Source status: PENDING → COMPLETED (or FAILED).
    if !probe.source_status(&version, rec).await {
        return;
    }
    // 3. The replica: same version id, status REPLICA.
    let Some(head) = probe.replica_version(&version, rec).await else { return };
    // 4. Content.
    probe.replica_content(&version, rec).await;
    // 5. Owner: destination with owner override (or BucketOwnerEnforced), else the source.
    probe.replica_owner(&version, owners, rec).await;
    // 6. Tags.
    probe.replica_tags(&version, rec).await;
    // 7. Storage class (HEAD omits STANDARD).
    probe.replica_storage_class(&head, rec);
    // 8. Encryption with the replica key.
    probe.replica_encryption(&head, rec);
    // 9. Delete markers.
    probe.delete_marker(rec).await;
}

impl Probe<'_> {
    /// PutObject of the probe (SSE-KMS when the rule replicates KMS objects); its version id.
    async fn write(&self, rule: &RuleSpec, rec: &mut Recorder<'_>) -> Option<String> {
        let key = &self.key;
        let mut put = self
            .src
            .s3
            .put_object()
            .bucket(self.src_bucket)
            .key(key)
            .body(ByteStream::from(self.body.clone().into_bytes()))
            .tagging(encode_tags(&self.tags));
        if rule.replicate_kms_objects {
            put = put.server_side_encryption(s3t::ServerSideEncryption::AwsKms);
            if let Some(k) = &rule.source_kms_key_arn {
                put = put.ssekms_key_id(k);
            }
        }
        let version = match put.send().await {
            Ok(out) => match out.version_id() {
                Some(v) if v != "null" => v.to_string(),
                _ => {
                    rec.fail("probe-written", "the source returned no version id: is versioning enabled on the source bucket?", key);
                    return None;
                }
            },
            Err(e) => {
                let e = aws_error("PutObject", &self.src.account_id, e);
                rec.fail("probe-written", e.to_string(), key);
                return None;
            }
        };
        rec.pass("probe-written", format!("s3://{}/{key} version {version}", self.src_bucket));
        Some(version)
    }

    /// Polls the source's replication status until COMPLETED or FAILED; true when it completed.
    async fn source_status(&self, version: &str, rec: &mut Recorder<'_>) -> bool {
        let mut poll = Poller::new(self.options);
        let mut last: String;
        let completed = loop {
            match self.src.s3.head_object().bucket(self.src_bucket).key(&self.key).version_id(version).send().await {
                Ok(out) => {
                    let status = out.replication_status().map(|s| s.as_str().to_string());
                    last = status.clone().unwrap_or_else(|| "no replication status".into());
                    match status.as_deref() {
                        Some("COMPLETED" | "COMPLETE") => break Some(true),
                        Some("FAILED") => break Some(false),
                        // S3 marks a matching object PENDING when it is written; still nothing after
                        // a grace period means no rule matches it.
                        None if rec.started.elapsed() > NO_STATUS_GRACE => break None,
                        _ => {}
                    }
                }
                Err(e) => last = aws_error("HeadObject", &self.src.account_id, e).to_string(),
            }
            if !poll.wait().await {
                break None;
            }
        };
        match completed {
            Some(true) => {
                rec.pass("source-status", "COMPLETED");
                true
            }
            Some(false) => {
                rec.fail(
                    "source-status",
                    "S3 marked the source object FAILED: it could not replicate it (check the role's trust and permission policies, the destination bucket policy and destination versioning; `xrepl lint` names the usual causes)",
                    "FAILED",
                );
                false
            }
            None => {
                let why = if last == "no replication status" {
                    "the object carries no replication status: no enabled rule matches it, or the source bucket has no replication configuration"
                } else {
                    "replication did not finish before the timeout"
                };
                rec.fail("source-status", why, last);
                false
            }
        }
    }

    /// Waits for the replica with the source's version id and checks its status is REPLICA; its
    /// HEAD answer, for the checks that read it.
    async fn replica_version(&self, version: &str, rec: &mut Recorder<'_>) -> Option<HeadObjectOutput> {
        let (dst, dst_bucket) = (self.dst, self.dst_bucket);
        let mut poll = Poller::new(self.options);
        let head = loop {
            match dst.s3.head_object().bucket(dst_bucket).key(&self.key).version_id(version).send().await {
                Ok(out) => break Ok(out),
                Err(e) => {
                    let e = aws_error("HeadObject", &dst.account_id, e);
                    if !is_not_found(&e) || !poll.wait().await {
                        break Err(e);
                    }
                }
            }
        };
        let head = match head {
            Ok(h) => h,
            Err(e) => {
                rec.fail("replica-version", format!("no replica with the source's version id {version} in s3://{dst_bucket}: {e}"), "");
                return None;
            }
        };
        match head.replication_status().map(|s| s.as_str()) {
            Some("REPLICA") => rec.pass("replica-version", format!("version {version}, status REPLICA")),
            other => rec.fail(
                "replica-version",
                format!("the replica's replication status is {other:?}, expected REPLICA"),
                format!("version {version}"),
            ),
        }
        Some(head)
    }

    async fn replica_content(&self, version: &str, rec: &mut Recorder<'_>) {
        let (dst, body) = (self.dst, &self.body);
        match dst.s3.get_object().bucket(self.dst_bucket).key(&self.key).version_id(version).send().await {
            Ok(out) => match out.body.collect().await {
                Ok(bytes) => {
                    if bytes.into_bytes().as_ref() == body.as_bytes() {
                        rec.pass("replica-content", format!("{} bytes match", body.len()));
                    } else {
                        rec.fail("replica-content", "the replica's bytes differ from the probe's", "");
                    }
                }
                Err(e) => rec.fail("replica-content", format!("reading the replica failed: {e}"), ""),
            },
            Err(e) => rec.fail("replica-content", aws_error("GetObject", &dst.account_id, e).to_string(), ""),
        }
    }

    /// The destination owns the replica with owner override (or BucketOwnerEnforced), else the source.
    async fn replica_owner(&self, version: &str, owners: &Owners, rec: &mut Recorder<'_>) {
        let (dst, effective) = (self.dst, self.effective);
        let (expected, expected_name) = if effective.owner_override || owners.destination_enforced {
            (owners.destination.as_deref(), "the destination account")
        } else {
            (owners.source.as_deref(), "the source account")
        };
        match (expected, dst.s3.get_object_acl().bucket(self.dst_bucket).key(&self.key).version_id(version).send().await) {
            (None, _) => rec.skip("replica-owner", "the canonical user ids could not be read (ListBuckets)"),
            (Some(want), Ok(acl)) => {
                let got = acl.owner().and_then(|o| o.id()).unwrap_or_default();
                if got == want {
                    rec.pass("replica-owner", format!("owned by {expected_name} ({got})"));
                } else {
                    rec.fail("replica-owner", format!("the replica is owned by {got}, expected {expected_name} ({want})"), "");
                }
            }
            (Some(_), Err(e)) => {
                let e = aws_error("GetObjectAcl", &dst.account_id, e);
                // Without override the source owns the replica and the destination may not read its ACL.
                if !effective.owner_override && e.aws_code() == Some("AccessDenied") {
                    rec.pass("replica-owner", "owned by the source account (the destination may not read its ACL)");
                } else {
                    rec.fail("replica-owner", e.to_string(), "");
                }
            }
        }
    }

    async fn replica_tags(&self, version: &str, rec: &mut Recorder<'_>) {
        let (dst, tags) = (self.dst, &self.tags);
        match dst.s3.get_object_tagging().bucket(self.dst_bucket).key(&self.key).version_id(version).send().await {
            Ok(out) => {
                let got: BTreeMap<String, String> = out.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
                if got == *tags {
                    rec.pass("replica-tags", format!("{} tag(s) replicated", tags.len()));
                } else {
                    rec.fail(
                        "replica-tags",
                        format!("replica tags {got:?}, expected {tags:?} (the role lacks s3:GetObjectVersionTagging, or a policy explicitly denies s3:ReplicateTags?)"),
                        "",
                    );
                }
            }
            Err(e) => rec.fail("replica-tags", aws_error("GetObjectTagging", &dst.account_id, e).to_string(), ""),
        }
    }

    /// HEAD omits the storage class STANDARD.
    fn replica_storage_class(&self, head: &HeadObjectOutput, rec: &mut Recorder<'_>) {
        match &self.effective.storage_class {
            Some(want) => {
                let got = head.storage_class().map_or("STANDARD", |c| c.as_str());
                if got == want {
                    rec.pass("replica-storage-class", got.to_string());
                } else {
                    rec.fail("replica-storage-class", format!("replica storage class {got}, expected {want}"), "");
                }
            }
            None => rec.skip("replica-storage-class", "the rule keeps the source's storage class"),
        }
    }

    fn replica_encryption(&self, head: &HeadObjectOutput, rec: &mut Recorder<'_>) {
        match (self.effective.replicate_kms_objects, &self.effective.replica_kms_key_id) {
            (true, Some(want)) => {
                let sse = head.server_side_encryption().map(|s| s.as_str().to_string());
                let key_id = head.ssekms_key_id().unwrap_or_default();
                // AWS may answer with the key ARN or its id.
                let same_key = key_id == want
                    || want.ends_with(&format!("/{key_id}"))
                    || key_id.ends_with(&format!("/{}", want.rsplit('/').next().unwrap_or(want)));
                if sse.as_deref() == Some("aws:kms") && same_key {
                    rec.pass("replica-encryption", format!("SSE-KMS with {key_id}"));
                } else {
                    rec.fail(
                        "replica-encryption",
                        format!("replica encryption {sse:?} with key {key_id:?}, expected aws:kms with {want}"),
                        "",
                    );
                }
            }
            _ => rec.skip("replica-encryption", "the rule does not replicate SSE-KMS objects"),
        }
    }

    /// With delete marker replication: DeleteObject on the source, then the marker, with the same
    /// version id, in the destination.
    async fn delete_marker(&self, rec: &mut Recorder<'_>) {
        if !self.effective.delete_marker_replication {
            rec.skip("delete-marker", "delete marker replication is off for this rule");
            return;
        }
        let (src, dst, key) = (self.src, self.dst, &self.key);
        let marker = match src.s3.delete_object().bucket(self.src_bucket).key(key).send().await {
            Ok(out) => out.version_id().map(str::to_string),
            Err(e) => {
                rec.fail("delete-marker", aws_error("DeleteObject", &src.account_id, e).to_string(), "");
                return;
            }
        };
        let mut poll = Poller::new(self.options);
        let found = loop {
            match dst.s3.list_object_versions().bucket(self.dst_bucket).prefix(key).send().await {
                Ok(out) => {
                    if let Some(m) = out.delete_markers().iter().find(|m| m.key() == Some(key.as_str())) {
                        break MarkerWait::Found(m.version_id().map(str::to_string));
                    }
                }
                Err(e) => break MarkerWait::Error(aws_error("ListObjectVersions", &dst.account_id, e)),
            }
            if !poll.wait().await {
                break MarkerWait::Timeout;
            }
        };
        match found {
            MarkerWait::Found(dst_marker) if dst_marker == marker => {
                rec.pass("delete-marker", format!("delete marker {} replicated", marker.as_deref().unwrap_or("?")))
            }
            MarkerWait::Found(dst_marker) => rec.fail(
                "delete-marker",
                format!("the replicated delete marker has version id {dst_marker:?}, the source's is {marker:?} (AWS keeps the id)"),
                "",
            ),
            MarkerWait::Timeout => rec.fail(
                "delete-marker",
                "the delete marker did not reach the destination before the timeout (s3:ReplicateDelete missing?)",
                marker.unwrap_or_default(),
            ),
            MarkerWait::Error(e) => rec.fail("delete-marker", e.to_string(), ""),
        }
    }
}

enum MarkerWait {
    Found(Option<String>),
    Timeout,
    Error(ProvisionError),
}

/// Permanently delete every version and delete marker under `prefix` (deletes that name a
/// version id are never replicated, so cleaning one side does not touch the other).
pub(crate) async fn remove_versions(clients: &AccountClients, bucket: &str, prefix: &str) -> Result<usize, ProvisionError> {
    let mut removed = 0;
    let mut key_marker: Option<String> = None;
    let mut version_marker: Option<String> = None;
    loop {
        let out = clients
            .s3
            .list_object_versions()
            .bucket(bucket)
            .prefix(prefix)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .map_err(|e| aws_error("ListObjectVersions", &clients.account_id, e))?;
        let entries: Vec<(String, Option<String>)> = out
            .versions()
            .iter()
            .map(|v| (v.key().unwrap_or_default().to_string(), v.version_id().map(str::to_string)))
            .chain(out.delete_markers().iter().map(|m| (m.key().unwrap_or_default().to_string(), m.version_id().map(str::to_string))))
            .collect();
        for (key, version) in entries {
            clients
                .s3
                .delete_object()
                .bucket(bucket)
                .key(&key)
                .set_version_id(version)
                .send()
                .await
                .map_err(|e| aws_error("DeleteObject", &clients.account_id, e))?;
            removed += 1;
        }
        if out.is_truncated() == Some(true) {
            key_marker = out.next_key_marker().map(str::to_string);
            version_marker = out.next_version_id_marker().map(str::to_string);
            if key_marker.is_none() && version_marker.is_none() {
                break;
            }
        } else {
            break;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_url_encoded() {
        let mut t = BTreeMap::new();
        t.insert("team".to_string(), "a b".to_string());
        t.insert("x/y".to_string(), "1".to_string());
        assert_eq!(encode_tags(&t), "team=a%20b&x%2Fy=1");
    }

    #[test]
    fn slug_keeps_keys_safe() {
        assert_eq!(slug("rule 1/ä"), "rule_1__");
    }
}
