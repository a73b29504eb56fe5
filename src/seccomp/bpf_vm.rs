//! A classic-BPF interpreter for the instructions `bpf` emits, so tests and the fuzz target
//! (through `model`) can run a compiled filter against any syscall without installing it.

use seccompiler::sock_filter;

/// The fields of seccomp_data a filter reads.
pub struct Call {
    pub arch: u32,
    pub nr: u32,
    pub args: [u64; 6],
}

/// The value `prog` returns for `call`. Panics on what the kernel's checker would refuse
/// (a jump out of the program, an instruction berth never emits).
pub fn run(prog: &[sock_filter], call: &Call) -> u32 {
    let word = |offset: u32| -> u32 {
        match offset {
            0 => call.nr,
            4 => call.arch,
            16..=63 => {
                let arg = call.args[(offset as usize - 16) / 8];
                if offset % 8 == 0 {
                    arg as u32
                } else {
                    (arg >> 32) as u32
                }
            }
            _ => panic!("load of seccomp_data offset {offset}"),
        }
    };
    let (mut pc, mut a) = (0usize, 0u32);
    loop {
        let insn = &prog[pc];
        pc += 1;
        let branch = |taken: bool| usize::from(if taken { insn.jt } else { insn.jf });
        match insn.code {
            0x20 => a = word(insn.k),
            0x54 => a &= insn.k,
            0x05 => pc += insn.k as usize,
            0x15 => pc += branch(a == insn.k),
            0x25 => pc += branch(a > insn.k),
            0x35 => pc += branch(a >= insn.k),
            0x45 => pc += branch(a & insn.k != 0),
            0x06 => return insn.k,
            code => panic!("unexpected BPF instruction {code:#x}"),
        }
    }
}
