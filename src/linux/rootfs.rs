//! The container's root filesystem, in runc's order: propagation of `/`, the rootfs bound onto
//! itself, every mount of config.json, /dev, then pivot_root (or MS_MOVE + chroot). After the
//! switch and the console: read-only /dev and root (`Finalize`), then readonlyPaths and
//! maskedPaths.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::{open, openat, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{fstat, major, minor, Mode, SFlag};
use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC};
use nix::unistd::{chdir, chroot, fchdir, pivot_root};
use oci_spec::runtime::{Mount, Spec};

use crate::cgroups::mount::CgroupMount;
use crate::linux::bind_source;
use crate::linux::copyup::copy_tree;
use crate::linux::devices;
use crate::linux::mount::{attach, bind_fd, bind_tree, new_fs, MountOptions};
use crate::linux::procfs_handle::is_procfs_root;
use crate::linux::resolve::{clean, ensure_in_root, open_in_root, Kind};
use crate::linux::sys::{self, MountAttr};

pub struct Rootfs<'a> {
    pub spec: &'a Spec,
    pub rootfs: &'a Path,
    pub bundle: &'a Path,
    /// The container has a user namespace of its own.
    pub userns: bool,
    /// The container or berth is in a user namespace: device nodes are bound from the host.
    pub in_userns: bool,
    pub cgroup: CgroupMount<'a>,
    /// Asks berth for its part of the bind `mounts[index]` (`bind_source`).
    pub from_berth: &'a dyn Fn(usize) -> Result<Option<OwnedFd>>,
    /// No mount namespace of the container's own: the rootfs as berth bound it in the host's
    /// (`host_root`). Nothing of the host's propagation is touched, and chroot is the switch.
    pub host_root: Option<BorrowedFd<'a>>,
    pub no_pivot: bool,
}

/// The propagation flags of a `rootfsPropagation` value.
pub fn propagation_flags(value: &str) -> Option<MsFlags> {
    Some(match value {
        "shared" => MsFlags::MS_SHARED,
        "rshared" => MsFlags::MS_SHARED | MsFlags::MS_REC,
        "slave" => MsFlags::MS_SLAVE,
        "rslave" => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        "private" => MsFlags::MS_PRIVATE,
        "rprivate" => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        "unbindable" => MsFlags::MS_UNBINDABLE,
        "runbindable" => MsFlags::MS_UNBINDABLE | MsFlags::MS_REC,
        _ => return None,
    })
}

