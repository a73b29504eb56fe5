//! The command line as runc's clients use it: version and help, Go-style flags, signal names, log
//! files, `spec`, the default state root, the state document and `list -f json`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{capture, eventually, fixture_rootfs, Env, Run, BERTH};
use serde_json::{json, Value};

/// `berth args…` exactly as given (no `--root`), stdio through files like `Env::berth`.
fn raw(env: &Env, args: &[&str]) -> Run {
    raw_in(env, args, None)
}

fn raw_in(env: &Env, args: &[&str], cwd: Option<&Path>) -> Run {
    let mut cmd = Command::new(BERTH);
    cmd.args(args).stdin(Stdio::null());
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    capture(&mut cmd, &env.dir)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The spec version `berth --version` reports.
fn spec_version(env: &Env) -> String {
    let out = raw(env, &["--version"]);
    out.ok()
        .lines()
        .find_map(|l| l.strip_prefix("spec: "))
        .expect("a spec line")
        .to_owned()
}

/// Parses an RFC 3339 timestamp (`2026-11-25T08:00:00.123Z`, `…+01:00`) into the time it names;
/// returns it and the number of fraction digits.
fn parse_rfc3339(t: &str) -> Option<(SystemTime, usize)> {
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &t[19..];
    let mut nanos = 0u32;
    let mut digits = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = format!("{:0<9}", &frac[..digits]).parse().ok()?;
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let o = num(t.len() - 5..t.len() - 3)? * 3600 + num(t.len() - 2..t.len())? * 60;
            if rest.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset;
    let time = UNIX_EPOCH + Duration::new(u64::try_from(secs).ok()?, nanos);
    Some((time, digits))
}

/// Asserts that `t` is RFC 3339 and names a moment within a minute of now.
#[track_caller]
fn assert_recent_rfc3339(t: &str) -> usize {
    let (time, digits) = parse_rfc3339(t).unwrap_or_else(|| panic!("not RFC 3339: {t:?}"));
    let now = SystemTime::now();
    let skew = now
        .duration_since(time)
        .or_else(|_| time.duration_since(now))
        .unwrap();
    assert!(skew < Duration::from_secs(60), "{t} is {skew:?} from now");
    digits
}

#[test]
fn rfc3339_parser_self_check() {
    let (t, d) = parse_rfc3339("2026-11-25T08:00:01.710808Z").unwrap();
    assert_eq!(d, 6);
    assert_eq!(
        t.duration_since(UNIX_EPOCH).unwrap(),
        Duration::new(1_795_593_601, 710_808_000)
    );
    let (t, _) = parse_rfc3339("2000-02-29T01:00:00+01:00").unwrap();
    assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 951_782_400);
    for bad in [
        "2026-11-25 08:00:00Z",
        "2026-11-25T08:00:00",
        "2026-11-25T08:00:00.Z",
    ] {
        assert!(parse_rfc3339(bad).is_none(), "{bad}");
    }
}

/// runc's three lines, which docker (parseRuntimeVersion: "version" and "commit:") and podman
/// read; nothing more, since berth links no libseccomp.
#[test]
fn version_prints_the_berth_commit_and_spec_versions() {
    let env = Env::new("cli-version");
    let head = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_owned());
    for flag in ["--version", "-v"] {
        let out = raw(&env, &[flag]);
        let text = out.ok();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text:?}");
        assert_eq!(
            lines[0],
            format!("berth version {}", env!("CARGO_PKG_VERSION"))
        );
        let commit = lines[1].strip_prefix("commit: ").expect(lines[1]);
        match &head {
            // Built from this checkout: the commit it was built at.
            Some(head) => assert_eq!(commit, head),
            None => assert_eq!(commit, "unknown"),
        }
        let spec = lines[2].strip_prefix("spec: ").expect(lines[2]);
        let parts: Vec<&str> = spec.split('.').collect();
        assert_eq!(parts.len(), 3, "{spec}");
        assert_eq!(parts[0], "1", "{spec}");
        assert!(
            parts.iter().all(|p| p.parse::<u32>().is_ok()),
            "spec version {spec:?} is not 1.x.y"
        );
        assert_eq!(out.stderr, "");
    }
}

