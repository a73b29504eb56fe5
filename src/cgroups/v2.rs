//! cgroup v2: one directory, the controllers its parent delegates, devices by eBPF.

use std::fs;
use std::os::fd::AsFd;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources};

use crate::cgroups::convert::{blkio_weight_to_io_weight, shares_to_weight, swap_to_v2, v2_limit};
use crate::cgroups::devices::Policy;
use crate::cgroups::files::{hugepage_sizes, rdma_lines, read, write, write_before_quota};
use crate::cgroups::stats::{self, BlkioEntry, Stats};
use crate::cgroups::{ebpf, CgroupDir};

/// The controllers available in `dir` (its cgroup.controllers).
pub fn controllers(dir: &Path) -> Vec<String> {
    read(dir, "cgroup.controllers")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Delegates every controller the hierarchy has down to `dir`: each ancestor below the mount
/// point enables in cgroup.subtree_control what its own cgroup.controllers offers. As runc, all
/// at once, else one by one, and what a parent refuses stays off — the ancestors of a subtree
/// systemd delegates to a user are not the user's to write; a limit that needs a controller
/// left off fails by name afterwards (`require_controllers`).
pub fn enable_controllers(dir: &CgroupDir) {
    let full = dir.full();
    let mut chain: Vec<&Path> = full
        .ancestors()
        .take_while(|p| p.starts_with(&dir.mountpoint))
        .collect();
    chain.reverse();
    // Every ancestor, not the container's own directory (a leaf keeps its processes).
    for parent in &chain[..chain.len().saturating_sub(1)] {
        let available = controllers(parent);
        let enabled = read(parent, "cgroup.subtree_control").unwrap_or_default();
        let missing: Vec<String> = available
            .iter()
            .filter(|c| !enabled.split_whitespace().any(|e| e == c.as_str()))
            .map(|c| format!("+{c}"))
            .collect();
        if !missing.is_empty()
            && write(parent, "cgroup.subtree_control", &missing.join(" ")).is_err()
        {
            for c in &missing {
                let _ = write(parent, "cgroup.subtree_control", c);
            }
        }
    }
}

/// Each (resource field, controller) must find its controller in `dir`'s cgroup.controllers.
pub fn require_controllers<'a>(
    dir: &CgroupDir,
    wanted: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<()> {
    let full = dir.full();
    let have = controllers(&full);
    for (field, controller) in wanted {
        if !have.iter().any(|c| c == controller) {
            bail!(
                "linux.resources.{field}: the {controller} controller is not enabled in {} (its parent does not delegate it)",
                full.display()
            );
        }
    }
    Ok(())
}

pub fn apply(
    dir: &CgroupDir,
    r: &LinuxResources,
    devices: Option<&Policy>,
    pure: bool,
    update: bool,
) -> Result<()> {
    let path = dir.full();
    let have = controllers(&path);
    let has = |c: &str| have.iter().any(|h| h == c);
    if has("memory") {
        memory(&path, r.memory().as_ref(), update)?;
    }
    if has("cpu") {
        cpu(&path, r.cpu().as_ref())?;
    }
    if has("cpuset") {
        if let Some(c) = r.cpu() {
            if let Some(v) = c.cpus().as_deref().filter(|v| !v.is_empty()) {
                write(&path, "cpuset.cpus", v)?;
            }
            if let Some(v) = c.mems().as_deref().filter(|v| !v.is_empty()) {
                write(&path, "cpuset.mems", v)?;
            }
        }
    }
    if has("pids") {
        if let Some(p) = r.pids().as_ref().filter(|p| p.limit() != 0) {
            write(&path, "pids.max", &v2_limit(p.limit().max(-1)))?;
        }
    }
    if has("io") {
        io(&path, r.block_io().as_ref())?;
    }
    if has("hugetlb") {
        for l in r.hugepage_limits().iter().flatten() {
            let size = l.page_size();
            write(&path, &format!("hugetlb.{size}.max"), &v2_limit(l.limit()))?;
            let rsvd = format!("hugetlb.{size}.rsvd.max");
            if path.join(&rsvd).exists() {
                write(&path, &rsvd, &v2_limit(l.limit()))?;
            }
        }
    }
    if has("rdma") {
        for line in rdma_lines(r) {
            write(&path, "rdma.max", &line)?;
        }
    }
    if let (true, Some(policy)) = (pure, devices) {
        let handle = fs::File::open(&path).with_context(|| format!("open {}", path.display()))?;
        if let Err(e) = ebpf::apply(handle.as_fd(), policy) {
            // runc's rule (and crun's): in a user namespace bpf(2) is not berth's to use — and a
            // rootless container can make no device node to reach — nor is a filter that would
            // allow everything needed; otherwise a device policy without its program is an error.
            let allows_all = policy.default_allow && policy.exceptions.is_empty();
            if !(crate::linux::rootless::running_in_userns() || allows_all) {
                return Err(e).context("linux.resources.devices");
            }
            crate::logging::debug(format_args!("device filter not attached: {e:#}"));
        }
    }
    for (key, value) in r.unified().iter().flatten() {
        unified(&path, &have, pure, key, value)?;
    }
    Ok(())
}

fn memory(path: &Path, m: Option<&LinuxMemory>, update: bool) -> Result<()> {
    let Some(m) = m else { return Ok(()) };
    let limit = m.limit().unwrap_or(0);
    if update && m.check_before_update() == Some(true) && limit > 0 {
        let usage = stats::number(&read(path, "memory.current")?);
        if usage > limit as u64 {
            bail!("linux.resources.memory.limit: {limit} is below the current usage {usage}");
        }
    }
    let swap = swap_to_v2(m.swap().unwrap_or(0), limit)
        .map_err(|e| anyhow!("linux.resources.memory.swap: {e}"))?;
    if let Some(s) = swap {
        if path.join("memory.swap.max").exists() {
            write(path, "memory.swap.max", &v2_limit(s))?;
        } else if s > 0 {
            // Without swap accounting, "no swap limit" and "no swap" need no file (as in runc).
            bail!("linux.resources.memory.swap: this kernel does not account swap");
        }
    }
    if limit != 0 {
        write(path, "memory.max", &v2_limit(limit))?;
    }
    if let Some(v) = m.reservation().filter(|v| *v != 0) {
        write(path, "memory.low", &v2_limit(v))?;
    }
    Ok(())
}

fn cpu(path: &Path, c: Option<&LinuxCpu>) -> Result<()> {
    let Some(c) = c else { return Ok(()) };
    if let Some(s) = c.shares().filter(|s| *s != 0) {
        write(path, "cpu.weight", &shares_to_weight(s).to_string())?;
    }
    let quota = c.quota().filter(|q| *q != 0);
    let period = c.period().filter(|p| *p != 0);
    // runc's order (fs2/cpu.go): the burst before cpu.max, and again after it when the kernel
    // refused it against the old quota (a burst may not exceed the quota).
    let deferred_burst = write_before_quota(
        path,
        "cpu.max.burst",
        c.burst().map(|b| b.to_string()),
        quota.is_some(),
    )?;
    if quota.is_some() || period.is_some() {
        // cpu.max is "QUOTA PERIOD"; a missing half keeps its current value.
        let current = read(path, "cpu.max")?;
        let mut parts = current.split_whitespace();
        let (cur_quota, cur_period) = (
            parts.next().unwrap_or("max"),
            parts.next().unwrap_or("100000"),
        );
        let q = quota.map_or(cur_quota.to_owned(), |q| {
            if q < 0 {
                "max".to_owned()
            } else {
                q.to_string()
            }
        });
        let p = period.map_or(cur_period.to_owned(), |p| p.to_string());
        write(path, "cpu.max", &format!("{q} {p}"))?;
    }
    if let Some((file, value)) = deferred_burst {
        write(path, file, &value)?;
    }
    if let Some(i) = c.idle() {
        write(path, "cpu.idle", &i.to_string())?;
    }
    Ok(())
}

/// io.weight (or BFQ's io.bfq.weight) and io.max, from the v1-shaped blockIO fields.
fn io(path: &Path, b: Option<&LinuxBlockIo>) -> Result<()> {
    let Some(b) = b else { return Ok(()) };
    let weight_file = if path.join("io.bfq.weight").exists() {
        "io.bfq.weight"
    } else {
        "io.weight"
    };
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        let value = if weight_file == "io.bfq.weight" {
            u64::from(w)
        } else {
            blkio_weight_to_io_weight(w)
        };
        write(path, weight_file, &value.to_string())?;
    }
    for d in b.weight_device().iter().flatten() {
        if let Some(w) = d.weight() {
            let value = if weight_file == "io.bfq.weight" {
                u64::from(w)
            } else {
                blkio_weight_to_io_weight(w)
            };
            write(
                path,
                weight_file,
                &format!("{}:{} {value}", d.major(), d.minor()),
            )?;
        }
    }
    let throttles = [
        ("rbps", b.throttle_read_bps_device()),
        ("wbps", b.throttle_write_bps_device()),
        ("riops", b.throttle_read_iops_device()),
        ("wiops", b.throttle_write_iops_device()),
    ];
    for (key, devices) in throttles {
        for d in devices.iter().flatten() {
            let rate = if d.rate() == 0 {
                "max".to_owned()
            } else {
                d.rate().to_string()
            };
            write(
                path,
                "io.max",
                &format!("{}:{} {key}={rate}", d.major(), d.minor()),
            )?;
        }
    }
    Ok(())
}

