//! Container operations composed from the layers below: `create` and `exec` have files of
//! their own; start, kill, delete, pause, resume and update are here.

mod checkpoint;
mod create;
mod exec;

use std::fs;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use crate::hooks::{self, Kind};
use crate::linux::{host_root, sys};
use crate::seccomp;
use crate::state::{ContainerDir, NotFound, Root, State, Status};

pub use checkpoint::{checkpoint, CheckpointOptions, CriuOptions, RestoreOptions};
pub use create::{create, CreateOptions, StartMode};
pub use exec::{exec, ExecOptions};

/// The hand-over of a process's seccomp listener to the agent of `filter`, with the container's
/// state as `status`; `None` when the filter does not notify.
pub(crate) fn seccomp_agent<'a>(
    filter: Option<&'a seccomp::Filter>,
    state: &'a State,
    status: &'a str,
) -> Option<impl Fn(Pid, OwnedFd) -> Result<()> + 'a> {
    let listener = filter?.listener.as_ref()?;
    Some(move |pid: Pid, fd: OwnedFd| {
        let json = hooks::state_json(state, status, pid.as_raw());
        seccomp::notify::send_to_agent(listener, fd.as_fd(), pid.as_raw(), &json)
    })
}

/// Writes the pid file atomically (a temp file renamed into place), as runc does.
pub(crate) fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let path = std::path::absolute(path)?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("pid")
    ));
    let written = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&tmp)
        .and_then(|mut f| std::io::Write::write_all(&mut f, pid.to_string().as_bytes()))
        .and_then(|()| fs::rename(&tmp, &path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.with_context(|| format!("write pid file {}", path.display()))
}

pub fn start(root: &Root, id: &str) -> Result<()> {
    let dir = root.open(id)?;
    dir.lock()?;
    let state = dir.load()?.ok_or_else(|| NotFound(id.to_owned()))?;
    match dir.status(Some(&state)) {
        Status::Created => {}
        Status::Stopped => bail!("cannot start a container that has stopped"),
        Status::Creating => bail!("cannot start a container that is still being created"),
        Status::Running | Status::Paused => bail!("cannot start an already running container"),
    }
    let path = dir.fifo_path();
    let init = open_init(&state)
        .with_context(|| format!("cannot start container {id}: its init is not running"))?;
    let fifo = match nix::fcntl::open(
        &path,
        OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(f) => f,
        Err(Errno::ENXIO) => bail!("cannot start container {id}: its init is not running"),
        Err(e) => return Err(e).context("open exec.fifo"),
    };
    nix::unistd::write(&fifo, b"0").context("write exec.fifo")?;
    let reader = nix::fcntl::open(
        &path,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context("open exec.fifo")?;
    drop(fifo);
    fs::remove_file(&path).context("remove exec.fifo")?;
    wait_for_exec(&init, reader).with_context(|| format!("cannot start container {id}"))?;
    if state.hooks {
        let spec = dir.load_config(&state)?;
        poststart(&state, spec.hooks().as_ref());
    }
    Ok(())
}

/// Returns once the init has run the container's program (or died trying): the poststart hooks
/// must come after that, and `start` returns after it as runc's does. The init holds exec.fifo
/// open, close-on-exec, until its exec; a read end sees EOF once no writer is left. The byte
/// `start` wrote must be the init's first, so reading waits until the init has taken it. What
/// the init writes after that is the error that stopped it before its exec (a startContainer
/// hook failed): `start` fails with it once the init has died.
fn wait_for_exec(init: &OwnedFd, reader: OwnedFd) -> Result<()> {
    let unread = || -> Result<libc::c_int> {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD stores an int.
        if unsafe { libc::ioctl(reader.as_raw_fd(), libc::FIONREAD, &mut n) } < 0 {
            return Err(Errno::last()).context("exec.fifo");
        }
        Ok(n)
    };
    // One byte left is ours; more is the init's report, written only once it had ours.
    while unread()? == 1 {
        // The init is usually there within a millisecond; its pidfd turns readable if it died —
        // which a program as short as `true` also does right after reading: only a byte still
        // unread then means the init died first.
        let mut fds = [PollFd::new(init.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(1u8)).context("wait for the container init")? > 0
            && unread()? == 1
        {
            bail!("its init exited before reading exec.fifo");
        }
    }
    nix::fcntl::fcntl(
        reader.as_fd(),
        nix::fcntl::FcntlArg::F_SETFL(OFlag::empty()),
    )
    .context("exec.fifo")?;
    let mut report = Vec::new();
    fs::File::from(reader)
        .read_to_end(&mut report)
        .context("wait for the container's program to start")?;
    match String::from_utf8_lossy(&report).trim_end() {
        "" => Ok(()),
        error => {
            // The init exits after its report; its descriptors close before it is a zombie.
            // Once it is one (its pidfd readable), `state` reads the container as stopped, as a
            // caller of a failed `start` expects. Bounded: nothing else is waited for here.
            let mut fds = [PollFd::new(init.as_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, PollTimeout::from(2000u16));
            bail!("{error}")
        }
    }
}

/// poststart hooks: a failure is logged, not fatal (runtime-spec).
pub fn poststart(state: &State, hooks: Option<&oci_spec::runtime::Hooks>) {
    let json = hooks::state_json(state, "running", state.pid);
    hooks::run_warning(Kind::Poststart, hooks, &json);
}

/// Sends `sig` to the init, or with `all` to every process in the container's cgroup. Signal 0
/// asks whether the init is alive, as with runc.
pub fn kill(root: &Root, id: &str, sig: i32, all: bool) -> Result<()> {
    let (dir, state) = load_locked(root, id)?;
    // Without a pid namespace of its own the init's death ends nothing else: SIGKILL goes to
    // every process in the cgroup, as runc sends it — also once the init has exited.
    let whole_cgroup = all || (sig == libc::SIGKILL && !state.own_pid_ns);
    if whole_cgroup && !state.cgroup.dirs.is_empty() {
        return state.cgroup.signal_all(sig);
    }
    let status = dir.status(Some(&state));
    match status {
        // runc: `kill --all` of a stopped container is no error.
        Status::Stopped if all => return Ok(()),
        // runc's words: containerd reads "container not running" as "already exited".
        Status::Stopped => bail!("container not running: {id}"),
        _ => {}
    }
    signal_init(&state, sig).with_context(|| format!("container {id}"))?;
    if sig == libc::SIGKILL && status == Status::Paused {
        // A frozen init only dies once thawed.
        state.cgroup.set_frozen(false)?;
    }
    Ok(())
}

/// Signals the init through a pidfd opened while its start time still matched (no pid reuse).
fn signal_init(state: &State, sig: i32) -> Result<()> {
    let pidfd = open_init(state).context("container not running")?;
    sys::pidfd_send_signal(pidfd.as_fd(), sig).context("signal the container init")
}

pub(crate) fn open_init(state: &State) -> Result<OwnedFd> {
    let pidfd = sys::pidfd_open(state.pid)?;
    if !crate::state::init_alive(state) {
        bail!("process {} is gone", state.pid);
    }
    Ok(pidfd)
}

pub fn delete(root: &Root, id: &str, force: bool) -> Result<()> {
    root.remove_abandoned(id);
    let dir = match root.open(id).and_then(|dir| dir.lock().map(|()| dir)) {
        Ok(d) => d,
        Err(e) if force && e.downcast_ref::<NotFound>().is_some() => return Ok(()),
        Err(e) => return Err(e),
    };
    let Some(state) = dir.load()? else {
        // A directory without a state is no container (runc removes it all the same).
        dir.remove()?;
        return if force {
            Ok(())
        } else {
            Err(NotFound(id.to_owned()).into())
        };
    };
    match dir.status(Some(&state)) {
        Status::Stopped => {}
        Status::Created => stop(&state)?,
        _ if force => stop(&state)?,
        status => bail!("cannot delete container {id} that is not stopped: {status}"),
    }
    // runc's destroy: what is left in the cgroup of a container without a pid namespace of its
    // own goes with it — and so does the init of a create that died before recording it.
    if !state.own_pid_ns || state.pid == 0 {
        state
            .cgroup
            .signal_all(libc::SIGKILL)
            .context("kill what is left in the container's cgroup")?;
    }
    host_root::release(&dir.path, &state.rootfs)?;
    state.cgroup.destroy()?;
    let spec = state.hooks.then(|| dir.load_config(&state).ok()).flatten();
    dir.remove()?;
    // poststop: after the container is gone; a failure is logged, not fatal. A stopped
    // container has no pid (as with runc, the state has none).
    let json = hooks::state_json(&state, "stopped", 0);
    hooks::run_warning(
        Kind::Poststop,
        spec.as_ref().and_then(|s| s.hooks().as_ref()),
        &json,
    );
    Ok(())
}

/// Kills the container (the init, which takes its pid namespace with it, or every process of
/// the cgroup) and waits until the init is gone.
fn stop(state: &State) -> Result<()> {
    let pidfd = open_init(state).ok();
    if state.own_pid_ns {
        if let Some(fd) = &pidfd {
            if let Err(e) = sys::pidfd_send_signal(fd.as_fd(), libc::SIGKILL) {
                if e != Errno::ESRCH {
                    return Err(e).context("kill the container init");
                }
            }
        }
    } else {
        state.cgroup.signal_all(libc::SIGKILL)?;
    }
    if crate::cgroups::is_frozen(&state.cgroup) {
        // Frozen processes only die once thawed.
        state.cgroup.set_frozen(false)?;
    }
    if let Some(fd) = &pidfd {
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(Duration::from_secs(10)).unwrap_or(PollTimeout::MAX);
        if poll(&mut fds, timeout).context("wait for the container init")? == 0 {
            bail!("container init {} did not exit after SIGKILL", state.pid);
        }
    }
    Ok(())
}

/// The container's directory and state, whatever its status (ps).
pub fn load(root: &Root, id: &str) -> Result<(ContainerDir, State)> {
    let dir = root.open(id)?;
    let state = dir.load()?.ok_or_else(|| NotFound(id.to_owned()))?;
    Ok((dir, state))
}

/// As `load`, holding the container's lock: the state read cannot change until it is dropped.
fn load_locked(root: &Root, id: &str) -> Result<(ContainerDir, State)> {
    let dir = root.open(id)?;
    dir.lock()?;
    let state = dir.load()?.ok_or_else(|| NotFound(id.to_owned()))?;
    Ok((dir, state))
}

/// A container that is not stopped, with its state (for exec and events).
pub fn live(root: &Root, id: &str) -> Result<(ContainerDir, State, Status)> {
    let (dir, state) = load(root, id)?;
    let status = running(&dir, &state)?;
    Ok((dir, state, status))
}

/// The status of a container that is created, running or paused; runc's error otherwise.
fn running(dir: &ContainerDir, state: &State) -> Result<Status> {
    match dir.status(Some(state)) {
        Status::Stopped | Status::Creating => bail!("container not running: {}", dir.id),
        status => Ok(status),
    }
}

pub fn pause(root: &Root, id: &str) -> Result<()> {
    let (dir, state) = load_locked(root, id)?;
    match running(&dir, &state)? {
        Status::Paused => bail!("container {id} is already paused"),
        _ => state.cgroup.set_frozen(true),
    }
}

pub fn resume(root: &Root, id: &str) -> Result<()> {
    let (dir, state) = load_locked(root, id)?;
    match running(&dir, &state)? {
        Status::Paused => state.cgroup.set_frozen(false),
        _ => bail!("container {id} is not paused"),
    }
}

/// Changes the limits of a live container.
pub fn update(root: &Root, id: &str, resources: &oci_spec::runtime::LinuxResources) -> Result<()> {
    let (dir, state) = load_locked(root, id)?;
    running(&dir, &state)?;
    state.cgroup.check_rootless(resources)?;
    state.cgroup.check(resources)?;
    state.cgroup.apply(resources, true)
}
