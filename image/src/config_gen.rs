//! The runtime-spec config.json for an image: its Entrypoint/Cmd, Env, WorkingDir, User and
//! StopSignal, inside the defaults a careful engine applies — all namespaces but user and time,
//! the standard mounts, Docker's default capability set, masked and read-only /proc and /sys
//! paths, no_new_privs, a deny-all device cgroup, the default seccomp profile, and an absolute
//! cgroupsPath.

use std::collections::HashMap;

use anyhow::{bail, Result};
use oci_spec::image::ImageConfiguration;
use oci_spec::runtime::{
    get_default_maskedpaths, get_default_mounts, get_default_namespaces,
    get_default_readonly_paths, Capability, LinuxBuilder, LinuxCapabilitiesBuilder,
    LinuxDeviceCgroupBuilder, LinuxResourcesBuilder, LinuxSeccomp, ProcessBuilder, RootBuilder,
    Spec, SpecBuilder, UserBuilder,
};

use crate::users::ResolvedUser;

/// The annotation that carries the image's StopSignal to whoever stops the container.
pub const STOP_SIGNAL: &str = "org.opencontainers.image.stopSignal";

const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// berth's default seccomp profile (seccomp/README.md says what it allows and why).
const DEFAULT_SECCOMP: &str = include_str!("../../seccomp/default.json");

/// Docker's and containerd's default capabilities.
const DEFAULT_CAPABILITIES: [Capability; 14] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// What the caller decides rather than the image.
pub struct ContainerSettings<'a> {
    /// Container id: the hostname and the last part of the cgroup path.
    pub id: &'a str,
    /// An absolute cgroup path under which the container's cgroup is made.
    pub cgroup_parent: &'a str,
    /// Replaces the image's Cmd (the Entrypoint stays), as `docker run IMAGE CMD…` does.
    pub command: &'a [String],
    pub terminal: bool,
}

pub fn runtime_spec(
    image: &ImageConfiguration,
    user: ResolvedUser,
    settings: &ContainerSettings,
) -> Result<Spec> {
    let config = image.config().clone().unwrap_or_default();
    let mut args = config.entrypoint().clone().unwrap_or_default();
    if settings.command.is_empty() {
        args.extend(config.cmd().clone().unwrap_or_default());
    } else {
        args.extend(settings.command.iter().cloned());
    }
    if args.is_empty() {
        bail!("the image has no Entrypoint or Cmd, and no command was given");
    }
    let mut env = config.env().clone().unwrap_or_default();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, DEFAULT_PATH.to_string());
    }
    if settings.terminal && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".to_string());
    }
    let capabilities: std::collections::HashSet<Capability> =
        DEFAULT_CAPABILITIES.into_iter().collect();
    let process = ProcessBuilder::default()
        .terminal(settings.terminal)
        .user(
            UserBuilder::default()
                .uid(user.uid)
                .gid(user.gid)
                .additional_gids(user.additional_gids)
                .build()?,
        )
        .args(args)
        .env(env)
        .cwd(
            config
                .working_dir()
                .clone()
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| "/".into()),
        )
        .capabilities(
            LinuxCapabilitiesBuilder::default()
                .bounding(capabilities.clone())
                .effective(capabilities.clone())
                .permitted(capabilities)
                .build()?,
        )
        .no_new_privileges(true)
        .build()?;

    let cgroup_parent = settings.cgroup_parent.trim_end_matches('/');
    if !cgroup_parent.starts_with('/') {
        bail!("cgroup parent {:?} is not absolute", settings.cgroup_parent);
    }
    let mut masked_paths = get_default_maskedpaths();
    masked_paths.push("/sys/devices/virtual/powercap".into());
    let mut linux = LinuxBuilder::default()
        .namespaces(get_default_namespaces())
        .masked_paths(masked_paths)
        .readonly_paths(get_default_readonly_paths())
        .cgroups_path(format!("{cgroup_parent}/{}", settings.id))
        .resources(
            LinuxResourcesBuilder::default()
                .devices(vec![LinuxDeviceCgroupBuilder::default()
                    .allow(false)
                    .access("rwm")
                    .build()?])
                .build()?,
        )
        .build()?;
    linux.set_seccomp(default_seccomp()?);

    let mut annotations = HashMap::new();
    if let Some(signal) = config.stop_signal() {
        annotations.insert(STOP_SIGNAL.to_string(), signal.clone());
    }
    Ok(SpecBuilder::default()
        .version("1.2.1")
        .process(process)
        .root(
            RootBuilder::default()
                .path("rootfs")
                .readonly(false)
                .build()?,
        )
        .hostname(settings.id.chars().take(63).collect::<String>())
        .mounts(get_default_mounts())
        .linux(linux)
        .annotations(annotations)
        .build()?)
}

fn default_seccomp() -> Result<Option<LinuxSeccomp>> {
    serde_json::from_str(DEFAULT_SECCOMP)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("the built-in seccomp profile: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(config: &str) -> ImageConfiguration {
        serde_json::from_str(&format!(r#"{{"architecture":"amd64","os":"linux","config":{config},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#))
            .unwrap()
    }

    fn settings(command: &[String]) -> ContainerSettings<'_> {
        ContainerSettings {
            id: "c1",
            cgroup_parent: "/berth-test/x",
            command,
            terminal: false,
        }
    }

    fn root() -> ResolvedUser {
        ResolvedUser {
            uid: 0,
            gid: 0,
            additional_gids: vec![],
        }
    }

    #[test]
    fn entrypoint_cmd_env_cwd_and_stop_signal() {
        let img = image(
            r#"{"Entrypoint":["/bin/sh","-c"],"Cmd":["echo hi"],"Env":["A=1"],"WorkingDir":"/srv","StopSignal":"SIGQUIT"}"#,
        );
        let spec = runtime_spec(&img, root(), &settings(&[])).unwrap();
        let process = spec.process().as_ref().unwrap();
        assert_eq!(
            process.args().as_ref().unwrap(),
            &["/bin/sh", "-c", "echo hi"]
        );
        assert_eq!(process.env().as_ref().unwrap(), &[DEFAULT_PATH, "A=1"]);
        assert_eq!(process.cwd().to_str(), Some("/srv"));
        assert_eq!(spec.annotations().as_ref().unwrap()[STOP_SIGNAL], "SIGQUIT");
        let over = runtime_spec(&img, root(), &settings(&["echo bye".to_string()])).unwrap();
        assert_eq!(
            over.process().as_ref().unwrap().args().as_ref().unwrap(),
            &["/bin/sh", "-c", "echo bye"]
        );
    }

    #[test]
    fn secure_defaults() {
        let spec = runtime_spec(&image(r#"{"Cmd":["true"]}"#), root(), &settings(&[])).unwrap();
        let process = spec.process().as_ref().unwrap();
        assert_eq!(process.no_new_privileges(), Some(true));
        assert_eq!(
            process
                .capabilities()
                .as_ref()
                .unwrap()
                .bounding()
                .as_ref()
                .unwrap()
                .len(),
            14
        );
        let linux = spec.linux().as_ref().unwrap();
        assert_eq!(
            linux.cgroups_path().as_ref().unwrap().to_str(),
            Some("/berth-test/x/c1")
        );
        assert_eq!(linux.namespaces().as_ref().unwrap().len(), 6);
        assert!(linux
            .masked_paths()
            .as_ref()
            .unwrap()
            .iter()
            .any(|p| p == "/proc/kcore"));
        assert!(linux.seccomp().is_some());
        assert!(runtime_spec(&image("{}"), root(), &settings(&[])).is_err());
    }
}
