//! The linter: finds what AWS would reject or what would make replication fail, before anything
//! is sent, and points at the file, line and column with a fix.
//!
//! - [`lint_spec`]: the spec's rules and overrides, and every document the user supplied
//!   (policy files, a replication JSON), checked against the options the spec chose.
//! - [`lint_policy_text`]: one policy document: JSON syntax, `Version` (down to the en dash),
//!   grammar.
//! - [`lint_replication_json`]: a `put-bucket-replication` document: schema V1/V2 rules, priorities,
//!   filters, AccessControlTranslation, RTC/metrics, KMS.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::documents::{destination_object_actions, S3_SERVICE};
use crate::error::Location;
use crate::json_pos::{self, Kind, Member, Node};
use crate::policy_check::{allows, denies, strings, Caller};
use crate::spec::{json_error_message, AccountSpec, RuleSpec, Spec, UserDocument, VersioningOverride};

/// Lint codes, stable for tests and for users who want to filter them.
pub mod codes {
    /// The text is not valid JSON (AWS answers MalformedPolicyDocument / MalformedPolicy /
    /// MalformedXML). Error.
    pub const INVALID_JSON: &str = "invalid-json";
    /// A policy's `Version` is not `"2012-10-17"` or `"2008-10-17"` (e.g. typed with en dashes, or
    /// a date of its own); AWS rejects the document. Error.
    pub const INVALID_VERSION: &str = "invalid-version";
    /// A policy has no `Version`: IAM reads it as 2008-10-17, where policy variables are plain
    /// text. Warning.
    pub const MISSING_VERSION: &str = "missing-version";
    /// A policy breaks the policy grammar: not an object, no `Statement`, unknown or misplaced
    /// elements (e.g. `Principal` in an identity policy), a bad `Effect`. Error.
    pub const POLICY_SYNTAX: &str = "policy-syntax";
    /// The role's permission policy or the destination bucket policy does not allow an action
    /// replication needs for the spec's options (or explicitly denies `s3:ReplicateTags`); the
    /// message names the action, the resource and the failure reason S3 would record (e.g.
    /// `DstPutObjectNotPermitted`).
    pub const MISSING_PERMISSION: &str = "missing-permission";
    /// The destination bucket policy grants another principal than the spec's replication role:
    /// replication fails with DstPutObjectNotPermitted. Error.
    pub const PRINCIPAL_MISMATCH: &str = "principal-mismatch";
    /// The trust policy does not let `s3.amazonaws.com` assume the role, or only for other accounts
    /// than the source (`aws:SourceAccount`): replication fails with AssumeRoleNotPermitted. Error.
    pub const TRUST_MISSING_S3: &str = "trust-missing-s3";
    /// The trust policy lets S3 assume the role for any account's bucket (no `aws:SourceAccount`
    /// condition: confused deputy). Warning.
    pub const TRUST_NO_SOURCE_CONDITION: &str = "trust-no-source-condition";
    /// A policy grants more than replication needs, e.g. `s3:PutBucketVersioning` on the
    /// destination to the source's role. Warning.
    pub const OVERBROAD_PERMISSION: &str = "overbroad-permission";
    /// A replication configuration breaks AWS's schema: no `Role` or `Rules`, a rule without
    /// `Destination`, V1 (top-level `Prefix`) and V2 (`Filter`) elements mixed, V2 without
    /// `Priority`, V1 with several destinations. Error.
    pub const REPLICATION_SCHEMA: &str = "replication-schema";
    /// Two rules share a `Priority` (AWS: InvalidRequest). Error.
    pub const DUPLICATE_PRIORITY: &str = "duplicate-priority";
    /// Two rules share an `ID`. Error.
    pub const DUPLICATE_RULE_ID: &str = "duplicate-rule-id";
    /// A rule filters on tags and replicates delete markers, which AWS rejects. Error.
    pub const TAG_FILTER_DELETE_MARKER: &str = "tag-filter-delete-marker";
    /// `AccessControlTranslation` (owner override) without `Destination.Account`, or with an empty
    /// one (AWS: InvalidRequest / InvalidArgument). Error.
    pub const ACL_TRANSLATION_WITHOUT_ACCOUNT: &str = "acl-translation-without-account";
    /// Replication Time Control without `Metrics`, or a `Time` / `EventThreshold` other than 15
    /// minutes. Error.
    pub const REPLICATION_TIME_METRICS: &str = "replication-time-metrics";
    /// SSE-KMS replication is inconsistent: no replica key, a replica key outside the destination's
    /// region, or KMS settings on a rule that does not replicate KMS objects.
    pub const KMS_CONFIG: &str = "kms-config";
    /// A KMS rule names no `source_kms_key_arn`, so the role may decrypt with any key of the source
    /// account in its region (still only through S3). Warning.
    pub const KMS_SOURCE_KEY: &str = "kms-source-key";
    /// A replication JSON's `Role` is not the spec's replication role. Error.
    pub const ROLE_MISMATCH: &str = "role-mismatch";
    /// A replication JSON replicates to another bucket, or names another `Destination.Account`,
    /// than the spec's destinations. Error.
    pub const DESTINATION_MISMATCH: &str = "destination-mismatch";
    /// A rule's `Filter` holds more than one of `Prefix`, `Tag` and `And` (or an `And` that is not
    /// needed). Error.
    pub const FILTER_SHAPE: &str = "filter-shape";
    /// `ExistingObjectReplication` in a live replication configuration, which AWS rejects (existing
    /// objects need S3 Batch Replication, see `crate::batch`). Error.
    pub const EXISTING_OBJECT_REPLICATION: &str = "existing-object-replication";
    /// More than 1,000 rules, or a rule ID longer than 255 characters. Error.
    pub const RULE_LIMITS: &str = "rule-limits";
    /// An `[overrides]` entry breaks replication on purpose (for failure-mode tests). Warning.
    pub const OVERRIDE_ACTIVE: &str = "override-active";
    /// Source and destination are in the same account: same-account replication, where the bucket
    /// policy and owner override change nothing. Warning.
    pub const SAME_ACCOUNT: &str = "same-account";
    /// The source bucket has Object Lock and the destination does not: replication fails with
    /// DstBucketObjectLockConfigMissing. Error.
    pub const OBJECT_LOCK: &str = "object-lock";
}

/// How bad a [`Finding`] is. Errors sort before warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// AWS rejects it, or replication will fail.
    Error,
    /// Works, but probably not as intended (or weaker than it should be).
    Warning,
}

/// One problem found by the linter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error (AWS rejects it or replication fails) or warning.
    pub severity: Severity,
    /// A stable code from [`codes`], e.g. `missing-permission`.
    pub code: &'static str,
    /// What is wrong, with AWS's error or failure reason where there is one.
    pub message: String,
    /// The spec or document file it is in, when known.
    pub file: Option<PathBuf>,
    /// 1-based line, when the finding points at a place.
    pub line: Option<usize>,
    /// 1-based column in characters, when the finding points at a place.
    pub column: Option<usize>,
    /// What to change, when there is one clear fix.
    pub fix: Option<String>,
}

impl Finding {
    fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Finding {
        Finding { severity, code, message: message.into(), file: None, line: None, column: None, fix: None }
    }

