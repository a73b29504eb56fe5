//! How the container's namespaces come to be. The common case — every namespace new, no time
//! namespace — is one clone3 with all the flags. Joining namespaces by path, or a time namespace,
//! takes the general path: a plain clone that joins (user first), unshares, and where the kernel
//! only moves children into the namespace (pid, time) forks the init as its sibling.
//! The cgroup namespace is always unshared last, once berth has put the process in its cgroup, so
//! that the container's cgroup becomes the namespace's root.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};

use anyhow::{Context, Result};
use nix::sched::{setns, unshare, CloneFlags};
use nix::unistd::{setresgid, setresuid, Gid, Pid, Uid};
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType, LinuxTimeOffset};

use crate::linux::sys;
use crate::process::launch;
use crate::process::sync::{Channel, ChildMsg};

pub fn clone_flag(t: LinuxNamespaceType) -> CloneFlags {
    match t {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

pub struct NamespacePlan {
    /// Namespaces created by clone3 itself.
    pub clone_flags: CloneFlags,
    /// Namespaces to join, user first and mount last.
    pub joins: Vec<(CloneFlags, OwnedFd)>,
    /// New namespaces the child makes with unshare (never user or cgroup, handled apart).
    unshare_flags: CloneFlags,
    /// A new user namespace made by unshare (its maps are asked for over the channel).
    unshare_user: bool,
    new: CloneFlags,
    second_fork: bool,
}

impl NamespacePlan {
    pub fn new(namespaces: &[LinuxNamespace]) -> Result<Self> {
        let mut new = CloneFlags::empty();
        let mut joins = Vec::new();
        for (i, ns) in namespaces.iter().enumerate() {
            let flag = clone_flag(ns.typ());
            match ns.path() {
                Some(path) => {
                    let fd = File::open(path).with_context(|| {
                        format!("linux.namespaces[{i}].path: open {}", path.display())
                    })?;
                    joins.push((flag, OwnedFd::from(fd)));
                }
                None => new |= flag,
            }
        }
        let rank = |f: &CloneFlags| match *f {
            CloneFlags::CLONE_NEWUSER => 0,
            CloneFlags::CLONE_NEWNS => 2,
            _ => 1,
        };
        joins.sort_by_key(|(f, _)| rank(f));
        let time = CloneFlags::from_bits_retain(libc::CLONE_NEWTIME);
        let after_go = CloneFlags::CLONE_NEWCGROUP;
        let mut plan = NamespacePlan {
            clone_flags: CloneFlags::empty(),
            joins,
            unshare_flags: CloneFlags::empty(),
            unshare_user: false,
            new,
            second_fork: false,
        };
        let joins_pid_or_time = plan
            .joins
            .iter()
            .any(|(f, _)| *f == CloneFlags::CLONE_NEWPID || *f == time);
        if plan.joins.is_empty() && !new.contains(time) {
            plan.clone_flags = new - after_go;
        } else {
            plan.unshare_user = new.contains(CloneFlags::CLONE_NEWUSER);
            plan.unshare_flags = new - after_go - CloneFlags::CLONE_NEWUSER;
            plan.second_fork = joins_pid_or_time || new.intersects(CloneFlags::CLONE_NEWPID | time);
        }
        Ok(plan)
    }

    /// The container gets a user namespace of its own (berth writes its maps).
    pub fn new_user(&self) -> bool {
        self.new.contains(CloneFlags::CLONE_NEWUSER)
    }

    pub fn creates(&self, flag: CloneFlags) -> bool {
        self.new.contains(flag)
    }

    pub fn has(&self, flag: CloneFlags) -> bool {
        self.creates(flag) || self.joins.iter().any(|(f, _)| *f == flag)
    }

    /// Child side, after berth's `Go`: joins, unshares and (if needed) forks as planned. In the
    /// forced second fork the intermediate process reports the init's pid and exits; only the
    /// init returns from here.
    pub fn enter(&self, ch: &Channel) -> Result<()> {
        for (flag, fd) in &self.joins {
            setns(fd.as_fd(), *flag)
                .with_context(|| format!("join {} namespace", ns_name(*flag)))?;
            if *flag == CloneFlags::CLONE_NEWUSER {
                become_root()?;
            }
        }
        if self.unshare_user {
            unshare(CloneFlags::CLONE_NEWUSER).context("unshare user namespace")?;
            // berth writes the maps through /proc/<pid>: that needs the process dumpable while
            // it does (an unprivileged berth only owns the files of a dumpable process).
            launch::set_dumpable(true);
            ch.send(&ChildMsg::NeedIdMaps)?;
            ch.expect_done()?;
            launch::set_dumpable(false);
        }
        if self.new_user() {
            become_root()?;
        }
        if !self.unshare_flags.is_empty() {
            unshare(self.unshare_flags).context("unshare namespaces")?;
        }
        if self
            .unshare_flags
            .contains(CloneFlags::from_bits_retain(libc::CLONE_NEWTIME))
        {
            ch.send(&ChildMsg::NeedTimeOffsets)?;
            ch.expect_done()?;
        }
        if self.second_fork {
            if let Some(init) = sys::fork_sibling().context("fork the container init")? {
                ch.send(&ChildMsg::InitPid(init.as_raw()))?;
                // SAFETY: the intermediate process leaves without running berth's exit path.
                unsafe { libc::_exit(0) }
            }
        }
        if self.new.contains(CloneFlags::CLONE_NEWCGROUP) {
            unshare(CloneFlags::CLONE_NEWCGROUP).context("unshare cgroup namespace")?;
        }
        Ok(())
    }
}

/// Inside a new or joined user namespace: act as its root (uid 0 must be mapped).
fn become_root() -> Result<()> {
    setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
        .context("setresgid(0) in the user namespace (is gid 0 mapped?)")?;
    setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
        .context("setresuid(0) in the user namespace (is uid 0 mapped?)")
}

fn ns_name(flag: CloneFlags) -> &'static str {
    match flag {
        CloneFlags::CLONE_NEWNS => "mount",
        CloneFlags::CLONE_NEWCGROUP => "cgroup",
        CloneFlags::CLONE_NEWUTS => "uts",
        CloneFlags::CLONE_NEWIPC => "ipc",
        CloneFlags::CLONE_NEWUSER => "user",
        CloneFlags::CLONE_NEWPID => "pid",
        CloneFlags::CLONE_NEWNET => "network",
        _ => "time",
    }
}

/// Writes `linux.timeOffsets` for the time namespace `pid` has made (before anyone entered it).
pub fn write_time_offsets(pid: Pid, offsets: &HashMap<String, LinuxTimeOffset>) -> Result<()> {
    let text: String = offsets
        .iter()
        .map(|(clock, o)| {
            format!(
                "{clock} {} {}\n",
                o.secs().unwrap_or(0),
                o.nanosecs().unwrap_or(0)
            )
        })
        .collect();
    std::fs::write(format!("/proc/{pid}/timens_offsets"), text).context("write timens_offsets")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(t: LinuxNamespaceType) -> LinuxNamespace {
        let mut n = LinuxNamespace::default();
        n.set_typ(t);
        n
    }

    #[test]
    fn all_new_namespaces_take_one_clone() {
        use LinuxNamespaceType::*;
        let plan =
            NamespacePlan::new(&[ns(Pid), ns(Network), ns(Mount), ns(User), ns(Cgroup)]).unwrap();
        assert_eq!(
            plan.clone_flags,
            CloneFlags::CLONE_NEWPID
                | CloneFlags::CLONE_NEWNET
                | CloneFlags::CLONE_NEWNS
                | CloneFlags::CLONE_NEWUSER
        );
        assert!(!plan.second_fork && !plan.unshare_user);
        assert!(plan.creates(CloneFlags::CLONE_NEWCGROUP));
    }

    #[test]
    fn joining_or_time_takes_the_general_path() {
        use LinuxNamespaceType::*;
        let mut net = ns(Network);
        net.set_path(Some("/proc/self/ns/net".into()));
        let plan = NamespacePlan::new(&[ns(Pid), net, ns(User), ns(Mount)]).unwrap();
        assert!(plan.clone_flags.is_empty());
        assert!(plan.unshare_user && plan.second_fork);
        assert_eq!(
            plan.unshare_flags,
            CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS
        );
        assert!(plan.has(CloneFlags::CLONE_NEWNET) && !plan.creates(CloneFlags::CLONE_NEWNET));

        let plan = NamespacePlan::new(&[ns(Time), ns(Mount)]).unwrap();
        assert!(plan.second_fork && plan.clone_flags.is_empty());
    }
}
