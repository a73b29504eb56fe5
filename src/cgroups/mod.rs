//! The container's cgroups: one directory per mounted hierarchy (every v1 controller mount,
//! `name=systemd`, and the cgroup2 mount — `unified` on hybrid hosts), made and given its limits
//! before the container runs any code of its own, and removed again on delete. Each directory is
//! driven in its own version's terms (`Driver`: v1 files, or v2 files and an eBPF device filter),
//! so a hybrid host gets v1 limits where a controller is on v1 and v2 limits where it is on v2.
//! Under `--systemd-cgroup` systemd makes the directories and places the init (systemd/), and
//! the same file drivers write the limits into them.

mod check;
mod convert;
mod detect;
pub mod devices;
mod driver;
mod ebpf;
mod files;
pub mod mount;
mod rootless;
pub mod stats;
mod sub;
pub mod systemd;
mod v1;
mod v2;
mod verify;

pub use convert::parse_bytes;
pub use sub::SubCgroups;

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::linux::resolve::clean;

/// The container's directory in one hierarchy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CgroupDir {
    /// v1 controllers of the hierarchy ("cpu", "name=systemd"); empty for cgroup2.
    pub controllers: String,
    pub mountpoint: PathBuf,
    /// The cgroup, absolute within the hierarchy ("/berth/ctr").
    pub path: PathBuf,
}

impl CgroupDir {
    pub fn full(&self) -> PathBuf {
        self.mountpoint.join(clean(&self.path))
    }

    pub fn is_v2(&self) -> bool {
        self.controllers.is_empty()
    }

    pub fn has(&self, controller: &str) -> bool {
        self.controllers.split(',').any(|c| c == controller)
    }

    /// Moves `pid` (and its threads) into this cgroup.
    pub fn add(&self, pid: i32) -> Result<()> {
        let procs = self.full().join("cgroup.procs");
        fs::write(&procs, pid.to_string())
            .with_context(|| format!("join cgroup {}", procs.display()))
    }

