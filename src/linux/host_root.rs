//! The root of a container without a mount namespace of its own, which runs in the host's (as
//! with runc). runc mounts such a container's rootfs and mounts there, making the host's `/` a
//! slave on the way, and leaves them behind. berth binds the rootfs onto itself as a private
//! mount — no host mount changes, and nothing mounted below it propagates anywhere — records the
//! bind in the container's state directory, and `delete` detaches it with everything below it.

use std::fs;
use std::io::ErrorKind;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::mount::{umount2, MntFlags};
use nix::sys::stat::Mode;

use crate::linux::mount::{attach, bind_tree, MountOptions};
use crate::linux::sys::{self, MountAttr};

/// The file in the state directory that names the bind (its mount id).
const RECORD: &str = "host-root";

/// The rootfs bound onto itself in the host's mount namespace; detached again on drop unless
/// `keep` is called (a create that fails leaves nothing).
pub struct HostRoot {
    tree: OwnedFd,
    kept: bool,
}

impl HostRoot {
    /// Binds `rootfs` onto itself, private, and records the bind in `state_dir`.
    pub fn bind(rootfs: &Path, state_dir: &Path) -> Result<HostRoot> {
        let opts = MountOptions {
            bind: true,
            recursive: true,
            ..MountOptions::default()
        };
        let tree = bind_tree(rootfs, &opts, None)?;
        let target =
            open_path(rootfs).with_context(|| format!("open rootfs {}", rootfs.display()))?;
        attach(tree.as_fd(), target.as_fd(), &opts).context("bind the rootfs onto itself")?;
        let root = HostRoot { tree, kept: false };
        // Under a shared parent the bind became shared too; from now on nothing propagates.
        let private = MountAttr {
            propagation: libc::MS_PRIVATE,
            ..MountAttr::default()
        };
        sys::mount_setattr(root.tree.as_fd(), true, &private).context("make the rootfs private")?;
        let id = mount_id(root.tree.as_fd()).context("the rootfs bind's mount id")?;
        fs::write(state_dir.join(RECORD), id.to_string()).context("record the rootfs bind")?;
        Ok(root)
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.tree.as_fd()
    }

    /// The container is made: its mounts stay until `delete` calls `release`.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for HostRoot {
    fn drop(&mut self) {
        if !self.kept {
            let path = format!("/proc/self/fd/{}", self.tree.as_raw_fd());
            let _ = umount2(path.as_str(), MntFlags::MNT_DETACH);
        }
    }
}

/// `delete`: detaches the container's rootfs bind recorded in `state_dir` — with everything
/// below it, and anything stacked on it at `rootfs` (the container's own mounts there).
pub fn release(state_dir: &Path, rootfs: &Path) -> Result<()> {
    let ours: u64 = match fs::read_to_string(state_dir.join(RECORD)) {
        Ok(text) => text
            .trim()
            .parse()
            .context("parse the rootfs bind record")?,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).context("read the rootfs bind record"),
    };
    let context = || format!("detach the container's mounts at {}", rootfs.display());
    // Each round takes the mount on top at the rootfs: ours, or one stacked on it.
    for _ in 0..64 {
        let me = procfs::process::Process::myself()?;
        let mounts = me.mountinfo().context("read /proc/self/mountinfo")?.0;
        let parent_of = |id: u64| {
            mounts
                .iter()
                .find(|m| m.mnt_id as u64 == id)
                .map(|m| m.pid as u64)
        };
        if parent_of(ours).is_none() {
            return Ok(());
        }
        let top = open_path(rootfs)
            .and_then(|fd| mount_id(fd.as_fd()))
            .with_context(context)?;
        let mut id = top;
        while id != ours {
            match parent_of(id).filter(|p| *p != id) {
                Some(parent) => id = parent,
                None => bail!(
                    "{}: mount {ours} is not reachable there any more",
                    context()
                ),
            }
        }
        umount2(rootfs, MntFlags::MNT_DETACH).with_context(context)?;
        if top == ours {
            return Ok(());
        }
    }
    bail!("{}: too many mounts stacked on it", context())
}

fn open_path(path: &Path) -> nix::Result<OwnedFd> {
    open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
}

/// The id /proc/self/mountinfo gives the mount that `fd` is on.
fn mount_id(fd: BorrowedFd) -> nix::Result<u64> {
    // SAFETY: statx fills the zeroed struct; an empty path with AT_EMPTY_PATH names the fd.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    let res = unsafe {
        libc::statx(
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            libc::STATX_MNT_ID,
            &mut stx,
        )
    };
    Errno::result(res)?;
    if stx.stx_mask & libc::STATX_MNT_ID == 0 {
        return Err(Errno::ENOSYS);
    }
    Ok(stx.stx_mnt_id)
}
