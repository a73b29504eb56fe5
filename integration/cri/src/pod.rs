//! Pods as kubelet runs them on one runtime handler: RunPodSandbox, containers created and started
//! in it, then StopContainer with a grace period, StopPodSandbox, RemovePodSandbox — and every
//! trace the pod left on the host checked gone (see `traces`).

use crate::client::Cri;
use crate::container::{Container, ContainerBuilder};
use crate::env::Env;
use crate::host::{self, Process};
use crate::traces::Traces;
use anyhow::{bail, ensure, Context, Result};
use k8s_cri::v1 as cri;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use cri::NamespaceMode;

/// One runtime handler through one containerd: what a test or the benchmark drives.
#[derive(Clone)]
pub struct Harness {
    pub env: Arc<Env>,
    pub cri: Cri,
    pub handler: String,
    /// Pods run and not yet removed: a failed test leaves them to `remove_leftovers`.
    live: Arc<Mutex<Vec<String>>>,
}

impl Harness {
    pub async fn connect(handler: &str) -> Result<Harness> {
        let env = Env::from_env()?;
        let cri = Cri::connect(&env.endpoint).await?;
        Ok(Harness {
            env: Arc::new(env),
            cri,
            handler: handler.into(),
            live: Default::default(),
        })
    }

    /// A pod named after `name` and this handler, with kubelet's defaults: its own network and
    /// ipc namespaces, a pid namespace per container, seccomp unconfined (kubelet's default).
    pub fn pod(&self, name: &str) -> PodBuilder {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let uid = format!("{:08x}-{n:04x}-berth-cri", std::process::id());
        let name = format!("{name}-{}", self.handler);
        let config = cri::PodSandboxConfig {
            metadata: Some(cri::PodSandboxMetadata {
                name: name.clone(),
                uid: uid.clone(),
                namespace: "berth-cri".into(),
                attempt: 0,
            }),
            hostname: name.chars().take(63).collect(),
            log_directory: self
                .env
                .dir
                .join("pods")
                .join(&uid)
                .to_string_lossy()
                .into_owned(),
            linux: Some(cri::LinuxPodSandboxConfig {
                cgroup_parent: self.env.pod_cgroup_parent(&uid),
                security_context: Some(cri::LinuxSandboxSecurityContext {
                    namespace_options: Some(namespaces(
                        NamespaceMode::Pod,
                        NamespaceMode::Container,
                    )),
                    seccomp: Some(cri::SecurityProfile {
                        profile_type: cri::security_profile::ProfileType::Unconfined as i32,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        PodBuilder {
            harness: self.clone(),
            config,
        }
    }

    /// A container of the busybox image.
    pub fn busybox(&self, name: &str) -> ContainerBuilder {
        ContainerBuilder::new(name, &self.env.image_busybox)
    }

    /// A container of the httpd image: busybox httpd serving /www on port 80, one fork per
    /// connection.
    pub fn httpd(&self, name: &str) -> ContainerBuilder {
        ContainerBuilder::new(name, &self.env.image_httpd)
    }

    /// Stops and removes, without checks, the pods a failed test left.
    pub async fn remove_leftovers(&self) {
        let ids: Vec<String> = self.live.lock().unwrap().drain(..).collect();
        for id in ids {
            let _ = self.cri.stop_pod(&id).await;
            let _ = self.cri.remove_pod(&id).await;
        }
    }
}

fn namespaces(network_ipc: NamespaceMode, pid: NamespaceMode) -> cri::NamespaceOption {
    cri::NamespaceOption {
        network: network_ipc as i32,
        ipc: network_ipc as i32,
        pid: pid as i32,
        ..Default::default()
    }
}

pub struct PodBuilder {
    harness: Harness,
    config: cri::PodSandboxConfig,
}

impl PodBuilder {
    fn security(&mut self) -> &mut cri::LinuxSandboxSecurityContext {
        let linux = self.config.linux.get_or_insert_with(Default::default);
        linux.security_context.get_or_insert_with(Default::default)
    }

    fn namespace_options(&mut self) -> &mut cri::NamespaceOption {
        self.security()
            .namespace_options
            .get_or_insert_with(Default::default)
    }

    /// shareProcessNamespace (Pod), hostPID (Node) or a pid namespace per container (Container).
    pub fn pid(mut self, mode: NamespaceMode) -> PodBuilder {
        self.namespace_options().pid = mode as i32;
        self
    }

    /// hostNetwork: the host's network namespace (Node), or the pod's own (Pod). Kubelet gives
    /// a hostNetwork pod no hostname: it has the host's UTS namespace, and so its name.
    pub fn network(mut self, mode: NamespaceMode) -> PodBuilder {
        self.namespace_options().network = mode as i32;
        if mode == NamespaceMode::Node {
            self.config.hostname.clear();
        }
        self
    }

    /// hostIPC (Node), or the pod's own (Pod).
    pub fn ipc(mut self, mode: NamespaceMode) -> PodBuilder {
        self.namespace_options().ipc = mode as i32;
        self
    }

    /// A pod that may run privileged containers.
    pub fn privileged(mut self) -> PodBuilder {
        self.security().privileged = true;
        self
    }

    pub fn sysctl(mut self, key: &str, value: &str) -> PodBuilder {
        let linux = self.config.linux.get_or_insert_with(Default::default);
        linux.sysctls.insert(key.into(), value.into());
        self
    }

    /// RunPodSandbox, then what the host shows of the sandbox (its pause process, cgroup, netns,
    /// veth) recorded for the checks after removal.
    pub async fn run(self) -> Result<Pod> {
        let PodBuilder { harness, config } = self;
        std::fs::create_dir_all(&config.log_directory).context("the pod's log directory")?;
        let started = Instant::now();
        let id = harness
            .cri
            .run_pod(config.clone(), &harness.handler)
            .await?;
        let run_time = started.elapsed();
        harness.live.lock().unwrap().push(id.clone());
        let mut traces = Traces::new(&harness, &config, &id);
        let state = harness.cri.pod_status(&id).await?;
        traces.record_runtime_object(&harness, &id, &state.info, false)?;
        traces.record_network(&state.info)?;
        Ok(Pod {
            harness,
            id,
            config,
            traces,
            run_time,
        })
    }
}

/// How long each step of a pod's removal took.
#[derive(Clone, Copy, Debug, Default)]
pub struct Removal {
    /// StopContainer of every running container.
    pub stop_containers: Duration,
    pub stop_pod: Duration,
    pub remove_pod: Duration,
}

/// A running pod sandbox and the containers started in it.
pub struct Pod {
    pub harness: Harness,
    pub id: String,
    pub config: cri::PodSandboxConfig,
    traces: Traces,
    /// How long RunPodSandbox took.
    pub run_time: Duration,
}

impl Pod {
    fn cri(&self) -> &Cri {
        &self.harness.cri
    }

    /// The sandbox's (pause) process on the host.
    pub async fn sandbox_process(&self) -> Result<Process> {
        let state = self.cri().pod_status(&self.id).await?;
        Ok(Process::new(info_pid(&state.info, false)?))
    }

    pub async fn status(&self) -> Result<cri::PodSandboxStatus> {
        Ok(self.cri().pod_status(&self.id).await?.status)
    }

    /// CreateContainer with the pod's namespace options (unless the builder set its own).
    pub async fn create(&mut self, mut builder: ContainerBuilder) -> Result<String> {
        let pod_ns = self
            .config
            .linux
            .as_ref()
            .and_then(|l| l.security_context.as_ref());
        let pod_ns = pod_ns
            .and_then(|s| s.namespace_options.clone())
            .unwrap_or_default();
        builder
            .security_context()
            .namespace_options
            .get_or_insert(pod_ns);
        let id = self
            .cri()
            .create_container(&self.id, builder.config, &self.config)
            .await?;
        self.traces.ids.push(id.clone());
        Ok(id)
    }

    /// CreateContainer + StartContainer; the container's init and cgroup recorded.
    pub async fn start(&mut self, builder: ContainerBuilder) -> Result<Container> {
        let log_path = PathBuf::from(&self.config.log_directory).join(&builder.config.log_path);
        let id = self.create(builder).await?;
        self.cri().start_container(&id).await?;
        let state = self.cri().container_status(&id).await?;
        let exited = state.status.state == cri::ContainerState::ContainerExited as i32;
        let (init, cgroup) =
            self.traces
                .record_runtime_object(&self.harness, &id, &state.info, exited)?;
        Ok(Container {
            id,
            init,
            cgroup,
            log_path,
        })
    }

    /// ExecSync; the command's stdout when it exits 0, an error with its output otherwise.
    pub async fn exec(&self, container: &Container, cmd: &[&str]) -> Result<String> {
        let out = self.cri().exec_sync(&container.id, cmd, 30).await?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.exit_code != 0 {
            bail!(
                "{cmd:?} in {} exited {}: stdout {stdout:?} stderr {:?}",
                container.id,
                out.exit_code,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(stdout)
    }

    /// `sh -c script` by ExecSync, its stdout trimmed.
    pub async fn sh(&self, container: &Container, script: &str) -> Result<String> {
        Ok(self
            .exec(container, &["sh", "-c", script])
            .await?
            .trim()
            .to_string())
    }

    /// Waits (up to `within`) until container `id` has exited; its final status.
    pub async fn wait_exited(&self, id: &str, within: Duration) -> Result<cri::ContainerStatus> {
        let deadline = Instant::now() + within;
        loop {
            let status = self.cri().container_status(id).await?.status;
            if status.state == cri::ContainerState::ContainerExited as i32 {
                return Ok(status);
            }
            if Instant::now() > deadline {
                bail!("container {id} still {:?} after {within:?}", status.state());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// StopContainer with grace period `grace` s; how long it took.
    pub async fn stop_container(&self, id: &str, grace: i64) -> Result<Duration> {
        let started = Instant::now();
        self.cri().stop_container(id, grace).await?;
        Ok(started.elapsed())
    }

    /// Kubelet's pod deletion: StopContainer (grace `grace` s) for every running container, then
    /// StopPodSandbox and RemovePodSandbox; each must end well within the grace period, and
    /// nothing of the pod may be left on the host afterwards. How long each step took.
    pub async fn remove(mut self, grace: i64) -> Result<Removal> {
        let mut removal = Removal::default();
        let started = Instant::now();
        for c in self.cri().list_containers(&self.id).await? {
            if c.state == cri::ContainerState::ContainerRunning as i32 {
                let took = self.explained(&c.id, self.stop_container(&c.id, grace).await)?;
                ensure!(
                    took < Duration::from_secs(grace as u64 + 5),
                    "StopContainer of {} took {took:.1?} with a grace period of {grace} s{}",
                    c.id,
                    self.log_hint(&c.id)
                );
            }
        }
        removal.stop_containers = started.elapsed();
        let started = Instant::now();
        self.explained(&self.id, self.cri().stop_pod(&self.id).await)?;
        removal.stop_pod = started.elapsed();
        ensure!(
            removal.stop_pod < Duration::from_secs(10),
            "StopPodSandbox took {:.1?}{}",
            removal.stop_pod,
            self.log_hint(&self.id)
        );
        let started = Instant::now();
        self.explained(&self.id, self.cri().remove_pod(&self.id).await)?;
        removal.remove_pod = started.elapsed();
        self.harness
            .live
            .lock()
            .unwrap()
            .retain(|id| *id != self.id);
        self.check_nothing_left().await?;
        Ok(removal)
    }

    /// `result`, an error followed by what containerd's log says about `id`.
    pub fn explained<T>(&self, id: &str, result: Result<T>) -> Result<T> {
        result.map_err(|e| anyhow::anyhow!("{e:#}{}", self.log_hint(id)))
    }

    /// containerd's warnings and errors about this pod and its containers, for a failure message.
    pub fn log_hint(&self, id: &str) -> String {
        let about = self.harness.env.containerd_log_about(id);
        if about.is_empty() {
            String::new()
        } else {
            format!("\ncontainerd's log about {id}:\n{about}")
        }
    }

    async fn check_nothing_left(&mut self) -> Result<()> {
        let pods = self.cri().list_pods().await?;
        ensure!(
            !pods.iter().any(|p| p.id == self.id),
            "pod {} still listed after RemovePodSandbox",
            self.id
        );
        let containers = self.cri().list_containers(&self.id).await?;
        ensure!(
            containers.is_empty(),
            "containers of removed pod {} still listed: {containers:?}",
            self.id
        );
        // The shim exits on its own once its last task is deleted: give it a moment.
        for _ in 0..50 {
            if host::shims_of(&self.harness.env, &self.id).is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.traces.check_gone(&self.harness)
    }

    /// A process (a server's worker) that must be gone once the pod is removed.
    pub fn must_not_outlive(&mut self, what: &str, process: Process) {
        self.traces.record_process(what.to_string(), process);
    }
}

/// The "pid" of containerd's verbose info about a sandbox or container. containerd says 0 for
/// one that has exited (a container that ran `true` may have by its first status): allowed when
/// `exited`, and a `Process` of pid 0 is one that is gone.
pub(crate) fn info_pid(info: &serde_json::Value, exited: bool) -> Result<i32> {
    let pid = info["pid"]
        .as_i64()
        .with_context(|| format!("no pid in containerd's info {info}"))?;
    ensure!(
        pid > 0 || (pid == 0 && exited),
        "pid {pid} in containerd's info"
    );
    Ok(pid as i32)
}
