//! `create` (and the first half of `run`): validate, make the state directory and cgroup,
//! spawn the init and record it. A failed create leaves nothing behind: no process, cgroup or
//! state directory.

use std::cell::RefCell;
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use nix::unistd::{mkfifo, Pid};

use crate::bundle::Bundle;
use crate::cgroups::systemd::properties::{self, Property};
use crate::cgroups::systemd::Bus;
use crate::cgroups::CgroupPaths;
use crate::container::checkpoint::{restore_init, RestoreInit, RestoreOptions};
use crate::container::{seccomp_agent, write_pid_file};
use crate::hooks::{self, Kind};
use crate::linux::host_root::HostRoot;
use crate::linux::namespaces::NamespacePlan;
use crate::linux::procfs::ProcessStat;
use crate::linux::{bind_source, tty};
use crate::process::spawn::{self, Placement};
use crate::process::{init, InitConfig, ProcessConfig};
use crate::state::{ContainerDir, Root, State};
use crate::timefmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartMode {
    /// `create`: the init waits on exec.fifo for `start`.
    OnStart,
    /// `run`: the init execs as soon as it is set up.
    Now,
}

pub struct CreateOptions<'a> {
    pub id: &'a str,
    pub bundle: &'a Path,
    pub pid_file: Option<&'a Path>,
    pub console_socket: Option<&'a Path>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    pub mode: StartMode,
    /// `run` in the foreground: berth itself holds a terminal's master side.
    pub attached: bool,
    /// Where berth may not make the container's cgroups, it runs in berth's own (`--rootless`).
    pub rootless_cgroups: bool,
    /// `--systemd-cgroup`: systemd makes the cgroup, a unit for the init.
    pub systemd_cgroup: bool,
    /// `restore`: the init is CRIU's restore of a checkpoint, not a spawn.
    pub restore: Option<&'a RestoreOptions<'a>>,
}

/// A container whose init has been created (and, for `StartMode::Now`, exec'd).
pub struct Created {
    pub pid: Pid,
    pub pty_master: Option<OwnedFd>,
}

pub fn create(root: &Root, opts: &CreateOptions) -> Result<Created> {
    let bundle = Bundle::load(opts.bundle)?;
    crate::logging::debug(format_args!(
        "container {}: bundle {}",
        opts.id,
        bundle.dir.display()
    ));
    let process = bundle.spec.process().as_ref().context("process missing")?;
    let terminal = process.terminal() == Some(true);
    if terminal && opts.console_socket.is_none() && !opts.attached {
        bail!("process.terminal is true: --console-socket is needed to receive the terminal");
    }
    if !terminal && opts.console_socket.is_some() {
        bail!("--console-socket given but process.terminal is false");
    }
    let propagation = bundle
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.rootfs_propagation().clone());
    if opts.no_pivot
        && propagation
            .as_deref()
            .is_some_and(|p| p.ends_with("private"))
    {
        bail!("linux.rootfsPropagation {propagation:?} is not safe with --no-pivot");
    }
    let linux = bundle.spec.linux().as_ref().context("linux missing")?;
    root.refuse_taken(opts.id)?;
    let plan = NamespacePlan::new(linux.namespaces().as_deref().unwrap_or(&[]))?;
    let (mut cgroup, systemd) = if opts.systemd_cgroup {
        let props = properties::from_annotations(bundle.spec.annotations().iter().flatten())?;
        let (cgroup, bus) = CgroupPaths::resolve_systemd(
            linux.cgroups_path().as_deref(),
            opts.id,
            opts.rootless_cgroups,
        )?;
        (cgroup, Some((RefCell::new(bus), props)))
    } else {
        let cgroup = CgroupPaths::resolve(linux.cgroups_path().as_deref(), opts.id)?;
        (cgroup, None)
    };
    let resources = linux.resources().clone().unwrap_or_default();
    cgroup.check(&resources).context("config.json")?;
    cgroup.check_existing()?;
    // Recorded before any exists: whatever happens to this process, `delete` finds them.
    cgroup.plan_create();
    let state = State {
        id: opts.id.to_owned(),
        pid: 0,
        pid_start_time: 0,
        bundle: bundle.dir.clone(),
        rootfs: bundle.rootfs.clone(),
        created: timefmt::rfc3339_nano(SystemTime::now()),
        annotations: bundle
            .spec
            .annotations()
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        cgroup,
        own_pid_ns: plan.creates(CloneFlags::CLONE_NEWPID),
        hooks: bundle.spec.hooks().is_some(),
    };
    // The state ("creating") is there as soon as the directory is: `state` reports it.
    let dir = root.create(opts.id, &state)?;
    let mut undo = Undo {
        cgroup: state.cgroup.clone(),
        own_pid_ns: state.own_pid_ns,
        pid_file: None,
    };
    let limits = Limits {
        resources: &resources,
        systemd: systemd.as_ref().map(|(bus, props)| (bus, props.as_slice())),
    };
    match build(&dir, &bundle, opts, state, plan, &limits, &mut undo) {
        Ok(created) => Ok(created),
        Err(e) => {
            undo.run(dir);
            Err(e)
        }
    }
}

