//! The host side of the clone: start the process in the container's cgroup, answer its requests
//! (id maps, time offsets, network devices, runtime hooks), and follow it until it is ready.

use std::convert::Infallible;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use anyhow::{anyhow, bail, Context, Result};
use nix::sched::{CloneFlags, CpuSet};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use oci_spec::runtime::Linux;

use crate::cgroups::CgroupPaths;
use crate::linux::affinity;
use crate::linux::namespaces::write_time_offsets;
use crate::linux::netdev;
use crate::linux::sys;
use crate::linux::userns::write_id_maps;
use crate::process::launch;
use crate::process::sync::{Channel, ChildMsg, Closed, ParentMsg};

/// Where the clone goes and what berth does for it on the way.
pub struct Placement<'a> {
    /// Namespaces created by the clone itself.
    pub clone_flags: CloneFlags,
    pub cgroup: &'a CgroupPaths,
    /// The container's linux section when its user and time namespaces are made (create).
    pub linux: Option<&'a Linux>,
    /// Runs the prestart and createRuntime hooks for the init's pid (create).
    pub runtime_hooks: Option<&'a dyn Fn(Pid) -> Result<()>>,
    /// Makes berth's part of the bind `mounts[index]` for the process `pid`, in its mount
    /// namespace (create, as root: `bind_source::open_for`).
    pub mount_source: Option<&'a dyn Fn(Pid, usize) -> Result<OwnedFd>>,
    /// Hands the seccomp notify listener of the process `pid` to the seccomp agent.
    pub seccomp_agent: Option<&'a dyn Fn(Pid, OwnedFd) -> Result<()>>,
    /// The CPUs the process runs on once in its cgroup (`execCPUAffinity.final`); every CPU
    /// the cgroup allows when None.
    pub final_cpus: Option<&'a CpuSet>,
    /// Puts the clone into its cgroups before it goes on (the systemd driver's init: systemd
    /// makes the cgroup for a pid). Without it the clone starts in them.
    pub place: Option<&'a dyn Fn(Pid) -> Result<()>>,
}

/// A process that finished its set-up and waits for `exec` or `wait_for_start`.
pub struct Spawned<'a> {
    pub pid: Pid,
    /// The pty master when the process has a terminal and no console socket took it.
    pub pty_master: Option<OwnedFd>,
    channel: Channel,
    placement: &'a Placement<'a>,
}

/// Clones the process that runs `child`: it starts in the cgroup2 cgroup and joins the v1
/// hierarchies itself before anything else.
pub fn spawn<'a>(
    p: &'a Placement<'a>,
    child: impl FnOnce(&Channel) -> Result<Infallible>,
) -> Result<Spawned<'a>> {
    let (parent, child_end) = Channel::pair()?;
    // A process `place` puts into its cgroups starts in berth's: they may not exist yet.
    let placed_later = p.place.is_some();
    let cgroup_dir = p
        .cgroup
        .v2_dir()
        .filter(|_| !placed_later)
        .map(|d| {
            File::open(d.full()).with_context(|| format!("open cgroup {}", d.full().display()))
        })
        .transpose()?;
    let flags = p.clone_flags.bits() as u64;
    let Some(first) =
        sys::clone3(flags, cgroup_dir.as_ref().map(|f| f.as_fd())).context("clone3")?
    else {
        drop(parent);
        launch::child_main(child_end, |ch| {
            if !placed_later {
                p.cgroup.join_v1()?;
            }
            affinity::settle(p.final_cpus)?;
            child(ch)
        })
    };
    drop(child_end);
    let mut track = Tracked {
        first,
        init: None,
        first_reaped: false,
    };
    match follow(p, &parent, &mut track) {
        Ok(pty_master) => Ok(Spawned {
            pid: track.init.unwrap_or(first),
            pty_master,
            channel: parent,
            placement: p,
        }),
        Err(e) => {
            track.kill_and_reap(&parent);
            Err(e)
        }
    }
}

/// The processes of one spawn: the clone itself, and the one a second fork made.
struct Tracked {
    first: Pid,
    init: Option<Pid>,
    first_reaped: bool,
}

