//! linux.seccomp in real containers: actions, argument filters, ABIs, threads, the notify
//! listener, the order of installation, and whole profiles (berth's default and podman's).

mod common;

use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Env, Run};
use serde_json::{json, Value};

/// The base config with a writable /tmp and `seccomp` as its profile, running `sh -c script`.
fn run_with(env: &Env, id: &str, script: &str, seccomp: Value) -> Run {
    env.sh(id, script, |c| {
        with_tmp(c);
        c["linux"]["seccomp"] = seccomp;
    })
}

fn with_tmp(config: &mut Value) {
    config["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "destination": "/tmp", "type": "tmpfs", "source": "tmpfs" }));
}

/// Everything allowed but `rules`.
fn allow_but(rules: Value) -> Value {
    json!({ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules })
}

fn deny_mkdir(action: &str) -> Value {
    allow_but(json!([{ "names": ["mkdir", "mkdirat"], "action": action }]))
}

#[test]
fn denied_syscalls_return_the_configured_errno() {
    let env = Env::new("seccomp-errno");
    let profile = allow_but(json!([
        { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13 },
        { "names": ["unshare"], "action": "SCMP_ACT_ERRNO" },
        { "names": ["mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38 }
    ]));
    let out = run_with(
        &env,
        "e1",
        "mkdir /tmp/a; unshare -U true; mount -t tmpfs t /mnt; echo done",
        profile,
    );
    assert_eq!(out.stdout, "done\n", "{out:?}");
    assert!(out.stderr.contains("/tmp/a': Permission denied"), "{out:?}");
    assert!(
        out.stderr
            .contains("unshare: unshare(0x10000000): Operation not permitted"),
        "{out:?}"
    );
    assert!(out.stderr.contains("Function not implemented"), "{out:?}");
    env.assert_gone("e1");
}

#[test]
fn kill_actions_end_the_process_with_sigsys() {
    let env = Env::new("seccomp-kill");
    for (i, action) in [
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_TRAP",
    ]
    .iter()
    .enumerate()
    {
        let out = run_with(
            &env,
            &format!("k{i}"),
            "mkdir /tmp/a; echo status $?",
            deny_mkdir(action),
        );
        assert_eq!(out.stdout, "status 159\n", "{action}: {out:?}");
    }
    // The container's own process killed: `run` reports 128 + SIGSYS.
    let mut config = env.config(&["mkdir", "/tmp/a"]);
    with_tmp(&mut config);
    config["linux"]["seccomp"] = deny_mkdir("SCMP_ACT_KILL");
    let out = env.run("k9", &config);
    assert_eq!(out.code, 128 + 31, "{out:?}");
    env.assert_gone("k9");
}

#[test]
fn allow_log_and_trace() {
    let env = Env::new("seccomp-pass");
    for (id, default, action) in [
        ("p0", "SCMP_ACT_LOG", "SCMP_ACT_ALLOW"),
        ("p1", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"),
    ] {
        let profile = json!({ "defaultAction": default,
            "syscalls": [{ "names": ["mkdir", "mkdirat"], "action": action }] });
        let out = run_with(&env, id, "mkdir /tmp/a && echo made", profile);
        assert_eq!(out.stdout, "made\n", "{action}: {out:?}");
    }
    // No tracer attached: the kernel fails a traced syscall with ENOSYS.
    let out = run_with(&env, "p2", "mkdir /tmp/a", deny_mkdir("SCMP_ACT_TRACE"));
    assert!(out.stderr.contains("Function not implemented"), "{out:?}");
}

#[test]
fn argument_filters_allow_one_value_and_deny_another() {
    let env = Env::new("seccomp-args");
    // personality(PER_LINUX) refused, PER_LINUX32 (linux32) and the query 0xffffffff not.
    let profile = allow_but(
        json!([{ "names": ["personality"], "action": "SCMP_ACT_ERRNO",
        "args": [{ "index": 0, "value": 0, "op": "SCMP_CMP_EQ" }] }]),
    );
    let out = run_with(
        &env,
        "a1",
        "linux32 uname -m; linux64 true; echo status $?",
        profile,
    );
    assert_eq!(out.stdout, "i686\nstatus 1\n", "{out:?}");
    assert!(
        out.stderr
            .contains("personality(0x0): Operation not permitted"),
        "{out:?}"
    );
    // MASKED_EQ: unshare refused with ENOSYS when the CLONE_NEWIPC bit is set, whatever else.
    let profile = allow_but(
        json!([{ "names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
        "args": [{ "index": 0, "value": 0x08000000, "valueTwo": 0x08000000, "op": "SCMP_CMP_MASKED_EQ" }] }]),
    );
    let out = run_with(
        &env,
        "a2",
        "unshare -U true && echo user; unshare -U -i true",
        profile,
    );
    assert_eq!(out.stdout, "user\n", "{out:?}");
    assert!(
        out.stderr
            .contains("unshare(0x18000000): Function not implemented"),
        "{out:?}"
    );
}

/// The filter goes in after every set-up syscall: a profile refusing them still starts, as
/// root with no_new_privs and as a plain user without it (installed before the identity
/// switch, while CAP_SYS_ADMIN is still held).
#[test]
fn set_up_syscalls_are_not_filtered() {
    let env = Env::new("seccomp-late");
    let profile = allow_but(
        json!([{ "names": ["mount", "umount2", "pivot_root", "sethostname",
        "chdir", "fchdir", "setns", "unshare", "open_tree", "move_mount", "mount_setattr",
        "capset", "setgroups", "setresuid", "setresgid", "prctl"],
        "action": "SCMP_ACT_ERRNO" }]),
    );
    let out = run_with(
        &env,
        "l1",
        "hostname; mount -t tmpfs t /mnt || echo refused",
        profile.clone(),
    );
    assert_eq!(out.stdout, "berth\nrefused\n", "{out:?}");
    let mut profile = profile;
    // Without no_new_privs the identity switch comes after the filter: let it through.
    profile["syscalls"][0]["names"] = json!(["mount", "pivot_root", "sethostname", "unshare"]);
    let out = env.sh("l2", "id -u; grep Seccomp: /proc/self/status", |c| {
        c["process"]["noNewPrivileges"] = json!(false);
        c["process"]["user"] = json!({ "uid": 1000, "gid": 1000 });
        c["linux"]["seccomp"] = profile;
    });
    assert_eq!(out.stdout, "1000\nSeccomp:\t2\n", "{out:?}");
}

#[test]
fn exec_gets_the_container_profile() {
    let env = Env::new("seccomp-exec");
    let mut config = env.config(&["sleep", "1000"]);
    with_tmp(&mut config);
    config["linux"]["seccomp"] = deny_mkdir("SCMP_ACT_ERRNO");
    let bundle = env.write_bundle("x1", &config);
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), "x1"])
        .ok();
    let out = env.berth(&["exec", "x1", "mkdir", "/tmp/a"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("Operation not permitted"), "{out:?}");
    env.berth(&["delete", "-f", "x1"]).ok();
}

#[test]
fn bad_profiles_fail_before_anything_is_created() {
    let env = Env::new("seccomp-bad");
    let cases = [
        (
            allow_but(json!([{ "names": ["mkdir"], "action": "SCMP_ACT_ERRNO" },
                { "names": ["rmdir"], "action": "SCMP_ACT_FOO" }])),
            r#"config.json: linux.seccomp.syscalls[1].action: unknown action "SCMP_ACT_FOO""#,
        ),
        (
            allow_but(json!([{ "names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                "args": [{ "index": 9, "value": 0, "op": "SCMP_CMP_EQ" }] }])),
            "config.json: linux.seccomp.syscalls[0].args[0].index: 9 is not an argument index (0 to 5)",
        ),
        (
            deny_mkdir("SCMP_ACT_NOTIFY"),
            "config.json: linux.seccomp.listenerPath: missing",
        ),
    ];
    for (i, (profile, message)) in cases.into_iter().enumerate() {
        let id = format!("b{i}");
        let out = run_with(&env, &id, "true", profile);
        assert!(out.failed().contains(message), "{out:?}");
        env.assert_gone(&id);
    }
}

/// A static test program built from tests/helpers with gcc, in a directory to bind-mount;
/// `None` (a skip) where gcc or libc6-dev is missing — `make test` installs them.
fn helper(env: &Env, name: &str, flags: &[&str]) -> Option<PathBuf> {
    let dir = env.dir.join("helpers");
    fs::create_dir_all(&dir).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/helpers/{name}.c"));
    let built = Command::new("gcc")
        .args(["-static", "-O1", "-o"])
        .arg(dir.join(name))
        .arg(&source)
        .args(flags)
        .status();
    match built {
        Ok(s) if s.success() => Some(dir),
        other => {
            common::skip(
                "seccomp/gcc-static",
                &format!(
                    "cannot build {} with gcc -static ({other:?}): apt-get install gcc libc6-dev",
                    source.display()
                ),
            );
            None
        }
    }
}

fn with_helpers(config: &mut Value, dir: &Path) {
    config["mounts"].as_array_mut().unwrap().push(
        json!({ "destination": "/mnt", "type": "bind", "source": dir, "options": ["rbind", "ro"] }),
    );
}

#[test]
fn tsync_holds_for_threads() {
    let env = Env::new("seccomp-tsync");
    let Some(dir) = helper(&env, "threads", &["-pthread"]) else {
        return;
    };
    let mut profile = deny_mkdir("SCMP_ACT_ERRNO");
    profile["flags"] = json!(["SECCOMP_FILTER_FLAG_TSYNC"]);
    let mut config = env.config(&["/mnt/threads"]);
    with_tmp(&mut config);
    with_helpers(&mut config, &dir);
    config["linux"]["seccomp"] = profile;
    let out = env.run("t1", &config);
    assert_eq!(
        out.stdout, "thread mkdir: Operation not permitted\n",
        "{out:?}"
    );
}

#[test]
fn x86_syscalls_follow_the_profile() {
    let env = Env::new("seccomp-x86");
    let Some(dir) = helper(&env, "int80", &["-no-pie"]) else {
        return;
    };
    let run = |id: &str, architectures: Value| {
        let mut profile =
            allow_but(json!([{ "names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13 }]));
        profile["architectures"] = architectures;
        let mut config = env.config(&["/mnt/int80"]);
        with_tmp(&mut config);
        with_helpers(&mut config, &dir);
        config["linux"]["seccomp"] = profile;
        env.run(id, &config)
    };
    let listed = run(
        "i1",
        json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
    );
    if listed.stdout.starts_with("no i386 entry") {
        common::skip(
            "seccomp-x86/ia32",
            "this kernel runs no i386 code (ia32_emulation off)",
        );
        return;
    }
    assert_eq!(
        listed.stdout, "i386 mkdir: -13\nx86_64 mkdir: -13\n",
        "{listed:?}"
    );
    // Not listed: i386 syscalls get the default action (allow).
    let native = run("i2", json!(["SCMP_ARCH_X86_64"]));
    assert_eq!(
        native.stdout, "i386 mkdir: 0\nx86_64 mkdir: -13\n",
        "{native:?}"
    );
}

/// Receives the agent's message on `listener`: the ContainerProcessState and the notify fd.
fn accept_agent_message(listener: &UnixListener) -> (Value, OwnedFd) {
    let (conn, _) = listener.accept().unwrap();
    let (payload, fd) = common::receive_with_fd(&conn);
    (serde_json::from_slice(&payload).unwrap(), fd)
}

/// Answers the next notification on `fd` with `errno` (0: success); returns its syscall number.
fn answer(fd: &OwnedFd, errno: i32) -> i32 {
    // SAFETY: zeroed plain-data structs filled and read by the kernel.
    unsafe {
        let mut req: libc::seccomp_notif = std::mem::zeroed();
        assert_eq!(
            libc::ioctl(fd.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut req),
            0
        );
        let resp = libc::seccomp_notif_resp {
            id: req.id,
            val: 0,
            error: -errno,
            flags: 0,
        };
        assert_eq!(
            libc::ioctl(fd.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SEND, &resp),
            0
        );
        req.data.nr
    }
}

#[test]
fn a_notify_agent_gets_the_listener_and_answers() {
    let env = Env::new("seccomp-notify");
    let socket = env.dir.join("agent.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let agent = std::thread::spawn(move || {
        let (state, fd) = accept_agent_message(&listener);
        let nr = answer(&fd, libc::ENOSPC);
        (state, nr)
    });
    let mut profile = deny_mkdir("SCMP_ACT_NOTIFY");
    profile["listenerPath"] = json!(socket);
    profile["listenerMetadata"] = json!("answer=ENOSPC");
    let out = run_with(&env, "n1", "mkdir /tmp/a; echo status $?", profile);
    assert_eq!(out.stdout, "status 1\n", "{out:?}");
    assert!(out.stderr.contains("No space left on device"), "{out:?}");
    let (state, nr) = agent.join().unwrap();
    assert_eq!(nr as i64, libc::SYS_mkdir);
    assert_eq!(state["fds"], json!(["seccompFd"]));
    assert_eq!(state["metadata"], "answer=ENOSPC");
    assert!(state["pid"].as_i64().unwrap() > 0, "{state}");
    assert_eq!(state["state"]["id"], "n1");
    assert_eq!(state["state"]["status"], "creating");
    assert!(state["ociVersion"].is_string());

    // No agent at listenerPath: a clear error, and nothing left behind.
    let mut profile = deny_mkdir("SCMP_ACT_NOTIFY");
    profile["listenerPath"] = json!(env.dir.join("nobody.sock"));
    let out = run_with(&env, "n2", "true", profile);
    assert!(
        out.failed()
            .contains("failed to connect with seccomp agent at"),
        "{out:?}"
    );
    env.assert_gone("n2");
}

/// podman's profile (containers-common's seccomp.json) resolved as podman does for this
/// config's capabilities and an amd64 host.
fn podman_profile(caps: &[&str]) -> Option<Value> {
    const PATH: &str = "/usr/share/containers/seccomp.json";
    let Ok(text) = fs::read_to_string(PATH) else {
        common::skip(
            "seccomp-podman/profile",
            &format!("no {PATH} (apt-get install golang-github-containers-common)"),
        );
        return None;
    };
    let doc: Value = serde_json::from_str(&text).unwrap();
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    let arches = doc["archMap"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["architecture"] == "SCMP_ARCH_X86_64")
        .map(|a| {
            [
                vec![a["architecture"].as_str().unwrap().to_owned()],
                names(&a["subArchitectures"]),
            ]
            .concat()
        })
        .unwrap();
    let has = |c: &String| caps.contains(&c.as_str());
    let syscalls: Vec<Value> = doc["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            let arches = names(&s["includes"]["arches"]);
            (arches.is_empty() || arches.iter().any(|a| a == "amd64"))
                && names(&s["includes"]["caps"]).iter().all(has)
                && !names(&s["excludes"]["caps"]).iter().any(has)
        })
        .map(|s| json!({ "names": s["names"], "action": s["action"], "errnoRet": s["errnoRet"], "args": s["args"] }))
        .collect();
    Some(json!({
        "defaultAction": doc["defaultAction"], "defaultErrnoRet": doc["defaultErrnoRet"],
        "architectures": arches, "syscalls": syscalls
    }))
}

#[test]
fn podmans_default_profile_runs_a_shell() {
    let env = Env::new("seccomp-podman");
    let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    let Some(profile) = podman_profile(&caps) else {
        return;
    };
    let out = run_with(
        &env,
        "m1",
        "echo ok; ls /; cat /proc/self/status",
        profile.clone(),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("ok\nbin\n"), "{out:?}");
    assert!(out.stdout.contains("Seccomp:\t2\n"), "{out:?}");
    // The profile, made for a container without CAP_SYS_ADMIN, refuses sethostname even when
    // the capability is there; personality only takes the values it lists.
    let out = env.sh(
        "m2",
        "hostname other; linux32 uname -m; linux64 true",
        |c| {
            c["process"]["capabilities"]["effective"] = json!(["CAP_SYS_ADMIN"]);
            c["process"]["capabilities"]["permitted"] = json!(["CAP_SYS_ADMIN"]);
            c["process"]["capabilities"]["bounding"] = json!(["CAP_SYS_ADMIN"]);
            c["linux"]["seccomp"] = profile;
        },
    );
    assert_eq!(out.stdout, "i686\n", "{out:?}");
    assert!(
        out.stderr
            .contains("hostname: sethostname: Operation not permitted"),
        "{out:?}"
    );
}

#[test]
fn berths_default_profile_runs_a_shell_and_refuses_namespaces() {
    let env = Env::new("seccomp-default");
    let spec_dir = env.dir.join("spec");
    fs::create_dir_all(&spec_dir).unwrap();
    env.berth(&[
        "spec",
        "--seccomp-default",
        "--bundle",
        spec_dir.to_str().unwrap(),
    ])
    .ok();
    let spec: Value =
        serde_json::from_slice(&fs::read(spec_dir.join("config.json")).unwrap()).unwrap();
    let profile = spec["linux"]["seccomp"].clone();
    assert_eq!(profile["defaultAction"], "SCMP_ACT_ERRNO", "{spec}");
    let out = run_with(
        &env,
        "d1",
        "echo ok; ls / >/dev/null; grep Seccomp: /proc/self/status; unshare -U true; mount -t tmpfs t /mnt",
        profile,
    );
    assert_eq!(out.stdout, "ok\nSeccomp:\t2\n", "{out:?}");
    assert!(
        out.stderr
            .contains("unshare(0x10000000): Operation not permitted"),
        "{out:?}"
    );
    assert!(out.stderr.contains("mount: permission denied"), "{out:?}");
}

/// What busybox's static `echo` (and tests/helpers/raw-syscalls) needs, execve included: a
/// profile written as profiles were before Linux 5.9 — no close_range, clone3, openat2,
/// faccessat2 or rseq — with ERRNO as its default action.
fn old_style_profile(errno: Option<u32>, more: &[&str]) -> Value {
    const NEEDED: &[&str] = &[
        "execve",
        "arch_prctl",
        "set_tid_address",
        "set_robust_list",
        "prlimit64",
        "readlink",
        "getrandom",
        "brk",
        "mprotect",
        "prctl",
        "getuid",
        "newfstatat",
        "write",
        "exit_group",
    ];
    let names = [NEEDED, more].concat();
    let mut profile = json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{ "names": names, "action": "SCMP_ACT_ALLOW" }]
    });
    if let Some(errno) = errno {
        profile["defaultErrnoRet"] = json!(errno);
    }
    profile
}

/// Between the filter and the program's execve berth runs nothing the program does not need
/// itself (descriptors are marked close-on-exec before the filter): a profile listing only what
/// `echo` needs starts it, whether its default errno is runc's EPERM or its own ENXIO — by
/// `run`, by `exec` into a container under the same profile, and by create + start, where the
/// init also waits on exec.fifo (read) and tells berth so (sendmsg).
#[test]
fn old_style_errno_profiles_start_a_container() {
    let env = Env::new("seccomp-old");
    for (id, errno) in [("o1", None), ("o2", Some(6))] {
        let mut config = env.config(&["echo", "hi"]);
        config["linux"]["seccomp"] = old_style_profile(errno, &[]);
        let out = env.run(id, &config);
        assert_eq!((out.code, out.stdout.as_str()), (0, "hi\n"), "{out:?}");
        env.assert_gone(id);
    }

    let mut config = env.config(&["sleep", "100"]);
    config["linux"]["seccomp"] = old_style_profile(None, &["clock_nanosleep"]);
    let bundle = env.write_bundle("o3", &config);
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), "o3"])
        .ok();
    let out = env.berth(&["exec", "o3", "echo", "joined"]);
    assert_eq!(out.ok(), "joined\n");
    env.berth(&["delete", "--force", "o3"]).ok();
    env.assert_gone("o3");

    let mut config = env.config(&["echo", "started"]);
    config["linux"]["seccomp"] = old_style_profile(None, &["read", "sendmsg"]);
    assert_eq!(create_start_and_wait(&env, "o4", &config), "started\n");
    env.assert_gone("o4");
}

/// `create`, then `start`, of a container that stops by itself; its output (stdout and stderr,
/// which the container keeps after create returns). The container is deleted.
fn create_start_and_wait(env: &Env, id: &str, config: &Value) -> String {
    let bundle = env.write_bundle(id, config);
    let output = env.dir.join(format!("{id}.out"));
    let file = fs::File::create(&output).unwrap();
    let created = env
        .berth_cmd(&["create", "--bundle", bundle.to_str().unwrap(), id])
        .stdin(std::process::Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .status()
        .unwrap();
    assert!(
        created.success(),
        "{}",
        fs::read_to_string(&output).unwrap()
    );
    env.berth(&["start", id]).ok();
    common::eventually("the container to stop", || env.status(id) == "stopped");
    env.berth(&["delete", id]).ok();
    fs::read_to_string(&output).unwrap()
}

/// runc's -ENOSYS rule in a real container: under an old-style errno profile, syscalls newer
/// than every one it names (statx, clone3, faccessat2) get ENOSYS, so that glibc falls back; an
/// older one it leaves out (mkdir) gets the profile's errno.
#[test]
fn syscalls_newer_than_the_profile_get_enosys() {
    let env = Env::new("seccomp-enosys");
    let Some(dir) = helper(&env, "raw-syscalls", &[]) else {
        return;
    };
    let numbers = [
        libc::SYS_mkdir,
        libc::SYS_statx,
        libc::SYS_clone3,
        libc::SYS_faccessat2,
    ];
    let args: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
    for (id, errno_ret, errno) in [("e1", None, libc::EPERM), ("e2", Some(6), libc::ENXIO)] {
        let mut argv = vec!["/mnt/raw-syscalls"];
        argv.extend(args.iter().map(String::as_str));
        let mut config = env.config(&argv);
        with_helpers(&mut config, &dir);
        config["linux"]["seccomp"] = old_style_profile(errno_ret, &[]);
        let out = env.run(id, &config);
        let expected: String = numbers
            .iter()
            .zip([errno, libc::ENOSYS, libc::ENOSYS, libc::ENOSYS])
            .map(|(nr, e)| format!("{nr} -{e}\n"))
            .collect();
        assert_eq!(out.stdout, expected, "{out:?}");
        env.assert_gone(id);
    }
}

/// A startContainer hook runs in the container under its filter, as with runc: one the profile
/// kills fails `run` and `start` with runc's words ("error running startContainer hook #0",
/// "error running hook"), and the container never runs its program.
#[test]
fn a_start_hook_the_profile_kills_fails_run_and_start() {
    let env = Env::new("seccomp-hook");
    let mut config = env.config(&["echo", "not reached"]);
    config["hooks"] = json!({ "startContainer": [{ "path": "/bin/uname" }] });
    config["linux"]["seccomp"] =
        allow_but(json!([{ "names": ["uname"], "action": "SCMP_ACT_KILL" }]));
    let check = |err: &str| {
        assert!(
            err.contains("error running startContainer hook #0: error running hook")
                && err.contains("SIGSYS"),
            "{err}"
        );
    };
    let out = env.run("h1", &config);
    check(&out.failed());
    assert_eq!(out.stdout, "", "{out:?}");
    env.assert_gone("h1");

    env.create("h2", &config).ok();
    let start = env.berth(&["start", "h2"]);
    check(&start.failed());
    assert_eq!(env.status("h2"), "stopped");
    env.berth(&["delete", "h2"]).ok();
    env.assert_gone("h2");
}

/// As runc: SCMP_ACT_NOTIFY on write is refused before anything is made, and an agent that
/// cannot be reached is named with runc's words and berth's field.
#[test]
fn notify_on_write_is_refused_and_an_unreachable_agent_named() {
    let env = Env::new("seccomp-notify-refused");
    let mut profile = allow_but(json!([{ "names": ["write"], "action": "SCMP_ACT_NOTIFY" }]));
    profile["listenerPath"] = json!(env.dir.join("agent.sock"));
    let out = run_with(&env, "w1", "true", profile);
    let err = out.failed();
    assert!(
        err.contains("linux.seccomp.syscalls[0].names[0]: SCMP_ACT_NOTIFY cannot be used for the write syscall"),
        "{err}"
    );
    env.assert_gone("w1");

    let mut profile = deny_mkdir("SCMP_ACT_NOTIFY");
    profile["listenerPath"] = json!(env.dir.join("nobody.sock"));
    let out = run_with(&env, "w2", "true", profile);
    let err = out.failed();
    assert!(
        err.contains("linux.seccomp.listenerPath: failed to connect with seccomp agent"),
        "{err}"
    );
    env.assert_gone("w2");
}

/// With create + start a no_new_privs filter goes in after berth's answer to Ready: its
/// listener still reaches the agent before `create` returns, and the agent answers the program.
#[test]
fn a_created_containers_listener_reaches_the_agent() {
    let env = Env::new("seccomp-notify-create");
    let socket = env.dir.join("agent.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let agent = std::thread::spawn(move || {
        let (state, fd) = accept_agent_message(&listener);
        (state, answer(&fd, libc::ENOSPC))
    });
    let mut profile = deny_mkdir("SCMP_ACT_NOTIFY");
    profile["listenerPath"] = json!(socket);
    let mut config = env.config(&["sh", "-c", "mkdir /tmp/a; echo status $?"]);
    with_tmp(&mut config);
    config["linux"]["seccomp"] = profile;
    let output = create_start_and_wait(&env, "c1", &config);
    assert!(
        output.ends_with("No space left on device\nstatus 1\n"),
        "{output}"
    );
    let (state, nr) = agent.join().unwrap();
    assert_eq!(nr as i64, libc::SYS_mkdir);
    assert_eq!(state["state"]["status"], "creating");
    env.assert_gone("c1");
}