    fn error(code: &'static str, message: impl Into<String>) -> Finding {
        Finding::new(Severity::Error, code, message)
    }

    fn warning(code: &'static str, message: impl Into<String>) -> Finding {
        Finding::new(Severity::Warning, code, message)
    }

    fn at(mut self, location: Option<&Location>) -> Finding {
        if let Some(l) = location {
            self.file.clone_from(&l.file);
            self.line = Some(l.line);
            self.column = Some(l.column);
        }
        self
    }

    fn in_file(mut self, file: Option<&Path>) -> Finding {
        if self.file.is_none() {
            self.file = file.map(Path::to_path_buf);
        }
        self
    }

    fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = Some(fix.into());
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}:", file.display())?;
        }
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{l}:{c}: ")?,
            (Some(l), None) => write!(f, "{l}: ")?,
            _ if self.file.is_some() => write!(f, " ")?,
            _ => {}
        }
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}]: {}", self.code, self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n    fix: {fix}")?;
        }
        Ok(())
    }
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// Which kind of policy document a text is (decides which elements are required or forbidden).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a role or user: no Principal; needs Resource.
    Identity,
    /// A bucket (or key) policy: needs Principal and Resource.
    Resource,
    /// A role's trust policy: needs Principal; no Resource.
    Trust,
}

/// Positions within one text, for findings.
struct Src<'a> {
    text: &'a str,
    file: Option<&'a Path>,
}

impl Src<'_> {
    fn loc(&self, offset: usize) -> Location {
        Location::from_offset(self.text, offset, self.file)
    }

    fn at(&self, finding: Finding, offset: usize) -> Finding {
        finding.at(Some(&self.loc(offset)))
    }

    /// A serde_json syntax error, with the column converted from bytes to characters.
    fn json_error(&self, e: &serde_json::Error) -> Finding {
        let line_text = self.text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
        let mut byte_col = e.column().saturating_sub(1).min(line_text.len());
        while !line_text.is_char_boundary(byte_col) {
            byte_col -= 1;
        }
        let column = line_text[..byte_col].chars().count() + 1;
        Finding {
            severity: Severity::Error,
            code: codes::INVALID_JSON,
            message: format!("not valid JSON: {} (AWS answers MalformedPolicyDocument / MalformedPolicy)", json_error_message(e)),
            file: self.file.map(Path::to_path_buf),
            line: Some(e.line()),
            column: Some(column),
            fix: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Policy documents

/// Lint one policy document's text.
pub fn lint_policy_text(text: &str, path: impl AsRef<Path>, kind: PolicyKind) -> Vec<Finding> {
    let path = path.as_ref();
    let src = Src { text, file: Some(path).filter(|p| !p.as_os_str().is_empty()) };
    let mut out = Vec::new();
    if let Err(e) = serde_json::from_str::<Value>(text) {
        out.push(src.json_error(&e));
        return out;
    }
    let Some(root) = json_pos::parse(text) else {
        // serde_json accepted it but our reader did not: nothing more we can point at.
        return out;
    };
    if !root.is_object() {
        out.push(src.at(Finding::error(codes::POLICY_SYNTAX, "a policy document is a JSON object"), root.start));
        return out;
    }
    check_version(&src, &root, &mut out);
    grammar::check(&src, &root, kind, &mut out);
    // The policy crate knows more grammar than the checks above (principal and action formats,
    // condition operators); ask it only when they found nothing, to avoid reporting one problem twice.
    if !out.iter().any(|f| f.code == codes::POLICY_SYNTAX) {
        out.extend(policy_crate_findings(&src, kind));
    }
    out
}

/// The single call into `xrepl_policy` for grammar: its first error, unless it is one this module
/// reports itself (JSON syntax, Version).
fn policy_crate_findings(src: &Src<'_>, kind: PolicyKind) -> Option<Finding> {
    use xrepl_policy::{DocumentKind, PolicyErrorKind};
    let kind = match kind {
        PolicyKind::Identity => DocumentKind::Identity,
        PolicyKind::Resource => DocumentKind::Resource,
        PolicyKind::Trust => DocumentKind::Trust,
    };
    let err = xrepl_policy::Policy::parse(src.text, kind).err()?;
    if matches!(err.kind, PolicyErrorKind::InvalidJson | PolicyErrorKind::NotAnObject | PolicyErrorKind::InvalidVersion) {
        return None;
    }
    Some(Finding {
        severity: Severity::Error,
        code: codes::POLICY_SYNTAX,
        message: err.message,
        file: src.file.map(Path::to_path_buf),
        line: err.line,
        column: err.column,
        fix: None,
    })
}

const VALID_VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];

fn check_version(src: &Src<'_>, root: &Node, out: &mut Vec<Finding>) {
    let Some(member) = root.member("Version") else {
        out.push(
            src.at(
                Finding::warning(
                    codes::MISSING_VERSION,
                    "no \"Version\": IAM then treats the policy as 2008-10-17, where policy variables such as ${aws:username} are plain text",
                ),
                root.start,
            )
            .fix("add \"Version\": \"2012-10-17\""),
        );
        return;
    };
    let Kind::String(value, offsets) = &member.value.kind else {
        out.push(
            src.at(Finding::error(codes::INVALID_VERSION, "\"Version\" must be a string"), member.value.start)
                .fix("\"Version\": \"2012-10-17\""),
        );
        return;
    };
    if VALID_VERSIONS.contains(&value.as_str()) {
        return;
    }
    // Point at the first character that differs from the closest valid version.
    let chars: Vec<char> = value.chars().collect();
    let (best, common) = VALID_VERSIONS
        .iter()
        .map(|v| {
            let n = v.chars().zip(&chars).take_while(|(a, b)| a == *b).count();
            (*v, n)
        })
        .max_by_key(|(_, n)| *n)
        .unwrap_or((VALID_VERSIONS[0], 0));
    let offset = offsets.get(common).copied().unwrap_or(member.value.start);
    let expected = best.chars().nth(common);
    let what = match (chars.get(common), expected) {
        (Some(&c), Some(e)) => format!("character {} is {} where {} belongs", common + 1, describe_char(c), describe_char(e)),
        (Some(&c), None) => format!("unexpected {} after {best:?}", describe_char(c)),
        (None, _) => format!("it stops after {} characters", chars.len()),
    };
    let lookalikes = chars.iter().filter(|c| is_dash_lookalike(**c)).count();
    let extra = if lookalikes > 1 { format!(" ({lookalikes} dash look-alikes in all)") } else { String::new() };
    out.push(
        src.at(
            Finding::error(
                codes::INVALID_VERSION,
                format!(
                    "\"Version\": {value:?} is not a version IAM accepts: {what}{extra}. Only \"2012-10-17\" and \"2008-10-17\" are valid; \
                     AWS rejects the document (IAM: MalformedPolicyDocument, S3: MalformedPolicy \"The policy must contain a valid version string\")"
                ),
            ),
            offset,
        )
        .fix(format!("\"Version\": \"{best}\"")),
    );
}

fn is_dash_lookalike(c: char) -> bool {
    matches!(c, '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' | '\u{00AD}')
}

/// "U+2013 EN DASH (–)" for the characters people paste by accident; `"-"` for ASCII.
fn describe_char(c: char) -> String {
    let name = match c {
        '\u{2010}' => "HYPHEN",
        '\u{2011}' => "NON-BREAKING HYPHEN",
        '\u{2012}' => "FIGURE DASH",
        '\u{2013}' => "EN DASH",
        '\u{2014}' => "EM DASH",
        '\u{2015}' => "HORIZONTAL BAR",
        '\u{2212}' => "MINUS SIGN",
        '\u{FE58}' => "SMALL EM DASH",
        '\u{FE63}' => "SMALL HYPHEN-MINUS",
        '\u{FF0D}' => "FULLWIDTH HYPHEN-MINUS",
        '\u{00AD}' => "SOFT HYPHEN",
        '\u{00A0}' => "NO-BREAK SPACE",
        '\u{200B}' => "ZERO WIDTH SPACE",
        c if c.is_ascii_graphic() => return format!("{:?}", c.to_string()),
        _ => "",
    };
    if name.is_empty() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} {name} ({c})", c as u32)
    }
}