impl Tracked {
    fn kill_and_reap(&mut self, ch: &Channel) {
        let _ = kill(self.first, Signal::SIGKILL);
        if let Some(init) = self.init {
            let _ = kill(init, Signal::SIGKILL);
        }
        // A process forked after the failure reports itself late: end it too, then wait for EOF.
        while let Ok(Some((msg, _))) = ch.recv::<ChildMsg>() {
            if let ChildMsg::InitPid(p) = msg {
                let init = Pid::from_raw(p);
                let _ = kill(init, Signal::SIGKILL);
                self.init = Some(init);
            }
        }
        if !self.first_reaped {
            let _ = waitpid(self.first, None);
        }
        if let Some(init) = self.init {
            let _ = waitpid(init, None);
        }
    }
}

/// Answers the process's requests until it is ready; when it dies on the way (the channel
/// closes under a send or a receive), gives its last error, or says how it ended.
fn follow(p: &Placement, ch: &Channel, track: &mut Tracked) -> Result<Option<OwnedFd>> {
    converse(p, ch, track).map_err(|e| {
        Closed::explain(e, || {
            last_words(ch, track).unwrap_or_else(|| {
                format!(
                    "container process exited during set-up{}",
                    exit_note(p, track)
                )
            })
        })
    })
}

/// The error the process sent before it went, when a send of ours found it gone with that
/// message still unread here (it fails, and exits, without waiting for us). A late init pid is
/// recorded on the way, for `kill_and_reap`.
fn last_words(ch: &Channel, track: &mut Tracked) -> Option<String> {
    while let Ok(Some((msg, _))) = ch.recv::<ChildMsg>() {
        match msg {
            ChildMsg::Error(text) => return Some(text),
            ChildMsg::InitPid(pid) => track.init = Some(Pid::from_raw(pid)),
            _ => {}
        }
    }
    None
}

fn converse(p: &Placement, ch: &Channel, track: &mut Tracked) -> Result<Option<OwnedFd>> {
    let first = track.first;
    if let Some(place) = p.place {
        place(first)?;
    }
    if p.clone_flags.contains(CloneFlags::CLONE_NEWUSER) {
        write_maps(p, first)?;
    }
    ch.send(&ParentMsg::Go)?;
    let mut pty_master = None;
    loop {
        let Some((msg, fd)) = ch.recv::<ChildMsg>()? else {
            return Err(Closed.into());
        };
        match msg {
            ChildMsg::NeedIdMaps => {
                write_maps(p, first)?;
                ch.send(&ParentMsg::Done)?;
            }
            ChildMsg::NeedTimeOffsets => {
                let offsets = p.linux.and_then(|l| l.time_offsets().clone());
                write_time_offsets(first, &offsets.unwrap_or_default())?;
                ch.send(&ParentMsg::Done)?;
            }
            ChildMsg::NetDevices => {
                let devices = p.linux.and_then(netdev::requested);
                let devices = devices.context("unexpected request for network devices")?;
                let pid = track.init.unwrap_or(first);
                let netns = File::open(format!("/proc/{pid}/ns/net"))
                    .context("open the container's network namespace")?;
                netdev::move_into(devices, netns.as_fd())?;
                ch.send(&ParentMsg::Done)?;
            }
            ChildMsg::RuntimeHooks => {
                if let Some(run) = p.runtime_hooks {
                    run(track.init.unwrap_or(first))?;
                }
                ch.send(&ParentMsg::Done)?;
            }
            ChildMsg::MountSource(index) => {
                let pid = track.init.unwrap_or(first);
                let fd = p.mount_source.map(|open| open(pid, index)).transpose()?;
                ch.send_with_fd(&ParentMsg::Done, fd.as_ref().map(|f| f.as_raw_fd()))?;
            }
            ChildMsg::InitPid(pid) => {
                track.init = Some(Pid::from_raw(pid));
                // The intermediate process exits right after reporting.
                let _ = waitpid(first, None);
                track.first_reaped = true;
            }
            ChildMsg::PtyMaster => pty_master = fd,
            ChildMsg::SeccompListener => {
                hand_over_listener(p, track.init.unwrap_or(first), fd, ch)?
            }
            ChildMsg::Ready => return Ok(pty_master),
            ChildMsg::Error(msg) => return Err(anyhow!(msg)),
            ChildMsg::Waiting => bail!("unexpected message from the container: Waiting"),
        }
    }
}

