//! The programs under test and the one way they are started and timed.
//!
//! Each invocation is a plain spawn (posix_spawn, stdio on /dev/null and an append-only log),
//! timed with the monotonic clock from just before the spawn to the return of wait4, which
//! also gives the rusage of the invoked process: its ru_maxrss is the peak RSS of the largest
//! process among the runtime process and the descendants it reaped itself (for `run` and
//! `exec` that includes the container process it waits for, whose RSS before and after its
//! execve counts).

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// An OCI runtime with runc's command line (berth, crun, runc).
    Oci,
    /// The kernel-only floor program (see src/bin/floor.rs).
    Floor,
}

pub struct Tool {
    pub name: &'static str,
    pub kind: Kind,
    pub bin: PathBuf,
    /// --root of the OCI runtimes (their state directory), on tmpfs like their defaults.
    pub root: PathBuf,
    /// For the floor: a cgroup to create, join and remove (as /berth-bench/<name>-true).
    pub cgroup: Option<String>,
    log_path: PathBuf,
    log: File,
}

/// One timed invocation.
#[derive(Clone, Copy, Debug)]
pub struct Obs {
    pub secs: f64,
    pub maxrss_kib: i64,
}

impl Tool {
    pub fn new(name: &'static str, kind: Kind, bin: PathBuf, out: &Path) -> Result<Tool> {
        let root = PathBuf::from("/run/berth-bench").join(name);
        fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        let log_path = out.join(format!("{name}.log"));
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        Ok(Tool {
            name,
            kind,
            bin,
            root,
            cgroup: None,
            log_path,
            log,
        })
    }

    /// `bin --root ROOT args…` for runtimes, `bin args…` for the floor.
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Command> {
        let mut cmd = Command::new(&self.bin);
        if self.kind == Kind::Oci {
            cmd.arg("--root").arg(&self.root);
        }
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(self.log.try_clone()?);
        Ok(cmd)
    }

    /// Runs `args` to completion, timed; a non-zero exit is an error quoting the log's tail.
    pub fn timed<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Obs> {
        let mut cmd = self.command(args)?;
        let start = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        let (status, maxrss_kib) = wait4(child.id() as libc::pid_t)?;
        let secs = start.elapsed().as_secs_f64();
        if status != 0 {
            let shown: Vec<String> = args
                .iter()
                .map(|a| a.as_ref().to_string_lossy().into_owned())
                .collect();
            bail!(
                "{} {}: exit status {status}; its log ({}) ends with:\n{}",
                self.name,
                shown.join(" "),
                self.log_path.display(),
                self.log_tail()
            );
        }
        Ok(Obs { secs, maxrss_kib })
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(5)..].join("\n")
    }
}

/// Reaps `pid`, returning its exit status (128+signal when killed) and ru_maxrss in KiB.
pub fn wait4(pid: libc::pid_t) -> Result<(i32, i64)> {
    let mut status = 0;
    // SAFETY: rusage is plain old data that wait4 fills in.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).with_context(|| format!("waiting for pid {pid}"));
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Ok((code, ru.ru_maxrss))
}

/// The pid a runtime wrote with --pid-file.
pub fn read_pid(path: &Path) -> Result<libc::pid_t> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.trim()
        .parse()
        .with_context(|| format!("{}: not a pid: {text:?}", path.display()))
}
