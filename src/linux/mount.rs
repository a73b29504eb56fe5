//! OCI mount options and the fd-based mount primitives built on them. Every mount is made detached
//! (`open_tree` for binds, `fsopen`/`fsmount` for filesystems), adjusted with `mount_setattr`, and
//! attached with `move_mount` onto a handle resolved inside the rootfs — never through a path.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use crate::linux::sys::{self, MountAttr};

/// One `options` array of a mount, sorted into what each system call needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MountOptions {
    pub bind: bool,
    pub recursive: bool,
    /// Attributes for the mount itself (`ro`, `nosuid`, …).
    pub attr: MountAttr,
    /// Attributes for the mount and every mount below it (`rro`, `rnosuid`, …).
    pub rec_attr: MountAttr,
    /// Propagation type and whether it applies recursively.
    pub propagation: Option<(u64, bool)>,
    /// Superblock flags given to the filesystem (`sync`, `dirsync`, `lazytime`, `mand`).
    pub sb_flags: Vec<String>,
    /// Everything else: filesystem parameters such as `mode=755` or `newinstance`.
    pub data: Vec<String>,
    /// `idmap` / `ridmap`: Some(recursive).
    pub idmap: Option<bool>,
    pub tmpcopyup: bool,
    pub remount: bool,
}

const ATIME_MASK: u64 = libc::MOUNT_ATTR__ATIME;

/// Every option berth gives a meaning to (anything else is passed to the filesystem as data);
/// `features` reports this list.
pub const KNOWN_OPTIONS: &[&str] = &[
    "async",
    "atime",
    "bind",
    "defaults",
    "dev",
    "diratime",
    "dirsync",
    "exec",
    "idmap",
    "iversion",
    "lazytime",
    "loud",
    "mand",
    "noatime",
    "nodev",
    "nodiratime",
    "noexec",
    "noiversion",
    "nolazytime",
    "nomand",
    "norelatime",
    "nostrictatime",
    "nosuid",
    "nosymfollow",
    "private",
    "ratime",
    "rbind",
    "rdev",
    "rdiratime",
    "relatime",
    "remount",
    "rexec",
    "ridmap",
    "rnoatime",
    "rnodev",
    "rnodiratime",
    "rnoexec",
    "rnorelatime",
    "rnostrictatime",
    "rnosuid",
    "rnosymfollow",
    "ro",
    "rprivate",
    "rrelatime",
    "rro",
    "rrw",
    "rshared",
    "rslave",
    "rstrictatime",
    "rsuid",
    "rsymfollow",
    "runbindable",
    "rw",
    "shared",
    "silent",
    "slave",
    "strictatime",
    "suid",
    "symfollow",
    "sync",
    "tmpcopyup",
    "unbindable",
];

impl MountOptions {
    pub fn parse(options: &[String]) -> Self {
        let mut o = MountOptions::default();
        for opt in options {
            o.apply(opt);
        }
        o
    }

    fn apply(&mut self, opt: &str) {
        use libc::{
            MOUNT_ATTR_NOATIME as NOATIME, MOUNT_ATTR_NODEV as NODEV,
            MOUNT_ATTR_NODIRATIME as NODIRATIME, MOUNT_ATTR_NOEXEC as NOEXEC,
            MOUNT_ATTR_NOSUID as NOSUID, MOUNT_ATTR_NOSYMFOLLOW as NOSYMFOLLOW,
            MOUNT_ATTR_RDONLY as RDONLY, MOUNT_ATTR_RELATIME as RELATIME,
            MOUNT_ATTR_STRICTATIME as STRICTATIME,
        };
        let (recursive, name) = match opt.strip_prefix('r') {
            Some(rest) if is_attr_option(rest) => (true, rest),
            _ => (false, opt),
        };
        let attr = if recursive {
            &mut self.rec_attr
        } else {
            &mut self.attr
        };
        let set = |a: &mut MountAttr, bits: u64| {
            a.set |= bits;
            a.clear &= !bits;
        };
        match name {
            "ro" => set(attr, RDONLY),
            "rw" => unset(attr, RDONLY),
            "nosuid" => set(attr, NOSUID),
            "suid" => unset(attr, NOSUID),
            "nodev" => set(attr, NODEV),
            "dev" => unset(attr, NODEV),
            "noexec" => set(attr, NOEXEC),
            "exec" => unset(attr, NOEXEC),
            "nodiratime" => set(attr, NODIRATIME),
            "diratime" => unset(attr, NODIRATIME),
            "nosymfollow" => set(attr, NOSYMFOLLOW),
            "symfollow" => unset(attr, NOSYMFOLLOW),
            "noatime" | "strictatime" | "relatime" | "atime" | "nostrictatime" | "norelatime"
                if recursive =>
            {
                recursive_atime(attr, name)
            }
            "noatime" => atime(attr, NOATIME),
            "strictatime" => atime(attr, STRICTATIME),
            "relatime" | "atime" | "nostrictatime" => atime(attr, RELATIME),
            "norelatime" => atime(attr, STRICTATIME),
            _ => self.apply_other(opt),
        }
    }

