//! Filesystem work confined to a root directory. Every path is resolved by the kernel inside the
//! root (openat2 with RESOLVE_IN_ROOT: `..` stops at the root, absolute symlinks restart at it),
//! and the last component is then acted on through its parent's fd and never followed. Paths given
//! here are relative, already cleaned by `entry_path`.

use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Result};
use rustix::fs::{
    fchmod, fstat, mkdirat, openat, openat2, statat, unlinkat, AtFlags, Dir, FileType, Mode,
    OFlags, ResolveFlags,
};
use rustix::io::Errno;

const RESOLVE: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

pub struct RootDir {
    fd: OwnedFd,
}

impl RootDir {
    /// Tests and the unpack fuzz target open roots by path; berth-image makes them through the
    /// bundle's fd (`bundle.rs`).
    pub fn open(path: &Path) -> anyhow::Result<RootDir> {
        use anyhow::Context;
        let fd = openat(
            rustix::fs::CWD,
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .with_context(|| format!("opening rootfs {}", path.display()))?;
        Ok(RootDir { fd })
    }

    /// Reads the regular file at `path` (symlinks on the way, the last one included, resolve
    /// inside the root); `None` when there is none. Anything else is refused without being opened
    /// for reading — opening a fifo waits for a writer, opening a device node runs its driver —
    /// and so is a file of more than `limit` bytes.
    pub fn read_regular_file(&self, path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
        let handle = match self.open_in_root(path, OFlags::PATH) {
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                return Ok(None)
            }
            other => other?,
        };
        let stat = fstat(&handle)?;
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => {}
            other => bail!("{}, not a regular file: refused", describe(other)),
        }
        if stat.st_size as u64 > limit {
            bail!(
                "{} bytes, more than the {limit} read from it: refused",
                stat.st_size
            );
        }
        // Reopened through the O_PATH descriptor: the very inode just checked.
        let file = std::fs::File::open(format!("/proc/self/fd/{}", handle.as_raw_fd()))?;
        let mut bytes = Vec::new();
        file.take(limit).read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    }

    /// Opens `path` inside the root with `flags` (symlinks on the way resolve inside the root).
    pub fn open_in_root(&self, path: &Path, flags: OFlags) -> io::Result<OwnedFd> {
        if path.as_os_str().is_empty() {
            return Ok(openat(
                &self.fd,
                ".",
                flags | OFlags::CLOEXEC,
                Mode::empty(),
            )?);
        }
        Ok(openat2(
            &self.fd,
            path,
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            RESOLVE,
        )?)
    }

    /// The directory at `path`, made (with its missing parents, mode 0755) when it is not there.
    pub fn open_or_create_dir(&self, path: &Path) -> io::Result<OwnedFd> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY;
        match self.open_in_root(path, flags) {
            Err(e) if e.raw_os_error() == Some(Errno::NOENT.raw_os_error()) => {}
            other => return other,
        }
        let mut dir = self.open_in_root(Path::new(""), flags)?;
        let mut walked = PathBuf::new();
        for component in path.components() {
            let Component::Normal(name) = component else {
                continue;
            };
            walked.push(name);
            let made = match mkdirat(&dir, name, Mode::from_raw_mode(0o755)) {
                Ok(()) => true,
                Err(Errno::EXIST) => false,
                Err(e) => return Err(e.into()),
            };
            // Re-resolved from the root: `name` may be a symlink that must stay inside.
            dir = self.open_in_root(&walked, flags)?;
            if made {
                // 0755 whatever the umask (a later entry for the directory sets its own mode).
                fchmod(&dir, Mode::from_raw_mode(0o755))?;
            }
        }
        Ok(dir)
    }
}

impl From<OwnedFd> for RootDir {
    fn from(fd: OwnedFd) -> RootDir {
        RootDir { fd }
    }
}

/// A kind of file, as errors name it.
fn describe(kind: FileType) -> &'static str {
    match kind {
        FileType::RegularFile => "a regular file",
        FileType::Directory => "a directory",
        FileType::Symlink => "a symlink",
        FileType::Fifo => "a fifo",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        _ => "an unknown kind of file",
    }
}

/// The directory part and the last component of a cleaned, non-empty relative path.
pub fn split_parent(path: &Path) -> (&Path, &OsStr) {
    (
        path.parent().unwrap_or(Path::new("")),
        path.file_name().unwrap_or_default(),
    )
}

/// Removes `name` from `dir`, a whole tree if it is a directory; symlinks are removed, not followed.
pub fn remove_all(dir: impl AsFd, name: &OsStr) -> io::Result<()> {
    let stat = match statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Err(Errno::NOENT) => return Ok(()),
        other => other?,
    };
    if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
        let child = openat(
            &dir,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        empty_dir(&child, |_| false)?;
        unlinkat(&dir, name, AtFlags::REMOVEDIR)?;
    } else {
        unlinkat(&dir, name, AtFlags::empty())?;
    }
    Ok(())
}

/// Removes every entry of `dir` for which `keep` is false.
pub fn empty_dir(dir: &OwnedFd, keep: impl Fn(&OsStr) -> bool) -> io::Result<()> {
    for name in list_dir(dir)? {
        if !keep(&name) {
            remove_all(dir, &name)?;
        }
    }
    Ok(())
}

/// The names in `dir`, without `.` and `..`.
pub fn list_dir(dir: &OwnedFd) -> io::Result<Vec<std::ffi::OsString>> {
    use std::os::unix::ffi::OsStrExt;
    let mut names = Vec::new();
    for entry in Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(name).to_os_string());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_and_dotdot_resolve_inside_the_root() {
        let outside = tempfile::tempdir().unwrap();
        let root_dir = tempfile::tempdir().unwrap();
        symlink("/", root_dir.path().join("abs")).unwrap();
        symlink("../../../..", root_dir.path().join("up")).unwrap();
        symlink(outside.path(), root_dir.path().join("dangling")).unwrap();
        let root = RootDir::open(root_dir.path()).unwrap();
        root.open_or_create_dir(Path::new("abs/made")).unwrap();
        root.open_or_create_dir(Path::new("up/made2")).unwrap();
        // The host directory does not exist inside the root: an error, nothing made outside.
        assert!(root
            .open_or_create_dir(Path::new("dangling/made3"))
            .is_err());
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
        assert!(root_dir.path().join("made").is_dir());
        assert!(root_dir.path().join("made2").is_dir());
    }

    #[test]
    fn remove_all_removes_trees_and_not_symlink_targets() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("keep"), "x").unwrap();
        let root_dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(root_dir.path().join("a/b")).unwrap();
        symlink(outside.path(), root_dir.path().join("a/b/link")).unwrap();
        let root = RootDir::open(root_dir.path()).unwrap();
        let top = root
            .open_in_root(Path::new(""), OFlags::RDONLY | OFlags::DIRECTORY)
            .unwrap();
        remove_all(&top, OsStr::new("a")).unwrap();
        assert!(!root_dir.path().join("a").exists());
        assert!(outside.path().join("keep").exists());
    }
}
