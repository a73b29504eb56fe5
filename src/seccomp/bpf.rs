//! Code generation: the rules of every ABI as one classic-BPF program.
//!
//! ```text
//!   load arch
//!   arch == AUDIT_ARCH_X86_64?  → load nr; binary search over number ranges → leaf
//!   arch == AUDIT_ARCH_I386?    → load nr; binary search over number ranges → leaf
//!   return default                            (an ABI the profile does not list)
//! ```
//! The number line of each arch is cut into ranges with one outcome each: numbers no rule names
//! return the default (or ENOSYS, above the newest syscall the profile names: `enosys`), neighbours with the same unconditional action share a range, and a syscall
//! with argument rules gets a range of its own whose leaf tests them. Where the outcome does not
//! depend on arguments the kernel's seccomp action cache (Linux 5.11+) learns it, and an allowed
//! syscall then skips the filter altogether. A leaf tests the syscall's rules strictest action
//! first — the kernel's precedence — and returns the action of the first that holds, so the
//! strictest matching rule wins; when none holds it returns the default. An unconditional rule ends
//! the list: nothing after it could win. The argument tests themselves are seccompiler's.
//!
//! `asm` lays the program out back to front, sharing returns and placing `ja` stepping stones
//! where a conditional jump would not reach.

use anyhow::{bail, Result};
use seccompiler::{BpfProgram, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompRule};

use super::action::strictness;
use super::arch::Abi;
use super::asm::{insn, Backward, Label};
use super::enosys::{self, Span};

/// One condition on an argument, as seccompiler takes it (the width is the ABI's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgCheck {
    pub index: u8,
    pub op: SeccompCmpOp,
    pub value: u64,
}

impl ArgCheck {
    /// Whether the check can hold on `abi`. libseccomp (so runc and crun) compares the masked
    /// argument with `valueTwo` as given: a `valueTwo` with bits outside the mask never matches.
    /// seccompiler masks the value first, which would make such a check hold.
    fn can_hold(&self, abi: Abi) -> bool {
        let SeccompCmpOp::MaskedEq(mask) = self.op else {
            return true;
        };
        let width = match abi.arg_len() {
            SeccompCmpArgLen::Qword => u64::MAX,
            SeccompCmpArgLen::Dword => u64::from(u32::MAX),
        };
        self.value & !mask & width == 0
    }
}

/// The value a filter returns for a syscall when all `checks` hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub ret: u32,
    pub checks: Vec<ArgCheck>,
}

/// The rules of one profile entry, applied to one syscall of one ABI.
#[derive(Debug)]
pub struct Use<'a> {
    pub audit_arch: u32,
    pub nr: u32,
    pub abi: Abi,
    pub rules: &'a [Rule],
}

/// BPF_MAXINSNS: the kernel refuses longer programs.
const MAX_INSNS: usize = 4096;
const NR_OFFSET: u32 = 0;
const ARCH_OFFSET: u32 = 4;
const LD_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const RET: u16 = 0x06; // BPF_RET | BPF_K

/// The program for `uses`, listed in profile order, with the numbers of `enosys` answered
/// ENOSYS rather than `default`.
pub fn generate(uses: &mut [Use], enosys: &[Span], default: u32) -> Result<BpfProgram> {
    // Stable: the rules of one syscall stay in profile order.
    uses.sort_by_key(|u| (u.audit_arch, u.nr));
    let mut arches: Vec<u32> = uses.iter().map(|u| u.audit_arch).collect();
    arches.extend(enosys.iter().map(|s| s.audit_arch));
    arches.sort_unstable();
    arches.dedup();
    let mut out = Backward::default();
    let unlisted_arch = out.ret(default);
    let mut entries = Vec::new();
    for arch in arches.into_iter().rev() {
        let first = uses.partition_point(|u| u.audit_arch < arch);
        let end = uses.partition_point(|u| u.audit_arch <= arch);
        let mut spans: Vec<&Span> = enosys.iter().filter(|s| s.audit_arch == arch).collect();
        spans.sort_by_key(|s| s.first);
        let search = search(&ranges(&uses[first..end], &spans, default), &mut out)?;
        entries.push((arch, out.then(LD_ABS, NR_OFFSET, search)));
    }
    let mut next = unlisted_arch;
    for (audit_arch, section) in entries {
        next = out.branch(JEQ, audit_arch, section, next);
    }
    out.then(LD_ABS, ARCH_OFFSET, next);
    if out.len() > MAX_INSNS {
        bail!(
            "the filter needs {} BPF instructions, more than the kernel's {MAX_INSNS}",
            out.len()
        );
    }
    Ok(out.finish())
}