impl Rootfs<'_> {
    fn mounts(&self) -> &[Mount] {
        self.spec.mounts().as_deref().unwrap_or(&[])
    }

    /// Everything up to and including the switch into the new root; `before_pivot` runs once
    /// the mounts are made (the createContainer hooks). What must wait for the console is
    /// returned.
    pub fn prepare(&self, before_pivot: impl FnOnce() -> Result<()>) -> Result<Finalize> {
        let propagation = self
            .spec
            .linux()
            .as_ref()
            .and_then(|l| l.rootfs_propagation().as_deref())
            .and_then(propagation_flags);
        let made;
        let root = match self.host_root {
            Some(bound) => bound,
            None => {
                self.set_root_propagation(propagation)?;
                made = self.bind_rootfs()?;
                made.as_fd()
            }
        };
        let mut dev_readonly = false;
        for (i, m) in self.mounts().iter().enumerate() {
            dev_readonly |= self
                .mount_one(root.as_fd(), i, m)
                .with_context(|| format!("mounts[{i}] {}", m.destination().display()))?;
        }
        // A missing working directory is made, as runc does (images often name one they lack).
        if let Some(p) = self.spec.process() {
            ensure_in_root(root.as_fd(), p.cwd(), Kind::Dir).context("process.cwd")?;
        }
        if self.sets_up_dev() {
            let linux_devices = self.spec.linux().as_ref().and_then(|l| l.devices().clone());
            let nodes = devices::nodes(linux_devices.as_deref().unwrap_or(&[]))?;
            devices::create(root.as_fd(), &nodes, self.in_userns)?;
            devices::symlinks(root.as_fd())?;
        }
        before_pivot()?;
        if self.host_root.is_some() {
            chroot_into(root)?;
            // validate refuses rootfsPropagation here: it would be the host's.
        } else if self.no_pivot {
            move_root(root)?;
        } else {
            pivot(root)?;
        }
        if let Some(p) = propagation.filter(|_| self.host_root.is_none()) {
            mount(None::<&str>, "/", None::<&str>, p, None::<&str>)
                .context("set rootfsPropagation")?;
        }
        Ok(Finalize {
            dev_readonly,
            root_readonly: self.spec.root().as_ref().and_then(|r| r.readonly()) == Some(true),
        })
    }

    /// Host mount events still reach the container's namespace; nothing flows back (unless
    /// rootfsPropagation shares it).
    fn set_root_propagation(&self, propagation: Option<MsFlags>) -> Result<()> {
        let root_flags = match propagation {
            Some(p) if p.contains(MsFlags::MS_SHARED) => p | MsFlags::MS_REC,
            _ => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        };
        mount(None::<&str>, "/", None::<&str>, root_flags, None::<&str>)
            .context("set propagation of /")?;
        if root_flags.contains(MsFlags::MS_SHARED) {
            make_parent_private(self.rootfs)?;
        }
        Ok(())
    }

    /// runc creates device nodes unless /dev is bound from the host — by a `bind` option or by
    /// type "bind" alone, which `mount_one` also takes as a bind.
    fn sets_up_dev(&self) -> bool {
        !self.mounts().iter().any(|m| {
            clean(m.destination()) == Path::new("dev")
                && (MountOptions::parse(options(m)).bind || m.typ().as_deref() == Some("bind"))
        })
    }

    /// The rootfs bound onto itself (pivot_root needs a mount point); the returned handle is
    /// the root every later path is resolved in.
    fn bind_rootfs(&self) -> Result<OwnedFd> {
        let opts = MountOptions {
            bind: true,
            recursive: true,
            ..MountOptions::default()
        };
        let tree = bind_tree(self.rootfs, &opts, None)?;
        let target = open(self.rootfs, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
            .with_context(|| format!("open rootfs {}", self.rootfs.display()))?;
        attach(tree.as_fd(), target.as_fd(), &opts).context("bind the rootfs onto itself")?;
        Ok(tree)
    }

    /// Mounts one entry of `mounts`; returns true when it is a read-only /dev whose
    /// read-only flag must wait until the device nodes and the console exist (`Finalize`).
    fn mount_one(&self, root: BorrowedFd, index: usize, m: &Mount) -> Result<bool> {
        let dest = m.destination();
        let opts = MountOptions::parse(options(m));
        let typ = m.typ().as_deref().unwrap_or("");
        let bind = opts.bind || typ == "bind";
        // A bind's tree comes first: the destination is made as what it is, file or directory.
        let tree = (bind && !opts.remount)
            .then(|| bind_source::tree(self.spec, self.bundle, index, self.userns, self.from_berth))
            .transpose()?;
        let kind = match &tree {
            Some(tree)
                if file_kind(fstat(tree).context("stat bind source")?.st_mode)
                    != SFlag::S_IFDIR =>
            {
                Kind::File
            }
            _ => Kind::Dir,
        };
        // One lookup: the destination is opened once, checked through that handle and mounted
        // on it — a rename in the image between a check and a second lookup changes nothing.
        let target = if opts.remount {
            open_in_root(root, dest, OFlag::O_PATH).context("open")?
        } else if matches!(typ, "proc" | "sysfs") {
            ordinary_directory(root, dest, typ)?
        } else {
            ensure_in_root(root, dest, kind)?
        };
        if typ != "proc" {
            check_proc_destination(root, target.as_fd())?;
        }
        if opts.remount {
            sys::mount_setattr(target.as_fd(), false, &opts.attr).context("remount")?;
            return Ok(false);
        }
        if typ == "cgroup" {
            self.cgroup.mount(target.as_fd(), dest, &opts)?;
            return Ok(false);
        }
        if let Some(tree) = tree {
            attach(tree.as_fd(), target.as_fd(), &opts)?;
            return Ok(false);
        }
        let mut flags = opts.fsmount_flags();
        let dev_readonly = dest == Path::new("/dev") && flags & libc::MOUNT_ATTR_RDONLY != 0;
        if dev_readonly {
            flags &= !libc::MOUNT_ATTR_RDONLY;
        }
        // tmpcopyup writes into the new filesystem: a read-only one becomes so after the copy.
        let copyup_readonly = opts.tmpcopyup && flags & libc::MOUNT_ATTR_RDONLY != 0;
        if copyup_readonly {
            flags &= !libc::MOUNT_ATTR_RDONLY;
        }
        let lower = if opts.tmpcopyup {
            let flags = OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC;
            Some(openat(target.as_fd(), ".", flags, Mode::empty()).context("open")?)
        } else {
            None
        };
        let source = m.source().as_ref().and_then(|s| s.to_str());
        let tree = match new_fs(typ, source, &opts, flags) {
            Err(e) if self.may_bind_instead(typ, &e) => {
                let host = if typ == "sysfs" {
                    "/sys"
                } else {
                    "/dev/mqueue"
                };
                bind_tree(Path::new(host), &opts.as_rbind(), None)?
            }
            other => other?,
        };
        attach(tree.as_fd(), target.as_fd(), &opts)?;
        if let Some(lower) = lower {
            copy_tree(lower.as_fd(), tree.as_fd()).context("tmpcopyup")?;
        }
        if copyup_readonly {
            let ro = MountAttr {
                set: libc::MOUNT_ATTR_RDONLY,
                ..MountAttr::default()
            };
            sys::mount_setattr(tree.as_fd(), false, &ro).context("tmpcopyup: make read-only")?;
        }
        Ok(dev_readonly)
    }

    /// sysfs and mqueue cannot be mounted from a user namespace that does not own the network
    /// (or IPC) namespace; runc binds the host's instead.
    fn may_bind_instead(&self, typ: &str, err: &anyhow::Error) -> bool {
        matches!(typ, "sysfs" | "mqueue")
            && self.in_userns
            && err.root_cause().downcast_ref::<Errno>() == Some(&Errno::EPERM)
    }
}

