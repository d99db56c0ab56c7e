//! The spec: one TOML file that says everything the guide's fifteen console steps decide.
//!
//! ```toml
//! # Optional, read by test harnesses (see fixtures/README.md):
//! # expect-failure: AssumeRoleNotPermitted
//!
//! [source]                        # account A: the bucket that is replicated
//! account_id = "111111111111"     # 12 digits, a string
//! bucket = "xrepl-guide-source"
//! region = "us-east-1"            # default us-east-1
//! create_bucket = true            # default false: a missing bucket is an error
//!
//! [source.credentials]            # at most one of: profile / env / access_key_id+secret_access_key;
//! profile = "team-a"              # none of them = the SDK's default credential chain
//! # env = true                    # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
//! # access_key_id = "111111111111"
//! # secret_access_key = "test"
//! # session_token = "..."
//! # endpoint = "http://127.0.0.1:4566"   # emulator / LocalStack: path-style requests go here
//!
//! [destination]                   # account B (or [[destinations]], one table per destination
//!                                 # bucket: multi-destination): same keys as [source], plus
//! account_id = "222222222222"
//! bucket = "xrepl-guide-destination"
//! # bucket_policy_file = "my-bucket-policy.json"  # your own statements instead of xrepl's
//! # object_lock = true            # create the bucket with Object Lock (either side)
//!
//! [role]                          # the replication role, in account A
//! name = "s3crr_role_for_xrepl-guide-source"   # default s3crr_role_for_<source bucket>
//! path = "/service-role/"         # default /service-role/
//! policy_name = "xrepl-replication"            # the inline permission policy's name
//! # trust_policy_file = "trust-policy.json"    # your own documents instead of xrepl's
//! # permission_policy_file = "permission-policy.json"
//! # adopt = true                 # let xrepl change an existing role it did not create (recorded,
//!                                 # and put back by destroy); default false: such a role is untouched
//!
//! [[rules]]                       # one or more; or `replication_file = "put-bucket-replication.json"`
//! id = "guide-rule"               # default rule-<n>
//! priority = 1                    # default <n> (position, 1-based)
//! enabled = true                  # default true
//! prefix = "logs/"                # optional filter
//! tags = { team = "a" }           # optional filter (And with prefix)
//! delete_marker_replication = true   # default false
//! owner_override = true           # default true: "change object ownership to destination bucket owner"
//! storage_class = "STANDARD_IA"   # optional replica storage class
//! replicate_kms_objects = true    # SSE-KMS objects: needs replica_kms_key_id
//! replica_kms_key_id = "arn:aws:kms:us-east-1:222222222222:key/..."
//! source_kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/..."  # scopes kms:Decrypt
//! replication_time = true         # S3 RTC (15 minutes); implies metrics
//! metrics = true
//! replica_modifications = true    # two-way sync: metadata changes to replicas flow back
//! destination = "bucket-b2"       # with [[destinations]]: which one (default: the first)
//!
//! [overrides]                     # FOR TESTING FAILURE MODES ONLY: each one breaks replication
//! trust_service = "ec2.amazonaws.com"          # trust policy names another service
//! omit_role_actions = ["s3:ReplicateObject"]   # drop actions from the role's permission policy
//! omit_bucket_policy = true                    # no destination bucket policy statements at all
//! omit_bucket_policy_actions = ["s3:ReplicateDelete"]
//! destination_versioning = "Suspended"         # "Off": never enable; "Suspended": suspend after
//!                                              # PutBucketReplication; "Enabled": the normal state
//! ```
//!
//! Relative file names are resolved against the spec file's folder. Unknown keys are errors that
//! name the key, the allowed keys, and the line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use serde_spanned::Spanned;

use crate::error::{Location, ProvisionError, SpecError};

/// The region of a side that names none (`region = ...` in `[source]` / `[destination]`).
pub const DEFAULT_REGION: &str = "us-east-1";
/// The replication role's IAM path when `[role] path` is not given (the S3 console's).
pub const DEFAULT_ROLE_PATH: &str = "/service-role/";
/// The name of the role's inline permission policy when `[role] policy_name` is not given.
pub const DEFAULT_ROLE_POLICY_NAME: &str = "xrepl-replication";
/// The S3 console's name for a role it creates (`s3crr_role_for_<bucket>`), capped to IAM's 64.
pub const DEFAULT_ROLE_PREFIX: &str = "s3crr_role_for_";

/// Storage classes a replication destination accepts (API_Destination).
pub const REPLICA_STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
    "FSX_OPENZFS",
];

/// A validated spec. Construct with [`Spec::load`] or [`Spec::from_toml_str`].
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The file the spec came from (used in messages and to resolve relative paths).
    pub file: Option<PathBuf>,
    /// The source account and bucket (`[source]`): the bucket that is replicated, where the role
    /// and the replication configuration live.
    pub source: AccountSpec,
    /// The destination (`[destination]`), or the first of `[[destinations]]`.
    pub destination: AccountSpec,
    /// The other `[[destinations]]` (multi-destination replication), in order.
    pub extra_destinations: Vec<AccountSpec>,
    /// The replication role (`[role]`, every key optional).
    pub role: RoleSpec,
    /// The replication rules, from `[[rules]]` or `replication_file`; never empty. Each becomes
    /// one `Rule` of the replication configuration.
    pub rules: Vec<RuleSpec>,
    /// When the rules came from a `put-bucket-replication` JSON file, that file.
    pub replication_file: Option<UserDocument>,
    /// Deliberate breakage for tests (`[overrides]`); empty in a real setup.
    pub overrides: Overrides,
    /// What a test should expect from this setup, read from `# expect-...:` comments.
    pub expectation: Expectation,
}

