//! What every cloned process does, first and last: the entry that never returns to berth's main
//! code, the clean start (no dumpable memory, default signals, no inherited descriptors), and the
//! final steps — limits, identity, capabilities, working directory, environment, seccomp — that
//! end in the exec of the container's program.

use std::convert::Infallible;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::unistd::{access, chdir, getcwd, AccessFlags};

use crate::linux::{apparmor, rlimits, sched, sys, tty, user};
use crate::logging;
use crate::process::sync::{Channel, ChildMsg, ParentMsg};
use crate::process::ProcessConfig;
use crate::seccomp;

/// Entry point of a cloned child: runs `body`, reports its error, and never returns.
pub fn child_main(ch: Channel, body: impl FnOnce(&Channel) -> Result<Infallible>) -> ! {
    logging::silence();
    let err = match body(&ch) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let msg = logging::one_line(&err);
    if ch.send(&ChildMsg::Error(msg.clone())).is_err() {
        // berth is gone (the process waited for `start`): the container's stderr is all we have.
        logging::container_error(&msg);
    }
    // SAFETY: leave without unwinding into berth's code or running its exit handlers.
    unsafe { libc::_exit(1) }
}

/// The first steps in the clone, then the wait for berth's `Go`.
///
/// After `Go` the process is made non-dumpable, before it joins any container namespace or runs
/// set-up inside one: berth's memory is then out of reach of the container's processes unless
/// they hold CAP_SYS_PTRACE in the host's user namespace (its binary is protected apart, see
/// `exe_guard`). Until `Go` it stays dumpable: an unprivileged berth writes the id maps of a user
/// namespace the clone made through /proc/<pid>, which must then still be its own. exec restores
/// dumpability for the container's own program.
pub fn enter_clone(ch: &Channel, preserve_fds: u32, keep: &[RawFd]) -> Result<()> {
    reset_signals();
    close_inherited_fds(3 + preserve_fds, ch.raw_fd(), keep)?;
    match ch.expect::<ParentMsg>()? {
        ParentMsg::Go => {}
        other => bail!("unexpected message from berth: {other:?}"),
    }
    set_dumpable(false);
    Ok(())
}

/// PR_SET_DUMPABLE (see `enter_clone`).
pub fn set_dumpable(on: bool) {
    // SAFETY: plain integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, libc::c_ulong::from(on), 0, 0, 0) };
}

/// berth blocks signals (run, exec) and Rust ignores SIGPIPE: the container starts with defaults.
fn reset_signals() {
    let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for sig in Signal::iterator() {
        if sig != Signal::SIGKILL && sig != Signal::SIGSTOP {
            // SAFETY: restoring the default disposition.
            let _ = unsafe { sigaction(sig, &dfl) };
        }
    }
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}

/// Closes every descriptor from `first` on except the channel and `keep` — in particular the
/// container directory's lock, which must stay with berth.
fn close_inherited_fds(first: u32, channel: RawFd, keep: &[RawFd]) -> Result<()> {
    let mut keep: Vec<RawFd> = keep
        .iter()
        .copied()
        .chain([channel])
        .filter(|fd| *fd as u32 >= first)
        .collect();
    keep.sort_unstable();
    let mut next = first;
    for fd in keep {
        sys::close_range(next, fd as u32 - 1).context("close inherited descriptors")?;
        next = fd as u32 + 1;
    }
    sys::close_range(next, u32::MAX).context("close inherited descriptors")
}

/// A new pty from the container's devpts: the master goes to the console socket (or to berth
/// over the channel), the slave becomes stdio and controlling terminal (and /dev/console for the
/// init).
pub fn terminal(pc: &ProcessConfig, ch: &Channel, console: bool) -> Result<()> {
    let pty = tty::open_pty()?;
    if let Some(size) = pc.process.console_size() {
        tty::set_size(
            pty.master.as_fd(),
            size.height() as u16,
            size.width() as u16,
        )?;
    }
    match &pc.console_socket {
        Some(sock) => tty::send_master(sock.as_fd(), pty.master.as_fd())?,
        None => ch.send_with_fd(&ChildMsg::PtyMaster, Some(pty.master.as_raw_fd()))?,
    }
    tty::attach_slave(&pty.slave, console)
}