/// The container's limits, and with the systemd driver its bus and the annotations' properties.
struct Limits<'a> {
    resources: &'a oci_spec::runtime::LinuxResources,
    systemd: Option<(&'a RefCell<Bus>, &'a [Property])>,
}

/// What a create has made, removed again when a later step fails: nothing is left behind.
struct Undo {
    cgroup: CgroupPaths,
    own_pid_ns: bool,
    pid_file: Option<PathBuf>,
}

impl Undo {
    /// Cleans up as far as it can. What it cannot do is logged as a warning; the error reported
    /// stays the create's own.
    fn run(self, dir: ContainerDir) {
        let warn = |what: &str, e: anyhow::Error| {
            crate::logging::warn(format!("clean up after the failed create: {what}: {e:#}"));
        };
        if let Some(path) = &self.pid_file {
            if let Err(e) = fs::remove_file(path) {
                warn(&format!("remove pid file {}", path.display()), e.into());
            }
        }
        // As runc's destroy: without a pid namespace of its own, the init's end is not the end
        // of what it started.
        if !self.own_pid_ns {
            if let Err(e) = self.cgroup.signal_all(libc::SIGKILL) {
                warn("kill what is in the container's cgroup", e);
            }
        }
        if let Err(e) = self.cgroup.destroy() {
            warn("remove the container's cgroup", e);
        }
        if let Err(e) = dir.remove() {
            warn("remove the state directory", e);
        }
    }
}

