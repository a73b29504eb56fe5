//! NUMA memory policy (`linux.memoryPolicy`, runtime-spec 1.3): set_mempolicy(2) in the container
//! process before its exec. The policy survives execve and passes to the process's children.

use anyhow::{Context, Result};
use nix::errno::Errno;
use oci_spec::runtime::{LinuxMemoryPolicy, MemoryPolicyFlagType, MemoryPolicyModeType};

use crate::linux::idlist;

// include/uapi/linux/mempolicy.h
const MPOL_DEFAULT: libc::c_int = 0;
const MPOL_PREFERRED: libc::c_int = 1;
const MPOL_BIND: libc::c_int = 2;
const MPOL_INTERLEAVE: libc::c_int = 3;
const MPOL_LOCAL: libc::c_int = 4;
const MPOL_PREFERRED_MANY: libc::c_int = 5;
const MPOL_WEIGHTED_INTERLEAVE: libc::c_int = 6;
const MPOL_F_NUMA_BALANCING: libc::c_int = 1 << 13;
const MPOL_F_RELATIVE_NODES: libc::c_int = 1 << 14;
const MPOL_F_STATIC_NODES: libc::c_int = 1 << 15;

/// What `features` reports: every mode and flag of runtime-spec 1.3 (whether the host's kernel
/// knows a mode — MPOL_WEIGHTED_INTERLEAVE is from 6.9 — shows when it is used).
pub const MODES: [&str; 7] = [
    "MPOL_DEFAULT",
    "MPOL_BIND",
    "MPOL_INTERLEAVE",
    "MPOL_WEIGHTED_INTERLEAVE",
    "MPOL_PREFERRED",
    "MPOL_PREFERRED_MANY",
    "MPOL_LOCAL",
];
pub const FLAGS: [&str; 3] = [
    "MPOL_F_NUMA_BALANCING",
    "MPOL_F_RELATIVE_NODES",
    "MPOL_F_STATIC_NODES",
];

/// The largest node count a kernel can be built with (CONFIG_NODES_SHIFT ≤ 10).
const MAX_NODES: u32 = 1024;
const WORD_BITS: u32 = libc::c_ulong::BITS;

/// What is wrong with a `linux.memoryPolicy`, and in which of its fields.
#[derive(Debug)]
pub struct Invalid {
    field: &'static str,
    msg: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "linux.memoryPolicy.{}: {}", self.field, self.msg)
    }
}

impl std::error::Error for Invalid {}

fn invalid(field: &'static str, msg: impl Into<String>) -> Invalid {
    Invalid {
        field,
        msg: msg.into(),
    }
}

/// A checked policy, ready for set_mempolicy.
#[derive(Debug)]
pub struct MemPolicy {
    mode: libc::c_int,
    mask: Vec<libc::c_ulong>,
}

impl MemPolicy {
    /// Checks what the kernel would otherwise reject with a bare EINVAL; the error names the
    /// field of `linux.memoryPolicy` at fault and what is wrong with it.
    pub fn from_spec(p: &LinuxMemoryPolicy) -> Result<Self, Invalid> {
        let nodes = idlist::parse(p.nodes().as_deref().unwrap_or(""), MAX_NODES, "node")
            .map_err(|e| invalid("nodes", e))?;
        let mode = match p.mode() {
            MemoryPolicyModeType::MpolDefault => MPOL_DEFAULT,
            MemoryPolicyModeType::MpolPreferred => MPOL_PREFERRED,
            MemoryPolicyModeType::MpolBind => MPOL_BIND,
            MemoryPolicyModeType::MpolInterleave => MPOL_INTERLEAVE,
            MemoryPolicyModeType::MpolLocal => MPOL_LOCAL,
            MemoryPolicyModeType::MpolPreferredMany => MPOL_PREFERRED_MANY,
            MemoryPolicyModeType::MpolWeightedInterleave => MPOL_WEIGHTED_INTERLEAVE,
        };
        let flags = p.flags().iter().flatten().fold(0, |acc, f| {
            acc | match f {
                MemoryPolicyFlagType::MpolFNumaBalancing => MPOL_F_NUMA_BALANCING,
                MemoryPolicyFlagType::MpolFRelativeNodes => MPOL_F_RELATIVE_NODES,
                MemoryPolicyFlagType::MpolFStaticNodes => MPOL_F_STATIC_NODES,
            }
        });
        let name = p.mode().to_string();
        match mode {
            MPOL_DEFAULT | MPOL_LOCAL if !nodes.is_empty() => {
                return Err(invalid("nodes", format!("{name} takes no nodes")))
            }
            MPOL_DEFAULT | MPOL_LOCAL if flags != 0 => {
                return Err(invalid("flags", format!("{name} takes no flags")))
            }
            MPOL_BIND | MPOL_INTERLEAVE | MPOL_PREFERRED_MANY | MPOL_WEIGHTED_INTERLEAVE
                if nodes.is_empty() =>
            {
                return Err(invalid("nodes", format!("{name} needs at least one node")))
            }
            _ => {}
        }
        let node_flags = MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES;
        if flags & node_flags == node_flags {
            return Err(invalid(
                "flags",
                "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other",
            ));
        }
        if nodes.is_empty() && flags & node_flags != 0 {
            return Err(invalid(
                "flags",
                format!("{name} without nodes takes no node flags"),
            ));
        }
        let mut mask = Vec::new();
        for n in nodes {
            let word = (n / WORD_BITS) as usize;
            if mask.len() <= word {
                mask.resize(word + 1, 0);
            }
            mask[word] |= 1 << (n % WORD_BITS);
        }
        Ok(MemPolicy {
            mode: mode | flags,
            mask,
        })
    }

