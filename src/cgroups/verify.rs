//! state.json is a file, not a proof: before berth signals the processes a cgroup lists, freezes
//! it or removes it, each path read back from the state must be a cgroup of this host — in a
//! hierarchy mounted here, strictly below its root, on a cgroup filesystem. A tampered state
//! then cannot make `kill --all` signal pids listed in a plain file, or `delete` remove an
//! arbitrary directory tree.

use std::path::{Component, Path};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC};

use super::{detect, CgroupPaths};

impl CgroupPaths {
    pub fn verify(&self) -> Result<()> {
        // The unit `delete` stops: a container's scope (or slice), the one its cgroups are named after.
        if let Some(sd) = &self.systemd {
            let named = self
                .dirs
                .iter()
                .all(|d| d.path.file_name().is_some_and(|n| n == sd.unit.as_str()));
            if !super::systemd::name::is_container_unit(&sd.unit) || !named {
                bail!(
                    "systemd unit {:?} is not the unit of the container's cgroups",
                    sd.unit
                );
            }
        }
        if self.dirs.is_empty() && self.created.is_empty() {
            return Ok(());
        }
        let mounted = detect::hierarchies()?;
        for d in &self.dirs {
            let full = d.full();
            let known = mounted
                .iter()
                .any(|h| h.controllers == d.controllers && h.mountpoint == d.mountpoint);
            if !known {
                bail!(
                    "{}: {} is not where this host mounts the cgroup hierarchy {:?}",
                    full.display(),
                    d.mountpoint.display(),
                    d.controllers
                );
            }
            if !strictly_below_root(&d.path) {
                bail!(
                    "{}: {:?} is not a path below the root of its hierarchy",
                    full.display(),
                    d.path
                );
            }
            let magic = if d.is_v2() {
                CGROUP2_SUPER_MAGIC
            } else {
                CGROUP_SUPER_MAGIC
            };
            match statfs(&full) {
                Ok(fs) if fs.filesystem_type() == magic => {}
                Ok(_) => bail!("{}: not on a cgroup filesystem", full.display()),
                // Gone already: nothing will be read from it or removed.
                Err(Errno::ENOENT) => {}
                Err(e) => return Err(e).with_context(|| format!("statfs {}", full.display())),
            }
        }
        // The directories a create made are the container's own or its parents, below a root.
        for made in &self.created {
            let ok = self.dirs.iter().any(|d| {
                d.full().starts_with(made)
                    && made.starts_with(&d.mountpoint)
                    && made != &d.mountpoint
            });
            if !ok {
                bail!(
                    "{}: not one of the container's cgroups or their parents",
                    made.display()
                );
            }
        }
        Ok(())
    }
}

/// An absolute path of plain names, not the root itself: no `..`, no `.`.
fn strictly_below_root(path: &Path) -> bool {
    let mut parts = path.components();
    parts.next() == Some(Component::RootDir)
        && parts.clone().next().is_some()
        && parts.all(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_cannot_name_another_unit_for_delete_to_stop() {
        let unit = |name: &str, path: &str| CgroupPaths {
            dirs: vec![super::super::CgroupDir {
                controllers: String::new(),
                mountpoint: "/sys/fs/cgroup".into(),
                path: path.into(),
            }],
            systemd: Some(super::super::systemd::SystemdUnit {
                unit: name.into(),
                slice: "system.slice".into(),
                user: false,
            }),
            ..Default::default()
        };
        for (name, path) in [
            ("sshd.service", "/system.slice/sshd.service"),
            ("berth-a.scope", "/system.slice/berth-b.scope"),
            ("a b.scope", "/system.slice/a b.scope"),
        ] {
            let e = unit(name, path).verify().unwrap_err().to_string();
            assert!(
                e.contains("is not the unit of the container's cgroups"),
                "{e}"
            );
        }
    }

    #[test]
    fn only_plain_paths_below_the_root() {
        for ok in ["/a", "/berth/ctr", "/a/b/c"] {
            assert!(strictly_below_root(Path::new(ok)), "{ok}");
        }
        for bad in ["/", "", "a/b", "/a/../b", "/..", "../x"] {
            assert!(!strictly_below_root(Path::new(bad)), "{bad}");
        }
    }
}
