//! The typed policy model and its JSON rendering.

use serde_json::{json, Map, Value};

use crate::condition::ConditionBlock;
use crate::values::Values;

/// The only Version strings IAM and S3 accept (IAM User Guide
/// `reference_policies_elements_version`).
pub const VALID_VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];

/// Which kind of document is being parsed; decides which elements are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// Identity policy (user/role/group, managed or inline): no Principal allowed.
    Identity,
    /// Resource policy (bucket policy, key policy): Principal required.
    Resource,
    /// Role trust policy: Principal required, no Resource, `sts:` actions.
    Trust,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// The `Principal` element's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"Principal": "*"`: everyone, including anonymous callers.
    Any,
    /// `{"AWS": ..., "Service": ..., "CanonicalUser": ..., "Federated": ...}` in document order.
    Map(Vec<(PrincipalType, Values)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    Aws,
    Service,
    CanonicalUser,
    Federated,
}

impl PrincipalType {
    pub fn key(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::CanonicalUser => "CanonicalUser",
            PrincipalType::Federated => "Federated",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [Self::Aws, Self::Service, Self::CanonicalUser, Self::Federated].into_iter().find(|t| t.key() == key)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalBlock {
    Principal(Principal),
    NotPrincipal(Principal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionBlock {
    Action(Values),
    NotAction(Values),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceBlock {
    Resource(Values),
    NotResource(Values),
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// Absent in identity policies; required in resource and trust policies.
    pub principal: Option<PrincipalBlock>,
    pub action: ActionBlock,
    /// Absent in trust policies; required otherwise.
    pub resource: Option<ResourceBlock>,
    /// Operator blocks in document order; all must hold.
    pub conditions: Vec<ConditionBlock>,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Whether policy variables (`${aws:username}`) are substituted: only in
    /// Version 2012-10-17; older documents treat them as literal text.
    pub(crate) fn variables_enabled(&self) -> bool {
        self.version.as_deref() == Some("2012-10-17")
    }

    /// The document as JSON. Parsing the result gives an equal [`Policy`]
    /// (condition values that were JSON booleans or numbers come back as strings,
    /// and `Statement` is always an array).
    pub fn to_json(&self) -> Value {
        let mut doc = Map::new();
        if let Some(version) = &self.version {
            doc.insert("Version".into(), json!(version));
        }
        if let Some(id) = &self.id {
            doc.insert("Id".into(), json!(id));
        }
        let statements = self.statements.iter().map(Statement::to_json).collect();
        doc.insert("Statement".into(), Value::Array(statements));
        Value::Object(doc)
    }
}

impl Statement {
    fn to_json(&self) -> Value {
        let mut out = Map::new();
        if let Some(sid) = &self.sid {
            out.insert("Sid".into(), json!(sid));
        }
        out.insert("Effect".into(), json!(self.effect.as_str()));
        match &self.principal {
            Some(PrincipalBlock::Principal(p)) => {
                out.insert("Principal".into(), principal_json(p));
            }
            Some(PrincipalBlock::NotPrincipal(p)) => {
                out.insert("NotPrincipal".into(), principal_json(p));
            }
            None => {}
        }
        match &self.action {
            ActionBlock::Action(v) => out.insert("Action".into(), v.to_json()),
            ActionBlock::NotAction(v) => out.insert("NotAction".into(), v.to_json()),
        };
        match &self.resource {
            Some(ResourceBlock::Resource(v)) => {
                out.insert("Resource".into(), v.to_json());
            }
            Some(ResourceBlock::NotResource(v)) => {
                out.insert("NotResource".into(), v.to_json());
            }
            None => {}
        }
        if !self.conditions.is_empty() {
            let mut blocks = Map::new();
            for block in &self.conditions {
                let entries = block.entries.iter().map(|(key, values)| (key.clone(), values.to_json())).collect();
                blocks.insert(block.operator.name(), Value::Object(entries));
            }
            out.insert("Condition".into(), Value::Object(blocks));
        }
        Value::Object(out)
    }
}

fn principal_json(p: &Principal) -> Value {
    match p {
        Principal::Any => json!("*"),
        Principal::Map(entries) => Value::Object(entries.iter().map(|(t, v)| (t.key().to_string(), v.to_json())).collect()),
    }
}
