//! Applies an image's layers, in order, to a rootfs: each layer blob is streamed from the store
//! through its decompressor (gzip, zstd or none) into the tar reader, and every entry is written
//! through `entry_write` or applied as a whiteout — never through `tar::Entry::unpack`, which
//! follows paths. Errors name the layer and the entry.
//!
//! A layer may expand to at most `EXPANSION_PER_BYTE` bytes of file content per byte of its blob:
//! a GNU sparse entry of a few hundred bytes can claim a file of any size, whose holes, though
//! never written, are read as zeros from the tar reader one buffer at a time.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use oci_spec::image::Descriptor;
use rustix::fs::OFlags;
use tar::EntryType;

use crate::entry_path;
use crate::entry_write::{set_dir_mtime, Kind, Metadata, Writer};
use crate::images::human_size;
use crate::inroot::{split_parent, RootDir};
use crate::manifest::LocalImage;
use crate::progress::short_digest;
use crate::store::Store;
use crate::whiteout::Whiteout;

/// File content a layer may expand to per byte of its blob: twice the most any compressor gets
/// out of a byte (zstd's block format caps it at 32768, zeros reach 32500; gzip's is 1032), so
/// that only holes can reach it. Holes cost about 0.05 s of CPU per GiB.
const EXPANSION_PER_BYTE: u64 = 1 << 16;

/// Unpacks every layer of `image` into `root`. Modes are set explicitly, never left to the umask.
pub fn unpack_image(store: &Store, image: &LocalImage, root: &RootDir) -> Result<()> {
    let mut writer = Writer::new();
    for layer in image.manifest.layers() {
        let digest = layer.digest().to_string();
        let name = format!("layer {}", short_digest(&digest));
        let archive =
            open_layer(store, layer).with_context(|| format!("{name} of {}", image.reference))?;
        let budget = Budget::for_blob(layer.size());
        apply_layer(root, &mut writer, archive, budget)
            .with_context(|| format!("{name} of {}", image.reference))?;
    }
    Ok(())
}

/// What is left of the file content a layer may expand to.
pub(crate) struct Budget {
    blob_size: u64,
    left: u64,
}

impl Budget {
    pub(crate) fn for_blob(blob_size: u64) -> Budget {
        Budget {
            blob_size,
            left: blob_size.saturating_mul(EXPANSION_PER_BYTE),
        }
    }

    fn spend(&mut self, size: u64) -> Result<()> {
        ensure!(
            size <= self.left,
            "a file of {} takes the layer past {}, the most a layer blob of {} may expand to: refused",
            human_size(size),
            human_size(self.blob_size.saturating_mul(EXPANSION_PER_BYTE)),
            human_size(self.blob_size)
        );
        self.left -= size;
        Ok(())
    }
}

/// The layer's tar stream, decompressed as its media type says.
fn open_layer(store: &Store, layer: &Descriptor) -> Result<Box<dyn Read>> {
    let path = store.blob_path(layer.digest().as_ref())?;
    let file = BufReader::with_capacity(
        1 << 20,
        File::open(&path).with_context(|| format!("opening {}", path.display()))?,
    );
    let media_type = layer.media_type().to_string();
    Ok(match media_type.rsplit(['.', '+']).next() {
        Some("gzip") => Box::new(flate2::bufread::MultiGzDecoder::new(file)),
        Some("zstd") => Box::new(zstd::stream::read::Decoder::with_buffer(file)?),
        Some("tar") => Box::new(file),
        _ => bail!("unsupported layer media type {media_type}"),
    })
}

/// Applies one layer's archive to the rootfs.
pub(crate) fn apply_layer(
    root: &RootDir,
    writer: &mut Writer,
    archive: impl Read,
    budget: Budget,
) -> Result<()> {
    let mut archive = tar::Archive::new(archive);
    let mut layer = LayerState {
        budget,
        created: HashSet::new(),
        dir_mtimes: Vec::new(),
        parent_cache: None,
    };
    for entry in archive.entries().context("reading the archive")? {
        let mut entry = entry.context("reading the archive")?;
        let raw_path = entry.path_bytes().into_owned();
        layer
            .apply_entry(root, writer, &mut entry)
            .with_context(|| format!("entry {:?}", String::from_utf8_lossy(&raw_path)))?;
    }
    layer.finish(root)
}

/// What a layer has done so far: the paths it created (whiteouts spare them) and the
/// directories whose mtimes are set at the end (writing into them changes their mtime).
struct LayerState {
    budget: Budget,
    created: HashSet<PathBuf>,
    dir_mtimes: Vec<(PathBuf, i64)>,
    /// The parent directory of the previous entry: archives list siblings together. An entry only
    /// creates or replaces a child of its parent, so the cached fd stays right for its siblings;
    /// whiteouts remove anything and empty the cache.
    parent_cache: Option<(PathBuf, OwnedFd)>,
}

