//! A `linux.seccomp` profile checked field by field and compiled into a `Filter`, on the host
//! side before anything is created.

use std::fmt::Display;

use anyhow::{anyhow, Result};
use oci_spec::runtime::{
    LinuxSeccomp, LinuxSeccompArg, LinuxSeccompFilterFlag, LinuxSeccompOperator as Op,
};
use seccompiler::SeccompCmpOp;

use super::action::{is_notify, ret_value};
use super::arch::Abi;
use super::bpf::{self, ArgCheck, Rule, Use};
use super::enosys;
use super::{Filter, Listener};
use crate::logging;

fn invalid(field: impl Display, msg: impl Display) -> anyhow::Error {
    anyhow!("config.json: linux.seccomp.{field}: {msg}")
}

/// Syscalls the process needs after its filter is in and before the agent has the listener:
/// notifying on them would wait forever. berth hands the listener over with sendmsg; runc
/// writes its number to its parent, and refuses `write` — so does berth, so that one profile
/// is taken or refused alike by both.
const NEEDED_BEFORE_AGENT: &[&str] = &["write", "sendmsg"];

pub fn compile(profile: &LinuxSeccomp) -> Result<Filter> {
    let native = Abi::native().ok_or_else(|| {
        anyhow!("config.json: linux.seccomp: berth has syscall tables for x86_64 hosts only")
    })?;
    let default = ret_value(profile.default_action(), profile.default_errno_ret())
        .map_err(|e| invalid("defaultErrnoRet", e))?;
    if is_notify(default) {
        return Err(invalid(
            "defaultAction",
            "SCMP_ACT_NOTIFY cannot be the default: berth's last set-up syscalls would wait \
             for an agent that has no listener yet",
        ));
    }
    // The native ABI is always filtered, as libseccomp does; ABIs this kernel cannot run need
    // nothing.
    let mut abis: Vec<Abi> = std::iter::once(native)
        .chain(
            profile
                .architectures()
                .iter()
                .flatten()
                .filter_map(|a| Abi::of(*a)),
        )
        .collect();
    abis.sort();
    abis.dedup();
    let mut entries = Vec::new();
    let mut notify = false;
    for (i, call) in profile.syscalls().iter().flatten().enumerate() {
        let field = format!("syscalls[{i}]");
        let ret = ret_value(call.action(), call.errno_ret())
            .map_err(|e| invalid(format!("{field}.errnoRet"), e))?;
        let alternatives = conditions(call.args().as_deref().unwrap_or(&[]), &field)?;
        if call.names().is_empty() {
            return Err(invalid(format!("{field}.names"), "empty"));
        }
        for (j, name) in call.names().iter().enumerate() {
            if name.is_empty() {
                return Err(invalid(format!("{field}.names[{j}]"), "empty syscall name"));
            }
            if is_notify(ret) && NEEDED_BEFORE_AGENT.contains(&name.as_str()) {
                return Err(invalid(
                    format!("{field}.names[{j}]"),
                    format!(
                        "SCMP_ACT_NOTIFY cannot be used for the {name} syscall: the listener \
                         would have to reach the agent through it"
                    ),
                ));
            }
        }
        // runc skips rules that repeat the default action (libseccomp refuses them).
        if ret == default {
            continue;
        }
        notify |= is_notify(ret);
        let rules: Vec<Rule> = alternatives
            .into_iter()
            .map(|checks| Rule { ret, checks })
            .collect();
        entries.push((rules, call.names()));
    }
    let mut uses = Vec::new();
    for (rules, names) in &entries {
        for name in names.iter() {
            let Some(numbers) = Abi::numbers(name) else {
                // As runc: a name the build does not know is a syscall this kernel may lack.
                logging::debug(format_args!("seccomp: unknown syscall {name:?} skipped"));
                continue;
            };
            for abi in &abis {
                if let Some(nr) = abi.pick(numbers) {
                    uses.push(Use {
                        audit_arch: abi.audit_arch(),
                        nr,
                        abi: *abi,
                        rules,
                    });
                }
            }
        }
    }
    let listener = match (notify, profile.listener_path()) {
        (false, _) => None,
        (true, None) => {
            return Err(invalid(
                "listenerPath",
                "missing: SCMP_ACT_NOTIFY needs the socket of a seccomp agent",
            ))
        }
        (true, Some(path)) => Some(Listener {
            path: path.clone(),
            metadata: profile.listener_metadata().clone().unwrap_or_default(),
        }),
    };
    let names = profile.syscalls().iter().flatten().flat_map(|c| c.names());
    let enosys = enosys::spans(default, &abis, names.map(String::as_str));
    let program = bpf::generate(&mut uses, &enosys, default)
        .map_err(|e| anyhow!("config.json: linux.seccomp: {e}"))?;
    Ok(Filter {
        program,
        flags: flags(profile.flags().as_deref().unwrap_or(&[]), notify)?,
        listener,
    })
}

