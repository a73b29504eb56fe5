//! One pass over a parsed config.json that rejects, by field, what berth cannot run as asked —
//! before anything is created. Fields berth does not support yet are errors, never ignored.
//! What checking a field already computes (the compiled seccomp filter) is kept, not redone.

use std::collections::HashSet;
use std::fmt::Display;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use oci_spec::runtime::{Linux, LinuxNamespaceType, Mount, Process, Spec, User};

use crate::linux::affinity::ExecAffinity;
use crate::linux::apparmor;
use crate::linux::mempolicy::MemPolicy;
use crate::linux::mount::MountOptions;
use crate::linux::netdev;
use crate::linux::rootfs::propagation_flags;
use crate::linux::sysctl::{self, OwnNamespaces};
use crate::seccomp;

fn invalid(field: impl Display, msg: impl Display) -> anyhow::Error {
    anyhow!("config.json: {field}: {msg}")
}

fn unsupported(field: &str) -> anyhow::Error {
    invalid(field, "not supported by berth yet")
}

/// What validation produced on the way.
pub struct Checked {
    /// `linux.seccomp`, compiled: compiling is how a profile is checked.
    pub seccomp: Option<seccomp::Filter>,
}

pub fn validate(spec: &Spec) -> Result<Checked> {
    let version = spec.version();
    if version.split('.').next() != Some("1") {
        return Err(invalid(
            "ociVersion",
            format!("unsupported version {version:?} (berth runs 1.x)"),
        ));
    }
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| invalid("root", "missing"))?;
    if root.path().as_os_str().is_empty() {
        return Err(invalid("root.path", "empty"));
    }
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| invalid("process", "missing"))?;
    check_process(process)?;
    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| invalid("linux", "missing"))?;
    let namespaces = check_namespaces(linux)?;
    if spec.hostname().as_deref().is_some_and(|h| !h.is_empty())
        && !namespaces.contains(&LinuxNamespaceType::Uts)
    {
        return Err(invalid(
            "hostname",
            "needs a uts namespace of the container's own",
        ));
    }
    if spec.domainname().as_deref().is_some_and(|h| !h.is_empty())
        && !namespaces.contains(&LinuxNamespaceType::Uts)
    {
        return Err(invalid(
            "domainname",
            "needs a uts namespace of the container's own",
        ));
    }
    let container_maps = linux.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())
        && linux.gid_mappings().as_ref().is_some_and(|m| !m.is_empty());
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        check_mount(i, m, container_maps)?;
    }
    check_linux(linux, &namespaces)?;
    Ok(Checked {
        seccomp: linux.seccomp().as_ref().map(seccomp::compile).transpose()?,
    })
}

/// The process's LSM fields; `exec` checks its process with this too.
pub fn check_security(p: &Process) -> Result<()> {
    apparmor::wanted(p.apparmor_profile().as_deref())
        .map_err(|msg| invalid("process.apparmorProfile", msg))?;
    if p.selinux_label().as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(invalid(
            "process.selinuxLabel",
            "SELinux is not supported by berth yet",
        ));
    }
    Ok(())
}

/// The largest uid or gid runc accepts (libcontainer/user): (uid_t)-1 would tell setresuid to
/// leave the id unchanged — the process would stay root — and ids from 2^31 up are not portable.
const MAX_ID: u32 = i32::MAX as u32;

/// `process.user`'s ids are in runc's range; `exec` checks its process with this too.
pub fn check_user(user: &User) -> Result<()> {
    let ids = [
        ("uid".to_owned(), user.uid()),
        ("gid".to_owned(), user.gid()),
    ];
    let groups = user.additional_gids().iter().flatten().enumerate();
    let groups = groups.map(|(i, g)| (format!("additionalGids[{i}]"), *g));
    for (field, id) in ids.into_iter().chain(groups) {
        if id > MAX_ID {
            bail!("process.user.{field}: {id} is out of range (uids and gids must be in range 0-{MAX_ID})");
        }
    }
    Ok(())
}

fn check_process(p: &Process) -> Result<()> {
    if p.args().as_ref().is_none_or(|a| a.is_empty()) {
        return Err(invalid("process.args", "must name the program to run"));
    }
    if !p.cwd().is_absolute() {
        return Err(invalid(
            "process.cwd",
            format!("{} is not absolute", p.cwd().display()),
        ));
    }
    for (i, r) in p.rlimits().iter().flatten().enumerate() {
        if r.soft() > r.hard() {
            return Err(invalid(
                format!("process.rlimits[{i}]"),
                format!("soft limit {} is above hard limit {}", r.soft(), r.hard()),
            ));
        }
    }
    check_security(p)?;
    check_user(p.user()).context("config.json")?;
    ExecAffinity::from_spec(p).map_err(|e| anyhow!("config.json: {e:#}"))?;
    for (i, env) in p.env().iter().flatten().enumerate() {
        if !env.contains('=') {
            return Err(invalid(
                format!("process.env[{i}]"),
                format!("{env:?} is not KEY=value"),
            ));
        }
    }
    Ok(())
}

