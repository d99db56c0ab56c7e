//! The CSV a job reads (manifest) and writes (generated manifest, completion report), in AWS's
//! layouts (User Guide `batch-ops-create-job`, `batch-ops-examples-reports`): one object per row,
//! keys URL-encoded; the report's `manifest.json` lists its result files.

use md5::Digest as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::json;

use crate::state::batch::{Job, TaskResult};

/// What stays as it is in a URL-encoded key (`/` too, as S3's reports keep it).
const KEY_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY_SAFE).to_string()
}

/// A URL-encoded key as manifests and reports carry it (`+` is a space).
pub fn decode_key(encoded: &str) -> Option<String> {
    percent_encoding::percent_decode_str(&encoded.replace('+', " ")).decode_utf8().ok().map(|k| k.into_owned())
}

/// One CSV field, quoted when it holds a comma, quote or line break.
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn row(fields: &[&str]) -> String {
    let mut line = fields.iter().map(|f| field(f)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

/// Splits one CSV line, honouring quotes.
pub fn split(line: &str) -> Vec<String> {
    let (mut fields, mut current, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    fields.push(current);
    fields
}

/// A `S3BatchOperations_CSV_20180820` manifest: `Bucket,Key[,VersionId]` per line, keys
/// URL-encoded. Errors name the line.
pub fn parse_manifest(text: &str, with_versions: bool) -> Result<Vec<(String, String, Option<String>)>, String> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields = split(line);
        let wanted = if with_versions { 3 } else { 2 };
        if fields.len() != wanted {
            return Err(format!("line {} has {} fields; the manifest's Fields name {wanted}", n + 1, fields.len()));
        }
        let key = decode_key(&fields[1]).ok_or_else(|| format!("line {}: the key is not URL-encoded UTF-8", n + 1))?;
        if fields[0].is_empty() || key.is_empty() {
            return Err(format!("line {}: bucket and key must not be empty", n + 1));
        }
        let version = if with_versions { Some(fields[2].clone()).filter(|v| !v.is_empty()) } else { None };
        entries.push((fields[0].clone(), key, version));
    }
    Ok(entries)
}

/// The generated manifest written for `EnableManifestOutput` (bucket, key, version id).
pub fn manifest_csv(entries: &[(String, String, Option<String>)]) -> Vec<u8> {
    entries.iter().map(|(b, k, v)| row(&[b, &encode_key(k), v.as_deref().unwrap_or("")])).collect::<String>().into_bytes()
}

/// AWS's report columns.
pub const REPORT_SCHEMA: &str = "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage";

fn results_csv(results: &[&TaskResult]) -> Vec<u8> {
    results
        .iter()
        .map(|r| {
            let status = r.http_status.to_string();
            row(&[
                &r.bucket,
                &encode_key(&r.key),
                &r.version_id,
                if r.succeeded { "succeeded" } else { "failed" },
                &r.error_code,
                &status,
                &r.message,
            ])
        })
        .collect::<String>()
        .into_bytes()
}

/// The report's objects: (key, bytes) for each result file, then `manifest.json`.
pub fn report_objects(job: &Job) -> Vec<(String, Vec<u8>)> {
    let base = if job.report.prefix.is_empty() {
        format!("job-{}", job.id)
    } else {
        format!("{}/job-{}", job.report.prefix.trim_end_matches('/'), job.id)
    };
    let mut objects = Vec::new();
    let mut listed = Vec::new();
    for succeeded in [true, false] {
        if succeeded && !job.report.all_tasks {
            continue;
        }
        let results: Vec<&TaskResult> = job.results.iter().filter(|r| r.succeeded == succeeded).collect();
        if results.is_empty() {
            continue;
        }
        let body = results_csv(&results);
        // Result files are named by a hash of their content, as S3's are.
        let name = hex::encode(sha2::Sha256::digest(&body));
        let key = format!("{base}/results/{name}.csv");
        listed.push(json!({
            "TaskExecutionStatus": if succeeded { "succeeded" } else { "failed" },
            "Bucket": job.report.bucket,
            "MD5Checksum": format!("{:x}", md5::Md5::digest(&body)),
            "Key": key,
        }));
        objects.push((key, body));
    }
    let manifest = json!({
        "Format": "Report_CSV_20180820",
        "ReportCreationDate": crate::state::iso8601(crate::state::now()),
        "Results": listed,
        "ReportSchema": REPORT_SCHEMA,
    });
    objects.push((format!("{base}/manifest.json"), manifest.to_string().into_bytes()));
    objects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_rows_decode_keys_and_quotes() {
        let text = "src,plain.txt\nsrc,\"with,comma\"\nsrc,dir/a%20b%2Bc.txt\n\n";
        let entries = parse_manifest(text, false).unwrap_or_default();
        let keys: Vec<&str> = entries.iter().map(|(_, k, _)| k.as_str()).collect();
        assert_eq!(keys, ["plain.txt", "with,comma", "dir/a b+c.txt"]);
        assert!(parse_manifest("src,k,v1\n", false).is_err(), "a version column the Fields do not name");
        assert_eq!(parse_manifest("src,k,v1\n", true).unwrap_or_default(), [("src".to_owned(), "k".to_owned(), Some("v1".to_owned()))]);
        assert_eq!(encode_key("dir/a b+c.txt"), "dir/a%20b%2Bc.txt");
        assert_eq!(row(&["a", "b,c", "d\"e"]), "a,\"b,c\",\"d\"\"e\"\n");
    }
}