/// The rules one `syscalls` entry makes of its `args`: all conditions in one rule — unless two
/// name the same argument, where runc and crun (after libseccomp refuses such a rule) add each
/// condition as a rule of its own; berth does the same so profiles mean what they meant there.
fn conditions(args: &[LinuxSeccompArg], field: &str) -> Result<Vec<Vec<ArgCheck>>> {
    let checks = args
        .iter()
        .enumerate()
        .map(|(k, arg)| check(arg).map_err(|e| invalid(format!("{field}.args[{k}].index"), e)))
        .collect::<Result<Vec<_>>>()?;
    let mut indexes: Vec<u8> = checks.iter().map(|c| c.index).collect();
    indexes.sort_unstable();
    indexes.dedup();
    Ok(if indexes.len() == checks.len() {
        vec![checks]
    } else {
        checks.into_iter().map(|c| vec![c]).collect()
    })
}

fn check(arg: &LinuxSeccompArg) -> Result<ArgCheck> {
    let index = u8::try_from(arg.index())
        .ok()
        .filter(|i| *i <= 5)
        .ok_or_else(|| anyhow!("{} is not an argument index (0 to 5)", arg.index()))?;
    let (op, value) = match arg.op() {
        Op::ScmpCmpEq => (SeccompCmpOp::Eq, arg.value()),
        Op::ScmpCmpNe => (SeccompCmpOp::Ne, arg.value()),
        Op::ScmpCmpLt => (SeccompCmpOp::Lt, arg.value()),
        Op::ScmpCmpLe => (SeccompCmpOp::Le, arg.value()),
        Op::ScmpCmpGt => (SeccompCmpOp::Gt, arg.value()),
        Op::ScmpCmpGe => (SeccompCmpOp::Ge, arg.value()),
        // runtime-spec: `value` is the mask, `valueTwo` what the masked argument must equal.
        Op::ScmpCmpMaskedEq => (
            SeccompCmpOp::MaskedEq(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
    };
    Ok(ArgCheck { index, op, value })
}

fn flags(list: &[LinuxSeccompFilterFlag], notify: bool) -> Result<u32> {
    let mut bits = 0;
    for (i, flag) in list.iter().enumerate() {
        bits |= match flag {
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => {
                libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
            }
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv if notify => {
                libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
            }
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => {
                return Err(invalid(
                    format!("flags[{i}]"),
                    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs an SCMP_ACT_NOTIFY rule",
                ))
            }
        } as u32;
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::seccomp::bpf_vm::{run, Call};

    const X86_64: u32 = 0xc000_003e;
    const I386: u32 = 0x4000_0003;
    const AARCH64: u32 = 0xc000_00b7;
    const ERRNO: u32 = libc::SECCOMP_RET_ERRNO;
    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;

    fn filter(profile: Value) -> Result<Filter> {
        compile(&serde_json::from_value(profile).unwrap())
    }

    fn call(f: &Filter, arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        run(&f.program, &Call { arch, nr, args })
    }

    /// The verdict for syscall `name` of x86_64 with arguments `args`.
    fn verdict(f: &Filter, name: &str, args: &[u64]) -> u32 {
        let mut all = [0; 6];
        all[..args.len()].copy_from_slice(args);
        call(f, X86_64, Abi::X86_64.syscall(name).unwrap(), all)
    }

    fn one_rule(name: &str, action: &str, args: Value) -> Value {
        json!({
            "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
            "syscalls": [{ "names": [name], "action": action, "args": args }]
        })
    }

    #[test]
    fn default_action_and_errno_ret() {
        let f = filter(json!({
            "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
            "syscalls": [
                { "names": ["read", "no_such_syscall"], "action": "SCMP_ACT_ALLOW" },
                { "names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13 },
                { "names": ["rmdir"], "action": "SCMP_ACT_ERRNO" }
            ]
        }))
        .unwrap();
        assert_eq!(verdict(&f, "read", &[]), ALLOW);
        assert_eq!(verdict(&f, "write", &[]), ERRNO | 38);
        assert_eq!(verdict(&f, "mkdir", &[]), ERRNO | 13);
        assert_eq!(verdict(&f, "rmdir", &[]), ERRNO | 1);
        assert!(f.listener.is_none());
    }

    #[test]
    fn every_action_returns_its_value() {
        for (action, ret) in [
            ("SCMP_ACT_KILL", libc::SECCOMP_RET_KILL_THREAD),
            ("SCMP_ACT_KILL_THREAD", libc::SECCOMP_RET_KILL_THREAD),
            ("SCMP_ACT_KILL_PROCESS", libc::SECCOMP_RET_KILL_PROCESS),
            ("SCMP_ACT_TRAP", libc::SECCOMP_RET_TRAP),
            ("SCMP_ACT_TRACE", libc::SECCOMP_RET_TRACE | 1),
            ("SCMP_ACT_LOG", libc::SECCOMP_RET_LOG),
            ("SCMP_ACT_ALLOW", ALLOW),
        ] {
            let f = filter(one_rule("getpid", action, json!(null))).unwrap();
            assert_eq!(verdict(&f, "getpid", &[]), ret, "{action}");
        }
        let mut notify = one_rule("mkdir", "SCMP_ACT_NOTIFY", json!(null));
        notify["listenerPath"] = json!("/run/agent.sock");
        notify["listenerMetadata"] = json!("meta");
        let f = filter(notify).unwrap();
        assert_eq!(verdict(&f, "mkdir", &[]), libc::SECCOMP_RET_USER_NOTIF);
        let listener = f.listener.unwrap();
        assert_eq!(listener.metadata, "meta");
    }

    /// Every operator against a reference, at the edges of 32- and 64-bit values, on x86_64
    /// (all 64 bits compared) and i386 (the low 32).
    #[test]
    fn operators_compare_like_libseccomp() {
        let values = [
            0,
            1,
            7,
            0xffff_fffe,
            0xffff_ffff,
            1 << 32,
            (1 << 32) | 7,
            u64::MAX,
        ];
        type Reference = fn(u64, u64) -> bool;
        let ops: [(&str, Reference); 6] = [
            ("SCMP_CMP_EQ", |a, v| a == v),
            ("SCMP_CMP_NE", |a, v| a != v),
            ("SCMP_CMP_LT", |a, v| a < v),
            ("SCMP_CMP_LE", |a, v| a <= v),
            ("SCMP_CMP_GT", |a, v| a > v),
            ("SCMP_CMP_GE", |a, v| a >= v),
        ];
        for (op, holds) in ops {
            for v in values {
                let mut profile = one_rule(
                    "personality",
                    "SCMP_ACT_ALLOW",
                    json!([{ "index": 2, "value": v, "op": op }]),
                );
                profile["architectures"] = json!(["SCMP_ARCH_X86"]);
                let f = filter(profile).unwrap();
                for a in values {
                    let expect = |ok| if ok { ALLOW } else { ERRNO | 38 };
                    let args = [0, 0, a, 0, 0, 0];
                    assert_eq!(
                        call(&f, X86_64, 135, args),
                        expect(holds(a, v)),
                        "{a:#x} {op} {v:#x}"
                    );
                    let low = |x: u64| x & 0xffff_ffff;
                    assert_eq!(
                        call(&f, I386, 136, args),
                        expect(holds(low(a), low(v))),
                        "i386 {a:#x} {op} {v:#x}"
                    );
                }
            }
        }
        let masked = json!([{ "index": 0, "value": 0x7e02_0000u64, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ" }]);
        let f = filter(one_rule("clone", "SCMP_ACT_ALLOW", masked)).unwrap();
        assert_eq!(verdict(&f, "clone", &[libc::SIGCHLD as u64]), ALLOW);
        assert_eq!(
            verdict(&f, "clone", &[libc::CLONE_NEWUSER as u64]),
            ERRNO | 38
        );
    }

    /// Found by the seccomp fuzz target: a `valueTwo` with bits outside the mask matched
    /// (seccompiler masks it); libseccomp compares it as given, so the rule never holds.
    #[test]
    fn masked_eq_with_value_bits_outside_the_mask_never_holds() {
        let mut profile = one_rule(
            "clone",
            "SCMP_ACT_ALLOW",
            json!([{ "index": 0, "value": 0x7e02_0000u64, "valueTwo": 0x1000_0001u64,
                     "op": "SCMP_CMP_MASKED_EQ" }]),
        );
        profile["architectures"] = json!(["SCMP_ARCH_X86"]);
        let f = filter(profile).unwrap();
        for arg in [0x1000_0001, 0x1000_0000, 1] {
            assert_eq!(verdict(&f, "clone", &[arg]), ERRNO | 38, "{arg:#x}");
            assert_eq!(call(&f, I386, 120, [arg, 0, 0, 0, 0, 0]), ERRNO | 38);
        }
        // Bits above the low 32 are not compared on i386, so there they do not spoil the match.
        let high = json!([{ "index": 0, "value": 0xffu64, "valueTwo": (1u64 << 32) | 1,
                            "op": "SCMP_CMP_MASKED_EQ" }]);
        let mut profile = one_rule("clone", "SCMP_ACT_ALLOW", high);
        profile["architectures"] = json!(["SCMP_ARCH_X86"]);
        let f = filter(profile).unwrap();
        assert_eq!(verdict(&f, "clone", &[1]), ERRNO | 38);
        assert_eq!(call(&f, I386, 120, [1, 0, 0, 0, 0, 0]), ALLOW);
    }

    #[test]
    fn conditions_and_rules_combine() {
        let f = filter(json!({
            "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
            "syscalls": [
                // Both conditions must hold.
                { "names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
                    { "index": 0, "value": 1, "op": "SCMP_CMP_EQ" },
                    { "index": 1, "value": 1, "op": "SCMP_CMP_EQ" }] },
                // Several rules for one name: any may match.
                { "names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
                    { "index": 0, "value": 2, "op": "SCMP_CMP_EQ" }] },
                // Two conditions on one argument become two rules, as in runc and crun.
                { "names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [
                    { "index": 0, "value": 0, "op": "SCMP_CMP_EQ" },
                    { "index": 0, "value": 8, "op": "SCMP_CMP_EQ" }] }
            ]
        }))
        .unwrap();
        assert_eq!(verdict(&f, "socket", &[1, 1]), ALLOW);
        assert_eq!(verdict(&f, "socket", &[1, 2]), ERRNO | 38);
        assert_eq!(verdict(&f, "socket", &[2, 5]), ALLOW);
        assert_eq!(verdict(&f, "personality", &[0]), ALLOW);
        assert_eq!(verdict(&f, "personality", &[8]), ALLOW);
        assert_eq!(verdict(&f, "personality", &[9]), ERRNO | 38);
    }

    #[test]
    fn the_strictest_matching_rule_wins() {
        let f = filter(json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                { "names": ["socket"], "action": "SCMP_ACT_LOG" },
                { "names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22, "args": [
                    { "index": 0, "value": 16, "op": "SCMP_CMP_EQ" }] },
                { "names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97, "args": [
                    { "index": 0, "value": 16, "op": "SCMP_CMP_EQ" }] },
                { "names": ["socket"], "action": "SCMP_ACT_KILL_PROCESS", "args": [
                    { "index": 0, "value": 40, "op": "SCMP_CMP_EQ" }] },
                // Less strict than the unconditional LOG: can never win.
                { "names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
                    { "index": 0, "value": 2, "op": "SCMP_CMP_EQ" }] }
            ]
        }))
        .unwrap();
        assert_eq!(verdict(&f, "socket", &[16]), ERRNO | 22, "first of equals");
        assert_eq!(verdict(&f, "socket", &[40]), libc::SECCOMP_RET_KILL_PROCESS);
        assert_eq!(verdict(&f, "socket", &[2]), libc::SECCOMP_RET_LOG);
        assert_eq!(verdict(&f, "read", &[]), ALLOW);
    }

    #[test]
    fn listed_abis_are_filtered_and_others_get_the_default() {
        // rseq repeats the default: it only sets the line above which syscalls are ENOSYS.
        let rules = json!([{ "names": ["getpid"], "action": "SCMP_ACT_ALLOW" },
            { "names": ["rseq"], "action": "SCMP_ACT_KILL" }]);
        let native_only =
            filter(json!({ "defaultAction": "SCMP_ACT_KILL", "syscalls": rules })).unwrap();
        let x32_getpid = Abi::X32.syscall("getpid").unwrap();
        assert_eq!(call(&native_only, X86_64, 39, [0; 6]), ALLOW);
        assert_eq!(call(&native_only, I386, 20, [0; 6]), 0);
        assert_eq!(call(&native_only, X86_64, x32_getpid, [0; 6]), 0);
        let all = filter(json!({
            "defaultAction": "SCMP_ACT_KILL",
            "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"],
            "syscalls": rules
        }))
        .unwrap();
        assert_eq!(call(&all, X86_64, 39, [0; 6]), ALLOW);
        assert_eq!(call(&all, I386, 20, [0; 6]), ALLOW);
        assert_eq!(call(&all, I386, 39, [0; 6]), 0, "i386 39 is mkdir");
        assert_eq!(call(&all, X86_64, x32_getpid, [0; 6]), ALLOW);
        assert_eq!(
            call(&all, AARCH64, 172, [0; 6]),
            0,
            "never run here: default"
        );
        let above_every_x32_syscall = call(&all, X86_64, u32::MAX, [0; 6]);
        assert_eq!(above_every_x32_syscall, enosys::ENOSYS);
    }

    /// Every name of every table allowed, and 100 syscalls with argument rules: programs long
    /// enough that jumps need the `ja` detours, still right for every syscall.
    #[test]
    fn large_profiles_stay_correct() {
        let names: Vec<&str> = crate::seccomp::syscall_tables::SYSCALLS
            .iter()
            .filter(|(_, nrs)| Abi::X86_64.pick(nrs).is_some())
            .map(|(n, _)| *n)
            .collect();
        let conditional: Vec<Value> = names
            .iter()
            .take(100)
            .map(|n| {
                json!({ "names": [n], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
                "args": [{ "index": 1, "value": 42, "op": "SCMP_CMP_EQ" }] })
            })
            .collect();
        let mut syscalls = vec![json!({ "names": names, "action": "SCMP_ACT_ALLOW" })];
        syscalls.extend(conditional);
        let f = filter(json!({
            "defaultAction": "SCMP_ACT_KILL_PROCESS",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": syscalls
        }))
        .unwrap();
        assert!(
            f.program.len() > 2 * 255,
            "{} instructions",
            f.program.len()
        );
        for (name, numbers) in crate::seccomp::syscall_tables::SYSCALLS {
            let position = names.iter().position(|n| n == name);
            for abi in [Abi::X86_64, Abi::X86, Abi::X32] {
                let Some(nr) = abi.pick(numbers) else {
                    continue;
                };
                let (matching, other) = match position {
                    Some(i) if i < 100 => (ERRNO | 5, ALLOW),
                    Some(_) => (ALLOW, ALLOW),
                    None => (
                        libc::SECCOMP_RET_KILL_PROCESS,
                        libc::SECCOMP_RET_KILL_PROCESS,
                    ),
                };
                let arch = abi.audit_arch();
                assert_eq!(
                    call(&f, arch, nr, [0, 42, 0, 0, 0, 0]),
                    matching,
                    "{abi:?} {name}"
                );
                assert_eq!(
                    call(&f, arch, nr, [0, 41, 0, 0, 0, 0]),
                    other,
                    "{abi:?} {name}"
                );
            }
        }
        let newer_than_any = call(&f, X86_64, 1000, [0; 6]);
        assert_eq!(newer_than_any, enosys::ENOSYS);
    }

    #[test]
    fn rules_repeating_the_default_are_dropped() {
        let f = filter(json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [
                { "names": ["mkdir"], "action": "SCMP_ACT_ALLOW" },
                { "names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [
                    { "index": 1, "value": 0, "op": "SCMP_CMP_EQ" }] }
            ]
        }))
        .unwrap();
        assert_eq!(verdict(&f, "mkdir", &[0, 0]), ALLOW);
    }

    fn error(profile: Value) -> String {
        filter(profile).unwrap_err().to_string()
    }

    #[test]
    fn malformed_profiles_name_the_field() {
        let err = error(one_rule(
            "mkdir",
            "SCMP_ACT_ALLOW",
            json!([{ "index": 6, "value": 0, "op": "SCMP_CMP_EQ" }]),
        ));
        assert_eq!(
            err,
            "config.json: linux.seccomp.syscalls[0].args[0].index: 6 is not an argument index (0 to 5)"
        );
        let err = error(one_rule("mkdir", "SCMP_ACT_NOTIFY", json!(null)));
        assert!(
            err.starts_with("config.json: linux.seccomp.listenerPath: missing"),
            "{err}"
        );
        let mut sendmsg = one_rule("sendmsg", "SCMP_ACT_NOTIFY", json!(null));
        sendmsg["listenerPath"] = json!("/a");
        assert!(error(sendmsg).contains(
            "syscalls[0].names[0]: SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall"
        ));
        let mut write = json!({ "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a",
            "syscalls": [{ "names": ["read", "write"], "action": "SCMP_ACT_NOTIFY" }] });
        assert!(error(write.clone()).contains(
            "syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall"
        ));
        write["syscalls"][0]["names"] = json!(["read"]);
        assert!(
            filter(write).is_ok(),
            "read may notify (runc's reasoning: the agent answers it)"
        );
        let err = error(json!({ "defaultAction": "SCMP_ACT_NOTIFY" }));
        assert!(
            err.starts_with("config.json: linux.seccomp.defaultAction:"),
            "{err}"
        );
        let err = error(json!({ "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000 }));
        assert!(
            err.starts_with("config.json: linux.seccomp.defaultErrnoRet: 70000"),
            "{err}"
        );
        let err = error(
            json!({ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "names": [""], "action": "SCMP_ACT_LOG" }] }),
        );
        assert_eq!(
            err,
            "config.json: linux.seccomp.syscalls[0].names[0]: empty syscall name"
        );
        let err = error(
            json!({ "defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] }),
        );
        assert!(
            err.starts_with("config.json: linux.seccomp.flags[0]:"),
            "{err}"
        );
    }

    /// Unknown actions, operators, flags and arches stop at parsing, with the field's path.
    #[test]
    fn unknown_names_fail_to_parse() {
        let config = |seccomp: Value| {
            let doc = json!({ "ociVersion": "1.2.0", "linux": { "seccomp": seccomp } });
            crate::bundle::parse(doc.to_string().as_bytes())
                .unwrap_err()
                .to_string()
        };
        let mut p = one_rule("mkdir", "SCMP_ACT_ALLOW", json!(null));
        p["syscalls"] = json!([{ "names": ["a"], "action": "SCMP_ACT_ALLOW" }, { "names": ["b"], "action": "SCMP_ACT_FOO" }]);
        let err = config(p);
        assert!(
            err.starts_with(
                r#"config.json: linux.seccomp.syscalls[1].action: unknown action "SCMP_ACT_FOO""#
            ),
            "{err}"
        );
        let err = config(one_rule(
            "mkdir",
            "SCMP_ACT_ALLOW",
            json!([{ "index": 0, "value": 0, "op": "SCMP_CMP_XX" }]),
        ));
        assert!(
            err.starts_with(r#"config.json: linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_XX""#),
            "{err}"
        );
    }

    #[test]
    fn flags_are_passed_on() {
        let f = filter(json!({ "defaultAction": "SCMP_ACT_ALLOW",
            "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"] }))
        .unwrap();
        assert_eq!(f.flags, 1 | 2 | 4);
    }
}
