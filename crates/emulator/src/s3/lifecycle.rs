//! Running lifecycle rules (User Guide `object-lifecycle-mgmt`, `intro-lifecycle-rules`) at a
//! chosen time, so tests can move the clock instead of waiting days. S3 runs lifecycle once a day
//! in the background; here a call runs it once, as of `now`:
//! - `Expiration` (Days: creation + days rounded up to the next midnight UTC; Date): the current
//!   version gets a delete marker (versioned buckets) or is removed (unversioned);
//!   `ExpiredObjectDeleteMarker` removes a delete marker that is the only version left;
//! - `NoncurrentVersionExpiration`: removes versions noncurrent for `NoncurrentDays` (keeping
//!   `NewerNoncurrentVersions`); transitions change the storage class the same way;
//! - `AbortIncompleteMultipartUpload`: aborts uploads initiated `DaysAfterInitiation` ago.
//!
//! What lifecycle does is not replicated ("Amazon S3 doesn't replicate ... objects deleted by
//! lifecycle ... delete markers created by lifecycle", User Guide
//! `replication-what-is-isnot-replicated`): nothing here queues replication, and rules on a
//! destination bucket act on its replicas like on any other object.

use s3s::dto;
use time::OffsetDateTime;

use crate::runtime::Shared;
use crate::state::persist::PersistError;
use crate::state::s3::{Bucket, ObjectVersion, Versioning};
use crate::state::World;

/// What one run did, per bucket and in total.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LifecycleReport {
    /// Current versions that got a lifecycle delete marker (versioned buckets).
    pub delete_markers_added: usize,
    /// Versions removed for good (unversioned expirations, noncurrent expirations).
    pub versions_removed: usize,
    /// Delete markers removed by `ExpiredObjectDeleteMarker`.
    pub delete_markers_removed: usize,
    /// Versions whose storage class a transition changed.
    pub transitioned: usize,
    /// Incomplete multipart uploads aborted.
    pub uploads_aborted: usize,
}

/// The moment `days` after `since`, rounded up to the next midnight UTC (how S3 dates Days rules).
fn due(since: OffsetDateTime, days: i32) -> OffsetDateTime {
    let at = since + time::Duration::days(i64::from(days));
    let midnight = at.replace_time(time::Time::MIDNIGHT);
    if midnight == at {
        at
    } else {
        midnight + time::Duration::days(1)
    }
}

fn date_of(date: &dto::Timestamp) -> OffsetDateTime {
    OffsetDateTime::from(date.clone())
}

/// The rule's filter (or its legacy top-level `Prefix`) against a version.
fn matches(rule: &dto::LifecycleRule, v: &ObjectVersion) -> bool {
    let size = v.size() as i64;
    let tagged = |k: &str, val: &str| v.tags.iter().any(|(tk, tv)| tk == k && tv == val);
    let Some(filter) = &rule.filter else {
        return rule.prefix.as_deref().is_none_or(|p| v.key.starts_with(p));
    };
    let sized = |gt: Option<i64>, lt: Option<i64>| gt.is_none_or(|g| size > g) && lt.is_none_or(|l| size < l);
    if let Some(and) = &filter.and {
        return and.prefix.as_deref().is_none_or(|p| v.key.starts_with(p))
            && and.tags.iter().flatten().all(|t| tagged(t.key.as_deref().unwrap_or(""), t.value.as_deref().unwrap_or("")))
            && sized(and.object_size_greater_than, and.object_size_less_than);
    }
    filter.prefix.as_deref().is_none_or(|p| v.key.starts_with(p))
        && filter.tag.as_ref().is_none_or(|t| tagged(t.key.as_deref().unwrap_or(""), t.value.as_deref().unwrap_or("")))
        && sized(filter.object_size_greater_than, filter.object_size_less_than)
}

/// The `x-amz-expiration` a current version is answered with (API Reference `API_PutObject`,
/// `API_HeadObject`: "the expiry-date and rule-id key-value pairs"): the earliest expiry among the
/// enabled rules that match it, the first such rule on a tie (as recorded:
/// `test_bucket_lifecycle_multiple_rules` → rule_one, whose prefix is the longest, is listed first).
pub fn expiration_header(config: Option<&dto::BucketLifecycleConfiguration>, v: &ObjectVersion) -> Option<String> {
    let rules = config?.rules.iter().filter(|r| r.status.as_str() == "Enabled" && matches(r, v));
    let dated = rules.filter_map(|rule| {
        let expiration = rule.expiration.as_ref()?;
        let at = expiration.days.map(|d| due(v.last_modified, d)).or_else(|| expiration.date.as_ref().map(date_of))?;
        Some((at, rule.id.clone().unwrap_or_default()))
    });
    // `min_by_key` keeps the first of equal minimums.
    let (at, rule_id) = dated.min_by_key(|(at, _)| *at)?;
    Some(format!("expiry-date=\"{}\", rule-id=\"{rule_id}\"", httpdate::fmt_http_date(std::time::SystemTime::from(at))))
}

