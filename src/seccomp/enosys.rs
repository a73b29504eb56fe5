//! runc's -ENOSYS rule (libcontainer/seccomp/patchbpf): a syscall newer than every syscall a
//! profile names returns ENOSYS, not the default action. A profile written before a syscall
//! existed cannot list it; "not implemented" is what glibc and other programs take as the cue to
//! fall back (clone3 to clone, faccessat2 to faccessat, openat2 to openat, close_range to a loop
//! of close, fchmodat2 to fchmodat), where the default's EPERM is taken as a real refusal.
//!
//! As in runc: only when the default action refuses (kill, trap, errno — not allow, log or
//! trace, where a tracer handles ENOSYS itself); "newer" is "numbered above the largest number
//! of any syscall the profile names for that ABI", whatever the rule's action (a rule repeating
//! the default counts too), names unknown to berth aside; an ABI whose named syscalls are all
//! unknown gets no such rule. The native ABI and every listed ABI berth filters are covered.
//! x86_64 and x32 share one audit arch and are told apart by bit 30 of the number: each keeps
//! to its own half, so an x32 syscall is not ENOSYS by x86_64's count and the reverse.
//!
//! runc prepends this as a stub to libseccomp's program; berth folds it into its own number
//! ranges (`bpf`), where it costs nothing: the numbers it covers returned the default before.

use super::arch::Abi;

/// Syscall numbers `first..=last` of one audit arch return ENOSYS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub audit_arch: u32,
    pub first: u32,
    pub last: u32,
}

/// What a span returns.
pub const ENOSYS: u32 = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
const X32_BIT: u32 = 0x4000_0000;

