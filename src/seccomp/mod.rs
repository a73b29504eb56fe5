//! seccomp: `linux.seccomp` compiled into one BPF program on the host side, installed by the
//! container process right before exec.
//!
//! # Semantics
//! The default action when no rule matches a syscall, otherwise the action of the strictest
//! matching rule in the kernel's order (kill-process, kill-thread, trap, errno, notify, trace,
//! log, allow); among equally strict rules (two errnos) the one listed first. The conditions of
//! a rule must all hold. The ABIs of `architectures` and the native one are filtered; a syscall
//! of any other ABI gets the default action. As in runc, names this build does not know are
//! skipped, rules repeating the default action dropped, conditions naming one argument twice
//! split into rules of their own, and a syscall newer than every one the profile names answered
//! with ENOSYS when the default refuses (`enosys`).
//!
//! This is libseccomp's result whenever the rules matching a syscall agree on the action or only
//! one matches — true of the profiles Docker, podman and CRI ship, whose overlapping rules (e.g.
//! podman's allow/deny pairs for `socket`) are disjoint by design. Where rules with different
//! actions overlap, libseccomp's answer is an artifact of its decision tree: it refuses
//! identical argument tests (EEXIST), lets an unconditional rule replace conditional ones for
//! the same syscall whatever their actions, and otherwise answers with the test it sorts first
//! (by argument index). berth answers with the strictest, which is order-free, what the
//! profile's author most plausibly meant ("allow socket" plus "deny socket of the audit
//! family"), and the rule the kernel itself applies between stacked filters.
//!
//! # Why one program of our own, with seccompiler for the argument tests
//! seccompiler 0.5 builds a filter with a single match action and mismatch action for a single ABI
//! (x86_64, aarch64 or riscv64), and kills a syscall from any other ABI. The composition DESIGN.md
//! sketches — one seccompiler filter per (ABI, action), each answering "allow" to syscalls that are
//! not its business, stacked so the kernel picks the strictest verdict — does give the semantics
//! above, but it costs the container on every syscall: the kernel runs every stacked filter, each a
//! linear scan of its syscalls (a podman profile makes a dozen filters of up to ~380 compares), and
//! it needs rewriting of seccompiler's output for i386, x32 and NOTIFY. Worse, only one filter in a
//! chain may own a notify listener, so NOTIFY rules of several ABIs cannot live in separate
//! filters. So `bpf` writes the program: an arch dispatch, a binary search over syscall-number
//! ranges per arch, and per syscall its rules strictest first — about ten comparisons per syscall
//! for a podman profile, and syscalls whose verdict does not depend on arguments are then cached by
//! the kernel. seccompiler does what it does well: the 32- and 64-bit argument comparisons, through
//! its `SeccompRule` → BPF conversion, and the `sock_filter` type.
//!
//! # Where it runs
//! `compile` on the host, so errors name the field before anything exists; the clone gets the
//! compiled `Filter` in its copy of berth's memory and only `install`s it (`process::launch`
//! picks the moment: as late as possible, before the identity switch when no_new_privs is off
//! and CAP_SYS_ADMIN is still there). A notify listener goes back to berth over the sync
//! channel, and `notify` hands it to the agent.

mod action;
mod arch;
mod asm;
mod bpf;
mod bpf_vm;
mod compile;
mod enosys;
mod install;
pub mod model;
pub mod notify;
mod syscall_tables;

#[cfg(test)]
#[path = "../../bench/seccomp.rs"]
mod bench;

use std::path::PathBuf;

use seccompiler::BpfProgram;

pub use compile::compile;
pub use install::install;

/// A compiled profile, ready to install.
#[derive(Debug)]
pub struct Filter {
    program: BpfProgram,
    /// SECCOMP_FILTER_FLAG_* the profile asks for.
    flags: u32,
    /// Where the notify listener goes, when a rule notifies.
    pub listener: Option<Listener>,
}

/// The seccomp agent of `listenerPath`, and the `listenerMetadata` it is sent.
#[derive(Debug, Clone)]
pub struct Listener {
    pub path: PathBuf,
    pub metadata: String,
}

// What `berth features` reports: exactly what `compile` accepts and `install` applies.

pub fn actions() -> &'static [&'static str] {
    &[
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_NOTIFY",
        "SCMP_ACT_TRACE",
        "SCMP_ACT_LOG",
        "SCMP_ACT_ALLOW",
    ]
}

pub fn operators() -> &'static [&'static str] {
    &[
        "SCMP_CMP_NE",
        "SCMP_CMP_LT",
        "SCMP_CMP_LE",
        "SCMP_CMP_EQ",
        "SCMP_CMP_GE",
        "SCMP_CMP_GT",
        "SCMP_CMP_MASKED_EQ",
    ]
}

pub fn flags() -> &'static [&'static str] {
    &[
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ]
}

/// The ABIs filtered on this host (`SCMP_ARCH_NATIVE` is one of them; others are accepted and
/// need no filtering, since this kernel never runs their syscalls).
pub fn arches() -> &'static [&'static str] {
    &["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
}
