//! A classic-BPF program written back to front. BPF jumps only forward, so when the last
//! instruction is placed first every jump target is already in place and its distance known:
//! a conditional jump (which reaches 255 instructions) gets an unconditional `ja` as a
//! stepping stone only when its target is farther, and a `ret` of a value already returned
//! within reach is shared rather than repeated — a syscall search ends in a handful of returns.

use std::collections::HashMap;

use seccompiler::sock_filter;

const JA: u16 = 0x05; // BPF_JMP | BPF_JA
const RET: u16 = 0x06; // BPF_RET | BPF_K

/// A placed instruction, counted from the end of the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

#[derive(Default)]
pub struct Backward {
    /// The program so far, last instruction first.
    reversed: Vec<sock_filter>,
    /// Where each returned value was last placed.
    returns: HashMap<u32, Label>,
}

impl Backward {
    /// How many instructions a jump placed now skips to reach `target`.
    fn distance(&self, target: Label) -> usize {
        self.reversed.len() - target.0 - 1
    }

    fn push(&mut self, insn: sock_filter) -> Label {
        self.reversed.push(insn);
        Label(self.reversed.len() - 1)
    }

    /// `return k`.
    pub fn ret(&mut self, k: u32) -> Label {
        match self.returns.get(&k) {
            Some(&at) if self.distance(at) <= usize::from(u8::MAX) => at,
            _ => {
                let at = self.push(insn(RET, k, 0, 0));
                self.returns.insert(k, at);
                at
            }
        }
    }

    /// A statement (a load) that continues with `next`.
    pub fn then(&mut self, code: u16, k: u32, next: Label) -> Label {
        self.goto(next);
        self.push(insn(code, k, 0, 0))
    }

    /// `if A <op> k goto yes else goto no`.
    pub fn branch(&mut self, op: u16, k: u32, mut yes: Label, mut no: Label) -> Label {
        let far = |me: &Self, l| me.distance(l) > usize::from(u8::MAX);
        loop {
            if far(self, yes) {
                yes = self.ja(yes);
            } else if far(self, no) {
                no = self.ja(no);
            } else {
                break;
            }
        }
        let (jt, jf) = (self.distance(yes) as u8, self.distance(no) as u8);
        self.push(insn(op, k, jt, jf))
    }

    /// A block written front to back whose jumps stay inside it and whose every path returns.
    pub fn block(&mut self, code: Vec<sock_filter>) -> Label {
        self.reversed.extend(code.into_iter().rev());
        Label(self.reversed.len() - 1)
    }

    /// Makes `next` the instruction that follows, with a `ja` unless it already is.
    fn goto(&mut self, next: Label) {
        if self.distance(next) > 0 {
            self.ja(next);
        }
    }

    fn ja(&mut self, target: Label) -> Label {
        let k = self.distance(target) as u32;
        self.push(insn(JA, k, 0, 0))
    }

    pub fn len(&self) -> usize {
        self.reversed.len()
    }

    pub fn finish(mut self) -> Vec<sock_filter> {
        self.reversed.reverse();
        self.reversed
    }
}

pub fn insn(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}
