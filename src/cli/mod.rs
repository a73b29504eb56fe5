//! The command line: runc's global flags and subcommands, parsed with clap. Each subcommand lives in
//! its own file and only turns flags into a call into `container`; no kernel work happens here.

mod checkpoint;
mod create;
mod delete;
mod events;
mod exec;
mod features;
mod kill;
mod list;
mod pause;
mod ps;
mod restore;
mod run;
mod spec;
mod start;
mod state;
mod update;

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::logging::LogFormat;
use crate::state::Root;

/// The runtime-spec version berth implements.
pub const SPEC_VERSION: &str = "1.2.1";

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    about = "berth: a low-level OCI container runtime (runc-compatible command line)",
    disable_version_flag = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,

    /// Print the version
    #[arg(short = 'v', long = "version")]
    version: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

impl Cli {
    /// The descriptors this command hands the container process must all be open (see
    /// `process::check_passed_fds`); called before berth opens one of its own.
    pub fn check_passed_fds(&self) -> Result<()> {
        let preserve = match &self.command {
            Some(Command::Create(a)) => a.common.preserve_fds,
            Some(Command::Run(a)) => a.common.preserve_fds,
            Some(Command::Exec(a)) => a.preserve_fds,
            _ => 0,
        };
        crate::process::check_passed_fds(preserve)
    }
}

#[derive(clap::Args, Debug, Default)]
pub struct GlobalOpts {
    /// Root directory for container state (default /run/berth, or $XDG_RUNTIME_DIR/berth when rootless)
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Write log lines to this file instead of stderr
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,

    /// Log format: text or json
    #[arg(long = "log-format", global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Enable debug logging
    #[arg(long, global = true)]
    pub debug: bool,

    /// Use the systemd cgroup driver (cgroupsPath is slice:prefix:name)
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,

    /// Rootless cgroups: true, false or auto (rootless unless berth is the host's root)
    #[arg(long, value_name = "true|false|auto")]
    pub rootless: Option<String>,
}

impl GlobalOpts {
    /// Absolute: `create` and `run` move into the bundle.
    pub fn state_root(&self) -> Root {
        let path = self.root.clone().unwrap_or_else(Root::default_path);
        Root::new(std::path::absolute(&path).unwrap_or(path))
    }

    /// Whether containers may run in berth's own cgroups where theirs cannot be made.
    pub fn rootless_cgroups(&self) -> Result<bool> {
        crate::linux::rootless::rootless_cgroups(self.rootless.as_deref())
    }

    /// runc's set-up of its default state root under `$XDG_RUNTIME_DIR`, before every command.
    fn prepare_state_root(&self) -> Result<()> {
        match Root::xdg_default().filter(|_| self.root.is_none()) {
            Some(path) => Root::prepare_xdg(&path),
            None => Ok(()),
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a container (the init waits for `start` before running the process)
    Create(create::Args),
    /// Run the process of a created container
    Start(start::Args),
    /// Create and start a container, then wait for it
    Run(run::Args),
    /// Print the state of a container
    State(state::Args),
    /// List containers
    List(list::Args),
    /// Send a signal to a container's init (or all its processes)
    Kill(kill::Args),
    /// Delete a container and everything it holds
    Delete(delete::Args),
    /// Write a default config.json
    Spec(spec::Args),
    /// Run another process in a running container
    Exec(Box<exec::Args>),
    /// Print the features this runtime supports (runtime-spec features.md JSON)
    Features(features::Args),
    /// Freeze every process of a container
    Pause(pause::Args),
    /// Thaw a paused container
    Resume(pause::Args),
    /// Change the resource limits of a running container
    Update(Box<update::Args>),
    /// Print resource statistics and OOM events as JSON lines
    Events(events::Args),
    /// List the processes of a container
    Ps(ps::Args),
    /// Checkpoint a running container with CRIU (needs criu in PATH)
    Checkpoint(Box<checkpoint::Args>),
    /// Restore a container from a CRIU checkpoint (needs criu in PATH)
    Restore(Box<restore::Args>),
}

/// Parses argv, accepting Go's flag forms as runc does. A usage error is one line on stderr and,
/// like every error, a line in `--log` (all that containerd shows its user); it exits 1, as runc.
/// An unknown command (`berth foo`, `berth help foo`) exits 3 with runc's (urfave/cli's) words.
pub fn parse() -> Cli {
    let cmd = Cli::command();
    let args = normalize_go_flags(&cmd, std::env::args_os().collect());
    let err = match cmd.try_get_matches_from(&args) {
        Ok(m) => match Cli::from_arg_matches(&m) {
            Ok(cli) => return cli,
            Err(e) => e,
        },
        Err(e) => e,
    };
    use clap::error::{ContextKind, ErrorKind};
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        if err.kind() == ErrorKind::DisplayHelp {
            refuse_criu_help(&Cli::command(), &args, &err);
        }
        err.exit();
    }
    let (msg, code) = match err.get(ContextKind::InvalidSubcommand) {
        Some(name) => (format!("No help topic for '{name}'"), 3),
        None => (format!("{} (see berth --help)", usage_error(&err)), 1),
    };
    let _ = crate::logging::init(&log_opts(&args));
    crate::logging::fatal(&anyhow::anyhow!(msg));
    std::process::exit(code);
}

/// `checkpoint --help` and `restore --help` exit 0 only where a usable criu is found: podman
/// takes that exit status for "this runtime can checkpoint". Elsewhere the help is followed by
/// the one line saying why not, and exit status 1.
fn refuse_criu_help(cmd: &clap::Command, args: &[OsString], help: &clap::Error) {
    let sub = args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .find_map(|a| cmd.find_subcommand(a));
    if !sub.is_some_and(|s| matches!(s.get_name(), "checkpoint" | "restore")) {
        return;
    }
    if let Err(e) = crate::criu::Criu::find() {
        let _ = help.print();
        let _ = crate::logging::init(&log_opts(args));
        crate::logging::fatal(&e);
        std::process::exit(1);
    }
}

/// clap's error as one line: its first paragraph (the problem and what it names), lines joined.
fn usage_error(err: &clap::Error) -> String {
    let text = err.to_string();
    let words: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .collect();
    let line = words.join(" ");
    match line.strip_prefix("error: ") {
        Some(rest) => rest.to_owned(),
        None if line.is_empty() => "invalid usage".to_owned(),
        None => line,
    }
}

/// `--log` and `--log-format` picked out of arguments that did not parse.
fn log_opts(args: &[OsString]) -> GlobalOpts {
    let mut opts = GlobalOpts::default();
    let mut it = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        match name.as_str() {
            "--log" => opts.log = inline.or_else(|| it.next()).map(PathBuf::from),
            "--log-format" if inline.or_else(|| it.next()).as_deref() == Some("json") => {
                opts.log_format = LogFormat::Json;
            }
            _ => {}
        }
    }
    opts
}

