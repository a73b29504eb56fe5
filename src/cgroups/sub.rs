//! `exec --cgroup`: run the new process in an existing sub-cgroup of the container's, as runc
//! does — one plain path for every hierarchy (the only form cgroup v2 has), or
//! `controller[,controller]:path` for v1 hierarchies, one argument per path.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Result};

use super::CgroupPaths;

/// The parsed `--cgroup` arguments.
#[derive(Debug, PartialEq, Eq)]
pub enum SubCgroups {
    /// One path below the container's cgroup in every hierarchy.
    All(PathBuf),
    /// A path per named v1 controller ("name=systemd" included).
    ByController(BTreeMap<String, PathBuf>),
}

impl SubCgroups {
    /// runc's rules: a plain path only alone; a controller named once; no empty controller.
    pub fn parse(args: &[String]) -> Result<Option<SubCgroups>> {
        let mut by_controller = BTreeMap::new();
        for arg in args {
            let Some((controllers, path)) = arg.split_once(':') else {
                if args.len() != 1 {
                    bail!("--cgroup {arg:?}: a path without <controller>: can only be given alone");
                }
                return Ok(Some(SubCgroups::All(below(arg)?)));
            };
            for controller in controllers.split(',') {
                if controller.is_empty() {
                    bail!("--cgroup {arg:?}: empty controller name");
                }
                if by_controller
                    .insert(controller.to_owned(), below(path)?)
                    .is_some()
                {
                    bail!("--cgroup {arg:?}: controller {controller} is given more than once");
                }
            }
        }
        Ok((!by_controller.is_empty()).then_some(SubCgroups::ByController(by_controller)))
    }
}

/// `path` as a relative path that stays below the container's cgroup ("/a" and "a" alike).
fn below(path: &str) -> Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(name) => out.push(name),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                bail!("--cgroup: {path} is not a sub cgroup path (\"..\" is not allowed)")
            }
        }
    }
    Ok(out)
}

impl CgroupPaths {
    /// The container's cgroups with `subs` appended where they apply. The sub-cgroups are not
    /// made: joining one that does not exist fails, naming it.
    pub fn with_sub_cgroups(&self, subs: &SubCgroups) -> Result<CgroupPaths> {
        let mut out = self.clone();
        match subs {
            SubCgroups::All(sub) => {
                for dir in &mut out.dirs {
                    dir.path.push(sub);
                }
            }
            SubCgroups::ByController(map) => {
                for name in map.keys() {
                    if !self.dirs.iter().any(|d| d.has(name)) {
                        bail!("--cgroup {name}: the container has no cgroup with that controller");
                    }
                }
                for dir in out.dirs.iter_mut().filter(|d| !d.is_v2()) {
                    let mut named = dir.controllers.split(',').filter_map(|c| map.get(c));
                    let Some(sub) = named.next() else { continue };
                    if named.any(|other| other != sub) {
                        bail!(
                            "--cgroup: controllers {} share one hierarchy but were given different paths",
                            dir.controllers
                        );
                    }
                    dir.path.push(sub);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::CgroupDir;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn paths() -> CgroupPaths {
        let dir = |controllers: &str| CgroupDir {
            controllers: controllers.into(),
            mountpoint: "/sys/fs/cgroup/x".into(),
            path: "/c/id".into(),
        };
        CgroupPaths {
            dirs: vec![
                dir("cpu,cpuacct"),
                dir("memory"),
                dir("name=systemd"),
                dir(""),
            ],
            ..Default::default()
        }
    }

    fn joined(p: &CgroupPaths) -> Vec<String> {
        p.dirs
            .iter()
            .map(|d| d.path.display().to_string())
            .collect()
    }

    #[test]
    fn no_argument_is_no_sub_cgroup() {
        assert_eq!(SubCgroups::parse(&[]).unwrap(), None);
    }

    #[test]
    fn a_plain_path_applies_to_every_hierarchy() {
        let subs = SubCgroups::parse(&args(&["/a/b"])).unwrap().unwrap();
        assert_eq!(subs, SubCgroups::All("a/b".into()));
        let p = paths().with_sub_cgroups(&subs).unwrap();
        assert_eq!(joined(&p), ["/c/id/a/b"; 4]);
    }

    #[test]
    fn controller_paths_apply_to_their_hierarchies_only() {
        let subs = SubCgroups::parse(&args(&["cpu:x", "memory,name=systemd:y/z"]))
            .unwrap()
            .unwrap();
        let p = paths().with_sub_cgroups(&subs).unwrap();
        assert_eq!(joined(&p), ["/c/id/x", "/c/id/y/z", "/c/id/y/z", "/c/id"]);
    }

    #[test]
    fn runc_argument_errors() {
        for (a, want) in [
            (&["x", "memory:y"][..], "can only be given alone"),
            (&[":x"], "empty controller"),
            (&["cpu,:x"], "empty controller"),
            (&["cpu:x", "cpu,memory:y"], "more than once"),
            (&["../x"], "is not allowed"),
            (&["memory:a/../../x"], "is not allowed"),
        ] {
            let err = SubCgroups::parse(&args(a)).unwrap_err().to_string();
            assert!(err.contains(want), "{a:?}: {err}");
        }
    }

    #[test]
    fn unknown_or_conflicting_controllers_are_refused() {
        let subs = SubCgroups::parse(&args(&["rdma:x"])).unwrap().unwrap();
        let err = paths().with_sub_cgroups(&subs).unwrap_err().to_string();
        assert!(err.contains("rdma"), "{err}");
        let subs = SubCgroups::parse(&args(&["cpu:x", "cpuacct:y"]))
            .unwrap()
            .unwrap();
        let err = paths().with_sub_cgroups(&subs).unwrap_err().to_string();
        assert!(err.contains("cpu,cpuacct"), "{err}");
    }
}
