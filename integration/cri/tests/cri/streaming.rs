//! ExecSync, and the streams of the streaming server (Exec, Attach, PortForward) spoken over a
//! WebSocket as kubectl does.

use anyhow::{ensure, Result};
use berth_cri_tests::stream::{self, Channels};
use berth_cri_tests::Harness;
use std::time::{Duration, Instant};

pub async fn exec_sync_output_exit_code_and_timeout(h: Harness) -> Result<()> {
    let mut pod = h.pod("execsync").run().await?;
    let c = pod
        .start(h.busybox("c").command(&["sleep", "1000"]))
        .await?;
    let out = h
        .cri
        .exec_sync(&c.id, &["sh", "-c", "echo out; echo err >&2; exit 3"], 10)
        .await?;
    ensure!(out.exit_code == 3, "exit code {}", out.exit_code);
    ensure!(
        out.stdout == b"out\n" && out.stderr == b"err\n",
        "stdout {:?} stderr {:?}",
        out.stdout,
        out.stderr
    );
    let missing = h.cri.exec_sync(&c.id, &["/no/such/program"], 10).await;
    ensure!(
        missing.as_ref().map_or(true, |out| out.exit_code != 0),
        "exec of a missing program succeeded: {missing:?}"
    );

    // A command that outlives its timeout is stopped, and nothing of it stays in the container.
    let started = Instant::now();
    let late = h.cri.exec_sync(&c.id, &["sleep", "60"], 2).await;
    ensure!(
        late.is_err(),
        "ExecSync with a 2 s timeout of sleep 60 returned {late:?}"
    );
    ensure!(
        started.elapsed() < Duration::from_secs(15),
        "ExecSync's timeout took {:.1?}",
        started.elapsed()
    );
    for _ in 0..50 {
        if c.cgroup_procs() == [c.pid()] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(
        c.cgroup_procs() == [c.pid()],
        "after the timeout the cgroup holds {:?}",
        c.cgroup_procs()
    );
    pod.remove(10).await?;
    Ok(())
}

pub async fn exec_stream(h: Harness) -> Result<()> {
    let mut pod = h.pod("exec").run().await?;
    let c = pod
        .start(h.busybox("c").command(&["sleep", "1000"]))
        .await?;
    let url = h
        .cri
        .exec_url(
            &c.id,
            &[
                "sh",
                "-c",
                "read line; echo got $line; echo err >&2; exit 5",
            ],
        )
        .await?;
    let mut stream = Channels::open(&url, "").await?;
    stream.send(0, b"hello\n").await?;
    let received = stream.read_to_end().await?;
    ensure!(
        received.text(1) == "got hello\n",
        "exec's stdout: {:?}",
        received.text(1)
    );
    ensure!(
        received.text(2) == "err\n",
        "exec's stderr: {:?}",
        received.text(2)
    );
    ensure!(
        received.exit_code()? == 5,
        "exec's status: {}",
        received.text(3)
    );
    pod.remove(10).await?;
    Ok(())
}

/// Attach to a running container's stdio: stdin in, stdout out, the log file gets it too.
pub async fn attach_stream(h: Harness) -> Result<()> {
    let mut pod = h.pod("attach").run().await?;
    let c = pod
        .start(h.busybox("cat").command(&["cat"]).stdin())
        .await?;
    let url = h.cri.attach_url(&c.id).await?;
    let mut stream = Channels::open(&url, "").await?;
    stream.send(0, b"ping through attach\n").await?;
    let echoed = stream.read_until(1, "ping through attach\n").await?;
    ensure!(
        echoed == "ping through attach\n",
        "attach's stdout: {echoed:?}"
    );
    stream.close().await?;
    ensure!(
        c.wait_log_lines("stdout", 1).await == ["ping through attach"],
        "the log: {:?}",
        c.log()
    );
    pod.remove(10).await?;
    Ok(())
}

pub async fn port_forward(h: Harness) -> Result<()> {
    let mut pod = h.pod("portforward").run().await?;
    pod.start(h.httpd("server")).await?;
    stream::wait_for_http(&h.cri, &pod.id, 80).await?;
    let response = stream::http_get(&h.cri, &pod.id, 80, "/index.html").await?;
    ensure!(
        response.starts_with("HTTP/1.")
            && response.contains(" 200 ")
            && response.ends_with("hello from httpd\n"),
        "the response through port-forward: {response:?}"
    );
    pod.remove(10).await?;
    Ok(())
}
