//! OCI whiteouts: an entry `DIR/.wh.NAME` deletes `DIR/NAME` of the layers below, and
//! `DIR/.wh..wh..opq` hides everything the layers below put in `DIR`. Neither removes what the
//! same layer creates, whatever the order of the entries in the archive.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use rustix::fs::OFlags;
use rustix::io::Errno;

use crate::inroot::{list_dir, remove_all, split_parent, RootDir};

const PREFIX: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";

#[derive(Debug, PartialEq)]
pub enum Whiteout {
    /// Delete this path of the lower layers.
    Remove(PathBuf),
    /// Hide the lower layers' contents of this directory.
    Opaque(PathBuf),
}

impl Whiteout {
    /// What the (cleaned) entry path `path` whites out, if it is a whiteout at all.
    pub fn of(path: &Path) -> Result<Option<Whiteout>> {
        let (dir, name) = split_parent(path);
        let name = name.as_bytes();
        if name == OPAQUE {
            return Ok(Some(Whiteout::Opaque(dir.to_path_buf())));
        }
        let Some(target) = name.strip_prefix(PREFIX) else {
            return Ok(None);
        };
        if matches!(target, b"" | b"." | b"..") || target.starts_with(PREFIX) {
            bail!(
                "whiteout of {:?} names no entry of its directory: refused",
                String::from_utf8_lossy(target)
            );
        }
        Ok(Some(Whiteout::Remove(dir.join(OsStr::from_bytes(target)))))
    }

    /// Applies the whiteout in `root`; `created` holds the paths this layer has written so far.
    pub fn apply(&self, root: &RootDir, created: &HashSet<PathBuf>) -> Result<()> {
        match self {
            Whiteout::Remove(path) => {
                if created.contains(path) {
                    return Ok(());
                }
                let (dir, name) = split_parent(path);
                match root.open_in_root(dir, OFlags::RDONLY | OFlags::DIRECTORY) {
                    Ok(dir) => Ok(remove_all(&dir, name)?),
                    // Nothing below to hide.
                    Err(e) if is_missing(&e) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
            Whiteout::Opaque(dir) => hide_lower(root, dir, created),
        }
    }
}

/// Removes what lies in `dir` but was not created by this layer, descending into the directories
/// this layer did create (their older contents are hidden too).
fn hide_lower(root: &RootDir, dir: &Path, created: &HashSet<PathBuf>) -> Result<()> {
    let fd = match root.open_in_root(dir, OFlags::RDONLY | OFlags::DIRECTORY) {
        Ok(fd) => fd,
        Err(e) if is_missing(&e) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for name in list_dir(&fd)? {
        let child = dir.join(&name);
        if !created.contains(&child) {
            remove_all(&fd, &name)?;
        } else if root
            .open_in_root(&child, OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW)
            .is_ok()
        {
            hide_lower(root, &child, created)?;
        }
    }
    Ok(())
}

fn is_missing(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(code) if code == Errno::NOENT.raw_os_error() || code == Errno::NOTDIR.raw_os_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whiteout_names() {
        assert_eq!(
            Whiteout::of(Path::new("a/.wh.b")).unwrap(),
            Some(Whiteout::Remove("a/b".into()))
        );
        assert_eq!(
            Whiteout::of(Path::new("a/.wh..wh..opq")).unwrap(),
            Some(Whiteout::Opaque("a".into()))
        );
        assert_eq!(
            Whiteout::of(Path::new(".wh.top")).unwrap(),
            Some(Whiteout::Remove("top".into()))
        );
        assert_eq!(Whiteout::of(Path::new("a/b")).unwrap(), None);
        for bad in ["a/.wh...", "a/.wh.", "a/.wh..", "a/.wh..wh.x"] {
            assert!(Whiteout::of(Path::new(bad)).is_err(), "{bad}");
        }
    }
}
