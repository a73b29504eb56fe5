//! `process.rlimits`, set while the process is still root in its namespace.

use anyhow::{Context, Result};
use nix::errno::Errno;
use oci_spec::runtime::{PosixRlimit, PosixRlimitType};

pub fn resource(t: PosixRlimitType) -> libc::__rlimit_resource_t {
    use PosixRlimitType::*;
    match t {
        RlimitCpu => libc::RLIMIT_CPU,
        RlimitFsize => libc::RLIMIT_FSIZE,
        RlimitData => libc::RLIMIT_DATA,
        RlimitStack => libc::RLIMIT_STACK,
        RlimitCore => libc::RLIMIT_CORE,
        RlimitRss => libc::RLIMIT_RSS,
        RlimitNproc => libc::RLIMIT_NPROC,
        RlimitNofile => libc::RLIMIT_NOFILE,
        RlimitMemlock => libc::RLIMIT_MEMLOCK,
        RlimitAs => libc::RLIMIT_AS,
        RlimitLocks => libc::RLIMIT_LOCKS,
        RlimitSigpending => libc::RLIMIT_SIGPENDING,
        RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        RlimitNice => libc::RLIMIT_NICE,
        RlimitRtprio => libc::RLIMIT_RTPRIO,
        RlimitRttime => libc::RLIMIT_RTTIME,
    }
}

pub fn apply(rlimits: &[PosixRlimit]) -> Result<()> {
    for r in rlimits {
        let lim = libc::rlimit {
            rlim_cur: r.soft(),
            rlim_max: r.hard(),
        };
        // SAFETY: `lim` is a valid rlimit; pid 0 is this process.
        if unsafe { libc::prlimit(0, resource(r.typ()), &lim, std::ptr::null_mut()) } < 0 {
            return Err(Errno::last()).with_context(|| {
                format!("set {} to soft {} hard {}", r.typ(), r.soft(), r.hard())
            });
        }
    }
    Ok(())
}
