//! Skips that cannot go unnoticed. A test that cannot check something on this host calls
//! `skip(key, why)` and carries on without that check (or returns). Outside CI that prints a
//! SKIP line, even when cargo captures the test's output; under CI (`CI` set, and not "false"
//! or "0") it fails the test unless `key` is listed in tests/skips-allowed.txt with the reason
//! this kind of host cannot have what the check needs. What a machine can be given (a package,
//! a loop device) is given by the Makefile instead, and its skip is not listed.

use std::io::Write;

const ALLOWED: &str = include_str!("../skips-allowed.txt");

#[track_caller]
pub fn skip(key: &str, why: &str) {
    let line = match (allowed(key), under_ci()) {
        (Some(reason), _) => format!("SKIP {key}: {why} (allowed: {reason})\n"),
        (None, false) => format!("SKIP {key}: {why} (a failure under CI)\n"),
        (None, true) => panic!(
            "SKIP {key}: {why}\nUnder CI a skip is a failure: give the host what the check \
             needs (the Makefile installs packages), or list {key} in tests/skips-allowed.txt \
             with the reason this kind of host cannot have it."
        ),
    };
    // Straight to fd 2: libtest captures print!/eprint! of passing tests, not this.
    let _ = std::io::stderr().write_all(line.as_bytes());
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "false" | "0"))
}

/// The reason tests/skips-allowed.txt gives for `key`; every entry must give one.
fn allowed(key: &str) -> Option<&'static str> {
    let mut found = None;
    for line in ALLOWED.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let reason = reason.trim();
        assert!(
            !reason.is_empty(),
            "tests/skips-allowed.txt: {k} has no reason"
        );
        if k == key {
            found = Some(reason);
        }
    }
    found
}