#[test]
fn help_exits_zero_and_unknown_words_do_not() {
    let env = Env::new("cli-help");
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let out = raw(&env, args);
        let text = out.ok();
        for cmd in [
            "create", "start", "run", "state", "list", "kill", "delete", "spec",
        ] {
            assert!(
                text.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{cmd} "))),
                "{args:?}: {cmd} missing from {text}"
            );
        }
    }
    let create = raw(&env, &["create", "--help"]);
    assert!(create.ok().contains("--console-socket"), "{create:?}");

    let flag = raw(&env, &["--no-such-flag", "list"]);
    assert_ne!(flag.code, 0, "{flag:?}");
    assert!(flag.stderr.contains("--no-such-flag"), "{flag:?}");
    let sub_flag = raw(&env, &["list", "--no-such-flag"]);
    assert_ne!(sub_flag.code, 0, "{sub_flag:?}");
    assert!(sub_flag.stderr.contains("--no-such-flag"), "{sub_flag:?}");
    let sub = raw(&env, &["frobnicate"]);
    assert_ne!(sub.code, 0, "{sub:?}");
    assert!(sub.stderr.contains("frobnicate"), "{sub:?}");
    assert!(!env.root.exists());
}

#[test]
fn go_style_single_dash_flags() {
    let env = Env::new("cli-go-flags");
    let root = s(&env.root).to_owned();
    let bundle = env.write_bundle("g1", &env.config(&["sleep", "1000"]));
    let pid_file = env.dir.join("g1.pid");
    raw(
        &env,
        &[
            "-root",
            &root,
            "create",
            "-bundle",
            s(&bundle),
            "-pid-file",
            s(&pid_file),
            "g1",
        ],
    )
    .ok();
    let state = env.state("g1");
    assert_eq!(state["status"], "created");
    assert_eq!(state["bundle"], s(&bundle));
    assert_eq!(
        fs::read_to_string(&pid_file).unwrap(),
        state["pid"].to_string()
    );

    let log = env.dir.join("go.log");
    let failed = raw(
        &env,
        &[
            "-root",
            &root,
            "-log",
            s(&log),
            "-log-format",
            "json",
            "state",
            "nosuch",
        ],
    );
    assert!(
        failed.failed_plain().contains("does not exist"),
        "{failed:?}"
    );
    let line: Value = serde_json::from_str(fs::read_to_string(&log).unwrap().trim()).unwrap();
    assert_eq!(line["level"], "error");

    raw(&env, &["-root", &root, "kill", "-all", "g1", "KILL"]).ok();
    eventually("g1 to stop", || env.status("g1") == "stopped");
    raw(&env, &["-root", &root, "delete", "-force", "g1"]).ok();
    env.assert_gone("g1");
}

#[test]
fn flag_equals_value_flag_space_value_and_options_after_the_id() {
    let env = Env::new("cli-flag-forms");
    let root_eq = format!("--root={}", env.root.display());
    let bundle = env.write_bundle("f1", &env.config(&["sleep", "1000"]));
    let pid_file = env.dir.join("f1.pid");
    let bundle_eq = format!("--bundle={}", bundle.display());
    let pid_eq = format!("--pid-file={}", pid_file.display());
    raw(&env, &[&root_eq, "create", &bundle_eq, &pid_eq, "f1"]).ok();
    assert_eq!(env.status("f1"), "created");
    assert_eq!(
        fs::read_to_string(&pid_file).unwrap(),
        env.state("f1")["pid"].to_string()
    );

    // The id first, the options after it (runc accepts this; test harnesses rely on it).
    let bundle2 = env.write_bundle("f2", &env.config(&["sleep", "1000"]));
    let pid2 = env.dir.join("f2.pid");
    raw(
        &env,
        &[
            "--root",
            s(&env.root),
            "create",
            "f2",
            "--bundle",
            s(&bundle2),
            "--pid-file",
            s(&pid2),
        ],
    )
    .ok();
    let state = env.state("f2");
    assert_eq!(state["bundle"], s(&bundle2));
    assert_eq!(fs::read_to_string(&pid2).unwrap(), state["pid"].to_string());
    raw(&env, &["--root", s(&env.root), "delete", "f2", "--force"]).ok();
    env.assert_gone("f2");
    env.berth(&["delete", "--force", "f1"]).ok();
    env.assert_gone("f1");
}

#[test]
fn go_boolean_flags_take_an_explicit_value() {
    // Go's flag package (and so runc) accepts `--flag=true|false` for every boolean flag.
    let env = Env::new("cli-bool-values");
    env.berth(&["--debug=false", "list", "-q"]).ok();
    env.create("b1", &env.config(&["sleep", "1000"])).ok();
    env.berth(&["start", "b1"]).ok();
    let refused = env.berth(&["delete", "--force=false", "b1"]);
    assert!(refused.failed().contains("not stopped"), "{refused:?}");
    assert_eq!(env.status("b1"), "running");
    env.berth(&["delete", "-force=true", "b1"]).ok();
    env.assert_gone("b1");
}

