//! The six OCI hooks through the CLI: each kind runs once, at its point of the lifecycle, in its
//! namespaces, with the state JSON on stdin and exactly its own args and env. Every hook here
//! writes what it saw to a report file that the test reads.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{eventually, Env, Run};
use serde_json::{json, Value};

const KINDS: [&str; 6] = [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

const HOOK_PATH: &str = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

/// The PATH berth runs with where a test gives it an environment of its own.
const HOST_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// The hook body (one line, for dash on the host and busybox sh in the container). Arguments:
/// kind, output directory, then paths whose existence it reports. It records its stdin, its own
/// argv and environment (of the shell process itself: `cd -P /proc/self` finds it in whatever
/// pid namespace /proc belongs to), its namespaces and hostname, and the command line of the
/// state's pid (printf, not echo: dash's echo expands backslashes); then appends its kind to `order` and touches `<kind>.done`.
const REPORT: &str = r#"kind=$1; out=$2; shift 2; f=$out/$kind.$$; cat > "$f.stdin"; cd -P /proc/self; me=$PWD; cd /; exists=""; for p in "$@"; do if [ -e "$p" ]; then exists="${exists}1"; else exists="${exists}0"; fi; done; pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$f.stdin"); { printf '%s\n' "argv=$(tr '\0' '|' < $me/cmdline)"; printf '%s\n' "env=$(tr '\0' '|' < $me/environ)"; printf '%s\n' "mnt=$(readlink /proc/self/ns/mnt)"; printf '%s\n' "uts=$(readlink /proc/self/ns/uts)"; printf '%s\n' "pidns=$(readlink /proc/self/ns/pid)"; printf '%s\n' "hostname=$(hostname)"; printf '%s\n' "exists=$exists"; printf '%s\n' "target=$(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)"; } > "$f.tmp"; mv "$f.tmp" "$f.report"; echo "$kind" >> "$out/order"; touch "$out/$kind.done""#;

/// A hook running REPORT with /bin/sh. Its argv[0] is `hook-<kind>`, except in the container
/// where /bin/sh is busybox, which picks its applet by argv[0].
fn reporting_hook(kind: &str, out: &Path, checks: &[PathBuf]) -> Value {
    let argv0 = if kind == "startContainer" {
        "sh".to_owned()
    } else {
        format!("hook-{kind}")
    };
    let mut args = vec![
        argv0,
        "-c".to_owned(),
        REPORT.to_owned(),
        "hook".to_owned(),
        kind.to_owned(),
        out.to_str().unwrap().to_owned(),
    ];
    args.extend(checks.iter().map(|p| p.to_str().unwrap().to_owned()));
    json!({
        "path": "/bin/sh",
        "args": args,
        "env": [HOOK_PATH, format!("HOOK_KIND={kind}")]
    })
}

/// What a hook's report says, and the state it read on stdin.
#[derive(Debug)]
struct Report {
    fields: BTreeMap<String, String>,
    state: Value,
}

impl Report {
    fn get(&self, key: &str) -> &str {
        self.fields
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in {self:?}"))
    }
}

/// The reports of every run of `kind` in `dir`.
fn reports(dir: &Path, kind: &str) -> Vec<Report> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".report") else {
            continue;
        };
        if stem.rsplit_once('.').map(|(k, _)| k) != Some(kind) {
            continue;
        }
        let text = fs::read_to_string(dir.join(&name)).unwrap();
        let fields = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let stdin = fs::read_to_string(dir.join(format!("{stem}.stdin"))).unwrap();
        let state = serde_json::from_str(&stdin)
            .unwrap_or_else(|e| panic!("{kind} hook got invalid state JSON {stdin:?}: {e}"));
        out.push(Report { fields, state });
    }
    out
}

/// The one report of `kind`.
#[track_caller]
fn report(dir: &Path, kind: &str) -> Report {
    let mut all = reports(dir, kind);
    assert_eq!(all.len(), 1, "{kind} ran {} times", all.len());
    all.pop().unwrap()
}