/// Policy grammar: the checks IAM and S3 are known to make on the elements xrepl's documents use,
/// reporting every problem (not just the first) with its position. `xrepl_policy` adds the rest.
mod grammar {
    use super::*;

    pub(super) fn check(src: &Src<'_>, root: &Node, kind: PolicyKind, out: &mut Vec<Finding>) {
        let Some(statement) = root.member("Statement") else {
            out.push(src.at(Finding::error(codes::POLICY_SYNTAX, "missing required field \"Statement\""), root.start));
            return;
        };
        for m in root.members() {
            if !matches!(m.key.as_str(), "Version" | "Id" | "Statement") {
                out.push(src.at(
                    Finding::error(codes::POLICY_SYNTAX, format!("unknown policy element {:?} (allowed: Version, Id, Statement)", m.key)),
                    m.key_start,
                ));
            }
        }
        let items = statement.value.as_list();
        if items.is_empty() {
            out.push(src.at(Finding::error(codes::POLICY_SYNTAX, "\"Statement\" is empty"), statement.value.start));
        }
        for st in items {
            statement_check(src, st, kind, out);
        }
    }

    fn statement_check(src: &Src<'_>, st: &Node, kind: PolicyKind, out: &mut Vec<Finding>) {
        if !st.is_object() {
            out.push(src.at(Finding::error(codes::POLICY_SYNTAX, "each statement is a JSON object"), st.start));
            return;
        }
        const KNOWN: &[&str] =
            &["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];
        for m in st.members() {
            if !KNOWN.contains(&m.key.as_str()) {
                out.push(src.at(Finding::error(codes::POLICY_SYNTAX, format!("unknown statement element {:?}", m.key)), m.key_start));
            }
        }
        match st.get("Effect").and_then(Node::as_str) {
            Some("Allow" | "Deny") => {}
            Some(other) => out.push(src.at(
                Finding::error(codes::POLICY_SYNTAX, format!("\"Effect\" must be \"Allow\" or \"Deny\", not {other:?}")),
                st.get("Effect").map_or(st.start, |n| n.start),
            )),
            None => out.push(src.at(Finding::error(codes::POLICY_SYNTAX, "statement has no \"Effect\""), st.start)),
        }
        if st.get("Action").is_none() && st.get("NotAction").is_none() {
            out.push(src.at(Finding::error(codes::POLICY_SYNTAX, "statement has no \"Action\""), st.start));
        }
        let has_principal = st.get("Principal").is_some() || st.get("NotPrincipal").is_some();
        let has_resource = st.get("Resource").is_some() || st.get("NotResource").is_some();
        match kind {
            PolicyKind::Identity => {
                if let Some(m) = st.member("Principal").or_else(|| st.member("NotPrincipal")) {
                    out.push(src.at(
                        Finding::error(
                            codes::POLICY_SYNTAX,
                            "an identity (role) policy must not name a Principal (IAM: \"Policy document should not specify a principal\")",
                        ),
                        m.key_start,
                    ));
                }
                if !has_resource {
                    out.push(src.at(Finding::error(codes::POLICY_SYNTAX, "statement has no \"Resource\""), st.start));
                }
            }
            PolicyKind::Resource => {
                if !has_principal {
                    out.push(src.at(Finding::error(codes::POLICY_SYNTAX, "a bucket policy statement needs a \"Principal\""), st.start));
                }
                if !has_resource {
                    out.push(src.at(Finding::error(codes::POLICY_SYNTAX, "statement has no \"Resource\""), st.start));
                }
            }
            PolicyKind::Trust => {
                if !has_principal {
                    out.push(src.at(Finding::error(codes::POLICY_SYNTAX, "a trust policy statement needs a \"Principal\""), st.start));
                }
                if let Some(m) = st.member("Resource").or_else(|| st.member("NotResource")) {
                    out.push(src.at(
                        Finding::error(
                            codes::POLICY_SYNTAX,
                            "a trust policy must not name a Resource (IAM: \"Has prohibited field Resource\")",
                        ),
                        m.key_start,
                    ));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The spec

/// Lint a spec: its rules and overrides, and every document the user supplied, against the
/// options the spec chose. A spec with only xrepl-generated documents and no mistakes gives none.
pub fn lint_spec(spec: &Spec) -> Vec<Finding> {
    let mut out = Vec::new();
    let spec_file = spec.file.as_deref();
    lint_rules(spec, &mut out);
    if !spec.is_cross_account() {
        out.push(
            Finding::warning(
                codes::SAME_ACCOUNT,
                format!(
                    "source and destination are both in account {}: this is same-account replication (no destination bucket policy is needed, and owner override changes nothing)",
                    spec.source.account_id
                ),
            )
            .at(spec.destination.location.as_ref())
            .in_file(spec_file),
        );
    }
    lint_overrides(spec, &mut out);
    if spec.source.object_lock && spec.destinations().any(|d| !d.object_lock) {
        // User Guide replication-failure-codes, DstBucketObjectLockConfigMissing: "To replicate
        // objects from a source bucket with Object Lock enabled, the destination bucket must also
        // have Object Lock enabled."
        out.push(
            Finding::error(
                codes::OBJECT_LOCK,
                "the source bucket has Object Lock and the destination does not: replication fails with DstBucketObjectLockConfigMissing",
            )
            .at(spec.destination.location.as_ref())
            .in_file(spec_file)
            .fix("object_lock = true in every destination"),
        );
    }
    if let Some(doc) = &spec.role.trust_policy_file {
        out.extend(lint_policy_text(&doc.text, &doc.path, PolicyKind::Trust));
        check_trust(spec, doc, &mut out);
    }
    if let Some(doc) = &spec.role.permission_policy_file {
        out.extend(lint_policy_text(&doc.text, &doc.path, PolicyKind::Identity));
        check_role_permissions(spec, doc, &mut out);
    }
    for d in spec.destinations() {
        if let Some(doc) = &d.bucket_policy_file {
            out.extend(lint_policy_text(&doc.text, &doc.path, PolicyKind::Resource));
            check_bucket_policy(spec, d, doc, &mut out);
        }
    }
    if let Some(doc) = &spec.replication_file {
        out.extend(lint_replication_json(&doc.text, &doc.path, Some(spec)));
    }
    for f in &mut out {
        if f.file.is_none() {
            f.file = spec_file.map(Path::to_path_buf);
        }
    }
    out
}

fn lint_rules(spec: &Spec, out: &mut Vec<Finding>) {
    if spec.rules.len() > 1000 {
        out.push(Finding::error(
            codes::RULE_LIMITS,
            format!("{} rules: a replication configuration holds at most 1,000", spec.rules.len()),
        ));
    }
    let mut priorities: BTreeMap<i32, &RuleSpec> = BTreeMap::new();
    let mut ids: BTreeMap<&str, &RuleSpec> = BTreeMap::new();
    for r in &spec.rules {
        if let Some(first) = priorities.insert(r.priority, r) {
            out.push(
                Finding::error(
                    codes::DUPLICATE_PRIORITY,
                    format!(
                        "rules {:?} and {:?} both have priority {}: priorities must be unique, or AWS rejects the configuration (InvalidRequest)",
                        first.id, r.id, r.priority
                    ),
                )
                .at(r.locations.get("priority"))
                .fix("give every rule its own priority (the higher number wins when rules overlap)"),
            );
        }
        if let Some(first) = ids.insert(&r.id, r) {
            out.push(
                Finding::error(codes::DUPLICATE_RULE_ID, format!("two rules have the id {:?}: rule ids must be unique", first.id))
                    .at(r.locations.get("id")),
            );
        }
        if r.id.chars().count() > 255 {
            out.push(Finding::error(codes::RULE_LIMITS, "rule id is longer than 255 characters").at(r.locations.get("id")));
        }
        if !r.tags.is_empty() && r.delete_marker_replication {
            out.push(
                Finding::error(
                    codes::TAG_FILTER_DELETE_MARKER,
                    format!(
                        "rule {:?} filters on tags and replicates delete markers: AWS rejects DeleteMarkerReplication on rules with a tag filter",
                        r.id
                    ),
                )
                .at(r.locations.get("delete_marker_replication"))
                .fix("set delete_marker_replication = false, or filter on prefix only"),
            );
        }
        lint_rule_kms(spec, r, out);
    }
}

fn lint_rule_kms(spec: &Spec, r: &RuleSpec, out: &mut Vec<Finding>) {
    if r.replicate_kms_objects {
        match &r.replica_kms_key_id {
            None => out.push(
                Finding::error(
                    codes::KMS_CONFIG,
                    format!(
                        "rule {:?} replicates SSE-KMS objects but names no replica_kms_key_id: AWS requires Destination.EncryptionConfiguration.ReplicaKmsKeyID",
                        r.id
                    ),
                )
                .at(r.locations.get("replicate_kms_objects"))
                .fix("add replica_kms_key_id = \"arn:aws:kms:<destination region>:<destination account>:key/<id>\""),
            ),
            Some(key) => {
                // KMS keys are regional: the replica key must live in the destination's region.
                let parts: Vec<&str> = key.split(':').collect();
                let region = &spec.destination_of(r).region;
                if parts.len() >= 6 && parts[2] == "kms" && parts[3] != region {
                    out.push(
                        Finding::error(
                            codes::KMS_CONFIG,
                            format!(
                                "replica key {key} is in {}, but the destination bucket is in {}: the replica key must be in the destination's region",
                                parts[3], region
                            ),
                        )
                        .at(r.locations.get("replica_kms_key_id")),
                    );
                }
            }
        }
        if r.source_kms_key_arn.is_none() {
            out.push(
                Finding::warning(
                    codes::KMS_SOURCE_KEY,
                    format!(
                        "rule {:?}: without source_kms_key_arn the role may decrypt with any KMS key of account {} in {} (still only through S3, for this bucket)",
                        r.id, spec.source.account_id, spec.source.region
                    ),
                )
                .at(r.locations.get("replicate_kms_objects"))
                .fix("add source_kms_key_arn = \"arn:aws:kms:...\" to grant kms:Decrypt on that key only"),
            );
        }
    } else {
        for field in ["replica_kms_key_id", "source_kms_key_arn"] {
            let set = match field {
                "replica_kms_key_id" => r.replica_kms_key_id.is_some(),
                _ => r.source_kms_key_arn.is_some(),
            };
            if set {
                out.push(
                    Finding::warning(codes::KMS_CONFIG, format!("rule {:?}: {field} is ignored unless replicate_kms_objects = true", r.id))
                        .at(r.locations.get(field))
                        .fix("add replicate_kms_objects = true"),
                );
            }
        }
    }
}

/// The failure reason AWS records when the replication role (or the destination bucket policy)
/// lacks `action`, when one is documented.
pub fn failure_reason_for_missing(action: &str) -> Option<&'static str> {
    match action.to_ascii_lowercase().as_str() {
        "s3:replicateobject" | "s3:objectowneroverridetobucketowner" => Some("DstPutObjectNotPermitted"),
        "s3:replicatedelete" => Some("DstDelObjNotPermitted"),
        "s3:getobjectversionforreplication" => Some("SrcGetObjectNotPermitted"),
        "s3:getobjectversionacl" => Some("SrcGetAclNotPermitted"),
        // Not failure causes (User Guide setting-repl-config-perm-overview): "Permissions for the
        // s3:ReplicateObject action on the destination bucket also allow replication of object
        // tags", and without s3:GetObjectVersionTagging "it replicates the objects, but not the
        // object tags". Only an explicit Deny of s3:ReplicateTags fails (DstPutTaggingNotPermitted).
        _ => None,
    }
}

/// What happens when `action` is missing, for the actions that are no failure cause.
fn effect_of_missing(action: &str) -> Option<&'static str> {
    match action.to_ascii_lowercase().as_str() {
        "s3:replicatetags" => {
            Some("nothing: s3:ReplicateObject also allows replicating object tags (only an explicit Deny of s3:ReplicateTags stops them)")
        }
        "s3:getobjectversiontagging" => Some("objects replicate without their tags"),
        _ => None,
    }
}

fn lint_overrides(spec: &Spec, out: &mut Vec<Finding>) {
    let o = &spec.overrides;
    let warn = |field: &str, message: String| {
        Finding::warning(codes::OVERRIDE_ACTIVE, format!("[overrides] {field}: {message} (this setup is broken on purpose, for testing)"))
            .at(o.locations.get(field))
    };
    if let Some(service) = &o.trust_service {
        out.push(warn(
            "trust_service",
            format!(
                "the trust policy lets {service} assume the role instead of {S3_SERVICE}: replication fails with AssumeRoleNotPermitted"
            ),
        ));
    }
    let reason = |a: &str| match (failure_reason_for_missing(a), effect_of_missing(a)) {
        (Some(r), _) => format!("replication fails with {r}"),
        (None, Some(effect)) => effect.to_string(),
        (None, None) => "replication may fail".to_string(),
    };
    for a in &o.omit_role_actions {
        out.push(warn("omit_role_actions", format!("the role policy lacks {a}: {}", reason(a))));
    }
    if o.omit_bucket_policy {
        out.push(warn(
            "omit_bucket_policy",
            "the destination bucket policy does not grant the role anything: replication fails with DstPutObjectNotPermitted".into(),
        ));
    }
    for a in &o.omit_bucket_policy_actions {
        out.push(warn("omit_bucket_policy_actions", format!("the destination bucket policy lacks {a}: {}", reason(a))));
    }
    match o.destination_versioning {
        Some(VersioningOverride::Off) => out.push(warn(
            "destination_versioning",
            "destination versioning is never enabled: PutBucketReplication fails with InvalidRequest \"Destination bucket must have versioning enabled.\"".into(),
        )),
        Some(VersioningOverride::Suspended) => out.push(warn(
            "destination_versioning",
            "destination versioning is suspended after PutBucketReplication: replication fails with DstBucketUnversioned".into(),
        )),
        Some(VersioningOverride::Enabled) | None => {}
    }
}

/// Location of the `Statement` key of a document (where a missing permission "would go").
fn statement_location(doc: &UserDocument) -> Option<Location> {
    let root = json_pos::parse(&doc.text)?;
    let offset = root.member("Statement").map_or(root.start, |m| m.key_start);
    Some(Location::from_offset(&doc.text, offset, Some(&doc.path)))
}

struct Need {
    action: String,
    resource: String,
    severity: Severity,
    why: &'static str,
}

/// What the role needs, given the spec's options.
fn role_needs(spec: &Spec) -> Vec<Need> {
    let src = spec.source_bucket_arn();
    let sample = |bucket: &str, r: &RuleSpec| format!("{bucket}/{}xrepl-sample-object", r.prefix_str());
    let mut needs = Vec::new();
    let mut push = |action: &str, resource: String, severity, why| {
        needs.push(Need { action: action.to_string(), resource, severity, why });
    };
    push("s3:GetReplicationConfiguration", src.clone(), Severity::Error, "S3 reads the replication configuration as the role");
    push("s3:ListBucket", src.clone(), Severity::Error, "S3 lists the source bucket as the role");
    for r in &spec.rules {
        let s = sample(&src, r);
        let d = sample(&format!("arn:aws:s3:::{}", spec.destination_of(r).bucket), r);
        push("s3:GetObjectVersionForReplication", s.clone(), Severity::Error, "objects cannot be read (SrcGetObjectNotPermitted)");
        push("s3:GetObjectVersionAcl", s.clone(), Severity::Error, "object ACLs cannot be read (SrcGetAclNotPermitted)");
        // AWS replicates the objects without their tags when this is missing: a warning only.
        push("s3:GetObjectVersionTagging", s, Severity::Warning, "objects replicate, but without their tags");
        // s3:ReplicateTags is not needed: s3:ReplicateObject also allows replicating tags.
        push("s3:ReplicateObject", d.clone(), Severity::Error, "replicas cannot be written (DstPutObjectNotPermitted)");
        if r.delete_marker_replication {
            push("s3:ReplicateDelete", d.clone(), Severity::Error, "delete markers cannot be replicated (DstDelObjNotPermitted)");
        }
        if r.owner_override {
            push("s3:ObjectOwnerOverrideToBucketOwner", d, Severity::Error, "the replica owner cannot be changed (owner override is on)");
        }
        if r.replicate_kms_objects {
            let source_key = r
                .source_kms_key_arn
                .clone()
                .unwrap_or_else(|| format!("arn:aws:kms:{}:{}:key/xrepl-sample", spec.source.region, spec.source.account_id));
            push("kms:Decrypt", source_key, Severity::Error, "SSE-KMS source objects cannot be decrypted");
            if let Some(k) = &r.replica_kms_key_id {
                push("kms:Encrypt", k.clone(), Severity::Error, "replicas cannot be encrypted with the replica key");
            }
        }
    }
    needs
}

fn report_missing(needs: Vec<Need>, policy: &Value, caller: Caller<'_>, what: &str, location: Option<&Location>, out: &mut Vec<Finding>) {
    let mut seen = BTreeSet::new();
    for n in needs {
        if allows(policy, caller, &n.action, &n.resource) || !seen.insert(n.action.clone()) {
            continue;
        }
        out.push(
            Finding::new(n.severity, codes::MISSING_PERMISSION, format!("{what} does not allow {} on {}: {}", n.action, n.resource, n.why))
                .at(location)
                .fix(format!("add \"{}\" to a statement whose Resource covers {}", n.action, n.resource)),
        );
    }
}

/// An explicit Deny of s3:ReplicateTags is the one way tags stop tagged objects: AWS records
/// DstPutTaggingNotPermitted for them.
fn report_tag_denial(spec: &Spec, policy: &Value, caller: Caller<'_>, what: &str, location: Option<&Location>, out: &mut Vec<Finding>) {
    let sample = |r: &RuleSpec| format!("arn:aws:s3:::{}/{}xrepl-sample-object", spec.destination_of(r).bucket, r.prefix_str());
    if let Some(r) = spec.rules.iter().find(|r| denies(policy, caller, "s3:ReplicateTags", &sample(r))) {
        out.push(
            Finding::error(
                codes::MISSING_PERMISSION,
                format!("{what} explicitly denies s3:ReplicateTags (rule {:?}): tagged objects fail with DstPutTaggingNotPermitted", r.id),
            )
            .at(location)
            .fix("remove the Deny of s3:ReplicateTags (s3:ReplicateObject alone already lets tags replicate)"),
        );
    }
}

fn check_role_permissions(spec: &Spec, doc: &UserDocument, out: &mut Vec<Finding>) {
    let location = statement_location(doc);
    report_missing(role_needs(spec), &doc.value, Caller::Holder, "the role's permission policy", location.as_ref(), out);
    report_tag_denial(spec, &doc.value, Caller::Holder, "the role's permission policy", location.as_ref(), out);
}

fn check_trust(spec: &Spec, doc: &UserDocument, out: &mut Vec<Finding>) {
    let location = statement_location(doc);
    let mut s3_can_assume = false;
    let mut has_source_condition = false;
    for st in crate::documents::statements_of(&doc.value) {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let actions = st.get("Action").map(strings).unwrap_or_default();
        if !actions.iter().any(|a| crate::policy_check::glob(a, "sts:AssumeRole", false)) {
            continue;
        }
        let principal = st.get("Principal");
        let services = principal.and_then(|p| p.get("Service")).map(strings).unwrap_or_default();
        if services.iter().any(|s| s == S3_SERVICE) || principal.and_then(Value::as_str) == Some("*") {
            s3_can_assume = true;
            if let Some(cond) = st.get("Condition") {
                for (_, block) in cond.as_object().into_iter().flatten() {
                    for (key, value) in block.as_object().into_iter().flatten() {
                        if key.eq_ignore_ascii_case("aws:SourceAccount") {
                            has_source_condition = true;
                            if !strings(value).contains(&spec.source.account_id) {
                                out.push(
                                    Finding::error(
                                        codes::TRUST_MISSING_S3,
                                        format!(
                                            "the trust policy only lets S3 act for account(s) {:?}, not the source account {}: replication fails with AssumeRoleNotPermitted",
                                            strings(value), spec.source.account_id
                                        ),
                                    )
                                    .at(location.as_ref()),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    if !s3_can_assume {
        out.push(
            Finding::error(
                codes::TRUST_MISSING_S3,
                format!("the trust policy does not let {S3_SERVICE} call sts:AssumeRole: replication fails with AssumeRoleNotPermitted"),
            )
            .at(location.as_ref())
            .fix(format!("\"Principal\": {{\"Service\": \"{S3_SERVICE}\"}}, \"Action\": \"sts:AssumeRole\"")),
        );
    } else if !has_source_condition {
        out.push(
            Finding::warning(
                codes::TRUST_NO_SOURCE_CONDITION,
                "the trust policy lets S3 assume the role for any account's bucket (confused deputy)",
            )
            .at(location.as_ref())
            .fix(format!("add \"Condition\": {{\"StringEquals\": {{\"aws:SourceAccount\": \"{}\"}}}}", spec.source.account_id)),
        );
    }
}

fn check_bucket_policy(spec: &Spec, destination: &AccountSpec, doc: &UserDocument, out: &mut Vec<Finding>) {
    let role_arn = spec.role_arn();
    let location = statement_location(doc);
    // Principal mismatch: role-looking principals that are not the replication role, when the
    // replication role itself is named nowhere.
    let principals: Vec<String> = crate::documents::statements_of(&doc.value)
        .iter()
        .filter_map(|st| st.get("Principal").and_then(|p| p.get("AWS")))
        .flat_map(strings)
        .collect();
    if !principals.contains(&role_arn) {
        if let Some(root) = json_pos::parse(&doc.text) {
            let src = Src { text: &doc.text, file: Some(&doc.path) };
            for st in root.get("Statement").map(Node::as_list).unwrap_or_default() {
                let Some(aws) = st.get("Principal").and_then(|p| p.get("AWS")) else {
                    continue;
                };
                for p in aws.as_list() {
                    let Some(arn) = p.as_str() else { continue };
                    if !arn.contains(":role/") {
                        continue;
                    }
                    let hint = if arn.ends_with(&format!(":role/{}", spec.role.name)) {
                        format!(" (the role's path {} is missing)", spec.role.path)
                    } else {
                        String::new()
                    };
                    out.push(
                        src.at(
                            Finding::error(
                                codes::PRINCIPAL_MISMATCH,
                                format!(
                                    "the bucket policy grants {arn}, but the replication role is {role_arn}{hint}: replication fails with DstPutObjectNotPermitted"
                                ),
                            ),
                            p.start,
                        )
                        .fix(format!("\"AWS\": \"{role_arn}\"")),
                    );
                }
            }
        }
    }
    let caller = Caller::Role { arn: &role_arn, account: &spec.source.account_id };
    let dst = format!("arn:aws:s3:::{}", destination.bucket);
    let needs: Vec<Need> = role_needs(spec)
        .into_iter()
        .filter(|n| n.resource.starts_with(&format!("{dst}/")))
        .filter(|n| {
            // Same account: the role's own policy suffices; cross-account both must allow.
            spec.is_cross_account() && destination_object_actions(spec).iter().any(|a| a.eq_ignore_ascii_case(&n.action))
        })
        .collect();
    report_missing(needs, &doc.value, caller, "the destination bucket policy", location.as_ref(), out);
    report_tag_denial(spec, &doc.value, caller, "the destination bucket policy", location.as_ref(), out);
    if allows(&doc.value, caller, "s3:PutBucketVersioning", &dst) {
        out.push(
            Finding::warning(
                codes::OVERBROAD_PERMISSION,
                "the bucket policy lets the source account's role change the destination's versioning (s3:PutBucketVersioning): replication never needs it, and suspending versioning breaks replication",
            )
            .at(location.as_ref())
            .fix("remove \"s3:PutBucketVersioning\""),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// put-bucket-replication JSON

/// Lint a `put-bucket-replication` JSON document (the API's `{"Role", "Rules"}` shape or the
/// CLI's `{"ReplicationConfiguration": ...}` wrapper). With a spec, also checks that it replicates
/// to the spec's destination with the spec's role.
pub fn lint_replication_json(text: &str, path: impl AsRef<Path>, spec: Option<&Spec>) -> Vec<Finding> {
    let path = path.as_ref();
    let src = Src { text, file: Some(path).filter(|p| !p.as_os_str().is_empty()) };
    let mut out = Vec::new();
    if let Err(e) = serde_json::from_str::<Value>(text) {
        let mut f = src.json_error(&e);
        f.message = format!("not valid JSON: {}", json_error_message(&e));
        out.push(f);
        return out;
    }
    let Some(root) = json_pos::parse(text) else {
        return out;
    };
    let config = root.get("ReplicationConfiguration").unwrap_or(&root);
    check_replication_role(&src, config, spec, &mut out);
    let Some(rules) = replication_rules(&src, config, &mut out) else {
        return out;
    };
    let mut seen = SeenRules::default();
    for (i, rule) in rules.into_iter().enumerate() {
        check_rule(&src, i + 1, rule, spec, &mut seen, &mut out);
    }
    check_rule_schemas(&src, &seen, &mut out);
    out
}

/// `Role` is there and, with a spec, is the spec's replication role.
fn check_replication_role(src: &Src<'_>, config: &Node, spec: Option<&Spec>, out: &mut Vec<Finding>) {
    match (config.member("Role"), spec) {
        (None, _) => {
            out.push(src.at(Finding::error(codes::REPLICATION_SCHEMA, "missing \"Role\": the ARN of the replication role"), config.start))
        }
        (Some(m), Some(spec)) => {
            let arn = m.value.as_str().unwrap_or("");
            if arn != spec.role_arn() {
                out.push(
                    src.at(
                        Finding::error(
                            codes::ROLE_MISMATCH,
                            format!("\"Role\" is {arn:?}, but the spec's replication role is {}", spec.role_arn()),
                        ),
                        m.value.start,
                    )
                    .fix(format!("\"Role\": \"{}\"", spec.role_arn())),
                );
            }
        }
        (Some(_), None) => {}
    }
}

/// The `Rules` array, when it is a non-empty array (else the finding, and `None`: nothing more
/// to check).
fn replication_rules<'a>(src: &Src<'_>, config: &'a Node, out: &mut Vec<Finding>) -> Option<Vec<&'a Node>> {
    let Some(rules_member) = config.member("Rules") else {
        out.push(src.at(Finding::error(codes::REPLICATION_SCHEMA, "missing \"Rules\" (AWS: MalformedXML)"), config.start));
        return None;
    };
    let rules = rules_member.value.as_list();
    if rules.is_empty() || rules_member.value.as_array().is_none() {
        out.push(src.at(
            Finding::error(codes::REPLICATION_SCHEMA, "\"Rules\" must be a non-empty array (AWS: MalformedXML)"),
            rules_member.value.start,
        ));
        return None;
    }
    if rules.len() > 1000 {
        out.push(src.at(Finding::error(codes::RULE_LIMITS, "more than 1,000 rules"), rules_member.key_start));
    }
    Some(rules)
}

/// What the rules checked so far have used: their schema version, IDs and priorities.
#[derive(Default)]
struct SeenRules<'a> {
    /// Rules with a top-level `Prefix` (schema V1).
    v1: Vec<&'a Node>,
    /// Rules with a `Filter` (schema V2).
    v2: Vec<&'a Node>,
    /// Each priority, with the number of the first rule that has it.
    priorities: BTreeMap<String, usize>,
    ids: BTreeSet<String>,
}

/// One rule (number `n`, from 1): its schema, ID, status, schema-specific fields and destination.
fn check_rule<'a>(src: &Src<'_>, n: usize, rule: &'a Node, spec: Option<&Spec>, seen: &mut SeenRules<'a>, out: &mut Vec<Finding>) {
    if !rule.is_object() {
        out.push(src.at(Finding::error(codes::REPLICATION_SCHEMA, "a rule is a JSON object"), rule.start));
        return;
    }
    let name = rule.get("ID").and_then(Node::as_str).map_or_else(|| format!("rule {n}"), |id| format!("rule {id:?}"));
    let filter = rule.member("Filter");
    let prefix = rule.member("Prefix");
    match (filter, prefix) {
        (Some(_), Some(p)) => out.push(
            src.at(
                Finding::error(
                    codes::REPLICATION_SCHEMA,
                    format!("{name} has both \"Filter\" (schema V2) and a top-level \"Prefix\" (schema V1)"),
                ),
                p.key_start,
            )
            .fix("move the prefix into \"Filter\": {\"Prefix\": ...}"),
        ),
        (None, None) => out.push(
            src.at(
                Finding::error(codes::REPLICATION_SCHEMA, format!("{name} has neither \"Filter\" (schema V2) nor \"Prefix\" (schema V1)")),
                rule.start,
            )
            .fix("add \"Filter\": {} to replicate every object"),
        ),
        (Some(_), None) => seen.v2.push(rule),
        (None, Some(_)) => seen.v1.push(rule),
    }
    check_rule_id(src, &name, rule, seen, out);
    match rule.get("Status").and_then(Node::as_str) {
        Some("Enabled" | "Disabled") => {}
        _ => out.push(src.at(
            Finding::error(codes::REPLICATION_SCHEMA, format!("{name}: \"Status\" must be \"Enabled\" or \"Disabled\"")),
            rule.member("Status").map_or(rule.start, |m| m.value.start),
        )),
    }
    if let Some(f) = filter {
        check_v2_rule(src, &name, n, rule, &f.value, seen, out);
    } else if prefix.is_some() {
        check_v1_rule(src, &name, rule, out);
    }
    if let Some(m) = rule.member("ExistingObjectReplication") {
        out.push(src.at(
            Finding::error(
                codes::EXISTING_OBJECT_REPLICATION,
                "ExistingObjectReplication is not accepted in a live replication configuration (AWS: MalformedXML); existing objects need S3 Batch Replication",
            ),
            m.key_start,
        ));
    }
    check_destination(src, &name, rule, spec, out);
}

/// At most 255 characters, and unique.
fn check_rule_id(src: &Src<'_>, name: &str, rule: &Node, seen: &mut SeenRules<'_>, out: &mut Vec<Finding>) {
    if let Some(id) = rule.get("ID").and_then(Node::as_str) {
        if id.chars().count() > 255 {
            out.push(src.at(Finding::error(codes::RULE_LIMITS, format!("{name}: ID is longer than 255 characters")), rule.start));
        }
        if !seen.ids.insert(id.to_string()) {
            out.push(src.at(
                Finding::error(codes::DUPLICATE_RULE_ID, format!("two rules have the ID {id:?}")),
                rule.member("ID").map_or(rule.start, |m| m.key_start),
            ));
        }
    }
}

/// A schema V2 rule (with `Filter`, rule number `n`): DeleteMarkerReplication and a unique
/// Priority are required, and the filter has one shape.
fn check_v2_rule(src: &Src<'_>, name: &str, n: usize, rule: &Node, filter: &Node, seen: &mut SeenRules<'_>, out: &mut Vec<Finding>) {
    let required = |field: &str| {
        let message = format!("{name}: {field} must be specified for this version of Cross Region Replication configuration schema (rules with \"Filter\" are schema V2)");
        src.at(Finding::error(codes::REPLICATION_SCHEMA, message), rule.start)
    };
    let dmr = rule.member("DeleteMarkerReplication");
    if dmr.is_none() {
        out.push(required("DeleteMarkerReplication").fix("add \"DeleteMarkerReplication\": {\"Status\": \"Disabled\"} (or \"Enabled\")"));
    }
    match rule.member("Priority") {
        None => out.push(required("Priority").fix("add \"Priority\": <unique number>")),
        Some(p) => {
            let key = match &p.value.kind {
                Kind::Number(n) => n.clone(),
                _ => String::new(),
            };
            if let Some(first) = seen.priorities.insert(key.clone(), n) {
                out.push(
                    src.at(
                        Finding::error(
                            codes::DUPLICATE_PRIORITY,
                            format!("{name} has priority {key}, like rule {first}: priorities must be unique (AWS: InvalidRequest)"),
                        ),
                        p.value.start,
                    )
                    .fix("give every rule its own priority"),
                );
            }
        }
    }
    check_filter(src, name, filter, dmr.map(|m| &m.value), out);
}

/// A schema V1 rule (top-level `Prefix`) takes neither Priority nor DeleteMarkerReplication.
fn check_v1_rule(src: &Src<'_>, name: &str, rule: &Node, out: &mut Vec<Finding>) {
    for field in ["Priority", "DeleteMarkerReplication"] {
        if let Some(m) = rule.member(field) {
            out.push(src.at(
                Finding::error(
                    codes::REPLICATION_SCHEMA,
                    format!("{name}: {field} cannot be used for this version of Cross Region Replication configuration schema (a top-level \"Prefix\" makes the rule schema V1)"),
                ),
                m.key_start,
            ).fix("replace \"Prefix\": ... with \"Filter\": {\"Prefix\": ...} to use schema V2"));
        }
    }
}

/// Across the rules: one schema for all, and schema V1 with a single destination bucket.
fn check_rule_schemas(src: &Src<'_>, seen: &SeenRules<'_>, out: &mut Vec<Finding>) {
    let (v1, v2) = (&seen.v1, &seen.v2);
    if !v1.is_empty() && !v2.is_empty() {
        let minority = if v1.len() <= v2.len() { v1 } else { v2 };
        out.push(src.at(
            Finding::error(
                codes::REPLICATION_SCHEMA,
                "rules mix schema V1 (top-level \"Prefix\") and V2 (\"Filter\"): all rules must use the same schema",
            ),
            minority[0].start,
        ));
    }
    let v1_buckets: BTreeSet<&str> =
        v1.iter().filter_map(|r| r.get("Destination").and_then(|d| d.get("Bucket")).and_then(Node::as_str)).collect();
    if v1_buckets.len() > 1 {
        out.push(src.at(
            Finding::error(
                codes::REPLICATION_SCHEMA,
                "schema V1 allows a single destination bucket; use \"Filter\" rules (V2) for several destinations",
            ),
            v1[0].start,
        ));
    }
}

fn check_filter(src: &Src<'_>, name: &str, filter: &Node, dmr: Option<&Node>, out: &mut Vec<Finding>) {
    let present: Vec<&str> = ["Prefix", "Tag", "And"].into_iter().filter(|k| filter.get(k).is_some()).collect();
    if present.len() > 1 {
        out.push(
            src.at(
                Finding::error(
                    codes::FILTER_SHAPE,
                    format!("{name}: \"Filter\" holds {}; it takes exactly one of Prefix, Tag or And", present.join(" and ")),
                ),
                filter.start,
            )
            .fix("combine them: \"Filter\": {\"And\": {\"Prefix\": ..., \"Tags\": [...]}}"),
        );
    }
    let has_tags = filter.get("Tag").is_some() || filter.get("And").and_then(|a| a.get("Tags")).is_some_and(|t| !t.as_list().is_empty());
    let dmr_enabled = dmr.and_then(|d| d.get("Status")).and_then(Node::as_str) == Some("Enabled");
    if has_tags && dmr_enabled {
        out.push(src.at(
            Finding::error(
                codes::TAG_FILTER_DELETE_MARKER,
                format!("{name} filters on tags and enables DeleteMarkerReplication: AWS rejects delete marker replication for rules with a tag filter"),
            ),
            dmr.map_or(filter.start, |d| d.start),
        ).fix("\"DeleteMarkerReplication\": {\"Status\": \"Disabled\"}, or filter on prefix only"));
    }
}

fn check_destination(src: &Src<'_>, name: &str, rule: &Node, spec: Option<&Spec>, out: &mut Vec<Finding>) {
    let Some(dest) = rule.get("Destination") else {
        out.push(src.at(Finding::error(codes::REPLICATION_SCHEMA, format!("{name} has no \"Destination\"")), rule.start));
        return;
    };
    let account = dest.member("Account");
    check_acl_translation(src, name, dest, account, spec, out);
    if let Some(spec) = spec {
        check_destination_in_spec(src, name, dest, account, spec, out);
    }
    check_replication_time(src, name, dest, out);
    check_replica_kms_key(src, name, rule, dest, out);
}

/// `{"Status": "Enabled"}`.
fn status_enabled(n: Option<&Node>) -> bool {
    n.and_then(|x| x.get("Status")).and_then(Node::as_str) == Some("Enabled")
}

/// AccessControlTranslation needs a non-empty Destination.Account.
fn check_acl_translation(src: &Src<'_>, name: &str, dest: &Node, account: Option<&Member>, spec: Option<&Spec>, out: &mut Vec<Finding>) {
    let Some(act) = dest.member("AccessControlTranslation") else {
        return;
    };
    match account.and_then(|a| a.value.as_str()) {
        None => out.push(src.at(
            Finding::error(
                codes::ACL_TRANSLATION_WITHOUT_ACCOUNT,
                format!("{name}: AccessControlTranslation needs Destination.Account (the destination bucket owner's account id); AWS answers InvalidRequest"),
            ),
            act.key_start,
        ).fix(match spec {
            Some(s) => format!("add \"Account\": \"{}\" to \"Destination\"", s.destination.account_id),
            None => "add \"Account\": \"<destination account id>\" to \"Destination\"".to_string(),
        })),
        Some("") => out.push(src.at(
            Finding::error(codes::ACL_TRANSLATION_WITHOUT_ACCOUNT, format!("{name}: Destination.Account is empty (AWS: InvalidArgument)")),
            account.map_or(act.key_start, |a| a.value.start),
        )),
        Some(_) => {}
    }
}

/// The bucket is one of the spec's destinations, and Destination.Account is that destination's.
fn check_destination_in_spec(src: &Src<'_>, name: &str, dest: &Node, account: Option<&Member>, spec: &Spec, out: &mut Vec<Finding>) {
    // The spec's destination this rule names (any of them, with [[destinations]]).
    let mut named = None;
    if let Some(b) = dest.member("Bucket") {
        let bucket = b.value.as_str().unwrap_or("");
        named = spec.destinations().find(|d| format!("arn:aws:s3:::{}", d.bucket) == bucket);
        if named.is_none() {
            let all: Vec<String> = spec.destinations().map(|d| format!("arn:aws:s3:::{}", d.bucket)).collect();
            out.push(src.at(
                Finding::error(
                    codes::DESTINATION_MISMATCH,
                    format!("{name} replicates to {bucket:?}, but the spec's destination is {}", all.join(" or ")),
                ),
                b.value.start,
            ));
        }
    }
    let expected = named.unwrap_or(&spec.destination);
    if let Some(a) = account.and_then(|a| a.value.as_str().map(|s| (s, a.value.start))) {
        if !a.0.is_empty() && a.0 != expected.account_id {
            out.push(src.at(
                Finding::error(
                    codes::DESTINATION_MISMATCH,
                    format!(
                        "{name}: Destination.Account is {:?}, but the destination account is {} (AWS: InvalidArgument)",
                        a.0, expected.account_id
                    ),
                ),
                a.1,
            ));
        }
    }
}

/// S3 RTC: ReplicationTime needs Metrics enabled, and both thresholds are 15 minutes.
fn check_replication_time(src: &Src<'_>, name: &str, dest: &Node, out: &mut Vec<Finding>) {
    let rtc = dest.member("ReplicationTime");
    let metrics = dest.get("Metrics");
    if let Some(rtc) = rtc {
        if status_enabled(Some(&rtc.value)) && !status_enabled(metrics) {
            out.push(
                src.at(
                    Finding::error(codes::REPLICATION_TIME_METRICS, format!("{name}: ReplicationTime needs Metrics enabled as well")),
                    rtc.key_start,
                )
                .fix("add \"Metrics\": {\"Status\": \"Enabled\", \"EventThreshold\": {\"Minutes\": 15}}"),
            );
        }
        let minutes = rtc.value.get("Time").and_then(|t| t.get("Minutes"));
        if status_enabled(Some(&rtc.value)) && !matches!(minutes.map(|m| &m.kind), Some(Kind::Number(n)) if n == "15") {
            out.push(src.at(
                Finding::error(codes::REPLICATION_TIME_METRICS, format!("{name}: ReplicationTime.Time.Minutes must be 15")),
                minutes.map_or(rtc.value.start, |m| m.start),
            ));
        }
    }
    if let Some(threshold) = metrics.and_then(|m| m.get("EventThreshold")).and_then(|t| t.get("Minutes")) {
        if !matches!(&threshold.kind, Kind::Number(n) if n == "15") {
            out.push(src.at(
                Finding::error(codes::REPLICATION_TIME_METRICS, format!("{name}: Metrics.EventThreshold.Minutes must be 15")),
                threshold.start,
            ));
        }
    }
}

/// Selecting SSE-KMS objects and naming a ReplicaKmsKeyID go together.
fn check_replica_kms_key(src: &Src<'_>, name: &str, rule: &Node, dest: &Node, out: &mut Vec<Finding>) {
    let sse_kms = rule.get("SourceSelectionCriteria").and_then(|c| c.get("SseKmsEncryptedObjects"));
    let replica_key = dest.get("EncryptionConfiguration").and_then(|e| e.get("ReplicaKmsKeyID"));
    match (status_enabled(sse_kms), replica_key.is_some()) {
        (true, false) => out.push(src.at(
            Finding::error(
                codes::KMS_CONFIG,
                format!("{name} replicates SSE-KMS objects but has no Destination.EncryptionConfiguration.ReplicaKmsKeyID"),
            ),
            sse_kms.map_or(rule.start, |n| n.start),
        )),
        (false, true) => out.push(src.at(
            Finding::error(
                codes::KMS_CONFIG,
                format!(
                    "{name} names a ReplicaKmsKeyID but does not select SSE-KMS objects (SourceSelectionCriteria.SseKmsEncryptedObjects)"
                ),
            ),
            replica_key.map_or(rule.start, |n| n.start),
        )),
        _ => {}
    }
}
