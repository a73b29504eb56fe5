//! Where a bind mount's tree comes from. The init clones it from the source as it opens it.
//! Where it cannot — its user namespace keeps it from the source (under a 0700 directory), or the
//! bind is id-mapped (which wants CAP_SYS_ADMIN over the filesystem's user namespace) — berth
//! does that part as root, from a thread in the init's mount namespace (runc's mount sources),
//! and hands the result over the sync channel. Made in that namespace, the bind is cloned from
//! the namespace's own copy of the source's mount, and so keeps the flags the kernel locked in it
//! for the user namespace: what is read-only on the host stays so inside.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use nix::fcntl::{open, OFlag};
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use oci_spec::runtime::{Linux, LinuxIdMapping, Mount, Spec};

use crate::linux::mount::{bind_tree, bind_tree_of, MountOptions};
use crate::linux::userns;

/// A bind mount's source: absolute, or relative to the bundle.
pub fn path(m: &Mount, bundle: &Path) -> Result<PathBuf> {
    let source = m
        .source()
        .as_ref()
        .ok_or_else(|| anyhow!("bind mount has no source"))?;
    Ok(if source.is_absolute() {
        source.clone()
    } else {
        bundle.join(source)
    })
}

type IdMaps<'a> = (&'a [LinuxIdMapping], &'a [LinuxIdMapping]);

/// The mappings of an id-mapped mount: its own, or (runc 1.2) the container's when it has
/// `idmap` without mappings of its own.
fn idmap_of<'a>(m: &'a Mount, linux: &'a Linux) -> Option<IdMaps<'a>> {
    if let (Some(u), Some(g)) = (m.uid_mappings(), m.gid_mappings()) {
        return Some((u, g));
    }
    let idmap = m
        .options()
        .iter()
        .flatten()
        .any(|o| o == "idmap" || o == "ridmap");
    match (idmap, linux.uid_mappings(), linux.gid_mappings()) {
        (true, Some(u), Some(g)) => Some((u, g)),
        _ => None,
    }
}

fn options(m: &Mount) -> MountOptions {
    MountOptions::parse(m.options().as_deref().unwrap_or(&[]))
}

/// Container side: the detached tree of the bind `mounts[index]`. `from_berth` asks berth for
/// what it makes: the source's handle or, id-mapped, the whole tree (None: berth cannot help,
/// as an unprivileged user).
pub fn tree(
    spec: &Spec,
    bundle: &Path,
    index: usize,
    userns: bool,
    from_berth: &dyn Fn(usize) -> Result<Option<OwnedFd>>,
) -> Result<OwnedFd> {
    let m = mount_at(spec, index)?;
    let path = path(m, bundle)?;
    let linux = spec.linux().as_ref().context("linux missing")?;
    if idmap_of(m, linux).is_some() {
        return from_berth(index)?
            .with_context(|| format!("id-mapped bind of {}: needs berth as root", path.display()));
    }
    let source = match open(&path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()) {
        Ok(fd) => fd,
        Err(err) => match userns.then(|| from_berth(index)).transpose()?.flatten() {
            Some(fd) => fd,
            None => return Err(err).with_context(|| format!("bind source {}", path.display())),
        },
    };
    bind_tree_of(source.as_fd(), &options(m), None)
        .with_context(|| format!("bind {}", path.display()))
}

/// Host side, for the init `pid` that asked: what `tree` wants of berth for `mounts[index]`,
/// made in the init's mount namespace.
pub fn open_for(pid: Pid, spec: &Spec, bundle: &Path, index: usize) -> Result<OwnedFd> {
    let m = mount_at(spec, index)?;
    let path = path(m, bundle)?;
    let linux = spec.linux().as_ref().context("linux missing")?;
    let made = match idmap_of(m, linux) {
        Some((uids, gids)) => {
            let mapping = userns::mapped_userns(uids, gids)?;
            in_mount_namespace(pid, || bind_tree(&path, &options(m), Some(mapping.as_fd())))
        }
        None => in_mount_namespace(pid, || {
            open(&path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
                .with_context(|| format!("bind source {}", path.display()))
        }),
    };
    made.with_context(|| format!("mounts[{index}] {}", m.destination().display()))
}

fn mount_at(spec: &Spec, index: usize) -> Result<&Mount> {
    let m = spec
        .mounts()
        .as_deref()
        .and_then(|mounts| mounts.get(index))
        .with_context(|| format!("no mounts[{index}]"))?;
    let opts = options(m);
    if !opts.bind && m.typ().as_deref() != Some("bind") {
        anyhow::bail!("mounts[{index}] is not a bind mount");
    }
    Ok(m)
}

/// Runs `f` as berth, from a thread that entered the mount namespace of `pid`, so that berth
/// itself stays where it is.
fn in_mount_namespace<T: Send>(pid: Pid, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    let ns = File::open(format!("/proc/{pid}/ns/mnt")).context("open the mount namespace")?;
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // setns into a mount namespace wants a filesystem context of the thread's own.
                unshare(CloneFlags::CLONE_FS).context("unshare(CLONE_FS)")?;
                setns(ns.as_fd(), CloneFlags::CLONE_NEWNS).context("join the mount namespace")?;
                f()
            })
            .join()
            .unwrap_or_else(|_| Err(anyhow!("the thread in the mount namespace died")))
    })
}
