//! The state store under `--root`: one directory per container holding `state.json` and, while the
//! container is created but not started, `exec.fifo`. The directory itself is the container's lock
//! (flock), and the status is derived from the init process, never stored.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::cgroups::CgroupPaths;
use crate::linux::procfs::ProcessStat;

const STATE_FILE: &str = "state.json";
const FIFO_FILE: &str = "exec.fifo";
const CONFIG_FILE: &str = "config.json";

/// Returned (inside anyhow) when the id names no container, so `delete --force` can branch on it.
#[derive(Debug)]
pub struct NotFound(pub String);

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "container \"{}\" does not exist", self.0)
    }
}

impl std::error::Error for NotFound {}

pub struct Root {
    path: PathBuf,
}

impl Root {
    pub fn new(path: PathBuf) -> Self {
        Root { path }
    }

    /// `/run/berth` for root, `$XDG_RUNTIME_DIR/berth` otherwise (podman passes no `--root`).
    pub fn default_path() -> PathBuf {
        if !nix::unistd::geteuid().is_root() {
            if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
                return PathBuf::from(dir).join("berth");
            }
        }
        PathBuf::from("/run/berth")
    }

    /// Makes the directory of a new container and locks it; fails if the id is taken.
    pub fn create(&self, id: &str) -> Result<ContainerDir> {
        validate_id(id)?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.path)
            .with_context(|| format!("create state root {}", self.path.display()))?;
        let path = self.path.join(id);
        match fs::DirBuilder::new().mode(0o711).create(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                bail!("container with id exists: {id}")
            }
            Err(e) => return Err(e).with_context(|| format!("create {}", path.display())),
        }
        let dir = ContainerDir::open_path(id, path)?;
        dir.lock()?;
        Ok(dir)
    }

    pub fn open(&self, id: &str) -> Result<ContainerDir> {
        validate_id(id)?;
        let path = self.path.join(id);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => ContainerDir::open_path(id, path),
            Ok(_) => Err(NotFound(id.to_owned()).into()),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(NotFound(id.to_owned()).into()),
            Err(e) => Err(e).with_context(|| format!("stat {}", path.display())),
        }
    }

    /// Ids of every container directory, sorted.
    pub fn ids(&self) -> Result<Vec<String>> {
        let entries = match fs::read_dir(&self.path) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("read {}", self.path.display())),
        };
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort();
        Ok(ids)
    }
}

/// runc's rule: letters, digits and `_ + - .`, and not `.` or `..`.
pub fn validate_id(id: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+-.".contains(c);
    if id.is_empty() || id == "." || id == ".." || !id.chars().all(ok_char) {
        bail!("invalid container id {id:?}: use letters, digits, '_', '+', '-' and '.'");
    }
    Ok(())
}

/// What berth records about a container; the OCI state is derived from it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct State {
    pub id: String,
    pub pid: i32,
    /// Start time of the init (clock ticks since boot): a reused pid has another.
    pub pid_start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    pub cgroup: CgroupPaths,
    /// Whether the container has a pid namespace of its own (then killing the init kills all).
    pub own_pid_ns: bool,
    /// Whether config.json has hooks (so start and delete need to read it).
    #[serde(default)]
    pub hooks: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub struct ContainerDir {
    pub id: String,
    pub path: PathBuf,
    handle: File,
    locked: Cell<bool>,
}

impl ContainerDir {
    fn open_path(id: &str, path: PathBuf) -> Result<Self> {
        let handle = File::open(&path).with_context(|| format!("open {}", path.display()))?;
        Ok(ContainerDir {
            id: id.to_owned(),
            path,
            handle,
            locked: Cell::new(false),
        })
    }

