//! Reading and writing cgroup files (a refused write names the config field it came from), and
//! the host facts the writers need.

use std::fs;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use oci_spec::runtime::LinuxResources;

/// The huge page sizes of this host as cgroup files name them ("2MB", "1GB").
pub fn hugepage_sizes() -> Vec<String> {
    let mut sizes: Vec<String> = fs::read_dir("/sys/kernel/mm/hugepages")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let kb: u64 = name
                .strip_prefix("hugepages-")?
                .strip_suffix("kB")?
                .parse()
                .ok()?;
            Some(match kb {
                kb if kb % (1024 * 1024) == 0 => format!("{}GB", kb / (1024 * 1024)),
                kb if kb % 1024 == 0 => format!("{}MB", kb / 1024),
                kb => format!("{kb}KB"),
            })
        })
        .collect();
    sizes.sort();
    sizes
}

/// rdma.max lines: "mlx5_0 hca_handle=2 hca_object=2000".
pub fn rdma_lines(r: &LinuxResources) -> Vec<String> {
    r.rdma()
        .iter()
        .flatten()
        .map(|(dev, l)| {
            let mut line = dev.clone();
            if let Some(h) = l.hca_handles() {
                line.push_str(&format!(" hca_handle={h}"));
            }
            if let Some(o) = l.hca_objects() {
                line.push_str(&format!(" hca_object={o}"));
            }
            line
        })
        .collect()
}

pub fn read(dir: &Path, file: &str) -> Result<String> {
    fs::read_to_string(dir.join(file)).with_context(|| format!("read {}/{file}", dir.display()))
}

pub fn write(dir: &Path, file: &str, value: &str) -> Result<()> {
    fs::write(dir.join(file), value).map_err(|e| write_error(dir, file, value, e))
}

/// CFS values the kernel checks against the quota (and the parent's limit): `value` is written
/// now, as runc writes it before the quota, unless the kernel refuses it (EINVAL) while a new
/// quota follows — then it is handed back, to be written again after the quota.
pub fn write_before_quota(
    dir: &Path,
    file: &'static str,
    value: Option<String>,
    quota_follows: bool,
) -> Result<Option<(&'static str, String)>> {
    let Some(value) = value else { return Ok(None) };
    match fs::write(dir.join(file), &value) {
        Ok(()) => Ok(None),
        Err(e) if quota_follows && e.raw_os_error() == Some(libc::EINVAL) => {
            Ok(Some((file, value)))
        }
        Err(e) => Err(write_error(dir, file, &value, e)),
    }
}

/// The errno stays the root cause, so that it is spelt as runc spells it (see logging).
fn write_error(dir: &Path, file: &str, value: &str, e: std::io::Error) -> anyhow::Error {
    let path = dir.join(file);
    // cgroupfs answers a write to a file it does not have with EACCES, which tells the user
    // nothing: name the missing file instead (a kernel without BFQ has no blkio.bfq.weight).
    let err = if path.exists() {
        anyhow::Error::new(e).context(format!("write {value:?} to {}", path.display()))
    } else {
        anyhow!(
            "this host has no {} (its kernel lacks the feature)",
            path.display()
        )
    };
    match field_of(file, value) {
        Some(field) => err.context(format!("linux.resources.{field}")),
        None => err,
    }
}

/// The config field a cgroup file is written from, so that a value the kernel refuses is
/// reported in the user's terms (v1 and v2 names alike).
fn field_of(file: &str, value: &str) -> Option<&'static str> {
    let field = match file {
        "memory.limit_in_bytes" | "memory.max" => "memory.limit",
        "memory.memsw.limit_in_bytes" | "memory.swap.max" => "memory.swap",
        "memory.soft_limit_in_bytes" | "memory.low" => "memory.reservation",
        "memory.swappiness" => "memory.swappiness",
        "memory.oom_control" => "memory.disableOOMKiller",
        "memory.use_hierarchy" => "memory.useHierarchy",
        "cpu.shares" | "cpu.weight" => "cpu.shares",
        "cpu.cfs_quota_us" => "cpu.quota",
        "cpu.cfs_period_us" => "cpu.period",
        "cpu.max" => "cpu.quota/cpu.period",
        "cpu.cfs_burst_us" | "cpu.max.burst" => "cpu.burst",
        "cpu.rt_runtime_us" => "cpu.realtimeRuntime",
        "cpu.rt_period_us" => "cpu.realtimePeriod",
        "cpu.idle" => "cpu.idle",
        "cpuset.cpus" => "cpu.cpus",
        "cpuset.mems" => "cpu.mems",
        "pids.max" => "pids.limit",
        "blkio.weight" | "blkio.bfq.weight" | "io.weight" | "io.bfq.weight" => {
            if value.contains(':') {
                "blockIO.weightDevice"
            } else {
                "blockIO.weight"
            }
        }
        "blkio.weight_device" | "blkio.bfq.weight_device" => "blockIO.weightDevice",
        "blkio.leaf_weight" => "blockIO.leafWeight",
        "blkio.leaf_weight_device" => "blockIO.weightDevice.leafWeight",
        "blkio.throttle.read_bps_device" => "blockIO.throttleReadBpsDevice",
        "blkio.throttle.write_bps_device" => "blockIO.throttleWriteBpsDevice",
        "blkio.throttle.read_iops_device" => "blockIO.throttleReadIOPSDevice",
        "blkio.throttle.write_iops_device" => "blockIO.throttleWriteIOPSDevice",
        "io.max" => match value.split_whitespace().nth(1)?.split('=').next()? {
            "rbps" => "blockIO.throttleReadBpsDevice",
            "wbps" => "blockIO.throttleWriteBpsDevice",
            "riops" => "blockIO.throttleReadIOPSDevice",
            "wiops" => "blockIO.throttleWriteIOPSDevice",
            _ => return None,
        },
        "net_cls.classid" => "network.classID",
        "net_prio.ifpriomap" => "network.priorities",
        "rdma.max" => "rdma",
        f if f.starts_with("hugetlb.") => "hugepageLimits",
        _ => return None,
    };
    Some(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_writes_name_the_field() {
        assert_eq!(field_of("cpuset.cpus", "99"), Some("cpu.cpus"));
        assert_eq!(field_of("memory.max", "1"), Some("memory.limit"));
        assert_eq!(field_of("io.weight", "default 5"), Some("blockIO.weight"));
        assert_eq!(field_of("io.weight", "8:0 5"), Some("blockIO.weightDevice"));
        assert_eq!(
            field_of("io.max", "8:0 wiops=5"),
            Some("blockIO.throttleWriteIOPSDevice")
        );
        assert_eq!(field_of("hugetlb.2MB.max", "1"), Some("hugepageLimits"));
        assert_eq!(field_of("cgroup.subtree_control", "+cpu"), None);
        // A file the host lacks is named as such; a file that refuses the value says so.
        let dir = Path::new("/nonexistent-berth-test");
        let err = format!("{:#}", write(dir, "pids.max", "5").unwrap_err());
        assert_eq!(
            err,
            "linux.resources.pids.limit: this host has no /nonexistent-berth-test/pids.max (its kernel lacks the feature)"
        );
        let err = format!(
            "{:#}",
            write(Path::new("/proc/self"), "stat", "5").unwrap_err()
        );
        assert!(err.starts_with("write \"5\" to /proc/self/stat: "), "{err}");
    }
}
