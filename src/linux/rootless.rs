//! Whether berth runs rootless, in runc's terms: an unprivileged user, or uid 0 inside a user
//! namespace other than the initial one (rootless podman runs the runtime there, as "root"). Such
//! a berth cannot make cgroups, device nodes or a fresh sysfs the way the host's root can.

use std::sync::OnceLock;

use anyhow::{bail, Result};

/// berth runs in a user namespace other than the initial one (runc's `userns.RunningInUserNS`):
/// anything but the initial namespace's identity map of every id.
pub fn running_in_userns() -> bool {
    static IN_USERNS: OnceLock<bool> = OnceLock::new();
    *IN_USERNS.get_or_init(|| {
        std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|map| !is_initial_map(&map))
    })
}

fn is_initial_map(uid_map: &str) -> bool {
    let fields: Vec<&str> = uid_map.split_whitespace().collect();
    fields == ["0", "0", "4294967295"]
}

/// euid 0 in the initial user namespace: the host's root.
fn is_host_root() -> bool {
    nix::unistd::geteuid().is_root() && !running_in_userns()
}

/// runc's shouldHonorXDGRuntimeDir: keep state in `$XDG_RUNTIME_DIR` (when it is set) unless
/// berth is the host's root — or uid 0 in a user namespace whose `$USER` is "root" (a root user
/// in a container, as opposed to rootless podman, which runs the runtime with no USER or its own).
pub fn honors_xdg_runtime_dir() -> bool {
    if nix::unistd::geteuid().as_raw() != 0 {
        return true;
    }
    running_in_userns() && std::env::var_os("USER").is_none_or(|u| u != "root")
}

/// runc's shouldUseRootlessCgroupManager: `--rootless true|false` decides; without it (or with
/// `auto`) every caller but the host's root is rootless. A rootless berth runs containers in its
/// own cgroups where it may not make theirs (`CgroupPaths::create_rootless`).
pub fn rootless_cgroups(flag: Option<&str>) -> Result<bool> {
    match flag {
        None | Some("") => Ok(!is_host_root()),
        Some(auto) if auto.eq_ignore_ascii_case("auto") => Ok(!is_host_root()),
        // Go's strconv.ParseBool, as runc's parseBoolOrAuto reads the flag.
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
        Some(other) => bail!("--rootless: {other:?} is not true, false or auto"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_identity_map_of_every_id_is_the_initial_namespace() {
        assert!(is_initial_map("         0          0 4294967295\n"));
        assert!(!is_initial_map("         0      61000          1\n"));
        assert!(!is_initial_map(
            "         0      61000          1\n         1     300000      65536\n"
        ));
        assert!(!is_initial_map("0 0 4294967294\n"));
    }

    #[test]
    fn the_rootless_flag_reads_as_runcs_parse_bool_or_auto() {
        assert!(rootless_cgroups(Some("true")).unwrap());
        assert!(rootless_cgroups(Some("T")).unwrap());
        assert!(!rootless_cgroups(Some("0")).unwrap());
        assert!(!rootless_cgroups(Some("FALSE")).unwrap());
        assert_eq!(
            rootless_cgroups(Some("auto")).unwrap(),
            rootless_cgroups(None).unwrap()
        );
        let err = rootless_cgroups(Some("maybe")).unwrap_err().to_string();
        assert!(err.contains("\"maybe\""), "{err}");
    }
}
