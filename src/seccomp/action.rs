//! Actions as the value a filter returns, and the kernel's order of precedence between them.

use anyhow::{bail, Result};
use oci_spec::runtime::LinuxSeccompAction as Action;

/// What ERRNO and TRACE carry when the profile gives no errnoRet (runc's choice).
const EPERM: u32 = libc::EPERM as u32;

/// The SECCOMP_RET_* value of `action`; `errno` is the 16-bit data of ERRNO and TRACE.
pub fn ret_value(action: Action, errno: Option<u32>) -> Result<u32> {
    let data = errno.unwrap_or(EPERM);
    if data > libc::SECCOMP_RET_DATA {
        bail!("{data} does not fit the 16 bits of a seccomp return value");
    }
    Ok(match action {
        Action::ScmpActKill | Action::ScmpActKillThread => libc::SECCOMP_RET_KILL_THREAD,
        Action::ScmpActKillProcess => libc::SECCOMP_RET_KILL_PROCESS,
        Action::ScmpActTrap => libc::SECCOMP_RET_TRAP,
        Action::ScmpActErrno => libc::SECCOMP_RET_ERRNO | data,
        Action::ScmpActNotify => libc::SECCOMP_RET_USER_NOTIF,
        Action::ScmpActTrace => libc::SECCOMP_RET_TRACE | data,
        Action::ScmpActLog => libc::SECCOMP_RET_LOG,
        Action::ScmpActAllow => libc::SECCOMP_RET_ALLOW,
    })
}

/// Lower is stricter. This is the kernel's own order (seccomp(2): kill-process, kill-thread,
/// trap, errno, user-notif, trace, log, allow), by which it also picks between stacked filters:
/// the action part of the value read as a signed number.
pub fn strictness(ret: u32) -> i32 {
    (ret & libc::SECCOMP_RET_ACTION_FULL) as i32
}

pub fn is_notify(ret: u32) -> bool {
    ret & libc::SECCOMP_RET_ACTION_FULL == libc::SECCOMP_RET_USER_NOTIF
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_order_is_the_signed_order() {
        let strictest_first = [
            Action::ScmpActKillProcess,
            Action::ScmpActKillThread,
            Action::ScmpActTrap,
            Action::ScmpActErrno,
            Action::ScmpActNotify,
            Action::ScmpActTrace,
            Action::ScmpActLog,
            Action::ScmpActAllow,
        ];
        let ranks: Vec<i32> = strictest_first
            .iter()
            .map(|a| strictness(ret_value(*a, Some(0xffff)).unwrap()))
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{ranks:?}");
    }

    #[test]
    fn errno_defaults_to_eperm_and_must_fit_16_bits() {
        assert_eq!(ret_value(Action::ScmpActErrno, None).unwrap(), 0x0005_0001);
        assert_eq!(
            ret_value(Action::ScmpActTrace, Some(38)).unwrap(),
            0x7ff0_0026
        );
        assert_eq!(ret_value(Action::ScmpActKill, None).unwrap(), 0);
        assert!(ret_value(Action::ScmpActErrno, Some(0x10000)).is_err());
    }
}