/// The spans for a profile with default action `default` filtering `abis`, whose rules name
/// `names`.
pub fn spans<'a>(default: u32, abis: &[Abi], names: impl Iterator<Item = &'a str>) -> Vec<Span> {
    let permissive = [
        libc::SECCOMP_RET_ALLOW,
        libc::SECCOMP_RET_LOG,
        libc::SECCOMP_RET_TRACE,
    ];
    if permissive.contains(&(default & libc::SECCOMP_RET_ACTION_FULL)) {
        return Vec::new();
    }
    let known: Vec<&[u32; 3]> = names.filter_map(Abi::numbers).collect();
    let mut spans = Vec::new();
    for abi in abis {
        let Some(newest) = known.iter().filter_map(|n| abi.pick(n)).max() else {
            continue;
        };
        let span = |first, last| Span {
            audit_arch: abi.audit_arch(),
            first,
            last,
        };
        // Above `newest` within the ABI's own numbers: for x86_64 those with bit 30 clear, for
        // x32 those with it set (in both halves of the 32-bit space, as runc's `jset` test).
        spans.extend(match abi {
            Abi::X86 => vec![span(newest + 1, u32::MAX)],
            Abi::X86_64 => vec![
                span(newest + 1, X32_BIT - 1),
                span(0x8000_0000, 0x8000_0000 + X32_BIT - 1),
            ],
            Abi::X32 => vec![
                span(newest + 1, 0x7fff_ffff),
                span(0x8000_0000 + X32_BIT, u32::MAX),
            ],
        });
    }
    spans
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::seccomp::bpf_vm::{run, Call};
    use crate::seccomp::compile;

    use super::*;

    const X86_64: u32 = 0xc000_003e;
    const I386: u32 = 0x4000_0003;
    const EPERM: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;

    fn verdicts(profile: Value, calls: &[(u32, u32)]) -> Vec<u32> {
        let filter = compile(&serde_json::from_value(profile).unwrap()).unwrap();
        calls
            .iter()
            .map(|&(arch, nr)| {
                let call = Call {
                    arch,
                    nr,
                    args: [0; 6],
                };
                run(&filter.program, &call)
            })
            .collect()
    }

    fn nr(abi: Abi, name: &str) -> u32 {
        abi.syscall(name).unwrap()
    }

    /// An old-style profile (runc's own test names): setns, kcmp and renameat2 allowed.
    fn old_profile(default: &str, arches: Value) -> Value {
        json!({ "defaultAction": default, "architectures": arches,
            "syscalls": [{ "names": ["setns", "kcmp", "renameat2"], "action": "SCMP_ACT_ALLOW" }] })
    }

    #[test]
    fn newer_syscalls_get_enosys_older_unlisted_ones_the_default() {
        let all = json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
        for (abi, arch) in [(Abi::X86_64, X86_64), (Abi::X86, I386), (Abi::X32, X86_64)] {
            let renameat2 = nr(abi, "renameat2");
            let got = verdicts(
                old_profile("SCMP_ACT_ERRNO", all.clone()),
                &[
                    (arch, renameat2),
                    (arch, nr(abi, "kcmp")),
                    (arch, nr(abi, "openat")),
                    (arch, renameat2 + 1),
                    (arch, nr(abi, "clone3")),
                    (arch, nr(abi, "faccessat2")),
                    (arch, renameat2 + 1000),
                ],
            );
            assert_eq!(
                got,
                [ALLOW, ALLOW, EPERM, ENOSYS, ENOSYS, ENOSYS, ENOSYS],
                "{abi:?}"
            );
        }
    }

    /// x86_64 and x32 share AUDIT_ARCH_X86_64: each counts only its own half (bit 30).
    #[test]
    fn x86_64_and_x32_keep_to_their_own_numbers() {
        let x32_renameat2 = nr(Abi::X32, "renameat2");
        let calls = [
            (X86_64, 0x8000_0000 | 5),
            (X86_64, x32_renameat2 + 1),
            (X86_64, 0xc000_0000 | 5),
            (X86_64, nr(Abi::X32, "openat")),
        ];
        // Only x86_64: x32 numbers are another ABI's, which the profile leaves to the default.
        let native = verdicts(old_profile("SCMP_ACT_ERRNO", json!(null)), &calls);
        assert_eq!(native, [ENOSYS, EPERM, EPERM, EPERM]);
        let both = verdicts(
            old_profile("SCMP_ACT_ERRNO", json!(["SCMP_ARCH_X32"])),
            &calls,
        );
        assert_eq!(both, [ENOSYS, ENOSYS, ENOSYS, EPERM]);
        // i386 is not filtered without being listed: no rule of its own either.
        let i386 = verdicts(old_profile("SCMP_ACT_ERRNO", json!(null)), &[(I386, 1000)]);
        assert_eq!(i386, [EPERM]);
    }

    #[test]
    fn only_refusing_defaults_get_the_rule() {
        let clone3 = nr(Abi::X86_64, "clone3");
        let openat = nr(Abi::X86_64, "openat");
        for (default, unlisted) in [
            ("SCMP_ACT_ERRNO", EPERM),
            ("SCMP_ACT_KILL", libc::SECCOMP_RET_KILL_THREAD),
            ("SCMP_ACT_KILL_PROCESS", libc::SECCOMP_RET_KILL_PROCESS),
            ("SCMP_ACT_TRAP", libc::SECCOMP_RET_TRAP),
        ] {
            let got = verdicts(
                old_profile(default, json!(null)),
                &[(X86_64, clone3), (X86_64, openat)],
            );
            assert_eq!(got, [ENOSYS, unlisted], "{default}");
        }
        for (default, ret) in [
            ("SCMP_ACT_ALLOW", ALLOW),
            ("SCMP_ACT_LOG", libc::SECCOMP_RET_LOG),
            (
                "SCMP_ACT_TRACE",
                libc::SECCOMP_RET_TRACE | libc::EPERM as u32,
            ),
        ] {
            let mut profile = old_profile(default, json!(null));
            profile["syscalls"][0]["action"] = json!("SCMP_ACT_ERRNO");
            let got = verdicts(profile, &[(X86_64, clone3)]);
            assert_eq!(got, [ret], "{default}");
        }
    }

    /// Every name counts, whatever its rule's action (a rule repeating the default too); names
    /// berth does not know do not; with no known name there is no rule.
    #[test]
    fn the_newest_named_syscall_sets_the_line() {
        let profile = json!({ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            { "names": ["read"], "action": "SCMP_ACT_ALLOW" },
            { "names": ["faccessat2", "no_such_syscall"], "action": "SCMP_ACT_ERRNO" }
        ] });
        let faccessat2 = nr(Abi::X86_64, "faccessat2");
        let got = verdicts(
            profile,
            &[
                (X86_64, nr(Abi::X86_64, "clone3")),
                (X86_64, faccessat2),
                (X86_64, faccessat2 + 1),
            ],
        );
        assert_eq!(got, [EPERM, EPERM, ENOSYS]);
        let unknown = json!({ "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [{ "names": ["no_such_syscall"], "action": "SCMP_ACT_ALLOW" }] });
        assert_eq!(verdicts(unknown, &[(X86_64, 1000)]), [EPERM]);
    }

    #[test]
    fn a_default_of_enosys_is_unchanged() {
        let mut profile = old_profile("SCMP_ACT_ERRNO", json!(null));
        profile["defaultErrnoRet"] = json!(38);
        let got = verdicts(profile, &[(X86_64, 1000), (X86_64, 0)]);
        assert_eq!(got, [ENOSYS, ENOSYS]);
    }
}
