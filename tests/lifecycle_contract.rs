//! kill, delete, ps and create as engines code against them (runc's words and exit codes), and
//! what a crash, a race or a tampered state must not leave behind.

mod common;

use std::fs;
use std::path::Path;
use std::process::Stdio;

use common::Env;
use serde_json::{json, Value};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_tampered_state_cannot_aim_kill_or_delete_elsewhere() {
    let env = Env::new("contract-tampered");
    env.create("t1", &env.config(&["sleep", "1000"])).ok();
    // A decoy: a plain directory tree with a cgroup.procs naming a process of the test's own.
    let decoy = env.dir.join("decoy");
    let mut victim = std::process::Command::new("sleep")
        .arg("1000")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    fs::create_dir_all(decoy.join("t1/keep")).unwrap();
    fs::write(decoy.join("t1/cgroup.procs"), format!("{}\n", victim.id())).unwrap();
    fs::write(decoy.join("t1/freezer.state"), "THAWED\n").unwrap();
    let state_file = env.root.join("t1/state.json");
    let original = fs::read_to_string(&state_file).unwrap();
    let mut tampered: Value = serde_json::from_str(&original).unwrap();
    for dir in tampered["cgroup"]["dirs"].as_array_mut().unwrap() {
        dir["mountpoint"] = json!(decoy);
        dir["path"] = json!("/t1");
    }
    fs::write(&state_file, tampered.to_string()).unwrap();

    for args in [
        &["kill", "--all", "t1", "KILL"][..],
        &["delete", "--force", "t1"],
        &["delete", "t1"],
        &["pause", "t1"],
    ] {
        let out = env.berth(args);
        let err = out.failed();
        assert!(
            err.contains("state.json") && err.contains(s(&decoy)),
            "{args:?}: the error names state.json and the path: {err}"
        );
    }
    assert!(
        victim.try_wait().unwrap().is_none(),
        "kill --all signalled a process listed in a plain file"
    );
    assert!(
        decoy.join("t1/keep").is_dir(),
        "delete removed the decoy tree"
    );

    // The root of a real hierarchy is refused too: kill --all would reach every process (ps, which
    // only reads, asks).
    let mut root_cgroup: Value = serde_json::from_str(&original).unwrap();
    for dir in root_cgroup["cgroup"]["dirs"].as_array_mut().unwrap() {
        dir["path"] = json!("/");
    }
    fs::write(&state_file, root_cgroup.to_string()).unwrap();
    let out = env.berth(&["ps", "t1"]);
    assert!(out.failed().contains("state.json"), "{out:?}");

    fs::write(&state_file, original).unwrap();
    env.berth(&["delete", "--force", "t1"]).ok();
    env.assert_gone("t1");
    let _ = victim.kill();
    let _ = victim.wait();
}
