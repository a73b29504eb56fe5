//! cgroup v1: each hierarchy's directory gets the files of the controllers mounted there.

use std::path::Path;

use anyhow::{bail, Result};
use oci_spec::runtime::{
    LinuxBlockIo, LinuxCpu, LinuxHugepageLimit, LinuxMemory, LinuxNetwork, LinuxResources,
};

use crate::cgroups::devices::{self, Policy};
use crate::cgroups::files::{hugepage_sizes, rdma_lines, read, write, write_before_quota};
use crate::cgroups::stats::{self, BlkioEntry, MemoryEntry, Stats};
use crate::cgroups::CgroupDir;

/// Writes the resources of every controller this hierarchy carries.
pub fn apply(
    dir: &CgroupDir,
    r: &LinuxResources,
    devices: Option<&Policy>,
    update: bool,
) -> Result<()> {
    let path = dir.full();
    for ctrl in dir.controllers.split(',') {
        match ctrl {
            "memory" => memory(&path, r.memory().as_ref(), update)?,
            "cpu" => cpu(&path, r.cpu().as_ref())?,
            "cpuset" => cpuset(&path, r.cpu().as_ref())?,
            "pids" => {
                if let Some(p) = r.pids().as_ref().filter(|p| p.limit() != 0) {
                    let limit = if p.limit() > 0 {
                        p.limit().to_string()
                    } else {
                        "max".to_owned()
                    };
                    write(&path, "pids.max", &limit)?;
                }
            }
            "blkio" => blkio(&path, r.block_io().as_ref())?,
            "hugetlb" => hugetlb(&path, r.hugepage_limits().as_deref().unwrap_or(&[]))?,
            "net_cls" => {
                if let Some(id) = r.network().as_ref().and_then(LinuxNetwork::class_id) {
                    write(&path, "net_cls.classid", &id.to_string())?;
                }
            }
            "net_prio" => {
                for p in r
                    .network()
                    .iter()
                    .flat_map(|n| n.priorities().iter().flatten())
                {
                    write(
                        &path,
                        "net_prio.ifpriomap",
                        &format!("{} {}", p.name(), p.priority()),
                    )?;
                }
            }
            "rdma" => {
                for line in rdma_lines(r) {
                    write(&path, "rdma.max", &line)?;
                }
            }
            // In a user namespace the device list is not berth's to write (runc skips it there
            // too): a rootless container can make no device node to reach anyway.
            "devices" if !crate::linux::rootless::running_in_userns() => {
                if let Some(policy) = devices {
                    devices::apply_v1(&path, policy)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn memory(path: &Path, m: Option<&LinuxMemory>, update: bool) -> Result<()> {
    let Some(m) = m else { return Ok(()) };
    let limit = m.limit().filter(|v| *v != 0);
    let memsw = path.join("memory.memsw.limit_in_bytes").exists();
    // runc: an unlimited memory with no swap given lifts the swap limit as well (where the kernel
    // accounts swap) — the kernel keeps memsw >= limit, so a limited memsw would refuse it.
    let swap = match (limit, m.swap().filter(|v| *v != 0)) {
        (Some(-1), None) if memsw => Some(-1),
        (_, swap) => swap,
    };
    if let (true, Some(true), Some(limit)) = (update, m.check_before_update(), limit) {
        let usage = stats::number(&read(path, "memory.usage_in_bytes")?);
        if limit > 0 && usage > limit as u64 {
            bail!("linux.resources.memory.limit: {limit} is below the current usage {usage}");
        }
    }
    if swap.is_some() && !memsw {
        bail!("linux.resources.memory.swap: this kernel does not account swap (memory.memsw files missing)");
    }
    let set_limit = |v: i64| write(path, "memory.limit_in_bytes", &v.to_string());
    let set_swap = |v: i64| write(path, "memory.memsw.limit_in_bytes", &v.to_string());
    match (limit, swap) {
        (Some(l), Some(s)) => {
            // The kernel keeps memsw >= limit at every step: order the writes so it holds.
            let current = stats::number(&read(path, "memory.limit_in_bytes")?);
            if s == -1 || current < s as u64 {
                set_swap(s)?;
                set_limit(l)?;
            } else {
                set_limit(l)?;
                set_swap(s)?;
            }
        }
        (Some(l), None) => set_limit(l)?,
        (None, Some(s)) => set_swap(s)?,
        (None, None) => {}
    }
    if let Some(v) = m.reservation().filter(|v| *v != 0) {
        write(path, "memory.soft_limit_in_bytes", &v.to_string())?;
    }
    if let Some(v) = m.swappiness() {
        if v > 100 {
            bail!("linux.resources.memory.swappiness: {v} is above 100");
        }
        write(path, "memory.swappiness", &v.to_string())?;
    }
    if m.disable_oom_killer() == Some(true) {
        write(path, "memory.oom_control", "1")?;
    }
    if let Some(h) = m.use_hierarchy() {
        write(path, "memory.use_hierarchy", if h { "1" } else { "0" })?;
    }
    Ok(())
}

fn cpu(path: &Path, c: Option<&LinuxCpu>) -> Result<()> {
    let Some(c) = c else { return Ok(()) };
    if let Some(v) = c.shares().filter(|v| *v != 0) {
        write(path, "cpu.shares", &v.to_string())?;
    }
    // runc's order (fs/cpu.go): period and burst before the quota, and again after it when the
    // kernel refused them against the old quota (a lower period under a parent's limit, a burst
    // above the old quota).
    let quota = c.quota().filter(|v| *v != 0);
    let period = c.period().filter(|v| *v != 0).map(|v| v.to_string());
    let deferred = [
        write_before_quota(path, "cpu.cfs_period_us", period, quota.is_some())?,
        write_before_quota(
            path,
            "cpu.cfs_burst_us",
            c.burst().map(|v| v.to_string()),
            quota.is_some(),
        )?,
    ];
    if let Some(v) = quota {
        write(path, "cpu.cfs_quota_us", &v.to_string())?;
        for (file, value) in deferred.into_iter().flatten() {
            write(path, file, &value)?;
        }
    }
    if let Some(v) = c.realtime_period().filter(|v| *v != 0) {
        write(path, "cpu.rt_period_us", &v.to_string())?;
    }
    if let Some(v) = c.realtime_runtime().filter(|v| *v != 0) {
        write(path, "cpu.rt_runtime_us", &v.to_string())?;
    }
    if let Some(v) = c.idle() {
        write(path, "cpu.idle", &v.to_string())?;
    }
    Ok(())
}

fn cpuset(path: &Path, c: Option<&LinuxCpu>) -> Result<()> {
    let Some(c) = c else { return Ok(()) };
    if let Some(v) = c.cpus().as_deref().filter(|v| !v.is_empty()) {
        write(path, "cpuset.cpus", v)?;
    }
    if let Some(v) = c.mems().as_deref().filter(|v| !v.is_empty()) {
        write(path, "cpuset.mems", v)?;
    }
    Ok(())
}

/// blkio.weight is gone with CFQ; BFQ's blkio.bfq.weight takes its place.
fn weight_file(path: &Path, name: &str) -> String {
    if path.join(format!("blkio.{name}")).exists() {
        format!("blkio.{name}")
    } else {
        format!("blkio.bfq.{name}")
    }
}

fn blkio(path: &Path, b: Option<&LinuxBlockIo>) -> Result<()> {
    let Some(b) = b else { return Ok(()) };
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        write(path, &weight_file(path, "weight"), &w.to_string())?;
    }
    if let Some(w) = b.leaf_weight().filter(|w| *w != 0) {
        write(path, "blkio.leaf_weight", &w.to_string())?;
    }
    for d in b.weight_device().iter().flatten() {
        if let Some(w) = d.weight() {
            let line = format!("{}:{} {w}", d.major(), d.minor());
            write(path, &weight_file(path, "weight_device"), &line)?;
        }
        if let Some(w) = d.leaf_weight() {
            write(
                path,
                "blkio.leaf_weight_device",
                &format!("{}:{} {w}", d.major(), d.minor()),
            )?;
        }
    }
    let throttles = [
        (
            "blkio.throttle.read_bps_device",
            b.throttle_read_bps_device(),
        ),
        (
            "blkio.throttle.write_bps_device",
            b.throttle_write_bps_device(),
        ),
        (
            "blkio.throttle.read_iops_device",
            b.throttle_read_iops_device(),
        ),
        (
            "blkio.throttle.write_iops_device",
            b.throttle_write_iops_device(),
        ),
    ];
    for (file, devices) in throttles {
        for d in devices.iter().flatten() {
            write(
                path,
                file,
                &format!("{}:{} {}", d.major(), d.minor(), d.rate()),
            )?;
        }
    }
    Ok(())
}

fn hugetlb(path: &Path, limits: &[LinuxHugepageLimit]) -> Result<()> {
    for l in limits {
        let size = l.page_size();
        write(
            path,
            &format!("hugetlb.{size}.limit_in_bytes"),
            &l.limit().to_string(),
        )?;
        let rsvd = format!("hugetlb.{size}.rsvd.limit_in_bytes");
        if path.join(&rsvd).exists() {
            write(path, &rsvd, &l.limit().to_string())?;
        }
    }
    Ok(())
}

/// Freezes or thaws the hierarchy (if it is the freezer) and waits until the kernel is done.
pub fn set_frozen(dir: &CgroupDir, frozen: bool) -> Result<()> {
    if !dir.has("freezer") {
        return Ok(());
    }
    let path = dir.full();
    let want = if frozen { "FROZEN" } else { "THAWED" };
    for attempt in 0..2000 {
        // Tasks that fork while freezing can leave it FREEZING: asking again moves it on.
        if attempt % 50 == 0 {
            write(&path, "freezer.state", want)?;
        }
        if read(&path, "freezer.state")?.trim() == want {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    bail!("freezer of {} did not reach {want}", path.display())
}

/// Fills what this hierarchy knows into `s`.
pub fn stats(dir: &CgroupDir, s: &mut Stats) -> Result<()> {
    let path = dir.full();
    for ctrl in dir.controllers.split(',') {
        match ctrl {
            "cpuacct" => cpuacct_stats(&path, s)?,
            "cpu" => {
                let kv = stats::key_values(&read(&path, "cpu.stat")?);
                s.cpu.throttling.periods = kv.get("nr_periods").copied().unwrap_or(0);
                s.cpu.throttling.throttled_periods = kv.get("nr_throttled").copied().unwrap_or(0);
                s.cpu.throttling.throttled_time = kv.get("throttled_time").copied().unwrap_or(0);
            }
            "cpuset" => {
                s.cpuset.cpus = stats::id_list(&read(&path, "cpuset.cpus")?);
                s.cpuset.mems = stats::id_list(&read(&path, "cpuset.mems")?);
            }
            "memory" => memory_stats(&path, s)?,
            "pids" => {
                s.pids.current = stats::number(&read(&path, "pids.current")?);
                s.pids.limit = match stats::number(&read(&path, "pids.max")?) {
                    u64::MAX => 0,
                    n => n,
                };
            }
            "blkio" => {
                let prefix = if path
                    .join("blkio.throttle.io_service_bytes_recursive")
                    .exists()
                {
                    "blkio.throttle"
                } else {
                    "blkio.bfq"
                };
                s.blkio.io_service_bytes_recursive = blkio_entries(&read(
                    &path,
                    &format!("{prefix}.io_service_bytes_recursive"),
                )?);
                s.blkio.io_serviced_recursive =
                    blkio_entries(&read(&path, &format!("{prefix}.io_serviced_recursive"))?);
            }
            "hugetlb" => {
                for size in hugepage_sizes() {
                    let e = s.hugetlb.entry(size.clone()).or_default();
                    e.usage =
                        stats::number(&read(&path, &format!("hugetlb.{size}.usage_in_bytes"))?);
                    e.max =
                        stats::number(&read(&path, &format!("hugetlb.{size}.max_usage_in_bytes"))?);
                    e.failcnt = stats::number(&read(&path, &format!("hugetlb.{size}.failcnt"))?);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn cpuacct_stats(path: &Path, s: &mut Stats) -> Result<()> {
    s.cpu.usage.total = stats::number(&read(path, "cpuacct.usage")?);
    s.cpu.usage.percpu = numbers(&read(path, "cpuacct.usage_percpu")?);
    s.cpu.usage.percpu_kernel =
        numbers(&read(path, "cpuacct.usage_percpu_sys").unwrap_or_default());
    s.cpu.usage.percpu_user = numbers(&read(path, "cpuacct.usage_percpu_user").unwrap_or_default());
    // cpuacct.stat counts clock ticks; runc reports nanoseconds.
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let kv = stats::key_values(&read(path, "cpuacct.stat")?);
    s.cpu.usage.user = kv.get("user").copied().unwrap_or(0) * 1_000_000_000 / hz;
    s.cpu.usage.kernel = kv.get("system").copied().unwrap_or(0) * 1_000_000_000 / hz;
    Ok(())
}

fn numbers(text: &str) -> Vec<u64> {
    text.split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect()
}

fn memory_entry(path: &Path, prefix: &str) -> MemoryEntry {
    let get = |f: &str| {
        read(path, &format!("{prefix}.{f}"))
            .map(|t| stats::number(&t))
            .unwrap_or(0)
    };
    MemoryEntry {
        limit: get("limit_in_bytes"),
        usage: get("usage_in_bytes"),
        max: get("max_usage_in_bytes"),
        failcnt: get("failcnt"),
    }
}

fn memory_stats(path: &Path, s: &mut Stats) -> Result<()> {
    s.memory.raw = stats::key_values(&read(path, "memory.stat")?);
    s.memory.cache = s.memory.raw.get("cache").copied().unwrap_or(0);
    s.memory.usage = memory_entry(path, "memory");
    s.memory.swap = memory_entry(path, "memory.memsw");
    s.memory.kernel = memory_entry(path, "memory.kmem");
    s.memory.kernel_tcp = memory_entry(path, "memory.kmem.tcp");
    let oom = stats::key_values(&read(path, "memory.oom_control")?);
    s.memory.event_count.oom_kill = oom.get("oom_kill").copied().unwrap_or(0);
    s.memory.event_count.max = s.memory.usage.failcnt;
    Ok(())
}

/// "8:0 Read 4096" lines (the "Total" line has no device and is skipped).
fn blkio_entries(text: &str) -> Vec<BlkioEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let [dev, op, value] = f.as_slice() else {
                return None;
            };
            let (major, minor) = dev.split_once(':')?;
            Some(BlkioEntry {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                op: (*op).to_owned(),
                value: value.parse().ok()?,
            })
        })
        .collect()
}

/// The OOM-kill count (memory.oom_control's oom_kill line).
pub fn oom_kills(dir: &CgroupDir) -> Option<u64> {
    dir.has("memory").then(|| {
        let text = read(&dir.full(), "memory.oom_control").unwrap_or_default();
        stats::key_values(&text)
            .get("oom_kill")
            .copied()
            .unwrap_or(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blkio_lines() {
        let e = blkio_entries("8:0 Read 4096\n8:0 Write 0\nTotal 4096\n");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].op, "Read");
        assert_eq!(e[0].value, 4096);
    }
}
