//! The systemd driver's reading of `linux.cgroupsPath`: `slice:prefix:name`, as runc reads it
//! (docs/systemd.md there): the unit is `prefix-name.scope` (or `name` itself when it is a
//! `.slice`), in `slice` — `system.slice` when empty, `user.slice` for a rootless container.
//! A nested slice `a-b-c.slice` lives at `/a.slice/a-b.slice/a-b-c.slice`.

use anyhow::{bail, Result};

/// The unit a container gets, and where systemd puts its cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitName {
    /// The parent slice as systemd's `Slice=` takes it ("system.slice", "a-b.slice").
    pub slice: String,
    /// "berth-ctr.scope", or a name that ends in ".slice".
    pub unit: String,
}

impl UnitName {
    /// runc's `slice:prefix:name`; an empty path is `:berth:<id>` (runc's is `:runc:<id>`).
    pub fn parse(cgroups_path: &str, id: &str, rootless: bool) -> Result<UnitName> {
        let (slice, prefix, name) = if cgroups_path.is_empty() {
            ("", "berth", id)
        } else {
            match cgroups_path.split(':').collect::<Vec<_>>()[..] {
                [slice, prefix, name] => (slice, prefix, name),
                _ => bail!(
                    "expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups, got {cgroups_path:?} instead"
                ),
            }
        };
        // systemd refuses such unit names too; a '/' must never reach a path joined from them.
        if name.is_empty() || name.contains('/') || prefix.contains('/') {
            bail!("linux.cgroupsPath {cgroups_path:?}: invalid unit name {prefix:?}-{name:?}");
        }
        let slice = match slice {
            "" if rootless => "user.slice",
            "" => "system.slice",
            s => s,
        };
        expand_slice(slice)?;
        let unit = if name.ends_with(".slice") {
            name.to_owned()
        } else {
            format!("{prefix}-{name}.scope")
        };
        Ok(UnitName {
            slice: slice.to_owned(),
            unit,
        })
    }

    /// The unit's cgroup relative to the manager's root ("/system.slice/berth-ctr.scope").
    pub fn cgroup(&self) -> Result<String> {
        if self.unit.ends_with(".slice") {
            return expand_slice(&self.unit);
        }
        let parent = expand_slice(&self.slice)?;
        Ok(format!("{}/{}", parent.trim_end_matches('/'), self.unit))
    }
}

/// `a-b-c.slice` → `/a.slice/a-b.slice/a-b-c.slice`; `-.slice` is the root. runc's errors for
/// names that are no slice: no `.slice` suffix, a `/`, or an empty dash-separated part.
pub fn expand_slice(slice: &str) -> Result<String> {
    let invalid = || anyhow::anyhow!("invalid slice name: {slice}");
    let stem = slice.strip_suffix(".slice").ok_or_else(invalid)?;
    if slice.contains('/') {
        return Err(invalid());
    }
    if stem == "-" {
        return Ok("/".to_owned());
    }
    let mut path = String::new();
    let mut prefix = String::new();
    for part in stem.split('-') {
        if part.is_empty() {
            return Err(invalid());
        }
        path.push('/');
        path.push_str(&prefix);
        path.push_str(part);
        path.push_str(".slice");
        prefix.push_str(part);
        prefix.push('-');
    }
    Ok(path)
}

/// Whether `unit` could be a unit this driver made: a scope or slice name of plain characters.
/// A state file names the unit `delete` stops: it must never name, say, sshd.service.
pub fn is_container_unit(unit: &str) -> bool {
    (unit.ends_with(".scope") || unit.ends_with(".slice"))
        && unit.len() < 256
        && unit
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":-_.\\@".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_expand_as_runc_expands_them() {
        assert_eq!(expand_slice("system.slice").unwrap(), "/system.slice");
        assert_eq!(
            expand_slice("a-b-c.slice").unwrap(),
            "/a.slice/a-b.slice/a-b-c.slice"
        );
        assert_eq!(
            expand_slice("test-a-b.slice").unwrap(),
            "/test.slice/test-a.slice/test-a-b.slice"
        );
        assert_eq!(expand_slice("-.slice").unwrap(), "/");
        for bad in [
            ".slice",
            "slice",
            "a.scope",
            "a/b.slice",
            "a--b.slice",
            "-a.slice",
            "a-.slice",
            "",
        ] {
            let e = expand_slice(bad).unwrap_err().to_string();
            assert_eq!(e, format!("invalid slice name: {bad}"), "{bad}");
        }
    }

    #[test]
    fn unit_names_and_defaults() {
        let u = UnitName::parse("system.slice:docker:1234", "x", false).unwrap();
        assert_eq!(u.unit, "docker-1234.scope");
        assert_eq!(u.cgroup().unwrap(), "/system.slice/docker-1234.scope");
        let u = UnitName::parse(":cri:abc", "x", false).unwrap();
        assert_eq!(u.slice, "system.slice");
        let u = UnitName::parse(":cri:abc", "x", true).unwrap();
        assert_eq!(u.slice, "user.slice");
        let u = UnitName::parse("", "ctr", false).unwrap();
        assert_eq!(u.unit, "berth-ctr.scope");
        assert_eq!(u.cgroup().unwrap(), "/system.slice/berth-ctr.scope");
        let u = UnitName::parse("k-pod.slice:p:n", "x", false).unwrap();
        assert_eq!(u.cgroup().unwrap(), "/k.slice/k-pod.slice/p-n.scope");
        let u = UnitName::parse("-.slice:p:n", "x", false).unwrap();
        assert_eq!(u.cgroup().unwrap(), "/p-n.scope");
        let u = UnitName::parse("system.slice:p:k-pod1.slice", "x", false).unwrap();
        assert_eq!(u.unit, "k-pod1.slice");
        assert_eq!(u.cgroup().unwrap(), "/k.slice/k-pod1.slice");
    }

    #[test]
    fn malformed_paths_get_runcs_error() {
        for bad in ["/a/b", "a:b", "a:b:c:d", "noslice"] {
            let e = UnitName::parse(bad, "x", false).unwrap_err().to_string();
            assert!(e.starts_with("expected cgroupsPath to be of format"), "{e}");
        }
        assert!(UnitName::parse("bad:p:n", "x", false).is_err());
        assert!(UnitName::parse("system.slice:p:a/b", "x", false).is_err());
        assert!(UnitName::parse("system.slice:p:", "x", false).is_err());
    }

    #[test]
    fn only_scopes_and_slices_are_container_units() {
        assert!(is_container_unit("berth-x.scope"));
        assert!(is_container_unit("k-pod.slice"));
        assert!(!is_container_unit("sshd.service"));
        assert!(!is_container_unit("a/b.scope"));
        assert!(!is_container_unit("a b.scope"));
    }
}
