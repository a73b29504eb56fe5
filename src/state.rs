//! The state store under `--root`: one directory per container holding `state.json`, its `lock`
//! and, while the container is created but not started, `exec.fifo`. The status is derived from
//! the init process, never stored.
//!
//! The lock is a POSIX record lock on `lock`: unlike flock, it belongs to the process that took it
//! and is not shared with the init berth clones, so a create that dies releases it at once even
//! when its init lives on (frozen, say) — `delete --force` can then clean up.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::{fcntl, renameat2, FcntlArg, RenameFlags};
use serde::{Deserialize, Serialize};

use crate::cgroups::CgroupPaths;
use crate::linux::procfs::ProcessStat;
use crate::linux::rootless;

const STATE_FILE: &str = "state.json";
const FIFO_FILE: &str = "exec.fifo";
const CONFIG_FILE: &str = "config.json";
const LOCK_FILE: &str = "lock";
/// A container's directory while it is not in place — a create's before it is renamed into
/// place, a delete's once it is renamed away — is `<id>~<pid>` (never a valid id), so that no
/// command ever sees `<id>` without its state.
const UNPLACED_MARK: char = '~';

/// Returned (inside anyhow) when the id names no container, so `delete --force` can branch on it.
/// Engines (containerd's shim, podman) match on runc's "does not exist".
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

    /// `/run/berth`, or `$XDG_RUNTIME_DIR/berth` where runc would use `$XDG_RUNTIME_DIR/runc`
    /// (rootless podman passes no `--root`).
    pub fn default_path() -> PathBuf {
        Self::xdg_default().unwrap_or_else(|| PathBuf::from("/run/berth"))
    }

    /// `$XDG_RUNTIME_DIR/berth` when it is set and berth is rootless in runc's sense.
    pub fn xdg_default() -> Option<PathBuf> {
        let dir = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty())?;
        rootless::honors_xdg_runtime_dir().then(|| PathBuf::from(dir).join("berth"))
    }

    /// As runc does with its default root under `$XDG_RUNTIME_DIR`, before any command: made
    /// if missing and given the sticky bit, which keeps the XDG clean-up from pruning it.
    pub fn prepare_xdg(path: &Path) -> Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .with_context(|| {
                format!(
                    "the path in $XDG_RUNTIME_DIR must be writable by the user: mkdir {}",
                    path.display()
                )
            })?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o1700)).with_context(|| {
            format!(
                "you should check permission of the path in $XDG_RUNTIME_DIR: chmod {}",
                path.display()
            )
        })
    }

    /// Fails early (before any cgroup work) when the id is taken; `create` checks again, atomically.
    pub fn refuse_taken(&self, id: &str) -> Result<()> {
        validate_id(id)?;
        if fs::symlink_metadata(self.path.join(id)).is_ok() {
            bail!("container with id exists: {id}");
        }
        Ok(())
    }

    /// Makes the directory of a new container holding `state`, locked. It is made under a
    /// temporary name and renamed into place, so no other command ever sees it unlocked or
    /// without a state; the rename fails if the id is taken.
    pub fn create(&self, id: &str, state: &State) -> Result<ContainerDir> {
        validate_id(id)?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.path)
            .with_context(|| format!("create state root {}", self.path.display()))?;
        let tmp_name = unplaced_name(id);
        let tmp = self.path.join(&tmp_name);
        if let Err(e) = fs::DirBuilder::new().mode(0o711).create(&tmp) {
            return Err(e).with_context(|| format!("create {}", tmp.display()));
        }
        let mut dir = match ContainerDir::open_path(id, tmp.clone()) {
            Ok(dir) => dir,
            Err(e) => {
                remove_dir_warn(&tmp);
                return Err(e);
            }
        };
        let placed = dir.lock().and_then(|()| dir.save(state)).and_then(|()| {
            let root =
                File::open(&self.path).with_context(|| format!("open {}", self.path.display()))?;
            match renameat2(
                &root,
                tmp_name.as_str(),
                &root,
                id,
                RenameFlags::RENAME_NOREPLACE,
            ) {
                Ok(()) => Ok(()),
                Err(Errno::EEXIST) => bail!("container with id exists: {id}"),
                Err(e) => Err(e).with_context(|| format!("rename {} into place", tmp.display())),
            }
        });
        if let Err(e) = placed {
            remove_dir_warn(&tmp);
            return Err(e);
        }
        dir.path = self.path.join(id);
        Ok(dir)
    }

    /// Removes the directories of `id` that a create or delete which died left out of place.
    pub fn remove_abandoned(&self, id: &str) {
        let Ok(entries) = fs::read_dir(&self.path) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix(id))
                .and_then(|n| n.strip_prefix(UNPLACED_MARK))
                .and_then(|p| p.parse::<i32>().ok())
            else {
                continue;
            };
            let path = entry.path();
            let probe = ContainerDir::open_path(id, path.clone());
            // SAFETY: signal 0 only checks whether the pid names a process.
            let creator_gone = unsafe { libc::kill(pid, 0) } < 0 && Errno::last() == Errno::ESRCH;
            if creator_gone && probe.is_ok_and(|p| !p.locked_elsewhere()) {
                remove_dir_warn(&path);
            }
        }
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
        // A create's temporary directory is not a container (yet).
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|id| validate_id(id).is_ok())
            .collect();
        ids.sort();
        Ok(ids)
    }
}