/// What runc's finalizeRootfs does once the console is in place: a read-only /dev (its device
/// nodes and /dev/console had to be made first), then the read-only root.
#[must_use = "the read-only /dev and root are only applied by `run`"]
pub struct Finalize {
    dev_readonly: bool,
    root_readonly: bool,
}

impl Finalize {
    pub fn run(self) -> Result<()> {
        let root = root_handle()?;
        if self.dev_readonly {
            set_readonly(root.as_fd(), Path::new("/dev")).context("make /dev read-only")?;
        }
        if self.root_readonly {
            set_readonly(root.as_fd(), Path::new("/")).context("make the root read-only")?;
        }
        Ok(())
    }
}

/// The files below /proc that a mount other than procfs may cover: the few lxcfs-style tools
/// replace (runc's rule, which keeps a bind from shadowing /proc/self/… security files).
const PROC_ALLOWED: &[&str] = &[
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
];

/// Whether a mount other than procfs may be placed at `path` (validate.rs asks this of the
/// destination as written; `check_proc_destination` of where it leads).
pub fn may_cover(path: &Path) -> bool {
    !path.starts_with("/proc")
        || path == Path::new("/proc")
        || PROC_ALLOWED.iter().any(|p| path == Path::new(p))
}

/// The /proc rule, for the destination as opened: judged by where `target` is (which may be
/// reached through symlinks of the image: `/etc/x -> /proc/self/attr/current`), not by the path
/// as written. A destination on a procfs — wherever that is mounted — may only be its root or
/// one of the allowed files.
fn check_proc_destination(root: BorrowedFd, target: BorrowedFd) -> Result<()> {
    let path = path_in_root(root, target)?;
    let on_procfs = fstatfs(target).map(|s| s.filesystem_type()) == Ok(PROC_SUPER_MAGIC);
    let allowed = if on_procfs {
        is_procfs_root(target) || PROC_ALLOWED.iter().any(|p| path == Path::new(p))
    } else {
        may_cover(&path)
    };
    if !allowed {
        bail!("mounting over {} is not allowed", path.display());
    }
    Ok(())
}

