//! CVE-2019-5736: a container process that reaches /proc/<pid>/exe of a process running berth's
//! binary gets a handle on the host's berth file and can rewrite it once berth exits. It does not
//! need any privilege to get there: a container whose program is `/proc/self/exe` (or a script
//! with that interpreter) makes berth's own final execve run the host binary again, now as a
//! dumpable container process — with the container's dynamic loader, too.
//!
//! So every command that runs berth code in a container (create, run, exec) first makes sure the
//! binary it runs from cannot be written: if it can, berth re-executes itself once, before any
//! other work, from a read-only clone of its own mount (no copy: the kernel only takes one more
//! reference to the same file). Where berth may not make mounts (rootless), it re-executes from a
//! sealed memfd copy instead, as runc does. A binary berth itself cannot write (root's file under
//! a rootless berth, a read-only /usr) needs nothing: a container process never holds more than
//! the user that started it.

use std::ffi::{CString, OsString};
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::{fcntl, AtFlags, FcntlArg, SealFlag};
use nix::sys::statvfs::{fstatvfs, FsFlags};
use nix::unistd::{access, execveat, AccessFlags};

use crate::linux::sys::{self, MountAttr};

/// Returns once berth runs from a binary no one can write (re-executing itself if it did not).
pub fn protect() -> Result<()> {
    let exe = File::open("/proc/self/exe").context("open berth's own binary")?;
    if !writable(&exe) {
        return Ok(());
    }
    let image = match read_only_mount() {
        Ok(tree) => tree,
        Err(Errno::EPERM) => sealed_copy(&exe)?,
        Err(e) => return Err(e).context("clone a read-only mount of berth's binary"),
    };
    drop(exe);
    let args = cstrings(std::env::args_os())?;
    let env = cstrings(std::env::vars_os().map(|(k, v)| {
        let mut kv = k;
        kv.push("=");
        kv.push(v);
        kv
    }))?;
    let err = execveat(image.as_fd(), c"", &args, &env, AtFlags::AT_EMPTY_PATH).unwrap_err();
    Err(err).context("re-execute berth from a read-only copy of itself")
}

/// Whether berth's binary could be opened for writing by this user: not on a read-only mount,
/// not a sealed memfd, and writable by permission.
fn writable(exe: &File) -> bool {
    if fstatvfs(exe).is_ok_and(|s| s.flags().contains(FsFlags::ST_RDONLY)) {
        return false;
    }
    // Fails (EINVAL) on anything but a memfd.
    if fcntl(exe, FcntlArg::F_GET_SEALS).is_ok_and(|s| s & libc::F_SEAL_WRITE != 0) {
        return false;
    }
    access("/proc/self/exe", AccessFlags::W_OK).is_ok()
}

/// A detached, read-only clone of the mount berth's binary lives on, opened at the binary.
fn read_only_mount() -> nix::Result<OwnedFd> {
    let tree = sys::open_tree(
        libc::AT_FDCWD,
        "/proc/self/exe",
        libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC,
    )?;
    let ro = MountAttr {
        set: libc::MOUNT_ATTR_RDONLY,
        ..MountAttr::default()
    };
    sys::mount_setattr(tree.as_fd(), false, &ro)?;
    Ok(tree)
}

/// A copy of the binary in a memfd sealed against any change.
fn sealed_copy(exe: &File) -> Result<OwnedFd> {
    let mut copy = sys::memfd("berth", true)?;
    std::io::copy(&mut &*exe, &mut copy).context("copy berth's binary into a memfd")?;
    let seals = SealFlag::F_SEAL_SEAL
        | SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_WRITE;
    fcntl(&copy, FcntlArg::F_ADD_SEALS(seals)).context("seal the copy of berth's binary")?;
    Ok(copy.into())
}

fn cstrings(items: impl Iterator<Item = OsString>) -> Result<Vec<CString>> {
    items
        .map(|s| CString::new(s.into_vec()).context("argument with a NUL byte"))
        .collect()
}