pub fn dispatch(cli: Cli) -> Result<i32> {
    if cli.version {
        // runc's lines, which docker and podman read; berth links no libseccomp to report.
        println!("berth version {}", env!("CARGO_PKG_VERSION"));
        println!("commit: {}", env!("BERTH_COMMIT"));
        println!("spec: {SPEC_VERSION}");
        return Ok(0);
    }
    let g = &cli.global;
    if cli.command.is_some() {
        g.prepare_state_root()?;
    }
    if matches!(
        cli.command,
        Some(Command::Create(_) | Command::Run(_) | Command::Exec(_))
    ) {
        // These run berth's code inside a container: see exe_guard, before any other work.
        crate::process::exe_guard::protect()?;
    }
    match cli.command {
        None => {
            Cli::command().print_help()?;
            Ok(0)
        }
        Some(Command::Create(a)) => a.run(g),
        Some(Command::Start(a)) => a.run(g),
        Some(Command::Run(a)) => a.run(g),
        Some(Command::State(a)) => a.run(g),
        Some(Command::List(a)) => a.run(g),
        Some(Command::Kill(a)) => a.run(g),
        Some(Command::Delete(a)) => a.run(g),
        Some(Command::Spec(a)) => a.run(g),
        Some(Command::Exec(a)) => a.run(g),
        Some(Command::Features(a)) => a.run(g),
        Some(Command::Pause(a)) => a.pause(g),
        Some(Command::Resume(a)) => a.resume(g),
        Some(Command::Update(a)) => a.run(g),
        Some(Command::Events(a)) => a.run(g),
        Some(Command::Ps(a)) => a.run(g),
        Some(Command::Checkpoint(a)) => a.run(g),
        Some(Command::Restore(a)) => a.run(g),
    }
}

/// Go's flag forms in clap's terms, for long flags of berth or of the subcommand being parsed:
/// `-name[=value]` becomes `--name[=value]`, and a switch given a value (`--force=true`,
/// `-debug=false`) is set or left out. Arguments after `--`, flags' values, and the command of
/// `exec` (or the options of `ps`) — a trailing list of operands — are left alone.
pub(crate) fn normalize_go_flags(cmd: &clap::Command, args: Vec<OsString>) -> Vec<OsString> {
    let mut longs: Vec<(String, bool)> = long_flags(cmd);
    let mut value_shorts = value_short_flags(cmd);
    let mut out = Vec::with_capacity(args.len());
    let mut rest = false;
    // The subcommand's operands so far, and how many come before its trailing list.
    let (mut subcommand, mut operands, mut trailing_at) = (false, 0, None);
    let mut value_next = false;
    for (i, arg) in args.into_iter().enumerate() {
        let s = arg.to_string_lossy();
        if i == 0 || rest || std::mem::take(&mut value_next) {
            out.push(arg);
            continue;
        }
        if s == "--" {
            rest = true;
            out.push(arg);
            continue;
        }
        if !s.starts_with('-') || s == "-" {
            match cmd.find_subcommand(s.as_ref()).filter(|_| !subcommand) {
                Some(sub) => {
                    longs.extend(long_flags(sub));
                    value_shorts.extend(value_short_flags(sub));
                    trailing_at = sub
                        .get_positionals()
                        .position(|a| a.is_trailing_var_arg_set());
                    subcommand = true;
                }
                None if subcommand => {
                    rest = trailing_at == Some(operands);
                    operands += 1;
                }
                None => {}
            }
            out.push(arg);
            continue;
        }
        let body = match (s.strip_prefix("--"), s.strip_prefix('-')) {
            (Some(b), _) => b,
            (None, Some(b)) if b.len() > 1 => b,
            _ => {
                value_next = s.chars().nth(1).is_some_and(|c| value_shorts.contains(&c));
                out.push(arg);
                continue;
            }
        };
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let flag = longs.iter().find(|(l, _)| l == name);
        value_next = value.is_none() && flag.is_some_and(|(_, switch)| !switch);
        match (flag, value) {
            (Some((_, true)), Some("false")) => {}
            (Some((_, true)), Some("true")) => out.push(OsString::from(format!("--{name}"))),
            (Some(_), _) => out.push(OsString::from(format!("--{body}"))),
            (None, _) => {
                // Where the trailing list may begin, an unknown flag begins it (clap takes it
                // as its first value): everything after it is the list too.
                rest = subcommand && trailing_at == Some(operands);
                out.push(arg)
            }
        }
    }
    out
}

