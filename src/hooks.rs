//! OCI hooks: each runs with the container's state JSON on stdin, its own `args` and `env`, and
//! is killed when its `timeout` (seconds) passes. Where and when each kind runs is decided by the
//! caller (runtime-spec 1.2): prestart and createRuntime in berth before pivot_root,
//! createContainer inside the container before pivot_root, startContainer inside it right before
//! the program's exec, poststart after start, poststop after delete.
//!
//! A hook without `env` inherits an environment, and every hook a working directory, as runc's
//! do (it starts them with Go's exec.Cmd, whose nil Env means the runtime's own environment, and
//! sets no Dir): see [`Inherited`].

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use oci_spec::runtime::{Hook, Hooks};
use serde::Serialize;

use crate::linux::sys;
use crate::state::State;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Prestart,
    CreateRuntime,
    CreateContainer,
    StartContainer,
    Poststart,
    Poststop,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Prestart => "prestart",
            Kind::CreateRuntime => "createRuntime",
            Kind::CreateContainer => "createContainer",
            Kind::StartContainer => "startContainer",
            Kind::Poststart => "poststart",
            Kind::Poststop => "poststop",
        }
    }

    pub fn of(self, hooks: &Hooks) -> &[Hook] {
        let list = match self {
            #[allow(deprecated)]
            Kind::Prestart => hooks.prestart(),
            Kind::CreateRuntime => hooks.create_runtime(),
            Kind::CreateContainer => hooks.create_container(),
            Kind::StartContainer => hooks.start_container(),
            Kind::Poststart => hooks.poststart(),
            Kind::Poststop => hooks.poststop(),
        };
        list.as_deref().unwrap_or(&[])
    }
}

/// The state document hooks read on stdin (runtime-spec "State").
#[derive(Serialize)]
struct HookState<'a> {
    #[serde(rename = "ociVersion")]
    oci_version: &'a str,
    id: &'a str,
    status: &'a str,
    /// Absent once the container has stopped: its old pid may name another process by now.
    #[serde(skip_serializing_if = "no_pid")]
    pid: i32,
    bundle: &'a Path,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

fn no_pid(pid: &i32) -> bool {
    *pid <= 0
}

/// The state JSON a hook of the container in `state` gets, with `status` and `pid` (0: none).
pub fn state_json(state: &State, status: &str, pid: i32) -> String {
    let doc = HookState {
        oci_version: crate::cli::SPEC_VERSION,
        id: &state.id,
        status,
        pid,
        bundle: &state.bundle,
        annotations: &state.annotations,
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

/// What a hook gets from the process that runs it. Those berth runs on the host (prestart,
/// createRuntime, poststart, poststop) take berth's own environment and working directory —
/// its caller's, or the bundle for `create` and `run`, which move there as runc does — and need
/// the default. Inside the container runc runs createContainer in the rootfs with an environment
/// it has cleared, and startContainer in `process.cwd` with the program's environment.
#[derive(Clone, Copy, Default)]
pub struct Inherited<'a> {
    /// The environment of a hook without `env`; None: berth's own.
    pub env: Option<&'a [String]>,
    /// The working directory of every hook; None: berth's own.
    pub cwd: Option<&'a Path>,
}

/// Runs every hook of `kind` in order; the first failure stops the rest.
pub fn run(kind: Kind, hooks: Option<&Hooks>, state: &str) -> Result<()> {
    run_inheriting(kind, hooks, state, Inherited::default())
}

/// [`run`], for hooks that inherit something else than berth's environment and directory.
pub fn run_inheriting(
    kind: Kind,
    hooks: Option<&Hooks>,
    state: &str,
    inherited: Inherited,
) -> Result<()> {
    let Some(hooks) = hooks else { return Ok(()) };
    for (i, hook) in kind.of(hooks).iter().enumerate() {
        run_one(hook, state, inherited).with_context(|| describe(kind, i, hook))?;
    }
    Ok(())
}

/// Runs every hook of `kind` in order, logging each failure as a warning: for poststart and
/// poststop the runtime-spec wants the remaining hooks and the lifecycle to go on as if the
/// hook had succeeded.
pub fn run_warning(kind: Kind, hooks: Option<&Hooks>, state: &str) {
    let Some(hooks) = hooks else { return };
    for (i, hook) in kind.of(hooks).iter().enumerate() {
        let res = run_one(hook, state, Inherited::default());
        if let Err(e) = res.with_context(|| describe(kind, i, hook)) {
            crate::logging::warn(crate::logging::one_line(&e));
        }
    }
}

/// runc's words ("error running startContainer hook #1: error running hook: …"), which tools
/// and tests look for, with the hook's path.
fn describe(kind: Kind, i: usize, hook: &Hook) -> String {
    format!(
        "error running {} hook #{i}: error running hook {}",
        kind.name(),
        hook.path().display()
    )
}

fn run_one(hook: &Hook, state: &str, inherited: Inherited) -> Result<()> {
    let mut cmd = Command::new(hook.path());
    if let Some(args) = hook.args().as_deref() {
        if let Some((argv0, rest)) = args.split_first() {
            cmd.arg0(argv0).args(rest);
        }
    }
    // `"env": []` is an empty environment; no `env` at all inherits one.
    if let Some(vars) = hook.env().as_deref().or(inherited.env) {
        cmd.env_clear();
        for (k, v) in vars.iter().filter_map(|var| var.split_once('=')) {
            cmd.env(k, v);
        }
    }
    if let Some(dir) = inherited.cwd {
        cmd.current_dir(dir);
    }
    // Memory files rather than pipes: nothing to drain while waiting, whatever the hook writes.
    let mut input = sys::memfd("hook-stdin", false)?;
    input.write_all(state.as_bytes())?;
    input.seek(SeekFrom::Start(0))?;
    let mut output = sys::memfd("hook-output", false)?;
    cmd.stdin(Stdio::from(input))
        .stdout(Stdio::from(output.try_clone()?))
        .stderr(Stdio::from(output.try_clone()?));
    let mut child = cmd.spawn().context("start")?;
    let timeout = hook
        .timeout()
        .filter(|t| *t > 0)
        .map(|t| Duration::from_secs(t as u64));
    if let Some(limit) = timeout {
        let pidfd = sys::pidfd_open(child.id() as i32).context("pidfd_open")?;
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        let ms = PollTimeout::try_from(limit).unwrap_or(PollTimeout::MAX);
        if poll(&mut fds, ms).context("wait for the hook")? == 0 {
            let _ = child.kill();
            let _ = child.wait();
            bail!("timed out after {}s", limit.as_secs());
        }
    }
    let status = child.wait().context("wait")?;
    if status.success() {
        return Ok(());
    }
    let mut text = String::new();
    output.seek(SeekFrom::Start(0))?;
    output.read_to_string(&mut text)?;
    let text = text.trim().replace('\n', " ");
    if text.is_empty() {
        bail!("{status}");
    }
    bail!("{status}: {text}")
}
