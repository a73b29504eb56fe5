//! AppArmor: `process.apparmorProfile` becomes the process's profile at its execve, as with runc
//! (libapparmor's aa_change_onexec: "exec NAME" written to the task's own attr file). Engines
//! ask for a profile only where the kernel has AppArmor on (Docker's "docker-default", podman's
//! "containers-default-…"), so a profile on a host without it is refused before anything is made.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::OFlag;

use crate::linux::procfs_handle::{Procfs, Scope};

/// The profile a process has anyway where there is no AppArmor: asking for it needs nothing.
const UNCONFINED: &str = "unconfined";

/// Whether the kernel has AppArmor on (built in and chosen as an LSM).
fn enabled() -> bool {
    std::fs::read("/sys/module/apparmor/parameters/enabled").is_ok_and(|b| b.first() == Some(&b'Y'))
}

/// The profile to queue for the exec, if there is anything to do: none for "" and for
/// "unconfined" on a host without AppArmor; an error for any other profile there.
pub fn wanted(profile: Option<&str>) -> Result<Option<&str>, String> {
    decide(profile, enabled)
}

/// `wanted`, with the host's answer asked only when a profile is named.
fn decide(profile: Option<&str>, enabled: impl FnOnce() -> bool) -> Result<Option<&str>, String> {
    match profile.filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(p) if enabled() => Ok(Some(p)),
        Some(UNCONFINED) => Ok(None),
        Some(p) => Err(format!(
            "profile {p:?} asked for, but AppArmor is not enabled on this host"
        )),
    }
}

/// Makes this thread's next execve enter `profile`. Called in the container, after pivot_root,
/// through a private procfs (`procfs_handle`): a file bound over the attr file in the container's
/// /proc — even one on procfs — would otherwise swallow the write and leave the process
/// unconfined (CVE-2019-16884, CVE-2025-52881).
pub fn change_onexec(profile: &str) -> Result<()> {
    let proc = Procfs::get(Scope::Process).context("process.apparmorProfile")?;
    // Since Linux 5.8 each LSM has its own directory; attr/exec is the older, shared file.
    let mut path = "thread-self/attr/apparmor/exec";
    let fd = match proc.open(Path::new(path), OFlag::O_WRONLY) {
        Err(Errno::ENOENT) => {
            path = "thread-self/attr/exec";
            proc.open(Path::new(path), OFlag::O_WRONLY)
        }
        other => other,
    }
    .with_context(|| format!("process.apparmorProfile: open /proc/{path}"))?;
    match File::from(fd).write_all(format!("exec {profile}").as_bytes()) {
        Ok(()) => Ok(()),
        // AppArmor's way of saying it knows no such profile.
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            bail!("process.apparmorProfile: profile {profile:?} is not loaded")
        }
        Err(e) => Err(e).with_context(|| format!("process.apparmorProfile: apply {profile:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_applied_where() {
        let never = || -> bool { panic!("asked the host without a profile") };
        assert_eq!(decide(None, never), Ok(None));
        assert_eq!(decide(Some(""), never), Ok(None));
        assert_eq!(
            decide(Some("docker-default"), || true),
            Ok(Some("docker-default"))
        );
        assert_eq!(decide(Some("unconfined"), || true), Ok(Some("unconfined")));
        assert_eq!(decide(Some("unconfined"), || false), Ok(None));
        let err = decide(Some("docker-default"), || false).unwrap_err();
        assert!(
            err.contains("\"docker-default\"") && err.contains("not enabled"),
            "{err}"
        );
    }
}
