//! Shared harness for the container tests: each test gets its own state root, bundle
//! directories and cgroup parent (/berth-test/<test>.<pid>, see `tests_cgroup`), and everything
//! is removed on drop.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};

mod skip;
#[allow(unused_imports)] // not every suite has a check to skip
pub use skip::skip;

pub const BERTH: &str = env!("CARGO_BIN_EXE_berth");

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The busybox rootfs built by `make fixture`.
pub fn fixture_rootfs() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("build/busybox/rootfs");
    assert!(
        p.join("bin/busybox").exists(),
        "no fixture at {}: run `make fixture` (or `make test`) first",
        p.display()
    );
    p
}

/// A finished command: exit code and output as text.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(out: Output) -> Run {
        use std::os::unix::process::ExitStatusExt;
        let code = out
            .status
            .code()
            .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0));
        Run {
            code,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "command failed: {self:#?}");
        &self.stdout
    }

    /// Asserts failure with a single error line on stderr in runc's form (logrus text:
    /// `time="…" level=error msg=…`) and returns the message.
    #[track_caller]
    pub fn failed(&self) -> String {
        let line = self.failed_plain();
        error_message(line).unwrap_or_else(|| panic!("not a logrus error line: {line:?}"))
    }

    /// Asserts failure with a single line on stderr and returns it as it is: with `--log`,
    /// berth (as runc) writes the bare message there.
    #[track_caller]
    pub fn failed_plain(&self) -> &str {
        assert_ne!(self.code, 0, "command succeeded unexpectedly: {self:#?}");
        let err = self.stderr.trim_end();
        assert!(!err.is_empty(), "no error message: {self:#?}");
        assert_eq!(err.lines().count(), 1, "error is not one line: {err:?}");
        err
    }
}

/// The message of a logrus text line `time="…" level=error msg=…` (quoted or a bare word).
pub fn error_message(line: &str) -> Option<String> {
    let rest = line.strip_prefix("time=\"")?;
    let (time, rest) = rest.split_once('"')?;
    if !time.ends_with('Z') || time.len() != "2026-11-25T08:00:00Z".len() {
        return None;
    }
    let msg = rest.strip_prefix(" level=error msg=")?;
    if msg.starts_with('"') {
        serde_json::from_str(msg).ok()
    } else {
        Some(msg.to_owned())
    }
}

pub struct Env {
    pub name: String,
    pub dir: PathBuf,
    pub root: PathBuf,
    pub cgroup_parent: String,
}

impl Env {
    pub fn new(name: &str) -> Env {
        let unique = format!("{name}.{}", std::process::id());
        let dir = std::env::temp_dir().join("berth-tests").join(&unique);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Env {
            name: name.to_owned(),
            root: dir.join("state"),
            dir,
            cgroup_parent: format!("{}/{unique}", tests_cgroup()),
        }
    }

    /// A copy of the fixture rootfs in the test's directory, for tests that change it (or whose
    /// mounts create mount points in it).
    pub fn copy_rootfs(&self) -> PathBuf {
        let dst = self.dir.join("rootfs");
        let st = Command::new("cp")
            .arg("-a")
            .arg(fixture_rootfs())
            .arg(&dst)
            .status()
            .unwrap();
        assert!(st.success());
        dst
    }

