//! The container side of `berth exec`: join every namespace of the container's init at once
//! (setns on its pidfd, user namespace included), fork once more so the process lands in the
//! pid namespace as berth's child, then the shared last steps of `launch`.

use std::convert::Infallible;
use std::os::fd::{AsFd, AsRawFd};

use anyhow::{bail, Context, Result};
use nix::sched::setns;
use nix::unistd::setsid;

use crate::linux::sys;
use crate::process::launch;
use crate::process::sync::{Channel, ChildMsg, ParentMsg};
use crate::process::ExecConfig;

/// The cloned child's work; only returns an error.
pub fn join_and_exec(cfg: &ExecConfig, ch: &Channel) -> Result<Infallible> {
    let mut keep = vec![cfg.init.as_raw_fd()];
    keep.extend(cfg.proc.console_socket.iter().map(|f| f.as_raw_fd()));
    launch::enter_clone(ch, cfg.proc.preserve_fds, &keep)?;
    if !cfg.namespaces.is_empty() {
        setns(cfg.init.as_fd(), cfg.namespaces).context("join the container's namespaces")?;
    }
    // A pid (and time) namespace only takes children: the process to run is forked now.
    if let Some(pid) = sys::fork_sibling().context("fork into the container")? {
        ch.send(&ChildMsg::InitPid(pid.as_raw()))?;
        // SAFETY: the intermediate process leaves without running berth's exit path.
        unsafe { libc::_exit(0) }
    }
    setsid().context("setsid")?;
    if cfg.proc.process.terminal() == Some(true) {
        launch::terminal(&cfg.proc, ch, false)?;
    }
    launch::finish(&cfg.proc, ch, |msg, _| match msg {
        ParentMsg::Exec => Ok(()),
        other => bail!("unexpected message from berth: {other:?}"),
    })
}