/// runc's rule: letters, digits and `_ + - .`, and not `.` or `..`.
pub fn validate_id(id: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+-.".contains(c);
    if id.is_empty() {
        // runc's words, which scripts know.
        bail!("invalid container id \"\": container id cannot be empty");
    }
    if id == "." || id == ".." || !id.chars().all(ok_char) {
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
    /// `lock`, once this process holds the container's lock (released when dropped).
    lock: OnceCell<File>,
}

impl ContainerDir {
    fn open_path(id: &str, path: PathBuf) -> Result<Self> {
        let handle = File::open(&path).with_context(|| format!("open {}", path.display()))?;
        Ok(ContainerDir {
            id: id.to_owned(),
            path,
            handle,
            lock: OnceCell::new(),
        })
    }

    /// Takes the container's exclusive lock, waiting for the process holding it. Fails with
    /// `NotFound` when the container was deleted meanwhile.
    pub fn lock(&self) -> Result<()> {
        if self.lock.get().is_some() {
            return Ok(());
        }
        let path = self.path.join(LOCK_FILE);
        let file = match fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(NotFound(self.id.clone()).into())
            }
            Err(e) => return Err(e).with_context(|| format!("lock container {}", self.id)),
        };
        let wanted = whole_file(libc::F_WRLCK);
        loop {
            match fcntl(&file, FcntlArg::F_SETLKW(&wanted)) {
                Ok(_) => break,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e).with_context(|| format!("lock container {}", self.id)),
            }
        }
        // Whoever held it may have deleted the container (and another create made a new one).
        let same = fs::symlink_metadata(&self.path)
            .ok()
            .zip(self.handle.metadata().ok())
            .is_some_and(|(now, ours)| now.dev() == ours.dev() && now.ino() == ours.ino());
        if !same {
            return Err(NotFound(self.id.clone()).into());
        }
        let _ = self.lock.set(file);
        Ok(())
    }

    /// True while another process (a `create` in progress) holds the lock. (POSIX locks go when
    /// their owner closes any descriptor of the file: a process never probes a container it has
    /// locked through another handle.)
    fn locked_elsewhere(&self) -> bool {
        if self.lock.get().is_some() {
            return false;
        }
        let Ok(file) = File::open(self.path.join(LOCK_FILE)) else {
            return false;
        };
        let mut probe = whole_file(libc::F_WRLCK);
        fcntl(&file, FcntlArg::F_GETLK(&mut probe)).is_ok() && probe.l_type != libc::F_UNLCK as i16
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
        // As runc: a frozen container is paused, even before its start.
        if crate::cgroups::is_frozen(&state.cgroup) {
            return Status::Paused;
        }
        if self.fifo_path().exists() {
            return Status::Created;
        }
        Status::Running
    }

    /// The user owning the state directory, as runc reports it.
    pub fn owner(&self) -> String {
        let uid = self.handle.metadata().map(|m| m.uid()).unwrap_or(0);
        crate::linux::user::passwd_field(uid, 0).unwrap_or_else(|| uid.to_string())
    }

    /// Removes the directory: renamed out of place first, so that another command finds either
    /// the whole container or none (a leftover of a delete that dies goes with the next one).
    pub fn remove(self) -> Result<()> {
        let away = self.path.with_file_name(unplaced_name(&self.id));
        let path = match fs::rename(&self.path, &away) {
            Ok(()) => away,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("remove {}", self.path.display())),
        };
        match fs::remove_dir_all(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(e).with_context(|| format!("remove {}", path.display()))
            }
            _ => Ok(()),
        }
    }
}

/// The name of `id`'s directory while this process has it out of place.
fn unplaced_name(id: &str) -> String {
    format!("{id}{UNPLACED_MARK}{}", std::process::id())
}

/// A lock request (or probe) of `kind` over a whole file.
fn whole_file(kind: libc::c_int) -> libc::flock {
    // SAFETY: flock is plain data; all zero is a valid value.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind as i16;
    fl.l_whence = libc::SEEK_SET as i16;
    fl
}

fn remove_dir_warn(path: &Path) {
    if let Err(e) = fs::remove_dir_all(path) {
        if e.kind() != ErrorKind::NotFound {
            crate::logging::warn(format!("remove {}: {e}", path.display()));
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
