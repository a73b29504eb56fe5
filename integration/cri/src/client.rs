//! The CRI v1 runtime service over containerd's socket, one method per call kubelet makes, each
//! bounded in time and its error naming the call.

use anyhow::{anyhow, Context, Result};
use hyper_util::rt::TokioIo;
use k8s_cri::v1 as cri;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::time::Duration;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};

/// Longer than any stop containerd may take on its own (it gives up on a kill after 2 minutes
/// would be too long to wait for: a call that takes this long has hung).
const CALL_TIMEOUT: Duration = Duration::from_secs(100);

#[derive(Clone)]
pub struct Cri {
    rt: RuntimeServiceClient<Channel>,
}

async fn bounded<T>(
    what: &str,
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Err(_) => Err(anyhow!("{what}: no answer in {CALL_TIMEOUT:?}")),
        Ok(Err(status)) => Err(anyhow!("{what}: {:?}: {}", status.code(), status.message())),
        Ok(Ok(response)) => Ok(response.into_inner()),
    }
}

/// A container's status with containerd's verbose info (its "info" JSON: pid, runtimeSpec …).
pub struct ContainerState {
    pub status: cri::ContainerStatus,
    pub info: serde_json::Value,
}

pub struct PodState {
    pub status: cri::PodSandboxStatus,
    pub info: serde_json::Value,
}

fn verbose_info(info: &HashMap<String, String>) -> Result<serde_json::Value> {
    match info.get("info") {
        Some(json) => serde_json::from_str(json).context("containerd's verbose info"),
        None => Ok(serde_json::Value::Null),
    }
}