/// One side of the setup: an account and its bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSpec {
    /// The 12-digit AWS account id (`account_id`, a string). The credentials must belong to it:
    /// [`Accounts::from_spec`](crate::aws::Accounts::from_spec) checks with STS.
    pub account_id: String,
    /// The bucket name (`bucket`), checked against S3's general purpose bucket naming rules.
    pub bucket: String,
    /// The bucket's region (`region`, default [`DEFAULT_REGION`]); CreateBucket's
    /// LocationConstraint and the clients' region.
    pub region: String,
    /// `create_bucket` (default `false`): create the bucket (tagged `xrepl:managed`) when it does
    /// not exist. When false, a missing bucket is a [`ProvisionError::Conflict`].
    pub create_bucket: bool,
    /// Where the account's credentials come from (`[<side>.credentials]`; default: the SDK's
    /// default chain).
    pub credentials: Credentials,
    /// Custom endpoint (emulator, LocalStack); requests are path-style when set.
    pub endpoint: Option<String>,
    /// Destination only: the user's own bucket policy statements, instead of xrepl's (merged into
    /// the bucket's policy as xrepl's, see [`crate::ownership`]).
    pub bucket_policy_file: Option<UserDocument>,
    /// Object Lock: a bucket xrepl creates is created with Object Lock enabled (AWS: a source
    /// bucket with Object Lock needs a destination with Object Lock, DstBucketObjectLockConfigMissing).
    pub object_lock: bool,
    /// Where the table was written in the spec (for lint messages).
    pub location: Option<Location>,
}

