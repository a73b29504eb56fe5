//! Which cgroup hierarchies this host has and where they are mounted: pure v2 (`/sys/fs/cgroup`
//! is cgroup2), or v1 with one mount per hierarchy plus, on hybrid hosts, a cgroup2 `unified` mount.
//! Read from `/proc/self/cgroup` and statfs — the full mountinfo is only scanned when a hierarchy
//! is not at its conventional place.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC};

pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// One mounted hierarchy, with the caller's own cgroup in it (for relative cgroupsPath values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hierarchy {
    /// v1 controllers as /proc/self/cgroup names them ("cpu,cpuacct", "name=systemd"); empty for v2.
    pub controllers: String,
    pub mountpoint: PathBuf,
    pub own_cgroup: PathBuf,
}

impl Hierarchy {
    pub fn is_v2(&self) -> bool {
        self.controllers.is_empty()
    }
}

/// (controllers, cgroup) of each line of a /proc/<pid>/cgroup ("4:cpu,cpuacct:/a/b").
pub fn memberships(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let mut parts = line.splitn(3, ':');
        parts.next()?;
        Some((parts.next()?, parts.next()?))
    })
}

pub fn hierarchies() -> Result<Vec<Hierarchy>> {
    let own = fs::read_to_string("/proc/self/cgroup").context("read /proc/self/cgroup")?;
    let unified = is_fs(Path::new(CGROUP_ROOT), CGROUP2_SUPER_MAGIC);
    let mut out = Vec::new();
    for (ctrls, path) in memberships(&own) {
        if unified && !ctrls.is_empty() {
            continue;
        }
        let Some(mountpoint) = mountpoint_of(ctrls, unified)? else {
            continue;
        };
        out.push(Hierarchy {
            controllers: ctrls.to_owned(),
            mountpoint,
            own_cgroup: PathBuf::from(path),
        });
    }
    if out.is_empty() {
        bail!("no cgroup hierarchy is mounted under {CGROUP_ROOT}");
    }
    Ok(out)
}

fn mountpoint_of(ctrls: &str, unified_host: bool) -> Result<Option<PathBuf>> {
    let (conventional, magic) = if ctrls.is_empty() {
        let p = if unified_host {
            PathBuf::from(CGROUP_ROOT)
        } else {
            Path::new(CGROUP_ROOT).join("unified")
        };
        (p, CGROUP2_SUPER_MAGIC)
    } else {
        let dir = ctrls.strip_prefix("name=").unwrap_or(ctrls);
        (Path::new(CGROUP_ROOT).join(dir), CGROUP_SUPER_MAGIC)
    };
    if is_fs(&conventional, magic) {
        return Ok(Some(conventional));
    }
    scan_mountinfo(ctrls)
}

fn is_fs(path: &Path, magic: nix::sys::statfs::FsType) -> bool {
    statfs(path).is_ok_and(|s| s.filesystem_type() == magic)
}

/// The mount point of the hierarchy with exactly these controllers, if it is mounted at all.
fn scan_mountinfo(ctrls: &str) -> Result<Option<PathBuf>> {
    let me = procfs::process::Process::myself().context("open /proc/self")?;
    let mounts = me.mountinfo().context("read /proc/self/mountinfo")?;
    let wanted: Vec<&str> = ctrls.split(',').filter(|c| !c.is_empty()).collect();
    for m in mounts {
        let matches = if wanted.is_empty() {
            m.fs_type == "cgroup2"
        } else {
            m.fs_type == "cgroup" && wanted.iter().all(|c| option_present(&m.super_options, c))
        };
        if matches {
            return Ok(Some(m.mount_point));
        }
    }
    Ok(None)
}

fn option_present(opts: &std::collections::HashMap<String, Option<String>>, ctrl: &str) -> bool {
    match ctrl.split_once('=') {
        Some((k, v)) => opts.get(k).is_some_and(|x| x.as_deref() == Some(v)),
        None => opts.contains_key(ctrl),
    }
}
