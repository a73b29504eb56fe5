//! The semantics the module documentation states, written as a plain evaluator over the profile:
//! the verdict a syscall gets, found by reading the rules one by one, with no ranges, sorting or
//! jumps. `check` holds a compiled program (run by `bpf_vm`) against it, for the fuzz target and
//! the tests. runc's -ENOSYS rule (`enosys`) is read here from its own statement: a syscall no
//! rule decides, numbered above every syscall the profile names in its ABI, is "not implemented"
//! when the default refuses.

use anyhow::Result;
use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompOperator as Op};

use super::action::{ret_value, strictness};
use super::arch::Abi;
use super::bpf_vm::{self, Call};

/// x32 syscalls come with AUDIT_ARCH_X86_64 and bit 30 of the number set.
const X32_BIT: u32 = 0x4000_0000;

/// What `profile` (which compiled) answers to `call`.
pub fn verdict(profile: &LinuxSeccomp, call: &Call) -> u32 {
    let default = ret_value(profile.default_action(), profile.default_errno_ret()).unwrap();
    let Some(abi) = abi_of(profile, call) else {
        return default;
    };
    let mut best: Option<u32> = None;
    for entry in profile.syscalls().iter().flatten() {
        let ret = ret_value(entry.action(), entry.errno_ret()).unwrap();
        if ret == default || !entry.names().iter().any(|n| names_call(n, abi, call.nr)) {
            continue;
        }
        let args = entry.args().as_deref().unwrap_or(&[]);
        let mut indexes: Vec<usize> = args.iter().map(|a| a.index()).collect();
        indexes.sort_unstable();
        indexes.dedup();
        let holds = |a: &oci_spec::runtime::LinuxSeccompArg| {
            let width = |v: u64| match abi {
                Abi::X86_64 => v,
                Abi::X86 | Abi::X32 => v & 0xffff_ffff,
            };
            let (arg, value) = (width(call.args[a.index()]), width(a.value()));
            match a.op() {
                Op::ScmpCmpEq => arg == value,
                Op::ScmpCmpNe => arg != value,
                Op::ScmpCmpLt => arg < value,
                Op::ScmpCmpLe => arg <= value,
                Op::ScmpCmpGt => arg > value,
                Op::ScmpCmpGe => arg >= value,
                Op::ScmpCmpMaskedEq => arg & value == width(a.value_two().unwrap_or(0)),
            }
        };
        // Two conditions on one argument are rules of their own: any may hold.
        let matched = if indexes.len() == args.len() {
            args.iter().all(holds)
        } else {
            args.iter().any(holds)
        };
        // The strictest wins; among equals, the first listed.
        if matched && best.is_none_or(|b| strictness(ret) < strictness(b)) {
            best = Some(ret);
        }
    }
    best.unwrap_or_else(|| {
        let newest = profile
            .syscalls()
            .iter()
            .flatten()
            .flat_map(|entry| entry.names())
            .filter_map(|name| Abi::numbers(name).and_then(|numbers| abi.pick(numbers)))
            .max();
        let refuses = ![
            libc::SECCOMP_RET_ALLOW,
            libc::SECCOMP_RET_LOG,
            libc::SECCOMP_RET_TRACE,
        ]
        .contains(&(default & libc::SECCOMP_RET_ACTION_FULL));
        match newest {
            Some(newest) if refuses && call.nr > newest => {
                libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32
            }
            _ => default,
        }
    })
}

/// The ABI of `call` when the profile filters it (the native one always is).
fn abi_of(profile: &LinuxSeccomp, call: &Call) -> Option<Abi> {
    // Bit 30 tells x32 from x86_64 within their shared audit arch; for i386 it is just a number.
    let abi = [Abi::X86_64, Abi::X86, Abi::X32].into_iter().find(|abi| {
        abi.audit_arch() == call.arch
            && (*abi == Abi::X86 || (call.nr & X32_BIT != 0) == (*abi == Abi::X32))
    })?;
    let listed = profile
        .architectures()
        .iter()
        .flatten()
        .filter_map(|a| Abi::of(*a));
    (Some(abi) == Abi::native() || listed.into_iter().any(|a| a == abi)).then_some(abi)
}

fn names_call(name: &str, abi: Abi, nr: u32) -> bool {
    Abi::numbers(name).and_then(|numbers| abi.pick(numbers)) == Some(nr)
}

/// Compiles `profile` and `check`s the program; a profile `compile` refuses is its error.
pub fn compile_and_check(profile: &LinuxSeccomp) -> Result<()> {
    let filter = super::compile(profile)?;
    check(profile, &filter.program);
    Ok(())
}

/// Runs the compiled `program` of `profile` on the syscalls its rules name (in every ABI, with
/// arguments on both sides of each condition) and on some it does not, and panics where the
/// program and `verdict` disagree.
pub fn check(profile: &LinuxSeccomp, program: &[seccompiler::sock_filter]) {
    for call in probes(profile) {
        let (got, want) = (bpf_vm::run(program, &call), verdict(profile, &call));
        assert_eq!(
            got, want,
            "arch {:#x} nr {:#x} args {:x?}: the program returns {got:#x}, the profile means {want:#x}",
            call.arch, call.nr, call.args
        );
    }
}

fn probes(profile: &LinuxSeccomp) -> Vec<Call> {
    let abis = [Abi::X86_64, Abi::X86, Abi::X32];
    let mut calls = Vec::new();
    // Unnamed numbers, foreign arches, and the edges of the number line.
    for nr in [0, 1, 59, 1000, X32_BIT - 1, X32_BIT, X32_BIT | 59, u32::MAX] {
        for arch in [0xc000_003e, 0x4000_0003, 0xc000_00b7, 0] {
            calls.push(Call {
                arch,
                nr,
                args: [0; 6],
            });
        }
    }
    for entry in profile.syscalls().iter().flatten() {
        let args = entry.args().as_deref().unwrap_or(&[]);
        // Arguments meeting every condition at its edge, then each one nudged off it.
        let mut edge = [0u64; 6];
        for a in args {
            if a.index() < 6 {
                edge[a.index()] = match a.op() {
                    Op::ScmpCmpGt | Op::ScmpCmpNe => a.value().wrapping_add(1),
                    Op::ScmpCmpLt => a.value().wrapping_sub(1),
                    Op::ScmpCmpMaskedEq => a.value_two().unwrap_or(0),
                    _ => a.value(),
                };
            }
        }
        let mut arg_sets = vec![edge, [0; 6], [u64::MAX; 6]];
        for a in args.iter().filter(|a| a.index() < 6).take(6) {
            for nudge in [1u64, u64::MAX, 1 << 32] {
                let mut set = edge;
                set[a.index()] = set[a.index()].wrapping_add(nudge);
                arg_sets.push(set);
            }
        }
        for name in entry.names().iter().take(64) {
            let Some(numbers) = Abi::numbers(name) else {
                continue;
            };
            for abi in abis {
                let Some(nr) = abi.pick(numbers) else {
                    continue;
                };
                for args in &arg_sets {
                    calls.push(Call {
                        arch: abi.audit_arch(),
                        nr,
                        args: *args,
                    });
                }
            }
        }
    }
    calls
}
