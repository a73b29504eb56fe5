//! The three drivers of a container's cgroups: each directory driven in its own version's
//! terms (v1 files, or v2 files and an eBPF device filter — on a hybrid host a controller
//! mounted on v1 gets v1 limits and one on the cgroup2 mount gets v2 limits), and under
//! `--systemd-cgroup` the unit systemd made them for, which holds the limits its properties
//! express. Every operation goes to each driver in turn: the unit first, then the files
//! (runc's order: systemd's properties, then the files it cannot express).

use std::fs;

use anyhow::{bail, Context, Result};
use oci_spec::runtime::LinuxResources;

use crate::cgroups::check::wanted;
use crate::cgroups::devices::{self, Policy};
use crate::cgroups::files::write;
use crate::cgroups::stats::Stats;
use crate::cgroups::systemd::SystemdUnit;
use crate::cgroups::{remove_tree, v1, v2, CgroupDir, CgroupPaths};

/// One part of the container's cgroups: a hierarchy's directory, or the systemd unit.
trait Driver {
    /// Sets the limits it holds (on create, or `update` for a live container).
    fn apply(&self, r: &LinuxResources, devices: Option<&Policy>, update: bool) -> Result<()>;
    fn set_frozen(&self, _frozen: bool) -> Result<()> {
        Ok(())
    }
    fn stats(&self, _s: &mut Stats) -> Result<()> {
        Ok(())
    }
    fn oom_kills(&self) -> Option<u64> {
        None
    }
    /// Removes what it made (a directory and its sub-cgroups; the unit).
    fn destroy(&self) -> Result<()>;
}

struct V1<'a>(&'a CgroupDir);

/// The unit systemd made the cgroups for. The files are frozen and read through V1/V2.
struct Systemd<'a> {
    unit: &'a SystemdUnit,
    unified_host: bool,
}

/// A cgroup2 directory; `pure` when the whole host is cgroup2 (then it also owns devices and
/// the freezer, which on hybrid hosts stay with v1).
struct V2<'a> {
    dir: &'a CgroupDir,
    pure: bool,
}

impl Driver for V1<'_> {
    fn apply(&self, r: &LinuxResources, devices: Option<&Policy>, update: bool) -> Result<()> {
        v1::apply(self.0, r, devices, update)
    }
    fn set_frozen(&self, frozen: bool) -> Result<()> {
        v1::set_frozen(self.0, frozen)
    }
    fn stats(&self, s: &mut Stats) -> Result<()> {
        v1::stats(self.0, s)
    }
    fn oom_kills(&self) -> Option<u64> {
        v1::oom_kills(self.0)
    }
    fn destroy(&self) -> Result<()> {
        remove_tree(&self.0.full())
    }
}

impl Driver for V2<'_> {
    fn apply(&self, r: &LinuxResources, devices: Option<&Policy>, update: bool) -> Result<()> {
        v2::apply(self.dir, r, devices, self.pure, update)
    }
    fn set_frozen(&self, frozen: bool) -> Result<()> {
        if self.pure {
            v2::set_frozen(self.dir, frozen)
        } else {
            Ok(())
        }
    }
    fn stats(&self, s: &mut Stats) -> Result<()> {
        v2::stats(self.dir, s)
    }
    fn oom_kills(&self) -> Option<u64> {
        v2::oom_kills(self.dir)
    }
    fn destroy(&self) -> Result<()> {
        remove_tree(&self.dir.full())
    }
}

impl Driver for Systemd<'_> {
    /// On create the unit got its properties when it started (`start_unit`); `update` sets them.
    fn apply(&self, r: &LinuxResources, _devices: Option<&Policy>, update: bool) -> Result<()> {
        if update {
            self.unit.set_resources(r, self.unified_host)?;
        }
        Ok(())
    }
    /// Stopping the unit ends what is left in it and removes systemd's directories.
    fn destroy(&self) -> Result<()> {
        self.unit.stop()
    }
}

