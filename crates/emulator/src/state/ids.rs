//! Random ids: S3's upload and request ids, IAM's and STS's upper-case ids. A leaf module, so
//! the state modules that mint ids (`s3`, `files`) need not reach back into `state`'s root.

use rand::Rng;

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Random id from the alphanumeric alphabet.
pub fn random_id(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len).map(|_| char::from(ID_ALPHABET[rng.gen_range(0..ID_ALPHABET.len())])).collect()
}

/// Random upper-case id, as IAM uses for access keys and unique ids.
pub fn random_upper_id(prefix: &str, len: usize) -> String {
    let mut rng = rand::thread_rng();
    let tail: String = (0..len)
        .map(|_| {
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
            char::from(alphabet[rng.gen_range(0..alphabet.len())])
        })
        .collect();
    format!("{prefix}{tail}")
}
