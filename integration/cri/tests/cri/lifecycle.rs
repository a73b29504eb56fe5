//! A pod's life as kubelet drives it: containers listed, exec'd into, stopped, restarted,
//! removed; exit codes and the CRI log file.

use anyhow::{ensure, Result};
use berth_cri_tests::{cri, Harness};
use std::time::Duration;

const RUNNING: i32 = cri::ContainerState::ContainerRunning as i32;

pub async fn pod_lifecycle_leaves_nothing(h: Harness) -> Result<()> {
    let mut pod = h.pod("lifecycle").run().await?;
    let sleeper = pod
        .start(h.busybox("sleeper").command(&["sleep", "1000"]))
        .await?;

    let listed = h.cri.list_containers(&pod.id).await?;
    ensure!(
        listed.len() == 1 && listed[0].id == sleeper.id && listed[0].state == RUNNING,
        "ListContainers of the pod: {listed:?}"
    );
    let status = h.cri.container_status(&sleeper.id).await?.status;
    ensure!(
        status.state == RUNNING && status.started_at > 0,
        "ContainerStatus: {status:?}"
    );
    ensure!(
        pod.sh(&sleeper, "cat /proc/1/cmdline | tr '\\0' ' '")
            .await?
            == "sleep 1000"
    );

    // sleep is pid 1 of its namespace and has no TERM handler: TERM does nothing, and the end of
    // the grace period brings KILL — not before, and not much after.
    let took = pod.stop_container(&sleeper.id, 2).await?;
    ensure!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(7),
        "StopContainer with a 2 s grace period took {took:.1?}{}",
        pod.log_hint(&sleeper.id)
    );
    let status = pod.wait_exited(&sleeper.id, Duration::from_secs(5)).await?;
    ensure!(status.exit_code == 137, "exit code after KILL: {status:?}");
    ensure!(!sleeper.init.alive(), "the container's init is still alive");

    h.cri.remove_container(&sleeper.id).await?;
    let listed = h.cri.list_containers(&pod.id).await?;
    ensure!(
        listed.is_empty(),
        "ListContainers after RemoveContainer: {listed:?}"
    );
    pod.remove(10).await?;
    Ok(())
}

pub async fn exit_codes_and_logs(h: Harness) -> Result<()> {
    let mut pod = h.pod("exit").run().await?;
    let failing = pod
        .start(
            h.busybox("failing")
                .shell("echo to-stdout; echo to-stderr >&2; echo second line; exit 42"),
        )
        .await?;
    let completing = pod
        .start(h.busybox("completing").command(&["true"]))
        .await?;

    let status = pod
        .wait_exited(&failing.id, Duration::from_secs(10))
        .await?;
    ensure!(
        status.exit_code == 42 && status.reason == "Error",
        "a container's exit 42: {status:?}"
    );
    // Both times are there. Their order is not a contract: containerd's CRI stamps started_at
    // once the start call has come back through the shim, finished_at when the shim reaps the
    // process — one that exits at once may be reaped first (seen with berth, possible with runc).
    ensure!(
        status.started_at > 0 && status.finished_at > 0,
        "start and finish times: {status:?}"
    );
    let status = pod
        .wait_exited(&completing.id, Duration::from_secs(10))
        .await?;
    ensure!(
        status.exit_code == 0 && status.reason == "Completed",
        "a container's exit 0: {status:?}"
    );

    // The CRI log format: "<RFC 3339 time> <stream> F <line>", stdout and stderr apart.
    let log = failing.log();
    ensure!(
        failing.log_lines("stdout") == ["to-stdout", "second line"],
        "stdout in the log: {log:?}"
    );
    ensure!(
        failing.log_lines("stderr") == ["to-stderr"],
        "stderr in the log: {log:?}"
    );
    for line in log.lines() {
        let fields: Vec<&str> = line.splitn(4, ' ').collect();
        ensure!(
            fields.len() == 4 && fields[0].contains('T') && fields[2] == "F",
            "not a CRI log line: {line:?}"
        );
    }
    ensure!(
        completing.log().is_empty(),
        "true wrote {:?}",
        completing.log()
    );
    pod.remove(10).await?;
    Ok(())
}

/// Kubelet restarts a container that exited by creating its next attempt in the same pod: the
/// sandbox (its pause, network namespace, address) stays, each attempt logs to its own file.
pub async fn restart_in_a_live_pod(h: Harness) -> Result<()> {
    let mut pod = h.pod("restart").run().await?;
    let sandbox = pod.sandbox_process().await?;
    let ip = pod
        .status()
        .await?
        .network
        .map(|n| n.ip)
        .unwrap_or_default();

    let first = pod
        .start(h.busybox("app").shell("echo attempt 0; exit 3"))
        .await?;
    let status = pod.wait_exited(&first.id, Duration::from_secs(10)).await?;
    ensure!(status.exit_code == 3, "attempt 0: {status:?}");

    let second = pod
        .start(
            h.busybox("app")
                .attempt(1)
                .shell("echo attempt 1; exec sleep 1000"),
        )
        .await?;
    ensure!(second.id != first.id);
    let status = h.cri.container_status(&second.id).await?.status;
    ensure!(status.state == RUNNING, "attempt 1: {status:?}");
    ensure!(
        pod.sandbox_process().await? == sandbox,
        "the sandbox's pause changed"
    );
    ensure!(sandbox.alive(), "the sandbox's pause died");
    let ip_now = pod
        .status()
        .await?
        .network
        .map(|n| n.ip)
        .unwrap_or_default();
    ensure!(
        ip_now == ip && !ip.is_empty(),
        "the pod's address: {ip:?}, then {ip_now:?}"
    );
    let inside = pod.sh(&second, "ip -4 -o addr show eth0").await?;
    ensure!(
        inside.contains(&format!(" {ip}/")),
        "eth0 of attempt 1: {inside}"
    );

    // Each attempt has its own log file; attempt 0's stays.
    ensure!(
        first.log_lines("stdout") == ["attempt 0"],
        "attempt 0's log: {:?}",
        first.log()
    );
    ensure!(
        second.wait_log_lines("stdout", 1).await == ["attempt 1"],
        "attempt 1's log: {:?}",
        second.log()
    );

    // The dead attempt goes, the pod lives on.
    h.cri.remove_container(&first.id).await?;
    let listed = h.cri.list_containers(&pod.id).await?;
    ensure!(
        listed.len() == 1 && listed[0].id == second.id,
        "ListContainers: {listed:?}"
    );
    pod.remove(10).await?;
    Ok(())
}