/// Where an account's credentials come from.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// The SDK's default chain (environment, profile, SSO, IMDS, ...).
    DefaultChain,
    /// A named profile from ~/.aws/config and ~/.aws/credentials.
    Profile(String),
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` only.
    Environment,
    /// Keys written in the spec (`access_key_id` + `secret_access_key`, optionally
    /// `session_token`). Their `Debug` output shows the key id only.
    Static {
        /// The access key id (for the emulator: the account id).
        access_key_id: String,
        /// The secret access key (for the emulator: `test`).
        secret_access_key: String,
        /// A session token, for temporary credentials.
        session_token: Option<String>,
    },
}

// Secrets stay out of logs and panics.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::DefaultChain => write!(f, "DefaultChain"),
            Credentials::Profile(p) => write!(f, "Profile({p:?})"),
            Credentials::Environment => write!(f, "Environment"),
            Credentials::Static { access_key_id, .. } => {
                write!(f, "Static {{ access_key_id: {access_key_id:?}, .. }}")
            }
        }
    }
}

/// The replication role (created in the source account).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleSpec {
    /// The role's name (`name`, default `s3crr_role_for_<source bucket>` cut to IAM's 64
    /// characters, see [`DEFAULT_ROLE_PREFIX`]).
    pub name: String,
    /// The role's IAM path (`path`, default [`DEFAULT_ROLE_PATH`]); it cannot change once the
    /// role exists.
    pub path: String,
    /// The name of the role's inline permission policy (`policy_name`, default
    /// [`DEFAULT_ROLE_POLICY_NAME`]).
    pub policy_name: String,
    /// `trust_policy_file`: the user's trust policy, sent verbatim instead of xrepl's (which lets
    /// `s3.amazonaws.com` assume the role for the source account only).
    pub trust_policy_file: Option<UserDocument>,
    /// `permission_policy_file`: the user's permission policy, sent verbatim instead of xrepl's
    /// least-privilege one (see [`crate::documents::role_policy`]).
    pub permission_policy_file: Option<UserDocument>,
    /// Let xrepl change a role it did not create (`adopt = true`, or `xrepl apply --adopt-role`):
    /// it records the trust policy it replaces in the role's tags and adds its own inline policy
    /// only under a name the role does not use yet; `destroy` puts the trust policy back and
    /// removes only what xrepl added. Without it, such a role is never modified.
    pub adopt: bool,
}

/// A JSON document the user supplied: its text (sent verbatim, en dashes and all) and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct UserDocument {
    /// The file, resolved against the spec file's folder.
    pub path: PathBuf,
    /// The file's text, exactly as read.
    pub text: String,
    /// The parsed JSON (what plans compare and lint checks).
    pub value: Value,
}

/// One replication rule (AWS schema V2: Filter + Priority + DeleteMarkerReplication).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    /// The rule's `ID` (`id`, default `rule-<n>`, n its 1-based position); at most 255
    /// characters, unique. xrepl recognizes its own rules in an existing configuration by ID.
    pub id: String,
    /// The rule's `Priority` (`priority`, default its 1-based position, 0 to `i32::MAX`). When
    /// several rules to one destination match an object, the highest number wins.
    pub priority: i32,
    /// The rule's `Status`: `Enabled` (`enabled`, default `true`) or `Disabled`.
    pub enabled: bool,
    /// `Filter.Prefix` (or `Filter.And.Prefix` with tags): only keys starting with it replicate.
    /// `None` (also for `prefix = ""`): every key.
    pub prefix: Option<String>,
    /// `Filter.Tag` (one tag) or `Filter.And.Tags` (several, or with a prefix): only objects
    /// carrying every one of these tags replicate. Empty: no tag filter.
    pub tags: BTreeMap<String, String>,
    /// `DeleteMarkerReplication.Status` (`delete_marker_replication`, default `false`): whether
    /// delete markers replicate. Adds `s3:ReplicateDelete` to the role's and bucket policy's
    /// actions. AWS rejects it on a rule with a tag filter.
    pub delete_marker_replication: bool,
    /// `Destination.AccessControlTranslation.Owner = "Destination"` (`owner_override`, default
    /// `true`): replicas are owned by the destination account (the console's "change object
    /// ownership to destination bucket owner"). Adds `s3:ObjectOwnerOverrideToBucketOwner`.
    pub owner_override: bool,
    /// `Destination.StorageClass` (`storage_class`, one of [`REPLICA_STORAGE_CLASSES`]); `None`:
    /// replicas keep the source object's storage class.
    pub storage_class: Option<String>,
    /// `SourceSelectionCriteria.SseKmsEncryptedObjects.Status = Enabled`
    /// (`replicate_kms_objects`, default `false`): replicate SSE-KMS encrypted objects too (S3
    /// skips them otherwise). Needs [`RuleSpec::replica_kms_key_id`]; grants the role
    /// `kms:Decrypt` on the source key(s) and `kms:Encrypt` on the replica key.
    pub replicate_kms_objects: bool,
    /// `Destination.EncryptionConfiguration.ReplicaKmsKeyID` (`replica_kms_key_id`): the KMS key
    /// (ARN, in the destination's region) S3 encrypts replicas with. Only used with
    /// `replicate_kms_objects`.
    pub replica_kms_key_id: Option<String>,
    /// `source_kms_key_arn`: the KMS key source objects are encrypted with. Not part of the
    /// replication configuration: it narrows the role's `kms:Decrypt` to this key (without it,
    /// any key of the source account in the source region, still only through S3).
    pub source_kms_key_arn: Option<String>,
    /// `Destination.ReplicationTime` Enabled with `Time.Minutes = 15` (`replication_time`,
    /// default `false`): S3 Replication Time Control. Turns metrics on as well.
    pub replication_time: bool,
    /// `Destination.Metrics.Status = Enabled` (`metrics`, default `false`; with
    /// `replication_time`, `EventThreshold.Minutes = 15`): replication metrics in CloudWatch.
    /// See [`RuleSpec::metrics_enabled`].
    pub metrics: bool,
    /// Two-way sync: replicate metadata changes made to replicas back (`ReplicaModifications`);
    /// set on the rules of both directions.
    pub replica_modifications: bool,
    /// The destination bucket this rule replicates to (with several `[[destinations]]`); `None`:
    /// the first destination.
    pub destination: Option<String>,
    /// Where the rule and each of its fields were written (TOML or JSON), for lint messages.
    pub locations: FieldLocations,
}

impl RuleSpec {
    /// A whole-bucket rule with the defaults (owner override on, everything else off).
    pub fn new(id: impl Into<String>, priority: i32) -> RuleSpec {
        RuleSpec {
            id: id.into(),
            priority,
            enabled: true,
            prefix: None,
            tags: BTreeMap::new(),
            delete_marker_replication: false,
            owner_override: true,
            storage_class: None,
            replicate_kms_objects: false,
            replica_kms_key_id: None,
            source_kms_key_arn: None,
            replication_time: false,
            metrics: false,
            replica_modifications: false,
            destination: None,
            locations: FieldLocations::default(),
        }
    }

    /// Metrics are on when asked for, and always with Replication Time Control (AWS requires both).
    pub fn metrics_enabled(&self) -> bool {
        self.metrics || self.replication_time
    }

    /// The prefix a probe object must start with to match this rule.
    pub fn prefix_str(&self) -> &str {
        self.prefix.as_deref().unwrap_or("")
    }
}

/// Field name → where it was written. The key `""` is the rule (or table) itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldLocations(pub BTreeMap<String, Location>);

impl FieldLocations {
    /// The field's location, falling back to the table's.
    pub fn get(&self, field: &str) -> Option<&Location> {
        self.0.get(field).or_else(|| self.0.get(""))
    }
}

/// Deliberate breakage, for testing how replication fails. Never use in production.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Service principal in the trust policy instead of `s3.amazonaws.com`.
    pub trust_service: Option<String>,
    /// Actions removed from the role's permission policy.
    pub omit_role_actions: Vec<String>,
    /// Put no destination bucket policy statements at all.
    pub omit_bucket_policy: bool,
    /// Actions removed from the destination bucket policy.
    pub omit_bucket_policy_actions: Vec<String>,
    /// Destination versioning other than Enabled.
    pub destination_versioning: Option<VersioningOverride>,
    /// Where each override was written in the spec (for lint's `override-active` warnings).
    pub locations: FieldLocations,
}

impl Overrides {
    /// Whether no override is set (a working, production setup).
    pub fn is_empty(&self) -> bool {
        self.trust_service.is_none()
            && self.omit_role_actions.is_empty()
            && !self.omit_bucket_policy
            && self.omit_bucket_policy_actions.is_empty()
            && self.destination_versioning.is_none()
    }
}

/// `[overrides] destination_versioning`: the destination's versioning state after apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersioningOverride {
    /// The normal state (same as no override).
    Enabled,
    /// Enabled while PutBucketReplication runs, then suspended: objects fail with DstBucketUnversioned.
    Suspended,
    /// Never enabled: PutBucketReplication fails with InvalidRequest.
    Off,
}

/// What a test should expect, from `# expect-failure: <Reason>` and `# expect-apply-error: <text>`
/// comment lines in the spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectation {
    /// The replication failure reason AWS would record (e.g. `AssumeRoleNotPermitted`).
    pub replication_failure: Option<String>,
    /// An apply-time failure, e.g. `PutBucketReplication InvalidRequest`.
    pub apply_error: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Raw, span-carrying mirror of the TOML, validated into the types above.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    source: Spanned<RawAccount>,
    destination: Option<Spanned<RawAccount>>,
    destinations: Option<Vec<Spanned<RawAccount>>>,
    role: Option<Spanned<RawRole>>,
    rules: Option<Vec<Spanned<RawRule>>>,
    replication_file: Option<Spanned<String>>,
    overrides: Option<Spanned<RawOverrides>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    account_id: Spanned<String>,
    bucket: Spanned<String>,
    region: Option<Spanned<String>>,
    create_bucket: Option<bool>,
    credentials: Option<Spanned<RawCredentials>>,
    bucket_policy_file: Option<Spanned<String>>,
    object_lock: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCredentials {
    profile: Option<Spanned<String>>,
    env: Option<Spanned<bool>>,
    access_key_id: Option<Spanned<String>>,
    secret_access_key: Option<Spanned<String>>,
    session_token: Option<Spanned<String>>,
    endpoint: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    name: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    policy_name: Option<Spanned<String>>,
    trust_policy_file: Option<Spanned<String>>,
    permission_policy_file: Option<Spanned<String>>,
    adopt: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Option<Spanned<String>>,
    priority: Option<Spanned<i64>>,
    enabled: Option<Spanned<bool>>,
    prefix: Option<Spanned<String>>,
    tags: Option<Spanned<BTreeMap<String, String>>>,
    delete_marker_replication: Option<Spanned<bool>>,
    owner_override: Option<Spanned<bool>>,
    storage_class: Option<Spanned<String>>,
    replicate_kms_objects: Option<Spanned<bool>>,
    replica_kms_key_id: Option<Spanned<String>>,
    source_kms_key_arn: Option<Spanned<String>>,
    replication_time: Option<Spanned<bool>>,
    metrics: Option<Spanned<bool>>,
    replica_modifications: Option<Spanned<bool>>,
    destination: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverrides {
    trust_service: Option<Spanned<String>>,
    omit_role_actions: Option<Spanned<Vec<String>>>,
    omit_bucket_policy: Option<Spanned<bool>>,
    omit_bucket_policy_actions: Option<Spanned<Vec<String>>>,
    destination_versioning: Option<Spanned<String>>,
}

/// The text being parsed and its file, to turn byte spans into locations.
struct Ctx<'a> {
    text: &'a str,
    file: Option<&'a Path>,
}