    /// Takes the container's exclusive lock (released when this handle is dropped).
    pub fn lock(&self) -> Result<()> {
        // SAFETY: plain integer arguments on a descriptor we own.
        if unsafe { libc::flock(self.handle.as_raw_fd(), libc::LOCK_EX) } < 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("lock container {}", self.id));
        }
        self.locked.set(true);
        Ok(())
    }

    /// True while another process (a `create` in progress) holds the lock.
    fn locked_elsewhere(&self) -> bool {
        if self.locked.get() {
            return false;
        }
        // A separate open file description: flock on our own handle would only convert our lock.
        let Ok(probe) = File::open(&self.path) else {
            return false;
        };
        // SAFETY: plain integer arguments on a descriptor we own.
        unsafe { libc::flock(probe.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) < 0 }
    }

    /// The container's state; its cgroup paths are checked before anything uses them.
    pub fn load(&self) -> Result<Option<State>> {
        let path = self.path.join(STATE_FILE);
        let state: State = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("parse {}", path.display()))?,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
        };
        state
            .cgroup
            .verify()
            .with_context(|| format!("refusing {}: cgroup", path.display()))?;
        Ok(Some(state))
    }

    pub fn save(&self, state: &State) -> Result<()> {
        let tmp = self.path.join(".state.json.tmp");
        fs::write(&tmp, serde_json::to_vec(state)?)
            .with_context(|| format!("write {}", tmp.display()))?;
        fs::rename(&tmp, self.path.join(STATE_FILE)).context("rename state.json")
    }

    /// Keeps the config.json the container was created from (the bundle may change later).
    pub fn save_config(&self, raw: &[u8]) -> Result<()> {
        fs::write(self.path.join(CONFIG_FILE), raw).context("save config.json in the state dir")
    }

    /// The container's config.json: the saved copy, or the bundle's if none was saved.
    pub fn load_config(&self, state: &State) -> Result<oci_spec::runtime::Spec> {
        let saved = self.path.join(CONFIG_FILE);
        let path = if saved.exists() {
            saved
        } else {
            state.bundle.join(CONFIG_FILE)
        };
        let bytes = fs::read(&path).with_context(|| format!("read {}", path.display()))?;
        crate::bundle::parse(&bytes)
    }

    pub fn fifo_path(&self) -> PathBuf {
        self.path.join(FIFO_FILE)
    }

    pub fn status(&self, state: Option<&State>) -> Status {
        // A state without a pid is written at the start of `create`.
        let Some(state) = state.filter(|s| s.pid > 0) else {
            return if self.locked_elsewhere() {
                Status::Creating
            } else {
                Status::Stopped
            };
        };
        if !init_alive(state) {
            return Status::Stopped;
        }
        if self.fifo_path().exists() {
            return Status::Created;
        }
        if crate::cgroups::is_frozen(&state.cgroup) {
            return Status::Paused;
        }
        Status::Running
    }

    /// The user owning the state directory, as runc reports it.
    pub fn owner(&self) -> String {
        let uid = self.handle.metadata().map(|m| m.uid()).unwrap_or(0);
        crate::linux::user::passwd_field(uid, 0).unwrap_or_else(|| uid.to_string())
    }

    pub fn remove(self) -> Result<()> {
        match fs::remove_dir_all(&self.path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(e).with_context(|| format!("remove {}", self.path.display()))
            }
            _ => Ok(()),
        }
    }
}

/// The init is alive if its pid still names a non-zombie process started when ours was.
pub fn init_alive(state: &State) -> bool {
    state.pid > 0
        && ProcessStat::read(state.pid)
            .is_ok_and(|s| s.start_time == state.pid_start_time && !s.is_zombie())
}

/// The OCI state document, in runc's field order.
#[derive(Serialize)]
pub struct OciState<'a> {
    #[serde(rename = "ociVersion")]
    pub oci_version: &'a str,
    pub id: &'a str,
    pub pid: i32,
    pub status: &'a str,
    pub bundle: &'a Path,
    pub rootfs: &'a Path,
    pub created: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: &'a BTreeMap<String, String>,
    pub owner: String,
}

impl<'a> OciState<'a> {
    pub fn new(dir: &'a ContainerDir, state: &'a State, status: Status) -> Self {
        OciState {
            oci_version: crate::cli::SPEC_VERSION,
            id: &state.id,
            pid: if status == Status::Stopped {
                0
            } else {
                state.pid
            },
            status: status.as_str(),
            bundle: &state.bundle,
            rootfs: &state.rootfs,
            created: &state.created,
            annotations: &state.annotations,
            owner: dir.owner(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_runc_rules() {
        for ok in ["a", "ctr-1", "x_y.z+1", "A9"] {
            assert!(validate_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "../x", "a b", "é"] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
    }
}
