//! Log lines in runc's (logrus') shapes. containerd reads `--log` with `--log-format json` and shows
//! its user the `msg` of the last `"level":"error"` line, so every error reaches that file as one line.
//! Without `--log` the lines go to stderr, as runc's do: `time="…" level=error msg="…"`, which
//! harnesses grep for "error".

use std::borrow::Cow;
use std::fmt::Display;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::SystemTime;

use anyhow::{Context, Result};
use clap::ValueEnum;
use nix::errno::Errno;

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
/// What is used until `init`: text lines on stderr, no debug.
static DEFAULT: Logger = Logger {
    file: None,
    format: LogFormat::Text,
    debug: false,
};
/// Set in a forked container process: its copy of the log fd may already be closed or reused.
static SILENCED: AtomicBool = AtomicBool::new(false);

/// Sets up logging from the global flags. A log file that cannot be opened is an error, and the
/// lines (that error's first) go to stderr in the requested format, as with runc.
pub fn init(opts: &GlobalOpts) -> Result<()> {
    let (file, opened) = match opts.log.as_deref().map(open_log).transpose() {
        Ok(file) => (file, Ok(())),
        Err(e) => (None, Err(e)),
    };
    let _ = LOGGER.set(Logger {
        file,
        format: opts.log_format,
        debug: opts.debug,
    });
    opened
}

fn open_log(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o644)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
        .with_context(|| format!("open log file {}", path.display()))
}

fn logger() -> &'static Logger {
    LOGGER.get().unwrap_or(&DEFAULT)
}

/// Called first thing in a forked child: from then on this process never writes a log line.
pub fn silence() {
    SILENCED.store(true, Ordering::Relaxed);
}

/// A debug line (`--debug`). Pass `format_args!(…)`: nothing is formatted when debug is off.
pub fn debug(msg: impl Display) {
    if logger().debug {
        emit("debug", &msg.to_string());
    }
}

pub fn warn(msg: impl Display) {
    emit("warning", &msg.to_string());
}

/// Reports the error that ends the command, as runc's `fatal` does: one error line in the log
/// (stderr without `--log`); with `--log`, stderr gets the bare message too.
pub fn fatal(err: &anyhow::Error) {
    let msg = one_line(err);
    emit("error", &msg);
    if logger().file.is_some() {
        eprintln!("{msg}");
    }
}

/// The last error of a container process that berth is no longer there to report (it waited
/// for `start`): an error line in text form on the container's own stderr.
pub fn container_error(msg: &str) {
    let line = format_line(LogFormat::Text, "error", msg, SystemTime::now());
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// An anyhow chain as `outer: inner: root cause` on a single line, a system error in the words
/// Go gives it ("no such file or directory"), as in runc's messages: engines match those words —
/// docker's client exits 127 on "no such file or directory" and 126 on "permission denied",
/// containerd takes "no such process" for a process that is gone.
pub fn one_line(err: &anyhow::Error) -> String {
    let causes: Vec<String> = err
        .chain()
        .map(|cause| match os_error(cause) {
            Some(errno) => go_words(errno),
            None => cause.to_string(),
        })
        .collect();
    causes.join(": ").replace('\n', " ")
}

fn os_error(cause: &(dyn std::error::Error + 'static)) -> Option<Errno> {
    if let Some(errno) = cause.downcast_ref::<Errno>() {
        return Some(*errno);
    }
    let code = cause.downcast_ref::<std::io::Error>()?.raw_os_error()?;
    Some(Errno::from_raw(code))
}

/// strerror's text with its first letter in lower case unless it starts an acronym, which is how
/// Go's syscall package spells every errno.
fn go_words(errno: Errno) -> String {
    let text = errno.desc();
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second))
            if first.is_ascii_uppercase() && second.is_ascii_lowercase() =>
        {
            format!("{}{}", first.to_ascii_lowercase(), &text[1..])
        }
        _ => text.to_owned(),
    }
}

fn emit(level: &str, msg: &str) {
    if SILENCED.load(Ordering::Relaxed) {
        return;
    }
    let logger = logger();
    let line = format_line(logger.format, level, msg, SystemTime::now());
    // One write per line so concurrent writers (shim, several berth calls) never interleave.
    let _ = match logger.file.as_ref() {
        Some(mut file) => file.write_all(line.as_bytes()),
        None => std::io::stderr().write_all(line.as_bytes()),
    };
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
        LogFormat::Text => format!(
            "time={} level={level} msg={}\n",
            text_value(&time),
            text_value(msg)
        ),
    }
}

/// A value in logrus' text format: bare when it is one word of `[A-Za-z0-9-._/@^+]`, else quoted.
fn text_value(s: &str) -> Cow<'_, str> {
    let bare = |c: char| c.is_ascii_alphanumeric() || "-._/@^+".contains(c);
    if s.chars().all(bare) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(quote(s))
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

    #[test]
    fn system_errors_read_as_go_prints_them() {
        let nix_error = Err::<(), _>(Errno::ENOENT)
            .context("open /proc/sys/net/ipv4/x")
            .context("sysctl net.ipv4.x")
            .unwrap_err();
        assert_eq!(
            one_line(&nix_error),
            "sysctl net.ipv4.x: open /proc/sys/net/ipv4/x: no such file or directory"
        );
        let io_error = Err::<(), _>(std::io::Error::from_raw_os_error(libc::EACCES))
            .context("write memory.max")
            .unwrap_err();
        assert_eq!(one_line(&io_error), "write memory.max: permission denied");
        assert_eq!(go_words(Errno::ESRCH), "no such process");
        // An acronym keeps its capitals, as in Go's table.
        assert_eq!(go_words(Errno::EDOTDOT), "RFS specific error");
        let plain = anyhow::anyhow!("container \"x\" does not exist").context("kill");
        assert_eq!(one_line(&plain), "kill: container \"x\" does not exist");
    }

    #[test]
    fn text_values_are_quoted_as_logrus_quotes_them() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_593_600);
        let line = |msg| format_line(LogFormat::Text, "debug", msg, t);
        assert!(line("started").ends_with(" level=debug msg=started\n"));
        assert!(line("a/b-c_d.e@f^g+h").ends_with(" msg=a/b-c_d.e@f^g+h\n"));
        assert!(line("").ends_with(" msg=\n"));
        assert!(line("container \"x\" does not exist")
            .ends_with(" msg=\"container \\\"x\\\" does not exist\"\n"));
        assert!(line("pid=1").ends_with(" msg=\"pid=1\"\n"));
    }
}