impl LayerState {
    fn apply_entry<R: Read>(
        &mut self,
        root: &RootDir,
        writer: &mut Writer,
        entry: &mut tar::Entry<R>,
    ) -> Result<()> {
        let path = entry_path::clean(&entry.path_bytes())?;
        if let Some(whiteout) = Whiteout::of(&path)? {
            self.parent_cache = None;
            return whiteout.apply(root, &self.created);
        }
        let meta = metadata(entry)?;
        let link_target = entry.link_name_bytes().map(|b| b.into_owned());
        let hard_link_target;
        let kind = match entry.header().entry_type() {
            EntryType::Regular | EntryType::Continuous => {
                self.budget.spend(entry.size())?;
                Kind::File
            }
            EntryType::GNUSparse => {
                self.budget.spend(entry.size())?;
                Kind::SparseFile
            }
            EntryType::Directory => Kind::Directory,
            EntryType::Symlink => {
                Kind::Symlink(link_target.as_deref().context("symlink without a target")?)
            }
            EntryType::Link => {
                hard_link_target = entry_path::clean(
                    link_target
                        .as_deref()
                        .context("hard link without a target")?,
                )
                .context("hard link target")?;
                Kind::HardLink(&hard_link_target)
            }
            EntryType::Char => Kind::CharDevice(
                device(entry.header().device_major())?,
                device(entry.header().device_minor())?,
            ),
            EntryType::Block => Kind::BlockDevice(
                device(entry.header().device_major())?,
                device(entry.header().device_minor())?,
            ),
            EntryType::Fifo => Kind::Fifo,
            // Global pax headers carry nothing for us.
            EntryType::XGlobalHeader => return Ok(()),
            other => bail!("unsupported entry type {other:?}"),
        };
        let is_dir = matches!(kind, Kind::Directory);
        if path.as_os_str().is_empty() {
            // The rootfs itself: only its metadata can change.
            if is_dir {
                let top = root.open_in_root(&path, OFlags::RDONLY | OFlags::DIRECTORY)?;
                writer.write(
                    root,
                    &top,
                    ".".as_ref(),
                    Kind::Directory,
                    &meta,
                    std::io::empty(),
                )?;
                self.dir_mtimes.push((path, meta.mtime));
                return Ok(());
            }
            bail!("a non-directory for the rootfs itself: refused");
        }
        let (parent_path, name) = split_parent(&path);
        let parent = self.parent(root, parent_path)?;
        writer.write(root, &parent, name, kind, &meta, entry)?;
        if is_dir {
            self.dir_mtimes.push((path.clone(), meta.mtime));
        }
        self.created.insert(path);
        Ok(())
    }

    fn parent(&mut self, root: &RootDir, path: &Path) -> Result<OwnedFd> {
        if let Some((cached, fd)) = &self.parent_cache {
            if cached == path {
                return Ok(fd.try_clone()?);
            }
        }
        let fd = root
            .open_or_create_dir(path)
            .with_context(|| format!("directory {}", path.display()))?;
        self.parent_cache = Some((path.to_path_buf(), fd.try_clone()?));
        Ok(fd)
    }

    /// Directory mtimes, deepest first so that setting one does not disturb another.
    fn finish(mut self, root: &RootDir) -> Result<()> {
        self.dir_mtimes
            .sort_by_key(|(path, _)| std::cmp::Reverse(path.components().count()));
        for (path, mtime) in &self.dir_mtimes {
            // A later entry of the layer may have replaced the directory.
            if let Ok(dir) =
                root.open_in_root(path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW)
            {
                set_dir_mtime(dir, *mtime)
                    .with_context(|| format!("setting the mtime of {}", path.display()))?;
            }
        }
        Ok(())
    }
}

/// The entry's owner, mode, mtime and xattrs; pax records override the ustar header.
fn metadata<R: Read>(entry: &mut tar::Entry<R>) -> Result<Metadata> {
    let header = entry.header();
    let mut meta = Metadata {
        uid: header.uid()? as u32,
        gid: header.gid()? as u32,
        mode: header.mode()?,
        mtime: header.mtime()? as i64,
        xattrs: Vec::new(),
    };
    if let Some(extensions) = entry.pax_extensions()? {
        for extension in extensions {
            let extension = extension?;
            let key = extension.key().context("pax record with a non-UTF-8 key")?;
            if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                meta.xattrs
                    .push((name.to_string(), extension.value_bytes().to_vec()));
                continue;
            }
            let number = |what: &str| -> Result<i64> {
                let value = extension.value().with_context(|| format!("pax {what}"))?;
                // pax times may have a fraction; whole seconds are kept.
                let whole = value.split('.').next().unwrap_or(value);
                whole
                    .parse()
                    .with_context(|| format!("pax {what} {value:?}"))
            };
            match key {
                "uid" => meta.uid = number("uid")?.try_into()?,
                "gid" => meta.gid = number("gid")?.try_into()?,
                "mtime" => meta.mtime = number("mtime")?,
                _ => {}
            }
        }
    }
    Ok(meta)
}

fn device(number: std::io::Result<Option<u32>>) -> Result<u32> {
    Ok(number?.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_for_the_whole_layer() {
        let mut budget = Budget::for_blob(2);
        budget.spend(EXPANSION_PER_BYTE).unwrap();
        budget.spend(EXPANSION_PER_BYTE - 1).unwrap();
        let err = budget.spend(2).unwrap_err().to_string();
        assert!(
            err.contains("a file of 2 B takes the layer past 131.1 kB"),
            "{err}"
        );
        budget.spend(1).unwrap();
    }
}