/// Every namespace the container has of its own (created or joined).
fn check_namespaces(linux: &Linux) -> Result<HashSet<LinuxNamespaceType>> {
    let mut seen = HashSet::new();
    for (i, ns) in linux.namespaces().iter().flatten().enumerate() {
        let t = ns.typ();
        if !seen.insert(t) {
            return Err(invalid(
                format!("linux.namespaces[{i}].type"),
                format!("duplicate namespace \"{t}\""),
            ));
        }
        if let Some(path) = ns.path() {
            if !path.is_absolute() {
                return Err(invalid(
                    format!("linux.namespaces[{i}].path"),
                    format!("{} is not absolute", path.display()),
                ));
            }
        } else if !Path::new("/proc/self/ns").join(t.to_string()).exists() {
            return Err(invalid(
                format!("linux.namespaces[{i}].type"),
                format!("this kernel has no {t} namespaces"),
            ));
        }
    }
    let new_user = linux
        .namespaces()
        .iter()
        .flatten()
        .any(|n| n.typ() == LinuxNamespaceType::User && n.path().is_none());
    let has_maps = |m: &Option<Vec<_>>| m.as_ref().is_some_and(|v| !v.is_empty());
    let (uids, gids) = (
        has_maps(linux.uid_mappings()),
        has_maps(linux.gid_mappings()),
    );
    if new_user && !(uids && gids) {
        return Err(invalid(
            "linux.uidMappings",
            "a new user namespace needs uid and gid mappings",
        ));
    }
    if !seen.contains(&LinuxNamespaceType::User) && (uids || gids) {
        return Err(invalid(
            "linux.uidMappings",
            "mappings given without a user namespace",
        ));
    }
    let new_time = linux
        .namespaces()
        .iter()
        .flatten()
        .any(|n| n.typ() == LinuxNamespaceType::Time && n.path().is_none());
    if let Some(offsets) = linux.time_offsets() {
        if !new_time && !offsets.is_empty() {
            return Err(invalid("linux.timeOffsets", "needs a new time namespace"));
        }
        if let Some(clock) = offsets
            .keys()
            .find(|k| !matches!(k.as_str(), "monotonic" | "boottime"))
        {
            return Err(invalid(
                "linux.timeOffsets",
                format!("unknown clock {clock:?}"),
            ));
        }
    }
    Ok(seen)
}

fn check_mount(i: usize, m: &Mount, container_maps: bool) -> Result<()> {
    let dest = m.destination();
    let field = format!("mounts[{i}]");
    if !dest.is_absolute() {
        return Err(invalid(
            format!("{field}.destination"),
            format!("{} is not absolute", dest.display()),
        ));
    }
    let opts = MountOptions::parse(m.options().as_deref().unwrap_or(&[]));
    let typ = m.typ().as_deref().unwrap_or("");
    let bind = opts.bind || typ == "bind";
    if typ.is_empty() && !bind {
        return Err(invalid(
            format!("{field}.type"),
            "missing (and the options hold no bind)",
        ));
    }
    let clean = Path::new("/").join(crate::linux::resolve::clean(dest));
    if typ != "proc" && !crate::linux::rootfs::may_cover(&clean) {
        return Err(invalid(
            format!("{field}.destination"),
            format!("mounting over {} is not allowed", clean.display()),
        ));
    }
    let own_maps = m.uid_mappings().is_some() && m.gid_mappings().is_some();
    if m.uid_mappings().is_some() != m.gid_mappings().is_some() {
        return Err(invalid(field, "uidMappings and gidMappings go together"));
    }
    if opts.idmap.is_some() && !own_maps && !container_maps {
        return Err(invalid(
            field,
            "idmap needs uidMappings and gidMappings (of the mount or the container)",
        ));
    }
    if bind && m.source().is_none() {
        return Err(invalid(
            format!("{field}.source"),
            "a bind mount needs a source",
        ));
    }
    Ok(())
}

/// Device and target names the kernel takes, each target once, and a network namespace (new or
/// joined) to move them into: the host's is not the container's to give away.
fn check_net_devices(linux: &Linux, namespaces: &HashSet<LinuxNamespaceType>) -> Result<()> {
    let Some(devices) = netdev::requested(linux) else {
        return Ok(());
    };
    if !namespaces.contains(&LinuxNamespaceType::Network) {
        return Err(invalid(
            "linux.netDevices",
            "needs a network namespace (linux.namespaces has none)",
        ));
    }
    let mut targets = HashSet::new();
    for (host, dev) in devices {
        let field = format!("linux.netDevices[{host:?}]");
        netdev::check_name(host).map_err(|e| invalid(&field, e))?;
        let target = dev.name().as_deref().unwrap_or(host);
        netdev::check_name(target).map_err(|e| invalid(format!("{field}.name"), e))?;
        if !targets.insert(target) {
            return Err(invalid(
                field,
                format!("a second device named {target:?} in the container"),
            ));
        }
    }
    Ok(())
}

