//! Resources: the limits of a ContainerConfig in the container's cgroup (as the host and the
//! container see it), UpdateContainerResources, and ContainerStats.

use anyhow::{ensure, Context, Result};
use berth_cri_tests::{cri, host, Container, Harness};
use std::path::Path;

const MIB: i64 = 1024 * 1024;

/// One file of the container's cgroup on the host, in the first hierarchy that has it.
fn cgroup_file(c: &Container, file: &str) -> Result<String> {
    host::existing_cgroup_dirs(&c.cgroup)
        .iter()
        .find_map(|d| std::fs::read_to_string(d.join(file)).ok())
        .map(|v| v.trim().to_string())
        .with_context(|| format!("no {file} in the cgroup of {}", c.id))
}

/// cgroup v2 everywhere (the systemd VM), or v1 controllers (this host, hybrid).
fn unified() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

pub async fn limits_in_the_cgroup_update_and_stats(h: Harness) -> Result<()> {
    let mut pod = h.pod("resources").run().await?;
    let resources = cri::LinuxContainerResources {
        cpu_period: 100_000,
        cpu_quota: 50_000,
        cpu_shares: 512,
        memory_limit_in_bytes: 64 * MIB,
        cpuset_cpus: "0".into(),
        ..Default::default()
    };
    let c = pod
        .start(
            h.busybox("limited")
                .command(&["sleep", "1000"])
                .resources(resources),
        )
        .await?;

    if unified() {
        ensure!(
            cgroup_file(&c, "memory.max")? == (64 * MIB).to_string(),
            "memory.max"
        );
        ensure!(cgroup_file(&c, "cpu.max")? == "50000 100000", "cpu.max");
        ensure!(cgroup_file(&c, "cpuset.cpus")? == "0", "cpuset.cpus");
        ensure!(
            pod.sh(&c, "cat /sys/fs/cgroup/memory.max").await? == (64 * MIB).to_string(),
            "memory.max inside"
        );
    } else {
        ensure!(
            cgroup_file(&c, "memory.limit_in_bytes")? == (64 * MIB).to_string(),
            "memory.limit_in_bytes"
        );
        ensure!(
            cgroup_file(&c, "cpu.cfs_quota_us")? == "50000",
            "cpu.cfs_quota_us"
        );
        ensure!(
            cgroup_file(&c, "cpu.cfs_period_us")? == "100000",
            "cpu.cfs_period_us"
        );
        ensure!(cgroup_file(&c, "cpu.shares")? == "512", "cpu.shares");
        ensure!(cgroup_file(&c, "cpuset.cpus")? == "0", "cpuset.cpus");
        // The container sees its own cgroup as the root of each hierarchy.
        let inside = pod.sh(&c, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us").await?;
        ensure!(
            inside == format!("{}\n50000", 64 * MIB),
            "the limits inside: {inside:?}"
        );
    }
    let procs = c.cgroup_procs();
    ensure!(
        procs.contains(&c.pid()),
        "the init {} is not in its cgroup: {procs:?}",
        c.pid()
    );

    // UpdateContainerResources reaches the runtime's update.
    let bigger = cri::LinuxContainerResources {
        cpu_period: 100_000,
        cpu_quota: 80_000,
        cpu_shares: 512,
        memory_limit_in_bytes: 128 * MIB,
        ..Default::default()
    };
    h.cri.update_resources(&c.id, bigger).await?;
    if unified() {
        ensure!(
            cgroup_file(&c, "memory.max")? == (128 * MIB).to_string(),
            "memory.max after update"
        );
        ensure!(
            cgroup_file(&c, "cpu.max")? == "80000 100000",
            "cpu.max after update"
        );
    } else {
        ensure!(
            cgroup_file(&c, "memory.limit_in_bytes")? == (128 * MIB).to_string(),
            "memory limit after update"
        );
        ensure!(
            cgroup_file(&c, "cpu.cfs_quota_us")? == "80000",
            "cpu quota after update"
        );
    }

    // ContainerStats: containerd reads the cgroup; some CPU time and memory are in use.
    pod.sh(&c, "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done")
        .await?;
    let stats = h.cri.container_stats(&c.id).await?;
    let cpu = stats
        .cpu
        .and_then(|c| c.usage_core_nano_seconds)
        .map(|v| v.value)
        .unwrap_or(0);
    let memory = stats
        .memory
        .and_then(|m| m.working_set_bytes.or(m.usage_bytes))
        .map(|v| v.value)
        .unwrap_or(0);
    ensure!(
        cpu > 0 && memory > 0,
        "ContainerStats: cpu {cpu} ns, memory {memory} bytes"
    );
    pod.remove(10).await?;
    Ok(())
}
