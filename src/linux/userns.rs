//! User namespace id maps: written by berth (on the host side) for the container's new user
//! namespace, and for the throw-away namespaces that carry the mappings of id-mapped mounts.

use std::fs;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::process::Command;

use anyhow::{bail, Context, Result};
use nix::sys::wait::waitpid;
use nix::unistd::{getegid, geteuid, pipe, Pid};
use oci_spec::runtime::LinuxIdMapping;

use crate::linux::sys;

fn map_text(maps: &[LinuxIdMapping]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

/// Writes uid and gid maps for the user namespace of `pid`. Root writes them directly; an
/// unprivileged user may map only itself (with setgroups denied) or go through the setuid
/// newuidmap/newgidmap helpers for several ranges.
pub fn write_id_maps(pid: Pid, uids: &[LinuxIdMapping], gids: &[LinuxIdMapping]) -> Result<()> {
    let proc = format!("/proc/{pid}");
    if geteuid().is_root() {
        write_map(&proc, "uid_map", uids)?;
        return write_map(&proc, "gid_map", gids);
    }
    let only_self = |maps: &[LinuxIdMapping], own: u32| {
        maps.len() == 1 && maps[0].size() == 1 && maps[0].host_id() == own
    };
    if only_self(uids, geteuid().as_raw()) && only_self(gids, getegid().as_raw()) {
        fs::write(format!("{proc}/setgroups"), "deny").context("write setgroups")?;
        write_map(&proc, "uid_map", uids)?;
        return write_map(&proc, "gid_map", gids);
    }
    helper("newuidmap", pid, uids)?;
    helper("newgidmap", pid, gids)
}

fn write_map(proc: &str, file: &str, maps: &[LinuxIdMapping]) -> Result<()> {
    // The kernel takes a map in a single write only.
    fs::write(format!("{proc}/{file}"), map_text(maps))
        .with_context(|| format!("write {file} of {proc}"))
}

fn helper(tool: &str, pid: Pid, maps: &[LinuxIdMapping]) -> Result<()> {
    let mut cmd = Command::new(tool);
    cmd.arg(pid.to_string());
    for m in maps {
        cmd.args([
            m.container_id().to_string(),
            m.host_id().to_string(),
            m.size().to_string(),
        ]);
    }
    let out = cmd.output().with_context(|| format!("run {tool}"))?;
    if !out.status.success() {
        bail!("{tool}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// A handle on a new user namespace with these mappings (for `MOUNT_ATTR_IDMAP`). A short-lived
/// child holds the namespace while its maps are written and the handle is opened.
pub fn mapped_userns(uids: &[LinuxIdMapping], gids: &[LinuxIdMapping]) -> Result<OwnedFd> {
    let (hold_r, hold_w) = pipe().context("pipe")?;
    let Some(child) =
        sys::clone3(libc::CLONE_NEWUSER as u64, None).context("clone a user namespace")?
    else {
        drop(hold_w);
        let mut byte = [0u8; 1];
        let _ = fs::File::from(hold_r).read(&mut byte);
        // SAFETY: leaving the forked child without running any of berth's exit code.
        unsafe { libc::_exit(0) }
    };
    drop(hold_r);
    let res = write_id_maps(child, uids, gids).and_then(|()| {
        fs::File::open(format!("/proc/{child}/ns/user"))
            .map(OwnedFd::from)
            .context("open the id-map user namespace")
    });
    drop(hold_w);
    let _ = waitpid(child, None);
    res
}
