//! Content digests: only `sha256:<64 lowercase hex>` is accepted, so a digest can name a file.

use anyhow::{bail, Result};
use sha2::{Digest as _, Sha256};

/// Checks that `digest` is a sha256 digest and returns its hex part.
pub fn sha256_hex(digest: &str) -> Result<&str> {
    let Some(hex) = digest.strip_prefix("sha256:") else {
        bail!("unsupported digest {digest:?}: only sha256 is supported");
    };
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        bail!("malformed digest {digest:?}");
    }
    Ok(hex)
}

/// The `sha256:…` digest of `bytes`.
pub fn sha256_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Hashes a blob as it streams by and counts its bytes.
#[derive(Clone, Default)]
pub struct BlobHasher {
    hasher: Sha256,
    len: u64,
}

impl BlobHasher {
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn finish(self) -> String {
        format!("sha256:{}", hex::encode(self.hasher.finalize()))
    }
}

/// Fails unless a blob has the size and digest its descriptor promised.
pub fn verify(
    what: &str,
    expected_digest: &str,
    expected_size: u64,
    hasher: BlobHasher,
) -> Result<()> {
    if hasher.len() != expected_size {
        bail!(
            "{what}: {} bytes received, the manifest says {expected_size}",
            hasher.len()
        );
    }
    let actual = hasher.finish();
    if actual != expected_digest {
        bail!("{what}: content has digest {actual}, expected {expected_digest}: refused");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_sha256_digests_name_files() {
        let good = sha256_of(b"x");
        assert_eq!(sha256_hex(&good).unwrap().len(), 64);
        for bad in ["sha512:00", "sha256:../../etc", "sha256:ABCD", "md5:1", ""] {
            assert!(sha256_hex(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn verify_checks_size_then_digest() {
        let mut h = BlobHasher::default();
        h.update(b"hello");
        let d = sha256_of(b"hello");
        assert!(verify("blob", &d, 5, h.clone()).is_ok());
        assert!(verify("blob", &d, 6, h.clone())
            .unwrap_err()
            .to_string()
            .contains("5 bytes"));
        assert!(verify("blob", &sha256_of(b"x"), 5, h)
            .unwrap_err()
            .to_string()
            .contains("refused"));
    }
}
