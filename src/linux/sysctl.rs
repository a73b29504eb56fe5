//! `linux.sysctl`: only keys that belong to a namespace the container has of its own (runc's
//! rules), written through the container's procfs.

use std::collections::HashMap;
use std::io::Write;
use std::os::fd::AsFd;

use anyhow::{bail, Context, Result};
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC};

const IPC_KEYS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// Which namespaces the container has of its own (new, or joined by path).
pub struct OwnNamespaces {
    pub ipc: bool,
    pub net: bool,
    pub uts: bool,
}

pub fn check(key: &str, own: &OwnNamespaces) -> Result<()> {
    if IPC_KEYS.contains(&key) || key.starts_with("fs.mqueue.") {
        if own.ipc {
            return Ok(());
        }
        bail!("sysctl {key:?} is not allowed in the host's ipc namespace");
    }
    if key.starts_with("net.") {
        if own.net {
            return Ok(());
        }
        bail!("sysctl {key:?} is not allowed in the host's network namespace");
    }
    if own.uts {
        match key {
            "kernel.domainname" => return Ok(()),
            "kernel.hostname" => {
                bail!("sysctl {key:?} conflicts with the \"hostname\" field; set that instead")
            }
            _ => {}
        }
    }
    bail!("sysctl {key:?} is not in a separate kernel namespace")
}

/// Writes every key under /proc/sys (checked to be a real procfs).
pub fn apply(sysctl: &HashMap<String, String>) -> Result<()> {
    for (key, value) in sysctl {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        let fd = open(
            path.as_str(),
            OFlag::O_WRONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
            Mode::empty(),
        )
        .with_context(|| format!("sysctl {key}: open {path}"))?;
        if fstatfs(fd.as_fd()).map(|s| s.filesystem_type()) != Ok(PROC_SUPER_MAGIC) {
            bail!("sysctl {key}: {path} is not on procfs");
        }
        std::fs::File::from(fd)
            .write_all(value.as_bytes())
            .with_context(|| format!("sysctl {key}={value}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_need_their_namespace() {
        let none = OwnNamespaces {
            ipc: false,
            net: false,
            uts: false,
        };
        let all = OwnNamespaces {
            ipc: true,
            net: true,
            uts: true,
        };
        for key in [
            "kernel.shmmax",
            "fs.mqueue.queues_max",
            "net.ipv4.ip_forward",
            "kernel.domainname",
        ] {
            assert!(check(key, &none).is_err(), "{key}");
            assert!(check(key, &all).is_ok(), "{key}");
        }
        assert!(check("kernel.hostname", &all).is_err());
        assert!(check("vm.swappiness", &all).is_err());
    }
}