impl Ctx<'_> {
    fn loc(&self, span: Range<usize>) -> Location {
        Location::from_offset(self.text, span.start, self.file)
    }

    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ProvisionError {
        ProvisionError::Spec(SpecError::at(self.loc(span), message))
    }

    fn base_dir(&self) -> PathBuf {
        self.file.and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default()
    }

    /// Read and parse a JSON document a spec field names; errors point at the field or into the JSON.
    fn user_document(&self, field: &str, name: &Spanned<String>) -> Result<UserDocument, ProvisionError> {
        let path = self.base_dir().join(name.get_ref());
        let text =
            std::fs::read_to_string(&path).map_err(|e| self.err(name.span(), format!("cannot read {field} {}: {e}", path.display())))?;
        let value = parse_json_document(&text, &path)?;
        Ok(UserDocument { path, text, value })
    }
}

/// Parse JSON; a syntax error becomes a [`SpecError`] pointing into the JSON file.
pub(crate) fn parse_json_document(text: &str, path: &Path) -> Result<Value, ProvisionError> {
    serde_json::from_str(text).map_err(|e| {
        ProvisionError::Spec(SpecError {
            file: Some(path.to_path_buf()),
            line: Some(e.line()),
            column: Some(e.column()),
            message: format!("invalid JSON: {}", json_error_message(&e)),
        })
    })
}

/// serde_json's message without its trailing " at line X column Y" (we report those separately).
pub(crate) fn json_error_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    }
}

impl Spec {
    /// Read and validate a spec file, and the document files it names (relative to its folder).
    ///
    /// # Errors
    ///
    /// [`ProvisionError::Spec`] when the file cannot be read, or as [`Spec::from_toml_str`].
    pub fn load(path: impl AsRef<Path>) -> Result<Spec, ProvisionError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ProvisionError::Spec(SpecError::in_file(Some(path), format!("cannot read spec file: {e}"))))?;
        Spec::from_toml_str(&text, path)
    }

    /// Parse and validate spec text. `path` is used in messages and to resolve relative file names;
    /// it need not exist unless the spec names document files (`replication_file`,
    /// `bucket_policy_file`, `trust_policy_file`, `permission_policy_file`), which are read.
    ///
    /// Validation covers what the spec itself can get wrong: TOML syntax, unknown keys, 12-digit
    /// account ids, bucket names, regions, role names and paths, storage classes, credentials
    /// given two ways, rule destinations that are no `[destination]`. Whether AWS would accept
    /// the resulting documents is [`crate::lint::lint_spec`]'s job.
    ///
    /// # Errors
    ///
    /// [`ProvisionError::Spec`] with the file, line and column of the first problem.
    pub fn from_toml_str(text: &str, path: impl AsRef<Path>) -> Result<Spec, ProvisionError> {
        let path = path.as_ref();
        let ctx = Ctx { text, file: Some(path) };
        let raw: RawSpec = toml::from_str(text).map_err(|e| {
            let message = e.message().trim_end().to_string();
            match e.span() {
                Some(span) => ctx.err(span, message),
                None => ProvisionError::Spec(SpecError::in_file(Some(path), message)),
            }
        })?;
        let spec = build(&ctx, raw)?;
        Ok(Spec { expectation: parse_expectation(text), ..spec })
    }

    /// Convert a `put-bucket-replication` JSON document (`{"Role": ..., "Rules": [...]}`, or the
    /// CLI's `{"ReplicationConfiguration": {...}}` wrapper) into rules. Lenient by design: it keeps
    /// what the rules mean and leaves AWS's schema complaints (V1/V2 mix-ups, duplicate priorities)
    /// to [`crate::lint::lint_replication_json`].
    pub fn rules_from_replication_json(text: &str, path: impl AsRef<Path>) -> Result<Vec<RuleSpec>, ProvisionError> {
        Ok(import_replication_json(text, path.as_ref())?.rules)
    }

    /// The replication role's ARN (in the source account, with its path).
    pub fn role_arn(&self) -> String {
        format!("arn:aws:iam::{}:role{}{}", self.source.account_id, self.role.path, self.role.name)
    }

    /// The source bucket's ARN, `arn:aws:s3:::<bucket>`.
    pub fn source_bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.source.bucket)
    }

    /// The (first) destination bucket's ARN, `arn:aws:s3:::<bucket>`.
    pub fn destination_bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.destination.bucket)
    }

    /// Every destination: `[destination]` (or the first `[[destinations]]`), then the others.
    pub fn destinations(&self) -> impl Iterator<Item = &AccountSpec> {
        std::iter::once(&self.destination).chain(&self.extra_destinations)
    }

    /// The destination a rule replicates to.
    pub fn destination_of(&self, rule: &RuleSpec) -> &AccountSpec {
        rule.destination.as_deref().and_then(|b| self.destinations().find(|d| d.bucket == b)).unwrap_or(&self.destination)
    }

    /// The rules that replicate to `destination`.
    pub fn rules_to<'a>(&'a self, destination: &'a AccountSpec) -> impl Iterator<Item = &'a RuleSpec> {
        self.rules.iter().filter(move |r| self.destination_of(r).bucket == destination.bucket)
    }

    /// Whether the source and destination are in different accounts (the guide's case).
    pub fn is_cross_account(&self) -> bool {
        self.source.account_id != self.destination.account_id
    }

    /// Point both accounts at one endpoint with the emulator's convention: access key id = the
    /// account id, secret `test`. Used by the CLI's demo and by test harnesses.
    pub fn point_at_endpoint(&mut self, endpoint: &str) {
        for side in std::iter::once(&mut self.source).chain(std::iter::once(&mut self.destination)).chain(&mut self.extra_destinations) {
            side.endpoint = Some(endpoint.to_string());
            side.credentials =
                Credentials::Static { access_key_id: side.account_id.clone(), secret_access_key: "test".to_string(), session_token: None };
        }
    }
}

