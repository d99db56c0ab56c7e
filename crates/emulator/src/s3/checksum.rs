//! Object checksums, as the User Guide's `checking-object-integrity` describes them: one
//! algorithm per object (CRC32, CRC32C, CRC64NVME, SHA1, SHA256), declared by a value header, by
//! an `x-amz-trailer` of an aws-chunked body, or by `x-amz-sdk-checksum-algorithm` alone; a
//! value that does not match the body is `BadDigest`; an upload that declares none gets a
//! CRC64NVME (S3's default since the data integrity protections of December 2024). Multipart
//! objects carry either a COMPOSITE checksum (the checksum of the parts' checksums, `-N`) or a
//! FULL_OBJECT one (CRCs only: the parts' CRCs combined). The hashing is s3s's (`crc-fast`,
//! `sha1`, `sha2`); combining CRCs is `crc-fast`'s.

use base64::Engine;
use md5::{Digest as _, Md5};
use s3s::checksum::ChecksumHasher;
use s3s::dto;
use s3s::{s3_error, S3Result};

use crate::state::s3::{ObjectChecksum, ObjectVersion};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 5] = [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme, Algorithm::Sha1, Algorithm::Sha256];

    pub fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    pub fn parse(name: &str) -> S3Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| s3_error!(InvalidRequest, "Value for x-amz-checksum-algorithm header is invalid."))
    }

    fn header(self) -> String {
        format!("x-amz-checksum-{}", self.name().to_ascii_lowercase())
    }

    /// How many bytes the algorithm's value has (its header carries them base64-encoded).
    fn digest_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    /// A declared value that cannot be this algorithm's (not base64 of its length): 400 InvalidRequest,
    /// as recorded (`test_s3.snapshot.json` → `TestS3PutObjectChecksum::test_put_object_checksum` →
    /// `put-wrong-checksum-no-b64`); a well-formed value that differs is BadDigest.
    fn check_form(self, value: &str) -> S3Result<()> {
        use base64::Engine as _;
        match base64::engine::general_purpose::STANDARD.decode(value) {
            Ok(bytes) if bytes.len() == self.digest_len() => Ok(()),
            _ => Err(s3_error!(InvalidRequest, "Value for {} header is invalid.", self.header())),
        }
    }

    fn crc(self) -> Option<crc_fast::CrcAlgorithm> {
        match self {
            Self::Crc32 => Some(crc_fast::CrcAlgorithm::Crc32IsoHdlc),
            Self::Crc32c => Some(crc_fast::CrcAlgorithm::Crc32Iscsi),
            Self::Crc64Nvme => Some(crc_fast::CrcAlgorithm::Crc64Nvme),
            Self::Sha1 | Self::Sha256 => None,
        }
    }

    /// Makes `hasher` compute this algorithm too.
    fn enable(self, hasher: &mut ChecksumHasher) {
        match self {
            Self::Crc32 => hasher.crc32 = Some(Default::default()),
            Self::Crc32c => hasher.crc32c = Some(Default::default()),
            Self::Crc64Nvme => hasher.crc64nvme = Some(Default::default()),
            Self::Sha1 => hasher.sha1 = Some(Default::default()),
            Self::Sha256 => hasher.sha256 = Some(Default::default()),
        }
    }

    /// This algorithm's value among computed checksums.
    fn pick(self, sums: &s3s::dto::Checksum) -> String {
        let value = match self {
            Self::Crc32 => &sums.checksum_crc32,
            Self::Crc32c => &sums.checksum_crc32c,
            Self::Crc64Nvme => &sums.checksum_crc64nvme,
            Self::Sha1 => &sums.checksum_sha1,
            Self::Sha256 => &sums.checksum_sha256,
        };
        value.clone().unwrap_or_default()
    }

    /// The base64 checksum of `data` in one call.
    pub fn of(self, data: &[u8]) -> String {
        let mut digest = BodyDigest::new(self);
        digest.update(data);
        digest.finish().checksum
    }
}

/// MD5 (the ETag) and one checksum, computed in the same pass over a body.
pub struct BodyDigest {
    md5: Md5,
    sum: ChecksumHasher,
    algorithm: Algorithm,
    checked: Option<Algorithm>,
}

/// What [`BodyDigest`] computed: the MD5, the checksum kept with the body (base64), and the one
/// declared in another algorithm, to verify ([`BodyDigest::checking`]).
pub struct Digests {
    pub md5: [u8; 16],
    pub checksum: String,
    pub checked: Option<String>,
}

