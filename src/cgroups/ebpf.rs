//! cgroup v2 has no devices files: a `BPF_PROG_TYPE_CGROUP_DEVICE` program attached to the
//! container's cgroup decides every device access. berth generates it from the folded policy,
//! loads it with bpf(2) and attaches it, replacing the programs it attached before.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use anyhow::{Context, Result};
use nix::errno::Errno;

use crate::cgroups::devices::{Kind, Policy};

/// One eBPF instruction (struct bpf_insn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

const BPF_LDX_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const BPF_MOV64_REG: u8 = 0xbf;
const BPF_MOV32_IMM: u8 = 0xb4;
const BPF_AND64_IMM: u8 = 0x57;
const BPF_RSH64_IMM: u8 = 0x77;
const BPF_JNE_IMM: u8 = 0x55;
const BPF_JEQ_IMM: u8 = 0x15;
const BPF_EXIT: u8 = 0x95;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

/// The program: r2 = type, r3 = access, r4 = major, r5 = minor; each exception is a block that
/// jumps to the next block on mismatch and returns the exception's verdict on a match.
pub fn program(policy: &Policy) -> Vec<Insn> {
    let mut p = vec![
        insn(BPF_LDX_W, 2, 1, 0, 0), // r2 = ctx->access_type
        insn(BPF_MOV64_REG, 3, 2, 0, 0),
        insn(BPF_AND64_IMM, 2, 0, 0, 0xffff), // r2 = device type
        insn(BPF_RSH64_IMM, 3, 0, 0, 16),     // r3 = access bits
        insn(BPF_LDX_W, 4, 1, 4, 0),          // r4 = ctx->major
        insn(BPF_LDX_W, 5, 1, 8, 0),          // r5 = ctx->minor
    ];
    for e in &policy.exceptions {
        let mut block = Vec::new();
        match e.kind {
            Kind::All => {}
            Kind::Block => block.push(insn(BPF_JNE_IMM, 2, 0, 0, 1)),
            Kind::Char => block.push(insn(BPF_JNE_IMM, 2, 0, 0, 2)),
        }
        // r6 = access & mask: an allow matches when nothing outside its access is asked for,
        // a deny when anything inside its access is.
        block.push(insn(BPF_MOV64_REG, 6, 3, 0, 0));
        if e.allow {
            block.push(insn(BPF_AND64_IMM, 6, 0, 0, i32::from(!e.access & 7)));
            block.push(insn(BPF_JNE_IMM, 6, 0, 0, 0));
        } else {
            block.push(insn(BPF_AND64_IMM, 6, 0, 0, i32::from(e.access)));
            block.push(insn(BPF_JEQ_IMM, 6, 0, 0, 0));
        }
        if let Some(major) = e.major {
            block.push(insn(BPF_JNE_IMM, 4, 0, 0, major as i32));
        }
        if let Some(minor) = e.minor {
            block.push(insn(BPF_JNE_IMM, 5, 0, 0, minor as i32));
        }
        block.push(insn(BPF_MOV32_IMM, 0, 0, 0, i32::from(e.allow)));
        block.push(insn(BPF_EXIT, 0, 0, 0, 0));
        // Every conditional jump skips to the end of this block.
        let len = block.len();
        for (i, ins) in block.iter_mut().enumerate() {
            if ins.code == BPF_JNE_IMM || ins.code == BPF_JEQ_IMM {
                ins.off = (len - i - 1) as i16;
            }
        }
        p.extend(block);
    }
    p.push(insn(
        BPF_MOV32_IMM,
        0,
        0,
        0,
        i32::from(policy.default_allow),
    ));
    p.push(insn(BPF_EXIT, 0, 0, 0, 0));
    p
}

const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;
const BPF_PROG_DETACH: libc::c_int = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_int = 13;
const BPF_PROG_QUERY: libc::c_int = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The prefix of `union bpf_attr` for BPF_PROG_LOAD.
#[repr(C)]
#[derive(Default)]
struct LoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// The prefix of `union bpf_attr` for BPF_PROG_ATTACH and BPF_PROG_DETACH.
#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// The prefix of `union bpf_attr` for BPF_PROG_QUERY.
#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}