fn build(ctx: &Ctx<'_>, raw: RawSpec) -> Result<Spec, ProvisionError> {
    let source = account(ctx, "source", raw.source)?;
    let (destination, extra_destinations) = destinations(ctx, &source, raw.destination, raw.destinations)?;
    let known = |bucket: &str| bucket == destination.bucket || extra_destinations.iter().any(|d| d.bucket == bucket);

    let role = role(ctx, &source.bucket, raw.role)?;

    let replication_file = match &raw.replication_file {
        Some(name) => Some(ctx.user_document("replication_file", name)?),
        None => None,
    };
    let rules = match (raw.rules, &replication_file, &raw.replication_file) {
        (Some(rules), Some(_), Some(name)) if !rules.is_empty() => {
            return Err(ctx.err(name.span(), "give either [[rules]] or replication_file, not both"))
        }
        (_, Some(doc), Some(name)) => rules_from_file(ctx, doc, name, &destination.bucket, &known)?,
        (Some(rules), None, _) if !rules.is_empty() => rules_from_tables(ctx, rules, &known)?,
        _ => {
            return Err(ProvisionError::Spec(SpecError::in_file(
                ctx.file,
                "no replication rules: add at least one [[rules]] table, or replication_file = \"...\"",
            )))
        }
    };

    let overrides = match raw.overrides {
        Some(o) => overrides(ctx, o)?,
        None => Overrides::default(),
    };

    Ok(Spec {
        file: ctx.file.map(Path::to_path_buf),
        source,
        destination,
        extra_destinations,
        role,
        rules,
        replication_file,
        overrides,
        expectation: Expectation::default(),
    })
}

/// `[destination]` or the `[[destinations]]` (each bucket once, none the source's): the first,
/// and the others.
fn destinations(
    ctx: &Ctx<'_>,
    source: &AccountSpec,
    one: Option<Spanned<RawAccount>>,
    many: Option<Vec<Spanned<RawAccount>>>,
) -> Result<(AccountSpec, Vec<AccountSpec>), ProvisionError> {
    let raw_destinations = match (one, many) {
        (Some(one), None) => vec![("destination", one)],
        (None, Some(many)) if !many.is_empty() => many.into_iter().map(|d| ("destinations", d)).collect(),
        (Some(one), Some(_)) => {
            return Err(ctx.err(one.span(), "give either [destination] or [[destinations]], not both"));
        }
        (None, _) => {
            return Err(ProvisionError::Spec(SpecError::in_file(
                ctx.file,
                "no destination: add a [destination] table (or [[destinations]] tables, one per destination bucket)",
            )))
        }
    };
    let mut destinations: Vec<AccountSpec> = Vec::new();
    for (label, raw_destination) in raw_destinations {
        let span = raw_destination.span();
        let d = account(ctx, label, raw_destination)?;
        if d.bucket == source.bucket {
            return Err(ctx.err(span, "source and destination name the same bucket"));
        }
        if destinations.iter().any(|o| o.bucket == d.bucket) {
            return Err(ctx.err(span, format!("destination bucket {} is named twice", d.bucket)));
        }
        destinations.push(d);
    }
    let destination = destinations.remove(0);
    Ok((destination, destinations))
}

/// The rules of `replication_file` (`name`, read into `doc`): each must replicate to a known
/// destination bucket; rules to another than the first destination name theirs.
fn rules_from_file(
    ctx: &Ctx<'_>,
    doc: &UserDocument,
    name: &Spanned<String>,
    first_destination: &str,
    known: &dyn Fn(&str) -> bool,
) -> Result<Vec<RuleSpec>, ProvisionError> {
    let import = import_replication_json(&doc.text, &doc.path)?;
    let mut rules = import.rules;
    for (rule, bucket) in rules.iter_mut().zip(&import.destination_buckets) {
        let plain = bucket.strip_prefix("arn:aws:s3:::").unwrap_or(bucket);
        if !known(plain) {
            return Err(ctx.err(
                name.span(),
                format!(
                    "rule {:?} in {} replicates to {bucket}, but no [destination] or [[destinations]] names bucket {plain}",
                    rule.id,
                    doc.path.display()
                ),
            ));
        }
        if plain != first_destination {
            rule.destination = Some(plain.to_string());
        }
    }
    Ok(rules)
}

/// The `[[rules]]` tables; a rule's `destination` must be a known destination bucket.
fn rules_from_tables(ctx: &Ctx<'_>, rules: Vec<Spanned<RawRule>>, known: &dyn Fn(&str) -> bool) -> Result<Vec<RuleSpec>, ProvisionError> {
    let mut out = Vec::new();
    for (i, raw_rule) in rules.into_iter().enumerate() {
        let span = raw_rule.get_ref().destination.as_ref().map(Spanned::span);
        let r = rule(ctx, i, raw_rule)?;
        if let (Some(bucket), Some(span)) = (&r.destination, span) {
            if !known(bucket) {
                return Err(
                    ctx.err(span, format!("rule {:?}: destination {bucket:?} is not a [destination] or [[destinations]] bucket", r.id))
                );
            }
        }
        out.push(r);
    }
    Ok(out)
}

fn account(ctx: &Ctx<'_>, side: &str, raw: Spanned<RawAccount>) -> Result<AccountSpec, ProvisionError> {
    let location = Some(ctx.loc(raw.span()));
    let raw = raw.into_inner();
    let id = raw.account_id.get_ref();
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ctx.err(raw.account_id.span(), format!("[{side}] account_id must be 12 digits, got {id:?}")));
    }
    if let Some(problem) = bucket_name_problem(raw.bucket.get_ref()) {
        return Err(ctx.err(raw.bucket.span(), format!("[{side}] bucket {:?} is not a valid bucket name: {problem}", raw.bucket.get_ref())));
    }
    let region = match raw.region {
        Some(r) => {
            let ok = !r.get_ref().is_empty() && r.get_ref().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(ctx.err(r.span(), format!("[{side}] region {:?} is not a region name like us-east-1", r.get_ref())));
            }
            r.into_inner()
        }
        None => DEFAULT_REGION.to_string(),
    };
    let (credentials, endpoint) = match raw.credentials {
        Some(c) => credentials(ctx, side, c)?,
        None => (Credentials::DefaultChain, None),
    };
    let bucket_policy_file = match &raw.bucket_policy_file {
        Some(name) if side == "source" => {
            return Err(ctx.err(name.span(), "bucket_policy_file belongs in [destination]: xrepl writes no source bucket policy"))
        }
        Some(name) => Some(ctx.user_document("bucket_policy_file", name)?),
        None => None,
    };
    Ok(AccountSpec {
        account_id: id.clone(),
        bucket: raw.bucket.into_inner(),
        region,
        create_bucket: raw.create_bucket.unwrap_or(false),
        credentials,
        endpoint,
        bucket_policy_file,
        object_lock: raw.object_lock.unwrap_or(false),
        location,
    })
}

