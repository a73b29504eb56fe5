//! The private containerd that `with-containerd` started, as its CRI_* variables describe it.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// How the runtimes place cgroups: containerd's `SystemdCgroup` option for the runc v2 shim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgroupDriver {
    Cgroupfs,
    Systemd,
}

#[derive(Clone, Debug)]
pub struct Env {
    /// containerd's gRPC socket (the CRI is served there too).
    pub endpoint: PathBuf,
    /// The run's directory: containerd's root and state, pod logs.
    pub dir: PathBuf,
    pub containerd_log: PathBuf,
    /// `<runtime_roots>/<handler>` is the `--root` the shim gives each handler's runtime.
    pub runtime_roots: PathBuf,
    pub cgroup_driver: CgroupDriver,
    /// The pods' cgroup parent: an absolute path (cgroupfs) or a slice (systemd).
    pub cgroup_parent: String,
    pub bridge: String,
    pub subnet: String,
    pub image_busybox: String,
    pub image_httpd: String,
}

fn var(name: &str) -> Result<String> {
    std::env::var(name).with_context(|| {
        format!("{name} is not set: run under integration/cri/with-containerd (make test-cri)")
    })
}

impl Env {
    pub fn from_env() -> Result<Env> {
        let cgroup_driver = match var("CRI_CGROUP_DRIVER")?.as_str() {
            "cgroupfs" => CgroupDriver::Cgroupfs,
            "systemd" => CgroupDriver::Systemd,
            other => bail!("CRI_CGROUP_DRIVER: unknown driver {other:?}"),
        };
        Ok(Env {
            endpoint: var("CRI_ENDPOINT")?.into(),
            dir: var("CRI_DIR")?.into(),
            containerd_log: var("CRI_CONTAINERD_LOG")?.into(),
            runtime_roots: var("CRI_RUNTIME_ROOTS")?.into(),
            cgroup_driver,
            cgroup_parent: var("CRI_CGROUP_PARENT")?,
            bridge: var("CRI_BRIDGE")?,
            subnet: var("CRI_SUBNET")?,
            image_busybox: var("CRI_IMAGE_BUSYBOX")?,
            image_httpd: var("CRI_IMAGE_HTTPD")?,
        })
    }

    /// The state directory of container `id` under runtime handler `handler` (the shim runs the
    /// runtime with `--root <Root>/<namespace>`).
    pub fn runtime_state(&self, handler: &str, id: &str) -> PathBuf {
        self.runtime_roots.join(handler).join("k8s.io").join(id)
    }

    /// The cgroup parent of a pod with uid `uid`, as kubelet names it for each driver.
    pub fn pod_cgroup_parent(&self, uid: &str) -> String {
        match self.cgroup_driver {
            CgroupDriver::Cgroupfs => format!("{}/pod{uid}", self.cgroup_parent),
            CgroupDriver::Systemd => {
                let prefix = self.cgroup_parent.trim_end_matches(".slice");
                format!("{prefix}-pod{}.slice", uid.replace('-', "_"))
            }
        }
    }

    /// Lines of containerd's log (the shims' too) that mention `id`: what a failure report needs.
    pub fn containerd_log_about(&self, id: &str) -> String {
        let log = std::fs::read_to_string(&self.containerd_log).unwrap_or_default();
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| {
                l.contains(id) && (l.contains("level=error") || l.contains("level=warning"))
            })
            .collect();
        lines[lines.len().saturating_sub(12)..].join("\n")
    }
}