/// The prefix of `union bpf_attr` for BPF_PROG_GET_FD_BY_ID.
#[repr(C)]
#[derive(Default)]
struct IdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

fn bpf<T>(cmd: libc::c_int, attr: &mut T) -> nix::Result<i32> {
    // SAFETY: `attr` is a live, zero-padded prefix of union bpf_attr whose size is passed.
    let ret =
        unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, std::mem::size_of::<T>()) };
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret as i32)
    }
}

fn load(policy: &Policy) -> Result<OwnedFd> {
    let insns = program(policy);
    let license = c"Apache";
    let mut log = vec![0u8; 16 * 1024];
    let mut attr = LoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: 1,
        log_size: log.len() as u32,
        log_buf: log.as_mut_ptr() as u64,
        ..LoadAttr::default()
    };
    attr.prog_name[..6].copy_from_slice(b"berth\0");
    match bpf(BPF_PROG_LOAD, &mut attr) {
        // SAFETY: a new descriptor returned by the kernel.
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
        Err(e) => {
            let end = log.iter().position(|b| *b == 0).unwrap_or(0);
            let verifier = String::from_utf8_lossy(&log[..end]).trim().to_owned();
            Err(anyhow::Error::new(e)
                .context(format!("load the device filter (verifier: {verifier:?})")))
        }
    }
}

/// Ids of the device programs attached to the cgroup now.
fn attached(cgroup: BorrowedFd) -> Result<Vec<u32>> {
    let mut ids = vec![0u32; 64];
    let mut attr = QueryAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..QueryAttr::default()
    };
    bpf(BPF_PROG_QUERY, &mut attr).context("query device filters")?;
    ids.truncate(attr.prog_cnt as usize);
    Ok(ids)
}

/// Replaces the cgroup's device programs with one built from `policy`: the new one is attached
/// first, so no device access is ever unfiltered.
pub fn apply(cgroup: BorrowedFd, policy: &Policy) -> Result<()> {
    let old = attached(cgroup)?;
    let prog = load(policy)?;
    let mut attr = AttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..AttachAttr::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attr).context("attach the device filter")?;
    for id in old {
        let mut by_id = IdAttr {
            prog_id: id,
            ..IdAttr::default()
        };
        let Ok(fd) = bpf(BPF_PROG_GET_FD_BY_ID, &mut by_id) else {
            continue;
        };
        // SAFETY: a new descriptor returned by the kernel.
        let old_prog = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut detach = AttachAttr {
            target_fd: cgroup.as_raw_fd() as u32,
            attach_bpf_fd: old_prog.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            ..AttachAttr::default()
        };
        bpf(BPF_PROG_DETACH, &mut detach).context("detach the previous device filter")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::devices::{Rule, MKNOD, READ, WRITE};

    #[test]
    fn blocks_jump_to_the_next_block() {
        let policy = Policy {
            default_allow: false,
            exceptions: vec![Rule {
                allow: true,
                kind: Kind::Char,
                major: Some(1),
                minor: Some(3),
                access: READ | WRITE | MKNOD,
            }],
        };
        let p = program(&policy);
        // 6 prologue, block of 7 (type, mov, and, jne, major, minor, mov r0, exit) = 8, 2 epilogue.
        assert_eq!(p.len(), 6 + 8 + 2);
        let block = &p[6..14];
        assert_eq!(block[0], insn(BPF_JNE_IMM, 2, 0, 7, 2));
        assert_eq!(block[5], insn(BPF_JNE_IMM, 5, 0, 2, 3));
        assert_eq!(block[6], insn(BPF_MOV32_IMM, 0, 0, 0, 1));
        assert_eq!(p[15], insn(BPF_EXIT, 0, 0, 0, 0));
        assert_eq!(p[14], insn(BPF_MOV32_IMM, 0, 0, 0, 0));
    }
}
