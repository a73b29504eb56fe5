//! CPU affinity around a process's move into the container's cgroup. runtime-spec 1.2's
//! `process.execCPUAffinity` (for exec'd processes, not the init): berth itself runs on
//! `initial` while it starts the process, which gets `final` once in the cgroup. Without `final`,
//! the process gets every CPU, which the kernel narrows to the cgroup's cpuset — runc's reset:
//! a runtime pinned by its caller (taskset, a pinned containerd) does not pin its containers.

use anyhow::{anyhow, Context, Result};
use nix::sched::{sched_setaffinity, CpuSet};
use nix::unistd::Pid;
use oci_spec::runtime::Process;

use crate::linux::idlist;

/// `process.execCPUAffinity`, parsed.
#[derive(Default)]
pub struct ExecAffinity {
    pub initial: Option<CpuSet>,
    pub final_cpus: Option<CpuSet>,
}

impl ExecAffinity {
    pub fn from_spec(p: &Process) -> Result<Self> {
        let Some(a) = p.exec_cpu_affinity() else {
            return Ok(Self::default());
        };
        Ok(ExecAffinity {
            initial: cpus(a.initial().as_deref(), "initial")?,
            final_cpus: cpus(a.cpu_affinity_final().as_deref(), "final")?,
        })
    }
}

/// A CPU list; none for an absent or empty one (the spec's "omitted or empty").
fn cpus(list: Option<&str>, field: &str) -> Result<Option<CpuSet>> {
    let name = || format!("process.execCPUAffinity.{field}");
    let ids = idlist::parse(list.unwrap_or(""), CpuSet::count() as u32, "CPU")
        .map_err(|e| anyhow!("{}: {e}", name()))?;
    if ids.is_empty() {
        return Ok(None);
    }
    let mut set = CpuSet::new();
    for id in ids {
        set.set(id as usize).with_context(name)?;
    }
    Ok(Some(set))
}

/// Runs the calling process on `cpus` (berth, before it starts an exec'd process).
pub fn set_initial(cpus: &CpuSet) -> Result<()> {
    sched_setaffinity(Pid::from_raw(0), cpus).context("process.execCPUAffinity.initial")
}

/// The calling process, now in its cgroup, takes `final_cpus`, or every CPU the cgroup allows.
pub fn settle(final_cpus: Option<&CpuSet>) -> Result<()> {
    match final_cpus {
        Some(cpus) => sched_setaffinity(Pid::from_raw(0), cpus)
            .context("process.execCPUAffinity.final: sched_setaffinity"),
        None => {
            let mut all = CpuSet::new();
            for cpu in 0..CpuSet::count() {
                let _ = all.set(cpu);
            }
            // Best effort, as runc's reset: the kernel keeps only CPUs the cpuset allows.
            let _ = sched_setaffinity(Pid::from_raw(0), &all);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_become_sets_and_empty_ones_none() {
        let set = cpus(Some("0,2-3"), "final").unwrap().unwrap();
        let members: Vec<usize> = (0..8).filter(|&c| set.is_set(c).unwrap()).collect();
        assert_eq!(members, [0, 2, 3]);
        assert!(cpus(Some(""), "final").unwrap().is_none());
        assert!(cpus(None, "initial").unwrap().is_none());
        let err = cpus(Some("1-0"), "initial").unwrap_err().to_string();
        assert!(
            err.starts_with("process.execCPUAffinity.initial: "),
            "{err}"
        );
    }
}
