//! The container side: load a compiled filter into the kernel, right before exec.

use std::os::fd::{FromRawFd, OwnedFd};

use anyhow::{anyhow, Result};
use nix::errno::Errno;

use super::Filter;

/// Installs `filter` on the calling thread (and, with TSYNC, its siblings); returns the
/// notification listener when the filter has SCMP_ACT_NOTIFY rules.
///
/// The kernel takes a filter from a process that has no_new_privs set or holds CAP_SYS_ADMIN in
/// its user namespace; the caller picks the moment (see `process::launch`).
pub fn install(filter: &Filter) -> Result<Option<OwnedFd>> {
    let mut flags = filter.flags;
    if filter.listener.is_some() {
        flags |= libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as u32;
        if flags & libc::SECCOMP_FILTER_FLAG_TSYNC as u32 != 0 {
            // Without it TSYNC reports a failing thread in the return value, where the
            // listener's descriptor must be.
            flags |= libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH as u32;
        }
    }
    let prog = libc::sock_fprog {
        len: filter.program.len() as u16,
        // seccompiler's sock_filter has the kernel's layout (repr(C) u16, u8, u8, u32).
        filter: filter.program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `prog` points at the live program for the duration of the call; the kernel
    // copies it.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &prog as *const libc::sock_fprog,
        )
    };
    match ret {
        r if r < 0 => Err(match Errno::last() {
            Errno::EACCES => anyhow!(
                "install the seccomp filter: no_new_privs is not set and CAP_SYS_ADMIN is gone"
            ),
            e => anyhow::Error::new(e).context("install the seccomp filter"),
        }),
        // SAFETY: with NEW_LISTENER the return value is a new descriptor we own.
        fd if filter.listener.is_some() => Ok(Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })),
        0 => Ok(None),
        tid => Err(anyhow!(
            "install the seccomp filter: thread {tid} cannot be synchronized (TSYNC)"
        )),
    }
}
