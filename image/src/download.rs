//! Downloads one blob into the store. Bytes collect in `tmp/<hex>.partial`; a failed transfer is
//! retried with a Range request from where it stopped (also across runs: the partial file is kept),
//! and the blob enters `blobs/` only once its size and digest match its descriptor.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use futures_util::StreamExt;
use indicatif::ProgressBar;
use oci_client::client::{BlobResponse, LayerDescriptor};
use oci_client::errors::OciDistributionError;
use oci_spec::image::Descriptor;

use crate::digest::{verify, BlobHasher};
use crate::registry::Registry;
use crate::store::Store;

const ATTEMPTS: u32 = 4;

/// Why a transfer stopped: worth another attempt, or not.
enum Failure {
    Transient(anyhow::Error),
    Fatal(anyhow::Error),
}

pub async fn fetch_blob(
    registry: &Registry,
    descriptor: &Descriptor,
    store: &Store,
    bar: &ProgressBar,
) -> Result<()> {
    let digest = descriptor.digest().to_string();
    let size = descriptor.size();
    if store.has_blob(&digest, size) {
        bar.finish();
        return Ok(());
    }
    let mut partial = Partial::open(store.partial_path(&digest)?)?;
    if partial.len() > size {
        partial.restart()?;
    }
    bar.set_position(partial.len());
    let mut attempt = 1;
    loop {
        match receive(registry, descriptor, &mut partial, bar).await {
            Ok(()) => break,
            Err(Failure::Transient(_)) if attempt < ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(250 << (attempt - 1))).await;
                attempt += 1;
            }
            Err(Failure::Transient(e)) => {
                return Err(e.context(format!(
                    "giving up on blob {digest} of {} after {ATTEMPTS} attempts: the {} bytes received are kept in {} and the next pull resumes from there",
                    registry.reference.whole(),
                    partial.len(),
                    partial.path.display()
                )))
            }
            Err(Failure::Fatal(e)) => return Err(e.context(format!("fetching blob {digest} of {}", registry.reference.whole()))),
        }
    }
    let Partial { path, hasher, .. } = partial;
    if let Err(e) = verify(
        &format!("blob {digest} of {}", registry.reference.whole()),
        &digest,
        size,
        hasher,
    ) {
        let _ = fs::remove_file(&path);
        return Err(e);
    }
    bar.finish();
    store.commit_partial(&digest)
}

/// One request for the rest of the blob.
async fn receive(
    registry: &Registry,
    descriptor: &Descriptor,
    partial: &mut Partial,
    bar: &ProgressBar,
) -> Result<(), Failure> {
    let digest = descriptor.digest().to_string();
    let size = descriptor.size();
    let layer = LayerDescriptor {
        digest: &digest,
        urls: descriptor.urls(),
    };
    let offset = partial.len();
    let response = registry
        .client
        .pull_blob_stream_partial(&registry.reference, &layer, offset, None)
        .await
        .map_err(classify)?;
    let mut stream = match response {
        BlobResponse::Partial(stream) => stream,
        // The registry ignored the Range header and sends the whole blob again.
        BlobResponse::Full(stream) => {
            partial.restart().map_err(Failure::Fatal)?;
            bar.set_position(0);
            stream
        }
    };
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            // oci-client's own digest check on full responses; ours below decides.
            Err(_) if partial.len() == size => break,
            Err(e) => {
                return Err(Failure::Transient(anyhow!(e).context(format!(
                    "connection lost after {} of {size} bytes",
                    partial.len()
                ))))
            }
        };
        if partial.len() + chunk.len() as u64 > size {
            return Err(Failure::Fatal(anyhow!(
                "the registry sends more than the {size} bytes the manifest says"
            )));
        }
        partial.append(&chunk).map_err(Failure::Fatal)?;
        bar.inc(chunk.len() as u64);
    }
    if partial.len() < size {
        return Err(Failure::Transient(anyhow!(
            "connection closed after {} of {size} bytes",
            partial.len()
        )));
    }
    Ok(())
}

/// Network trouble and server-side errors may pass; anything else (401, 404, bad data) will not.
fn classify(error: OciDistributionError) -> Failure {
    let transient = match &error {
        OciDistributionError::RequestError(_) | OciDistributionError::IoError(_) => true,
        OciDistributionError::ServerError { code, .. } => *code >= 500 || *code == 429,
        _ => false,
    };
    let error = anyhow!(error);
    if transient {
        Failure::Transient(error)
    } else {
        Failure::Fatal(error)
    }
}

/// The bytes of a blob received so far, and their running hash.
struct Partial {
    path: PathBuf,
    file: File,
    hasher: BlobHasher,
}

impl Partial {
    /// Opens (or starts) the partial file and hashes what an earlier attempt left in it.
    fn open(path: PathBuf) -> Result<Partial> {
        let mut file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let hasher = hash_reader(&mut file, &path)?;
        Ok(Partial { path, file, hasher })
    }

    fn len(&self) -> u64 {
        self.hasher.len()
    }

    fn append(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .write_all(bytes)
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.hasher.update(bytes);
        Ok(())
    }

    fn restart(&mut self) -> Result<()> {
        self.file
            .set_len(0)
            .with_context(|| format!("truncating {}", self.path.display()))?;
        self.hasher = BlobHasher::default();
        Ok(())
    }
}

fn hash_reader(reader: &mut impl Read, path: &Path) -> Result<BlobHasher> {
    let mut hasher = BlobHasher::default();
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = reader
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            return Ok(hasher);
        }
        hasher.update(&buf[..n]);
    }
}
