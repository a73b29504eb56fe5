//! The local image store, an OCI image layout: `oci-layout`, `index.json` (one entry per image,
//! named by its full reference in the `org.opencontainers.image.ref.name` annotation) and
//! `blobs/sha256/<hex>`, shared by every image that uses them. Downloads in progress live in
//! `tmp/<hex>.partial` so that an interrupted pull resumes where it stopped. The store and its
//! directories are private to their owner (`private_dir`): `run` unpacks bundles in it.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use oci_spec::image::{Descriptor, ImageIndex, ImageIndexBuilder};
use rustix::fs::{flock, FlockOperation};

use crate::digest::{sha256_hex, sha256_of};
use crate::private_dir;

/// The annotation that names an image in `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

pub struct Store {
    root: PathBuf,
}

/// Held while the store is in use; `gc` takes it exclusively so that it never deletes the blobs
/// of a pull that has not tagged its image yet.
pub struct StoreLock {
    _file: File,
}

impl Store {
    /// `/var/lib/berth` for root, else `$XDG_DATA_HOME/berth` (or `~/.local/share/berth`).
    pub fn default_root() -> PathBuf {
        if rustix::process::geteuid().is_root() {
            return PathBuf::from("/var/lib/berth");
        }
        let data = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/share")
            });
        data.join("berth")
    }

    /// Opens the store at `root`, creating an empty layout the first time.
    pub fn open(root: &Path) -> Result<Store> {
        let store = Store {
            root: root.to_path_buf(),
        };
        // An existing store, also one that an older version left half made.
        private_dir::open(&store.root, "an image store", |names| {
            names
                .iter()
                .any(|name| name == "oci-layout" || name == "index.json" || name == "blobs")
        })?;
        for dir in [
            store.root.join("blobs"),
            store.root.join("blobs/sha256"),
            store.tmp_dir(),
            store.bundles_dir(),
        ] {
            private_dir::open(&dir, "a store directory", |_| true)?;
        }
        let layout = store.root.join("oci-layout");
        if !layout.exists() {
            write_atomically(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        if !store.index_path().exists() {
            store.write_index(&[])?;
        }
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Shared use of the store (pull, unpack, push); `gc` waits for it to end.
    pub fn lock_shared(&self) -> Result<StoreLock> {
        self.lock("gc.lock", FlockOperation::LockShared)
    }

    pub fn lock_exclusive(&self) -> Result<StoreLock> {
        self.lock("gc.lock", FlockOperation::LockExclusive)
    }

    fn lock(&self, name: &str, operation: FlockOperation) -> Result<StoreLock> {
        let path = self.root.join(name);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        flock(&file, operation).with_context(|| format!("locking {}", path.display()))?;
        Ok(StoreLock { _file: file })
    }

    pub fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        Ok(self.root.join("blobs/sha256").join(sha256_hex(digest)?))
    }

    /// Whether the blob is present with the expected size (its digest was checked on the way in).
    pub fn has_blob(&self, digest: &str, size: u64) -> bool {
        self.blob_path(digest)
            .and_then(|p| Ok(fs::metadata(p)?.len()))
            .is_ok_and(|len| len == size)
    }

    pub fn read_blob(&self, digest: &str) -> Result<Vec<u8>> {
        let path = self.blob_path(digest)?;
        fs::read(&path).with_context(|| format!("reading blob {digest} from the store"))
    }

    /// Stores small content (manifests, configs) already held in memory and returns its digest.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<String> {
        let digest = sha256_of(bytes);
        let path = self.blob_path(&digest)?;
        if !path.exists() {
            write_atomically(&path, bytes)?;
        }
        Ok(digest)
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Where a download of `digest` collects its bytes until they are verified.
    pub fn partial_path(&self, digest: &str) -> Result<PathBuf> {
        Ok(self
            .tmp_dir()
            .join(format!("{}.partial", sha256_hex(digest)?)))
    }

    /// Moves a verified download into `blobs/`.
    pub fn commit_partial(&self, digest: &str) -> Result<()> {
        let (from, to) = (self.partial_path(digest)?, self.blob_path(digest)?);
        fs::rename(&from, &to).with_context(|| format!("moving {} into the store", from.display()))
    }

    pub fn bundles_dir(&self) -> PathBuf {
        self.root.join("bundles")
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }

    /// Every image in the store, as the descriptors `index.json` lists.
    pub fn images(&self) -> Result<Vec<Descriptor>> {
        let path = self.index_path();
        let index =
            ImageIndex::from_file(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(index.manifests().clone())
    }

    /// The descriptor of the image named `reference`, if the store has it.
    pub fn find(&self, reference: &str) -> Result<Option<Descriptor>> {
        Ok(self
            .images()?
            .into_iter()
            .find(|d| ref_name(d) == Some(reference)))
    }

    /// Names `descriptor` `reference`, replacing an older image of that name.
    pub fn tag(&self, reference: &str, mut descriptor: Descriptor) -> Result<()> {
        let _index_lock = self.lock("index.lock", FlockOperation::LockExclusive)?;
        let mut annotations = descriptor.annotations().clone().unwrap_or_default();
        annotations.insert(REF_NAME.to_string(), reference.to_string());
        descriptor.set_annotations(Some(annotations));
        let mut images = self.images()?;
        images.retain(|d| ref_name(d) != Some(reference));
        images.push(descriptor);
        self.write_index(&images)
    }

    /// Forgets the name `reference`; its blobs stay until `gc`. Returns whether it existed.
    pub fn untag(&self, reference: &str) -> Result<bool> {
        let _index_lock = self.lock("index.lock", FlockOperation::LockExclusive)?;
        let mut images = self.images()?;
        let before = images.len();
        images.retain(|d| ref_name(d) != Some(reference));
        self.write_index(&images)?;
        Ok(images.len() != before)
    }

    fn write_index(&self, manifests: &[Descriptor]) -> Result<()> {
        let index = ImageIndexBuilder::default()
            .schema_version(2u32)
            .media_type("application/vnd.oci.image.index.v1+json")
            .manifests(manifests.to_vec())
            .annotations(HashMap::new())
            .build()?;
        write_atomically(&self.index_path(), index.to_string_pretty()?.as_bytes())
    }
}

/// The reference an `index.json` entry is named by.
pub fn ref_name(descriptor: &Descriptor) -> Option<&str> {
    descriptor
        .annotations()
        .as_ref()?
        .get(REF_NAME)
        .map(String::as_str)
}

/// Writes through a temporary file and a rename, so readers never see half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::image::{DescriptorBuilder, MediaType};

    #[test]
    fn tags_replace_and_untag_removes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let digest = store.write_blob(b"{}").unwrap();
        assert!(store.has_blob(&digest, 2));
        let desc = DescriptorBuilder::default()
            .media_type(MediaType::ImageManifest)
            .digest(digest.parse::<oci_spec::image::Digest>().unwrap())
            .size(2u64)
            .build()
            .unwrap();
        store.tag("r/a:1", desc.clone()).unwrap();
        store.tag("r/a:1", desc.clone()).unwrap();
        store.tag("r/b:1", desc).unwrap();
        assert_eq!(store.images().unwrap().len(), 2);
        assert!(store.find("r/a:1").unwrap().is_some());
        assert!(store.untag("r/a:1").unwrap());
        assert!(!store.untag("r/a:1").unwrap());
        assert!(store.find("r/a:1").unwrap().is_none());
    }
}
