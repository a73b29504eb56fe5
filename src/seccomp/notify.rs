//! SCMP_ACT_NOTIFY, host side: hand a container process's listener to the seccomp agent at
//! `listenerPath`, as runtime-spec describes — one message on a unix stream socket carrying the
//! ContainerProcessState JSON and, by SCM_RIGHTS, the descriptor its `fds` names.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;

use anyhow::{Context, Result};
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
use serde_json::{json, Value};

use super::Listener;

/// Sends the listener `fd` of process `pid` with the container's `state` (the state JSON of
/// runtime-spec, as hooks get it).
pub fn send_to_agent(listener: &Listener, fd: BorrowedFd, pid: i32, state: &str) -> Result<()> {
    let path = &listener.path;
    let state: Value = serde_json::from_str(state).context("container state")?;
    let doc = json!({
        "ociVersion": crate::cli::SPEC_VERSION,
        "fds": ["seccompFd"],
        "pid": pid,
        "metadata": listener.metadata,
        "state": state,
    });
    let bytes = serde_json::to_vec(&doc)?;
    let agent = UnixStream::connect(path).with_context(|| {
        format!(
            "linux.seccomp.listenerPath: failed to connect with seccomp agent at {}",
            path.display()
        )
    })?;
    let fds = [fd.as_raw_fd()];
    sendmsg::<()>(
        agent.as_raw_fd(),
        &[IoSlice::new(&bytes)],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .with_context(|| format!("send the seccomp listener to {}", path.display()))?;
    Ok(())
}