/// A running container whose shell writes the name of every signal it catches to /mnt/log
/// (a host directory bound over the fixture's empty /mnt).
fn signal_logger(env: &Env, id: &str) -> PathBuf {
    let out = env.dir.join(format!("{id}-out"));
    fs::create_dir_all(&out).unwrap();
    let mut traps = String::new();
    for sig in ["TERM", "USR1", "USR2", "HUP", "INT"] {
        traps.push_str(&format!("trap 'echo {sig} >>/mnt/log' {sig}; "));
    }
    let script = format!("{traps}echo ready >/mnt/ready; while :; do sleep 0.02; done");
    let mut cfg = env.config(&["sh", "-c", &script]);
    cfg["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/mnt", "type": "bind", "source": out, "options": ["rbind", "rw"]
    }));
    env.create(id, &cfg).ok();
    env.berth(&["start", id]).ok();
    eventually("the shell to set its traps", || out.join("ready").exists());
    out.join("log")
}

#[test]
fn kill_accepts_signal_names_and_numbers() {
    let env = Env::new("cli-kill-names");
    let log = signal_logger(&env, "k1");
    let mut expected = String::new();
    for (arg, name) in [
        ("15", "TERM"),
        ("USR1", "USR1"),
        ("SIGUSR2", "USR2"),
        ("hup", "HUP"),
        ("sigint", "INT"),
        ("10", "USR1"),
    ] {
        env.berth(&["kill", "k1", arg]).ok();
        expected.push_str(name);
        expected.push('\n');
        eventually(&format!("kill {arg} to arrive as {name}"), || {
            fs::read_to_string(&log).unwrap_or_default() == expected
        });
    }
    // No signal given: SIGTERM.
    env.berth(&["kill", "k1"]).ok();
    expected.push_str("TERM\n");
    eventually("the default signal to arrive", || {
        fs::read_to_string(&log).unwrap_or_default() == expected
    });

    for bad in ["FOO", "SIGFOO", "-1", "99", "9x"] {
        let out = env.berth(&["kill", "k1", bad]);
        let err = out.failed();
        assert!(
            err.contains(bad),
            "error for {bad:?} does not name it: {err}"
        );
    }
    assert_eq!(env.status("k1"), "running");
    assert_eq!(fs::read_to_string(&log).unwrap(), expected);

    // SIGKILL by every name: each ends a (created) container.
    for (i, arg) in ["KILL", "SIGKILL", "kill", "9"].into_iter().enumerate() {
        let id = format!("k{}", i + 2);
        env.create(&id, &env.config(&["sleep", "1000"])).ok();
        env.berth(&["kill", &id, arg]).ok();
        eventually(&format!("kill {arg} to stop {id}"), || {
            env.status(&id) == "stopped"
        });
        env.berth(&["delete", &id]).ok();
        env.assert_gone(&id);
    }
    env.berth(&["kill", "k1", "9"]).ok();
    eventually("k1 to stop", || env.status("k1") == "stopped");
    env.berth(&["delete", "k1"]).ok();
    env.assert_gone("k1");
}

/// The one line of a log file; asserts there is exactly one.
#[track_caller]
fn only_line(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap();
    assert!(text.ends_with('\n'), "{text:?}");
    assert_eq!(text.lines().count(), 1, "{text:?}");
    text.trim_end().to_owned()
}

#[test]
fn json_log_lines_are_logrus_shaped() {
    let env = Env::new("cli-log-json");
    let log = env.dir.join("log.json");
    let out = env.berth(&["--log", s(&log), "--log-format", "json", "state", "x"]);
    let err = out.failed_plain();
    assert!(err.contains("container \"x\" does not exist"), "{err}");
    let line = only_line(&log);
    let v: Value = serde_json::from_str(&line).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["level", "msg", "time"], "{line}");
    assert_eq!(v["level"], "error");
    assert!(
        v["msg"]
            .as_str()
            .unwrap()
            .contains("container \"x\" does not exist"),
        "{line}"
    );
    assert_recent_rfc3339(v["time"].as_str().unwrap());

    // An error from inside the container's set-up reaches the log too, appended (containerd
    // keeps one log.json per bundle and shows the last error line).
    let bundle = env.write_bundle("l1", &env.config(&["nonexistent-program"]));
    let out = env.berth(&[
        "--log",
        s(&log),
        "--log-format=json",
        "create",
        "--bundle",
        s(&bundle),
        "l1",
    ]);
    let err = out.failed_plain().to_owned();
    assert!(err.contains("nonexistent-program"), "{err}");
    let text = fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let last: Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(last["level"], "error");
    let msg = last["msg"].as_str().unwrap();
    assert!(msg.contains("nonexistent-program"), "{msg}");
    assert!(msg.contains("$PATH"), "{msg}");
    assert_eq!(err, msg, "stderr and log differ");
    env.assert_gone("l1");
}

