//! `pull`: manifest (choosing a platform from an index), then the config and every layer fetched
//! in parallel into the store, then the image is named in `index.json`.

use std::sync::Arc;

use anyhow::{bail, ensure, Context, Result};
use oci_client::{Reference, RegistryOperation};
use oci_spec::image::{Descriptor, DescriptorBuilder, MediaType};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::download::fetch_blob;
use crate::manifest::Manifest;
use crate::platform::Platform;
use crate::progress::Progress;
use crate::registry::{Registry, RegistryOptions};
use crate::store::Store;

/// Blobs downloaded at once: enough to fill a fast link, few enough not to thrash a slow disk.
const PARALLEL_DOWNLOADS: usize = 4;

/// Pulls `reference` for `platform` into `store` and returns the descriptor it is stored under.
pub async fn pull(
    store: Arc<Store>,
    options: &RegistryOptions,
    reference: &Reference,
    platform: &Platform,
    progress: &Progress,
) -> Result<Descriptor> {
    let _in_use = store.lock_shared()?;
    let registry = Arc::new(Registry::connect(reference, options, RegistryOperation::Pull).await?);
    let (mut manifest_bytes, mut manifest_digest) = registry.fetch_manifest(reference).await?;
    let mut chosen_platform = None;
    if let Manifest::Index(index) = Manifest::parse(&manifest_bytes)
        .with_context(|| format!("manifest of {}", reference.whole()))?
    {
        let entry = platform
            .select(&index)
            .with_context(|| format!("image {}", reference.whole()))?;
        let (bytes, digest) = registry
            .fetch_manifest(&reference.clone_with_digest(entry.digest().to_string()))
            .await?;
        ensure!(
            bytes.len() as u64 == entry.size(),
            "manifest {digest} of {} has the wrong size",
            reference.whole()
        );
        (manifest_bytes, manifest_digest, chosen_platform) =
            (bytes, digest, entry.platform().clone());
    }
    let Manifest::Image(manifest) = Manifest::parse(&manifest_bytes)? else {
        bail!(
            "{}: the index for {platform} points at another index",
            reference.whole()
        );
    };

    let mut downloads = JoinSet::new();
    let slots = Arc::new(Semaphore::new(PARALLEL_DOWNLOADS));
    let blobs = std::iter::once(("config", manifest.config()))
        .chain(manifest.layers().iter().map(|l| ("layer", l)));
    for (what, descriptor) in blobs {
        let bar = progress.blob(what, descriptor.digest().as_ref(), descriptor.size());
        let (registry, store, slots, descriptor) = (
            registry.clone(),
            store.clone(),
            slots.clone(),
            descriptor.clone(),
        );
        downloads.spawn(async move {
            let _slot = slots.acquire().await?;
            fetch_blob(&registry, &descriptor, &store, &bar).await
        });
    }
    while let Some(done) = downloads.join_next().await {
        done??;
    }

    store.write_blob(&manifest_bytes)?;
    let media_type = Manifest::media_type(&manifest_bytes)?;
    let mut descriptor = DescriptorBuilder::default()
        .media_type(MediaType::from(media_type))
        .digest(manifest_digest.parse::<oci_spec::image::Digest>()?)
        .size(manifest_bytes.len() as u64)
        .build()?;
    descriptor.set_platform(chosen_platform);
    store.tag(&reference.whole(), descriptor.clone())?;
    Ok(descriptor)
}