    pub fn bundle(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// The cgroupsPath the base config gives container `id`.
    pub fn cgroup_path(&self, id: &str) -> String {
        format!("{}/{id}", self.cgroup_parent)
    }

    /// A config like `berth spec` makes (without resources), running `args`.
    pub fn config(&self, args: &[&str]) -> Value {
        json!({
            "ociVersion": "1.2.1",
            "process": {
                "terminal": false,
                "user": { "uid": 0, "gid": 0 },
                "args": args,
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                "cwd": "/",
                "capabilities": {
                    "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                    "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                    "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
                },
                "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
                "noNewPrivileges": true
            },
            "root": { "path": fixture_rootfs(), "readonly": true },
            "hostname": "berth",
            "mounts": [
                { "destination": "/proc", "type": "proc", "source": "proc" },
                { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                  "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
                { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
                  "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
                { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                  "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
                { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
                  "options": ["nosuid", "noexec", "nodev"] },
                { "destination": "/sys", "type": "sysfs", "source": "sysfs",
                  "options": ["nosuid", "noexec", "nodev", "ro"] },
                { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                  "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
            ],
            "linux": {
                "namespaces": [
                    { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
                    { "type": "uts" }, { "type": "mount" }
                ],
                "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                    "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
                "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                    "/proc/sysrq-trigger"]
            }
        })
    }

    /// Writes `config` (with this test's cgroupsPath unless it has one) as the bundle of `id`.
    pub fn write_bundle(&self, id: &str, config: &Value) -> PathBuf {
        let bundle = self.bundle(id);
        fs::create_dir_all(&bundle).unwrap();
        let mut config = config.clone();
        if config["linux"].is_object() && config["linux"]["cgroupsPath"].is_null() {
            config["linux"]["cgroupsPath"] = json!(self.cgroup_path(id));
        }
        fs::write(
            bundle.join("config.json"),
            serde_json::to_vec_pretty(&config).unwrap(),
        )
        .unwrap();
        bundle
    }

    /// `berth --root <state> args…`, stdin from /dev/null.
    pub fn berth(&self, args: &[&str]) -> Run {
        capture(self.berth_cmd(args).stdin(Stdio::null()), &self.dir)
    }

    pub fn berth_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BERTH);
        cmd.arg("--root").arg(&self.root).args(args);
        cmd
    }

    /// Writes the bundle and runs it to completion with `berth run`.
    pub fn run(&self, id: &str, config: &Value) -> Run {
        let bundle = self.write_bundle(id, config);
        self.berth(&["run", "--bundle", bundle.to_str().unwrap(), id])
    }

    /// Runs `sh -c script` in the base config changed by `edit`.
    pub fn sh(&self, id: &str, script: &str, edit: impl FnOnce(&mut Value)) -> Run {
        let mut config = self.config(&["sh", "-c", script]);
        edit(&mut config);
        self.run(id, &config)
    }

    /// Creates (not starts) a long-running container.
    pub fn create(&self, id: &str, config: &Value) -> Run {
        let bundle = self.write_bundle(id, config);
        self.berth(&["create", "--bundle", bundle.to_str().unwrap(), id])
    }

    pub fn status(&self, id: &str) -> String {
        let out = self.berth(&["state", id]);
        let v: Value = serde_json::from_str(out.ok()).unwrap();
        v["status"].as_str().unwrap().to_owned()
    }

    pub fn state(&self, id: &str) -> Value {
        serde_json::from_str(self.berth(&["state", id]).ok()).unwrap()
    }

    /// Every cgroup directory the container `id` would have, one per mounted hierarchy.
    pub fn cgroup_dirs(&self, id: &str) -> Vec<PathBuf> {
        cgroup_mounts()
            .into_iter()
            .map(|m| m.join(self.cgroup_path(id).trim_start_matches('/')))
            .collect()
    }

    /// Asserts that nothing of container `id` is left: state, cgroups, mounts.
    #[track_caller]
    pub fn assert_gone(&self, id: &str) {
        assert!(
            !self.root.join(id).exists(),
            "state dir of {id} left behind"
        );
        for d in self.cgroup_dirs(id) {
            assert!(!d.exists(), "cgroup {} left behind", d.display());
        }
        let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
        let bundle = self.bundle(id);
        assert!(
            !mounts.contains(bundle.to_str().unwrap()),
            "a mount of {} is left behind",
            bundle.display()
        );
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Ok(entries) = fs::read_dir(&self.root) {
            for e in entries.flatten() {
                let id = e.file_name().to_string_lossy().into_owned();
                let _ = self.berth_cmd(&["delete", "--force", &id]).output();
            }
        }
        for m in cgroup_mounts() {
            let parent = m.join(self.cgroup_parent.trim_start_matches('/'));
            remove_cgroup_tree(&parent);
            let _ = fs::remove_dir(m.join(tests_cgroup().trim_start_matches('/')));
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The cgroup the tests' own parents go under: /berth-test, or BERTH_TEST_CGROUP where the host's
/// manager owns the rest of the tree (the systemd VM delegates a subtree to its job: see
/// integration/cgroupv2/guest-run).
pub fn tests_cgroup() -> String {
    std::env::var("BERTH_TEST_CGROUP").unwrap_or_else(|_| "/berth-test".to_owned())
}

/// Runs `cmd` to completion with its output through files in `dir`, not pipes: a created or
/// detached container keeps its stdio open long after berth has returned.
pub fn capture(cmd: &mut Command, dir: &Path) -> Run {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let (out_path, err_path) = (dir.join(format!(".out{n}")), dir.join(format!(".err{n}")));
    let status = cmd
        .stdout(fs::File::create(&out_path).unwrap())
        .stderr(fs::File::create(&err_path).unwrap())
        .status()
        .unwrap();
    let run = Run::from_output(Output {
        status,
        stdout: fs::read(&out_path).unwrap(),
        stderr: fs::read(&err_path).unwrap(),
    });
    let _ = fs::remove_file(out_path);
    let _ = fs::remove_file(err_path);
    run
}

/// Whether /sys/fs/cgroup itself is cgroup2 (a pure v2 host).
pub fn host_v2() -> bool {
    nix::sys::statfs::statfs("/sys/fs/cgroup")
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

/// Mount points of every cgroup hierarchy on the host.
pub fn cgroup_mounts() -> Vec<PathBuf> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let fstype = post.split(' ').next()?;
            (fstype == "cgroup" || fstype == "cgroup2")
                .then(|| PathBuf::from(pre.split(' ').nth(4).unwrap()))
        })
        .collect()
}

fn remove_cgroup_tree(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup_tree(&e.path());
            }
        }
    }
    let _ = fs::remove_dir(dir);
}

/// Gives `cfg` a user namespace whose 65536 ids map to the host's from `uid_host` / `gid_host`.
pub fn with_user_namespace(cfg: &mut Value, uid_host: u32, gid_host: u32) {
    let linux = &mut cfg["linux"];
    linux["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "type": "user" }));
    linux["uidMappings"] = json!([{ "containerID": 0, "hostID": uid_host, "size": 65536 }]);
    linux["gidMappings"] = json!([{ "containerID": 0, "hostID": gid_host, "size": 65536 }]);
}

/// Waits (up to 5 s) until `check` holds.
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

/// One message on a connected unix socket carrying exactly one descriptor (SCM_RIGHTS), as
/// berth sends the pty master and the seccomp notify fd: its payload and the descriptor.
pub fn receive_with_fd(conn: &impl std::os::fd::AsRawFd) -> (Vec<u8>, std::os::fd::OwnedFd) {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::{FromRawFd, OwnedFd, RawFd};
    let mut buf = vec![0u8; 64 * 1024];
    let mut space = nix::cmsg_space!([RawFd; 4]);
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .expect("receive a message with a descriptor");
    let fds: Vec<RawFd> = msg
        .cmsgs()
        .unwrap()
        .filter_map(|c| match c {
            ControlMessageOwned::ScmRights(f) => Some(f),
            _ => None,
        })
        .flatten()
        .collect();
    let len = msg.bytes;
    assert_eq!(fds.len(), 1, "expected exactly one descriptor, got {fds:?}");
    buf.truncate(len);
    // SAFETY: a descriptor the kernel just installed in this process for us.
    (buf, unsafe { OwnedFd::from_raw_fd(fds[0]) })
}