fn credentials(ctx: &Ctx<'_>, side: &str, raw: Spanned<RawCredentials>) -> Result<(Credentials, Option<String>), ProvisionError> {
    let span = raw.span();
    let raw = raw.into_inner();
    let endpoint = match raw.endpoint {
        Some(e) => {
            let v = e.get_ref();
            if !(v.starts_with("http://") || v.starts_with("https://")) {
                return Err(ctx.err(e.span(), format!("[{side}.credentials] endpoint must start with http:// or https://, got {v:?}")));
            }
            Some(v.trim_end_matches('/').to_string())
        }
        None => None,
    };
    let env = raw.env.as_ref().is_some_and(|e| *e.get_ref());
    let has_static = raw.access_key_id.is_some() || raw.secret_access_key.is_some();
    let modes = usize::from(raw.profile.is_some()) + usize::from(env) + usize::from(has_static);
    if modes > 1 {
        return Err(
            ctx.err(span, format!("[{side}.credentials] give only one of profile, env = true, or access_key_id + secret_access_key"))
        );
    }
    if raw.session_token.is_some() && !has_static {
        if let Some(t) = &raw.session_token {
            return Err(ctx.err(t.span(), format!("[{side}.credentials] session_token needs access_key_id and secret_access_key")));
        }
    }
    let credentials = if let Some(p) = raw.profile {
        if p.get_ref().is_empty() {
            return Err(ctx.err(p.span(), "profile name is empty"));
        }
        Credentials::Profile(p.into_inner())
    } else if env {
        Credentials::Environment
    } else if has_static {
        match (raw.access_key_id, raw.secret_access_key) {
            (Some(id), Some(secret)) => Credentials::Static {
                access_key_id: id.into_inner(),
                secret_access_key: secret.into_inner(),
                session_token: raw.session_token.map(Spanned::into_inner),
            },
            _ => {
                return Err(ctx.err(span, format!("[{side}.credentials] static credentials need both access_key_id and secret_access_key")))
            }
        }
    } else {
        Credentials::DefaultChain
    };
    Ok((credentials, endpoint))
}

fn role(ctx: &Ctx<'_>, source_bucket: &str, raw: Option<Spanned<RawRole>>) -> Result<RoleSpec, ProvisionError> {
    let raw = raw.map(Spanned::into_inner);
    let mut default_name = format!("{DEFAULT_ROLE_PREFIX}{source_bucket}");
    default_name.truncate(64);
    let (name, path, policy_name, trust, permission, adopt) = match raw {
        Some(r) => (r.name, r.path, r.policy_name, r.trust_policy_file, r.permission_policy_file, r.adopt.unwrap_or(false)),
        None => (None, None, None, None, None, false),
    };
    let name = match name {
        Some(n) => {
            let v = n.get_ref();
            let ok = !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
            if !ok {
                return Err(
                    ctx.err(n.span(), format!("[role] name {v:?}: IAM role names are 1-64 characters of letters, digits and +=,.@_-"))
                );
            }
            n.into_inner()
        }
        None => default_name,
    };
    let path = match path {
        Some(p) => {
            let v = p.get_ref();
            if !(v.starts_with('/') && v.ends_with('/')) || v.len() > 512 {
                return Err(ctx.err(p.span(), format!("[role] path {v:?} must start and end with '/', e.g. \"/service-role/\"")));
            }
            p.into_inner()
        }
        None => DEFAULT_ROLE_PATH.to_string(),
    };
    let policy_name = match policy_name {
        Some(n) => {
            let v = n.get_ref();
            let ok = !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
            if !ok {
                return Err(ctx.err(n.span(), format!("[role] policy_name {v:?}: 1-128 characters of letters, digits and +=,.@_-")));
            }
            n.into_inner()
        }
        None => DEFAULT_ROLE_POLICY_NAME.to_string(),
    };
    let trust_policy_file = match &trust {
        Some(n) => Some(ctx.user_document("trust_policy_file", n)?),
        None => None,
    };
    let permission_policy_file = match &permission {
        Some(n) => Some(ctx.user_document("permission_policy_file", n)?),
        None => None,
    };
    Ok(RoleSpec { name, path, policy_name, trust_policy_file, permission_policy_file, adopt })
}

/// Puts into `locations` where each of the named fields of a raw table was written (those it
/// has), so lint can point at it.
macro_rules! record_locations {
    ($ctx:expr, $raw:expr, $locations:expr, [$($field:ident),* $(,)?]) => {$(
        if let Some(f) = &$raw.$field {
            $locations.0.insert(stringify!($field).to_string(), $ctx.loc(f.span()));
        }
    )*};
}

/// Where a rule's table and each field it writes are, so lint can point at them.
fn rule_locations(ctx: &Ctx<'_>, table: Range<usize>, r: &RawRule) -> FieldLocations {
    let mut locations = FieldLocations::default();
    locations.0.insert(String::new(), ctx.loc(table));
    record_locations!(
        ctx,
        r,
        locations,
        [
            id,
            priority,
            enabled,
            prefix,
            tags,
            delete_marker_replication,
            owner_override,
            storage_class,
            replicate_kms_objects,
            replica_kms_key_id,
            source_kms_key_arn,
            replication_time,
            metrics,
            replica_modifications,
            destination
        ]
    );
    locations
}

