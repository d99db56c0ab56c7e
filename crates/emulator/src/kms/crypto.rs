//! Ciphertext blobs for the emulated KMS.
//!
//! Authenticated encryption built from HMAC-SHA256 only (the crates already in the dependency
//! tree): an HMAC-SHA256 keystream in counter mode for confidentiality and an HMAC-SHA256 tag
//! (encrypt-then-MAC, over header, nonce, ciphertext and encryption context) for integrity.
//! Sufficient for an emulator; NOT for production use.
//!
//! Blob layout: `0x01 | key ARN length (u16, big endian) | key ARN | nonce (16) | ciphertext | tag (32)`.
//! The key ARN in the header lets Decrypt find the key (in whichever account owns it).

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const FORMAT: u8 = 1;
const NONCE_LEN: usize = 16;
const TAG_LEN: usize = 32;

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

fn derive(material: &[u8; 32], purpose: &[u8]) -> [u8; 32] {
    let mut m = mac(material);
    m.update(b"xrepl-kms/");
    m.update(purpose);
    m.finalize().into_bytes().into()
}

fn keystream_xor(material: &[u8; 32], nonce: &[u8], data: &mut [u8]) {
    let key = derive(material, b"encrypt");
    for (counter, chunk) in data.chunks_mut(32).enumerate() {
        let mut m = mac(&key);
        m.update(nonce);
        m.update(&(counter as u64).to_be_bytes());
        let block = m.finalize().into_bytes();
        for (b, k) in chunk.iter_mut().zip(block.iter()) {
            *b ^= k;
        }
    }
}

/// The tag covers everything before it plus the encryption context (sorted, length-prefixed).
fn tag(material: &[u8; 32], authenticated: &[u8], context: &BTreeMap<String, String>) -> HmacSha256 {
    let mut m = mac(&derive(material, b"authenticate"));
    m.update(authenticated);
    for (k, v) in context {
        m.update(&(k.len() as u64).to_be_bytes());
        m.update(k.as_bytes());
        m.update(&(v.len() as u64).to_be_bytes());
        m.update(v.as_bytes());
    }
    m
}

/// Encrypts `plaintext` under the key; the blob names the key by ARN.
pub fn seal(key_arn: &str, material: &[u8; 32], plaintext: &[u8], context: &BTreeMap<String, String>) -> Vec<u8> {
    let arn = key_arn.as_bytes();
    let arn_len = u16::try_from(arn.len()).unwrap_or(u16::MAX);
    let arn = &arn[..usize::from(arn_len)];
    let mut nonce = [0u8; NONCE_LEN];
    rand::thread_rng().fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(3 + arn.len() + NONCE_LEN + plaintext.len() + TAG_LEN);
    out.push(FORMAT);
    out.extend_from_slice(&arn_len.to_be_bytes());
    out.extend_from_slice(arn);
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(plaintext);
    keystream_xor(material, &nonce, &mut out[start..]);
    let t = tag(material, &out, context).finalize().into_bytes();
    out.extend_from_slice(&t);
    out
}

/// The key ARN a blob was sealed under, if the blob is well-formed.
pub fn key_arn(blob: &[u8]) -> Option<&str> {
    if blob.first() != Some(&FORMAT) {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([*blob.get(1)?, *blob.get(2)?]));
    let arn = blob.get(3..3 + len)?;
    if blob.len() < 3 + len + NONCE_LEN + TAG_LEN {
        return None;
    }
    std::str::from_utf8(arn).ok()
}

/// Decrypts a blob; None when it was tampered with, sealed under another key, or the
/// encryption context differs.
pub fn open(material: &[u8; 32], blob: &[u8], context: &BTreeMap<String, String>) -> Option<Vec<u8>> {
    let arn_len = key_arn(blob)?.len();
    let body_end = blob.len().checked_sub(TAG_LEN)?;
    let nonce_start = 3 + arn_len;
    let data_start = nonce_start + NONCE_LEN;
    if data_start > body_end {
        return None;
    }
    let (authenticated, received) = blob.split_at(body_end);
    tag(material, authenticated, context).verify_slice(received).ok()?;
    let nonce = &blob[nonce_start..data_start];
    let mut plaintext = blob[data_start..body_end].to_vec();
    keystream_xor(material, nonce, &mut plaintext);
    Some(plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let material = [7u8; 32];
        let ctx = BTreeMap::from([("purpose".to_owned(), "test".to_owned())]);
        let data: Vec<u8> = (0..100u8).collect();
        let blob = seal("arn:aws:kms:us-east-1:111111111111:key/k", &material, &data, &ctx);
        assert_eq!(key_arn(&blob), Some("arn:aws:kms:us-east-1:111111111111:key/k"));
        assert_eq!(open(&material, &blob, &ctx).as_deref(), Some(data.as_slice()));
        assert!(open(&material, &blob, &BTreeMap::new()).is_none(), "context is authenticated");
        assert!(open(&[8u8; 32], &blob, &ctx).is_none(), "other key");
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 1;
            assert!(open(&material, &bad, &ctx).is_none(), "flipped byte {i}");
        }
        assert!(open(&material, &blob[..blob.len() - 1], &ctx).is_none());
        assert!(key_arn(&[]).is_none());
        assert!(key_arn(&[1, 255, 255]).is_none());
    }

    #[test]
    fn empty_plaintext_is_sealed_too() {
        let material = [1u8; 32];
        let blob = seal("arn", &material, &[], &BTreeMap::new());
        assert_eq!(open(&material, &blob, &BTreeMap::new()), Some(Vec::new()));
    }
}
