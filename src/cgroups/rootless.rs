//! Rootless cgroups, as runc's cgroupfs managers treat them (`--rootless`, or any berth but the
//! host's root): when config.json names no cgroupsPath, a hierarchy where berth may not make the
//! container's directory is left out and the container stays in berth's own cgroup there; a
//! limit that needed one of those hierarchies fails the create: on v1 naming its controller, on
//! a pure cgroup2 host in runc's fs2 words with the denial itself.

use std::io::ErrorKind;

use anyhow::{bail, Result};
use oci_spec::runtime::LinuxResources;

use crate::cgroups::check::wanted;
use crate::cgroups::{detect, make, CgroupPaths};

/// runc's order of v1 subsystems: the first limit it cannot set is the one it names.
const RUNC_ORDER: &[&str] = &[
    "cpuset",
    "devices",
    "memory",
    "cpu",
    "cpuacct",
    "pids",
    "blkio",
    "hugetlb",
    "net_cls",
    "net_prio",
    "perf_event",
    "freezer",
    "rdma",
];

/// runc's fs2 words for limits without a cgroup of the container's own.
const FS2_NEEDS_NO_LIMITS: &str =
    "rootless needs no limits + no cgrouppath when no permission is granted for cgroups";

impl CgroupPaths {
    /// Makes every directory it may; those it may not (permission denied, a read-only cgroupfs)
    /// are left out, and the container's view of their hierarchy is berth's own cgroup. Fails
    /// when `r` needs a hierarchy left out.
    pub fn create_rootless(&mut self, r: &LinuxResources) -> Result<()> {
        let mut denied = Vec::new();
        let mut first_denial = None;
        for (i, dir) in self.dirs.iter().enumerate() {
            match make(&dir.full(), dir) {
                Ok(()) => {}
                Err(e) if is_denied(&e) => {
                    crate::logging::debug(format_args!("rootless: no cgroup of its own ({e:#})"));
                    denied.push(i);
                    first_denial.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        let Some(denial) = first_denial else {
            return Ok(());
        };
        if self.unified_host && !wanted(r).is_empty() {
            return Err(denial.context(FS2_NEEDS_NO_LIMITS));
        }
        let own = detect::hierarchies()?;
        for i in denied.into_iter().rev() {
            let mut dir = self.dirs.remove(i);
            if let Some(h) = own.iter().find(|h| h.controllers == dir.controllers) {
                dir.path = h.own_cgroup.clone();
                self.inherited.push(dir);
            }
        }
        let dirs = &self.dirs;
        self.created
            .retain(|p| dirs.iter().any(|d| d.full().starts_with(p)));
        self.check_rootless(r)
    }

    /// runc's "cannot set memory limit: container could not join or create cgroup": the
    /// resources need a controller whose hierarchy `create_rootless` left out.
    pub fn check_rootless(&self, r: &LinuxResources) -> Result<()> {
        if self.unified_host && !self.inherited.is_empty() && !wanted(r).is_empty() {
            bail!(FS2_NEEDS_NO_LIMITS);
        }
        let missing: Vec<&str> = wanted(r)
            .into_iter()
            .map(|(_, v1_name, _)| v1_name)
            .filter(|name| self.inherited.iter().any(|d| d.has(name)))
            .collect();
        let first = RUNC_ORDER
            .iter()
            .find(|name| missing.contains(name))
            .or(missing.first());
        if let Some(name) = first {
            bail!("cannot set {name} limit: container could not join or create cgroup");
        }
        Ok(())
    }
}

fn is_denied(err: &anyhow::Error) -> bool {
    err.root_cause()
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| {
            e.kind() == ErrorKind::PermissionDenied || e.raw_os_error() == Some(libc::EROFS)
        })
}