    fn apply_other(&mut self, opt: &str) {
        match opt {
            "defaults" | "async" | "nomand" | "nolazytime" | "loud" | "silent" | "iversion"
            | "noiversion" => {}
            "bind" => self.bind = true,
            "rbind" => {
                self.bind = true;
                self.recursive = true;
            }
            "sync" | "dirsync" | "mand" | "lazytime" => self.sb_flags.push(opt.to_owned()),
            "private" => self.propagation = Some((libc::MS_PRIVATE, false)),
            "rprivate" => self.propagation = Some((libc::MS_PRIVATE, true)),
            "shared" => self.propagation = Some((libc::MS_SHARED, false)),
            "rshared" => self.propagation = Some((libc::MS_SHARED, true)),
            "slave" => self.propagation = Some((libc::MS_SLAVE, false)),
            "rslave" => self.propagation = Some((libc::MS_SLAVE, true)),
            "unbindable" => self.propagation = Some((libc::MS_UNBINDABLE, false)),
            "runbindable" => self.propagation = Some((libc::MS_UNBINDABLE, true)),
            "idmap" => self.idmap = Some(false),
            "ridmap" => self.idmap = Some(true),
            "tmpcopyup" => self.tmpcopyup = true,
            "remount" => self.remount = true,
            _ => self.data.push(opt.to_owned()),
        }
    }

    /// A recursive bind carrying these options' attributes (where a bind stands in for a
    /// filesystem that cannot be mounted afresh).
    pub fn as_rbind(&self) -> MountOptions {
        MountOptions {
            bind: true,
            recursive: true,
            attr: self.attr,
            rec_attr: self.rec_attr,
            ..MountOptions::default()
        }
    }

    /// The attribute flags a fresh filesystem mount is created with.
    pub fn fsmount_flags(&self) -> u64 {
        (self.attr.set | self.rec_attr.set) & !ATIME_MASK | self.atime_bits()
    }

    fn atime_bits(&self) -> u64 {
        [&self.rec_attr, &self.attr]
            .iter()
            .filter(|a| a.clear & ATIME_MASK == ATIME_MASK)
            .map(|a| a.set & ATIME_MASK)
            .next_back()
            .unwrap_or(0)
    }
}

fn unset(a: &mut MountAttr, bits: u64) {
    a.clear |= bits;
    a.set &= !bits;
}

fn atime(a: &mut MountAttr, bits: u64) {
    a.clear |= ATIME_MASK;
    a.set = (a.set & !ATIME_MASK) | bits;
}

/// The recursive access-time options as runc reads them (specconv's recAttrFlags, with the fix
/// of runc 1.3.x/1.4.1 that always replaces the whole field): `rnoatime` and `rstrictatime` add
/// their mode to attr_set, `ratime` and `rnostrictatime` take theirs away, and `rrelatime` and
/// `rnorelatime` change nothing there, relatime being 0 in the kernel's enumeration. What is
/// left becomes the mode of the mount and of every mount below it — relatime when nothing is.
/// So an earlier mode is not replaced: `rnoatime,rrelatime` stays noatime, and
/// `rnoatime,rstrictatime` asks for two modes, which mount_setattr refuses (EINVAL), as runc's.
fn recursive_atime(a: &mut MountAttr, name: &str) {
    use libc::{MOUNT_ATTR_NOATIME as NOATIME, MOUNT_ATTR_STRICTATIME as STRICTATIME};
    match name {
        "noatime" => a.set |= NOATIME,
        "strictatime" => a.set |= STRICTATIME,
        "atime" => a.set &= !NOATIME,
        "nostrictatime" => a.set &= !STRICTATIME,
        _ => {}
    }
    // mount_setattr changes the mode only as a whole: every bit of the field in attr_clr.
    a.clear |= ATIME_MASK;
}