/// Each long flag, and whether it is a switch (takes no value).
fn long_flags(cmd: &clap::Command) -> Vec<(String, bool)> {
    cmd.get_arguments()
        .filter_map(|a| Some((a.get_long()?.to_owned(), !a.get_action().takes_values())))
        .collect()
}

/// The short flags that take a value (`-u 0`).
fn value_short_flags(cmd: &clap::Command) -> Vec<char> {
    cmd.get_arguments()
        .filter(|a| a.get_action().takes_values())
        .filter_map(|a| a.get_short())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_vec(args: &[&str]) -> Vec<String> {
        normalize_go_flags(&Cli::command(), args.iter().map(OsString::from).collect())
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect()
    }

    #[test]
    fn single_dash_long_flags_become_double() {
        assert_eq!(
            parse_vec(&["berth", "run", "-no-subreaper", "-bundle=/b", "-d", "id"]),
            ["berth", "run", "--no-subreaper", "--bundle=/b", "-d", "id"]
        );
        assert_eq!(
            parse_vec(&["berth", "-root", "/r", "kill", "id", "-9"]),
            ["berth", "--root", "/r", "kill", "id", "-9"]
        );
        assert_eq!(
            parse_vec(&["berth", "run", "id", "--", "-bundle"]),
            ["berth", "run", "id", "--", "-bundle"]
        );
        assert_eq!(
            parse_vec(&["berth", "--debug=false", "delete", "-force=true", "x"]),
            ["berth", "delete", "--force", "x"]
        );
    }

    /// Seen while writing the go_flags fuzz target (whose property catches it): `-user` in
    /// exec's command became `--user`.
    #[test]
    fn the_command_of_exec_is_left_as_written() {
        let argv = [
            "berth",
            "-root",
            "/r",
            "exec",
            "-u",
            "0",
            "-tty",
            "c",
            "find",
            "/",
            "-user",
            "root",
            "-debug=false",
        ];
        assert_eq!(
            parse_vec(&argv),
            [
                "berth",
                "--root",
                "/r",
                "exec",
                "-u",
                "0",
                "--tty",
                "c",
                "find",
                "/",
                "-user",
                "root",
                "-debug=false"
            ]
        );
        let cli = Cli::try_parse_from(parse_vec(&argv)).unwrap();
        let Some(Command::Exec(a)) = cli.command else {
            panic!("not exec")
        };
        assert_eq!(a.command, ["find", "/", "-user", "root", "-debug=false"]);
        // A command that begins with an unknown flag is the command from there on (fuzzing).
        let argv = ["berth", "exec", "c", "--nope", "-pid-file=/p", "x"];
        assert_eq!(parse_vec(&argv), argv);
        let cli = Cli::try_parse_from(parse_vec(&argv)).unwrap();
        let Some(Command::Exec(a)) = cli.command else {
            panic!("not exec")
        };
        assert_eq!(a.command, ["--nope", "-pid-file=/p", "x"]);
        // A flag's value is a value, whatever it looks like.
        assert_eq!(
            parse_vec(&["berth", "create", "--pid-file", "-bundle", "x"]),
            ["berth", "create", "--pid-file", "-bundle", "x"]
        );
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_after_the_id_and_go_forms_parse() {
        let cli = Cli::try_parse_from([
            "berth",
            "--log-format=json",
            "create",
            "x",
            "--bundle",
            "/b",
        ])
        .unwrap();
        assert_eq!(cli.global.log_format, LogFormat::Json);
        let Some(Command::Create(a)) = cli.command else {
            panic!("not create")
        };
        assert_eq!(a.common.bundle, PathBuf::from("/b"));
        assert_eq!(a.id, "x");
    }
}