fn rule(ctx: &Ctx<'_>, index: usize, raw: Spanned<RawRule>) -> Result<RuleSpec, ProvisionError> {
    let locations = rule_locations(ctx, raw.span(), raw.get_ref());
    let r = raw.into_inner();
    let n = index + 1;
    let id = match r.id {
        Some(id) if id.get_ref().is_empty() => return Err(ctx.err(id.span(), "rule id is empty (leave it out for rule-<n>)")),
        Some(id) => id.into_inner(),
        None => format!("rule-{n}"),
    };
    let priority = match r.priority {
        Some(p) => match i32::try_from(*p.get_ref()) {
            Ok(v) if v >= 0 => v,
            _ => return Err(ctx.err(p.span(), format!("priority must be a whole number from 0 to {}, got {}", i32::MAX, p.get_ref()))),
        },
        None => i32::try_from(n).unwrap_or(i32::MAX),
    };
    let storage_class = match r.storage_class {
        Some(s) => {
            if !REPLICA_STORAGE_CLASSES.contains(&s.get_ref().as_str()) {
                return Err(
                    ctx.err(s.span(), format!("storage_class {:?} is not one of {}", s.get_ref(), REPLICA_STORAGE_CLASSES.join(", ")))
                );
            }
            Some(s.into_inner())
        }
        None => None,
    };
    let tags = match r.tags {
        Some(t) => {
            if t.get_ref().keys().any(String::is_empty) {
                return Err(ctx.err(t.span(), "tag keys must not be empty"));
            }
            t.into_inner()
        }
        None => BTreeMap::new(),
    };
    let non_empty = |v: Option<Spanned<String>>, what: &str| -> Result<Option<String>, ProvisionError> {
        match v {
            Some(s) if s.get_ref().is_empty() => Err(ctx.err(s.span(), format!("{what} is empty"))),
            Some(s) => Ok(Some(s.into_inner())),
            None => Ok(None),
        }
    };
    let flag = |v: Option<Spanned<bool>>, default: bool| v.map_or(default, Spanned::into_inner);
    Ok(RuleSpec {
        id,
        priority,
        enabled: flag(r.enabled, true),
        prefix: r.prefix.map(Spanned::into_inner).filter(|p| !p.is_empty()),
        tags,
        delete_marker_replication: flag(r.delete_marker_replication, false),
        owner_override: flag(r.owner_override, true),
        storage_class,
        replicate_kms_objects: flag(r.replicate_kms_objects, false),
        replica_kms_key_id: non_empty(r.replica_kms_key_id, "replica_kms_key_id")?,
        source_kms_key_arn: non_empty(r.source_kms_key_arn, "source_kms_key_arn")?,
        replication_time: flag(r.replication_time, false),
        metrics: flag(r.metrics, false),
        replica_modifications: flag(r.replica_modifications, false),
        destination: r.destination.map(Spanned::into_inner),
        locations,
    })
}

fn overrides(ctx: &Ctx<'_>, raw: Spanned<RawOverrides>) -> Result<Overrides, ProvisionError> {
    let mut locations = FieldLocations::default();
    locations.0.insert(String::new(), ctx.loc(raw.span()));
    let r = raw.into_inner();
    record_locations!(
        ctx,
        r,
        locations,
        [trust_service, omit_role_actions, omit_bucket_policy, omit_bucket_policy_actions, destination_versioning]
    );
    let actions = |v: Option<Spanned<Vec<String>>>| -> Result<Vec<String>, ProvisionError> {
        match v {
            Some(list) => {
                if let Some(bad) = list.get_ref().iter().find(|a| !a.contains(':')) {
                    return Err(ctx.err(list.span(), format!("{bad:?} is not an action like \"s3:ReplicateObject\"")));
                }
                Ok(list.into_inner())
            }
            None => Ok(Vec::new()),
        }
    };
    let destination_versioning = match r.destination_versioning {
        Some(v) => Some(match v.get_ref().as_str() {
            "Enabled" => VersioningOverride::Enabled,
            "Suspended" => VersioningOverride::Suspended,
            "Off" => VersioningOverride::Off,
            other => {
                return Err(ctx.err(v.span(), format!("destination_versioning {other:?} must be \"Enabled\", \"Suspended\" or \"Off\"")))
            }
        }),
        None => None,
    };
    Ok(Overrides {
        trust_service: r.trust_service.map(Spanned::into_inner),
        omit_role_actions: actions(r.omit_role_actions)?,
        omit_bucket_policy: r.omit_bucket_policy.is_some_and(Spanned::into_inner),
        omit_bucket_policy_actions: actions(r.omit_bucket_policy_actions)?,
        destination_versioning,
        locations,
    })
}

/// Why `name` is not a valid (general purpose) bucket name, if it is not.
pub fn bucket_name_problem(name: &str) -> Option<&'static str> {
    if name.len() < 3 || name.len() > 63 {
        return Some("bucket names are 3 to 63 characters long");
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-') {
        return Some("only lowercase letters, digits, '.' and '-' are allowed");
    }
    let first = name.as_bytes()[0];
    let last = name.as_bytes()[name.len() - 1];
    if !(first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric()) {
        return Some("bucket names begin and end with a letter or digit");
    }
    if name.contains("..") {
        return Some("two adjacent periods are not allowed");
    }
    None
}

fn parse_expectation(text: &str) -> Expectation {
    let mut e = Expectation::default();
    for line in text.lines() {
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let comment = comment.trim();
        if let Some(v) = comment.strip_prefix("expect-failure:") {
            e.replication_failure = Some(v.trim().to_string());
        } else if let Some(v) = comment.strip_prefix("expect-apply-error:") {
            e.apply_error = Some(v.trim().to_string());
        }
    }
    e
}

// ---------------------------------------------------------------------------------------------
// put-bucket-replication JSON → rules

/// What a replication JSON document holds, in spec terms.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicationImport {
    /// The document's `Role` (the replication role's ARN), when it has one.
    pub role: Option<String>,
    /// The rules, in document order. [`RuleSpec::destination`] is `None`: the buckets are in
    /// `destination_buckets`.
    pub rules: Vec<RuleSpec>,
    /// Each rule's `Destination.Bucket` (an ARN), in rule order.
    pub destination_buckets: Vec<String>,
}

