//! `gc`: deletes the blobs no named image reaches (through indexes, manifests, configs and
//! layers) and abandoned partial downloads.

use std::collections::HashSet;
use std::fs;

use anyhow::{Context, Result};

use crate::manifest::Manifest;
use crate::store::Store;

pub struct Collected {
    pub blobs: usize,
    pub bytes: u64,
}

pub fn collect(store: &Store) -> Result<Collected> {
    let _exclusive = store.lock_exclusive()?;
    let mut reachable = HashSet::new();
    let mut pending: Vec<String> = store
        .images()?
        .iter()
        .map(|d| d.digest().to_string())
        .collect();
    while let Some(digest) = pending.pop() {
        if !reachable.insert(digest.clone()) || !store.blob_path(&digest)?.exists() {
            continue;
        }
        match Manifest::parse(&store.read_blob(&digest)?) {
            Ok(Manifest::Image(m)) => {
                reachable.insert(m.config().digest().to_string());
                reachable.extend(m.layers().iter().map(|l| l.digest().to_string()));
            }
            Ok(Manifest::Index(i)) => {
                pending.extend(i.manifests().iter().map(|d| d.digest().to_string()))
            }
            Err(e) => return Err(e.context(format!("manifest {digest}"))),
        }
    }
    let mut collected = Collected { blobs: 0, bytes: 0 };
    let blobs = store.root().join("blobs/sha256");
    for dir in [blobs.clone(), store.tmp_dir()] {
        for entry in fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if dir == blobs && reachable.contains(&format!("sha256:{name}")) {
                continue;
            }
            collected.bytes += entry.metadata()?.len();
            collected.blobs += 1;
            fs::remove_file(entry.path())
                .with_context(|| format!("removing {}", entry.path().display()))?;
        }
    }
    Ok(collected)
}