/// The mount point of a proc or sysfs mount: a directory of the image, made if missing, never
/// reached through a final symlink nor a file (CVE-2019-19921) — runc's rule and words. The
/// handle checked is the one mounted on.
fn ordinary_directory(root: BorrowedFd, dest: &Path, typ: &str) -> Result<OwnedFd> {
    let nofollow = OFlag::O_PATH | OFlag::O_NOFOLLOW;
    if let Err(Errno::ENOENT) = open_in_root(root, dest, nofollow) {
        ensure_in_root(root, dest, Kind::Dir)?;
    }
    let target = open_in_root(root, dest, nofollow).context("open")?;
    let st = fstat(target.as_fd()).context("stat")?;
    let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
    if kind != SFlag::S_IFDIR {
        let what = if kind == SFlag::S_IFLNK {
            "a symlink"
        } else {
            "not a directory"
        };
        bail!("filesystem {typ:?} must be mounted on ordinary directory ({what} in the rootfs)");
    }
    Ok(target)
}

/// Where `fd` is in the current mount namespace.
fn fd_path(fd: BorrowedFd) -> Result<PathBuf> {
    let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
    nix::fcntl::readlink(link.as_str())
        .map(PathBuf::from)
        .with_context(|| format!("readlink {link}"))
}

/// The path of `fd` inside the rootfs `root` (both handles in the current mount namespace).
fn path_in_root(root: BorrowedFd, fd: BorrowedFd) -> Result<PathBuf> {
    let path_of = |fd| fd_path(fd).context("resolve the mount destination");
    let (root_path, path) = (path_of(root)?, path_of(fd)?);
    let rel = path
        .strip_prefix(&root_path)
        .with_context(|| format!("{} is outside the rootfs", path.display()))?;
    Ok(Path::new("/").join(rel))
}

pub fn options(m: &Mount) -> &[String] {
    m.options().as_deref().unwrap_or(&[])
}