fn expired(expiration: &dto::LifecycleExpiration, created: OffsetDateTime, now: OffsetDateTime) -> bool {
    expiration.days.is_some_and(|d| due(created, d) <= now) || expiration.date.as_ref().is_some_and(|d| date_of(d) <= now)
}

/// Runs the buckets' lifecycle rules as of `offset` from now and commits what they changed (the
/// admin endpoint and `Emulator::run_lifecycle`).
pub fn run_and_commit(shared: &Shared, offset: time::Duration) -> Result<LifecycleReport, PersistError> {
    let report = run(&mut shared.world(), crate::state::now() + offset);
    shared.checkpoint(&[])?;
    Ok(report)
}

/// Runs every enabled rule of every bucket as of `now`.
pub fn run(world: &mut World, now: OffsetDateTime) -> LifecycleReport {
    let mut report = LifecycleReport::default();
    let names: Vec<String> = world.buckets.iter().filter(|(_, b)| b.settings.lifecycle.is_some()).map(|(n, _)| n.clone()).collect();
    for name in names {
        if let Some(bucket) = world.buckets.get_mut(&name) {
            run_bucket(bucket, now, &mut report);
        }
    }
    report
}

fn run_bucket(bucket: &mut Bucket, now: OffsetDateTime, report: &mut LifecycleReport) {
    let Some(config) = bucket.settings.lifecycle.clone() else { return };
    for rule in config.rules.iter().filter(|r| r.status.as_str() == "Enabled") {
        let keys: Vec<String> = bucket.objects.keys().cloned().collect();
        for key in keys {
            apply_to_key(bucket, rule, &key, now, report);
        }
        if let Some(days) = rule.abort_incomplete_multipart_upload.as_ref().and_then(|a| a.days_after_initiation) {
            let stale: Vec<String> = bucket
                .uploads
                .all()
                .filter(|u| rule.prefix.as_deref().is_none_or(|p| u.key.starts_with(p)) && due(u.initiated, days) <= now)
                .map(|u| u.upload_id.clone())
                .collect();
            for id in stale {
                if bucket.uploads.remove(&id).is_some() {
                    report.uploads_aborted += 1;
                }
            }
        }
    }
}

fn apply_to_key(bucket: &mut Bucket, rule: &dto::LifecycleRule, key: &str, now: OffsetDateTime, report: &mut LifecycleReport) {
    let Some(versions) = bucket.objects.get(key) else { return };
    let Some(current) = versions.last().cloned() else { return };
    // Noncurrent versions, newest first, with the time each stopped being current.
    let noncurrent: Vec<(String, OffsetDateTime)> =
        versions.windows(2).rev().map(|pair| (pair[0].version_id.clone(), pair[1].last_modified)).collect();

    if let Some(expiration) = &rule.expiration {
        if current.delete_marker {
            if expiration.expired_object_delete_marker == Some(true) && versions.len() == 1 {
                bucket.delete_version(key, &current.version_id);
                report.delete_markers_removed += 1;
                return;
            }
        } else if matches(rule, &current) && expired(expiration, current.last_modified, now) {
            if bucket.versioning == Versioning::Unversioned {
                bucket.delete_version(key, &current.version_id);
                report.versions_removed += 1;
                return;
            }
            // A lifecycle delete marker: like a DELETE, but never replicated.
            bucket.delete_current(key, &bucket.owner_account.clone(), now);
            report.delete_markers_added += 1;
        }
    }
    for transition in rule.transitions.iter().flatten() {
        let Some(class) = transition.storage_class.as_ref().map(|c| c.as_str().to_owned()) else { continue };
        let due_now = transition.days.is_some_and(|d| due(current.last_modified, d) <= now)
            || transition.date.as_ref().is_some_and(|d| date_of(d) <= now);
        if !current.delete_marker && matches(rule, &current) && due_now {
            if let Some(v) = bucket.version_mut(key, &current.version_id).filter(|v| v.storage_class != class) {
                v.storage_class = class;
                report.transitioned += 1;
            }
        }
    }
    for (rank, (version_id, since)) in noncurrent.iter().enumerate() {
        let Some(version) = bucket.version(key, version_id).cloned() else { continue };
        if !version.delete_marker && !matches(rule, &version) {
            continue;
        }
        if let Some(expiration) = &rule.noncurrent_version_expiration {
            let keep = usize::try_from(expiration.newer_noncurrent_versions.unwrap_or(0)).unwrap_or(0);
            if rank >= keep && expiration.noncurrent_days.is_some_and(|d| due(*since, d) <= now) {
                bucket.delete_version(key, version_id);
                report.versions_removed += 1;
                continue;
            }
        }
        for transition in rule.noncurrent_version_transitions.iter().flatten() {
            let Some(class) = transition.storage_class.as_ref().map(|c| c.as_str().to_owned()) else { continue };
            if !version.delete_marker && transition.noncurrent_days.is_some_and(|d| due(*since, d) <= now) {
                if let Some(v) = bucket.version_mut(key, version_id).filter(|v| v.storage_class != class) {
                    v.storage_class = class;
                    report.transitioned += 1;
                }
            }
        }
    }
}
