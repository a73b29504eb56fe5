//! The five capability sets of `process.capabilities`, as bit masks computed before the clone and
//! applied in the container right before exec.

use std::str::FromStr;

use anyhow::{anyhow, Context, Result};
use nix::errno::Errno;
use oci_spec::runtime::{Capabilities, LinuxCapabilities};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSets {
    pub bounding: u64,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub ambient: u64,
    /// The highest capability this kernel knows (read on the host side).
    pub last_cap: u64,
}

/// The bit of one capability, looked up by its kernel name.
pub fn bit(cap: &oci_spec::runtime::Capability) -> Result<u64> {
    let name = format!("CAP_{cap}");
    caps::Capability::from_str(&name)
        .map(|c| c.bitmask())
        .map_err(|_| anyhow!("unknown capability {name}"))
}

fn mask(set: &Option<Capabilities>) -> Result<u64> {
    set.iter().flatten().try_fold(0, |acc, c| Ok(acc | bit(c)?))
}

impl CapSets {
    /// No `capabilities` object means no capabilities at all, as in runc.
    pub fn from_spec(caps: Option<&LinuxCapabilities>) -> Result<Self> {
        let last_cap = last_cap();
        let Some(c) = caps else {
            return Ok(CapSets {
                last_cap,
                ..CapSets::default()
            });
        };
        Ok(CapSets {
            last_cap,
            bounding: mask(c.bounding())?,
            effective: mask(c.effective())?,
            permitted: mask(c.permitted())?,
            inheritable: mask(c.inheritable())?,
            ambient: mask(c.ambient())?,
        })
    }

    /// Drops from the bounding set everything the container may not have (while still root).
    pub fn drop_bounding(&self) -> Result<()> {
        for cap in 0..=self.last_cap {
            if self.bounding & (1 << cap) == 0 {
                // SAFETY: plain integer arguments.
                let ret =
                    unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
                if ret < 0 && Errno::last() != Errno::EINVAL {
                    return Err(Errno::last())
                        .with_context(|| format!("drop capability {cap} from the bounding set"));
                }
            }
        }
        Ok(())
    }

    /// Sets effective, permitted and inheritable in one capset, then raises the ambient ones.
    pub fn apply(&self) -> Result<()> {
        let header = CapHeader {
            version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
            pid: 0,
        };
        let data = [
            CapData {
                effective: self.effective as u32,
                permitted: self.permitted as u32,
                inheritable: self.inheritable as u32,
            },
            CapData {
                effective: (self.effective >> 32) as u32,
                permitted: (self.permitted >> 32) as u32,
                inheritable: (self.inheritable >> 32) as u32,
            },
        ];
        // SAFETY: header and two data words, as capset(2) version 3 expects.
        let ret = unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) };
        if ret < 0 {
            return Err(Errno::last()).context("set capabilities");
        }
        for cap in 0..64u64 {
            if self.ambient & (1 << cap) != 0 {
                // runc raises what it can: an ambient capability that is not also permitted and
                // inheritable is silently left out.
                // SAFETY: plain integer arguments.
                unsafe {
                    libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE, cap, 0, 0);
                }
            }
        }
        Ok(())
    }
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn last_cap() -> u64 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::Capability;

    #[test]
    fn names_map_to_kernel_bits() {
        assert_eq!(bit(&Capability::Chown).unwrap(), 1 << 0);
        assert_eq!(bit(&Capability::NetBindService).unwrap(), 1 << 10);
        assert_eq!(bit(&Capability::SysAdmin).unwrap(), 1 << 21);
        assert_eq!(bit(&Capability::CheckpointRestore).unwrap(), 1 << 40);
    }
}
