//! Log lines in runc's (logrus') shapes. containerd reads `--log` with `--log-format json` and shows
//! its user the `msg` of the last `"level":"error"` line, so every error reaches that file as one line.

use std::fmt::Display;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::SystemTime;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::cli::GlobalOpts;
use crate::timefmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

struct Logger {
    file: Option<File>,
    format: LogFormat,
    debug: bool,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();
/// Set in a forked container process: its copy of the log fd may already be closed or reused.
static SILENCED: AtomicBool = AtomicBool::new(false);

pub fn init(opts: &GlobalOpts) -> Result<()> {
    let file = match &opts.log {
        Some(path) => Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o644)
                .custom_flags(libc::O_CLOEXEC)
                .open(path)
                .with_context(|| format!("open log file {}", path.display()))?,
        ),
        None => None,
    };
    let _ = LOGGER.set(Logger {
        file,
        format: opts.log_format,
        debug: opts.debug,
    });
    Ok(())
}

/// Called first thing in a forked child: from then on this process never writes a log line.
pub fn silence() {
    SILENCED.store(true, Ordering::Relaxed);
}

pub fn debug(msg: impl Display) {
    if LOGGER.get().is_some_and(|l| l.debug) {
        emit("debug", &msg.to_string());
    }
}

pub fn warn(msg: impl Display) {
    emit("warning", &msg.to_string());
}

/// Reports the error that ends the command: one line in the log file (if any) and one on stderr.
pub fn fatal(err: &anyhow::Error) {
    let msg = one_line(err);
    emit("error", &msg);
    if LOGGER.get().is_some_and(|l| l.file.is_some()) {
        eprintln!("berth: {msg}");
    }
}

/// An anyhow chain as `outer: inner: root cause` on a single line.
pub fn one_line(err: &anyhow::Error) -> String {
    format!("{err:#}").replace('\n', " ")
}

fn emit(level: &str, msg: &str) {
    if SILENCED.load(Ordering::Relaxed) {
        return;
    }
    let Some(logger) = LOGGER.get() else {
        eprintln!("berth: {msg}");
        return;
    };
    let Some(mut file) = logger.file.as_ref() else {
        match level {
            "error" => eprintln!("berth: {msg}"),
            _ => eprintln!("berth: {level}: {msg}"),
        }
        return;
    };
    let line = format_line(logger.format, level, msg, SystemTime::now());
    // One write per line so concurrent writers (shim, several berth calls) never interleave.
    let _ = file.write_all(line.as_bytes());
}

fn format_line(format: LogFormat, level: &str, msg: &str, now: SystemTime) -> String {
    let time = timefmt::rfc3339(now);
    match format {
        LogFormat::Json => format!(
            "{{\"level\":{},\"msg\":{},\"time\":{}}}\n",
            quote(level),
            quote(msg),
            quote(&time)
        ),
        LogFormat::Text => format!("time={} level={level} msg={}\n", quote(&time), quote(msg)),
    }
}

/// A JSON string literal (also what logrus' text format uses for quoted values).
fn quote(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn json_lines_are_logrus_shaped() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_593_600);
        let line = format_line(LogFormat::Json, "error", "bad \"x\"", t);
        assert_eq!(
            line,
            "{\"level\":\"error\",\"msg\":\"bad \\\"x\\\"\",\"time\":\"2026-11-25T08:00:00Z\"}\n"
        );
        let text = format_line(LogFormat::Text, "warning", "a b", t);
        assert_eq!(
            text,
            "time=\"2026-11-25T08:00:00Z\" level=warning msg=\"a b\"\n"
        );
    }
}