/// Gives the process's seccomp listener to the agent, then lets the process go on.
fn hand_over_listener(p: &Placement, pid: Pid, fd: Option<OwnedFd>, ch: &Channel) -> Result<()> {
    let fd = fd.context("seccomp listener message without a descriptor")?;
    let send = p.seccomp_agent.context("unexpected seccomp listener")?;
    send(pid, fd)?;
    ch.send(&ParentMsg::Done)
}

fn write_maps(p: &Placement, pid: Pid) -> Result<()> {
    let linux = p.linux.context("no id mappings for a user namespace")?;
    write_id_maps(
        pid,
        linux.uid_mappings().as_deref().unwrap_or(&[]),
        linux.gid_mappings().as_deref().unwrap_or(&[]),
    )
}

/// How the process that closed the channel ended: the forked init if there is one, else the clone.
fn exit_note(p: &Placement, track: &mut Tracked) -> String {
    let pid = match track.init {
        Some(init) => init,
        None if !track.first_reaped => {
            track.first_reaped = true;
            track.first
        }
        None => return String::new(),
    };
    how_it_ended(p, pid)
}

/// " (exit status N)", " (killed by SIG…)" for the process `pid` that has gone, once reaped.
fn how_it_ended(p: &Placement, pid: Pid) -> String {
    match waitpid(pid, None) {
        Ok(WaitStatus::Exited(_, code)) => format!(" (exit status {code})"),
        Ok(WaitStatus::Signaled(_, Signal::SIGKILL, _)) if p.cgroup.oom_kills() > 0 => {
            " (OOM-killed: linux.resources.memory.limit too low?)".to_owned()
        }
        Ok(WaitStatus::Signaled(_, sig, _)) => format!(" (killed by {sig})"),
        _ => String::new(),
    }
}

impl Spawned<'_> {
    /// Lets the process exec now; returns once it has (the channel closes on exec).
    pub fn exec(self) -> Result<()> {
        self.release(ParentMsg::Exec)?;
        self.follow_to_the_end(false)
    }

    /// Leaves the init blocked on exec.fifo until `berth start` (`create`); returns once it is.
    pub fn wait_for_start(self) -> Result<()> {
        self.release(ParentMsg::WaitForStart)?;
        self.follow_to_the_end(true)
    }

    fn release(&self, msg: ParentMsg) -> Result<()> {
        self.channel.send(&msg).map_err(|e| {
            Closed::explain(e, || "container process exited before it could exec".into())
        })
    }

    /// What the process still does after berth's answer: with no_new_privs it installs its
    /// filter only then (a listener to hand over), and reports `Waiting` on exec.fifo (`create`)
    /// or execs, closing the channel (`exec`, `run`).
    fn follow_to_the_end(self, waits: bool) -> Result<()> {
        loop {
            let (msg, fd) = match self.channel.recv::<ChildMsg>()? {
                Some(received) => received,
                None if waits => bail!(
                    "container process exited before it could wait for start{}",
                    how_it_ended(self.placement, self.pid)
                ),
                None => return Ok(()),
            };
            let step = match msg {
                ChildMsg::Waiting if waits => return Ok(()),
                ChildMsg::SeccompListener => {
                    hand_over_listener(self.placement, self.pid, fd, &self.channel)
                }
                ChildMsg::Error(msg) => Err(anyhow!(msg)),
                other => Err(anyhow!("unexpected message from the container: {other:?}")),
            };
            if let Err(e) = step {
                self.abort();
                return Err(e);
            }
        }
    }

    /// Ends a spawned process that will not run (a later step failed).
    pub fn abort(self) {
        let _ = kill(self.pid, Signal::SIGKILL);
        let _ = waitpid(self.pid, None);
    }
}
