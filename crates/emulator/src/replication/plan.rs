//! Which rules a change matches, decided when the change happens (semantics doc §2, §3, §9):
//! objects written before a rule existed are never picked up, later tagging does not make an
//! object match retroactively, replicas are not replicated onward.

use std::collections::BTreeMap;

use s3s::dto::{ReplicationConfiguration, ReplicationRule};

use super::{Target, Task, TaskKind};
use crate::state::s3::{is_archived_class, DestinationStatus, ReplicationState, Sse};
use crate::state::World;

fn enabled(status: Option<&str>) -> bool {
    status == Some("Enabled")
}

/// Schema V1: a rule with a top-level Prefix and no Filter.
fn is_v1(rule: &ReplicationRule) -> bool {
    rule.filter.is_none()
}

fn tag_matches(tags: &[(String, String)], key: Option<&str>, value: Option<&str>) -> bool {
    tags.iter().any(|(k, v)| Some(k.as_str()) == key && Some(v.as_str()) == value)
}

fn rule_matches(rule: &ReplicationRule, key: &str, tags: &[(String, String)]) -> bool {
    match &rule.filter {
        None => key.starts_with(rule.prefix.as_deref().unwrap_or("")),
        Some(filter) => {
            if let Some(prefix) = &filter.prefix {
                return key.starts_with(prefix.as_str());
            }
            if let Some(tag) = &filter.tag {
                return tag_matches(tags, tag.key.as_deref(), tag.value.as_deref());
            }
            if let Some(and) = &filter.and {
                let prefix_ok = key.starts_with(and.prefix.as_deref().unwrap_or(""));
                let tags_ok = and.tags.iter().flatten().all(|t| tag_matches(tags, t.key.as_deref(), t.value.as_deref()));
                return prefix_ok && tags_ok;
            }
            true
        }
    }
}

/// The rules that send a change to each destination: one per destination bucket, the highest
/// `Priority` winning where rules overlap.
pub(super) fn select_targets(
    config: &ReplicationConfiguration,
    key: &str,
    tags: &[(String, String)],
    kms: bool,
    delete_marker: bool,
) -> Vec<Target> {
    let mut chosen: BTreeMap<String, &ReplicationRule> = BTreeMap::new();
    for rule in &config.rules {
        if !enabled(Some(rule.status.as_str())) || !rule_matches(rule, key, if delete_marker { &[] } else { tags }) {
            continue;
        }
        let kms_opt_in = rule
            .source_selection_criteria
            .as_ref()
            .and_then(|s| s.sse_kms_encrypted_objects.as_ref())
            .is_some_and(|s| s.status.as_str() == "Enabled");
        if kms && !kms_opt_in {
            continue;
        }
        if delete_marker && !is_v1(rule) {
            let dmr = rule.delete_marker_replication.as_ref().and_then(|d| d.status.as_ref()).map(|s| s.as_str());
            if !enabled(dmr) {
                continue;
            }
        }
        let Some(dest) = crate::access::bucket_from_arn(&rule.destination.bucket) else { continue };
        let better = chosen.get(dest).is_none_or(|current| rule.priority.unwrap_or(0) > current.priority.unwrap_or(0));
        if better {
            chosen.insert(dest.to_owned(), rule);
        }
    }
    chosen
        .into_iter()
        .map(|(dest, rule)| Target {
            rule_id: rule.id.clone().unwrap_or_default(),
            role_arn: config.role.clone(),
            rule: rule.clone(),
            destination_bucket: dest,
        })
        .collect()
}

fn replica_modifications(rule: &ReplicationRule) -> bool {
    rule.source_selection_criteria.as_ref().and_then(|s| s.replica_modifications.as_ref()).is_some_and(|r| r.status.as_str() == "Enabled")
}

/// Plans replication for a change just made to `bucket/key@version_id`; marks new source
/// versions `PENDING`. Returns the tasks to queue once the world lock is released.
pub fn on_change(world: &mut World, bucket_name: &str, key: &str, version_id: &str, kind: TaskKind) -> Vec<Task> {
    let Some(bucket) = world.buckets.get_mut(bucket_name) else { return Vec::new() };
    let Some(config) = bucket.replication.clone() else { return Vec::new() };
    let Some(version) = bucket.version_mut(key, version_id) else { return Vec::new() };
    let kms = matches!(version.sse, Some(Sse::Kms { .. }));
    let targets = match kind {
        TaskKind::Object => {
            // Replicas are not replicated onward (§3), nor are objects in the archive classes:
            // "Objects that are stored in S3 Glacier Flexible Retrieval or S3 Glacier Deep Archive"
            // are not replicated (User Guide `replication-what-is-isnot-replicated`).
            if version.replication.as_ref().is_some_and(ReplicationState::is_replica) || is_archived_class(&version.storage_class) {
                return Vec::new();
            }
            let targets = select_targets(&config, key, &version.tags, kms, false);
            if !targets.is_empty() {
                let destinations = targets.iter().map(|t| (t.destination_bucket.clone(), DestinationStatus::Pending)).collect();
                version.replication = Some(ReplicationState::Source { destinations });
            }
            targets
        }
        TaskKind::DeleteMarker => select_targets(&config, key, &[], false, true),
        TaskKind::Tags | TaskKind::Acl => match &mut version.replication {
            // Two-way sync: metadata changes on a replica flow back only with ReplicaModifications,
            // and the replica reports PENDING until they arrive (User Guide `replication-status`).
            Some(state @ ReplicationState::Replica { .. }) => {
                let mut targets = select_targets(&config, key, &version.tags, kms, false);
                targets.retain(|t| replica_modifications(&t.rule));
                let sync = state.destinations_mut();
                for t in &targets {
                    sync.insert(t.destination_bucket.clone(), DestinationStatus::Pending);
                }
                targets
            }
            Some(ReplicationState::Source { destinations }) => {
                let mut targets = select_targets(&config, key, &version.tags, kms, false);
                // Only replicas that exist get metadata updates: a PENDING copy will carry the new
                // metadata anyway, and a FAILED one stays failed (live replication does not retry).
                // Whether an ACL change reaches a replica depends on how that replica was made
                // (with or without owner override): the engine decides, per replica.
                targets.retain(|t| destinations.get(&t.destination_bucket) == Some(&DestinationStatus::Completed));
                for t in &targets {
                    destinations.insert(t.destination_bucket.clone(), DestinationStatus::Pending);
                }
                targets
            }
            None => Vec::new(),
        },
    };
    if targets.is_empty() {
        return Vec::new();
    }
    vec![Task {
        id: 0,
        source_bucket: bucket_name.to_owned(),
        key: key.to_owned(),
        version_id: version_id.to_owned(),
        kind,
        targets,
        requested: crate::state::now(),
        batch: false,
    }]
}
