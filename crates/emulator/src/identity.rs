//! Who is calling: resolved from a verified access key (and session token) to a principal.

use xrepl_policy::PrincipalInfo;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user (long-term keys of the account itself).
    Root,
    /// An IAM user with its own access keys; its policies apply.
    User { name: String, arn: String },
    /// Temporary credentials from `sts:AssumeRole`; the role's policies apply.
    AssumedRole { role_name: String, role_arn: String, session_name: String },
    /// An AWS service acting on its own (S3 replication assuming a role).
    Service(String),
    /// No credentials at all.
    Anonymous,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// None for anonymous and service principals.
    pub account: Option<String>,
    pub canonical_id: Option<String>,
    pub kind: PrincipalKind,
    /// Condition keys the request itself carries (S3's `s3:x-amz-*`, `s3:RequestObjectTag/…`),
    /// set by the service that received it; empty for requests the emulator makes itself.
    pub request_keys: Vec<(String, Vec<String>)>,
}

impl Caller {
    pub fn new(account: Option<String>, canonical_id: Option<String>, kind: PrincipalKind) -> Self {
        Self { account, canonical_id, kind, request_keys: Vec::new() }
    }

    pub fn anonymous() -> Self {
        Self::new(None, None, PrincipalKind::Anonymous)
    }

    pub fn is_root(&self) -> bool {
        self.kind == PrincipalKind::Root
    }

    /// The ARN AWS reports for this caller (GetCallerIdentity, error messages).
    pub fn arn(&self) -> String {
        let account = self.account.as_deref().unwrap_or("");
        match &self.kind {
            PrincipalKind::Root => format!("arn:aws:iam::{account}:root"),
            PrincipalKind::User { arn, .. } => arn.clone(),
            PrincipalKind::AssumedRole { role_name, session_name, .. } => {
                format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}")
            }
            PrincipalKind::Service(s) => s.clone(),
            PrincipalKind::Anonymous => "anonymous".to_owned(),
        }
    }

    /// Everything a policy's `Principal` element may name this caller by.
    pub fn principal_info(&self) -> PrincipalInfo {
        let mut arns = vec![self.arn()];
        let mut service = None;
        match &self.kind {
            PrincipalKind::AssumedRole { role_arn, .. } => arns.push(role_arn.clone()),
            PrincipalKind::Service(s) => {
                service = Some(s.clone());
                arns.clear();
            }
            PrincipalKind::Anonymous => arns.clear(),
            PrincipalKind::Root | PrincipalKind::User { .. } => {}
        }
        PrincipalInfo {
            account: self.account.clone(),
            arns,
            service,
            canonical_id: self.canonical_id.clone(),
            anonymous: self.kind == PrincipalKind::Anonymous,
        }
    }
}
