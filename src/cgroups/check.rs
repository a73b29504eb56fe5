//! Which resources this host can enforce, checked by field before anything is made.

use anyhow::{bail, Context, Result};
use oci_spec::runtime::LinuxResources;

use crate::cgroups::files::hugepage_sizes;
use crate::cgroups::{devices, v2, CgroupPaths};

impl CgroupPaths {
    /// Where a controller lives: a v1 hierarchy, or the cgroup2 mount if that offers it.
    fn has_controller(&self, v1_name: &str, v2_name: Option<&str>) -> bool {
        if self.dirs.iter().any(|d| d.has(v1_name)) {
            return true;
        }
        match (v2_name, self.v2_dir()) {
            (Some(name), Some(d)) => v2::controllers(&d.mountpoint).iter().any(|c| c == name),
            _ => false,
        }
    }

    /// Rejects, by field, resources this host cannot enforce — before anything is made.
    pub fn check(&self, r: &LinuxResources) -> Result<()> {
        for (field, v1_name, v2_name) in wanted(r) {
            if !self.has_controller(v1_name, v2_name) {
                bail!(
                    "linux.resources.{field}: the {} controller is not available on this host",
                    v2_name.unwrap_or(v1_name)
                );
            }
        }
        let sizes = hugepage_sizes();
        for (i, l) in r.hugepage_limits().iter().flatten().enumerate() {
            if !sizes.contains(l.page_size()) {
                bail!(
                    "linux.resources.hugepageLimits[{i}].pageSize: {:?} is not one of this host's sizes {sizes:?}",
                    l.page_size()
                );
            }
        }
        if let Some(d) = r.devices() {
            devices::Policy::fold(&devices::rules(d)?).context("linux.resources.devices")?;
        }
        if self.unified_host {
            check_v2_only(r)?;
        } else if r.unified().as_ref().is_some_and(|u| !u.is_empty()) && self.v2_dir().is_none() {
            bail!("linux.resources.unified: invalid configuration: cannot use unified on cgroup v1 (this host has no cgroup2 hierarchy)");
        }
        if let Some(m) = r.memory() {
            if m.kernel().is_some() || m.kernel_tcp().is_some() {
                crate::logging::warn(
                    "linux.resources.memory.kernel and kernelTCP are ignored, as runc does",
                );
            }
        }
        Ok(())
    }
}

/// (field, v1 controller, v2 controller) for every resource group the config sets.
pub(super) fn wanted(
    r: &LinuxResources,
) -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    let mut out = Vec::new();
    if r.memory().is_some() {
        out.push(("memory", "memory", Some("memory")));
    }
    if let Some(c) = r.cpu() {
        let scheduling = c.shares().is_some()
            || c.quota().is_some()
            || c.period().is_some()
            || c.burst().is_some()
            || c.idle().is_some()
            || c.realtime_runtime().is_some()
            || c.realtime_period().is_some();
        if scheduling {
            out.push(("cpu", "cpu", Some("cpu")));
        }
        if c.cpus().as_ref().is_some_and(|s| !s.is_empty())
            || c.mems().as_ref().is_some_and(|s| !s.is_empty())
        {
            out.push(("cpu.cpus", "cpuset", Some("cpuset")));
        }
    }
    if r.pids().is_some() {
        out.push(("pids", "pids", Some("pids")));
    }
    if r.block_io().is_some() {
        out.push(("blockIO", "blkio", Some("io")));
    }
    if r.hugepage_limits().as_ref().is_some_and(|h| !h.is_empty()) {
        out.push(("hugepageLimits", "hugetlb", Some("hugetlb")));
    }
    if let Some(n) = r.network() {
        if n.class_id().is_some() {
            out.push(("network.classID", "net_cls", None));
        }
        if n.priorities().as_ref().is_some_and(|p| !p.is_empty()) {
            out.push(("network.priorities", "net_prio", None));
        }
    }
    if r.rdma().as_ref().is_some_and(|m| !m.is_empty()) {
        out.push(("rdma", "rdma", Some("rdma")));
    }
    out
}

/// Fields that have no cgroup2 equivalent: refused rather than dropped.
fn check_v2_only(r: &LinuxResources) -> Result<()> {
    let unsupported =
        |field: &str| anyhow::anyhow!("linux.resources.{field}: not supported on cgroup v2");
    if let Some(m) = r.memory() {
        if m.swappiness().is_some() {
            return Err(unsupported("memory.swappiness"));
        }
        if m.disable_oom_killer() == Some(true) {
            return Err(unsupported("memory.disableOOMKiller"));
        }
        if m.use_hierarchy() == Some(false) {
            return Err(unsupported(
                "memory.useHierarchy (v2 is always hierarchical)",
            ));
        }
    }
    if let Some(c) = r.cpu() {
        if c.realtime_runtime().is_some_and(|v| v != 0)
            || c.realtime_period().is_some_and(|v| v != 0)
        {
            return Err(unsupported("cpu.realtimeRuntime"));
        }
    }
    if let Some(b) = r.block_io() {
        if b.leaf_weight().is_some()
            || b.weight_device()
                .iter()
                .flatten()
                .any(|d| d.leaf_weight().is_some())
        {
            return Err(unsupported("blockIO.leafWeight"));
        }
    }
    Ok(())
}
