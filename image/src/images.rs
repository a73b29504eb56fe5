//! `images`, `inspect` and `rm`: what the store holds, in detail, and forgetting a name.

use anyhow::{bail, Result};
use serde_json::json;

use crate::manifest::LocalImage;
use crate::progress::short_digest;
use crate::store::{ref_name, Store};

pub fn list(store: &Store) -> Result<()> {
    println!(
        "{:<50} {:<12} {:<14} {:>10}",
        "REFERENCE", "DIGEST", "PLATFORM", "SIZE"
    );
    for descriptor in store.images()? {
        let Some(reference) = ref_name(&descriptor) else {
            continue;
        };
        let image = LocalImage::load(store, reference)?;
        let platform = format!("{}/{}", image.config.os(), image.config.architecture());
        println!(
            "{reference:<50} {:<12} {platform:<14} {:>10}",
            short_digest(descriptor.digest().as_ref()),
            human_size(image.size())
        );
    }
    Ok(())
}

pub fn inspect(store: &Store, reference: &str) -> Result<()> {
    let image = LocalImage::load(store, reference)?;
    let report = json!({
        "reference": image.reference,
        "digest": image.descriptor.digest().to_string(),
        "mediaType": image.descriptor.media_type().to_string(),
        "size": image.size(),
        "manifest": image.manifest,
        "config": image.config,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Forgets the name; the blobs go at the next `gc` unless another image shares them.
pub fn remove(store: &Store, reference: &str) -> Result<()> {
    if !store.untag(reference)? {
        bail!(
            "no image {reference} in the store {}",
            store.root().display()
        );
    }
    Ok(())
}

pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "kB", "MB", "GB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn human_sizes() {
        assert_eq!(super::human_size(999), "999 B");
        assert_eq!(super::human_size(1_500_000), "1.5 MB");
    }
}
