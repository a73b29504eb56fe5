use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result};
use oci_spec::runtime::{LinuxCpu, LinuxPids, LinuxResources};

use crate::cgroups::parse_bytes;
use crate::cli::GlobalOpts;
use crate::container;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// LinuxResources JSON to apply, from a file or '-' for stdin
    #[arg(short = 'r', long, value_name = "FILE")]
    pub resources: Option<PathBuf>,

    /// Block IO weight (10-1000)
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
    /// CPU CFS period (microseconds)
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<u64>,
    /// CPU CFS quota (microseconds; -1 for none)
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPU CFS burst (microseconds)
    #[arg(long = "cpu-burst")]
    pub cpu_burst: Option<u64>,
    /// CPU shares (relative weight)
    #[arg(long = "cpu-share")]
    pub cpu_share: Option<u64>,
    /// CPU realtime period (microseconds)
    #[arg(long = "cpu-rt-period")]
    pub cpu_rt_period: Option<u64>,
    /// CPU realtime runtime (microseconds)
    #[arg(long = "cpu-rt-runtime", allow_hyphen_values = true)]
    pub cpu_rt_runtime: Option<i64>,
    /// SCHED_IDLE for the container's cgroup (1) or not (0)
    #[arg(long = "cpu-idle", allow_hyphen_values = true)]
    pub cpu_idle: Option<i64>,
    /// CPUs to use (0-3, 0,1)
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes to use
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Memory limit (bytes, or with a unit: 512m); -1 for unlimited (memory and swap)
    #[arg(long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory reservation (soft limit); -1 for none
    #[arg(long = "memory-reservation", allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,
    /// Memory plus swap limit; -1 for unlimited swap
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Obsolete, accepted and ignored as runc does
    #[arg(long = "kernel-memory", allow_hyphen_values = true)]
    pub kernel_memory: Option<String>,
    /// Obsolete, accepted and ignored as runc does
    #[arg(long = "kernel-memory-tcp", allow_hyphen_values = true)]
    pub kernel_memory_tcp: Option<String>,
    /// Maximum number of pids (-1 or 0: unlimited)
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,

    /// Container id
    pub id: String,
}

impl Args {
    pub fn run(self, g: &GlobalOpts) -> Result<i32> {
        let mut r = match &self.resources {
            Some(path) => read_resources(path)?,
            None => LinuxResources::default(),
        };
        self.apply_flags(&mut r)?;
        container::update(&g.state_root(), &self.id, &r)?;
        Ok(0)
    }

    /// Flags override what the resources file says, field by field.
    fn apply_flags(&self, r: &mut LinuxResources) -> Result<()> {
        let bytes = |name: &str, v: &Option<String>| -> Result<Option<i64>> {
            v.as_deref()
                .map(|s| parse_bytes(s).map_err(|e| anyhow::anyhow!("--{name}: {e}")))
                .transpose()
        };
        let memory = [
            bytes("memory", &self.memory)?,
            bytes("memory-reservation", &self.memory_reservation)?,
            bytes("memory-swap", &self.memory_swap)?,
        ];
        if memory.iter().any(Option::is_some) {
            let mut m = r.memory().unwrap_or_default();
            if let Some(v) = memory[0] {
                m.set_limit(Some(v));
            }
            if let Some(v) = memory[1] {
                m.set_reservation(Some(v));
            }
            if let Some(v) = memory[2] {
                m.set_swap(Some(v));
            }
            r.set_memory(Some(m));
        }
        let cpu_flags = self.cpu_period.is_some()
            || self.cpu_quota.is_some()
            || self.cpu_burst.is_some()
            || self.cpu_share.is_some()
            || self.cpu_rt_period.is_some()
            || self.cpu_rt_runtime.is_some()
            || self.cpu_idle.is_some()
            || self.cpuset_cpus.is_some()
            || self.cpuset_mems.is_some();
        if cpu_flags {
            let mut c: LinuxCpu = r.cpu().clone().unwrap_or_default();
            if self.cpu_period.is_some() {
                c.set_period(self.cpu_period);
            }
            if self.cpu_quota.is_some() {
                c.set_quota(self.cpu_quota);
            }
            if self.cpu_burst.is_some() {
                c.set_burst(self.cpu_burst);
            }
            if self.cpu_share.is_some() {
                c.set_shares(self.cpu_share);
            }
            if self.cpu_rt_period.is_some() {
                c.set_realtime_period(self.cpu_rt_period);
            }
            if self.cpu_rt_runtime.is_some() {
                c.set_realtime_runtime(self.cpu_rt_runtime);
            }
            if self.cpu_idle.is_some() {
                c.set_idle(self.cpu_idle);
            }
            if self.cpuset_cpus.is_some() {
                c.set_cpus(self.cpuset_cpus.clone());
            }
            if self.cpuset_mems.is_some() {
                c.set_mems(self.cpuset_mems.clone());
            }
            r.set_cpu(Some(c));
        }
        if let Some(limit) = self.pids_limit {
            let mut p = LinuxPids::default();
            p.set_limit(limit);
            r.set_pids(Some(p));
        }
        if let Some(w) = self.blkio_weight {
            let mut b = r.block_io().clone().unwrap_or_default();
            b.set_weight(Some(w));
            r.set_block_io(Some(b));
        }
        if self.kernel_memory.is_some() || self.kernel_memory_tcp.is_some() {
            crate::logging::warn(
                "--kernel-memory and --kernel-memory-tcp are obsolete and ignored",
            );
        }
        Ok(())
    }
}

fn read_resources(path: &PathBuf) -> Result<LinuxResources> {
    let mut text = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut text)
            .context("read resources from stdin")?;
    } else {
        text = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    }
    let de = &mut serde_json::Deserializer::from_slice(&text);
    serde_path_to_error::deserialize(de)
        .map_err(|e| anyhow::anyhow!("resources: {}: {}", e.path(), e.inner()))
}