fn order(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("order"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn ns_link(pid: impl std::fmt::Display, ns: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn host_name() -> String {
    nix::unistd::gethostname()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// The environment a hook saw, as a sorted list: berth starts hooks with Rust's Command, which
/// orders variables by name (runc keeps the config's order); the set itself must be exact.
fn env_of(r: &Report) -> Vec<String> {
    sorted_env(r.get("env"))
}

fn sorted_env(joined: &str) -> Vec<String> {
    let mut vars: Vec<String> = joined
        .split('|')
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    vars.sort();
    vars
}

/// The env of a reporting hook of `kind`, sorted.
fn hook_env(kind: &str) -> Vec<String> {
    sorted_env(&format!("{HOOK_PATH}|HOOK_KIND={kind}|"))
}

/// The argv a reporting hook of `kind` must have seen.
fn expected_argv(hook: &Value) -> String {
    hook["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{}|", a.as_str().unwrap()))
        .collect()
}

/// The base config running `args` with hostname "hooked", an annotation, the host directory
/// `out` bind-mounted on /mnt, and a reporting hook of every kind.
fn hooked_config(env: &Env, id: &str, args: &[&str], out: &Path) -> Value {
    let mut cfg = env.config(args);
    cfg["hostname"] = json!("hooked");
    cfg["annotations"] = json!({ "org.example.hooks": "yes" });
    cfg["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/mnt", "type": "bind", "source": out, "options": ["rbind", "rw"]
    }));
    // Host-side hooks also report whether the state directory and the cgroup exist.
    let checks = [env.root.join(id), env.cgroup_dirs(id)[0].clone()];
    let mut hooks = json!({});
    for kind in KINDS {
        hooks[kind] = json!([match kind {
            "startContainer" => reporting_hook(kind, Path::new("/mnt"), &[]),
            _ => reporting_hook(kind, out, &checks),
        }]);
    }
    cfg["hooks"] = hooks;
    cfg
}

fn hook_dir(env: &Env) -> PathBuf {
    let dir = env.dir.join("hooks");
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The state document every hook gets.
fn state_doc(env: &Env, id: &str, oci_version: &Value, status: &str, pid: Option<i64>) -> Value {
    let mut doc = json!({
        "ociVersion": oci_version,
        "id": id,
        "status": status,
        "bundle": env.bundle(id),
        "annotations": { "org.example.hooks": "yes" }
    });
    if let Some(pid) = pid {
        doc["pid"] = json!(pid);
    }
    doc
}

/// Checks the hooks that run in berth's (the host's) namespaces.
#[track_caller]
fn assert_host_side(r: &Report, hook: &Value, kind: &str, exists: &str) {
    assert_eq!(r.get("argv"), expected_argv(hook), "{kind} argv");
    assert_eq!(env_of(r), hook_env(kind), "{kind} env");
    for ns in ["mnt", "uts"] {
        assert_eq!(r.get(ns), ns_link("self", ns), "{kind} {ns} namespace");
    }
    assert_eq!(
        r.get("pidns"),
        ns_link("self", "pid"),
        "{kind} pid namespace"
    );
    assert_eq!(r.get("hostname"), host_name(), "{kind} hostname");
    assert_eq!(r.get("exists"), exists, "{kind}: state dir and cgroup");
}

#[test]
fn every_hook_runs_once_in_order_through_create_start_delete() {
    let env = Env::new("hooks-lifecycle");
    let out = hook_dir(&env);
    let cfg = hooked_config(&env, "h1", &["sleep", "1000"], &out);
    let hook = |kind: &str| cfg["hooks"][kind][0].clone();
    env.create("h1", &cfg).ok();
    assert_eq!(
        order(&out),
        ["prestart", "createRuntime", "createContainer"],
        "after create"
    );
    let state = env.state("h1");
    let version = &state["ociVersion"];
    let init = state["pid"].as_i64().unwrap();

    for kind in ["prestart", "createRuntime"] {
        let r = report(&out, kind);
        assert_eq!(
            r.state,
            state_doc(&env, "h1", version, "creating", Some(init)),
            "{kind}"
        );
        assert_host_side(&r, &hook(kind), kind, "11");
    }
    // createContainer: in the container's namespaces, before pivot_root (host paths), with the
    // container's own view of the init's pid.
    let r = report(&out, "createContainer");
    assert_eq!(r.state, state_doc(&env, "h1", version, "creating", Some(1)));
    assert_eq!(r.get("argv"), expected_argv(&hook("createContainer")));
    assert_eq!(env_of(&r), hook_env("createContainer"));
    for ns in ["mnt", "uts", "pid"] {
        assert_eq!(r.get(ns_key(ns)), ns_link(init, ns), "createContainer {ns}");
        assert_ne!(
            r.get(ns_key(ns)),
            ns_link("self", ns),
            "createContainer {ns}"
        );
    }
    assert_eq!(r.get("exists"), "11", "host paths before pivot_root");

    env.berth(&["start", "h1"]).ok();
    assert_eq!(
        order(&out),
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart"
        ],
        "after start"
    );
    // startContainer: inside the container after pivot_root, right before the program's exec.
    let r = report(&out, "startContainer");
    assert_eq!(r.state, state_doc(&env, "h1", version, "created", Some(1)));
    assert_eq!(r.get("argv"), expected_argv(&hook("startContainer")));
    assert_eq!(env_of(&r), hook_env("startContainer"));
    assert_eq!(r.get("hostname"), "hooked");
    for ns in ["mnt", "uts", "pid"] {
        assert_eq!(r.get(ns_key(ns)), ns_link(init, ns), "startContainer {ns}");
    }
    // poststart: after the program was executed.
    let r = report(&out, "poststart");
    assert_eq!(
        r.state,
        state_doc(&env, "h1", version, "running", Some(init))
    );
    assert_host_side(&r, &hook("poststart"), "poststart", "11");
    assert_eq!(r.get("target"), "sleep 1000 ");

    env.berth(&["kill", "h1", "KILL"]).ok();
    eventually("the container to stop", || env.status("h1") == "stopped");
    assert_eq!(order(&out).len(), 5, "a hook ran on stop");
    env.berth(&["delete", "h1"]).ok();
    env.assert_gone("h1");
    assert_eq!(order(&out)[5..], ["poststop"]);
    // poststop: after the container is gone; a stopped container has no pid (runc omits it).
    let r = report(&out, "poststop");
    assert_eq!(r.state, state_doc(&env, "h1", version, "stopped", None));
    assert_host_side(&r, &hook("poststop"), "poststop", "00");
    for kind in KINDS {
        assert_eq!(reports(&out, kind).len(), 1, "{kind}");
    }
}

fn ns_key(ns: &str) -> &str {
    if ns == "pid" {
        "pidns"
    } else {
        ns
    }
}

#[test]
fn every_hook_runs_once_in_order_through_run() {
    let env = Env::new("hooks-run");
    let out = hook_dir(&env);
    // The program ends once poststart has reported, so that the report sees it running.
    let program = "while [ ! -e /mnt/poststart.done ]; do sleep 0.02; done; echo main done";
    let cfg = hooked_config(&env, "r1", &["sh", "-c", program], &out);
    let res = env.run("r1", &cfg);
    assert_eq!(res.code, 0, "{res:?}");
    assert_eq!(res.stdout, "main done\n");
    assert_eq!(res.stderr, "");
    env.assert_gone("r1");
    assert_eq!(order(&out), KINDS);
    let init = report(&out, "createRuntime").state["pid"].as_i64().unwrap();
    let version = report(&out, "prestart").state["ociVersion"].clone();
    let expect = [
        ("prestart", "creating", Some(init)),
        ("createRuntime", "creating", Some(init)),
        ("createContainer", "creating", Some(1)),
        ("startContainer", "created", Some(1)),
        ("poststart", "running", Some(init)),
        ("poststop", "stopped", None),
    ];
    for (kind, status, pid) in expect {
        let r = report(&out, kind);
        assert_eq!(
            r.state,
            state_doc(&env, "r1", &version, status, pid),
            "{kind}"
        );
        assert_eq!(
            r.get("argv"),
            expected_argv(&cfg["hooks"][kind][0]),
            "{kind}"
        );
        assert_eq!(env_of(&r), hook_env(kind), "{kind}");
    }
    assert_eq!(
        report(&out, "poststart").get("target"),
        format!("sh -c {program} ")
    );
    assert_eq!(report(&out, "startContainer").get("hostname"), "hooked");
    assert_eq!(report(&out, "poststop").get("exists"), "00");
    assert_eq!(report(&out, "prestart").get("exists"), "11");
}

#[test]
fn hooks_get_only_their_args_and_env_and_run_in_listed_order() {
    let env = Env::new("hooks-args");
    let out = hook_dir(&env);
    // A script run by path: no args means argv is just the path; no env means berth's own, an
    // empty one an empty one.
    let script = env.dir.join("record");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             n=$(ls {out} | wc -l)\n\
             {{ echo \"$0\"; echo \"$#:$*\"; tr '\\0' '|' < /proc/$$/environ; echo; }} > {out}/$n.record\n",
            out = out.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut cfg = env.config(&["true"]);
    cfg["hooks"] = json!({
        "prestart": [
            { "path": script },
            { "path": script, "args": ["ignored-by-the-shebang", "first arg", "second"],
              "env": ["ONLY=this", "AND=that"] },
            { "path": script, "env": [] }
        ]
    });
    let bundle = env.write_bundle("a1", &cfg);
    let mut cmd = env.berth_cmd(&["run", "--bundle", bundle.to_str().unwrap(), "a1"]);
    cmd.env_clear()
        .env("PATH", HOST_PATH)
        .env("CALLER", "berth's");
    let res = common::capture(cmd.stdin(std::process::Stdio::null()), &env.dir);
    assert_eq!(res.code, 0, "{res:?}");
    env.assert_gone("a1");
    let read = |n: usize| fs::read_to_string(out.join(format!("{n}.record"))).unwrap();
    let first = read(0);
    let lines: Vec<&str> = first.lines().collect();
    assert_eq!(lines[..2], [script.to_str().unwrap(), "0:"], "{first}");
    let berths = sorted_env(&format!("PATH={HOST_PATH}|CALLER=berth's"));
    assert_eq!(sorted_env(lines[2]), berths, "{first}");
    assert_eq!(read(2), format!("{}\n0:\n\n", script.display()));
    let second = read(1);
    let lines: Vec<&str> = second.lines().collect();
    assert_eq!(
        lines[..2],
        [script.to_str().unwrap(), "2:first arg second"],
        "{second}"
    );
    assert_eq!(sorted_env(lines[2]), ["AND=that", "ONLY=this"], "{second}");
    assert_eq!(lines.len(), 3, "{second}");
    assert_eq!(fs::read_dir(&out).unwrap().count(), 3);
}

#[test]
fn a_hook_past_its_timeout_is_killed_and_create_fails() {
    let env = Env::new("hooks-timeout");
    let pid_file = env.dir.join("hook.pid");
    let mut cfg = env.config(&["sleep", "1000"]);
    // What a create costs on this machine without the hook (seconds in an emulated VM).
    let began = Instant::now();
    env.create("t0", &cfg).ok();
    let create = began.elapsed();
    env.berth(&["delete", "--force", "t0"]).ok();
    cfg["hooks"] = json!({
        "createRuntime": [{
            "path": "/bin/sh",
            "args": ["sh", "-c", format!("echo $$ > {}; exec sleep 60", pid_file.display())],
            "timeout": 1
        }]
    });
    let began = Instant::now();
    let res = env.create("t1", &cfg);
    let took = began.elapsed();
    let err = res.failed();
    // Killed at its timeout, far from the 60 s it would sleep.
    assert!(
        took < Duration::from_secs(2) + 2 * create,
        "create took {took:?} with a 1 s hook timeout (and {create:?} without the hook)"
    );
    assert!(took >= Duration::from_secs(1), "create took {took:?}");
    assert!(
        err.contains("createRuntime") && err.contains("timed out after 1s"),
        "{err}"
    );
    env.assert_gone("t1");
    let pid: i32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the hook (pid {pid}) is still there"
    );
}

/// A hook that writes to stderr and exits 1.
fn failing_hook(msg: &str) -> Value {
    json!({
        "path": "/bin/sh",
        "args": ["sh", "-c", format!("echo {msg} >&2; exit 1")]
    })
}

#[test]
fn a_failing_create_hook_fails_create_and_leaves_nothing() {
    let env = Env::new("hooks-fail-create");
    for (n, kind) in ["prestart", "createRuntime", "createContainer"]
        .into_iter()
        .enumerate()
    {
        let id = format!("f{n}");
        let mut cfg = env.config(&["sleep", "1000"]);
        cfg["hooks"] = json!({ kind: [failing_hook("no network for you")] });
        let res = env.create(&id, &cfg);
        let err = res.failed();
        assert!(
            err.contains(kind) && err.contains("no network for you"),
            "{kind}: {err}"
        );
        env.assert_gone(&id);
        let res = env.run(&id, &cfg);
        assert!(res.failed().contains(kind), "{res:?}");
        env.assert_gone(&id);
    }
}

/// Two hooks of `kind`: the first fails, the second reports into `out`.
fn failing_then_reporting(env: &Env, kind: &str, out: &Path) -> Value {
    let mut cfg = env.config(&["sleep", "1000"]);
    cfg["hooks"] = json!({
        kind: [failing_hook(&format!("{kind} broke")), reporting_hook(kind, out, &[])]
    });
    cfg
}

#[test]
fn a_failing_poststart_hook_is_logged_and_start_succeeds() {
    let env = Env::new("hooks-fail-poststart");
    let out = hook_dir(&env);
    let cfg = failing_then_reporting(&env, "poststart", &out);
    env.create("p1", &cfg).ok();
    let start: Run = env.berth(&["start", "p1"]);
    assert_eq!(start.code, 0, "{start:?}");
    let warning = start.stderr.trim_end();
    assert_eq!(warning.lines().count(), 1, "{warning}");
    assert!(
        warning.contains("poststart") && warning.contains("poststart broke"),
        "{warning}"
    );
    assert_eq!(env.status("p1"), "running");
    // The remaining hooks still run (runtime-spec: as if the hook had succeeded).
    assert_eq!(order(&out), ["poststart"]);

    // With --log the warning goes to the log file, as JSON for containerd.
    let log = env.dir.join("log.json");
    let cfg = failing_then_reporting(&env, "poststart", &out);
    env.create("p2", &cfg).ok();
    let start = env.berth(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "start",
        "p2",
    ]);
    assert_eq!(start.code, 0, "{start:?}");
    let line: Value = serde_json::from_str(fs::read_to_string(&log).unwrap().trim()).unwrap();
    assert_eq!(line["level"], "warning");
    assert!(
        line["msg"].as_str().unwrap().contains("poststart broke"),
        "{line}"
    );
    env.berth(&["delete", "--force", "p1"]).ok();
    env.berth(&["delete", "--force", "p2"]).ok();
    env.assert_gone("p1");
    env.assert_gone("p2");
}

#[test]
fn a_failing_poststop_hook_does_not_stop_delete() {
    let env = Env::new("hooks-fail-poststop");
    let out = hook_dir(&env);
    let cfg = failing_then_reporting(&env, "poststop", &out);
    env.create("s1", &cfg).ok();
    env.berth(&["start", "s1"]).ok();
    let del = env.berth(&["delete", "--force", "s1"]);
    assert_eq!(del.code, 0, "{del:?}");
    assert!(del.stderr.contains("poststop broke"), "{del:?}");
    env.assert_gone("s1");
    assert_eq!(order(&out), ["poststop"]);
    assert_eq!(report(&out, "poststop").state["status"], "stopped");
}

#[test]
fn poststart_runs_after_the_program_even_behind_a_slow_start_container_hook() {
    let env = Env::new("hooks-slow-start");
    let out = hook_dir(&env);
    let mut cfg = env.config(&["sleep", "1000"]);
    cfg["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/mnt", "type": "bind", "source": out, "options": ["rbind", "rw"]
    }));
    cfg["hooks"] = json!({
        "startContainer": [{
            "path": "/bin/sh",
            "args": ["sh", "-c", "sleep 0.5; echo startContainer >> /mnt/order"]
        }],
        "poststart": [reporting_hook("poststart", &out, &[])]
    });
    env.create("w1", &cfg).ok();
    let pid = env.state("w1")["pid"].as_i64().unwrap();
    env.berth(&["start", "w1"]).ok();
    // runtime-spec: poststart runs after the program was executed, before `start` returns.
    assert_eq!(order(&out), ["startContainer", "poststart"]);
    assert_eq!(report(&out, "poststart").get("target"), "sleep 1000 ");
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert_eq!(cmdline, b"sleep\x001000\x00");
    env.berth(&["delete", "--force", "w1"]).ok();
    env.assert_gone("w1");
}