/// One `unified` key: a plain file of the cgroup, whose controller must be available (runc's checks).
/// On a v1 host only the controllers of its cgroup2 mount can take one; for the others, runc's
/// words: any `unified` is an "invalid configuration" on cgroup v1 there.
fn unified(path: &Path, have: &[String], pure: bool, key: &str, value: &str) -> Result<()> {
    let field = format!("linux.resources.unified[{key:?}]");
    if key.contains('/') || key.starts_with('.') {
        bail!("{field}: must be a file name of the cgroup");
    }
    let Some((ctrl, _)) = key.split_once('.') else {
        bail!("{field}: must be CONTROLLER.PARAMETER");
    };
    if ctrl != "cgroup" && !have.iter().any(|c| c == ctrl) {
        if !pure {
            bail!("{field}: invalid configuration: controller {ctrl:?} is not on this cgroup v1 host's cgroup2 hierarchy");
        }
        bail!("{field}: controller {ctrl:?} is not available here");
    }
    if !path.join(key).exists() {
        bail!("{field}: no such cgroup file");
    }
    fs::write(path.join(key), value).with_context(|| format!("{field}: write {value:?}"))
}

pub fn set_frozen(dir: &CgroupDir, frozen: bool) -> Result<()> {
    let path = dir.full();
    write(&path, "cgroup.freeze", if frozen { "1" } else { "0" })?;
    let want = if frozen { "frozen 1" } else { "frozen 0" };
    for _ in 0..2000 {
        if read(&path, "cgroup.events")?.lines().any(|l| l == want) {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    bail!("{} did not reach \"{want}\"", path.display())
}

pub fn stats(dir: &CgroupDir, s: &mut Stats) -> Result<()> {
    let path = dir.full();
    let have = controllers(&path);
    let has = |c: &str| have.iter().any(|h| h == c);
    let cpu = stats::key_values(&read(&path, "cpu.stat")?);
    let us = |k: &str| cpu.get(k).copied().unwrap_or(0);
    s.cpu.usage.total = us("usage_usec") * 1000;
    s.cpu.usage.user = us("user_usec") * 1000;
    s.cpu.usage.kernel = us("system_usec") * 1000;
    s.cpu.throttling.periods = us("nr_periods");
    s.cpu.throttling.throttled_periods = us("nr_throttled");
    s.cpu.throttling.throttled_time = us("throttled_usec") * 1000;
    if has("memory") {
        s.memory.raw = stats::key_values(&read(&path, "memory.stat")?);
        s.memory.cache = s.memory.raw.get("file").copied().unwrap_or(0);
        s.memory.usage.usage = stats::number(&read(&path, "memory.current")?);
        s.memory.usage.limit = stats::number(&read(&path, "memory.max")?);
        // v1 reported swap as memory+swap; runc keeps that meaning on v2.
        if let Ok(cur) = read(&path, "memory.swap.current") {
            s.memory.swap.usage = stats::number(&cur) + s.memory.usage.usage;
            let max = stats::number(&read(&path, "memory.swap.max")?);
            s.memory.swap.limit = max.saturating_add(s.memory.usage.limit);
        }
        let events = stats::key_values(&read(&path, "memory.events")?);
        let ev = |k: &str| events.get(k).copied().unwrap_or(0);
        s.memory.event_count.low = ev("low");
        s.memory.event_count.high = ev("high");
        s.memory.event_count.max = ev("max");
        s.memory.event_count.oom = ev("oom");
        s.memory.event_count.oom_kill = ev("oom_kill");
        s.memory.usage.failcnt = ev("max");
    }
    if has("pids") {
        s.pids.current = stats::number(&read(&path, "pids.current")?);
        s.pids.limit = match stats::number(&read(&path, "pids.max")?) {
            u64::MAX => 0,
            n => n,
        };
    }
    if has("cpuset") {
        s.cpuset.cpus = stats::id_list(&read(&path, "cpuset.cpus.effective")?);
        s.cpuset.mems = stats::id_list(&read(&path, "cpuset.mems.effective")?);
    }
    if has("io") {
        for line in read(&path, "io.stat")?.lines() {
            let mut f = line.split_whitespace();
            let Some((major, minor)) = f.next().and_then(|d| d.split_once(':')) else {
                continue;
            };
            let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else {
                continue;
            };
            let kv = stats::key_values(
                &f.map(|p| p.replace('=', " "))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
            let entry = |op: &str, key: &str| BlkioEntry {
                major,
                minor,
                op: op.to_owned(),
                value: kv.get(key).copied().unwrap_or(0),
            };
            s.blkio
                .io_service_bytes_recursive
                .extend([entry("Read", "rbytes"), entry("Write", "wbytes")]);
            s.blkio
                .io_serviced_recursive
                .extend([entry("Read", "rios"), entry("Write", "wios")]);
        }
    }
    if has("hugetlb") {
        for size in hugepage_sizes() {
            let e = s.hugetlb.entry(size.clone()).or_default();
            e.usage = stats::number(&read(&path, &format!("hugetlb.{size}.current"))?);
            let events = stats::key_values(&read(&path, &format!("hugetlb.{size}.events"))?);
            e.failcnt = events.get("max").copied().unwrap_or(0);
        }
    }
    Ok(())
}

/// The OOM-kill count from memory.events.
pub fn oom_kills(dir: &CgroupDir) -> Option<u64> {
    let text = read(&dir.full(), "memory.events").ok()?;
    stats::key_values(&text).get("oom_kill").copied()
}

/// cgroup.kill (Linux 5.14): SIGKILL to every process of the cgroup, atomically.
pub fn kill(dir: &CgroupDir) -> Result<bool> {
    let path = dir.full();
    if !path.join("cgroup.kill").exists() {
        return Ok(false);
    }
    write(&path, "cgroup.kill", "1")?;
    Ok(true)
}