impl CgroupPaths {
    /// The systemd unit first (if any), then one driver per hierarchy.
    fn drivers(&self) -> Vec<Box<dyn Driver + '_>> {
        let unit = self.systemd.iter().map(|unit| -> Box<dyn Driver + '_> {
            Box::new(Systemd {
                unit,
                unified_host: self.unified_host,
            })
        });
        let dirs = self.dirs.iter().map(|d| -> Box<dyn Driver + '_> {
            if d.is_v2() {
                Box::new(V2 {
                    dir: d,
                    pure: self.unified_host,
                })
            } else {
                Box::new(V1(d))
            }
        });
        unit.chain(dirs).collect()
    }

    /// Removes the container's cgroups — the unit, then each directory (waiting briefly for
    /// exiting processes to leave) — and then those of `created` that are empty; every one is
    /// tried, the first failure reported. Parents a create did not make stay, as with runc and
    /// crun: they are often shared (containerd's /default, berth's own /berth), and making and
    /// removing them again with every container cost 0.4 ms a `run` and raced with creates
    /// under them.
    pub fn destroy(&self) -> Result<()> {
        let mut result = Ok(());
        for driver in self.drivers() {
            if let Err(e) = driver.destroy() {
                result = result.and(Err(e));
            }
        }
        for path in self.created.iter().rev() {
            match fs::remove_dir(path) {
                Ok(()) => {}
                // Gone, or another container's parent by now: both fine.
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ENOENT | libc::ENOTEMPTY | libc::EBUSY)
                    ) => {}
                Err(e) => {
                    let e = Err(e).with_context(|| format!("remove cgroup {}", path.display()));
                    result = result.and(e);
                }
            }
        }
        result
    }

    /// Writes the resources into every hierarchy. `update` keeps devices as they are (rewriting
    /// a v1 list would deny access for an instant) and honours memory.checkBeforeUpdate; create
    /// always sets the device policy (default deny when the config lists no rules).
    pub fn apply(&self, r: &LinuxResources, update: bool) -> Result<()> {
        // Unified keys name cgroup2 files whatever the host: their controllers must be delegated.
        let needs_v2 = self.unified_host
            || r.unified().as_ref().is_some_and(|u| !u.is_empty())
            || wanted(r)
                .iter()
                .any(|(_, v1_name, _)| !self.dirs.iter().any(|d| d.has(v1_name)));
        if let (true, Some(d)) = (needs_v2, self.v2_dir()) {
            v2::enable_controllers(d);
            // What a v1 hierarchy does not hold must be enabled there.
            v2::require_controllers(
                d,
                wanted(r)
                    .into_iter()
                    .filter_map(|(field, v1_name, v2_name)| {
                        v2_name
                            .filter(|_| !self.dirs.iter().any(|d| d.has(v1_name)))
                            .map(|c| (field, c))
                    }),
            )?;
        }
        // On create the device cgroup is always set, as runc does: a config without
        // linux.resources.devices still gets default deny plus the always-allowed devices.
        let policy = match (update, r.devices()) {
            (false, d) => Some(Policy::fold(&devices::rules(
                d.as_deref().unwrap_or_default(),
            )?)?),
            (true, _) => None,
        };
        for driver in self.drivers() {
            driver.apply(r, policy.as_ref(), update)?;
        }
        Ok(())
    }

    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        if !self.unified_host && !self.dirs.iter().any(|d| d.has("freezer")) {
            bail!("this host has no freezer cgroup");
        }
        for driver in self.drivers() {
            driver.set_frozen(frozen)?;
        }
        Ok(())
    }

    pub fn stats(&self) -> Result<Stats> {
        let mut s = Stats::default();
        for driver in self.drivers() {
            driver.stats(&mut s)?;
        }
        Ok(s)
    }

    /// How many processes of the container the OOM killer has ended so far.
    pub fn oom_kills(&self) -> u64 {
        self.drivers()
            .iter()
            .find_map(|d| d.oom_kills())
            .unwrap_or(0)
    }

    /// Sends `sig` to every process: cgroup.kill for SIGKILL where the kernel has it, otherwise
    /// freeze, signal each, thaw (so nothing forks past the list), as runc does. A paused
    /// container stays paused, except for SIGKILL: frozen processes only die once thawed.
    pub fn signal_all(&self, sig: i32) -> Result<()> {
        if sig == libc::SIGKILL && self.unified_host {
            if let Some(d) = self.v2_dir() {
                if v2::kill(d)? {
                    return Ok(());
                }
            }
        }
        let was_frozen = crate::cgroups::is_frozen(self);
        // Signal 0 only asks whether they exist: nothing to hold still.
        let froze = sig != 0 && self.set_frozen(true).is_ok();
        let result = self.pids().and_then(|pids| {
            let mut result = Ok(());
            for pid in pids {
                // SAFETY: plain integer arguments; a process that already left is fine.
                if unsafe { libc::kill(pid, sig) } < 0
                    && nix::errno::Errno::last() != nix::errno::Errno::ESRCH
                {
                    result = Err(std::io::Error::last_os_error())
                        .with_context(|| format!("signal process {pid}"));
                }
            }
            result
        });
        if froze && (!was_frozen || sig == libc::SIGKILL) {
            self.set_frozen(false)?;
        }
        result
    }

    /// A descriptor that becomes readable when the OOM killer may have acted: an eventfd
    /// registered on v1's memory.oom_control, or an inotify watch on v2's memory.events.
    pub fn oom_notifier(&self) -> Result<Option<std::os::fd::OwnedFd>> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        if let Some(d) = self.dirs.iter().find(|d| d.has("memory")) {
            let path = d.full();
            let control = fs::File::open(path.join("memory.oom_control"))
                .context("open memory.oom_control")?;
            // SAFETY: plain integer arguments; returns a new descriptor.
            let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
            if efd < 0 {
                return Err(std::io::Error::last_os_error()).context("eventfd");
            }
            // SAFETY: a new descriptor we own.
            let efd = unsafe { OwnedFd::from_raw_fd(efd) };
            write(
                &path,
                "cgroup.event_control",
                &format!("{} {}", efd.as_raw_fd(), control.as_raw_fd()),
            )?;
            return Ok(Some(efd));
        }
        match self.v2_dir() {
            Some(d) if self.unified_host || d.full().join("memory.events").exists() => {
                use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
                let ino = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
                    .context("inotify")?;
                ino.add_watch(&d.full().join("memory.events"), AddWatchFlags::IN_MODIFY)
                    .context("watch memory.events")?;
                Ok(Some(OwnedFd::from(ino)))
            }
            _ => Ok(None),
        }
    }
}
