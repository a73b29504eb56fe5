//! Shared harness for berth-image's tests: the built binary, stores made by hand (an OCI
//! layout is just files), and registries started on 127.0.0.1 and stopped by pid.
#![allow(dead_code)]

pub mod image;
pub mod proxy;
pub mod registry;
pub mod token;

use std::path::{Path, PathBuf};
use std::process::Command;

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
    let out = Command::new(BERTH_IMAGE)
        .arg("--store")
        .arg(store)
        .arg("--quiet")
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("running berth-image");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
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
