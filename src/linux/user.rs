//! The container process's identity: supplementary groups, gid, uid and umask.

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::sys::stat::{umask, Mode};
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
use oci_spec::runtime::User;

/// Switches to the configured user, keeping the permitted capabilities so that the capability
/// sets can be applied afterwards.
pub fn switch_to(user: &User) -> Result<()> {
    keep_caps(true)?;
    let groups: Vec<Gid> = user
        .additional_gids()
        .iter()
        .flatten()
        .map(|g| Gid::from_raw(*g))
        .collect();
    match setgroups(&groups) {
        Ok(()) => {}
        // In a user namespace with setgroups denied (rootless), the group list cannot change.
        Err(Errno::EPERM) if groups.is_empty() => {}
        Err(e) => return Err(e).with_context(|| format!("setgroups {:?}", user.additional_gids())),
    }
    let (uid, gid) = (Uid::from_raw(user.uid()), Gid::from_raw(user.gid()));
    setresgid(gid, gid, gid).with_context(|| format!("setresgid {gid}"))?;
    setresuid(uid, uid, uid).with_context(|| format!("setresuid {uid}"))?;
    keep_caps(false)?;
    umask(Mode::from_bits_truncate(user.umask().unwrap_or(0o022)));
    Ok(())
}

/// Gives the process's user its stdio, as runc does before switching: a pty slave, or the pipes and
/// files of whoever started the container, can then be reopened by path (/dev/stdout,
/// /proc/self/fd/N, its tty) — what non-root images that log to /dev/stdout rely on. Only the owner
/// changes. /dev/null is never touched, nor a descriptor whose owner cannot change here (EINVAL: an
/// id unmapped in the user namespace; EPERM: an owner outside it; EROFS).
pub fn give_stdio_to(uid: u32) -> Result<()> {
    // Compared by device number: the container's /dev may have no null node of its own.
    let null = libc::makedev(1, 3);
    for fd in 0..3 {
        // SAFETY: only borrowed for the two calls below; stdio stays open.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let st = match nix::sys::stat::fstat(fd) {
            Ok(st) => st,
            Err(Errno::EBADF) => continue,
            Err(e) => return Err(e).context("fstat stdio"),
        };
        let is_null = st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == null;
        if st.st_uid == uid || is_null {
            continue;
        }
        match nix::unistd::fchown(fd, Some(Uid::from_raw(uid)), None) {
            Ok(()) | Err(Errno::EINVAL | Errno::EPERM | Errno::EROFS) => {}
            Err(e) => return Err(e).context("chown stdio to the process user"),
        }
    }
    Ok(())
}

fn keep_caps(on: bool) -> Result<()> {
    // SAFETY: plain integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, libc::c_ulong::from(on), 0, 0, 0) } < 0 {
        bail!("prctl(PR_SET_KEEPCAPS): {}", Errno::last());
    }
    Ok(())
}

/// The home directory of `uid` in the container's /etc/passwd, or `/` (runc's HOME default).
pub fn home_dir(uid: u32) -> String {
    passwd_field(uid, 5)
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "/".to_owned())
}

/// Field `n` of `uid`'s line in /etc/passwd as the current root sees it (0 is the name, 5 the
/// home). Read directly, as runc does: no NSS, so berth links statically.
pub fn passwd_field(uid: u32, n: usize) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.get(2).is_some_and(|id| id.parse() == Ok(uid)))
        .and_then(|f| f.get(n).map(|s| (*s).to_owned()))
}