fn build(
    dir: &ContainerDir,
    bundle: &Bundle,
    opts: &CreateOptions,
    mut state: State,
    plan: NamespacePlan,
    limits: &Limits,
    undo: &mut Undo,
) -> Result<Created> {
    let (resources, systemd) = (limits.resources, limits.systemd);
    let spec = &bundle.spec;
    let process = spec.process().as_ref().context("process missing")?;
    let linux = spec.linux().as_ref().context("linux missing")?;
    let mut cgroup = state.cgroup.clone();
    let cgroups_path_given = linux
        .cgroups_path()
        .as_ref()
        .is_some_and(|p| !p.as_os_str().is_empty());
    if systemd.is_some() {
        // systemd makes the cgroup once the init exists (`place` below).
    } else if opts.rootless_cgroups && !cgroups_path_given {
        let made = cgroup.create_rootless(resources);
        undo.cgroup = cgroup.clone();
        made?;
        cgroup.apply(resources, false)?;
    } else {
        cgroup.create()?;
        cgroup.apply(resources, false)?;
    }
    // Once the create succeeds, delete leaves the parents made here, as runc does.
    state.cgroup = CgroupPaths {
        created: Vec::new(),
        ..cgroup.clone()
    };

    let console_socket = opts
        .console_socket
        .map(tty::connect_console_socket)
        .transpose()?;
    let fifo = match opts.mode {
        StartMode::OnStart => Some(make_fifo(dir)?),
        StartMode::Now => None,
    };
    // Without a mount namespace of its own, the container's mounts are made in the host's, on a
    // bind of the rootfs that `delete` (or a failure here, on drop) takes away.
    let host_root = (!plan.has(CloneFlags::CLONE_NEWNS))
        .then(|| HostRoot::bind(&bundle.rootfs, &dir.path))
        .transpose()?;
    let hooks = spec.hooks().as_ref();
    // exec, poststart and poststop use the config the container was made from, not the bundle's.
    dir.save_config(&bundle.raw)?;
    let snapshot = state.clone();
    // The systemd driver's init: into the unit systemd starts for it, then the files.
    let place = |pid: Pid| -> Result<()> {
        let (bus, props) = systemd.context("no systemd bus")?;
        cgroup.start_unit(
            &mut bus.borrow_mut(),
            pid.as_raw(),
            resources,
            props,
            opts.id,
        )?;
        cgroup.apply(resources, false)
    };
    if let Some(restore) = opts.restore {
        let init = RestoreInit {
            dir,
            bundle,
            state: &snapshot,
            cgroup: &cgroup,
            console_socket,
            place: systemd.is_some().then_some(&place as _),
        };
        let pid = restore_init(&init, restore)?;
        if let Err(e) = finish(dir, &mut state, pid, None, opts.pid_file, undo) {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(pid, None);
            return Err(e);
        }
        return Ok(Created {
            pid,
            pty_master: None,
        });
    }
    let cfg = InitConfig {
        id: opts.id,
        spec,
        rootfs: &bundle.rootfs,
        bundle: &bundle.dir,
        plan,
        cgroup: &cgroup,
        host_root: host_root.as_ref().map(HostRoot::fd),
        fifo,
        no_pivot: opts.no_pivot,
        no_new_keyring: opts.no_new_keyring,
        hooks,
        state: &snapshot,
        proc: ProcessConfig::new(
            process,
            linux,
            console_socket,
            opts.preserve_fds,
            bundle.seccomp.as_ref(),
        )?,
    };
    let runtime_hooks = |pid: Pid| {
        let json = hooks::state_json(&snapshot, "creating", pid.as_raw());
        hooks::run(Kind::Prestart, hooks, &json)?;
        hooks::run(Kind::CreateRuntime, hooks, &json)
    };
    let seccomp_agent = seccomp_agent(bundle.seccomp.as_ref(), &snapshot, "creating");
    let mount_source = |pid, index| bind_source::open_for(pid, spec, &bundle.dir, index);
    let placement = Placement {
        clone_flags: cfg.plan.clone_flags,
        cgroup: &cgroup,
        linux: Some(linux),
        runtime_hooks: Some(&runtime_hooks),
        seccomp_agent: seccomp_agent.as_ref().map(|f| f as _),
        // As runc: an unprivileged berth could not reach more than the init does.
        mount_source: nix::unistd::geteuid()
            .is_root()
            .then_some(&mount_source as _),
        // execCPUAffinity is not for the init: it gets every CPU its cgroup allows.
        final_cpus: None,
        place: systemd.is_some().then_some(&place as _),
    };
    let mut spawned = spawn::spawn(&placement, |ch| init::setup_and_exec(&cfg, ch))?;
    drop(cfg);
    if let Err(e) = finish(
        dir,
        &mut state,
        spawned.pid,
        process.oom_score_adj(),
        opts.pid_file,
        undo,
    ) {
        spawned.abort();
        return Err(e);
    }
    let pid = spawned.pid;
    crate::logging::debug(format_args!("container {}: init is pid {pid}", opts.id));
    let pty_master = spawned.pty_master.take();
    // `run -t`: the process sees our window size from its first instruction, as with exec.
    if let Some(master) = &pty_master {
        crate::process::foreground::copy_window_size(master.as_fd());
    }
    match opts.mode {
        StartMode::OnStart => spawned.wait_for_start()?,
        StartMode::Now => {
            spawned.exec()?;
            crate::container::poststart(&state, hooks);
        }
    }
    if let Some(root) = host_root {
        root.keep();
    }
    Ok(Created { pid, pty_master })
}

/// The host-side steps once the init is ready: oom_score_adj, state.json and the pid file.
fn finish(
    dir: &ContainerDir,
    state: &mut State,
    pid: Pid,
    oom_score_adj: Option<i32>,
    pid_file: Option<&Path>,
    undo: &mut Undo,
) -> Result<()> {
    let pid = pid.as_raw();
    if let Some(adj) = oom_score_adj {
        fs::write(format!("/proc/{pid}/oom_score_adj"), adj.to_string())
            .with_context(|| format!("process.oomScoreAdj: set {adj}"))?;
    }
    state.pid = pid;
    state.pid_start_time = ProcessStat::read(pid)?.start_time;
    dir.save(state)?;
    if let Some(path) = pid_file {
        write_pid_file(path, pid)?;
        undo.pid_file = Some(path.to_path_buf());
    }
    Ok(())
}

/// exec.fifo: the init holds it open read-write and blocks reading; `start` writes one byte.
fn make_fifo(dir: &ContainerDir) -> Result<OwnedFd> {
    let path = dir.fifo_path();
    mkfifo(&path, Mode::from_bits_truncate(0o600)).context("mkfifo exec.fifo")?;
    nix::fcntl::open(&path, OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())
        .context("open exec.fifo")
}