/// A hook without `env` that writes its working directory and environment to `<out>/<kind>`.
fn where_and_what_hook(kind: &str, out: &Path) -> Value {
    let script =
        r#"c=$(pwd -P); cd -P /proc/self; { echo "$c"; tr '\0' '|' < environ; } > "$2/$1""#;
    json!({
        "path": "/bin/sh",
        "args": ["sh", "-c", script, "sh", kind, out]
    })
}

/// The working directory and the (sorted) environment a hook of `kind` wrote.
fn where_and_what(out: &Path, kind: &str) -> (PathBuf, Vec<String>) {
    let text = fs::read_to_string(out.join(kind)).unwrap_or_else(|e| panic!("{kind}: {e}"));
    let (cwd, environ) = text.split_once('\n').unwrap();
    (PathBuf::from(cwd), sorted_env(environ))
}

/// `berth ARGS` run from `dir` with only PATH and STEP=`step` in its environment.
fn berth_from(env: &Env, dir: &Path, step: &str, args: &[&str]) -> Run {
    fs::create_dir_all(dir).unwrap();
    let mut cmd = env.berth_cmd(args);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", HOST_PATH)
        .env("STEP", step)
        .stdin(std::process::Stdio::null());
    common::capture(&mut cmd, &env.dir)
}

