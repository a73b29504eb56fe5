//! `berth exec` into running containers, through the CLI: the new process must land in every
//! namespace and the cgroup of the container, with the identity, limits, environment and
//! terminal it asks for, and berth must report its exit status, forward signals and leak nothing.

mod common;

use std::fs::{self, File};
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{eventually, Env, Run};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

/// The base config with a private tmpfs on /tmp, running `script` as the init.
fn config_with_tmp(env: &Env, script: &str) -> Value {
    let mut cfg = env.config(&["sh", "-c", script]);
    cfg["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
        "options": ["nosuid", "nodev", "mode=1777", "size=1m"]
    }));
    cfg
}

/// Starts `cfg` detached (`run -d`) and waits until the init has written /tmp/ready (when the
/// config has a /tmp of its own); returns the init's host pid.
fn start(env: &Env, id: &str, cfg: &Value) -> i32 {
    let bundle = env.write_bundle(id, cfg);
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), id])
        .ok();
    assert_eq!(env.status(id), "running");
    let has_tmp = cfg["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["destination"] == "/tmp");
    if has_tmp {
        eventually("the init to be ready", || {
            exec(env, id, &["test", "-e", "/tmp/ready"]).code == 0
        });
    }
    env.state(id)["pid"].as_i64().unwrap() as i32
}

/// `berth exec ID args…` in the foreground.
fn exec(env: &Env, id: &str, args: &[&str]) -> Run {
    let mut all = vec!["exec", id];
    all.extend_from_slice(args);
    env.berth(&all)
}

/// `berth exec OPTIONS… ID COMMAND…`, options before the id as runc documents them.
fn exec_opts(env: &Env, opts: &[&str], id: &str, command: &[&str]) -> Run {
    let mut all = vec!["exec"];
    all.extend_from_slice(opts);
    all.push(id);
    all.extend_from_slice(command);
    env.berth(&all)
}

/// `berth exec ID sh -c script`.
fn exec_sh(env: &Env, id: &str, script: &str) -> Run {
    exec(env, id, &["sh", "-c", script])
}

fn ns_link(pid: impl std::fmt::Display, ns: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn cmdline(pid: i32) -> String {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// True once `pid` is gone or a zombie.
fn dead(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
        s.rsplit_once(')').unwrap().1.trim_start().starts_with('Z')
    })
}

fn status_field(pid: i32, field: &str) -> String {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        .trim()
        .to_owned()
}

fn read_pid_file(path: &Path) -> i32 {
    let text = fs::read_to_string(path).unwrap();
    text.parse()
        .unwrap_or_else(|_| panic!("pid file holds {text:?}"))
}

fn capabilities(names: &[&str]) -> u64 {
    names
        .iter()
        .map(|n| match *n {
            "CAP_CHOWN" => 0,
            "CAP_KILL" => 5,
            "CAP_NET_BIND_SERVICE" => 10,
            "CAP_NET_RAW" => 13,
            "CAP_SYS_ADMIN" => 21,
            "CAP_AUDIT_WRITE" => 29,
            other => panic!("no bit for {other}"),
        })
        .fold(0, |m, bit| m | 1 << bit)
}

/// The pty master sent over the console socket (SCM_RIGHTS), from the first connection.
fn receive_pty_master(listener: &UnixListener) -> OwnedFd {
    let (stream, _) = listener.accept().unwrap();
    common::receive_with_fd(&stream).1
}

