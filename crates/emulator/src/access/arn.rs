//! S3 ARNs, as policies and replication configurations name buckets and objects.

/// The ARN of a bucket.
pub fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

/// The ARN of an object.
pub fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

/// The bucket an S3 bucket ARN names (`arn:aws:s3:::name`), if it names one.
pub fn bucket_from_arn(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:aws:s3:::").filter(|n| !n.is_empty() && !n.contains('/'))
}
