//! The container lifecycle through the CLI: create, start, state, list, kill, delete and run.

mod common;

use std::fs;

use common::{eventually, Env};
use serde_json::Value;

#[test]
fn create_start_kill_delete() {
    let env = Env::new("lifecycle");
    let cfg = env.config(&["sleep", "1000"]);
    let pid_file = env.dir.join("init.pid");
    let bundle = env.write_bundle("c1", &cfg);
    env.berth(&[
        "create",
        "--bundle",
        bundle.to_str().unwrap(),
        "--pid-file",
        pid_file.to_str().unwrap(),
        "c1",
    ])
    .ok();
    let state = env.state("c1");
    assert_eq!(state["status"], "created");
    assert_eq!(state["id"], "c1");
    assert_eq!(state["bundle"], bundle.to_str().unwrap());
    let pid = state["pid"].as_i64().unwrap();
    assert_eq!(fs::read_to_string(&pid_file).unwrap(), pid.to_string());
    // Created: the init still runs berth's code, waiting for start.
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains("sleep"));

    env.berth(&["start", "c1"]).ok();
    assert_eq!(env.status("c1"), "running");
    eventually("sleep to run", || {
        fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with("sleep"))
    });
    let again = env.berth(&["start", "c1"]);
    assert!(again.failed().contains("already running"), "{again:?}");

    let list = env.berth(&["list"]).ok().to_owned();
    assert!(list.starts_with("ID"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.starts_with("c1") && l.contains("running")),
        "{list}"
    );
    let json: Value = serde_json::from_str(env.berth(&["list", "-f", "json"]).ok()).unwrap();
    assert_eq!(json[0]["id"], "c1");
    assert_eq!(env.berth(&["list", "-q"]).ok(), "c1\n");

    let refused = env.berth(&["delete", "c1"]);
    assert!(refused.failed().contains("not stopped"), "{refused:?}");

    env.berth(&["kill", "c1", "KILL"]).ok();
    eventually("the container to stop", || env.status("c1") == "stopped");
    assert_eq!(env.state("c1")["pid"], 0);
    let not_running = env.berth(&["kill", "c1"]);
    assert!(
        not_running.failed().contains("not running"),
        "{not_running:?}"
    );
    env.berth(&["kill", "--all", "c1", "KILL"]).ok();
    env.berth(&["delete", "c1"]).ok();
    env.assert_gone("c1");
    let gone = env.berth(&["state", "c1"]);
    assert!(gone.failed().contains("does not exist"), "{gone:?}");
    env.berth(&["delete", "--force", "c1"]).ok();
}

#[test]
fn kill_terminates_a_created_container() {
    let env = Env::new("kill-created");
    env.create("c2", &env.config(&["sleep", "1000"])).ok();
    env.berth(&["kill", "c2", "15"]).ok();
    eventually("the created container to stop", || {
        env.status("c2") == "stopped"
    });
    env.berth(&["delete", "c2"]).ok();
    env.assert_gone("c2");
}

#[test]
fn delete_of_a_created_container_kills_it() {
    let env = Env::new("delete-created");
    env.create("c3", &env.config(&["sleep", "1000"])).ok();
    let pid = env.state("c3")["pid"].as_i64().unwrap();
    env.berth(&["delete", "c3"]).ok();
    env.assert_gone("c3");
    eventually("the init to be gone", || {
        fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.contains(") Z"))
    });
}

#[test]
fn delete_force_stops_a_running_container() {
    let env = Env::new("delete-force");
    env.create("c4", &env.config(&["sleep", "1000"])).ok();
    env.berth(&["start", "c4"]).ok();
    env.berth(&["delete", "--force", "c4"]).ok();
    env.assert_gone("c4");
}

#[test]
fn run_returns_the_exit_status() {
    let env = Env::new("exit-status");
    let out = env.sh("r1", "echo out; echo err >&2; exit 42", |_| {});
    assert_eq!(out.code, 42, "{out:?}");
    assert_eq!(out.stdout, "out\n");
    assert_eq!(out.stderr, "err\n");
    env.assert_gone("r1");
}

#[test]
fn run_reports_death_by_signal_as_128_plus_n() {
    let env = Env::new("exit-signal");
    // Without a pid namespace of its own, the shell is not an init that ignores its signals.
    let out = env.sh("r2", "kill -USR1 $$; sleep 5", |c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n["type"] != "pid");
    });
    assert_eq!(out.code, 128 + 10, "{out:?}");
    env.assert_gone("r2");
}

#[test]
fn run_forwards_signals_to_the_container() {
    let env = Env::new("forward");
    let bundle = env.write_bundle(
        "r3",
        &env.config(&[
            "sh",
            "-c",
            "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done",
        ]),
    );
    let mut child = env
        .berth_cmd(&["run", "--bundle", bundle.to_str().unwrap(), "r3"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 6];
    std::io::Read::read_exact(&mut stdout, &mut buf).unwrap();
    assert_eq!(&buf, b"ready\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "got TERM\n");
    assert_eq!(status.code(), Some(7));
    env.assert_gone("r3");
}

#[test]
fn run_keep_and_detach() {
    let env = Env::new("keep-detach");
    let out = env.sh("k1", "exit 3", |_| {});
    assert_eq!(out.code, 3);
    let bundle = env.write_bundle("k2", &env.config(&["true"]));
    env.berth(&["run", "--keep", "--bundle", bundle.to_str().unwrap(), "k2"])
        .ok();
    assert_eq!(env.status("k2"), "stopped");
    env.berth(&["delete", "k2"]).ok();
    env.assert_gone("k2");

    let bundle = env.write_bundle("k3", &env.config(&["sleep", "1000"]));
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), "k3"])
        .ok();
    assert_eq!(env.status("k3"), "running");
    env.berth(&["delete", "-f", "k3"]).ok();
    env.assert_gone("k3");
}

#[test]
fn ids_must_be_unique() {
    let env = Env::new("dup-id");
    env.create("d1", &env.config(&["sleep", "1000"])).ok();
    let bundle = env.bundle("d1");
    let dup = env.berth(&["create", "--bundle", bundle.to_str().unwrap(), "d1"]);
    assert!(dup.failed().contains("exists"), "{dup:?}");
    assert_eq!(env.status("d1"), "created");
    env.berth(&["delete", "d1"]).ok();
    env.assert_gone("d1");
}

#[test]
fn go_style_flags_and_options_after_the_id() {
    let env = Env::new("go-flags");
    let bundle = env.write_bundle("g1", &env.config(&["true"]));
    env.berth(&[
        "run",
        "g1",
        "-bundle",
        bundle.to_str().unwrap(),
        "-no-subreaper",
    ])
    .ok();
    env.assert_gone("g1");
    let b = format!("--bundle={}", bundle.display());
    env.berth(&["run", &b, "g1"]).ok();
    env.assert_gone("g1");
}