#[test]
fn usage_errors_reach_the_log_file() {
    // containerd shows its user only what log.json says: a flag berth lacks must show up there.
    let env = Env::new("cli-log-usage");
    let log = env.dir.join("log.json");
    let out = env.berth(&[
        "--log",
        s(&log),
        "--log-format",
        "json",
        "create",
        "--bogus-flag",
        "x",
    ]);
    assert_ne!(out.code, 0, "{out:?}");
    let text = fs::read_to_string(&log).unwrap_or_default();
    let last: Value = serde_json::from_str(text.lines().last().unwrap_or("null")).unwrap();
    assert_eq!(last["level"], "error", "{text:?}");
    assert!(
        last["msg"].as_str().unwrap_or("").contains("bogus-flag"),
        "{text:?}"
    );
}

#[test]
fn text_log_lines_are_logrus_shaped() {
    let env = Env::new("cli-log-text");
    let log = env.dir.join("log.txt");
    let out = env.berth(&["--log", s(&log), "--log-format", "text", "kill", "y"]);
    let err = out.failed_plain();
    assert!(err.contains("container \"y\" does not exist"), "{err}");
    let line = only_line(&log);
    let rest = line.strip_prefix("time=\"").expect(&line);
    let (time, rest) = rest.split_once('"').unwrap();
    assert_recent_rfc3339(time);
    assert_eq!(
        rest, " level=error msg=\"container \\\"y\\\" does not exist\"",
        "{line}"
    );
    // The default format is text.
    let log2 = env.dir.join("log2.txt");
    env.berth(&["--log", s(&log2), "start", "y"]).failed_plain();
    assert!(
        only_line(&log2).contains(" level=error msg=\"container \\\"y\\\" does not exist\""),
        "{}",
        only_line(&log2)
    );
}