/// Everything the terminal's master side gives until every slave is closed (EIO).
fn read_to_hangup(master: OwnedFd) -> String {
    let mut f = File::from(master);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) => panic!("read the pty master: {e}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a non-blocking master holds right now.
fn read_available(master: &OwnedFd) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match nix::unistd::read(master.as_fd(), &mut buf) {
            Ok(0) | Err(nix::errno::Errno::EAGAIN) | Err(nix::errno::Errno::EIO) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => panic!("read the pty master: {e}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn wait_with_timeout(child: &mut Child, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A /dev/pts/N line as `tty` prints it on a terminal (onlcr: "\r\n").
fn assert_pts_line(out: &str) {
    let line = out
        .split('\n')
        .next()
        .unwrap_or_else(|| panic!("no output: {out:?}"));
    let n = line
        .strip_prefix("/dev/pts/")
        .and_then(|s| s.strip_suffix('\r'))
        .unwrap_or_else(|| panic!("tty printed {out:?}"));
    assert!(
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()),
        "{out:?}"
    );
}

#[test]
fn exec_joins_the_hostname_pid_and_mount_namespaces() {
    let env = Env::new("exec-ns");
    let mut cfg = config_with_tmp(
        &env,
        "echo only-in-the-container > /tmp/marker; touch /tmp/ready; exec sleep 1000",
    );
    cfg["hostname"] = json!("exec-host");
    let init = start(&env, "e1", &cfg);

    assert_eq!(exec(&env, "e1", &["hostname"]).ok(), "exec-host\n");
    assert_eq!(
        exec(&env, "e1", &["cat", "/tmp/marker"]).ok(),
        "only-in-the-container\n"
    );
    // Numbering of the container's pid namespace: the init is 1, the exec'd shell is small.
    let out = exec_sh(
        &env,
        "e1",
        "echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo; ps -o pid,args",
    );
    let text = out.ok();
    let mut lines = text.lines();
    let own: i32 = lines.next().unwrap().parse().unwrap();
    assert!(
        (2..100).contains(&own),
        "exec'd pid {own} is not the container's numbering"
    );
    assert_eq!(lines.next(), Some("sleep 1000 "));
    let ps: Vec<&str> = lines.collect();
    assert!(
        ps.iter()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["1", "sleep", "1000"]),
        "{ps:?}"
    );
    // Every namespace is the init's, and the view of the mounts is the same.
    for ns in ["pid", "mnt", "uts", "ipc", "net"] {
        let inside = exec(&env, "e1", &["readlink", &format!("/proc/self/ns/{ns}")]);
        assert_eq!(inside.ok().trim_end(), ns_link(init, ns), "{ns} namespace");
        assert_ne!(ns_link(init, ns), ns_link("self", ns), "{ns} is the host's");
    }
    let mounts = exec_sh(
        &env,
        "e1",
        "cat /proc/1/mountinfo; echo ---; cat /proc/self/mountinfo",
    );
    let (of_init, own) = mounts.ok().split_once("---\n").unwrap();
    assert_eq!(of_init, own);
    assert!(own.lines().any(|l| l.contains(" /tmp ")), "{own}");
    env.berth(&["delete", "--force", "e1"]).ok();
    env.assert_gone("e1");
}

#[test]
fn exec_joins_the_user_namespace() {
    let env = Env::new("exec-userns");
    let mut cfg = config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000");
    common::with_user_namespace(&mut cfg, 100000, 200000);
    let init = start(&env, "u1", &cfg);
    let maps = |pid: i32| {
        (
            fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap(),
            fs::read_to_string(format!("/proc/{pid}/gid_map")).unwrap(),
        )
    };
    let (uid_map, gid_map) = maps(init);
    assert_eq!(
        uid_map.split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
    let out = exec_sh(
        &env,
        "u1",
        "cat /proc/self/uid_map; echo ---; cat /proc/self/gid_map; echo ---; id -u; readlink /proc/self/ns/user",
    );
    let parts: Vec<&str> = out.ok().split("---\n").collect();
    assert_eq!(parts[0], uid_map);
    assert_eq!(parts[1], gid_map);
    assert_eq!(
        parts[2],
        format!("0\n{}\n", ns_link(init, "user")),
        "root of the container's user namespace"
    );
    // Seen from the host, the exec'd process runs as the mapped ids.
    let pid_file = env.dir.join("u1-exec.pid");
    exec_opts(
        &env,
        &["--detach", "--pid-file", pid_file.to_str().unwrap()],
        "u1",
        &["sleep", "1000"],
    )
    .ok();
    let pid = read_pid_file(&pid_file);
    assert_eq!(maps(pid), (uid_map, gid_map));
    assert_eq!(ns_link(pid, "user"), ns_link(init, "user"));
    assert_eq!(
        status_field(pid, "Uid").split_whitespace().next(),
        Some("100000")
    );
    assert_eq!(
        status_field(pid, "Gid").split_whitespace().next(),
        Some("200000")
    );
    env.berth(&["delete", "--force", "u1"]).ok();
    eventually("the exec'd process to die with the container", || dead(pid));
    env.assert_gone("u1");
}

#[test]
fn exec_detached_joins_the_cgroup_and_writes_the_pid_file() {
    let env = Env::new("exec-detach");
    let init = start(
        &env,
        "d1",
        &config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000"),
    );
    let inside = exec(&env, "d1", &["cat", "/proc/self/cgroup"]);
    let of_init = fs::read_to_string(format!("/proc/{init}/cgroup")).unwrap();
    assert_eq!(inside.ok(), of_init);
    assert!(of_init.contains(&env.cgroup_path("d1")), "{of_init}");

    let pid_file = env.dir.join("d1-exec.pid");
    // --detach returns while the process runs on (a berth that waited would take 1000 s).
    let mut detached = env
        .berth_cmd(&["exec", "--detach", "--pid-file", pid_file.to_str().unwrap()])
        .args(["d1", "sleep", "1000"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_with_timeout(&mut detached, "exec --detach").success());
    let pid = read_pid_file(&pid_file);
    assert_ne!(pid, init);
    // The pid is a host pid of the running program, not of a berth helper.
    eventually("the exec'd program to run", || {
        cmdline(pid) == "sleep 1000 "
    });
    assert_eq!(
        fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap(),
        of_init
    );
    for dir in env.cgroup_dirs("d1") {
        let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        assert!(
            procs.lines().any(|l| l == pid.to_string()),
            "{pid} not in {}: {procs:?}",
            dir.display()
        );
    }
    for ns in ["pid", "mnt", "uts", "ipc", "net"] {
        assert_eq!(ns_link(pid, ns), ns_link(init, ns), "{ns} namespace");
    }
    let ps: Vec<i32> =
        serde_json::from_str(env.berth(&["ps", "--format", "json", "d1"]).ok()).unwrap();
    let mut sorted = ps.clone();
    sorted.sort_unstable();
    let mut want = vec![init, pid];
    want.sort_unstable();
    assert_eq!(sorted, want);
    let table = env.berth(&["ps", "d1"]).ok().to_owned();
    assert!(table.lines().count() == 3, "{table}");
    assert!(table.contains(&pid.to_string()), "{table}");

    env.berth(&["delete", "--force", "d1"]).ok();
    eventually("the exec'd process to die with the container", || dead(pid));
    env.assert_gone("d1");
}

#[test]
fn exec_process_file_sets_env_cwd_user_groups_rlimits_and_ambient_caps() {
    let env = Env::new("exec-process-user");
    let init_script = "mkdir /tmp/work; touch /tmp/ready; exec sleep 1000";
    start(&env, "p1", &config_with_tmp(&env, init_script));
    // The shell's environment as the kernel holds it. `echo end` keeps the shell alive while tr
    // reads it: sh execs its last command in place, and a replaced process has no environment.
    let process = json!({
        "terminal": false,
        "user": { "uid": 1000, "gid": 1000, "additionalGids": [5, 1234] },
        "args": ["sh", "-c",
            "pwd; id -u; id -g; id -G; ulimit -n; ulimit -Hn; \
             grep -E '^(Cap|NoNewPrivs)' /proc/self/status; \
             tr '\\0' '\\n' < /proc/$$/environ; echo end"],
        "env": ["PATH=/bin", "FROM_JSON=a value with spaces", "HOME=/somewhere"],
        "cwd": "/tmp/work",
        "capabilities": {
            "bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"],
            "effective": ["CAP_KILL"],
            "permitted": ["CAP_KILL", "CAP_CHOWN"],
            "inheritable": ["CAP_KILL"],
            "ambient": ["CAP_KILL"]
        },
        "rlimits": [{ "type": "RLIMIT_NOFILE", "soft": 77, "hard": 88 }],
        "noNewPrivileges": true
    });
    let file = env.dir.join("process.json");
    fs::write(&file, process.to_string()).unwrap();
    let out = exec_opts(&env, &["--process", file.to_str().unwrap()], "p1", &[]);
    let kill = format!("{:016x}", capabilities(&["CAP_KILL"]));
    let bounding = format!(
        "{:016x}",
        capabilities(&["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"])
    );
    // A non-root process keeps across exec only its ambient capabilities.
    assert_eq!(
        out.ok(),
        format!(
            "/tmp/work\n1000\n1000\n1000 5 1234\n77\n88\n\
             CapInh:\t{kill}\nCapPrm:\t{kill}\nCapEff:\t{kill}\nCapBnd:\t{bounding}\nCapAmb:\t{kill}\n\
             NoNewPrivs:\t1\n\
             PATH=/bin\nFROM_JSON=a value with spaces\nHOME=/somewhere\nend\n"
        )
    );
    assert_eq!(out.stderr, "");
    env.berth(&["delete", "--force", "p1"]).ok();
    env.assert_gone("p1");
}

#[test]
fn exec_process_file_as_root_gets_its_capability_sets() {
    let env = Env::new("exec-process-root");
    start(
        &env,
        "p2",
        &config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000"),
    );
    let process = json!({
        "user": { "uid": 0, "gid": 0 },
        "args": ["sh", "-c", "grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status; id -G; ulimit -n"],
        "env": ["PATH=/bin"],
        "cwd": "/",
        "capabilities": {
            "bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"],
            "effective": ["CAP_KILL", "CAP_CHOWN"],
            "permitted": ["CAP_KILL", "CAP_CHOWN"]
        },
        "rlimits": [{ "type": "RLIMIT_NOFILE", "soft": 1000, "hard": 1000 }],
        "noNewPrivileges": true
    });
    let file = env.dir.join("process.json");
    fs::write(&file, process.to_string()).unwrap();
    let out = exec_opts(&env, &["-p", file.to_str().unwrap()], "p2", &[]);
    // With no_new_privs, root's exec cannot raise its permitted set to the bounding set.
    assert_eq!(
        out.ok(),
        format!(
            "CapPrm:\t{:016x}\nCapEff:\t{:016x}\nCapBnd:\t{:016x}\n0\n1000\n",
            capabilities(&["CAP_KILL", "CAP_CHOWN"]),
            capabilities(&["CAP_KILL", "CAP_CHOWN"]),
            capabilities(&["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"]),
        )
    );
    env.berth(&["delete", "--force", "p2"]).ok();
    env.assert_gone("p2");
}

#[test]
fn exec_argv_flags_cwd_env_user_groups_caps_and_no_new_privs() {
    let env = Env::new("exec-flags");
    let mut cfg = config_with_tmp(&env, "mkdir /tmp/work; touch /tmp/ready; exec sleep 1000");
    cfg["process"]["noNewPrivileges"] = json!(false);
    start(&env, "f1", &cfg);

    let out = exec_opts(
        &env,
        &[
            "--cwd",
            "/tmp/work",
            "-e",
            "FOO=bar",
            "--env",
            "TERM=dumb",
            "-u",
            "1000:1000",
            "-g",
            "5",
            "--additional-gids",
            "1234",
            "--no-new-privs",
        ],
        "f1",
        &[
            "sh",
            "-c",
            "pwd; id -u; id -g; id -G; grep NoNewPrivs /proc/self/status; tr '\\0' '\\n' < /proc/$$/environ; echo end",
        ],
    );
    // process.env with -e added (a variable given again moves to its last place, as runc
    // dedups), and HOME from the container's /etc/passwd.
    assert_eq!(
        out.ok(),
        "/tmp/work\n1000\n1000\n1000 5 1234\nNoNewPrivs:\t1\n\
         PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nFOO=bar\nTERM=dumb\nHOME=/home/user\nend\n"
    );
    let plain = exec(&env, "f1", &["grep", "NoNewPrivs", "/proc/self/status"]);
    assert_eq!(plain.ok(), "NoNewPrivs:\t0\n");

    // -c adds to the container's sets; root without no_new_privs gets its bounding set.
    let out = exec_opts(
        &env,
        &["-c", "CAP_SYS_ADMIN"],
        "f1",
        &["grep", "-E", "^Cap(Eff|Bnd)", "/proc/self/status"],
    );
    let base = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    let with_admin = capabilities(&[&base[..], &["CAP_SYS_ADMIN"]].concat());
    assert_eq!(
        out.ok(),
        format!("CapEff:\t{with_admin:016x}\nCapBnd:\t{with_admin:016x}\n")
    );
    let without = exec(&env, "f1", &["grep", "^CapBnd", "/proc/self/status"]);
    assert_eq!(
        without.ok(),
        format!("CapBnd:\t{:016x}\n", capabilities(&base))
    );
    env.berth(&["delete", "--force", "f1"]).ok();
    env.assert_gone("f1");
}

#[test]
fn exec_tty_through_a_console_socket() {
    let env = Env::new("exec-console");
    start(
        &env,
        "t1",
        &config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000"),
    );
    let socket = env.dir.join("console.sock");
    let listener = UnixListener::bind(&socket).unwrap();

    // Foreground: berth waits for the process and returns its status; the output is on the
    // master the socket received.
    let out = exec_opts(
        &env,
        &["-t", "--console-socket", socket.to_str().unwrap()],
        "t1",
        &["sh", "-c", "tty; echo on a terminal; exit 5"],
    );
    assert_eq!(out.code, 5, "{out:?}");
    assert_eq!(out.stdout, "", "output went to berth's stdout");
    let text = read_to_hangup(receive_pty_master(&listener));
    assert_pts_line(&text);
    assert!(text.ends_with("\r\non a terminal\r\n"), "{text:?}");

    // A process file asking for a terminal of a given size, as containerd sends it.
    let file = env.dir.join("process.json");
    let process = json!({
        "terminal": true,
        "consoleSize": { "height": 20, "width": 70 },
        "user": { "uid": 0, "gid": 0 },
        "args": ["sh", "-c", "stty size; tty"],
        "env": ["PATH=/bin"],
        "cwd": "/"
    });
    fs::write(&file, process.to_string()).unwrap();
    exec_opts(
        &env,
        &[
            "--process",
            file.to_str().unwrap(),
            "--console-socket",
            socket.to_str().unwrap(),
        ],
        "t1",
        &[],
    )
    .ok();
    let text = read_to_hangup(receive_pty_master(&listener));
    let rest = text
        .strip_prefix("20 70\r\n")
        .unwrap_or_else(|| panic!("{text:?}"));
    assert_pts_line(rest);

    // Detached, as containerd and conmon exec: the terminal outlives berth.
    let pid_file = env.dir.join("t1-exec.pid");
    exec_opts(
        &env,
        &[
            "--tty",
            "--detach",
            "--console-socket",
            socket.to_str().unwrap(),
            "--pid-file",
            pid_file.to_str().unwrap(),
        ],
        "t1",
        &["sh", "-c", "read line; echo got $line; tty"],
    )
    .ok();
    let pid = read_pid_file(&pid_file);
    let master = receive_pty_master(&listener);
    assert!(!dead(pid), "the process exited before its input arrived");
    nix::unistd::write(master.as_fd(), b"hello\n").unwrap();
    let text = read_to_hangup(master);
    // The terminal echoes the input, then the program answers.
    let rest = text
        .strip_prefix("hello\r\ngot hello\r\n")
        .unwrap_or_else(|| panic!("{text:?}"));
    assert_pts_line(rest);
    env.berth(&["delete", "--force", "t1"]).ok();
    env.assert_gone("t1");
}

#[test]
fn exec_tty_in_the_foreground_uses_berths_terminal() {
    let env = Env::new("exec-tty-fg");
    start(
        &env,
        "t2",
        &config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000"),
    );
    let size = nix::pty::Winsize {
        ws_row: 33,
        ws_col: 111,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(&size, None).unwrap();
    let before = nix::sys::termios::tcgetattr(pty.slave.as_fd()).unwrap();
    let stdio = || Stdio::from(pty.slave.try_clone().unwrap());
    let mut child = env
        .berth_cmd(&["exec", "-t", "t2", "sh", "-c", "stty size; tty; exit 4"])
        .stdin(stdio())
        .stdout(stdio())
        .stderr(stdio())
        .spawn()
        .unwrap();
    let status = wait_with_timeout(&mut child, "berth exec -t");
    assert_eq!(status.code(), Some(4));
    nix::fcntl::fcntl(
        pty.master.as_fd(),
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .unwrap();
    let text = read_available(&pty.master);
    // The container's terminal has the size of berth's before the process runs: `stty size`
    // comes first (it read 0x0 now and then when berth set the size only after the exec).
    let (size, rest) = text
        .split_once("\r\n")
        .unwrap_or_else(|| panic!("{text:?}"));
    assert_eq!(size, "33 111", "{text:?}");
    assert_pts_line(rest);
    // berth put its terminal in raw mode while attached, and restored it.
    let after = nix::sys::termios::tcgetattr(pty.slave.as_fd()).unwrap();
    assert_eq!(after.local_flags, before.local_flags);
    assert_eq!(after.input_flags, before.input_flags);
    assert_eq!(after.output_flags, before.output_flags);
    env.berth(&["delete", "--force", "t2"]).ok();
    env.assert_gone("t2");
}

#[test]
fn exec_returns_the_exit_status() {
    let env = Env::new("exec-status");
    start(
        &env,
        "s1",
        &config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000"),
    );
    let out = exec_sh(&env, "s1", "echo out; echo err >&2; exit 3");
    assert_eq!(
        (out.code, &*out.stdout, &*out.stderr),
        (3, "out\n", "err\n")
    );
    assert_eq!(exec(&env, "s1", &["true"]).code, 0);
    assert_eq!(exec(&env, "s1", &["false"]).code, 1);
    // Killed by signal N: 128+N.
    assert_eq!(exec_sh(&env, "s1", "kill -KILL $$").code, 128 + 9);
    assert_eq!(exec_sh(&env, "s1", "kill -TERM $$").code, 128 + 15);
    assert_eq!(env.status("s1"), "running");
    env.berth(&["delete", "--force", "s1"]).ok();
    env.assert_gone("s1");
}

#[test]
fn exec_forwards_signals_to_the_process() {
    let env = Env::new("exec-signal");
    start(
        &env,
        "g1",
        &config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000"),
    );
    let mut child = env
        .berth_cmd(&[
            "exec",
            "g1",
            "sh",
            "-c",
            "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 6];
    stdout.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ready\n");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait_with_timeout(&mut child, "berth exec after SIGTERM");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got TERM\n");
    assert_eq!(status.code(), Some(7));
    // Only the exec'd process got it: the container runs on.
    assert_eq!(env.status("g1"), "running");
    env.berth(&["delete", "--force", "g1"]).ok();
    env.assert_gone("g1");
}

#[test]
fn twenty_concurrent_execs_all_succeed() {
    let env = Env::new("exec-concurrent");
    let mut cfg = config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000");
    cfg["hostname"] = json!("busy");
    start(&env, "c1", &cfg);
    let barrier = std::sync::Barrier::new(20);
    let results: Vec<(usize, Run)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let (env, barrier) = (&env, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let script = format!("echo {i} $(hostname) $(cat /proc/1/comm)");
                    (i, exec_sh(env, "c1", &script))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, run) in results {
        assert_eq!(run.ok(), format!("{i} busy sleep\n"), "exec #{i}: {run:?}");
        assert_eq!(run.stderr, "", "exec #{i}");
    }
    // Nothing of the execs is left in the container.
    let pids: Vec<i32> =
        serde_json::from_str(env.berth(&["ps", "--format", "json", "c1"]).ok()).unwrap();
    assert_eq!(pids.len(), 1, "{pids:?}");
    env.berth(&["delete", "--force", "c1"]).ok();
    env.assert_gone("c1");
}

#[test]
fn exec_lsm_labels_the_host_cannot_apply_fail_cleanly() {
    // As for create: an AppArmor profile berth cannot apply (no AppArmor here, or not loaded) is
    // named, from --apparmor and from a --process file alike; SELinux is refused. No process is
    // left in the container.
    let env = Env::new("exec-lsm");
    let init = start(&env, "l1", &env.config(&["sleep", "1000"]));
    let file = env.dir.join("process.json");
    let mut process = env.config(&["true"])["process"].clone();
    process["apparmorProfile"] = json!("berth-no-such-profile");
    fs::write(&file, process.to_string()).unwrap();
    for opts in [
        &["--apparmor", "berth-no-such-profile"][..],
        &["--process", file.to_str().unwrap()],
    ] {
        let out = exec_opts(&env, opts, "l1", &["true"]);
        let err = out.failed();
        assert!(
            err.contains("apparmorProfile") && err.contains("berth-no-such-profile"),
            "{opts:?}: {err}"
        );
    }
    let out = exec_opts(
        &env,
        &["--process-label", "system_u:system_r:container_t:s0"],
        "l1",
        &["true"],
    );
    assert!(out.failed().contains("SELinux"), "{out:?}");
    let ps = env.berth(&["ps", "--format", "json", "l1"]);
    assert_eq!(serde_json::from_str::<Vec<i32>>(ps.ok()).unwrap(), [init]);
    env.berth(&["delete", "--force", "l1"]).ok();
    env.assert_gone("l1");
}

/// `berth args…` pinned to CPU 0 by taskset, as a pinned containerd would start it.
fn berth_on_cpu0(env: &Env, args: &[&str]) -> Run {
    let mut cmd = std::process::Command::new("taskset");
    cmd.args(["-c", "0", common::BERTH, "--root"])
        .arg(&env.root)
        .args(args)
        .stdin(Stdio::null());
    common::capture(&mut cmd, &env.dir)
}

/// The Cpus_allowed_list line of a /proc/…/status.
fn cpus_allowed(status: &str) -> String {
    let line = status.lines().find(|l| l.starts_with("Cpus_allowed_list:"));
    line.and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn cpu_affinity_resets_in_the_cgroup_and_exec_cpu_affinity_applies() {
    // runc's rules: a pinned caller does not pin the container — its processes get every CPU
    // their cgroup allows — and an exec'd process gets execCPUAffinity.final once in the cgroup.
    let online = fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    let online = online.trim();
    // An online CPU other than 0 (the list reads like "0-3" or "0,2-5").
    let mut cpus = online.split(',').flat_map(|part| {
        let (first, last) = part.split_once('-').unwrap_or((part, part));
        first.parse::<u32>().unwrap()..=last.parse().unwrap()
    });
    let Some(other) = cpus.find(|&c| c != 0) else {
        common::skip(
            "exec-affinity/cpus",
            "one CPU online: no second CPU to pin to",
        );
        return;
    };
    let other = other.to_string();
    let env = Env::new("exec-affinity");
    let bundle = env.write_bundle("a1", &env.config(&["sleep", "1000"]));
    berth_on_cpu0(
        &env,
        &["run", "-d", "--bundle", bundle.to_str().unwrap(), "a1"],
    )
    .ok();
    let init = env.state("a1")["pid"].as_i64().unwrap();
    let status = fs::read_to_string(format!("/proc/{init}/status")).unwrap();
    assert_eq!(cpus_allowed(&status), online, "the init");
    let grep = ["grep", "Cpus_allowed_list", "/proc/self/status"];
    let mut all = vec!["exec", "a1"];
    all.extend(grep);
    assert_eq!(cpus_allowed(berth_on_cpu0(&env, &all).ok()), online, "exec");

    let file = env.dir.join("process.json");
    let mut process = env.config(&grep)["process"].clone();
    process["execCPUAffinity"] = json!({ "initial": "0", "final": other });
    fs::write(&file, process.to_string()).unwrap();
    let out = berth_on_cpu0(&env, &["exec", "--process", file.to_str().unwrap(), "a1"]);
    assert_eq!(cpus_allowed(out.ok()), other, "execCPUAffinity.final");

    // A CPU the host does not have: named, and nothing is left running.
    process["execCPUAffinity"] = json!({ "final": "1023" });
    fs::write(&file, process.to_string()).unwrap();
    let out = exec_opts(&env, &["--process", file.to_str().unwrap()], "a1", &[]);
    assert!(
        out.failed().contains("process.execCPUAffinity.final"),
        "{out:?}"
    );
    let ps = env.berth(&["ps", "--format", "json", "a1"]);
    assert_eq!(serde_json::from_str::<Vec<i64>>(ps.ok()).unwrap(), [init]);
    env.berth(&["delete", "--force", "a1"]).ok();
    env.assert_gone("a1");
}

#[test]
fn exec_into_a_stopped_or_missing_container_fails_cleanly() {
    let env = Env::new("exec-stopped");
    let bundle = env.write_bundle("x1", &env.config(&["true"]));
    env.berth(&["run", "--keep", "--bundle", bundle.to_str().unwrap(), "x1"])
        .ok();
    assert_eq!(env.status("x1"), "stopped");
    let out = exec(&env, "x1", &["true"]);
    let err = out.failed();
    assert!(err.contains("x1") && err.contains("not running"), "{err}");
    assert_eq!(out.stdout, "");
    let out = exec_opts(&env, &["-d"], "x1", &["sleep", "100"]);
    assert!(out.failed().contains("not running"), "{out:?}");
    assert_eq!(env.status("x1"), "stopped");
    env.berth(&["delete", "x1"]).ok();
    env.assert_gone("x1");
    let missing = exec(&env, "x1", &["true"]);
    assert!(missing.failed().contains("does not exist"), "{missing:?}");
}

#[test]
fn exec_into_a_paused_container_needs_ignore_paused() {
    let env = Env::new("exec-paused");
    start(
        &env,
        "z1",
        &config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000"),
    );
    env.berth(&["pause", "z1"]).ok();
    assert_eq!(env.status("z1"), "paused");
    let refused = exec(&env, "z1", &["echo", "hi"]);
    let err = refused.failed();
    assert!(err.contains("paused"), "{err}");
    assert_eq!(refused.stdout, "");
    // With --ignore-paused berth goes ahead; the process runs once the container is thawed.
    let out_path = env.dir.join("z1-exec.out");
    let mut child = env
        .berth_cmd(&["exec", "--ignore-paused", "z1", "echo", "hi"])
        .stdout(File::create(&out_path).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    env.berth(&["resume", "z1"]).ok();
    let status = wait_with_timeout(&mut child, "exec --ignore-paused");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{status:?}: {err}");
    assert_eq!(fs::read_to_string(&out_path).unwrap(), "hi\n");
    assert_eq!(env.status("z1"), "running");
    env.berth(&["delete", "--force", "z1"]).ok();
    env.assert_gone("z1");
}

#[test]
fn exec_of_a_missing_program_fails_with_one_line() {
    let env = Env::new("exec-missing");
    start(
        &env,
        "m1",
        &config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000"),
    );
    let out = exec(&env, "m1", &["no-such-program", "arg"]);
    assert!(out.failed().contains("no-such-program"), "{out:?}");
    let out = exec(&env, "m1", &["/bin/no-such-program"]);
    assert!(out.failed().contains("/bin/no-such-program"), "{out:?}");
    let out = exec_opts(&env, &["--cwd", "/no/such/dir"], "m1", &["true"]);
    assert!(out.failed().contains("/no/such/dir"), "{out:?}");
    // Nothing is left behind in the container.
    let pids: Vec<i32> =
        serde_json::from_str(env.berth(&["ps", "--format", "json", "m1"]).ok()).unwrap();
    assert_eq!(pids.len(), 1, "{pids:?}");
    assert_eq!(env.status("m1"), "running");
    env.berth(&["delete", "--force", "m1"]).ok();
    env.assert_gone("m1");
}

/// The container's processes, as `berth ps` lists them.
fn container_pids(env: &Env, id: &str) -> Vec<i32> {
    serde_json::from_str(env.berth(&["ps", "--format", "json", id]).ok()).unwrap()
}

#[test]
fn exec_failures_of_berths_own_exit_255_the_process_its_status() {
    // runc's "exec [exit codes]": 255 is exec's own failure (as with ssh), anything else the
    // process's; a command line that does not parse is a usage error, 1.
    let env = Env::new("exec-codes");
    let init = start(
        &env,
        "c1",
        &config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000"),
    );
    assert_eq!(exec(&env, "c1", &["false"]).code, 1);
    assert_eq!(exec_sh(&env, "c1", "exit 42").code, 42);
    assert_eq!(exec_sh(&env, "c1", "exit 255").code, 255);
    let own_failures: [(&[&str], &[&str], &str); 5] = [
        (
            &["--pid-file", "/non-existent/directory/pid"],
            &["true"],
            "pid file",
        ),
        (&[], &["no-such-binary"], "no-such-binary"),
        (&["--cwd", "/no/such/dir"], &["true"], "/no/such/dir"),
        (&["--user", "nobody"], &["true"], "--user"),
        (&[], &[], "no command"),
    ];
    for (opts, command, words) in own_failures {
        let out = exec_opts(&env, opts, "c1", command);
        let err = out.failed();
        assert_eq!(out.code, 255, "{opts:?} {command:?}: {out:?}");
        assert!(err.contains("exec failed") && err.contains(words), "{err}");
    }
    let unknown = exec(&env, "no_such_container", &["true"]);
    assert_eq!(unknown.code, 255, "{unknown:?}");
    assert!(unknown.failed().contains("does not exist"), "{unknown:?}");
    let usage = exec_opts(&env, &["--no-such-flag"], "c1", &["true"]);
    assert_eq!(usage.code, 1, "{usage:?}");
    assert!(usage.failed().contains("--no-such-flag"), "{usage:?}");
    // None of them left a process behind.
    assert_eq!(container_pids(&env, "c1"), [init]);

    env.berth(&["pause", "c1"]).ok();
    let paused = exec(&env, "c1", &["true"]);
    assert_eq!(paused.code, 255, "{paused:?}");
    assert!(
        paused
            .failed()
            .contains("cannot exec in a paused container"),
        "{paused:?}"
    );
    env.berth(&["resume", "c1"]).ok();

    env.berth(&["kill", "c1", "KILL"]).ok();
    eventually("the container to stop", || env.status("c1") == "stopped");
    let stopped = exec(&env, "c1", &["true"]);
    assert_eq!(stopped.code, 255, "{stopped:?}");
    assert!(stopped.failed().contains("not running"), "{stopped:?}");
    env.berth(&["delete", "c1"]).ok();
    env.assert_gone("c1");
}

#[test]
fn exec_process_file_takes_runcs_defaults_for_what_it_leaves_out() {
    let env = Env::new("exec-process-defaults");
    start(
        &env,
        "q1",
        &config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000"),
    );
    // No user (uid 0, gid 0), env (only the HOME of /etc/passwd), capabilities (the container's),
    // rlimits (the container's RLIMIT_NOFILE of 1024, not berth's own) or noNewPrivileges (the
    // container's true): what runc's Go decoder and exec make of them.
    let script = "id -u; id -g; grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status; ulimit -Hn; \
                  grep NoNewPrivs /proc/self/status; tr '\\0' '\\n' < /proc/$$/environ; echo end";
    let caps = format!(
        "{:016x}",
        capabilities(&["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    );
    let want =
        format!("0\n0\nCapPrm:\t{caps}\nCapEff:\t{caps}\nCapBnd:\t{caps}\n1024\nNoNewPrivs:\t1\nHOME=/root\nend\n");
    let file = env.dir.join("process.json");
    for process in [
        json!({ "args": ["/bin/sh", "-c", script], "cwd": "/" }),
        json!({ "args": ["/bin/sh", "-c", script], "cwd": "/", "user": null, "env": null }),
    ] {
        fs::write(&file, process.to_string()).unwrap();
        let out = exec_opts(&env, &["--process", file.to_str().unwrap()], "q1", &[]);
        assert_eq!(out.ok(), want, "{process}");
    }
    // cwd and args are what runc requires: their absence is named, with exec's own status.
    for (process, field) in [
        (json!({ "args": ["true"] }), "cwd"),
        (json!({ "cwd": "/" }), "no command"),
    ] {
        fs::write(&file, process.to_string()).unwrap();
        let out = exec_opts(&env, &["-p", file.to_str().unwrap()], "q1", &[]);
        assert_eq!(out.code, 255, "{process}: {out:?}");
        assert!(out.failed().contains(field), "{process}: {out:?}");
    }
    assert_eq!(container_pids(&env, "q1").len(), 1);
    env.berth(&["delete", "--force", "q1"]).ok();
    env.assert_gone("q1");
}

#[test]
fn kill_signals_the_init_and_kill_all_every_exec_too() {
    let env = Env::new("exec-kill");
    let trap = |who: &str| {
        format!(
            "trap 'echo {who} >> /tmp/got' USR1; touch /tmp/{who}-ready; while :; do sleep 0.05; done"
        )
    };
    let mut cfg = config_with_tmp(&env, &trap("init"));
    cfg["process"]["args"][2] = json!(format!("touch /tmp/ready; {}", trap("init")));
    start(&env, "k1", &cfg);
    exec_opts(&env, &["-d"], "k1", &["sh", "-c", &trap("exec")]).ok();
    eventually("the exec'd shell to set its trap", || {
        exec(&env, "k1", &["test", "-e", "/tmp/exec-ready"]).code == 0
    });
    let got = || exec(&env, "k1", &["cat", "/tmp/got"]).stdout;

    env.berth(&["kill", "k1", "USR1"]).ok();
    eventually("the init to get USR1", || got() == "init\n");
    // Give a stray signal time to show up: the exec'd shell checks its traps every 50 ms.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(got(), "init\n");

    env.berth(&["kill", "--all", "k1", "USR1"]).ok();
    eventually("both shells to get USR1", || {
        let mut lines: Vec<String> = got().lines().map(str::to_owned).collect();
        lines.sort();
        lines == ["exec", "init", "init"]
    });
    env.berth(&["delete", "--force", "k1"]).ok();
    env.assert_gone("k1");
}

#[test]
fn exec_does_not_leak_descriptors() {
    let env = Env::new("exec-fds");
    start(
        &env,
        "l1",
        &config_with_tmp(&env, "touch /tmp/ready; exec sleep 1000"),
    );
    // ls opens the directory it lists: 3 is its own.
    assert_eq!(
        exec(&env, "l1", &["ls", "/proc/self/fd"]).ok(),
        "0\n1\n2\n3\n"
    );
    let file = env.dir.join("process.json");
    let process = json!({
        "user": { "uid": 1000, "gid": 1000 },
        "args": ["ls", "/proc/self/fd"],
        "env": ["PATH=/bin"],
        "cwd": "/"
    });
    fs::write(&file, process.to_string()).unwrap();
    assert_eq!(
        exec_opts(&env, &["--process", file.to_str().unwrap()], "l1", &[]).ok(),
        "0\n1\n2\n3\n"
    );
    let socket = env.dir.join("console.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    exec_opts(
        &env,
        &["-t", "--console-socket", socket.to_str().unwrap()],
        "l1",
        &["ls", "/proc/self/fd"],
    )
    .ok();
    let text = read_to_hangup(receive_pty_master(&listener));
    assert_eq!(
        text.split_whitespace().collect::<Vec<_>>(),
        ["0", "1", "2", "3"]
    );
    // A detached process, seen from the host: only its stdio.
    let pid_file = env.dir.join("l1-exec.pid");
    exec_opts(
        &env,
        &["-d", "--pid-file", pid_file.to_str().unwrap()],
        "l1",
        &["sleep", "1000"],
    )
    .ok();
    let pid = read_pid_file(&pid_file);
    eventually("the exec'd program to run", || {
        cmdline(pid) == "sleep 1000 "
    });
    let mut fds: Vec<String> = fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    fds.sort();
    assert_eq!(fds, ["0", "1", "2"]);
    env.berth(&["delete", "--force", "l1"]).ok();
    env.assert_gone("l1");
}