#[test]
fn hooks_without_env_inherit_and_run_where_runcs_do() {
    let env = Env::new("hooks-inherit");
    let out = hook_dir(&env);
    let mut cfg = env.config(&["sleep", "1000"]);
    cfg["process"]["env"] = json!(["PATH=/usr/bin:/bin", "ONE=two", "FOO=bar"]);
    cfg["process"]["cwd"] = json!("/tmp");
    cfg["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/mnt", "type": "bind", "source": out, "options": ["rbind", "rw"]
    }));
    let mut hooks = json!({});
    for kind in KINDS {
        let dir = if kind == "startContainer" {
            Path::new("/mnt")
        } else {
            &out
        };
        hooks[kind] = json!([where_and_what_hook(kind, dir)]);
    }
    cfg["hooks"] = hooks;
    let bundle = env.write_bundle("i1", &cfg);
    let from = |step: &str| env.dir.join(format!("from-{step}"));
    let caller_env = |step: &str| sorted_env(&format!("PATH={HOST_PATH}|STEP={step}"));

    // Each command from a directory of its own; create's relative --pid-file is relative to it.
    let b = bundle.to_str().unwrap();
    let args = ["create", "--bundle", b, "--pid-file", "init.pid", "i1"];
    berth_from(&env, &from("create"), "create", &args).ok();
    let pid = fs::read_to_string(from("create").join("init.pid")).unwrap();
    assert_eq!(pid, env.state("i1")["pid"].to_string());
    berth_from(&env, &from("start"), "start", &["start", "i1"]).ok();
    berth_from(
        &env,
        &from("delete"),
        "delete",
        &["delete", "--force", "i1"],
    )
    .ok();
    env.assert_gone("i1");

    // On the host: runc's own directory and environment. create moves into the bundle (runc's
    // setupSpec); start and delete stay where they were started.
    let bundle = fs::canonicalize(&bundle).unwrap();
    for (kind, cwd, step) in [
        ("prestart", bundle.clone(), "create"),
        ("createRuntime", bundle.clone(), "create"),
        ("poststart", from("start"), "start"),
        ("poststop", from("delete"), "delete"),
    ] {
        let cwd = fs::canonicalize(cwd).unwrap();
        assert_eq!(
            where_and_what(&out, kind),
            (cwd, caller_env(step)),
            "{kind}"
        );
    }
    // createContainer: in the rootfs (runc's prepareRootfs moves there), with the environment
    // runc's init has cleared by then.
    let rootfs = fs::canonicalize(common::fixture_rootfs()).unwrap();
    assert_eq!(where_and_what(&out, "createContainer"), (rootfs, vec![]));
    // startContainer: in process.cwd, with the program's environment, HOME included.
    let program_env = sorted_env("PATH=/usr/bin:/bin|ONE=two|FOO=bar|HOME=/root");
    assert_eq!(
        where_and_what(&out, "startContainer"),
        (PathBuf::from("/tmp"), program_env)
    );

    // run: everything on the host happens in the bundle.
    for kind in KINDS {
        fs::remove_file(out.join(kind)).unwrap();
    }
    let res = berth_from(
        &env,
        &from("run"),
        "run",
        &["run", "--bundle", b, "-d", "i2"],
    );
    res.ok();
    berth_from(&env, &from("run"), "run", &["delete", "--force", "i2"]).ok();
    env.assert_gone("i2");
    for kind in ["prestart", "createRuntime", "poststart"] {
        assert_eq!(
            where_and_what(&out, kind),
            (bundle.clone(), caller_env("run")),
            "{kind}"
        );
    }
}
