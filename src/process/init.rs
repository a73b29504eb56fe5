//! The container side of `create`: namespaces, root filesystem, hostname, sysctls, masked and
//! read-only paths — then the shared last steps of `launch`. Hooks that belong inside the
//! container (createContainer before pivot_root, startContainer right before exec) run here;
//! those of the runtime namespace are asked of berth over the channel.

use std::cell::Cell;
use std::convert::Infallible;
use std::os::fd::{AsRawFd, OwnedFd};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::setsid;

use crate::cgroups::mount::CgroupMount;
use crate::hooks::{self, Inherited, Kind};
use crate::linux::{netdev, rootfs, sys, sysctl};
use crate::process::launch;
use crate::process::sync::{Channel, ChildMsg, ParentMsg};
use crate::process::InitConfig;

/// The cloned child's work; only returns an error.
pub fn setup_and_exec(cfg: &InitConfig, ch: &Channel) -> Result<Infallible> {
    let mut keep: Vec<i32> = cfg
        .proc
        .console_socket
        .iter()
        .map(|f| f.as_raw_fd())
        .collect();
    keep.extend(cfg.fifo.iter().map(|f| f.as_raw_fd()));
    keep.extend(cfg.plan.joins.iter().map(|(_, f)| f.as_raw_fd()));
    keep.extend(cfg.host_root.iter().map(|f| f.as_raw_fd()));
    launch::enter_clone(ch, cfg.proc.preserve_fds, &keep)?;
    cfg.plan.enter(ch)?;
    if cfg.plan.creates(CloneFlags::CLONE_NEWNET) {
        // As runc: a network namespace of the container's own gets a working loopback.
        sys::loopback_up().context("bring up the loopback interface")?;
    }
    let linux = cfg.spec.linux().as_ref().context("linux missing")?;
    if netdev::requested(linux).is_some() {
        ch.send(&ChildMsg::NetDevices)?;
        ch.expect_done()?;
    }
    setsid().context("setsid")?;
    if !cfg.no_new_keyring {
        match sys::join_session_keyring(cfg.id) {
            Ok(()) | Err(Errno::ENOSYS) => {}
            Err(e) => return Err(e).context("join a session keyring"),
        }
    }
    if cfg.hooks.is_some() {
        // prestart and createRuntime run in the runtime namespace: berth runs them now.
        ch.send(&ChildMsg::RuntimeHooks)?;
        ch.expect_done()?;
    }
    let userns = cfg.plan.has(CloneFlags::CLONE_NEWUSER);
    // As runc: a berth that is itself in a user namespace (rootless podman's) can no more make
    // device nodes or mount a fresh sysfs or v1 cgroupfs than a container's own one can.
    let in_userns = userns || crate::linux::rootless::running_in_userns();
    let from_berth = |index| {
        ch.send(&ChildMsg::MountSource(index))?;
        ch.expect_done_with_fd()
    };
    let fs = rootfs::Rootfs {
        spec: cfg.spec,
        rootfs: cfg.rootfs,
        bundle: cfg.bundle,
        userns,
        in_userns,
        cgroup: CgroupMount {
            paths: cfg.cgroup,
            cgroupns: cfg.plan.has(CloneFlags::CLONE_NEWCGROUP),
            userns: in_userns,
        },
        from_berth: &from_berth,
        host_root: cfg.host_root,
        no_pivot: cfg.no_pivot,
    };
    // Hooks run inside the container see its own pid (1 in a pid namespace), as with runc.
    let hook_state = |status| hooks::state_json(cfg.state, status, std::process::id() as i32);
    // runc's init has moved to the rootfs (prepareRootfs) and cleared its environment by then.
    let create_container = Inherited {
        env: Some(&[]),
        cwd: Some(cfg.rootfs),
    };
    let finalize = fs.prepare(|| {
        let state = hook_state("creating");
        hooks::run_inheriting(Kind::CreateContainer, cfg.hooks, &state, create_container)
    })?;
    if cfg.proc.process.terminal() == Some(true) {
        launch::terminal(&cfg.proc, ch, true)?;
    }
    finalize.run()?;
    rootfs::reopen_dev_null()?;
    if let Some(name) = cfg.spec.hostname().as_deref().filter(|h| !h.is_empty()) {
        nix::unistd::sethostname(name).context("set hostname")?;
    }
    if let Some(name) = cfg.spec.domainname().as_deref().filter(|h| !h.is_empty()) {
        // SAFETY: pointer and length of a live string.
        if unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) } < 0 {
            return Err(Errno::last()).context("set domainname");
        }
    }
    if let Some(s) = linux.sysctl() {
        sysctl::apply(s)?;
    }
    rootfs::readonly_paths(linux.readonly_paths().as_deref().unwrap_or(&[]))?;
    rootfs::mask_paths(linux.masked_paths().as_deref().unwrap_or(&[]))?;
    if cfg.fifo.is_some() {
        // Before `Ready`: `create` returns on it, and a `kill` right after must not find the
        // init of a pid namespace still ignoring the signal.
        die_on_signals();
    }
    let started = Cell::new(false);
    let res = launch::finish(&cfg.proc, ch, |msg, program_env| {
        match msg {
            ParentMsg::Exec => {}
            ParentMsg::WaitForStart => {
                let fifo = cfg.fifo.as_ref().context("no exec.fifo")?;
                ch.send(&ChildMsg::Waiting)?;
                wait_for_start(fifo)?;
                started.set(true);
            }
            other => bail!("unexpected message from berth: {other:?}"),
        }
        // In process.cwd already; a hook without `env` gets the program's (runc's hooks.bats:
        // "startContainer hook should inherit process environment").
        let start_container = Inherited {
            env: Some(program_env),
            cwd: None,
        };
        let state = hook_state("created");
        hooks::run_inheriting(Kind::StartContainer, cfg.hooks, &state, start_container)
    });
    if let (Err(e), true, Some(fifo)) = (&res, started.get(), &cfg.fifo) {
        report_to_start(fifo, e);
    }
    res
}

/// Until the program's exec (which restores the defaults), the usual terminating signals end the
/// process (as in runc): an init of a pid namespace would otherwise ignore them.
fn die_on_signals() {
    extern "C" fn die(sig: libc::c_int) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(128 + sig) }
    }
    let act = SigAction::new(SigHandler::Handler(die), SaFlags::empty(), SigSet::empty());
    for sig in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
    ] {
        // SAFETY: installing a handler that only calls _exit.
        let _ = unsafe { sigaction(sig, &act) };
    }
}

/// Blocks until `berth start` writes to exec.fifo. A plain read: it runs under the filter.
fn wait_for_start(fifo: &OwnedFd) -> Result<()> {
    let mut byte = [0u8; 1];
    loop {
        match nix::unistd::read(fifo, &mut byte) {
            Ok(1) => return Ok(()),
            Ok(_) => bail!("exec.fifo closed before start"),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e).context("read exec.fifo"),
        }
    }
}

/// After `start` wrote its byte it reads exec.fifo until the init's exec: an error before it
/// (a startContainer hook failed) goes there, for `start` to fail with it. One write of less
/// than PIPE_BUF, so that `start` never sees part of it.
fn report_to_start(fifo: &OwnedFd, err: &anyhow::Error) {
    let text = crate::logging::one_line(err);
    let mut end = text.len().min(libc::PIPE_BUF - 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let _ = nix::unistd::write(fifo, &text.as_bytes()[..end]);
}
