//! GetObjectTorrent (API Reference `API_GetObjectTorrent`, User Guide `S3Torrent`): the
//! BitTorrent metainfo file of an object — bencoded, pieces of 256 KiB hashed with SHA-1, the
//! object's key as the name — for objects under 5 GB that are not SSE-KMS or SSE-C encrypted.

use s3s::crypto::{Checksum as _, Sha1};
use s3s::dto;
use s3s::{s3_error, S3Request, S3Response, S3Result};

use super::api::{blob, bucket, S3Api};
use super::version::addressed_object;
use crate::state::s3::Sse;

const PIECE: usize = 256 * 1024;
const MAX_TORRENT_OBJECT: usize = 5 * 1024 * 1024 * 1024;

fn bencode_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(format!("{}:", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
}

/// The metainfo: `{announce, info: {length, name, piece length, pieces}}`, keys sorted as bencode requires.
fn metainfo(name: &str, data: &[u8], announce: &str) -> Vec<u8> {
    let mut out = b"d".to_vec();
    bencode_bytes(&mut out, b"announce");
    bencode_bytes(&mut out, announce.as_bytes());
    bencode_bytes(&mut out, b"info");
    out.push(b'd');
    bencode_bytes(&mut out, b"length");
    out.extend_from_slice(format!("i{}e", data.len()).as_bytes());
    bencode_bytes(&mut out, b"name");
    bencode_bytes(&mut out, name.as_bytes());
    bencode_bytes(&mut out, b"piece length");
    out.extend_from_slice(format!("i{PIECE}e").as_bytes());
    let pieces: Vec<u8> = data.chunks(PIECE).flat_map(Sha1::checksum).collect();
    bencode_bytes(&mut out, b"pieces");
    bencode_bytes(&mut out, &pieces);
    out.extend_from_slice(b"ee");
    out
}

pub fn get_object_torrent(api: &S3Api, req: S3Request<dto::GetObjectTorrentInput>) -> S3Result<S3Response<dto::GetObjectTorrentOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let world = api.shared.world();
    super::api::authorize(&world, &caller, "s3:GetObjectTorrent", &input.bucket, Some(&input.key), input.expected_bucket_owner.as_deref())?;
    let v = addressed_object(bucket(&world, &input.bucket)?, &input.key, None)?;
    if matches!(v.sse, Some(Sse::Kms { .. } | Sse::Customer { .. })) || v.size() >= MAX_TORRENT_OBJECT {
        return Err(s3_error!(
            InvalidRequest,
            "Torrents are only available for objects under 5 GB that are not encrypted with SSE-KMS or SSE-C."
        ));
    }
    // Checked against the checksum the bytes were written with: damage is a 500, not a torrent of
    // wrong bytes.
    let data = world.blobs.read(&v.data).map_err(|e| {
        tracing::error!("object {}/{} is damaged at rest: {e}; no torrent is made of it", input.bucket, input.key);
        s3_error!(InternalError, "We encountered an internal error. Please try again.")
    })?;
    let announce = format!("http://{}.s3.amazonaws.com/announce", input.bucket);
    let torrent = metainfo(&input.key, &data, &announce);
    Ok(S3Response::new(dto::GetObjectTorrentOutput { body: Some(blob(bytes::Bytes::from(torrent))), request_charged: None }))
}
