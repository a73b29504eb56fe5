//! Shared harness for berth-image's tests: the built binary, stores made by hand (an OCI
//! layout is just files), and registries started on 127.0.0.1 and stopped by pid.
#![allow(dead_code)]

pub mod image;
pub mod nobody;
pub mod proxy;
pub mod registry;
pub mod token;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BERTH_IMAGE: &str = env!("CARGO_BIN_EXE_berth-image");

/// A finished command.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "command failed: {self:#?}");
        &self.stdout
    }

    /// Asserts failure with a one-line error and returns it.
    #[track_caller]
    pub fn failed(&self) -> &str {
        assert_ne!(self.code, 0, "command succeeded unexpectedly: {self:#?}");
        let err = self.stderr.trim_end();
        assert_eq!(err.lines().count(), 1, "error is not one line: {err:?}");
        err
    }
}

/// Runs berth-image with `--store STORE --quiet` and `args`.
pub fn berth_image(store: &Path, args: &[&str]) -> Run {
    berth_image_env(store, args, &[])
}

pub fn berth_image_env(store: &Path, args: &[&str], env: &[(&str, &Path)]) -> Run {
    berth_image_with(store, args, |command| {
        command.envs(env.iter().map(|(k, v)| (k, v)));
    })
}

/// Runs berth-image as `berth_image` does, with `configure` applied to the command first.
pub fn berth_image_with(store: &Path, args: &[&str], configure: impl FnOnce(&mut Command)) -> Run {
    let mut command = berth_image_command(store, args);
    configure(&mut command);
    Run::from(command.output().expect("running berth-image"))
}

/// Runs berth-image and fails the test if it has not exited after `limit` (it is killed then):
/// for inputs that once made it hang.
pub fn berth_image_within(store: &Path, args: &[&str], limit: Duration) -> Run {
    let mut child = berth_image_command(store, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running berth-image");
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("berth-image {args:?} still runs after {limit:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run::from(child.wait_with_output().unwrap())
}

fn berth_image_command(store: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BERTH_IMAGE);
    command.arg("--store").arg(store).arg("--quiet").args(args);
    command
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A fresh directory for one test, removed at the end.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("berth-image-test.")
        .tempdir()
        .unwrap()
}

/// The store's blob file for `digest`.
pub fn blob(store: &Path, digest: &str) -> PathBuf {
    store
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

/// The busybox rootfs of `make fixture`.
pub fn fixture_rootfs() -> PathBuf {
    let rootfs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../build/busybox/rootfs");
    assert!(
        rootfs.join("bin/busybox").exists(),
        "no fixture at {}: run `make fixture`",
        rootfs.display()
    );
    rootfs
}

/// berth, built next to berth-image (`cargo build -p berth` with the same target directory).
pub fn berth_binary() -> PathBuf {
    let berth = Path::new(BERTH_IMAGE).with_file_name("berth");
    assert!(
        berth.exists(),
        "{} is missing: run `cargo build -p berth` with the same CARGO_TARGET_DIR",
        berth.display()
    );
    berth
}

/// A cgroup parent of a test's own, removed at the end from every hierarchy (berth's delete
/// leaves parents, as runc's does), with /berth-test when nothing else is in it.
pub struct CgroupParent(pub String);

impl CgroupParent {
    pub fn new(test: &str) -> CgroupParent {
        CgroupParent(format!("/berth-test/{test}.{}", std::process::id()))
    }
}

impl Drop for CgroupParent {
    fn drop(&mut self) {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        for line in mountinfo.lines() {
            let Some((pre, post)) = line.split_once(" - ") else {
                continue;
            };
            if !post.starts_with("cgroup ") && !post.starts_with("cgroup2 ") {
                continue;
            }
            let Some(mount) = pre.split(' ').nth(4) else {
                continue;
            };
            let parent = Path::new(mount).join(self.0.trim_start_matches('/'));
            let _ = std::fs::remove_dir(&parent);
            if let Some(up) = parent.parent() {
                let _ = std::fs::remove_dir(up);
            }
        }
    }
}
