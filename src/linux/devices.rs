//! Device nodes in the container's /dev: the six every container gets, those of `linux.devices`,
//! and the standard symlinks. Made with mknod, or — inside a user namespace, where mknod is not
//! allowed — bound from the host's node onto an empty file.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::sys::stat::{makedev, mknodat, umask, Mode, SFlag};
use nix::unistd::{fchownat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

use crate::linux::mount::{attach, bind_tree, MountOptions};
use crate::linux::resolve::{ensure_in_root, parent_in_root, Kind};

/// One node to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub path: PathBuf,
    pub kind: SFlag,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Node {
    fn char_dev(path: &str, major: u64, minor: u64) -> Node {
        Node {
            path: PathBuf::from(path),
            kind: SFlag::S_IFCHR,
            major,
            minor,
            mode: 0o666,
            uid: 0,
            gid: 0,
        }
    }

    pub fn from_spec(d: &LinuxDevice) -> Result<Node> {
        let kind = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => SFlag::S_IFCHR,
            LinuxDeviceType::B => SFlag::S_IFBLK,
            LinuxDeviceType::P => SFlag::S_IFIFO,
            LinuxDeviceType::A => bail!("device {}: type \"a\" is not a node", d.path().display()),
        };
        Ok(Node {
            path: d.path().clone(),
            kind,
            major: d.major() as u64,
            minor: d.minor() as u64,
            mode: d.file_mode().unwrap_or(0o666) & 0o7777,
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
        })
    }
}

/// The nodes every container gets (runtime-spec "Default Devices"), then those of the config.
pub fn nodes(config: &[LinuxDevice]) -> Result<Vec<Node>> {
    let mut out: Vec<Node> = vec![
        Node::char_dev("/dev/null", 1, 3),
        Node::char_dev("/dev/zero", 1, 5),
        Node::char_dev("/dev/full", 1, 7),
        Node::char_dev("/dev/random", 1, 8),
        Node::char_dev("/dev/urandom", 1, 9),
        Node::char_dev("/dev/tty", 5, 0),
    ];
    for d in config {
        let node = Node::from_spec(d)?;
        out.retain(|n| n.path != node.path);
        out.push(node);
    }
    Ok(out)
}

/// Creates the nodes below `root` (the rootfs, before pivot_root).
pub fn create(root: BorrowedFd, nodes: &[Node], bind_from_host: bool) -> Result<()> {
    let old = umask(Mode::empty());
    let res = nodes.iter().try_for_each(|n| {
        if bind_from_host {
            bind_node(root, n)
        } else {
            // As runc: where mknod is not allowed, the host's node is bound.
            mknod(root, n).or_else(|e| match e.downcast_ref::<Errno>() {
                Some(&Errno::EPERM) => bind_node(root, n),
                _ => Err(e),
            })
        }
        .with_context(|| format!("device {}", n.path.display()))
    });
    umask(old);
    res
}

fn mknod(root: BorrowedFd, n: &Node) -> Result<()> {
    let (dir, name) = parent_in_root(root, &n.path)?;
    let perm = Mode::from_bits_truncate(n.mode);
    match mknodat(dir.as_fd(), name, n.kind, perm, makedev(n.major, n.minor)) {
        // An existing node (an image's own /dev) is kept, as runc does.
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(e).context("mknod"),
    }
    fchownat(
        dir.as_fd(),
        name,
        Some(Uid::from_raw(n.uid)),
        Some(Gid::from_raw(n.gid)),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .context("chown")
}

fn bind_node(root: BorrowedFd, n: &Node) -> Result<()> {
    let target = ensure_in_root(root, &n.path, Kind::File)?;
    let opts = MountOptions {
        bind: true,
        ..MountOptions::default()
    };
    let tree = bind_tree(&n.path, &opts, None)?;
    attach(tree.as_fd(), target.as_fd(), &opts)
}

/// /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx -> pts/ptmx.
pub fn symlinks(root: BorrowedFd) -> Result<()> {
    let mut links = vec![
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "core"));
    }
    let dev = ensure_in_root(root, Path::new("/dev"), Kind::Dir)?;
    let dev = nix::fcntl::openat(
        dev.as_fd(),
        ".",
        nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context("open /dev")?;
    for (target, name) in links {
        match symlinkat(target, dev.as_fd(), name) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(e).with_context(|| format!("symlink /dev/{name}")),
        }
    }
    match unlinkat(dev.as_fd(), "ptmx", UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => {}
        Err(e) => return Err(e).context("remove /dev/ptmx"),
    }
    symlinkat("pts/ptmx", dev.as_fd(), "ptmx").context("symlink /dev/ptmx")
}
