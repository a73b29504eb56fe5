//! The container's processes: one clone, a typed sync protocol over one socketpair, no re-exec of
//! berth. `spawn` is the host side; `init` (create) and `exec` run in the clone and share the
//! final steps in `launch`, which end in the exec of the container's program; `foreground` is what
//! `berth run` and `berth exec` do while the process runs.

pub mod exe_guard;
pub mod exec;
pub mod foreground;
pub mod init;
pub mod launch;
pub mod spawn;
pub mod sync;

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use oci_spec::runtime::{Hooks, Linux, LinuxPersonality, Process, Spec};

use crate::cgroups::CgroupPaths;
use crate::linux::apparmor;
use crate::linux::capabilities::CapSets;
use crate::linux::mempolicy::MemPolicy;
use crate::linux::namespaces::NamespacePlan;
use crate::seccomp::Filter;
use crate::state::State;

/// What every container process needs for its last steps: identity, limits, terminal, exec.
pub struct ProcessConfig<'a> {
    pub process: &'a Process,
    pub caps: CapSets,
    pub personality: Option<&'a LinuxPersonality>,
    /// `linux.memoryPolicy`: container-wide, so an exec'd process gets it as well.
    pub memory_policy: Option<MemPolicy>,
    /// Connected `--console-socket`, to send the pty master over.
    pub console_socket: Option<OwnedFd>,
    /// Descriptors after stdio passed to the process (LISTEN_FDS + --preserve-fds).
    pub preserve_fds: u32,
    /// Variables berth adds to process.env (LISTEN_FDS, LISTEN_PID).
    pub extra_env: Vec<String>,
    /// The container's seccomp filter, compiled on the host side (`exec` gets the container's).
    pub seccomp: Option<&'a Filter>,
    /// The AppArmor profile to enter at exec — decided on the host side, where /sys is.
    pub apparmor_profile: Option<&'a str>,
}

impl<'a> ProcessConfig<'a> {
    pub fn new(
        process: &'a Process,
        linux: &'a Linux,
        console_socket: Option<OwnedFd>,
        preserve_fds: u32,
        seccomp: Option<&'a Filter>,
    ) -> Result<Self> {
        let (listen_fds, extra_env) = socket_activation();
        Ok(ProcessConfig {
            process,
            caps: CapSets::from_spec(process.capabilities().as_ref())?,
            personality: linux.personality().as_ref(),
            memory_policy: linux
                .memory_policy()
                .as_ref()
                .map(MemPolicy::from_spec)
                .transpose()?,
            console_socket,
            preserve_fds: listen_fds + preserve_fds,
            extra_env,
            seccomp,
            apparmor_profile: apparmor::wanted(process.apparmor_profile().as_deref())
                .map_err(|msg| anyhow!("process.apparmorProfile: {msg}"))?,
        })
    }
}

/// The descriptors the container process is handed — LISTEN_FDS, then `--preserve-fds`: 3 and
/// up — must all be open before berth opens one of its own (runc: "unable to stat preserved-fd").
/// Otherwise one of berth's would take a free number there and be handed on: its state directory
/// with the container's lock, exec.fifo, the cgroup (CVE-2024-21626). Once they are all open,
/// every descriptor berth opens lands above them.
pub fn check_passed_fds(preserve: u32) -> Result<()> {
    let (listen, _) = socket_activation();
    let first = 3 + u64::from(listen);
    for fd in 3..first + u64::from(preserve) {
        let open = i32::try_from(fd).is_ok_and(|fd| {
            // SAFETY: F_GETFD only reads the descriptor's flags.
            unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
        });
        if open {
            continue;
        }
        if fd < first {
            bail!("LISTEN_FDS={listen}: fd {fd} is not open");
        }
        bail!(
            "unable to stat preserved-fd {} (of {preserve}): fd {fd} is not open",
            fd - first
        );
    }
    Ok(())
}

/// systemd socket activation passes LISTEN_FDS descriptors from 3 on; runc hands them on.
fn socket_activation() -> (u32, Vec<String>) {
    let fds: u32 = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let for_us = std::env::var("LISTEN_PID")
        .map(|p| p == std::process::id().to_string())
        .unwrap_or(true);
    if fds == 0 || !for_us {
        return (0, Vec::new());
    }
    (
        fds,
        vec![format!("LISTEN_FDS={fds}"), "LISTEN_PID=1".to_owned()],
    )
}

/// Everything the clone of `create` needs, prepared (and validated) on the host side.
pub struct InitConfig<'a> {
    pub id: &'a str,
    pub spec: &'a Spec,
    pub rootfs: &'a Path,
    pub bundle: &'a Path,
    pub plan: NamespacePlan,
    pub cgroup: &'a CgroupPaths,
    /// Without a mount namespace of its own: the rootfs, bound by berth in the host's.
    pub host_root: Option<BorrowedFd<'a>>,
    /// exec.fifo opened read-write: `create` blocks on it until `start`.
    pub fifo: Option<OwnedFd>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub hooks: Option<&'a Hooks>,
    /// The container's state, for hooks run inside the container (createContainer, startContainer).
    pub state: &'a State,
    pub proc: ProcessConfig<'a>,
}

/// Everything the clone of `exec` needs: the container's init (as a pidfd, whose namespaces it
/// joins) and the process to start.
pub struct ExecConfig<'a> {
    pub init: OwnedFd,
    pub namespaces: nix::sched::CloneFlags,
    pub proc: ProcessConfig<'a>,
}