fn is_attr_option(name: &str) -> bool {
    matches!(
        name,
        "ro" | "rw"
            | "nosuid"
            | "suid"
            | "nodev"
            | "dev"
            | "noexec"
            | "exec"
            | "nodiratime"
            | "diratime"
            | "noatime"
            | "atime"
            | "relatime"
            | "norelatime"
            | "strictatime"
            | "nostrictatime"
            | "nosymfollow"
            | "symfollow"
    )
}

/// A detached copy of the mount tree at `source` (a host path), with the options applied.
pub fn bind_tree(
    source: &Path,
    opts: &MountOptions,
    userns: Option<BorrowedFd>,
) -> Result<OwnedFd> {
    let src = open(source, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
        .with_context(|| format!("bind {}", source.display()))?;
    bind_tree_of(src.as_fd(), opts, userns).with_context(|| format!("bind {}", source.display()))
}

/// A detached copy of the mount tree at the handle `source`, with the options applied.
pub fn bind_tree_of(
    source: BorrowedFd,
    opts: &MountOptions,
    userns: Option<BorrowedFd>,
) -> Result<OwnedFd> {
    let tree = bind_fd(source, opts.recursive)?;
    set_tree_attrs(tree.as_fd(), opts, userns)?;
    Ok(tree)
}

/// A detached copy of the mount that `fd` refers to (e.g. the container's /dev/null or a pty).
pub fn bind_fd(fd: BorrowedFd, recursive: bool) -> nix::Result<OwnedFd> {
    let mut flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    sys::open_tree(std::os::fd::AsRawFd::as_raw_fd(&fd), "", flags)
}

/// Applies attributes (and an id-mapping) to a mount tree that is not attached yet.
pub fn set_tree_attrs(
    tree: BorrowedFd,
    opts: &MountOptions,
    userns: Option<BorrowedFd>,
) -> Result<()> {
    sys::mount_setattr(tree, false, &opts.attr).context("set mount attributes")?;
    sys::mount_setattr(tree, true, &opts.rec_attr).context("set recursive mount attributes")?;
    if let (Some(recursive), Some(ns)) = (opts.idmap, userns) {
        let idmap = MountAttr {
            set: libc::MOUNT_ATTR_IDMAP,
            userns_fd: Some(std::os::fd::AsRawFd::as_raw_fd(&ns)),
            ..MountAttr::default()
        };
        sys::mount_setattr(tree, recursive, &idmap).context("id-map the mount")?;
    }
    Ok(())
}

/// A new, detached filesystem mount of `fstype`.
pub fn new_fs(
    fstype: &str,
    source: Option<&str>,
    opts: &MountOptions,
    attr_flags: u64,
) -> Result<OwnedFd> {
    let fs = sys::fsopen(fstype).with_context(|| format!("fsopen {fstype}"))?;
    // The errno stays the root cause: callers look at it (an EPERM sysfs in a user namespace).
    let explain = |e: Errno, what: &str| {
        let err = anyhow::Error::new(e);
        match sys::fs_context_message(fs.as_fd()) {
            Some(msg) => err.context(format!("{fstype}: {what}: {msg}")),
            None => err.context(format!("{fstype}: {what}")),
        }
    };
    if let Some(src) = source.filter(|s| !s.is_empty()) {
        sys::fsconfig_set_string(fs.as_fd(), "source", src).map_err(|e| explain(e, "source"))?;
    }
    for flag in &opts.sb_flags {
        sys::fsconfig_set_flag(fs.as_fd(), flag).map_err(|e| explain(e, flag))?;
    }
    for param in &opts.data {
        let res = match param.split_once('=') {
            Some((k, v)) => sys::fsconfig_set_string(fs.as_fd(), k, v),
            None => sys::fsconfig_set_flag(fs.as_fd(), param),
        };
        res.map_err(|e| explain(e, param))?;
    }
    sys::fsconfig_create(fs.as_fd()).map_err(|e| explain(e, "create"))?;
    sys::fsmount(fs.as_fd(), attr_flags).map_err(|e| explain(e, "mount"))
}

/// Attaches a detached mount on top of `target`, then applies the propagation type.
pub fn attach(tree: BorrowedFd, target: BorrowedFd, opts: &MountOptions) -> Result<()> {
    sys::move_mount(tree, target).context("move_mount")?;
    if let Some((propagation, recursive)) = opts.propagation {
        let attr = MountAttr {
            propagation,
            ..MountAttr::default()
        };
        sys::mount_setattr(tree, recursive, &attr).context("set mount propagation")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(opts: &[&str]) -> MountOptions {
        MountOptions::parse(&opts.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn sorts_flags_data_and_propagation() {
        let o = parse(&["nosuid", "strictatime", "mode=755", "size=65536k", "rslave"]);
        assert_eq!(
            o.attr.set,
            libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_STRICTATIME
        );
        assert_eq!(o.data, ["mode=755", "size=65536k"]);
        assert_eq!(o.propagation, Some((libc::MS_SLAVE, true)));
        assert!(!o.bind);
        assert_eq!(
            o.fsmount_flags(),
            libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_STRICTATIME
        );
    }

    #[test]
    fn recursive_attributes_and_binds() {
        let o = parse(&["rbind", "rro", "nosuid", "rw", "ridmap"]);
        assert!(o.bind && o.recursive);
        assert_eq!(o.rec_attr.set, libc::MOUNT_ATTR_RDONLY);
        assert_eq!(o.attr.set, libc::MOUNT_ATTR_NOSUID);
        assert_eq!(o.attr.clear, libc::MOUNT_ATTR_RDONLY);
        assert_eq!(o.idmap, Some(true));
    }

    #[test]
    fn every_known_option_has_a_meaning() {
        for opt in KNOWN_OPTIONS {
            assert!(parse(&[opt]).data.is_empty(), "{opt} is passed on as data");
        }
    }

    /// The access-time mode a list's recursive attributes ask for, and whether they replace the
    /// whole field (as mount_setattr needs to change it).
    fn recursive_atime_of(opts: &[&str]) -> (u64, bool) {
        let a = parse(opts).rec_attr;
        (a.set & ATIME_MASK, a.clear & ATIME_MASK == ATIME_MASK)
    }

    #[test]
    fn recursive_atime_options_ask_for_runcs_mode() {
        use libc::{
            MOUNT_ATTR_NOATIME as NOATIME, MOUNT_ATTR_RELATIME as RELATIME,
            MOUNT_ATTR_STRICTATIME as STRICTATIME,
        };
        let cases: &[(&[&str], u64)] = &[
            (&["rnoatime"], NOATIME),
            (&["rstrictatime"], STRICTATIME),
            (&["rrelatime"], RELATIME),
            (&["ratime"], RELATIME),
            (&["rnostrictatime"], RELATIME),
            (&["rnorelatime"], RELATIME),
            // What an option takes away goes; a mode set earlier stays (relatime is 0).
            (&["rnoatime", "ratime"], RELATIME),
            (&["rstrictatime", "rnostrictatime"], RELATIME),
            (&["rnoatime", "rrelatime"], NOATIME),
            (&["rnoatime", "rnorelatime"], NOATIME),
            (&["rnoatime", "rnostrictatime"], NOATIME),
            (&["rstrictatime", "ratime"], STRICTATIME),
            // Two modes: mount_setattr's EINVAL, as with runc.
            (&["rnoatime", "rstrictatime"], NOATIME | STRICTATIME),
        ];
        for (opts, mode) in cases {
            assert_eq!(recursive_atime_of(opts), (*mode, true), "{opts:?}");
        }
        assert_eq!(recursive_atime_of(&["rnodiratime", "rro"]), (0, false));
        // The flat options keep their own reading: the later one wins.
        let o = parse(&["noatime", "norelatime", "rnorelatime"]);
        assert_eq!(o.attr.set, libc::MOUNT_ATTR_STRICTATIME);
        assert_eq!(o.attr.clear, ATIME_MASK);
        assert_eq!(o.fsmount_flags(), libc::MOUNT_ATTR_STRICTATIME);
        assert_eq!(parse(&["rnorelatime"]).fsmount_flags(), RELATIME);
    }

    #[test]
    fn later_options_win() {
        let o = parse(&["ro", "rw", "noexec", "exec", "newinstance", "sync"]);
        assert_eq!(o.attr.set, 0);
        assert_eq!(
            o.attr.clear,
            libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOEXEC
        );
        assert_eq!(o.data, ["newinstance"]);
        assert_eq!(o.sb_flags, ["sync"]);
    }
}