    /// Where the hierarchy is mounted inside the container under /sys/fs/cgroup.
    pub fn mount_name(&self) -> &str {
        if self.is_v2() {
            "unified"
        } else {
            self.controllers
                .strip_prefix("name=")
                .unwrap_or(&self.controllers)
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CgroupPaths {
    pub dirs: Vec<CgroupDir>,
    /// Set when /sys/fs/cgroup itself is cgroup2 (no v1 hierarchies at all).
    pub unified_host: bool,
    /// Directories a create is making, parents first, recorded in the state before the first
    /// mkdir: a create that fails — or dies — leaves nothing once they are removed again. Emptied
    /// when the create succeeds: delete leaves the parents, as runc does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<PathBuf>,
    /// Hierarchies where a rootless container stays in berth's own cgroup (`create_rootless`):
    /// only the container's /sys/fs/cgroup shows them, nothing is written or removed there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherited: Vec<CgroupDir>,
    /// The systemd driver's unit: systemd makes and removes the directories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systemd: Option<systemd::SystemdUnit>,
}

impl CgroupPaths {
    /// The directories for `cgroups_path` (absolute within each hierarchy, or relative to berth's
    /// own cgroup as runc treats it); `/berth/<id>` when the config names none. A systemd
    /// `slice:prefix:name` is, for this driver as for runc's cgroupfs one, a relative path.
    pub fn resolve(cgroups_path: Option<&Path>, id: &str) -> Result<Self> {
        let default = PathBuf::from(format!("/berth/{id}"));
        let wanted = cgroups_path
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(&default);
        let paths = Self::in_each_hierarchy(|h| {
            if wanted.is_absolute() {
                Path::new("/").join(clean(wanted))
            } else {
                Path::new("/").join(clean(&h.own_cgroup.join(wanted)))
            }
        })?;
        if let Some(root) = paths.dirs.iter().find(|d| d.path == Path::new("/")) {
            bail!(
                "linux.cgroupsPath: {:?} names the root cgroup of {}, which no container may own",
                wanted,
                root.mountpoint.display()
            );
        }
        Ok(paths)
    }

    /// A directory in every mounted hierarchy, at the cgroup `path` gives for it.
    fn in_each_hierarchy(path: impl Fn(&detect::Hierarchy) -> PathBuf) -> Result<Self> {
        let hierarchies = detect::hierarchies()?;
        let unified_host = hierarchies.iter().all(|h| h.is_v2());
        let dirs = hierarchies
            .iter()
            .map(|h| CgroupDir {
                controllers: h.controllers.clone(),
                mountpoint: h.mountpoint.clone(),
                path: path(h),
            })
            .collect();
        Ok(CgroupPaths {
            dirs,
            unified_host,
            ..CgroupPaths::default()
        })
    }

    /// Records the directories `create` will make — each container directory and its missing
    /// parents — in `created`, for the state to keep before any exists.
    pub fn plan_create(&mut self) {
        if self.systemd.is_some() {
            // systemd makes them, and removes them with the unit.
            return;
        }
        let mut missing = Vec::new();
        for dir in &self.dirs {
            let mut path = dir.full();
            let start = missing.len();
            while path != dir.mountpoint && !path.exists() && !missing.contains(&path) {
                missing.insert(start, path.clone());
                if !path.pop() {
                    break;
                }
            }
        }
        self.created = missing;
    }

    /// Makes every directory (not under systemd: the unit's start makes them, `start_unit`).
    pub fn create(&self) -> Result<()> {
        for dir in &self.dirs {
            make(&dir.full(), dir)?;
        }
        Ok(())
    }

    /// An existing cgroup is checked as runc 1.1 checks it: a frozen one (or one below a frozen
    /// parent) is refused — the init would hang frozen in it; processes in it are reported.
    pub fn check_existing(&self) -> Result<()> {
        for dir in &self.dirs {
            let mut path = dir.full();
            while path != dir.mountpoint && path.starts_with(&dir.mountpoint) {
                if frozen(dir, &path, self.unified_host) {
                    bail!(
                        "container's cgroup unexpectedly frozen: {} (thaw it, or choose another linux.cgroupsPath)",
                        path.display()
                    );
                }
                path.pop();
            }
        }
        // Only a report: a cgroup berth cannot read is for the steps that need it to say so.
        let count = self.pids().map_or(0, |p| p.len());
        if count > 0 {
            crate::logging::warn(format!(
                "container's cgroup is not empty: {count} process(es) found in {}",
                self.main_dir()
                    .map(|d| d.full())
                    .unwrap_or_default()
                    .display()
            ));
        }
        Ok(())
    }

    /// The cgroup2 directory (pure v2, or the `unified` mount of a hybrid host): a clone starts
    /// in it (CLONE_INTO_CGROUP).
    pub fn v2_dir(&self) -> Option<&CgroupDir> {
        self.dirs.iter().find(|d| d.is_v2())
    }

    /// Moves the calling process — a fresh clone, so a single thread — into the container's
    /// cgroup in every v1 hierarchy. It writes itself ("0") to `tasks`: moving one thread skips
    /// the global lock a write of a pid to cgroup.procs takes, and with it an RCU grace period
    /// that costs milliseconds per container.
    pub fn join_v1(&self) -> Result<()> {
        for dir in self.dirs.iter().filter(|d| !d.is_v2()) {
            let tasks = dir.full().join("tasks");
            fs::write(&tasks, "0").with_context(|| format!("join cgroup {}", tasks.display()))?;
        }
        Ok(())
    }

    /// Moves `pid` (and its threads) into the container's cgroup in every hierarchy: CRIU's
    /// restore, whose tasks start where CRIU runs.
    pub fn enter(&self, pid: i32) -> Result<()> {
        self.dirs.iter().try_for_each(|dir| dir.add(pid))
    }

    /// The directory whose process list is authoritative: cgroup2 on a unified host, else the
    /// pids (or first) v1 hierarchy.
    fn main_dir(&self) -> Option<&CgroupDir> {
        self.dirs
            .iter()
            .find(|d| self.unified_host || d.has("pids"))
            .or_else(|| self.dirs.iter().find(|d| !d.is_v2()))
            .or(self.dirs.first())
    }

    /// Every process in the container's cgroup, sub-cgroups included.
    pub fn pids(&self) -> Result<Vec<i32>> {
        let mut out = Vec::new();
        if let Some(dir) = self.main_dir() {
            collect_pids(&dir.full(), &mut out)?;
        }
        Ok(out)
    }
}

/// mkdir, making missing parents first. Something else may remove an empty parent between the
/// steps (a failed create undoing the parents it made, a user's clean-up; a parent just made here
/// is empty until its child exists): then the step is retried.
pub(super) fn make(path: &Path, dir: &CgroupDir) -> Result<()> {
    for _ in 0..20 {
        match fs::create_dir(path) {
            Ok(()) => {
                if dir.has("cpuset") {
                    match inherit_cpuset(path, &dir.mountpoint) {
                        // Removed meanwhile (ENODEV: while the file was open): again.
                        Err(e)
                            if e.kind() == ErrorKind::NotFound
                                || e.raw_os_error() == Some(libc::ENODEV) =>
                        {
                            continue
                        }
                        r => r.with_context(|| {
                            format!("copy cpuset.cpus/mems into {}", path.display())
                        })?,
                    }
                }
                return Ok(());
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound && path != dir.mountpoint => {
                make(path.parent().unwrap_or(&dir.mountpoint), dir)?;
            }
            Err(e) => return Err(e).with_context(|| format!("create cgroup {}", path.display())),
        }
    }
    bail!(
        "create cgroup {}: its parent keeps disappearing",
        path.display()
    )
}

/// v1 cpuset cgroups start with no cpus or mems: a process cannot join until they are copied.
/// A parent made by a concurrent create may not have its own values yet: it gets them first.
fn inherit_cpuset(path: &Path, mountpoint: &Path) -> std::io::Result<()> {
    let parent = path.parent().unwrap_or(path);
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let read = |p: &Path| fs::read_to_string(p.join(file)).unwrap_or_default();
        if !read(path).trim().is_empty() {
            continue;
        }
        let mut value = read(parent);
        if value.trim().is_empty() && parent != mountpoint {
            inherit_cpuset(parent, mountpoint)?;
            value = read(parent);
        }
        fs::write(path.join(file), value.trim())?;
    }
    Ok(())
}

fn collect_pids(dir: &Path, out: &mut Vec<i32>) -> Result<()> {
    let procs = match fs::read_to_string(dir.join("cgroup.procs")) {
        Ok(s) => s,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("read {}/cgroup.procs", dir.display())),
    };
    out.extend(procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    for entry in fs::read_dir(dir)?.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_pids(&entry.path(), out)?;
        }
    }
    Ok(())
}

/// rmdir a cgroup and its children, retrying while the kernel still counts exiting tasks.
pub(super) fn remove_tree(dir: &Path) -> Result<()> {
    let children: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect(),
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("read {}", dir.display())),
    };
    for child in children {
        remove_tree(&child)?;
    }
    let mut delay = Duration::from_millis(1);
    for _ in 0..12 {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(200));
            }
            Err(e) => return Err(e).with_context(|| format!("remove cgroup {}", dir.display())),
        }
    }
    bail!("remove cgroup {}: still busy", dir.display())
}

/// Whether the container's cgroup is frozen (v1 freezer or cgroup2 cgroup.freeze).
pub fn is_frozen(paths: &CgroupPaths) -> bool {
    paths
        .dirs
        .iter()
        .any(|d| frozen(d, &d.full(), paths.unified_host))
}

/// Whether the cgroup at `path` in `dir`'s hierarchy is frozen (by itself or, on v1, a parent).
fn frozen(dir: &CgroupDir, path: &Path, unified_host: bool) -> bool {
    if dir.has("freezer") {
        fs::read_to_string(path.join("freezer.state")).is_ok_and(|s| s.trim() == "FROZEN")
    } else if dir.is_v2() && unified_host {
        fs::read_to_string(path.join("cgroup.freeze")).is_ok_and(|s| s.trim() == "1")
    } else {
        false
    }
}
