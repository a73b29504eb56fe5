//! The systemd cgroup driver (`--systemd-cgroup`), as runc's: systemd makes the container's
//! cgroup — a transient scope started over D-Bus with the init's pid, `Delegate=yes` and the
//! limits it can express as properties — and berth then writes every limit to the files, as
//! the cgroupfs driver does, for what systemd cannot express. `delete` stops the unit.
//!
//! name.rs reads `slice:prefix:name`; properties.rs turns resources and annotations into unit
//! properties; bus.rs makes the calls.

mod bus;
pub mod name;
pub mod properties;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use oci_spec::runtime::LinuxResources;
use serde::{Deserialize, Serialize};

pub use bus::Bus;
use name::UnitName;
use properties::{prop, Property, Value};

use super::{detect, make, CgroupPaths};

/// What state.json keeps of a container under the systemd driver: later commands need no flag.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SystemdUnit {
    pub unit: String,
    pub slice: String,
    /// The user's manager (rootless) rather than the system's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub user: bool,
}

impl SystemdUnit {
    pub fn connect(&self) -> Result<Bus> {
        Bus::connect(self.user)
    }

    /// `update`: what systemd can hold goes to the unit first (runc's order), then the files.
    pub fn set_resources(&self, r: &LinuxResources, unified_host: bool) -> Result<()> {
        let mut bus = self.connect()?;
        let version = bus.version();
        let props = properties::from_resources(r, unified_host, version)?;
        bus.set_properties(&self.unit, &props)
    }

    /// Stops the unit and waits for it to go; one already gone is fine.
    pub fn stop(&self) -> Result<()> {
        self.connect()?
            .stop_unit(&self.unit)
            .with_context(|| format!("stop systemd unit {}", self.unit))
    }
}

impl CgroupPaths {
    /// The container's cgroups under the systemd driver, with the bus that will make them:
    /// connected first, so that without systemd nothing at all is made. A rootless berth
    /// (`--rootless`, or any but the host's root) asks the user's manager, as runc does.
    pub fn resolve_systemd(
        cgroups_path: Option<&Path>,
        id: &str,
        user: bool,
    ) -> Result<(Self, Bus)> {
        let path = cgroups_path
            .map(|p| p.to_string_lossy())
            .unwrap_or_default();
        let name = UnitName::parse(&path, id, user).context("linux.cgroupsPath")?;
        let mut bus = Bus::connect(user)?;
        let mut cgroup = name.cgroup()?;
        if user {
            // The user manager's units live below its own cgroup (runc's getSliceFull).
            let base = bus
                .manager_property("ControlGroup")
                .context("the user manager's ControlGroup")?;
            cgroup = format!("{}{cgroup}", base.trim_end_matches('/'));
        }
        let mut paths = CgroupPaths::in_each_hierarchy(|_| PathBuf::from(&cgroup))?;
        paths.systemd = Some(SystemdUnit {
            unit: name.unit,
            slice: name.slice,
            user,
        });
        Ok((paths, bus))
    }

    /// Has systemd put `pid` into the container's unit (with the limits it can hold, then the
    /// annotations' properties), checks where it landed, and joins the v1 hierarchies systemd
    /// does not manage. The files are written after (`apply`).
    pub fn start_unit(
        &self,
        bus: &mut Bus,
        pid: i32,
        r: &LinuxResources,
        annotations: &[Property],
        id: &str,
    ) -> Result<()> {
        let sd = self.systemd.as_ref().context("not a systemd container")?;
        let version = bus.version();
        let mut props = vec![prop(
            "Description",
            Value::Str(format!("berth container {id}")),
        )];
        if sd.unit.ends_with(".slice") {
            props.push(prop("Wants", Value::Strs(vec![sd.slice.clone()])));
        } else {
            props.push(prop("Slice", Value::Str(sd.slice.clone())));
            props.push(prop("Delegate", Value::Bool(true)));
        }
        props.push(prop("PIDs", Value::U32s(vec![pid as u32])));
        // cgroup v1's name for IO accounting is systemd's older one (runc's legacy manager).
        let io = if self.unified_host {
            "IOAccounting"
        } else {
            "BlockIOAccounting"
        };
        for name in ["MemoryAccounting", "CPUAccounting", io, "TasksAccounting"] {
            props.push(prop(name, Value::Bool(true)));
        }
        props.push(prop("DefaultDependencies", Value::Bool(false)));
        props.extend(properties::from_resources(r, self.unified_host, version)?);
        props.extend(annotations.iter().cloned());
        crate::logging::debug(format_args!(
            "systemd: start {} with {} properties",
            sd.unit,
            props.len()
        ));
        bus.start_unit(&sd.unit, &props)
            .with_context(|| format!("unable to start unit {:?}", sd.unit))?;
        self.check_placed(pid)?;
        for dir in self.dirs.iter().filter(|d| !d.is_v2()) {
            // v1 hierarchies systemd does not manage (freezer, net_cls, …): berth's own.
            make(&dir.full(), dir)?;
            dir.add(pid)?;
        }
        Ok(())
    }

    /// The cgroup systemd gave `pid` must be the one the state records.
    fn check_placed(&self, pid: i32) -> Result<()> {
        let text = fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .with_context(|| format!("read /proc/{pid}/cgroup"))?;
        let want = self
            .dirs
            .iter()
            .find(|d| d.is_v2() || d.has("name=systemd"))
            .context("no cgroup2 or name=systemd hierarchy")?;
        let ctrls = if want.is_v2() { "" } else { "name=systemd" };
        let got = detect::memberships(&text).find_map(|(c, path)| (c == ctrls).then_some(path));
        match got {
            Some(path) if Path::new(path) == want.path => Ok(()),
            got => bail!(
                "systemd placed the container's init in {got:?}, not in {}",
                want.path.display()
            ),
        }
    }
}