    pub fn apply(&self) -> Result<()> {
        // The kernel reads maxnode - 1 bits: one more than the mask holds.
        let maxnode = match self.mask.len() {
            0 => 0,
            words => words as libc::c_ulong * WORD_BITS as libc::c_ulong + 1,
        };
        let mask = if self.mask.is_empty() {
            std::ptr::null()
        } else {
            self.mask.as_ptr()
        };
        // SAFETY: mask points to `maxnode - 1` readable bits, or is null with maxnode 0.
        if unsafe { libc::syscall(libc::SYS_set_mempolicy, self.mode, mask, maxnode) } < 0 {
            return Err(Errno::last()).context(
                "linux.memoryPolicy: set_mempolicy (a node this host lacks, or outside cpuset.mems?)",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A policy as config.json spells it.
    fn policy(mode: &str, nodes: Option<&str>, flags: &[&str]) -> Result<MemPolicy, Invalid> {
        let mut p = serde_json::json!({ "mode": mode, "flags": flags });
        if let Some(n) = nodes {
            p["nodes"] = n.into();
        }
        MemPolicy::from_spec(&serde_json::from_value(p).unwrap())
    }

    #[test]
    fn every_mode_and_flag_features_reports_is_taken() {
        for mode in MODES {
            let nodes = (mode != "MPOL_DEFAULT" && mode != "MPOL_LOCAL").then_some("0");
            policy(mode, nodes, &[]).unwrap();
        }
        for flag in FLAGS {
            policy("MPOL_BIND", Some("0"), &[flag]).unwrap();
        }
    }

    #[test]
    fn node_lists_become_bitmasks() {
        let p = policy("MPOL_BIND", Some("0-2, 5,64"), &[]).unwrap();
        assert_eq!(p.mode, MPOL_BIND);
        assert_eq!(p.mask, [0b100111, 1]);
        assert!(policy("MPOL_BIND", Some("1024"), &[]).is_err());
    }

    #[test]
    fn flags_are_or_ed_into_the_mode() {
        let p = policy("MPOL_INTERLEAVE", Some("0"), &["MPOL_F_STATIC_NODES"]).unwrap();
        assert_eq!(p.mode, MPOL_INTERLEAVE | MPOL_F_STATIC_NODES);
        let p = policy("MPOL_BIND", Some("0"), &["MPOL_F_NUMA_BALANCING"]).unwrap();
        assert_eq!(p.mode, MPOL_BIND | MPOL_F_NUMA_BALANCING);
    }

    #[test]
    fn what_the_kernel_would_refuse_is_named() {
        let field = |r: Result<MemPolicy, Invalid>| r.unwrap_err().field;
        assert_eq!(field(policy("MPOL_DEFAULT", Some("0"), &[])), "nodes");
        assert_eq!(
            field(policy("MPOL_LOCAL", None, &["MPOL_F_STATIC_NODES"])),
            "flags"
        );
        assert_eq!(field(policy("MPOL_BIND", None, &[])), "nodes");
        assert_eq!(
            field(policy("MPOL_WEIGHTED_INTERLEAVE", Some(""), &[])),
            "nodes"
        );
        let both = ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"];
        assert_eq!(field(policy("MPOL_BIND", Some("0"), &both)), "flags");
        let relative = ["MPOL_F_RELATIVE_NODES"];
        assert_eq!(field(policy("MPOL_PREFERRED", None, &relative)), "flags");
        // MPOL_PREFERRED without nodes means "the local node".
        assert!(policy("MPOL_PREFERRED", None, &[]).unwrap().mask.is_empty());
    }
}
