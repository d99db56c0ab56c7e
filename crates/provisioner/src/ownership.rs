//! What xrepl owns, and how it recognizes it again, recorded where AWS keeps it (never in a
//! local state file, so any machine and any later run sees the same thing):
//!
//! - **buckets and roles xrepl created** carry the tag `xrepl:managed = true`. A bucket is tagged
//!   right after CreateBucket; if tagging fails, apply deletes the bucket it just created (it is
//!   empty), so a rerun creates and tags it again instead of finding an untagged bucket;
//! - **bucket policy statements** xrepl wrote have a Sid starting with `Xrepl`; they are added,
//!   updated and removed by Sid, and every other statement is kept as it is (statements of a
//!   `bucket_policy_file` get the prefix too: `Xrepl<their Sid>`, or `XreplStatement<n>`);
//! - **replication rules** are xrepl's when their ID is one of the spec's rule IDs; other rules are
//!   kept (same Role required, priorities must not collide);
//! - **a role xrepl did not create** is only changed with `adopt` (`[role] adopt = true` or
//!   `--adopt-role`). Then xrepl tags it `xrepl:adopted = true`, records the trust policy it is
//!   about to replace in `xrepl:trust-<n>` tags (base64 of the JSON, in 256-character chunks: IAM
//!   tag values cannot hold JSON punctuation), and records in `xrepl:policy` the name of the
//!   inline policy it added (it never replaces an inline policy it did not write). `destroy`
//!   deletes that inline policy, puts the recorded trust policy back, and removes its tags.

use base64::Engine;
use serde_json::Value;

use crate::error::ProvisionError;

/// On a role xrepl did not create but was allowed to change.
pub const ADOPTED_TAG: &str = "xrepl:adopted";
/// The inline policy xrepl added to an adopted role.
pub const POLICY_TAG: &str = "xrepl:policy";
/// `xrepl:trust-0`, `xrepl:trust-1`, ...: the adopted role's original trust policy.
pub const TRUST_TAG_PREFIX: &str = "xrepl:trust-";
/// IAM's limit for a tag value.
const TAG_VALUE_MAX: usize = 256;

/// What the tags of an existing role say xrepl did to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Adoption {
    /// The role carries [`ADOPTED_TAG`]` = true`: xrepl was allowed to change it.
    pub adopted: bool,
    /// The inline policy xrepl added.
    pub policy: Option<String>,
    /// The trust policy the role had before xrepl changed it (JSON text).
    pub original_trust: Option<String>,
}

impl Adoption {
    /// Read the record from a role's tags.
    pub fn from_tags(tags: &[(String, String)]) -> Result<Adoption, ProvisionError> {
        let mut chunks: Vec<(usize, &str)> = Vec::new();
        let mut out = Adoption::default();
        for (k, v) in tags {
            if k == ADOPTED_TAG {
                out.adopted = v == "true";
            } else if k == POLICY_TAG {
                out.policy = Some(v.clone());
            } else if let Some(n) = k.strip_prefix(TRUST_TAG_PREFIX) {
                let n = n.parse::<usize>().map_err(|_| record_error(&format!("tag {k} is not {TRUST_TAG_PREFIX}<number>")))?;
                chunks.push((n, v.as_str()));
            }
        }
        if !chunks.is_empty() {
            chunks.sort_by_key(|(n, _)| *n);
            if chunks.iter().enumerate().any(|(i, (n, _))| i != *n) {
                return Err(record_error("the xrepl:trust-<n> tags are not numbered 0, 1, 2, ... (one is missing)"));
            }
            let encoded: String = chunks.iter().map(|(_, v)| *v).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.as_bytes())
                .map_err(|e| record_error(&format!("the xrepl:trust-<n> tags are not base64: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|_| record_error("the recorded trust policy is not UTF-8"))?;
            serde_json::from_str::<Value>(&text).map_err(|e| record_error(&format!("the recorded trust policy is not JSON: {e}")))?;
            out.original_trust = Some(text);
        }
        Ok(out)
    }

    /// The tag keys xrepl put on the role (to remove them again).
    pub fn tag_keys(tags: &[(String, String)]) -> Vec<String> {
        tags.iter().map(|(k, _)| k).filter(|k| is_record_key(k)).cloned().collect()
    }
}

fn is_record_key(k: &str) -> bool {
    k == ADOPTED_TAG || k == POLICY_TAG || k.starts_with(TRUST_TAG_PREFIX)
}

fn record_error(message: &str) -> ProvisionError {
    ProvisionError::Document(format!("the role's xrepl adoption record: {message}"))
}

/// The tags that record `trust` (the role's trust policy before xrepl changed it).
pub fn trust_record_tags(trust: &Value) -> Vec<(String, String)> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(trust.to_string());
    encoded
        .as_bytes()
        .chunks(TAG_VALUE_MAX)
        .enumerate()
        // base64 is ASCII: every chunk is valid UTF-8.
        .map(|(i, c)| (format!("{TRUST_TAG_PREFIX}{i}"), String::from_utf8_lossy(c).into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_long_trust_policy_round_trips_through_tags() {
        let statements: Vec<Value> = (0..20)
            .map(|i| json!({"Sid": format!("S{i}"), "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}))
            .collect();
        let trust = json!({"Version": "2012-10-17", "Statement": statements});
        let mut tags = trust_record_tags(&trust);
        assert!(tags.len() > 2, "{tags:?}");
        assert!(tags.iter().all(|(_, v)| v.len() <= 256 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))));
        tags.reverse();
        tags.push((ADOPTED_TAG.into(), "true".into()));
        tags.push(("team".into(), "a".into()));
        let record = Adoption::from_tags(&tags).unwrap();
        assert!(record.adopted);
        let back: Value = serde_json::from_str(record.original_trust.as_deref().unwrap()).unwrap();
        assert_eq!(back, trust);
        assert_eq!(Adoption::tag_keys(&tags).len(), tags.len() - 1);
        tags.retain(|(k, _)| k != "xrepl:trust-1");
        assert!(Adoption::from_tags(&tags).is_err());
    }
}