/// Convert a `put-bucket-replication` JSON document into rules. See
/// [`Spec::rules_from_replication_json`].
pub fn import_replication_json(text: &str, path: &Path) -> Result<ReplicationImport, ProvisionError> {
    let value = parse_json_document(text, path)?;
    let positions = crate::json_pos::parse(text);
    let err = |message: String| ProvisionError::Spec(SpecError::in_file(Some(path), message));
    // Accept the CLI's `--replication-configuration file://` shape and the API's.
    let (config, config_pos) = match value.get("ReplicationConfiguration") {
        Some(inner) => (inner, positions.as_ref().and_then(|p| p.get("ReplicationConfiguration"))),
        None => (&value, positions.as_ref()),
    };
    let Some(rules) = config.get("Rules").and_then(Value::as_array) else {
        return Err(err("a replication configuration needs a \"Rules\" array".into()));
    };
    let rule_positions: Vec<Option<&crate::json_pos::Node>> =
        match config_pos.and_then(|c| c.get("Rules")).and_then(crate::json_pos::Node::as_array) {
            Some(items) => items.iter().map(Some).collect(),
            None => Vec::new(),
        };
    let mut out = Vec::new();
    let mut buckets = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let locations = imported_rule_locations(text, path, rule_positions.get(i).copied().flatten());
        let (rule, bucket) = imported_rule(i + 1, rule, locations).map_err(err)?;
        out.push(rule);
        buckets.push(bucket);
    }
    Ok(ReplicationImport { role: s_owned(config.get("Role")), rules: out, destination_buckets: buckets })
}

/// Where the rule and its fields are in the document, under the spec's field names.
fn imported_rule_locations(text: &str, path: &Path, node: Option<&crate::json_pos::Node>) -> FieldLocations {
    let mut locations = FieldLocations::default();
    if let Some(node) = node {
        locations.0.insert(String::new(), Location::from_offset(text, node.start, Some(path)));
        for m in node.members() {
            let field = match m.key.as_str() {
                "ID" => "id",
                "Priority" => "priority",
                "Filter" | "Prefix" => "prefix",
                "DeleteMarkerReplication" => "delete_marker_replication",
                "Destination" => "destination",
                "Status" => "enabled",
                _ => continue,
            };
            locations.0.insert(field.to_string(), Location::from_offset(text, m.key_start, Some(path)));
        }
    }
    locations
}

/// `{"Status": "Enabled"}`.
fn status_is_enabled(v: Option<&Value>) -> bool {
    v.and_then(|x| x.get("Status")).and_then(Value::as_str).is_some_and(|x| x == "Enabled")
}

/// Rule number `n` in spec terms, and its `Destination.Bucket`; the error is the message.
fn imported_rule(n: usize, rule: &Value, locations: FieldLocations) -> Result<(RuleSpec, String), String> {
    let s = s_owned;
    let Some(destination) = rule.get("Destination") else {
        return Err(format!("rule {n} has no \"Destination\""));
    };
    let Some(bucket) = s(destination.get("Bucket")) else {
        return Err(format!("rule {n} has no \"Destination.Bucket\""));
    };
    let (prefix, tags) = imported_filter(rule);
    let is_v1 = rule.get("Filter").is_none();
    let priority = match rule.get("Priority").and_then(Value::as_i64) {
        Some(p) => i32::try_from(p).map_err(|_| format!("rule {n}: Priority {p} is out of range"))?,
        None => i32::try_from(n).unwrap_or(i32::MAX),
    };
    let status = s(rule.get("Status")).unwrap_or_default();
    let sse_kms = status_is_enabled(rule.get("SourceSelectionCriteria").and_then(|c| c.get("SseKmsEncryptedObjects")));
    let spec_rule = RuleSpec {
        id: s(rule.get("ID")).unwrap_or_else(|| format!("rule-{n}")),
        priority,
        enabled: status == "Enabled",
        prefix: prefix.filter(|p| !p.is_empty()),
        tags,
        // V1 rules replicate delete markers (User Guide delete-marker-replication).
        delete_marker_replication: if is_v1 { true } else { status_is_enabled(rule.get("DeleteMarkerReplication")) },
        owner_override: destination.get("AccessControlTranslation").and_then(|a| a.get("Owner")).and_then(Value::as_str)
            == Some("Destination"),
        storage_class: s(destination.get("StorageClass")),
        replicate_kms_objects: sse_kms,
        replica_kms_key_id: s(destination.get("EncryptionConfiguration").and_then(|e| e.get("ReplicaKmsKeyID"))),
        source_kms_key_arn: None,
        replication_time: status_is_enabled(destination.get("ReplicationTime")),
        metrics: status_is_enabled(destination.get("Metrics")),
        replica_modifications: status_is_enabled(rule.get("SourceSelectionCriteria").and_then(|c| c.get("ReplicaModifications"))),
        destination: None,
        locations,
    };
    Ok((spec_rule, bucket))
}

/// The rule's prefix and tags. Filter: Prefix | Tag | And{Prefix, Tags}; V1 rules carry a
/// top-level Prefix instead.
fn imported_filter(rule: &Value) -> (Option<String>, BTreeMap<String, String>) {
    let s = s_owned;
    let mut prefix = s(rule.get("Prefix"));
    let mut tags = BTreeMap::new();
    let mut push_tag = |t: &Value| {
        if let (Some(k), Some(v)) = (t.get("Key").and_then(Value::as_str), t.get("Value").and_then(Value::as_str)) {
            tags.insert(k.to_string(), v.to_string());
        }
    };
    if let Some(filter) = rule.get("Filter") {
        if let Some(p) = s(filter.get("Prefix")) {
            prefix = Some(p);
        }
        if let Some(t) = filter.get("Tag") {
            push_tag(t);
        }
        if let Some(and) = filter.get("And") {
            if let Some(p) = s(and.get("Prefix")) {
                prefix = Some(p);
            }
            for t in and.get("Tags").and_then(Value::as_array).into_iter().flatten() {
                push_tag(t);
            }
        }
    }
    (prefix, tags)
}

fn s_owned(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// Actions named in overrides, as a set (for quick membership tests).
pub(crate) fn action_set(actions: &[String]) -> BTreeSet<String> {
    actions.iter().map(|a| a.to_ascii_lowercase()).collect()
}
