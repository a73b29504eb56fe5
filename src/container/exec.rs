//! `exec`: start another process in a running container — its namespaces, its cgroup, the
//! process's own identity, limits and terminal — and wait for it unless detached.

use std::borrow::Cow;
use std::fs;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use nix::sched::CloneFlags;
use oci_spec::runtime::{LinuxNamespaceType, Process};

use crate::cgroups::SubCgroups;
use crate::container::{live, open_init, seccomp_agent, write_pid_file};
use crate::linux::affinity::{self, ExecAffinity};
use crate::linux::namespaces::clone_flag;
use crate::linux::tty;
use crate::process::spawn::{self, Placement};
use crate::process::{exec as exec_process, foreground, ExecConfig, ProcessConfig};
use crate::seccomp;
use crate::state::{Root, Status};
use crate::validate;

pub struct ExecOptions<'a> {
    pub id: &'a str,
    /// The process to start (from --process, or the container's with the flags applied).
    pub process: Process,
    pub console_socket: Option<&'a Path>,
    pub pid_file: Option<&'a Path>,
    pub detach: bool,
    pub preserve_fds: u32,
    pub ignore_paused: bool,
    /// `--cgroup`: run in these sub-cgroups of the container's.
    pub sub_cgroups: Option<SubCgroups>,
}

/// Runs the process; returns its exit status (0 right away when detached).
pub fn exec(root: &Root, opts: ExecOptions) -> Result<i32> {
    let (dir, state, status) = live(root, opts.id)?;
    if status == Status::Paused && !opts.ignore_paused {
        bail!(
            "cannot exec in a paused container {} (use --ignore-paused to override)",
            opts.id
        );
    }
    let spec = dir.load_config(&state)?;
    let mut process = opts.process;
    inherit_from_container(&mut process, spec.process().as_ref());
    validate::check_security(&process)?;
    validate::check_user(process.user())?;
    let process = &process;
    if process.args().as_ref().is_none_or(|a| a.is_empty()) {
        bail!("exec: no command given");
    }
    if process.cwd().as_os_str().is_empty() {
        bail!("process.cwd: must not be empty");
    }
    if !process.cwd().is_absolute() {
        bail!("process.cwd: {} is not absolute", process.cwd().display());
    }
    let terminal = process.terminal() == Some(true);
    if terminal && opts.console_socket.is_none() && opts.detach {
        bail!("--tty with --detach needs --console-socket to receive the terminal");
    }
    if !terminal && opts.console_socket.is_some() {
        bail!("--console-socket given without --tty");
    }
    let linux = spec
        .linux()
        .as_ref()
        .context("config.json: linux missing")?;
    let namespaces = namespaces_to_join(state.pid, linux.namespaces().as_deref().unwrap_or(&[]))?;
    // runtime-spec's Process has no seccomp of its own: the container's applies (as in runc).
    let seccomp = linux.seccomp().as_ref().map(seccomp::compile).transpose()?;
    let init = open_init(&state)?;
    let console_socket = opts
        .console_socket
        .map(tty::connect_console_socket)
        .transpose()?;
    let cfg = ExecConfig {
        init,
        namespaces,
        proc: ProcessConfig::new(
            process,
            linux,
            console_socket,
            opts.preserve_fds,
            seccomp.as_ref(),
        )?,
    };
    let seccomp_agent = seccomp_agent(seccomp.as_ref(), &state, "running");
    let cgroup = match &opts.sub_cgroups {
        Some(subs) => Cow::Owned(state.cgroup.with_sub_cgroups(subs)?),
        None => Cow::Borrowed(&state.cgroup),
    };
    let affinity = ExecAffinity::from_spec(process)?;
    if let Some(cpus) = &affinity.initial {
        affinity::set_initial(cpus)?;
    }
    let placement = Placement {
        clone_flags: CloneFlags::empty(),
        cgroup: &cgroup,
        linux: None,
        runtime_hooks: None,
        seccomp_agent: seccomp_agent.as_ref().map(|f| f as _),
        mount_source: None,
        final_cpus: affinity.final_cpus.as_ref(),
        place: None,
    };
    let sigfd = if opts.detach {
        None
    } else {
        Some(foreground::catch_signals()?)
    };
    let mut spawned = spawn::spawn(&placement, |ch| exec_process::join_and_exec(&cfg, ch))?;
    drop(cfg);
    if let Some(path) = opts.pid_file {
        if let Err(e) = write_pid_file(path, spawned.pid.as_raw()) {
            spawned.abort();
            return Err(e);
        }
    }
    let pid = spawned.pid;
    crate::logging::debug(format_args!(
        "container {}: exec'd process is pid {pid}",
        opts.id
    ));
    let pty = spawned.pty_master.take();
    if let Some(master) = &pty {
        foreground::copy_window_size(master.as_fd());
    }
    spawned.exec()?;
    match sigfd {
        Some(sigfd) => foreground::wait(pid, &sigfd, pty),
        None => Ok(0),
    }
}

/// What runc gives a process that does not set it itself: the container's AppArmor profile,
/// capabilities, rlimits and noNewPrivileges (a process.json may leave them out).
fn inherit_from_container(process: &mut Process, container: Option<&Process>) {
    let Some(container) = container else { return };
    if process
        .apparmor_profile()
        .as_deref()
        .is_none_or(str::is_empty)
    {
        process.set_apparmor_profile(container.apparmor_profile().clone());
    }
    if process.capabilities().is_none() {
        process.set_capabilities(container.capabilities().clone());
    }
    if process.rlimits().as_ref().is_none_or(|r| r.is_empty()) {
        process.set_rlimits(container.rlimits().clone());
    }
    if process.no_new_privileges().is_none() {
        process.set_no_new_privileges(container.no_new_privileges());
    }
}

/// The container's namespaces, as setns flags for its init's pidfd — less the user namespace
/// when it is ours (setns refuses to re-enter the caller's own).
fn namespaces_to_join(pid: i32, list: &[oci_spec::runtime::LinuxNamespace]) -> Result<CloneFlags> {
    let mut flags = CloneFlags::empty();
    for ns in list {
        if ns.typ() == LinuxNamespaceType::User && same_ns(pid, "user")? {
            continue;
        }
        flags |= clone_flag(ns.typ());
    }
    Ok(flags)
}

fn same_ns(pid: i32, name: &str) -> Result<bool> {
    let theirs = fs::metadata(format!("/proc/{pid}/ns/{name}"))
        .context("read the container's namespaces")?;
    let ours = fs::metadata(format!("/proc/self/ns/{name}"))?;
    Ok(theirs.ino() == ours.ino() && theirs.dev() == ours.dev())
}