impl BodyDigest {
    pub fn new(algorithm: Algorithm) -> Self {
        let mut sum = ChecksumHasher::default();
        algorithm.enable(&mut sum);
        Self { md5: Md5::new(), sum, algorithm, checked: None }
    }

    /// Also computes `other`: a checksum the request declares in an algorithm other than the kept one.
    pub fn checking(mut self, other: Algorithm) -> Self {
        if other != self.algorithm {
            other.enable(&mut self.sum);
            self.checked = Some(other);
        }
        self
    }

    pub fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        self.sum.update(data);
    }

    pub fn finish(self) -> Digests {
        let sums = self.sum.finalize();
        Digests { md5: self.md5.finalize().into(), checksum: self.algorithm.pick(&sums), checked: self.checked.map(|a| a.pick(&sums)) }
    }
}

/// The checksum fields of a request (PutObject, UploadPart, CompleteMultipartUpload carry the same).
pub struct Declared<'a> {
    pub values: [(Algorithm, Option<&'a str>); 5],
    /// `x-amz-sdk-checksum-algorithm` (or the upload's algorithm).
    pub algorithm: Option<&'a str>,
    /// `x-amz-trailer`: the checksum header that follows an aws-chunked body.
    pub trailer: Option<&'a str>,
}

macro_rules! declared_checksum {
    ($input:expr, $headers:expr) => {
        crate::s3::checksum::Declared {
            values: [
                (crate::s3::checksum::Algorithm::Crc32, $input.checksum_crc32.as_deref()),
                (crate::s3::checksum::Algorithm::Crc32c, $input.checksum_crc32c.as_deref()),
                (crate::s3::checksum::Algorithm::Crc64Nvme, $input.checksum_crc64nvme.as_deref()),
                (crate::s3::checksum::Algorithm::Sha1, $input.checksum_sha1.as_deref()),
                (crate::s3::checksum::Algorithm::Sha256, $input.checksum_sha256.as_deref()),
            ],
            algorithm: $input.checksum_algorithm.as_ref().map(s3s::dto::ChecksumAlgorithm::as_str),
            trailer: $headers.get("x-amz-trailer").and_then(|v| v.to_str().ok()),
        }
    };
}

/// What the request asks for: the algorithm, and the value to check when it sent one.
#[derive(Debug, Clone)]
pub struct Expected {
    pub algorithm: Algorithm,
    pub value: Option<String>,
    /// The value arrives in the body's trailer.
    pub in_trailer: bool,
}

impl Declared<'_> {
    /// The checksum the request declares (None: it declares none).
    pub fn expected(&self) -> S3Result<Option<Expected>> {
        let mut given = self.values.iter().filter_map(|(a, v)| v.map(|v| (*a, v)));
        let first = given.next();
        if given.next().is_some() {
            return Err(s3_error!(InvalidRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."));
        }
        let named = self.algorithm.map(Algorithm::parse).transpose()?;
        let trailer = match self.trailer {
            Some(t) => Some(
                Algorithm::ALL
                    .into_iter()
                    .find(|a| a.header().eq_ignore_ascii_case(t.trim()))
                    .ok_or_else(|| s3_error!(InvalidRequest, "The value specified in the x-amz-trailer header is not supported"))?,
            ),
            None => None,
        };
        let expected = match (first, trailer, named) {
            (Some((algorithm, value)), _, named) => {
                if named.is_some_and(|n| n != algorithm) {
                    return Err(s3_error!(InvalidRequest, "Value for x-amz-sdk-checksum-algorithm header is invalid."));
                }
                algorithm.check_form(value)?;
                Expected { algorithm, value: Some(value.to_owned()), in_trailer: false }
            }
            (None, Some(algorithm), _) => Expected { algorithm, value: None, in_trailer: true },
            (None, None, Some(algorithm)) => Expected { algorithm, value: None, in_trailer: false },
            (None, None, None) => return Ok(None),
        };
        Ok(Some(expected))
    }
}

/// The algorithm a body is hashed with: the declared one, else S3's default CRC64NVME.
pub fn algorithm_for(expected: Option<&Expected>) -> Algorithm {
    expected.map_or(Algorithm::Crc64Nvme, |e| e.algorithm)
}

fn bad_digest(algorithm: Algorithm) -> s3s::S3Error {
    s3_error!(BadDigest, "The {} you specified did not match the calculated checksum.", algorithm.name())
}

/// Checks the computed checksum against the declared value (header or trailer).
pub fn verify(expected: Option<&Expected>, computed: &str, trailer: Option<&s3s::TrailingHeaders>) -> S3Result<()> {
    let Some(expected) = expected else { return Ok(()) };
    let value = match (&expected.value, expected.in_trailer) {
        (Some(v), _) => Some(v.clone()),
        (None, true) => {
            trailer.and_then(|t| t.read(|h| h.get(expected.algorithm.header()).and_then(|v| v.to_str().ok()).map(str::to_owned))).flatten()
        }
        (None, false) => None,
    };
    match value {
        Some(v) if v != computed => Err(bad_digest(expected.algorithm)),
        _ => Ok(()),
    }
}

/// A stored single-part checksum.
pub fn full_object(algorithm: Algorithm, value: String) -> ObjectChecksum {
    ObjectChecksum { algorithm: algorithm.name().to_owned(), value, full_object: true }
}

/// The checksum of a multipart object from its parts' checksums and sizes: COMPOSITE is the
/// checksum of the concatenated part checksums with `-<parts>`; FULL_OBJECT (CRCs only) is the
/// parts' CRCs combined into the CRC of the whole object.
pub fn multipart(algorithm: Algorithm, full: bool, parts: &[(String, u64)]) -> S3Result<ObjectChecksum> {
    let engine = base64::engine::general_purpose::STANDARD;
    let raw: Vec<Vec<u8>> = parts
        .iter()
        .map(|(v, _)| engine.decode(v).map_err(|_| s3_error!(InvalidPart, "A part checksum is not valid base64.")))
        .collect::<S3Result<_>>()?;
    let value = match (full, algorithm.crc()) {
        (true, Some(crc)) => {
            let mut combined: Option<u64> = None;
            for (bytes, (_, len)) in raw.iter().zip(parts) {
                let part = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
                combined = Some(match combined {
                    None => part,
                    Some(acc) => crc_fast::checksum_combine(crc, acc, part, *len),
                });
            }
            let width = if algorithm == Algorithm::Crc64Nvme { 8 } else { 4 };
            let bytes = combined.unwrap_or(0).to_be_bytes();
            engine.encode(&bytes[8 - width..])
        }
        (true, None) => {
            return Err(s3_error!(
                InvalidRequest,
                "The FULL_OBJECT checksum type is not supported with the {} checksum algorithm.",
                algorithm.name()
            ))
        }
        (false, _) => format!("{}-{}", algorithm.of(&raw.concat()), parts.len()),
    };
    Ok(ObjectChecksum { algorithm: algorithm.name().to_owned(), value, full_object: full })
}

/// The checksum fields of a response (HEAD/GET with `ChecksumMode=ENABLED`, PUT, Complete).
#[derive(Default)]
pub struct Fields {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub checksum_type: Option<dto::ChecksumType>,
}

pub fn fields(checksum: Option<&ObjectChecksum>) -> Fields {
    let Some(c) = checksum else { return Fields::default() };
    let mut f = Fields {
        checksum_type: Some(dto::ChecksumType::from(if c.full_object { "FULL_OBJECT" } else { "COMPOSITE" }.to_owned())),
        ..Fields::default()
    };
    let value = Some(c.value.clone());
    match c.algorithm.as_str() {
        "CRC32" => f.crc32 = value,
        "CRC32C" => f.crc32c = value,
        "CRC64NVME" => f.crc64nvme = value,
        "SHA1" => f.sha1 = value,
        "SHA256" => f.sha256 = value,
        _ => {}
    }
    f
}

/// A part's checksum as a single value in the fields of its algorithm.
pub fn part_fields(algorithm: Option<&str>, value: Option<&str>) -> Fields {
    match (algorithm, value) {
        (Some(algorithm), Some(value)) => Fields {
            checksum_type: None,
            ..fields(Some(&ObjectChecksum { algorithm: algorithm.to_owned(), value: value.to_owned(), full_object: true }))
        },
        _ => Fields::default(),
    }
}

/// Sets the checksum fields of an s3s output from [`Fields`].
macro_rules! set_checksum {
    ($out:expr, $fields:expr) => {{
        let f: crate::s3::checksum::Fields = $fields;
        $out.checksum_crc32 = f.crc32;
        $out.checksum_crc32c = f.crc32c;
        $out.checksum_crc64nvme = f.crc64nvme;
        $out.checksum_sha1 = f.sha1;
        $out.checksum_sha256 = f.sha256;
    }};
}

/// Whether a GET/HEAD asked for checksums (`x-amz-checksum-mode: ENABLED`).
pub fn requested(mode: Option<&dto::ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case("ENABLED"))
}

/// The checksum a version reports, if the request asked for it.
pub fn reported(v: &ObjectVersion, mode: Option<&dto::ChecksumMode>) -> Fields {
    if requested(mode) {
        fields(v.checksum.as_ref())
    } else {
        Fields::default()
    }
}