impl Cri {
    pub async fn connect(socket: &Path) -> Result<Cri> {
        let socket = socket.to_path_buf();
        let channel =
            Endpoint::from_static("http://[::]:0")
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let socket = socket.clone();
                    async move {
                        Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?))
                    }
                }))
                .await
                .context("connecting to containerd's CRI socket")?;
        Ok(Cri {
            rt: RuntimeServiceClient::new(channel),
        })
    }

    pub async fn run_pod(&self, config: cri::PodSandboxConfig, handler: &str) -> Result<String> {
        let request = cri::RunPodSandboxRequest {
            config: Some(config),
            runtime_handler: handler.into(),
        };
        Ok(
            bounded("RunPodSandbox", self.rt.clone().run_pod_sandbox(request))
                .await?
                .pod_sandbox_id,
        )
    }

    pub async fn stop_pod(&self, id: &str) -> Result<()> {
        let request = cri::StopPodSandboxRequest {
            pod_sandbox_id: id.into(),
        };
        bounded("StopPodSandbox", self.rt.clone().stop_pod_sandbox(request))
            .await
            .map(drop)
    }

    pub async fn remove_pod(&self, id: &str) -> Result<()> {
        let request = cri::RemovePodSandboxRequest {
            pod_sandbox_id: id.into(),
        };
        bounded(
            "RemovePodSandbox",
            self.rt.clone().remove_pod_sandbox(request),
        )
        .await
        .map(drop)
    }

    pub async fn pod_status(&self, id: &str) -> Result<PodState> {
        let request = cri::PodSandboxStatusRequest {
            pod_sandbox_id: id.into(),
            verbose: true,
        };
        let response = bounded(
            "PodSandboxStatus",
            self.rt.clone().pod_sandbox_status(request),
        )
        .await?;
        let info = verbose_info(&response.info)?;
        Ok(PodState {
            status: response.status.context("PodSandboxStatus: no status")?,
            info,
        })
    }

    pub async fn list_pods(&self) -> Result<Vec<cri::PodSandbox>> {
        let request = cri::ListPodSandboxRequest::default();
        Ok(
            bounded("ListPodSandbox", self.rt.clone().list_pod_sandbox(request))
                .await?
                .items,
        )
    }

    pub async fn create_container(
        &self,
        pod_id: &str,
        config: cri::ContainerConfig,
        pod_config: &cri::PodSandboxConfig,
    ) -> Result<String> {
        let request = cri::CreateContainerRequest {
            pod_sandbox_id: pod_id.into(),
            config: Some(config),
            sandbox_config: Some(pod_config.clone()),
        };
        Ok(
            bounded("CreateContainer", self.rt.clone().create_container(request))
                .await?
                .container_id,
        )
    }

    pub async fn start_container(&self, id: &str) -> Result<()> {
        let request = cri::StartContainerRequest {
            container_id: id.into(),
        };
        bounded("StartContainer", self.rt.clone().start_container(request))
            .await
            .map(drop)
    }

    /// StopContainer with kubelet's grace period: the stop signal, then KILL after `timeout` s.
    pub async fn stop_container(&self, id: &str, timeout: i64) -> Result<()> {
        let request = cri::StopContainerRequest {
            container_id: id.into(),
            timeout,
        };
        bounded("StopContainer", self.rt.clone().stop_container(request))
            .await
            .map(drop)
    }

    pub async fn remove_container(&self, id: &str) -> Result<()> {
        let request = cri::RemoveContainerRequest {
            container_id: id.into(),
        };
        bounded("RemoveContainer", self.rt.clone().remove_container(request))
            .await
            .map(drop)
    }

    pub async fn container_status(&self, id: &str) -> Result<ContainerState> {
        let request = cri::ContainerStatusRequest {
            container_id: id.into(),
            verbose: true,
        };
        let response =
            bounded("ContainerStatus", self.rt.clone().container_status(request)).await?;
        let info = verbose_info(&response.info)?;
        Ok(ContainerState {
            status: response.status.context("ContainerStatus: no status")?,
            info,
        })
    }

    pub async fn list_containers(&self, pod_id: &str) -> Result<Vec<cri::Container>> {
        let filter = cri::ContainerFilter {
            pod_sandbox_id: pod_id.into(),
            ..Default::default()
        };
        let request = cri::ListContainersRequest {
            filter: Some(filter),
        };
        Ok(
            bounded("ListContainers", self.rt.clone().list_containers(request))
                .await?
                .containers,
        )
    }

    pub async fn exec_sync(
        &self,
        id: &str,
        cmd: &[&str],
        timeout: i64,
    ) -> Result<cri::ExecSyncResponse> {
        let request = cri::ExecSyncRequest {
            container_id: id.into(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            timeout,
        };
        bounded("ExecSync", self.rt.clone().exec_sync(request)).await
    }

    /// The streaming server's URL for an exec with stdin, stdout and stderr (no terminal).
    pub async fn exec_url(&self, id: &str, cmd: &[&str]) -> Result<String> {
        let request = cri::ExecRequest {
            container_id: id.into(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            stdin: true,
            stdout: true,
            stderr: true,
            tty: false,
        };
        Ok(bounded("Exec", self.rt.clone().exec(request)).await?.url)
    }

    pub async fn attach_url(&self, id: &str) -> Result<String> {
        let request = cri::AttachRequest {
            container_id: id.into(),
            stdin: true,
            stdout: true,
            stderr: true,
            tty: false,
        };
        Ok(bounded("Attach", self.rt.clone().attach(request))
            .await?
            .url)
    }

    pub async fn port_forward_url(&self, pod_id: &str, port: i32) -> Result<String> {
        let request = cri::PortForwardRequest {
            pod_sandbox_id: pod_id.into(),
            port: vec![port],
        };
        Ok(
            bounded("PortForward", self.rt.clone().port_forward(request))
                .await?
                .url,
        )
    }

    pub async fn container_stats(&self, id: &str) -> Result<cri::ContainerStats> {
        let request = cri::ContainerStatsRequest {
            container_id: id.into(),
        };
        bounded("ContainerStats", self.rt.clone().container_stats(request))
            .await?
            .stats
            .context("ContainerStats: no stats")
    }

    pub async fn update_resources(
        &self,
        id: &str,
        resources: cri::LinuxContainerResources,
    ) -> Result<()> {
        let request = cri::UpdateContainerResourcesRequest {
            container_id: id.into(),
            linux: Some(resources),
            ..Default::default()
        };
        bounded(
            "UpdateContainerResources",
            self.rt.clone().update_container_resources(request),
        )
        .await
        .map(drop)
    }
}
