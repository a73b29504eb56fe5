//! Paths inside the container resolved inside it: `openat2(RESOLVE_IN_ROOT)` treats the rootfs as
//! `/` for every component, so a symlink in an image (`/proc -> /`, `etc -> ../../host`) can never
//! make berth open, create or mount over something on the host.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::{openat, openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{mkdirat, Mode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

/// The path with `.`, `..` and repeated slashes folded, relative (no leading `/`).
pub fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// Opens `path` (taken as absolute inside `root`) without leaving `root`.
pub fn open_in_root(root: BorrowedFd, path: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    let rel = clean(path);
    let rel: &Path = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &rel
    };
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    loop {
        match openat2(root, rel, how) {
            // openat2 asks for a retry when a rename raced with the lookup.
            Err(Errno::EAGAIN) => continue,
            other => return other,
        }
    }
}

/// An `O_PATH` handle on `path` inside `root`, creating what is missing on the way: directories,
/// and a last component of `kind`. The deepest existing ancestor is found first, so the usual
/// case (only the last component missing) costs one lookup more than an open.
pub fn ensure_in_root(root: BorrowedFd, path: &Path, kind: Kind) -> Result<OwnedFd> {
    match open_in_root(root, path, OFlag::O_PATH) {
        Ok(fd) => return Ok(fd),
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(e).with_context(|| format!("open {} in the rootfs", path.display())),
    }
    let rel = clean(path);
    let name = rel
        .file_name()
        .with_context(|| format!("open {} in the rootfs", path.display()))?;
    let parent_path = Path::new("/").join(rel.parent().unwrap_or(Path::new("")));
    let parent = ensure_in_root(root, &parent_path, Kind::Dir)?;
    let made = match kind {
        Kind::Dir => mkdirat(parent.as_fd(), name, Mode::from_bits_truncate(0o755)),
        Kind::File => openat(
            parent.as_fd(),
            name,
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o644),
        )
        .map(drop),
    };
    match made {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => {
            return Err(e).with_context(|| format!("create /{} in the rootfs", rel.display()))
        }
    }
    open_in_root(root, path, OFlag::O_PATH)
        .with_context(|| format!("open {} in the rootfs", path.display()))
}

/// The parent directory handle and the last component of `path`, for `*at` calls that must not
/// follow a final symlink (mknod, symlink, unlink).
pub fn parent_in_root<'p>(root: BorrowedFd, path: &'p Path) -> Result<(OwnedFd, &'p OsStr)> {
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let parent = path.parent().unwrap_or(Path::new("/"));
    let fd = ensure_in_root(root, parent, Kind::Dir)?;
    // Reopen as a real directory: mknodat/symlinkat accept O_PATH fds, but fchownat needs one too.
    let dir = openat(
        fd.as_fd(),
        ".",
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("open {}", parent.display()))?;
    Ok((dir, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_folds_dots_and_stays_inside() {
        assert_eq!(clean(Path::new("/a/./b//c/")), PathBuf::from("a/b/c"));
        assert_eq!(clean(Path::new("/../../etc")), PathBuf::from("etc"));
        assert_eq!(clean(Path::new("a/../../b")), PathBuf::from("b"));
        assert_eq!(clean(Path::new("/")), PathBuf::new());
    }
}
