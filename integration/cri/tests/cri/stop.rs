//! A server that forks a worker per connection, stopped as kubelet stops a pod: StopContainer
//! with a grace period, StopPodSandbox, RemovePodSandbox. The server stops on TERM at once; its
//! worker, busy with an open connection, must not keep the container, the pod or the runtime's
//! delete waiting — whether the container has a pid namespace of its own (the worker dies with
//! its init) or shares the pod's (the worker outlives the init: the runtime must kill it).

use anyhow::{ensure, Result};
use berth_cri_tests::host::Process;
use berth_cri_tests::stream::{self, Forward};
use berth_cri_tests::{Harness, NamespaceMode};
use std::time::Duration;

const GRACE: i64 = 10;

pub async fn forking_server_stops_within_grace_period(h: Harness) -> Result<()> {
    stop_forking_server(h, NamespaceMode::Container).await
}

pub async fn forking_server_in_pod_pid_namespace_stops_within_grace_period(
    h: Harness,
) -> Result<()> {
    stop_forking_server(h, NamespaceMode::Pod).await
}

async fn stop_forking_server(h: Harness, pid: NamespaceMode) -> Result<()> {
    let mut pod = h.pod("fork").pid(pid).run().await?;
    // As an entrypoint script would: httpd in the background, stopped on TERM, exit 0.
    let server = pod
        .start(h.httpd("server").shell(
            "trap 'kill $pid; wait $pid; exit 0' TERM; httpd -f -p 80 -h /www & pid=$!; wait $pid",
        ))
        .await?;
    stream::wait_for_http(&h.cri, &pod.id, 80).await?;
    let url = h.cri.port_forward_url(&pod.id, 80).await?;

    // A connection whose request never ends: httpd forks a worker for it, which waits.
    let before = server.cgroup_procs();
    let mut held = Forward::open(&url, 80).await?;
    held.send(b"GET / HTTP/1.0\r\n").await?;
    let mut workers = vec![];
    for _ in 0..100 {
        workers = server
            .cgroup_procs()
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect();
        if !workers.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ensure!(
        !workers.is_empty(),
        "httpd forked no worker for the connection (cgroup has {before:?})"
    );
    let workers: Vec<Process> = workers.into_iter().map(Process::new).collect();
    for w in &workers {
        pod.must_not_outlive("httpd's worker", *w);
    }

    let took = pod.explained(&server.id, pod.stop_container(&server.id, GRACE).await)?;
    ensure!(
        took < Duration::from_secs(5),
        "StopContainer took {took:.1?} (grace period {GRACE} s) for a server that exits on TERM{}",
        pod.log_hint(&server.id)
    );
    let status = pod.wait_exited(&server.id, Duration::from_secs(5)).await?;
    ensure!(
        status.exit_code == 0,
        "the server did not exit by its TERM trap: {status:?}"
    );
    for w in &workers {
        ensure!(
            !w.alive(),
            "httpd's worker {} outlived its stopped container",
            w.pid
        );
    }
    drop(held);
    pod.remove(GRACE).await?;
    Ok(())
}
