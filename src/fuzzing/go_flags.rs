//! The Go-flag normaliser (`cli::normalize_go_flags`) and clap's parse of what it makes. Go's
//! flag forms only respell flags: what a command line gives as a value or an operand reaches the
//! command as it was written.

use std::ffi::OsString;

use clap::parser::ValueSource;
use clap::{ArgMatches, Command, CommandFactory, FromArgMatches};

use crate::cli::{normalize_go_flags, Cli};

/// `data`: berth's arguments after argv[0], one a line.
pub fn go_flags(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let args: Vec<OsString> = std::iter::once("berth")
        .chain(text.split('\n'))
        .map(OsString::from)
        .collect();
    let cmd = Cli::command();
    let out = normalize_go_flags(&cmd, args.clone());
    assert!(out.len() <= args.len(), "{args:?} became {out:?}");
    assert_eq!(out[0], args[0]);
    // What follows `--` is checked below, as operands clap takes (a `--` may also be a value).
    assert_eq!(
        normalize_go_flags(&cmd, out.clone()),
        out,
        "normalising twice changes {out:?}"
    );
    let Ok(matches) = cmd.clone().try_get_matches_from(&out) else {
        return;
    };
    if Cli::from_arg_matches(&matches).is_ok() {
        given_as_written(&cmd, &matches, &args);
    }
}

/// Every value clap took from the command line was written so: an operand is an argument of
/// `input` as it stands, an option's value an argument or what follows `=` in one.
fn given_as_written(cmd: &Command, m: &ArgMatches, input: &[OsString]) {
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        // A switch's "value" is clap's own `true`.
        if !arg.get_action().takes_values() || m.value_source(id) != Some(ValueSource::CommandLine)
        {
            continue;
        }
        let Ok(Some(values)) = m.try_get_raw(id) else {
            continue;
        };
        for value in values {
            let value = value.to_string_lossy();
            let attached = arg.get_short().map(|c| format!("{c}{value}"));
            let written = input.iter().any(|a| {
                let a = a.to_string_lossy();
                // `--name=value`, `-name=value`, `-n=value`, or clap's `-nvalue` (after other
                // short switches: `-tnvalue`)
                a == value
                    || (!arg.is_positional()
                        && (a.split_once('=').is_some_and(|(_, t)| t == value)
                            || (a.starts_with('-')
                                && !a.starts_with("--")
                                && attached.as_deref().is_some_and(|s| a.ends_with(s)))))
            });
            assert!(
                written,
                "{id} got {value:?}, which the command line {input:?} does not hold"
            );
        }
    }
    if let Some((name, sub)) = m.subcommand() {
        let sub_cmd = cmd
            .find_subcommand(name)
            .expect("a parsed subcommand exists");
        given_as_written(sub_cmd, sub, input);
    }
}
