//! Namespaces in a pod: net, ipc and uts of the sandbox joined by path; a pid namespace per
//! container, per pod (shareProcessNamespace) or the host's (hostPID); hostNetwork and hostIPC.

use anyhow::{ensure, Result};
use berth_cri_tests::host::{self, namespace};
use berth_cri_tests::stream;
use berth_cri_tests::{Harness, NamespaceMode};

pub async fn containers_share_network_ipc_uts_with_the_sandbox(h: Harness) -> Result<()> {
    let mut pod = h.pod("shared").run().await?;
    let sandbox = pod.sandbox_process().await?;
    let server = pod.start(h.httpd("server")).await?;
    let client = pod
        .start(
            h.busybox("client")
                .shell("echo from-client > /dev/shm/note; exec sleep 1000"),
        )
        .await?;
    stream::wait_for_http(&h.cri, &pod.id, 80).await?;

    for c in [&server, &client] {
        for kind in ["net", "ipc", "uts"] {
            ensure!(
                namespace(c.pid(), kind)? == namespace(sandbox.pid, kind)?,
                "{} is not in the sandbox's {kind} namespace",
                c.id
            );
        }
        for kind in ["pid", "mnt"] {
            ensure!(
                namespace(c.pid(), kind)? != namespace(sandbox.pid, kind)?,
                "{} shares the sandbox's {kind} namespace",
                c.id
            );
        }
    }
    ensure!(
        namespace(server.pid(), "pid")? != namespace(client.pid(), "pid")?,
        "one pid namespace for two"
    );

    // From inside: the pod's hostname, its address on eth0, a server of the pod on localhost,
    // the pod's /dev/shm, and a pid namespace of its own.
    let hostname = pod.config.hostname.clone();
    ensure!(
        pod.sh(&client, "hostname").await? == hostname,
        "hostname is not the pod's"
    );
    let ip = pod
        .status()
        .await?
        .network
        .map(|n| n.ip)
        .unwrap_or_default();
    let subnet_prefix = h
        .env
        .subnet
        .rsplit_once('.')
        .map(|(p, _)| p)
        .unwrap_or_default();
    ensure!(
        ip.starts_with(subnet_prefix),
        "pod address {ip:?} not in {}",
        h.env.subnet
    );
    let eth0 = pod.sh(&client, "ip -4 -o addr show eth0").await?;
    ensure!(
        eth0.contains(&format!(" {ip}/")),
        "eth0 in the container: {eth0}"
    );
    let page = pod.sh(&client, "wget -q -O - http://127.0.0.1/").await?;
    ensure!(
        page == "hello from httpd",
        "the pod's server on localhost answered {page:?}"
    );
    ensure!(
        pod.sh(&server, "cat /dev/shm/note").await? == "from-client",
        "/dev/shm is not the pod's"
    );
    let pid1 = pod
        .sh(&client, "cat /proc/1/cmdline | tr '\\0' ' '")
        .await?;
    ensure!(
        pid1 == "sleep 1000",
        "pid 1 in the client is {pid1:?}, not its own init"
    );
    pod.remove(10).await?;
    Ok(())
}

/// shareProcessNamespace: every container in the sandbox's pid namespace, where the pause is
/// pid 1 and each sees the others' processes.
pub async fn pod_pid_namespace_is_shared(h: Harness) -> Result<()> {
    let mut pod = h.pod("podpid").pid(NamespaceMode::Pod).run().await?;
    let sandbox = pod.sandbox_process().await?;
    let server = pod.start(h.httpd("server")).await?;
    let client = pod
        .start(h.busybox("client").command(&["sleep", "1000"]))
        .await?;
    for c in [&server, &client] {
        ensure!(
            namespace(c.pid(), "pid")? == namespace(sandbox.pid, "pid")?,
            "{} has a pid namespace of its own",
            c.id
        );
    }
    let pid1 = pod
        .sh(&client, "cat /proc/1/cmdline | tr '\\0' ' '")
        .await?;
    ensure!(
        pid1.starts_with("sh -c trap"),
        "pid 1 in the pod is {pid1:?}, not the pause"
    );
    let seen = pod.sh(&client, "ps -o comm").await?;
    ensure!(
        seen.lines().any(|l| l.trim() == "httpd"),
        "the client does not see the server: {seen}"
    );
    pod.remove(10).await?;
    Ok(())
}

/// hostNetwork, hostPID and hostIPC: the host's namespaces, and no network namespace made.
pub async fn host_namespaces(h: Harness) -> Result<()> {
    let mut pod = h
        .pod("host")
        .network(NamespaceMode::Node)
        .pid(NamespaceMode::Node)
        .ipc(NamespaceMode::Node)
        .run()
        .await?;
    let c = pod
        .start(h.busybox("c").command(&["sleep", "1000"]))
        .await?;
    for kind in ["net", "pid", "ipc", "uts"] {
        ensure!(
            namespace(c.pid(), kind)? == host::host_namespace(kind)?,
            "not in the host's {kind} namespace"
        );
    }
    ensure!(
        namespace(c.pid(), "mnt")? != host::host_namespace("mnt")?,
        "in the host's mount namespace"
    );
    let ip = pod
        .status()
        .await?
        .network
        .map(|n| n.ip)
        .unwrap_or_default();
    ensure!(
        ip.is_empty(),
        "a hostNetwork pod got an address of its own: {ip}"
    );
    let host_init = std::fs::read("/proc/1/cmdline")?;
    let host_init = String::from_utf8_lossy(&host_init).replace('\0', " ");
    ensure!(
        pod.sh(&c, "cat /proc/1/cmdline | tr '\\0' ' '").await? == host_init.trim_end(),
        "pid 1 is not the host's"
    );
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")?;
    ensure!(
        pod.sh(&c, "hostname").await? == hostname.trim(),
        "hostname is not the host's"
    );
    pod.remove(10).await?;
    Ok(())
}