/// pivot_root needs the mount above the new root not to be shared.
fn make_parent_private(rootfs: &Path) -> Result<()> {
    let me = procfs::process::Process::myself()?;
    let mounts = me.mountinfo().context("read /proc/self/mountinfo")?;
    let parent = mounts
        .into_iter()
        .map(|m| m.mount_point)
        .filter(|mp| rootfs.starts_with(mp))
        .max_by_key(|mp| mp.as_os_str().len())
        .unwrap_or_else(|| PathBuf::from("/"));
    mount(
        None::<&str>,
        &parent,
        None::<&str>,
        MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .with_context(|| format!("make {} private", parent.display()))
}

fn pivot(root: BorrowedFd) -> Result<()> {
    let old_root = open(
        "/",
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context("open the old root")?;
    fchdir(root).context("chdir to the rootfs")?;
    // pivot_root(".", ".") stacks the old root on top of the new one; unmounting "." then drops it.
    pivot_root(".", ".").context("pivot_root")?;
    // The cwd is still the new root, and mount(2) does not step onto a mount stacked on ".":
    // without this, MS_SLAVE|MS_REC below would hit the container's own tree and undo every
    // `shared` propagation option of config.json. The handle opened before is the old root.
    fchdir(old_root.as_fd()).context("chdir to the old root")?;
    mount(
        None::<&str>,
        ".",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )
    .context("make the old root a slave")?;
    umount2(".", MntFlags::MNT_DETACH).context("unmount the old root")?;
    chdir("/").context("chdir /")
}

fn move_root(root: BorrowedFd) -> Result<()> {
    hide_host_pseudo_filesystems(&fd_path(root)?)?;
    fchdir(root).context("chdir to the rootfs")?;
    mount(Some("."), "/", None::<&str>, MsFlags::MS_MOVE, None::<&str>)
        .context("move the rootfs to /")?;
    chroot_into(root)
}

fn chroot_into(root: BorrowedFd) -> Result<()> {
    fchdir(root).context("chdir to the rootfs")?;
    chroot(".").context("chroot")?;
    chdir("/").context("chdir /")
}

/// Before MS_MOVE + chroot, every full procfs and sysfs mount outside the rootfs leaves the
/// container's mount namespace (runc's msMoveRoot). Beyond the chroot they would still be there,
/// and while a full procfs is mounted in the namespace, the kernel lets a process that makes a
/// user namespace of its own mount a fresh, unmasked procfs (mount_too_revealing allows what is
/// already visible). An unmount propagates like a mount: from the parent to its peers, which
/// under a shared rootfsPropagation include the host's own `/` — so the parents, and the mounts
/// themselves (for what is below them), become slaves first. One that cannot be unmounted is
/// covered by a tmpfs.
fn hide_host_pseudo_filesystems(rootfs: &Path) -> Result<()> {
    let me = procfs::process::Process::myself()?;
    let mounts = me.mountinfo().context("read /proc/self/mountinfo")?.0;
    let hidden: Vec<_> = mounts
        .iter()
        .filter(|m| {
            m.root == "/"
                && matches!(m.fs_type.as_str(), "proc" | "sysfs")
                && !m.mount_point.starts_with(rootfs)
        })
        .collect();
    let make_slave = |point: &Path, flags: MsFlags| {
        mount(None::<&str>, point, None::<&str>, flags, None::<&str>)
            .with_context(|| format!("make {} a slave", point.display()))
    };
    for m in &hidden {
        if let Some(parent) = mounts.iter().find(|p| p.mnt_id == m.pid) {
            make_slave(&parent.mount_point, MsFlags::MS_SLAVE)?;
        }
    }
    for m in hidden {
        let point = &m.mount_point;
        match make_slave(point, MsFlags::MS_SLAVE | MsFlags::MS_REC) {
            // Below one unmounted before.
            Err(e) if e.root_cause().downcast_ref() == Some(&Errno::ENOENT) => continue,
            other => other?,
        }
        match umount2(point, MntFlags::MNT_DETACH) {
            Err(Errno::EINVAL | Errno::EPERM) => mount(
                Some("tmpfs"),
                point,
                Some("tmpfs"),
                MsFlags::empty(),
                None::<&str>,
            )
            .with_context(|| format!("cover {}", point.display()))?,
            other => other.with_context(|| format!("unmount {}", point.display()))?,
        }
    }
    Ok(())
}

fn set_readonly(root: BorrowedFd, path: &Path) -> Result<()> {
    let fd = open_in_root(root, path, OFlag::O_PATH)?;
    let ro = MountAttr {
        set: libc::MOUNT_ATTR_RDONLY,
        ..MountAttr::default()
    };
    Ok(sys::mount_setattr(fd.as_fd(), false, &ro)?)
}

fn root_handle() -> Result<OwnedFd> {
    open(
        "/",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context("open /")
}

/// readonlyPaths: each path bound onto itself, read-only with everything below it.
pub fn readonly_paths(paths: &[String]) -> Result<()> {
    let root = root_handle()?;
    for p in paths {
        let target = match open_in_root(root.as_fd(), Path::new(p), OFlag::O_PATH) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(e).with_context(|| format!("readonlyPaths: open {p}")),
        };
        let tree =
            bind_fd(target.as_fd(), true).with_context(|| format!("readonlyPaths: bind {p}"))?;
        let ro = MountAttr {
            set: libc::MOUNT_ATTR_RDONLY,
            ..MountAttr::default()
        };
        sys::mount_setattr(tree.as_fd(), true, &ro)
            .with_context(|| format!("readonlyPaths: make {p} read-only"))?;
        sys::move_mount(tree.as_fd(), target.as_fd())
            .with_context(|| format!("readonlyPaths: mount {p}"))?;
    }
    Ok(())
}

/// Stdio that is a /dev/null from outside (conmon gives a detached container the host's) becomes
/// the container's own, as runc's reOpenDevNull does: CRIU cannot checkpoint a descriptor of a
/// mount that is not in the container. Called once in the new root; only a real null device
/// there (no symlink followed) is used, and only opened when some stdio is a null device.
pub fn reopen_dev_null() -> Result<()> {
    let stdio: Vec<i32> = (0..3)
        .filter(|&fd| {
            // SAFETY: stat is plain data, filled in by the kernel; a closed fd fails with EBADF.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            (unsafe { libc::fstat(fd, &mut st) } == 0) && is_null_device(&st)
        })
        .collect();
    if stdio.is_empty() {
        return Ok(());
    }
    let Ok(null) = open(
        "/dev/null",
        OFlag::O_RDWR | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
        Mode::empty(),
    ) else {
        return Ok(());
    };
    if !fstat(null.as_fd()).is_ok_and(|st| is_null_device(&st)) {
        return Ok(());
    }
    for fd in stdio {
        // SAFETY: both descriptors are open; dup3 replaces `fd` atomically.
        if unsafe { libc::dup3(null.as_raw_fd(), fd, 0) } < 0 {
            return Err(Errno::last()).context("reopen /dev/null for stdio");
        }
    }
    Ok(())
}

/// The null device, 1:3.
fn is_null_device(st: &libc::stat) -> bool {
    file_kind(st.st_mode) == SFlag::S_IFCHR && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3
}

/// maskedPaths: directories covered by an empty read-only tmpfs, files by the container's
/// /dev/null (checked to be the real 1:3 character device first).
pub fn mask_paths(paths: &[String]) -> Result<()> {
    let root = root_handle()?;
    let mut null: Option<OwnedFd> = None;
    for p in paths {
        let target = match open_in_root(root.as_fd(), Path::new(p), OFlag::O_PATH) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(e).with_context(|| format!("maskedPaths: open {p}")),
        };
        let st = fstat(target.as_fd()).with_context(|| format!("maskedPaths: stat {p}"))?;
        let tree = if file_kind(st.st_mode) == SFlag::S_IFDIR {
            new_fs(
                "tmpfs",
                Some("tmpfs"),
                &MountOptions::default(),
                libc::MOUNT_ATTR_RDONLY,
            )?
        } else {
            if null.is_none() {
                null = Some(dev_null(root.as_fd())?);
            }
            let null = null.as_ref().map(|f| f.as_fd()).context("no /dev/null")?;
            bind_fd(null, false).with_context(|| format!("maskedPaths: bind /dev/null for {p}"))?
        };
        sys::move_mount(tree.as_fd(), target.as_fd())
            .with_context(|| format!("maskedPaths: mount {p}"))?;
    }
    Ok(())
}

fn dev_null(root: BorrowedFd) -> Result<OwnedFd> {
    let fd = open_in_root(root, Path::new("/dev/null"), OFlag::O_PATH).context("open /dev/null")?;
    let st = fstat(fd.as_fd()).context("stat /dev/null")?;
    if !is_null_device(&st) {
        bail!("/dev/null in the container is not the null device");
    }
    Ok(fd)
}

fn file_kind(mode: libc::mode_t) -> SFlag {
    SFlag::from_bits_truncate(mode) & SFlag::S_IFMT
}
