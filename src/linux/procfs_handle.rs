//! A private, verified procfs for what berth writes into /proc inside a container (sysctls,
//! AppArmor's attr files) and for reopening a handle through /proc/thread-self/fd.
//!
//! The container's /proc is the wrong place to open those: whatever is mounted over a file there
//! is what berth writes to, and a bind mount of another procfs file passes the fs-magic check
//! berth used to make (CVE-2025-52881: runc wrote a sysctl value into another file, or an
//! AppArmor profile nowhere). Instead, as runc ≥ 1.2.8 (pathrs) and crun ≥ 1.25 do, berth makes
//! a procfs mount no one else can reach — `fsopen("proc")` + `fsmount`, detached — and opens
//! files beneath it with `openat2(RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS)`:
//! no mount, no magic link and no `..` can lead anywhere else.
//!
//! In a user namespace the kernel refuses a fresh procfs when no fully visible one exists
//! (mount_too_revealing: /proc with locked overmounts); then a non-recursive clone of /proc
//! (`open_tree(OPEN_TREE_CLONE)`, which leaves every mount below it behind) stands in. Either
//! handle is checked to be the root of a procfs before use. One handle is made per process, on
//! first use: a container that writes nothing into /proc costs nothing.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::{openat, openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, Mode};
use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC};

use crate::linux::sys;

/// The inode number of a procfs root (include/linux/proc_ns.h): no other procfs file has it.
pub const PROC_ROOT_INO: u64 = 1;

/// Which files a handle must reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Only this process's own files (`thread-self/…`): a `subset=pid` procfs will do.
    Process,
    /// Anything, `sys/…` included.
    All,
}

/// A handle on the root of this process's private procfs.
pub struct Procfs(Arc<OwnedFd>);

struct Cached {
    pid: u32,
    scope: Scope,
    root: Arc<OwnedFd>,
}

/// The handle of this process. A clone inherits its parent's memory: the pid tells whose it is.
static HANDLE: Mutex<Option<Cached>> = Mutex::new(None);

impl Procfs {
    /// This process's handle if it reaches `scope`, else a new one (which replaces it).
    pub fn get(scope: Scope) -> Result<Procfs> {
        let pid = std::process::id();
        let mut cached = HANDLE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cached.as_ref() {
            if c.pid == pid && (c.scope == Scope::All || scope == Scope::Process) {
                return Ok(Procfs(c.root.clone()));
            }
        }
        let root = Arc::new(private_procfs(scope)?);
        *cached = Some(Cached {
            pid,
            scope,
            root: root.clone(),
        });
        Ok(Procfs(root))
    }

    /// Opens `path` (relative to the procfs root: `sys/net/ipv4/ip_forward`) without following
    /// any magic link, crossing any mount or leaving procfs.
    pub fn open(&self, path: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
            .resolve(
                ResolveFlag::RESOLVE_BENEATH
                    | ResolveFlag::RESOLVE_NO_XDEV
                    | ResolveFlag::RESOLVE_NO_MAGICLINKS,
            );
        loop {
            match openat2(self.0.as_fd(), path, how) {
                // openat2 asks for a retry when a rename raced with the lookup.
                Err(Errno::EAGAIN) => continue,
                other => return other,
            }
        }
    }

    /// A new open file description of what `fd` (an `O_PATH` handle) refers to, with `flags`:
    /// through thread-self/fd/N, whose magic link is the only one followed.
    pub fn reopen(&self, fd: BorrowedFd, flags: OFlag) -> nix::Result<OwnedFd> {
        let dir = self.open(Path::new("thread-self/fd"), OFlag::O_PATH)?;
        let name = fd.as_raw_fd().to_string();
        openat(
            dir.as_fd(),
            name.as_str(),
            flags | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
    }
}

/// A detached procfs of this process's pid namespace, or a clone of the /proc mount alone;
/// either checked to be a procfs root.
fn private_procfs(scope: Scope) -> Result<OwnedFd> {
    let root = match fresh_procfs(scope) {
        Ok(fd) => fd,
        // EPERM: mount_too_revealing (see above); EINVAL: no subset=pid (Linux < 5.8).
        Err(Errno::EPERM | Errno::EINVAL) => {
            let flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC;
            sys::open_tree(
                libc::AT_FDCWD,
                "/proc",
                flags | libc::AT_SYMLINK_NOFOLLOW as u32,
            )
            .context("clone the /proc mount")?
        }
        Err(e) => return Err(e).context("mount a private procfs"),
    };
    if !is_procfs_root(root.as_fd()) {
        bail!("no procfs to write through: /proc is not the root of a procfs");
    }
    Ok(root)
}

fn fresh_procfs(scope: Scope) -> nix::Result<OwnedFd> {
    let fs = sys::fsopen("proc")?;
    if scope == Scope::Process {
        sys::fsconfig_set_string(fs.as_fd(), "subset", "pid")?;
    }
    sys::fsconfig_create(fs.as_fd())?;
    let attrs = libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV | libc::MOUNT_ATTR_NOEXEC;
    sys::fsmount(fs.as_fd(), attrs)
}

/// Whether `fd` is the root directory of a procfs.
pub fn is_procfs_root(fd: BorrowedFd) -> bool {
    fstatfs(fd).is_ok_and(|s| s.filesystem_type() == PROC_SUPER_MAGIC)
        && fstat(fd).is_ok_and(|st| st.st_ino == PROC_ROOT_INO)
}
