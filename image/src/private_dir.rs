//! Directories no other user can reach. A rootfs keeps the image's setuid-root binaries and
//! device nodes with the modes the image gave them (a container needs them), so any local user
//! who could walk into one would be root. The store and every bundle are therefore owned by the
//! caller and mode 0700 — set explicitly, whatever the umask — before anything is written into
//! them; one left open by an older berth-image is closed when it is next used.

use std::ffi::OsString;
use std::fs;
use std::os::fd::OwnedFd;
use std::path::Path;

use anyhow::{bail, Context, Result};
use rustix::fs::{fchmod, fstat, mkdirat, openat, Mode, OFlags, CWD};
use rustix::io::Errno;

use crate::inroot::list_dir;

const PRIVATE: u32 = 0o700;

/// Opens the directory at `path` — made, with its missing parents, when it is not there — and
/// makes it private. `what` names it in errors ("an image store"); an existing directory that
/// others can reach is only taken over when it is empty or `is_ours` says its entries are what
/// berth-image keeps there (a mistaken `/` or home directory is refused, not locked away).
pub fn open(path: &Path, what: &str, is_ours: impl Fn(&[OsString]) -> bool) -> Result<OwnedFd> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let created = match mkdirat(CWD, path, Mode::from_raw_mode(PRIVATE)) {
        Ok(()) => true,
        Err(Errno::EXIST) => false,
        Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
    };
    let dir = openat(
        CWD,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("opening {}", path.display()))?;
    let stat = fstat(&dir).with_context(|| format!("examining {}", path.display()))?;
    let me = rustix::process::geteuid().as_raw();
    if stat.st_uid != me {
        bail!(
            "{} belongs to uid {}, not to uid {me}: its owner could open what berth-image unpacks there",
            path.display(),
            stat.st_uid
        );
    }
    let mode = stat.st_mode & 0o7777;
    if mode != PRIVATE {
        if !created && mode & 0o077 != 0 {
            let names = list_dir(&dir).with_context(|| format!("listing {}", path.display()))?;
            if !names.is_empty() && !is_ours(&names) {
                bail!(
                    "{} is reachable by other users (mode {mode:04o}) and holds other things than {what}: berth-image makes {what} private (mode 0700), so give it a new or empty directory",
                    path.display()
                );
            }
        }
        fchmod(&dir, Mode::from_raw_mode(PRIVATE))
            .with_context(|| format!("making {} private", path.display()))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn made_tightened_or_refused() {
        let top = tempfile::tempdir().unwrap();
        let made = top.path().join("a/b");
        open(&made, "a test directory", |_| false).unwrap();
        assert_eq!(mode(&made), 0o700);

        let open_to_all = top.path().join("ours");
        fs::create_dir(&open_to_all).unwrap();
        fs::write(open_to_all.join("mine"), "").unwrap();
        fs::set_permissions(&open_to_all, fs::Permissions::from_mode(0o755)).unwrap();
        open(&open_to_all, "a test directory", |names| names == ["mine"]).unwrap();
        assert_eq!(mode(&open_to_all), 0o700);

        fs::set_permissions(&open_to_all, fs::Permissions::from_mode(0o755)).unwrap();
        let err = open(&open_to_all, "a test directory", |_| false).unwrap_err();
        assert!(err.to_string().contains("mode 0755"), "{err}");
        assert_eq!(mode(&open_to_all), 0o755, "left as it was");
    }
}
