//! `linux.sysctl`: only keys that belong to a namespace the container has of its own (runc's
//! rules), written through a private procfs of the container's.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use nix::fcntl::OFlag;

use crate::linux::procfs_handle::{Procfs, Scope};

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

/// Writes every key under /proc/sys of the container's private procfs (see `procfs_handle`: a
/// mount over the file in its /proc cannot redirect the write).
pub fn apply(sysctl: &HashMap<String, String>) -> Result<()> {
    if sysctl.is_empty() {
        return Ok(());
    }
    let proc = Procfs::get(Scope::All).context("linux.sysctl")?;
    for (key, value) in sysctl {
        let path = PathBuf::from("sys").join(key.replace('.', "/"));
        let fd = proc
            .open(&path, OFlag::O_WRONLY)
            .with_context(|| format!("sysctl {key}: open /proc/{}", path.display()))?;
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
