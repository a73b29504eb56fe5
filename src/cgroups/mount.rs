//! A mount of type `cgroup` in config.json: the container's view of /sys/fs/cgroup. On a unified
//! host that is one cgroup2 mount; on v1 and hybrid hosts a tmpfs holding one mount per hierarchy
//! (as runc and crun build it). With a cgroup namespace the filesystems are mounted afresh (so
//! the container sees its own cgroup as the root); without one, its own directories are bound.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use anyhow::{Context, Result};
use nix::unistd::symlinkat;

use crate::cgroups::{CgroupDir, CgroupPaths};
use crate::linux::mount::{attach, bind_tree, new_fs, MountOptions};
use crate::linux::resolve::{ensure_in_root, Kind};
use crate::linux::sys::{self, MountAttr};

pub struct CgroupMount<'a> {
    pub paths: &'a CgroupPaths,
    /// The container has a cgroup namespace of its own.
    pub cgroupns: bool,
    /// The container or berth is in a user namespace (v1 cgroupfs cannot be mounted from one).
    pub userns: bool,
}

impl CgroupMount<'_> {
    /// Mounts on `target`, the destination `dest` already opened (and checked) in the rootfs.
    pub fn mount(&self, target: BorrowedFd, dest: &Path, opts: &MountOptions) -> Result<()> {
        if self.paths.unified_host {
            let dir = self.hierarchies().next().context("no cgroup2 directory")?;
            let controllers = dir.controllers.as_str();
            return self.mount_one(target, "cgroup2", controllers, &dir.full(), opts);
        }
        let tmpfs_opts = MountOptions {
            data: vec!["mode=755".to_owned()],
            ..MountOptions::default()
        };
        let writable = opts.fsmount_flags() & !libc::MOUNT_ATTR_RDONLY;
        let tmpfs = new_fs("tmpfs", Some("cgroup"), &tmpfs_opts, writable)?;
        attach(tmpfs.as_fd(), target, &tmpfs_opts)?;
        // Everything below is made in the new tmpfs itself, through its handle.
        for dir in self.hierarchies() {
            let name = dir.mount_name();
            let sub = dest.join(name);
            let fstype = if dir.is_v2() { "cgroup2" } else { "cgroup" };
            let mount_point = ensure_in_root(tmpfs.as_fd(), Path::new(name), Kind::Dir)?;
            self.mount_one(
                mount_point.as_fd(),
                fstype,
                &dir.controllers,
                &dir.full(),
                opts,
            )
            .with_context(|| format!("mount {}", sub.display()))?;
            if dir.controllers.contains(',') {
                for ctrl in dir.controllers.split(',') {
                    symlinkat(name, tmpfs.as_fd(), ctrl)
                        .with_context(|| format!("symlink {}/{ctrl}", dest.display()))?;
                }
            }
        }
        if opts.fsmount_flags() & libc::MOUNT_ATTR_RDONLY != 0 {
            let ro = MountAttr {
                set: libc::MOUNT_ATTR_RDONLY,
                ..MountAttr::default()
            };
            sys::mount_setattr(tmpfs.as_fd(), false, &ro)
                .context("make the cgroup tmpfs read-only")?;
        }
        Ok(())
    }

    /// The container's directories, and berth's own where a rootless container has none.
    fn hierarchies(&self) -> impl Iterator<Item = &CgroupDir> {
        self.paths.dirs.iter().chain(&self.paths.inherited)
    }

    fn mount_one(
        &self,
        target: BorrowedFd,
        fstype: &str,
        controllers: &str,
        host_dir: &Path,
        opts: &MountOptions,
    ) -> Result<()> {
        let fresh = self.cgroupns && (fstype == "cgroup2" || !self.userns);
        let tree = if fresh {
            let fs_opts = MountOptions {
                data: controllers
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect(),
                ..MountOptions::default()
            };
            new_fs(fstype, Some("cgroup"), &fs_opts, opts.fsmount_flags())?
        } else {
            bind_tree(host_dir, &opts.as_rbind(), None)?
        };
        attach(tree.as_fd(), target, opts)
    }
}