#[test]
fn errors_on_stderr_are_logrus_lines_as_runcs() {
    // Without --log, runc's errors are logrus lines on stderr; harnesses grep them for "error".
    let env = Env::new("cli-stderr");
    let out = env.berth(&["state", "nosuch"]);
    let line = out.stderr.trim_end();
    let rest = line.strip_prefix("time=\"").expect(line);
    let (time, rest) = rest.split_once('"').unwrap();
    assert_recent_rfc3339(time);
    assert_eq!(
        rest,
        " level=error msg=\"container \\\"nosuch\\\" does not exist\""
    );
    assert_eq!(out.failed(), "container \"nosuch\" does not exist");
    // Warnings are level=warning lines.
    let out = env.berth(&["update", "--kernel-memory", "1", "nosuch"]);
    assert_ne!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{out:?}");
    assert!(
        lines[0].contains(" level=warning msg=\"--kernel-memory and --kernel-memory-tcp"),
        "{out:?}"
    );
    assert!(lines[1].contains(" level=error msg="), "{out:?}");

    // --log-format without --log: the lines on stderr in that format.
    let out = env.berth(&["--log-format", "json", "state", "nosuch"]);
    let v: Value = serde_json::from_str(out.failed_plain()).unwrap();
    assert_eq!(v["level"], "error", "{v}");
    assert_eq!(v["msg"], "container \"nosuch\" does not exist", "{v}");

    // A log file that cannot be opened, a usage error: the same form.
    let out = env.berth(&["--log", "/nonexistent/dir/log", "state", "nosuch"]);
    assert!(out.failed().contains("/nonexistent/dir/log"), "{out:?}");
    let out = env.berth(&["kill"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.failed().contains("<ID>"), "{out:?}");
    assert!(!env.root.exists());
}

#[test]
fn an_error_after_start_reaches_the_containers_stderr_as_an_error_line() {
    // The init fails at its exec, after `create` has returned: the container's own stderr
    // tells, in the form berth's own errors take there (and `start` fails with it).
    let env = Env::new("cli-late-error");
    let rootfs = env.copy_rootfs();
    fs::write(rootfs.join("script"), "#!/nonexistent/interpreter\n").unwrap();
    fs::set_permissions(
        rootfs.join("script"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let mut cfg = env.config(&["/script"]);
    cfg["root"]["path"] = json!(rootfs);
    let bundle = env.write_bundle("e1", &cfg);
    let container_stderr = env.dir.join("e1.stderr");
    let created = env
        .berth_cmd(&["create", "--bundle", s(&bundle), "e1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&container_stderr).unwrap())
        .status()
        .unwrap();
    assert!(created.success());
    // `start` reads the init's last error from exec.fifo and fails with it, too.
    let start = env.berth(&["start", "e1"]);
    assert!(
        start
            .failed()
            .contains("exec /script: no such file or directory"),
        "{start:?}"
    );
    eventually("e1 to stop", || env.status("e1") == "stopped");
    let text = fs::read_to_string(&container_stderr).unwrap();
    assert_eq!(text.lines().count(), 1, "{text:?}");
    let msg = common::error_message(text.trim_end()).expect(&text);
    assert!(
        msg.contains("exec /script: no such file or directory"),
        "{msg}"
    );
    env.berth(&["delete", "e1"]).ok();
    env.assert_gone("e1");
}

#[test]
fn debug_lines_name_the_bundle_and_the_pids() {
    let env = Env::new("cli-debug");
    let bundle = env.write_bundle("d1", &env.config(&["sleep", "1000"]));
    let debug_lines = |run: &Run| -> Vec<String> {
        run.stderr
            .lines()
            .map(|l| {
                let rest = l.strip_prefix("time=\"").expect(l);
                let (time, rest) = rest.split_once('"').unwrap();
                assert_recent_rfc3339(time);
                let msg = rest.strip_prefix(" level=debug msg=").expect(l);
                serde_json::from_str::<String>(msg).expect(l)
            })
            .collect()
    };
    // Without --log: logrus text lines on stderr.
    let run = env.berth(&["--debug", "run", "-d", "--bundle", s(&bundle), "d1"]);
    run.ok();
    let init = env.state("d1")["pid"].as_i64().unwrap();
    assert_eq!(
        debug_lines(&run),
        [
            format!("container d1: bundle {}", s(&bundle)),
            format!("container d1: init is pid {init}"),
        ]
    );
    let pid_file = env.dir.join("exec.pid");
    let exec = env.berth(&["--debug", "exec", "--pid-file", s(&pid_file), "d1", "true"]);
    exec.ok();
    let pid = fs::read_to_string(&pid_file).unwrap();
    assert_eq!(
        debug_lines(&exec),
        [
            format!("container d1: exec'd process is pid {pid}"),
            format!("process {pid} exited with status 0"),
        ]
    );

    // A signal berth forwards to the process it runs in the foreground.
    let stderr = env.dir.join("forward.stderr");
    fs::remove_file(&pid_file).unwrap();
    let mut child = env
        .berth_cmd(&[
            "--debug",
            "exec",
            "--pid-file",
            s(&pid_file),
            "d1",
            "sleep",
            "100",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    eventually("the exec'd sleep", || pid_file.exists());
    let pid = fs::read_to_string(&pid_file).unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(143));
    let forwarded = Run {
        code: 143,
        stdout: String::new(),
        stderr: fs::read_to_string(&stderr).unwrap(),
    };
    assert_eq!(
        debug_lines(&forwarded)[1..],
        [
            "sending signal to process SIGTERM".to_owned(),
            format!("process {pid} exited with status 143"),
        ]
    );

    // With --log the lines go to the file (JSON for containerd) and stderr stays empty; without
    // --debug there are none.
    let log = env.dir.join("debug.json");
    let exec = env.berth(&[
        "--debug",
        "--log",
        s(&log),
        "--log-format",
        "json",
        "exec",
        "d1",
        "true",
    ]);
    exec.ok();
    assert_eq!(exec.stderr, "");
    let text = fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines.iter().all(|l| l["level"] == "debug"), "{text}");
    assert!(
        lines[0]["msg"]
            .as_str()
            .unwrap()
            .starts_with("container d1: exec'd process is pid "),
        "{text}"
    );
    let quiet = env.berth(&["exec", "d1", "true"]);
    quiet.ok();
    assert_eq!(quiet.stderr, "");
    env.berth(&["delete", "--force", "d1"]).ok();
    env.assert_gone("d1");
}

#[test]
fn help_for_each_command_and_no_help_topic_for_unknown_ones() {
    let env = Env::new("cli-help-topics");
    for cmd in [
        "create", "start", "run", "state", "list", "kill", "delete", "spec", "exec", "features",
        "pause", "resume", "update", "events", "ps",
    ] {
        for args in [["help", cmd], [cmd, "-h"], [cmd, "--help"]] {
            let out = raw(&env, &args);
            let text = out.ok();
            assert!(
                text.lines()
                    .any(|l| l.starts_with(&format!("Usage: berth {cmd}"))),
                "{args:?}: {text}"
            );
            assert_eq!(out.stderr, "", "{args:?}");
        }
    }
    // runc's (urfave/cli's) answer for a command it does not have, and its exit status 3.
    for args in [&["help", "foo"][..], &["foo"], &["foo", "-h"]] {
        let out = raw(&env, args);
        assert_eq!(out.code, 3, "{args:?}: {out:?}");
        assert_eq!(out.failed(), "No help topic for 'foo'", "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}");
    }
    assert!(!env.root.exists());
}

#[test]
fn spec_writes_a_runc_like_config() {
    let env = Env::new("cli-spec");
    let dir = env.dir.join("spec");
    fs::create_dir_all(&dir).unwrap();
    let out = raw_in(&env, &["spec"], Some(&dir));
    assert_eq!(out.ok(), "");
    let path = dir.join("config.json");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("{\n\t\"ociVersion\": \""), "{text}");
    assert!(text.ends_with("}\n"), "{text}");
    assert!(
        text.lines().all(|l| !l.starts_with(' ')),
        "not indented with tabs"
    );
    assert!(text.contains("\n\t\t\"terminal\": true,\n"), "{text}");
    let c: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(c["ociVersion"], spec_version(&env));
    assert_eq!(c["hostname"], "berth");
    assert_eq!(c["process"]["terminal"], true);
    assert_eq!(c["process"]["args"], json!(["sh"]));
    assert_eq!(c["process"]["cwd"], "/");
    assert_eq!(c["process"]["user"], json!({ "uid": 0, "gid": 0 }));
    assert_eq!(
        c["process"]["env"],
        json!([
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm"
        ])
    );
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    for set in ["bounding", "effective", "permitted"] {
        assert_eq!(c["process"]["capabilities"][set], caps, "{set}");
    }
    assert_eq!(
        c["process"]["rlimits"],
        json!([{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }])
    );
    assert_eq!(c["process"]["noNewPrivileges"], true);
    assert_eq!(c["root"], json!({ "path": "rootfs", "readonly": true }));
    let dests: Vec<&str> = c["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["destination"].as_str().unwrap())
        .collect();
    assert_eq!(
        dests,
        [
            "/proc",
            "/dev",
            "/dev/pts",
            "/dev/shm",
            "/dev/mqueue",
            "/sys",
            "/sys/fs/cgroup"
        ]
    );
    let ns: Vec<&str> = c["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(ns, ["pid", "network", "ipc", "uts", "mount"]);
    assert!(c["linux"].get("uidMappings").is_none());
    let masked = c["linux"]["maskedPaths"].as_array().unwrap();
    assert!(masked.contains(&json!("/proc/kcore")), "{masked:?}");
    assert!(masked.contains(&json!("/sys/firmware")), "{masked:?}");
    let ro = c["linux"]["readonlyPaths"].as_array().unwrap();
    assert!(ro.contains(&json!("/proc/sys")), "{ro:?}");

    // Never overwrites.
    fs::write(&path, "{\"mine\": true}\n").unwrap();
    let again = raw_in(&env, &["spec"], Some(&dir));
    let err = again.failed();
    assert!(
        err.contains("config.json") && err.contains("exists"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "{\"mine\": true}\n");
}

#[test]
fn spec_bundle_flag_chooses_the_directory() {
    let env = Env::new("cli-spec-b");
    let cwd = env.dir.join("cwd");
    let target = env.dir.join("target");
    fs::create_dir_all(&cwd).unwrap();
    fs::create_dir_all(&target).unwrap();
    raw_in(&env, &["spec", "-b", s(&target)], Some(&cwd)).ok();
    assert!(target.join("config.json").is_file());
    assert!(!cwd.join("config.json").exists());
    let other = env.dir.join("other");
    fs::create_dir_all(&other).unwrap();
    raw_in(&env, &["spec", "--bundle", s(&other)], Some(&cwd)).ok();
    assert_eq!(
        fs::read(other.join("config.json")).unwrap(),
        fs::read(target.join("config.json")).unwrap()
    );
    // A directory that does not exist is an error that names it.
    let missing = env.dir.join("missing");
    let out = raw_in(&env, &["spec", "-b", s(&missing)], Some(&cwd));
    assert!(out.failed().contains(s(&missing)), "{out:?}");
}

#[test]
fn spec_rootless_maps_the_caller_to_root() {
    let env = Env::new("cli-spec-rootless");
    let dir = env.dir.join("rootless");
    fs::create_dir_all(&dir).unwrap();
    raw_in(&env, &["spec", "--rootless"], Some(&dir)).ok();
    let c: Value = serde_json::from_str(&fs::read_to_string(dir.join("config.json")).unwrap())
        .expect("config.json parses");
    let (uid, gid) = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    assert_eq!(
        c["linux"]["uidMappings"],
        json!([{ "containerID": 0, "hostID": uid, "size": 1 }])
    );
    assert_eq!(
        c["linux"]["gidMappings"],
        json!([{ "containerID": 0, "hostID": gid, "size": 1 }])
    );
    let ns: Vec<&str> = c["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(ns, ["pid", "ipc", "uts", "mount", "user"]);
    assert!(c["linux"].get("resources").is_none());
    let mounts = c["mounts"].as_array().unwrap();
    let sys = mounts.iter().find(|m| m["destination"] == "/sys").unwrap();
    assert_eq!(
        *sys,
        json!({ "destination": "/sys", "type": "none", "source": "/sys",
                "options": ["rbind", "nosuid", "noexec", "nodev", "ro"] })
    );
    let pts = mounts
        .iter()
        .find(|m| m["destination"] == "/dev/pts")
        .unwrap();
    assert!(
        !pts["options"].as_array().unwrap().contains(&json!("gid=5")),
        "{pts}"
    );
}

/// Every null in `v`, by JSON path.
fn nulls(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Null => out.push(path.to_owned()),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                nulls(x, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                nulls(x, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn spec_output_has_no_null_fields() {
    let env = Env::new("cli-spec-nulls");
    for args in [&["spec"][..], &["spec", "--rootless"]] {
        let dir = env.dir.join(args.join("_"));
        fs::create_dir_all(&dir).unwrap();
        raw_in(&env, args, Some(&dir)).ok();
        let c: Value =
            serde_json::from_str(&fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
        let mut found = Vec::new();
        nulls(&c, "", &mut found);
        assert!(found.is_empty(), "{args:?} writes nulls at {found:?}");
    }
}

/// Deletes a container of the default root (/run/berth) when the test ends, however it ends.
struct DefaultRootCleanup(String);

impl Drop for DefaultRootCleanup {
    fn drop(&mut self) {
        let _ = Command::new(BERTH)
            .args(["delete", "--force", &self.0])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[test]
fn the_default_root_is_run_berth() {
    let env = Env::new("cli-default-root");
    let id = format!("berth-test-default-root-{}", std::process::id());
    let bundle = env.write_bundle(&id, &env.config(&["sleep", "1000"]));
    let dir = Path::new("/run/berth").join(&id);
    assert!(!dir.exists(), "{} exists before the test", dir.display());
    let _cleanup = DefaultRootCleanup(id.clone());
    raw(&env, &["create", "--bundle", s(&bundle), &id]).ok();
    assert!(dir.join("state.json").is_file(), "no {}", dir.display());
    assert!(!env.root.exists());
    raw(&env, &["start", &id]).ok();
    let state: Value = serde_json::from_str(raw(&env, &["state", &id]).ok()).unwrap();
    assert_eq!(state["id"], id.as_str());
    assert_eq!(state["status"], "running");
    let listed = raw(&env, &["list", "-q"]);
    assert!(listed.ok().lines().any(|l| l == id), "{listed:?}");
    raw(&env, &["delete", "--force", &id]).ok();
    assert!(!dir.exists(), "{} left behind", dir.display());
    for d in env.cgroup_dirs(&id) {
        assert!(!d.exists(), "cgroup {} left behind", d.display());
    }
}

#[test]
fn state_has_exactly_runcs_fields() {
    let env = Env::new("cli-state");
    let annotations = json!({
        "org.example.key": "value with spaces",
        "io.berth/empty": "",
        "unicode": "grüße → ✓",
        "quote": "say \"hi\"\n"
    });
    let mut cfg = env.config(&["sleep", "1000"]);
    cfg["annotations"] = annotations.clone();
    env.create("s1", &cfg).ok();
    let v = env.state("s1");
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "ociVersion",
            "id",
            "pid",
            "status",
            "bundle",
            "rootfs",
            "created",
            "annotations",
            "owner"
        ]
    );
    assert_eq!(v["ociVersion"], spec_version(&env));
    assert_eq!(v["id"], "s1");
    let pid = v["pid"].as_i64().unwrap();
    assert!(pid > 1, "{v}");
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    assert_eq!(v["status"], "created");
    assert_eq!(v["bundle"], s(&env.bundle("s1")));
    assert_eq!(v["rootfs"], s(&fixture_rootfs()));
    let created = v["created"].as_str().unwrap();
    let digits = assert_recent_rfc3339(created);
    assert!(digits > 0, "no nanoseconds in {created}");
    assert!(created.ends_with('Z'), "{created}");
    assert_eq!(v["annotations"], annotations);
    assert_eq!(v["owner"], "root");

    // Without annotations there is no annotations key; created stays what it was.
    env.create("s2", &env.config(&["sleep", "1000"])).ok();
    let v2 = env.state("s2");
    let keys: Vec<&str> = v2.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "ociVersion",
            "id",
            "pid",
            "status",
            "bundle",
            "rootfs",
            "created",
            "owner"
        ]
    );
    env.berth(&["start", "s1"]).ok();
    let after = env.state("s1");
    assert_eq!(after["status"], "running");
    assert_eq!(after["created"], created);
    assert_eq!(after["pid"], pid);
    env.berth(&["kill", "s1", "KILL"]).ok();
    eventually("s1 to stop", || env.status("s1") == "stopped");
    let stopped = env.state("s1");
    assert_eq!(stopped["pid"], 0);
    assert_eq!(stopped["created"], created);
    env.berth(&["delete", "s1"]).ok();
    env.berth(&["delete", "s2"]).ok();
    env.assert_gone("s1");
    env.assert_gone("s2");
}

#[test]
fn list_json_is_an_array_of_states() {
    let env = Env::new("cli-list-json");
    let empty: Value = serde_json::from_str(env.berth(&["list", "-f", "json"]).ok()).unwrap();
    assert_eq!(empty, json!([]));
    env.create("lb", &env.config(&["sleep", "1000"])).ok();
    let mut cfg = env.config(&["sleep", "1000"]);
    cfg["annotations"] = json!({ "a": "b" });
    env.create("la", &cfg).ok();
    env.berth(&["start", "lb"]).ok();
    for args in [&["list", "-f", "json"][..], &["list", "--format=json"]] {
        let v: Value = serde_json::from_str(env.berth(args).ok()).unwrap();
        let arr = v.as_array().unwrap();
        assert_eq!(arr.len(), 2, "{v}");
        assert_eq!(arr[0], env.state("la"));
        assert_eq!(arr[1], env.state("lb"));
        assert_eq!(arr[1]["status"], "running");
    }
    env.berth(&["delete", "--force", "la"]).ok();
    env.berth(&["delete", "--force", "lb"]).ok();
    env.assert_gone("la");
    env.assert_gone("lb");
}

#[test]
fn delete_force_of_an_unknown_id_succeeds() {
    let env = Env::new("cli-delete-force");
    let out = env.berth(&["delete", "--force", "never-created"]);
    assert_eq!(out.ok(), "");
    assert_eq!(out.stderr, "");
    let out = env.berth(&["delete", "-f", "never-created"]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn kill_all_of_a_stopped_container_succeeds() {
    let env = Env::new("cli-kill-all-stopped");
    env.create("ka", &env.config(&["true"])).ok();
    env.berth(&["start", "ka"]).ok();
    eventually("ka to stop", || env.status("ka") == "stopped");
    env.berth(&["kill", "--all", "ka", "KILL"]).ok();
    env.berth(&["kill", "-a", "ka"]).ok();
    env.berth(&["kill", "--all", "ka", "9"]).ok();
    let single = env.berth(&["kill", "ka", "KILL"]);
    assert!(single.failed().contains("not running"), "{single:?}");
    env.berth(&["delete", "ka"]).ok();
    env.assert_gone("ka");
}

/// podman takes `checkpoint --help` exiting 0 as "checkpoint is supported": only where a criu
/// answers (tests/checkpoint.rs checks the commands).
#[test]
fn checkpoint_help_says_whether_criu_is_there() {
    let env = Env::new("cli-checkpoint");
    for cmd in ["checkpoint", "restore"] {
        let without = capture(
            env.berth_cmd(&[cmd, "--help"]).env("PATH", "/nonexistent"),
            &env.dir,
        );
        assert_eq!(without.code, 1, "{without:?}");
        assert!(without.stdout.contains("Usage:"), "{without:?}");
        assert!(
            without.failed().contains("no criu binary found in PATH"),
            "{without:?}"
        );
    }
    if capture(Command::new("criu").arg("--version"), &env.dir).code == 0 {
        let with = raw(&env, &["checkpoint", "--help"]);
        assert_eq!(with.code, 0, "{with:?}");
    }
}

#[test]
fn features_name_what_config_json_may_use() {
    let env = Env::new("cli-features");
    let f: Value = serde_json::from_str(env.berth(&["features"]).ok()).unwrap();
    assert_eq!(f["ociVersionMin"], "1.0.0");
    assert_eq!(f["ociVersionMax"], spec_version(&env));
    assert_eq!(
        f["hooks"],
        json!([
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop"
        ])
    );
    let linux = &f["linux"];
    assert!(linux["seccomp"]["actions"]
        .as_array()
        .unwrap()
        .contains(&json!("SCMP_ACT_NOTIFY")));
    // runtime-spec 1.3's memory policy and network devices; what berth refuses is disabled.
    assert_eq!(
        linux["memoryPolicy"]["modes"],
        json!([
            "MPOL_DEFAULT",
            "MPOL_BIND",
            "MPOL_INTERLEAVE",
            "MPOL_WEIGHTED_INTERLEAVE",
            "MPOL_PREFERRED",
            "MPOL_PREFERRED_MANY",
            "MPOL_LOCAL"
        ])
    );
    assert_eq!(linux["memoryPolicy"]["flags"].as_array().unwrap().len(), 3);
    assert_eq!(linux["netDevices"]["enabled"], true);
    for off in ["intelRdt", "selinux"] {
        assert_eq!(linux[off]["enabled"], false, "{off}");
    }
    assert_eq!(linux["apparmor"]["enabled"], true);
}
