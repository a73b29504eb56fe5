//! The syscall ABIs a profile's `architectures` name, and the three an x86_64 kernel runs:
//! native x86_64, i386 (compat mode) and x32. Other ABIs can never call into this kernel, so a
//! profile naming them needs nothing in the filter for them.

use oci_spec::runtime::Arch;
use seccompiler::SeccompCmpArgLen;

use super::syscall_tables::{NONE, SYSCALLS};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Abi {
    X86_64 = 0,
    X86 = 1,
    X32 = 2,
}

impl Abi {
    /// The ABI of berth's own build: the one `SCMP_ARCH_NATIVE` names and every filter covers.
    pub fn native() -> Option<Abi> {
        cfg!(target_arch = "x86_64").then_some(Abi::X86_64)
    }

    /// The ABI an `architectures` entry names, if this kernel runs it.
    pub fn of(arch: Arch) -> Option<Abi> {
        match arch {
            Arch::ScmpArchNative => Abi::native(),
            Arch::ScmpArchX86_64 => Some(Abi::X86_64),
            Arch::ScmpArchX86 => Some(Abi::X86),
            Arch::ScmpArchX32 => Some(Abi::X32),
            _ => None,
        }
    }

    /// seccomp_data.arch of its syscalls. x32 shares x86_64's and is told apart by bit 30 of
    /// the syscall number (its table has that bit set).
    pub fn audit_arch(self) -> u32 {
        match self {
            Abi::X86_64 | Abi::X32 => 0xc000_003e,
            Abi::X86 => 0x4000_0003,
        }
    }

    /// The numbers of syscall `name` in each ABI (index by `Abi as usize`; `NONE` where the
    /// ABI has no such syscall), if the headers berth was built from know the name at all.
    pub fn numbers(name: &str) -> Option<&'static [u32; 3]> {
        let key = (name.len() <= KEY_BYTES).then(|| key(name.as_bytes()))?;
        let i = KEYS.binary_search(&key).ok()?;
        Some(&SYSCALLS[i].1)
    }

    /// This ABI's number among the `numbers` of a syscall.
    pub fn pick(self, numbers: &[u32; 3]) -> Option<u32> {
        Some(numbers[self as usize]).filter(|n| *n != NONE)
    }

    /// The number of syscall `name` in this ABI.
    #[cfg(test)]
    pub fn syscall(self, name: &str) -> Option<u32> {
        self.pick(Abi::numbers(name)?)
    }

    /// How much of an argument conditions compare: libseccomp compares all 64 bits on x86_64
    /// and the low 32 on the 32-bit ABIs (i386 and x32), and so does berth.
    pub fn arg_len(self) -> SeccompCmpArgLen {
        match self {
            Abi::X86_64 => SeccompCmpArgLen::Qword,
            Abi::X86 | Abi::X32 => SeccompCmpArgLen::Dword,
        }
    }
}

/// A syscall name packed big-endian into integers: keys compare as the names do, without a
/// string comparison (a call into memcmp) per step of the search.
type Key = [u64; 4];
const KEY_BYTES: usize = 32;

const fn key(name: &[u8]) -> Key {
    let mut key = [0; 4];
    let mut i = 0;
    while i < name.len() {
        key[i / 8] |= (name[i] as u64) << (56 - 8 * (i % 8));
        i += 1;
    }
    key
}

/// The keys of the table, computed at build time (a name over 32 bytes fails the build).
const fn keys<const N: usize>(table: &[(&str, [u32; 3])]) -> [Key; N] {
    let mut keys = [[0; 4]; N];
    let mut i = 0;
    while i < N {
        assert!(table[i].0.len() <= KEY_BYTES);
        keys[i] = key(table[i].0.as_bytes());
        i += 1;
    }
    keys
}

static KEYS: [Key; SYSCALLS.len()] = keys(SYSCALLS);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_numbered_per_abi() {
        assert!(SYSCALLS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(KEYS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Abi::X86_64.syscall("read"), Some(0));
        assert_eq!(Abi::X86.syscall("read"), Some(3));
        assert_eq!(Abi::X32.syscall("read"), Some(0x4000_0000));
        // x32 has its own numbers where its structures differ from x86_64's.
        assert_eq!(Abi::X32.syscall("rt_sigaction"), Some(0x4000_0000 + 512));
        assert_eq!(Abi::X86.syscall("socketcall"), Some(102));
        // A syscall of Linux 6.6, and one the kernel no longer implements (numbers are never
        // reused; libseccomp and profiles still know the name).
        assert_eq!(Abi::X32.syscall("fchmodat2"), Some(0x4000_0000 + 452));
        assert_eq!(Abi::X86.syscall("uselib"), Some(86));
        assert_eq!(Abi::X86_64.syscall("socketcall"), None);
        assert_eq!(Abi::X86_64.syscall("no_such_call"), None);
        assert_eq!(
            Abi::X86_64.syscall("read_with_a_name_longer_than_32_bytes"),
            None
        );
        assert_eq!(Abi::X86_64.syscall("rea"), None);
    }
}
