//! `push`: a stored image (or index with its images) to a registry — blobs the registry lacks,
//! streamed from the store, then the manifests, the named one last.

use std::fs::File;
use std::io::Read;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use futures_util::TryStreamExt;
use oci_client::{Reference, RegistryOperation};
use oci_spec::image::Descriptor;

use crate::manifest::Manifest;
use crate::progress::Progress;
use crate::registry::{Registry, RegistryOptions};
use crate::store::Store;

const CHUNK: usize = 4 << 20;

/// Pushes the stored image `source` as `destination`; returns the pushed manifest's digest.
pub async fn push(
    store: &Store,
    options: &RegistryOptions,
    source: &str,
    destination: &Reference,
    progress: &Progress,
) -> Result<String> {
    let _in_use = store.lock_shared()?;
    let Some(descriptor) = store.find(source)? else {
        bail!("no image {source} in the store {}", store.root().display());
    };
    let registry = Registry::connect(destination, options, RegistryOperation::Push).await?;
    let digest = descriptor.digest().to_string();
    let bytes = store.read_blob(&digest)?;
    if let Manifest::Index(index) = Manifest::parse(&bytes)? {
        for child in index.manifests() {
            let child_digest = child.digest().to_string();
            push_image(
                &registry,
                store,
                &store.read_blob(&child_digest)?,
                &destination.clone_with_digest(child_digest),
                progress,
            )
            .await?;
        }
        push_manifest(&registry, &bytes, destination).await?;
    } else {
        push_image(&registry, store, &bytes, destination, progress).await?;
    }
    Ok(digest)
}

async fn push_image(
    registry: &Registry,
    store: &Store,
    manifest_bytes: &[u8],
    target: &Reference,
    progress: &Progress,
) -> Result<()> {
    let Manifest::Image(manifest) = Manifest::parse(manifest_bytes)? else {
        bail!(
            "{}: an index inside an index is not supported",
            target.whole()
        );
    };
    for (what, blob) in std::iter::once(("config", manifest.config()))
        .chain(manifest.layers().iter().map(|l| ("layer", l)))
    {
        push_blob(registry, store, blob, what, progress).await?;
    }
    push_manifest(registry, manifest_bytes, target).await
}

async fn push_blob(
    registry: &Registry,
    store: &Store,
    blob: &Descriptor,
    what: &str,
    progress: &Progress,
) -> Result<()> {
    let digest = blob.digest().to_string();
    let target = &registry.reference;
    let context = || format!("pushing {what} {digest} to {}", target.whole());
    let bar = progress.blob(what, &digest, blob.size());
    if registry
        .client
        .blob_exists(target, &digest)
        .await
        .with_context(context)?
    {
        bar.finish();
        return Ok(());
    }
    let path = store.blob_path(&digest)?;
    let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let counter = bar.clone();
    let chunks = futures_util::stream::try_unfold(file, |mut file| async move {
        let mut chunk = vec![0; CHUNK];
        let n = file.read(&mut chunk)?;
        chunk.truncate(n);
        Ok((n > 0).then(|| (Bytes::from(chunk), file)))
    })
    .inspect_ok(move |chunk| counter.inc(chunk.len() as u64));
    registry
        .client
        .push_blob_stream(target, chunks, &digest, Some(blob.size()))
        .await
        .with_context(context)?;
    bar.finish();
    Ok(())
}

async fn push_manifest(registry: &Registry, bytes: &[u8], target: &Reference) -> Result<()> {
    let media_type = Manifest::media_type(bytes)?;
    registry
        .client
        .push_manifest_raw(
            target,
            bytes.to_vec(),
            http::HeaderValue::from_static(media_type),
        )
        .await
        .with_context(|| format!("pushing the manifest of {}", target.whole()))?;
    Ok(())
}
