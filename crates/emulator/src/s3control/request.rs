//! `CreateJob`'s XML body, checked as S3 Control checks it, and the job's manifest and report
//! rendered back for `DescribeJob`. Bad input is `BadRequestException` (400) and creates nothing.

use serde::Deserialize;

use super::errors::bad_request;
use crate::error::ServiceError;
use crate::replication::batch::parse_time;
use crate::state::batch::{Job, ManifestGenerator, ManifestSource, ReplicationStatusFilter, ReportSpec};
use crate::xml::XmlBuf;

const CSV_MANIFEST: &str = "S3BatchOperations_CSV_20180820";
const CSV_REPORT: &str = "Report_CSV_20180820";

#[derive(Deserialize, Default)]
#[serde(default)]
struct Members {
    member: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateJobXml {
    #[serde(default)]
    confirmation_required: Option<bool>,
    operation: Option<OperationXml>,
    report: Option<ReportXml>,
    client_request_token: Option<String>,
    manifest: Option<ManifestXml>,
    description: Option<String>,
    priority: Option<i64>,
    role_arn: Option<String>,
    manifest_generator: Option<GeneratorXml>,
}

#[derive(Deserialize)]
struct OperationXml {
    #[serde(rename = "S3ReplicateObject")]
    replicate: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReportXml {
    bucket: Option<String>,
    format: Option<String>,
    enabled: Option<bool>,
    prefix: Option<String>,
    report_scope: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestXml {
    spec: Option<SpecXml>,
    location: Option<LocationXml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SpecXml {
    format: Option<String>,
    #[serde(default)]
    fields: Members,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LocationXml {
    object_arn: Option<String>,
    object_version_id: Option<String>,
    #[serde(rename = "ETag")]
    etag: Option<String>,
}

#[derive(Deserialize)]
struct GeneratorXml {
    #[serde(rename = "S3JobManifestGenerator")]
    s3: Option<S3GeneratorXml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct S3GeneratorXml {
    expected_bucket_owner: Option<String>,
    source_bucket: Option<String>,
    manifest_output_location: Option<OutputXml>,
    filter: Option<FilterXml>,
    enable_manifest_output: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OutputXml {
    bucket: Option<String>,
    manifest_prefix: Option<String>,
    manifest_format: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FilterXml {
    eligible_for_replication: Option<bool>,
    created_after: Option<String>,
    created_before: Option<String>,
    #[serde(default)]
    object_replication_statuses: Members,
    key_name_constraint: Option<KeyNameXml>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct KeyNameXml {
    match_any_prefix: Members,
    match_any_suffix: Members,
}

/// A checked `CreateJob` request.
pub struct CreateJob {
    pub confirmation_required: bool,
    pub client_token: String,
    pub description: Option<String>,
    pub priority: i32,
    pub role_arn: String,
    pub manifest: ManifestSource,
    pub report: ReportSpec,
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, ServiceError> {
    value.ok_or_else(|| bad_request(format!("The request must contain the parameter {name}")))
}

/// `arn:aws:s3:::bucket` → `bucket`.
fn bucket_arn(arn: &str, name: &str) -> Result<String, ServiceError> {
    match arn.strip_prefix("arn:aws:s3:::") {
        Some(bucket) if !bucket.is_empty() && !bucket.contains('/') => Ok(bucket.to_owned()),
        _ => Err(bad_request(format!("{name} must be a bucket ARN (arn:aws:s3:::bucket), not {arn:?}"))),
    }
}

pub fn parse_create_job(body: &[u8]) -> Result<CreateJob, ServiceError> {
    let text = std::str::from_utf8(body).map_err(|_| malformed())?;
    let xml: CreateJobXml = quick_xml::de::from_str(text).map_err(|_| malformed())?;
    let operation = required(xml.operation, "Operation")?;
    if operation.replicate.is_none() {
        return Err(ServiceError::new(
            501,
            "NotImplemented",
            "xrepl implements S3 Batch Operations jobs with the S3ReplicateObject operation only",
        ));
    }
    let client_token = required(xml.client_request_token, "ClientRequestToken")?;
    if client_token.is_empty() || client_token.len() > 64 {
        return Err(bad_request("ClientRequestToken must be 1 to 64 characters long"));
    }
    let priority = required(xml.priority, "Priority")?;
    let priority = i32::try_from(priority).ok().filter(|p| *p >= 0).ok_or_else(|| bad_request("Priority must be from 0 to 2147483647"))?;
    let role_arn = required(xml.role_arn, "RoleArn")?;
    let valid_role = role_arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.split_once(":role/"))
        .is_some_and(|(account, name)| crate::config::is_account_id(account) && !name.is_empty());
    if !valid_role {
        return Err(bad_request(format!("RoleArn must be an IAM role ARN, not {role_arn:?}")));
    }
    if xml.description.as_ref().is_some_and(|d| d.chars().count() > 256) {
        return Err(bad_request("Description must be at most 256 characters long"));
    }
    let manifest = match (xml.manifest, xml.manifest_generator) {
        (Some(m), None) => csv_manifest(m)?,
        (None, Some(g)) => ManifestSource::Generated(generator(required(g.s3, "S3JobManifestGenerator")?)?),
        _ => return Err(bad_request("Exactly one of Manifest or ManifestGenerator must be specified")),
    };
    Ok(CreateJob {
        confirmation_required: xml.confirmation_required.unwrap_or(false),
        client_token,
        description: xml.description,
        priority,
        role_arn,
        manifest,
        report: report(required(xml.report, "Report")?)?,
    })
}

fn malformed() -> ServiceError {
    ServiceError::bad_request("MalformedXML", crate::wire::MALFORMED_XML)
}

fn csv_manifest(m: ManifestXml) -> Result<ManifestSource, ServiceError> {
    let spec = required(m.spec, "Manifest.Spec")?;
    let format = required(spec.format, "Manifest.Spec.Format")?;
    if format != CSV_MANIFEST {
        return Err(ServiceError::new(501, "NotImplemented", format!("xrepl reads {CSV_MANIFEST} manifests only, not {format}")));
    }
    let fields: Vec<&str> = spec.fields.member.iter().map(String::as_str).collect();
    let with_versions = match fields.as_slice() {
        ["Bucket", "Key"] => false,
        ["Bucket", "Key", "VersionId"] => true,
        _ => return Err(bad_request(format!("Manifest.Spec.Fields must be Bucket, Key[, VersionId] for {CSV_MANIFEST}, not {fields:?}"))),
    };
    let location = required(m.location, "Manifest.Location")?;
    let arn = required(location.object_arn, "Manifest.Location.ObjectArn")?;
    let (bucket, key) =
        arn.strip_prefix("arn:aws:s3:::").and_then(|r| r.split_once('/')).filter(|(b, k)| !b.is_empty() && !k.is_empty()).ok_or_else(
            || bad_request(format!("Manifest.Location.ObjectArn must be an object ARN (arn:aws:s3:::bucket/key), not {arn:?}")),
        )?;
    let etag = required(location.etag, "Manifest.Location.ETag")?;
    Ok(ManifestSource::Csv {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        version_id: location.object_version_id,
        etag: etag.trim_matches('"').to_owned(),
        with_versions,
    })
}

fn generator(g: S3GeneratorXml) -> Result<ManifestGenerator, ServiceError> {
    let source_bucket = bucket_arn(&required(g.source_bucket, "S3JobManifestGenerator.SourceBucket")?, "SourceBucket")?;
    let filter = g.filter;
    let time = |v: Option<String>, name: &str| -> Result<_, ServiceError> {
        v.map(|s| parse_time(&s).ok_or_else(|| bad_request(format!("{name} must be an ISO 8601 time, not {s:?}")))).transpose()
    };
    let (statuses, created_after, created_before, keys, eligible) = match filter {
        Some(f) => {
            let mut statuses = Vec::new();
            for s in &f.object_replication_statuses.member {
                statuses.push(ReplicationStatusFilter::parse(s).ok_or_else(|| {
                    bad_request(format!("ObjectReplicationStatuses must be NONE, FAILED, COMPLETED or REPLICA, not {s:?}"))
                })?);
            }
            (
                statuses,
                time(f.created_after, "CreatedAfter")?,
                time(f.created_before, "CreatedBefore")?,
                f.key_name_constraint.unwrap_or_default(),
                f.eligible_for_replication.unwrap_or(false),
            )
        }
        None => (Vec::new(), None, None, KeyNameXml::default(), false),
    };
    let output = match (g.enable_manifest_output, g.manifest_output_location) {
        (Some(true), None) => return Err(bad_request("ManifestOutputLocation is required when EnableManifestOutput is true")),
        (Some(true), Some(o)) => {
            let format = required(o.manifest_format, "ManifestOutputLocation.ManifestFormat")?;
            if format != "S3InventoryReport_CSV_20211130" {
                return Err(bad_request(format!("ManifestFormat must be S3InventoryReport_CSV_20211130, not {format:?}")));
            }
            Some((
                bucket_arn(&required(o.bucket, "ManifestOutputLocation.Bucket")?, "ManifestOutputLocation.Bucket")?,
                o.manifest_prefix.unwrap_or_default(),
            ))
        }
        (None | Some(false), _) => None,
    };
    Ok(ManifestGenerator {
        source_bucket,
        expected_bucket_owner: g.expected_bucket_owner,
        statuses,
        created_after,
        created_before,
        prefixes: keys.match_any_prefix.member,
        suffixes: keys.match_any_suffix.member,
        eligible_for_replication: eligible,
        output,
    })
}

fn report(r: ReportXml) -> Result<ReportSpec, ServiceError> {
    let enabled = required(r.enabled, "Report.Enabled")?;
    if !enabled {
        return Ok(ReportSpec { enabled, bucket: String::new(), prefix: String::new(), all_tasks: true });
    }
    let bucket = bucket_arn(&required(r.bucket, "Report.Bucket")?, "Report.Bucket")?;
    let format = required(r.format, "Report.Format")?;
    if format != CSV_REPORT {
        return Err(bad_request(format!("Report.Format must be {CSV_REPORT}, not {format:?}")));
    }
    let all_tasks = match r.report_scope.as_deref() {
        None | Some("AllTasks") => true,
        Some("FailedTasksOnly") => false,
        Some(other) => return Err(bad_request(format!("ReportScope must be AllTasks or FailedTasksOnly, not {other:?}"))),
    };
    Ok(ReportSpec { enabled, bucket, prefix: r.prefix.unwrap_or_default(), all_tasks })
}

/// `<Manifest>` or `<ManifestGenerator>` as `DescribeJob` echoes it.
pub fn render_manifest(job: &Job, out: &mut XmlBuf) {
    match &job.manifest {
        ManifestSource::Csv { bucket, key, version_id, etag, with_versions } => {
            out.open("Manifest").open("Spec").elem("Format", CSV_MANIFEST).open("Fields").elem("member", "Bucket").elem("member", "Key");
            if *with_versions {
                out.elem("member", "VersionId");
            }
            out.close("Fields")
                .close("Spec")
                .open("Location")
                .elem("ObjectArn", &format!("arn:aws:s3:::{bucket}/{key}"))
                .opt("ObjectVersionId", version_id.as_deref())
                .elem("ETag", etag)
                .close("Location")
                .close("Manifest");
        }
        ManifestSource::Generated(g) => {
            out.open("ManifestGenerator")
                .open("S3JobManifestGenerator")
                .opt("ExpectedBucketOwner", g.expected_bucket_owner.as_deref())
                .elem("SourceBucket", &format!("arn:aws:s3:::{}", g.source_bucket))
                .elem("EnableManifestOutput", if g.output.is_some() { "true" } else { "false" });
            if let Some((bucket, prefix)) = &g.output {
                out.open("ManifestOutputLocation")
                    .elem("Bucket", &format!("arn:aws:s3:::{bucket}"))
                    .elem("ManifestPrefix", prefix)
                    .elem("ManifestFormat", "S3InventoryReport_CSV_20211130")
                    .close("ManifestOutputLocation");
            }
            out.close("S3JobManifestGenerator").close("ManifestGenerator");
        }
    }
}

pub fn render_report(report: &ReportSpec, out: &mut XmlBuf) {
    out.open("Report").elem("Enabled", if report.enabled { "true" } else { "false" });
    if report.enabled {
        out.elem("Bucket", &format!("arn:aws:s3:::{}", report.bucket))
            .elem("Format", CSV_REPORT)
            .elem("Prefix", &report.prefix)
            .elem("ReportScope", if report.all_tasks { "AllTasks" } else { "FailedTasksOnly" });
    }
    out.close("Report");
}