fn check_linux(linux: &Linux, namespaces: &HashSet<LinuxNamespaceType>) -> Result<()> {
    if let Some(p) = linux
        .rootfs_propagation()
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        if propagation_flags(p).is_none() {
            return Err(invalid(
                "linux.rootfsPropagation",
                format!("unknown value {p:?}"),
            ));
        }
    }
    if !namespaces.contains(&LinuxNamespaceType::Mount) {
        check_host_mount_namespace(linux)?;
    }
    let own = OwnNamespaces {
        ipc: namespaces.contains(&LinuxNamespaceType::Ipc),
        net: namespaces.contains(&LinuxNamespaceType::Network),
        uts: namespaces.contains(&LinuxNamespaceType::Uts),
    };
    for key in linux.sysctl().iter().flatten().map(|(k, _)| k) {
        sysctl::check(key, &own).map_err(|e| invalid(format!("linux.sysctl[{key:?}]"), e))?;
    }
    if linux.intel_rdt().is_some() {
        return Err(unsupported("linux.intelRdt"));
    }
    check_net_devices(linux, namespaces)?;
    if let Some(p) = linux.memory_policy() {
        MemPolicy::from_spec(p).map_err(|e| anyhow!("config.json: {e}"))?;
    }
    if linux
        .mount_label()
        .as_deref()
        .is_some_and(|s| !s.is_empty())
    {
        return Err(invalid(
            "linux.mountLabel",
            "SELinux is not supported by berth yet",
        ));
    }
    if let Some(p) = linux.personality() {
        if p.flags().as_ref().is_some_and(|f| !f.is_empty()) {
            return Err(invalid(
                "linux.personality.flags",
                "no flags are defined by the runtime-spec",
            ));
        }
    }
    Ok(())
}

/// Without a mount namespace of its own the container runs in the host's (as with runc): what
/// would have to change the host's mounts is refused — runc's words for maskedPaths and
/// readonlyPaths; runc would apply rootfsPropagation to the host's `/`.
fn check_host_mount_namespace(linux: &Linux) -> Result<()> {
    let restricted = [
        ("linux.maskedPaths", linux.masked_paths()),
        ("linux.readonlyPaths", linux.readonly_paths()),
    ];
    for (field, paths) in restricted {
        if paths.as_ref().is_some_and(|p| !p.is_empty()) {
            return Err(invalid(
                field,
                "unable to restrict sys entries without a private MNT namespace",
            ));
        }
    }
    if linux
        .rootfs_propagation()
        .as_deref()
        .is_some_and(|p| !p.is_empty())
    {
        return Err(invalid(
            "linux.rootfsPropagation",
            "needs a mount namespace of the container's own (it would change the host's /)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: u32, gid: u32, groups: &[u32]) -> User {
        let mut u = User::default();
        u.set_uid(uid);
        u.set_gid(gid);
        u.set_additional_gids(Some(groups.to_vec()));
        u
    }

    #[test]
    fn without_a_mount_namespace_nothing_may_change_the_hosts_mounts() {
        let empty = || {
            let mut l = Linux::default();
            l.set_masked_paths(Some(vec![]))
                .set_readonly_paths(Some(vec![]));
            l
        };
        assert!(check_host_mount_namespace(&empty()).is_ok());
        let (mut masked, mut readonly, mut propagation) = (empty(), empty(), empty());
        masked.set_masked_paths(Some(vec!["/proc/kcore".into()]));
        readonly.set_readonly_paths(Some(vec!["/proc/sys".into()]));
        propagation.set_rootfs_propagation(Some("rslave".into()));
        for (linux, msg) in [
            (
                masked,
                "linux.maskedPaths: unable to restrict sys entries without a private MNT namespace",
            ),
            (
                readonly,
                "linux.readonlyPaths: unable to restrict sys entries",
            ),
            (
                propagation,
                "linux.rootfsPropagation: needs a mount namespace of the container's own",
            ),
        ] {
            let err = check_host_mount_namespace(&linux).unwrap_err().to_string();
            assert!(err.starts_with(&format!("config.json: {msg}")), "{err}");
        }
    }

    #[test]
    fn ids_are_in_runcs_range() {
        assert!(check_user(&user(0, 0, &[])).is_ok());
        assert!(check_user(&user(MAX_ID, MAX_ID, &[MAX_ID])).is_ok());
        for (u, field) in [
            (user(u32::MAX, 0, &[]), "process.user.uid: 4294967295 "),
            (user(0, MAX_ID + 1, &[]), "process.user.gid: 2147483648 "),
            (
                user(0, 0, &[1, u32::MAX]),
                "process.user.additionalGids[1]: ",
            ),
        ] {
            let err = check_user(&u).unwrap_err().to_string();
            assert!(err.starts_with(field), "{err}");
            assert!(err.ends_with("must be in range 0-2147483647)"), "{err}");
        }
    }
}
