//! What the host sees of a pod: processes, namespaces, cgroup directories, mounts, interfaces.

use crate::env::{CgroupDriver, Env};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A process, by pid and start time (so that a recycled pid is not taken for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Process {
    pub pid: i32,
    /// None: it had exited (a container that ran `true`) when it was looked at.
    start_time: Option<u64>,
}

impl Process {
    pub fn new(pid: i32) -> Process {
        Process {
            pid,
            start_time: start_time(pid).ok(),
        }
    }

    pub fn alive(&self) -> bool {
        self.start_time.is_some()
            && start_time(self.pid).ok() == self.start_time
            && !zombie(self.pid)
    }
}

fn stat_fields(pid: i32) -> Result<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command may hold spaces and parentheses: the fields start after its last ')'.
    let rest = stat.rsplit_once(')').context("malformed stat")?.1;
    Ok(rest.split_whitespace().map(str::to_string).collect())
}

fn start_time(pid: i32) -> Result<u64> {
    Ok(stat_fields(pid)?
        .get(19)
        .context("no start time")?
        .parse()?)
}

fn zombie(pid: i32) -> bool {
    stat_fields(pid).is_ok_and(|f| f.first().is_some_and(|s| s == "Z"))
}

/// The namespace of `kind` (net, ipc, uts, pid, mnt …) that process `pid` is in, as "net:[4026…]".
pub fn namespace(pid: i32, kind: &str) -> Result<String> {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .with_context(|| format!("the {kind} namespace of process {pid}"))?;
    Ok(link.to_string_lossy().into_owned())
}

/// The host's own namespace of `kind` (this test process's).
pub fn host_namespace(kind: &str) -> Result<String> {
    namespace(std::process::id() as i32, kind)
}

/// The pids of live processes whose NUL-separated command line contains every one of `words` as
/// a whole argument.
pub fn processes_with_args(words: &[&str]) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            words.iter().all(|w| args.contains(&w.as_bytes()))
        })
        .collect()
}

/// The shim containerd started for pod `sandbox_id` (the runc v2 shim serves a whole pod).
pub fn shims_of(env: &Env, sandbox_id: &str) -> Vec<i32> {
    let address = env.endpoint.to_string_lossy();
    processes_with_args(&["-id", sandbox_id, "-address", &address])
}

/// Every cgroup hierarchy's mount point on the host (v1 controllers, name=systemd, cgroup2).
pub fn cgroup_mounts() -> Vec<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mountinfo
        .lines()
        .filter_map(|line| {
            let (pre, post) = line.split_once(" - ")?;
            let fstype = post.split_whitespace().next()?;
            (fstype == "cgroup" || fstype == "cgroup2")
                .then(|| pre.split_whitespace().nth(4).map(PathBuf::from))?
        })
        .collect()
}

/// The directory a runc-style `cgroupsPath` names below a hierarchy's root: itself with
/// cgroupfs, `slice:prefix:name` expanded as systemd lays it out with the systemd driver.
pub fn cgroup_relative_path(driver: CgroupDriver, cgroups_path: &str) -> Result<PathBuf> {
    match driver {
        CgroupDriver::Cgroupfs => {
            if !cgroups_path.starts_with('/') {
                bail!("cgroupsPath {cgroups_path:?} is not absolute");
            }
            Ok(PathBuf::from(cgroups_path.trim_start_matches('/')))
        }
        CgroupDriver::Systemd => {
            let mut parts = cgroups_path.splitn(3, ':');
            let (Some(slice), Some(prefix), Some(name)) =
                (parts.next(), parts.next(), parts.next())
            else {
                bail!("cgroupsPath {cgroups_path:?} is not slice:prefix:name");
            };
            let path = slice_path(slice);
            Ok(path.join(format!("{prefix}-{name}.scope")))
        }
    }
}

/// Where systemd keeps a slice below a hierarchy's root: a-b-c.slice in a.slice/a-b.slice/.
pub fn slice_path(slice: &str) -> PathBuf {
    let mut path = PathBuf::new();
    let mut upto = String::new();
    for (i, part) in slice.trim_end_matches(".slice").split('-').enumerate() {
        if i > 0 {
            upto.push('-');
        }
        upto.push_str(part);
        path.push(format!("{upto}.slice"));
    }
    path
}

/// Which of the directories of `relative` exist in any hierarchy.
pub fn existing_cgroup_dirs(relative: &Path) -> Vec<PathBuf> {
    cgroup_mounts()
        .into_iter()
        .map(|m| m.join(relative))
        .filter(|d| d.is_dir())
        .collect()
}

/// Mount points (from the host's mountinfo) whose path contains `needle`.
pub fn mounts_containing(needle: &str) -> Vec<String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mountinfo
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .filter(|m| m.contains(needle))
        .map(str::to_string)
        .collect()
}

/// The host end of the veth whose other end is eth0 in network namespace `netns` (a bind-mounted
/// namespace file, as containerd keeps it).
pub fn host_veth(netns: &Path) -> Result<String> {
    let out = Command::new("nsenter")
        .arg(format!("--net={}", netns.display()))
        .args(["ip", "-o", "link", "show", "eth0"])
        .output()
        .context("nsenter ip link")?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "3: eth0@if17: <BROADCAST,…": the peer is ifindex 17 on the host.
    let peer: u32 = text
        .split_once("eth0@if")
        .and_then(|(_, rest)| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .with_context(|| {
            format!(
                "no veth peer in {text:?} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    interface_by_index(peer).with_context(|| format!("no host interface with index {peer}"))
}

fn interface_by_index(index: u32) -> Option<String> {
    std::fs::read_dir("/sys/class/net")
        .ok()?
        .filter_map(Result::ok)
        .find_map(|e| {
            let i = std::fs::read_to_string(e.path().join("ifindex")).ok()?;
            (i.trim().parse() == Ok(index)).then(|| e.file_name().to_string_lossy().into_owned())
        })
}

pub fn interface_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_paths_expand_slices() {
        assert_eq!(
            slice_path("a-b-c.slice"),
            PathBuf::from("a.slice/a-b.slice/a-b-c.slice")
        );
        let path =
            cgroup_relative_path(CgroupDriver::Systemd, "pods-pod1.slice:cri-containerd:abc")
                .unwrap();
        assert_eq!(
            path,
            PathBuf::from("pods.slice/pods-pod1.slice/cri-containerd-abc.scope")
        );
        assert!(cgroup_relative_path(CgroupDriver::Systemd, "/pods/abc").is_err());
    }

    #[test]
    fn cgroupfs_paths_are_absolute() {
        let path = cgroup_relative_path(CgroupDriver::Cgroupfs, "/pods/pod1/abc").unwrap();
        assert_eq!(path, PathBuf::from("pods/pod1/abc"));
        assert!(cgroup_relative_path(CgroupDriver::Cgroupfs, "pods:cri-containerd:abc").is_err());
    }
}
