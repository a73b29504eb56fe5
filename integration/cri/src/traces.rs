//! What a pod leaves on the host while it runs — processes, shim, runtime state, cgroups, mounts,
//! network namespace, veth — recorded as it starts and checked gone once it is removed.

use crate::env::{CgroupDriver, Env};
use crate::host::{self, Process};
use crate::pod::{info_pid, Harness};
use anyhow::{bail, Context, Result};
use k8s_cri::v1 as cri;
use std::path::PathBuf;

pub(crate) struct Traces {
    handler: String,
    /// The sandbox's id, then its containers'.
    pub(crate) ids: Vec<String>,
    processes: Vec<(String, Process)>,
    /// Each sandbox's and container's cgroup, relative to a hierarchy's root.
    cgroups: Vec<PathBuf>,
    /// The pod's cgroup parent, which kubelet makes and removes: so does the test.
    pod_cgroup: Option<String>,
    netns: Option<PathBuf>,
    veth: Option<String>,
}

impl Traces {
    pub(crate) fn new(
        harness: &Harness,
        config: &cri::PodSandboxConfig,
        sandbox_id: &str,
    ) -> Traces {
        let pod_cgroup = config.linux.as_ref().map(|l| l.cgroup_parent.clone());
        Traces {
            handler: harness.handler.clone(),
            ids: vec![sandbox_id.to_string()],
            processes: vec![],
            cgroups: vec![],
            pod_cgroup,
            netns: None,
            veth: None,
        }
    }

    /// A sandbox's or container's init and cgroup, from containerd's verbose info (`exited`: the
    /// status it came with says so).
    pub(crate) fn record_runtime_object(
        &mut self,
        harness: &Harness,
        id: &str,
        info: &serde_json::Value,
        exited: bool,
    ) -> Result<(Process, PathBuf)> {
        let init = Process::new(info_pid(info, exited)?);
        self.processes.push((format!("the init of {id}"), init));
        let cgroups_path = info["runtimeSpec"]["linux"]["cgroupsPath"]
            .as_str()
            .with_context(|| format!("no cgroupsPath in the runtime spec of {id}"))?;
        let cgroup = host::cgroup_relative_path(harness.env.cgroup_driver, cgroups_path)?;
        self.cgroups.push(cgroup.clone());
        Ok((init, cgroup))
    }

    /// The pod's network namespace (a file containerd bind-mounts) and the host end of its veth.
    pub(crate) fn record_network(&mut self, info: &serde_json::Value) -> Result<()> {
        let namespaces = info["runtimeSpec"]["linux"]["namespaces"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let netns = namespaces
            .iter()
            .find(|ns| ns["type"] == "network")
            .and_then(|ns| ns["path"].as_str());
        if let Some(path) = netns {
            let path = PathBuf::from(path);
            self.veth = Some(host::host_veth(&path)?);
            self.netns = Some(path);
        }
        Ok(())
    }

    /// A process the test knows of (a server's worker) that must not outlive the pod.
    pub(crate) fn record_process(&mut self, what: String, process: Process) {
        self.processes.push((what, process));
    }

    pub(crate) fn check_gone(&mut self, harness: &Harness) -> Result<()> {
        let env: &Env = &harness.env;
        let mut left = vec![];
        let sandbox = &self.ids[0];
        let shims = host::shims_of(env, sandbox);
        if !shims.is_empty() {
            left.push(format!("the shim of pod {sandbox} (pids {shims:?})"));
        }
        for (what, process) in &self.processes {
            if process.alive() {
                left.push(format!("{what} (pid {})", process.pid));
            }
        }
        for id in &self.ids {
            let state = env.runtime_state(&self.handler, id);
            if state.exists() {
                left.push(format!("runtime state {}", state.display()));
            }
            let mounts = host::mounts_containing(id);
            if !mounts.is_empty() {
                left.push(format!("mounts {mounts:?}"));
            }
        }
        for cgroup in &self.cgroups {
            let dirs = host::existing_cgroup_dirs(cgroup);
            if !dirs.is_empty() {
                left.push(format!("cgroups {dirs:?}"));
            }
        }
        if let Some(netns) = &self.netns {
            let netns = netns.to_string_lossy();
            if !host::mounts_containing(&netns).is_empty() || std::path::Path::new(&*netns).exists()
            {
                left.push(format!("network namespace {netns}"));
            }
        }
        if let Some(veth) = &self.veth {
            if host::interface_exists(veth) {
                left.push(format!("veth {veth}"));
            }
        }
        // Kubelet removes the pod's cgroup once the pod is gone: it must be empty by then.
        if let Some(pod_cgroup) = self.pod_cgroup.take() {
            left.extend(remove_pod_cgroup(env.cgroup_driver, &pod_cgroup));
        }
        if !left.is_empty() {
            bail!(
                "pod {sandbox} on {} left behind: {}",
                self.handler,
                left.join("; ")
            );
        }
        Ok(())
    }
}

/// Removes a pod's cgroup parent as kubelet does (rmdir with cgroupfs, the slice's unit stopped
/// with systemd); what stays.
fn remove_pod_cgroup(driver: CgroupDriver, parent: &str) -> Vec<String> {
    let relative = match driver {
        CgroupDriver::Cgroupfs => PathBuf::from(parent.trim_start_matches('/')),
        CgroupDriver::Systemd => {
            let _ = std::process::Command::new("systemctl")
                .args(["stop", parent])
                .status();
            host::slice_path(parent)
        }
    };
    host::existing_cgroup_dirs(&relative)
        .into_iter()
        .filter_map(|dir| match std::fs::remove_dir(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Some(format!("pod cgroup {} ({e})", dir.display()))
            }
            _ => None,
        })
        .collect()
}