/// What the filter does for a range of syscall numbers.
#[derive(Debug, PartialEq)]
enum Outcome<'a> {
    Return(u32),
    /// Test `rules` (strictest first) and return `otherwise` when none holds.
    Test {
        abi: Abi,
        rules: Vec<&'a Rule>,
        otherwise: u32,
    },
}

/// What the filter does for one syscall, from the uses naming it.
fn outcome<'a>(uses: &[Use<'a>], default: u32) -> Outcome<'a> {
    if let [Use { rules: [rule], .. }] = uses {
        if rule.checks.is_empty() {
            return Outcome::Return(rule.ret);
        }
    }
    let abi = uses[0].abi;
    let mut rules: Vec<&Rule> = uses
        .iter()
        .flat_map(|u| u.rules)
        .filter(|r| r.checks.iter().all(|c| c.can_hold(abi)))
        .collect();
    // Stable: among equally strict actions (two errnos, say) the one listed first wins.
    rules.sort_by_key(|r| strictness(r.ret));
    let otherwise = match rules.iter().position(|r| r.checks.is_empty()) {
        Some(unconditional) => {
            let ret = rules[unconditional].ret;
            rules.truncate(unconditional);
            ret
        }
        None => default,
    };
    if rules.is_empty() {
        return Outcome::Return(otherwise);
    }
    Outcome::Test {
        abi,
        rules,
        otherwise,
    }
}

/// The whole u32 number line as (first number, outcome), adjacent equal returns merged, for
/// the uses of one section (sorted by number) and its ENOSYS `spans` (sorted, disjoint, and
/// clear of every number a use names).
fn ranges<'a>(section: &[Use<'a>], spans: &[&Span], default: u32) -> Vec<(u32, Outcome<'a>)> {
    fn add<'a>(ranges: &mut Vec<(u32, Outcome<'a>)>, start: u64, outcome: Outcome<'a>) {
        let same = matches!((ranges.last(), &outcome),
            (Some((_, Outcome::Return(a))), Outcome::Return(b)) if a == b);
        if !same {
            ranges.push((start as u32, outcome));
        }
    }
    // Numbers `from..to` that no use names: ENOSYS inside the spans, the default elsewhere.
    let gap = |ranges: &mut Vec<(u32, Outcome<'a>)>, mut from: u64, to: u64| {
        for span in spans {
            let (first, last) = (u64::from(span.first), u64::from(span.last));
            if last < from || first >= to {
                continue;
            }
            if first > from {
                add(ranges, from, Outcome::Return(default));
            }
            add(ranges, from.max(first), Outcome::Return(enosys::ENOSYS));
            from = last + 1;
        }
        if from < to {
            add(ranges, from, Outcome::Return(default));
        }
    };
    let mut ranges = Vec::new();
    let mut next: u64 = 0; // the first number no range covers yet
    for uses in section.chunk_by(|a, b| a.nr == b.nr) {
        let nr = u64::from(uses[0].nr);
        gap(&mut ranges, next, nr);
        add(&mut ranges, nr, outcome(uses, default));
        next = nr + 1;
    }
    gap(&mut ranges, next, 1 << 32);
    ranges
}

/// A binary search on the loaded syscall number: `ranges[i]` holds from its start on.
fn search(ranges: &[(u32, Outcome)], out: &mut Backward) -> Result<Label> {
    if let [(_, outcome)] = ranges {
        return leaf(outcome, out);
    }
    let mid = ranges.len() / 2;
    let above = search(&ranges[mid..], out)?;
    let below = search(&ranges[..mid], out)?;
    Ok(out.branch(JGE, ranges[mid].0, above, below))
}

fn leaf(outcome: &Outcome, out: &mut Backward) -> Result<Label> {
    let (abi, rules, otherwise) = match outcome {
        Outcome::Return(ret) => return Ok(out.ret(*ret)),
        Outcome::Test {
            abi,
            rules,
            otherwise,
        } => (*abi, rules, *otherwise),
    };
    let mut code = Vec::new();
    for rule in rules {
        let conditions = rule
            .checks
            .iter()
            .map(|c| SeccompCondition::new(c.index, abi.arg_len(), c.op.clone(), c.value))
            .collect::<Result<Vec<_>, _>>()?;
        // seccompiler's rule falls through to the next instruction when every condition holds
        // and skips exactly that one instruction when one fails.
        code.extend(BpfProgram::from(SeccompRule::new(conditions)?));
        code.push(insn(RET, rule.ret, 0, 0));
    }
    code.push(insn(RET, otherwise, 0, 0));
    Ok(out.block(code))
}
