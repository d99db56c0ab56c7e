//! KMS keys for SSE-KMS replication tests (feature `kms`: the aws-sdk-kms client). Writing an
//! SSE-KMS object and checking the replica's key need only S3 and are always there.

use crate::{Harness, HarnessError};

impl Harness {
    async fn kms(&self, account: &str) -> Result<aws_sdk_kms::Client, HarnessError> {
        let handle = self.account(account)?;
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&handle.endpoint)
            .region(aws_config::Region::new(self.backend().region().to_owned()))
            .credentials_provider(aws_credential_types::Credentials::new(account, "test", None, None, "xrepl-harness"))
            .load()
            .await;
        Ok(aws_sdk_kms::Client::new(&config))
    }

    fn key_policy(account: &str, allow_role: Option<&str>) -> String {
        let mut statements = vec![serde_json::json!({
            "Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "kms:*", "Resource": "*"
        })];
        if let Some(role) = allow_role {
            statements.push(serde_json::json!({
                "Sid": "ReplicationRoleEncrypts", "Effect": "Allow", "Principal": {"AWS": role},
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*"
            }));
        }
        serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
    }

    /// Creates a KMS key in `account` with the default key policy (the account decides through IAM).
    pub async fn create_kms_key(&self, account: &str) -> Result<String, HarnessError> {
        let out = self
            .kms(account)
            .await?
            .create_key()
            .policy(Self::key_policy(account, None))
            .description("xrepl harness key")
            .send()
            .await
            .map_err(|e| HarnessError::aws("CreateKey", &e))?;
        out.key_metadata()
            .and_then(|m| m.arn())
            .map(str::to_owned)
            .ok_or_else(|| HarnessError::Other("CreateKey returned no ARN".to_owned()))
    }

    /// Lets a (cross-account) replication role encrypt with the key, as a replica key's policy must.
    pub async fn allow_role_on_key(&self, account: &str, key_arn: &str, role_arn: &str) -> Result<(), HarnessError> {
        self.kms(account)
            .await?
            .put_key_policy()
            .key_id(key_arn)
            .policy_name("default")
            .policy(Self::key_policy(account, Some(role_arn)))
            .send()
            .await
            .map_err(|e| HarnessError::aws("PutKeyPolicy", &e))?;
        Ok(())
    }
}