/// The last steps, in runc's order, then `Ready`; `release` handles berth's answer (run the
/// program now, or wait for `start`) and runs the startContainer hooks, which get the program's
/// environment.
///
/// Once the filter is in, only what runc's own sequence also does there may run, so that any
/// profile that lets the program itself run lets berth get there: with no_new_privs, where the
/// filter goes in last, that is the program's execve — plus, for `create`, telling berth the
/// init waits and reading exec.fifo, and the startContainer hooks, which runc runs under the
/// filter too. Descriptors are therefore marked close-on-exec before it (close_range is newer
/// than many profiles), and berth's answer is taken before it.
pub fn finish(
    pc: &ProcessConfig,
    ch: &Channel,
    release: impl FnOnce(ParentMsg, &[String]) -> Result<()>,
) -> Result<Infallible> {
    let process = pc.process;
    rlimits::apply(process.rlimits().as_deref().unwrap_or(&[]))?;
    if let Some(p) = pc.personality {
        sched::set_personality(p)?;
    }
    if let Some(p) = &pc.memory_policy {
        p.apply()?;
    }
    // Still with every capability, as runc: a negative nice or the realtime I/O class needs
    // CAP_SYS_NICE / CAP_SYS_ADMIN, which the container's own capability sets rarely hold.
    if let Some(s) = process.scheduler() {
        sched::set_scheduler(s)?;
    }
    if let Some(p) = process.io_priority() {
        sched::set_io_priority(p)?;
    }
    // Queued now, entered at the execve (after no_new_privs and seccomp, as with runc).
    if let Some(profile) = pc.apparmor_profile {
        apparmor::change_onexec(profile)?;
    }
    let user_spec = process.user();
    let env = environment(pc, user_spec.uid());
    let cwd = process.cwd();
    // As root first (a directory only root may enter), again as the user if that failed.
    let early_cwd = chdir(cwd.as_path());
    user::give_stdio_to(user_spec.uid())?;
    pc.caps.drop_bounding()?;
    // Everything but stdio and the preserved descriptors closes at exec: no host handle can
    // reach the container process (CVE-2024-21626).
    sys::cloexec_from(3 + pc.preserve_fds).context("mark descriptors close-on-exec")?;
    let no_new_privs = process.no_new_privileges() == Some(true);
    if !no_new_privs {
        // Without no_new_privs the kernel takes a filter only from a holder of CAP_SYS_ADMIN:
        // install while the process is still root with its capabilities (runc's order); the
        // identity switch, chdir and PATH lookup then run filtered, as in runc.
        install_seccomp(pc, ch)?;
    }
    user::switch_to(user_spec)?;
    pc.caps.apply()?;
    if early_cwd.is_err() {
        chdir(cwd.as_path()).with_context(|| format!("process.cwd: chdir {}", cwd.display()))?;
    }
    verify_cwd()?;

    let args = process.args().as_deref().unwrap_or(&[]);
    let program = find_executable(args.first().map_or("", String::as_str), &env)?;
    let argv = to_cstrings(args)?;
    let envp = to_cstrings(&env)?;
    if no_new_privs {
        // SAFETY: plain integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
            return Err(Errno::last()).context("set no_new_privs");
        }
    }
    ch.send(&ChildMsg::Ready)?;
    let answer = ch.expect::<ParentMsg>()?;
    if no_new_privs {
        install_seccomp(pc, ch)?;
    }
    release(answer, &env)?;
    let err = nix::unistd::execve(&program, &argv, &envp).unwrap_err();
    Err(anyhow::Error::new(err).context(format!("exec {}", program.to_string_lossy())))
}

/// Installs the container's seccomp filter; a notify listener goes to berth, which hands it to
/// the agent before this process goes on (so a notified syscall finds someone to answer it).
fn install_seccomp(pc: &ProcessConfig, ch: &Channel) -> Result<()> {
    let Some(filter) = pc.seccomp else {
        return Ok(());
    };
    if let Some(listener) = seccomp::install(filter)? {
        ch.send_with_fd(&ChildMsg::SeccompListener, Some(listener.as_raw_fd()))?;
        ch.expect_done()?;
    }
    Ok(())
}

/// The process environment: process.env and berth's additions with duplicates removed (the last
/// value of a variable wins, in the place it appeared, as in runc), and HOME from the container's
/// /etc/passwd if the config has none or an empty one.
fn environment(pc: &ProcessConfig, uid: u32) -> Vec<String> {
    let all: Vec<&String> = pc
        .process
        .env()
        .iter()
        .flatten()
        .chain(&pc.extra_env)
        .collect();
    let key = |e: &str| e.split_once('=').map_or(e, |(k, _)| k).to_owned();
    let mut seen = std::collections::HashSet::new();
    let mut env: Vec<String> = all
        .iter()
        .rev()
        .filter(|e| seen.insert(key(e)))
        .filter(|e| e.as_str() != "HOME=")
        .map(|e| (*e).clone())
        .collect();
    env.reverse();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", user::home_dir(uid)));
    }
    env
}

/// A cwd outside the container (reached through a leaked descriptor) shows as "(unreachable)".
fn verify_cwd() -> Result<()> {
    match getcwd() {
        Ok(p) if p.is_absolute() => Ok(()),
        Ok(p) => bail!("process.cwd: {} is outside the container", p.display()),
        Err(e) => Err(e).context("process.cwd: the working directory is outside the container"),
    }
}

/// args[0] looked up through the PATH of the container's environment, as Go's exec.LookPath.
fn find_executable(arg0: &str, env: &[String]) -> Result<CString> {
    let found = if arg0.contains('/') {
        let p = PathBuf::from(arg0);
        is_executable(&p).then_some(p)
    } else {
        let path = env
            .iter()
            .rev()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or("");
        look_path(path, arg0)
    };
    match found {
        Some(p) => CString::new(p.into_os_string().into_encoded_bytes()).context("executable path"),
        None if arg0.contains('/') && Path::new(arg0).exists() => {
            bail!("exec: {arg0:?}: permission denied (not an executable file)")
        }
        None if arg0.contains('/') => bail!("exec: {arg0:?}: no such file or directory"),
        None => bail!("exec: {arg0:?}: executable file not found in $PATH"),
    }
}

/// The first executable `name` in the directories of `path` (a PATH value; an empty entry is
/// the current directory), as Go's exec.LookPath searches.
pub fn look_path(path: &str, name: &str) -> Option<PathBuf> {
    path.split(':')
        .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file()) && access(p, AccessFlags::X_OK).is_ok()
}

fn to_cstrings(items: &[String]) -> Result<Vec<CString>> {
    items
        .iter()
        .map(|s| CString::new(s.as_bytes()).with_context(|| format!("{s:?} contains a NUL byte")))
        .collect()
}
