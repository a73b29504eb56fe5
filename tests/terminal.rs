//! `process.terminal`: the container's pty master reaches a `--console-socket` listener by
//! SCM_RIGHTS (runc's protocol), or, for `berth run` without one, berth copies it to its own stdio.

mod common;

use std::fs;
use std::io::ErrorKind;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{eventually, Env};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{openpty, Winsize};
use nix::sys::termios::{tcgetattr, LocalFlags};
use serde_json::{json, Value};

/// How long any one wait for the container's terminal may take.
const PATIENCE: Duration = Duration::from_secs(10);

fn terminal_config(env: &Env, script: &str) -> Value {
    let mut cfg = env.config(&["sh", "-c", script]);
    cfg["process"]["terminal"] = json!(true);
    cfg
}

/// A console socket the way containerd and conmon make one: a listening unix stream socket.
struct ConsoleSocket {
    path: PathBuf,
    listener: UnixListener,
}

impl ConsoleSocket {
    fn new(env: &Env) -> ConsoleSocket {
        let path = env.dir.join("console.sock");
        let listener = UnixListener::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        ConsoleSocket { path, listener }
    }

    fn arg(&self) -> &str {
        self.path.to_str().unwrap()
    }

    /// True if berth has connected (and so may have sent something).
    fn has_connection(&self) -> bool {
        match self.listener.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("accept: {e}"),
        }
    }

    /// Accepts berth's connection (made before `create` returned) and receives one message:
    /// the payload is a name, the pty master travels as SCM_RIGHTS.
    fn receive_master(&self) -> (String, OwnedFd) {
        let (conn, _) = match self.listener.accept() {
            Ok(c) => c,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                panic!("berth returned without connecting to the console socket")
            }
            Err(e) => panic!("accept: {e}"),
        };
        conn.set_nonblocking(false).unwrap();
        conn.set_read_timeout(Some(PATIENCE)).unwrap();
        let (payload, master) = common::receive_with_fd(&conn);
        (String::from_utf8_lossy(&payload).into_owned(), master)
    }
}

/// The test's side of a terminal: everything read so far, and a way to type.
struct Term {
    fd: OwnedFd,
    seen: Vec<u8>,
    /// Where `expect` consumed up to.
    pos: usize,
    closed: bool,
}

impl Term {
    fn new(fd: OwnedFd) -> Term {
        Term {
            fd,
            seen: Vec::new(),
            pos: 0,
            closed: false,
        }
    }

    /// One poll+read; false once the other side is gone (EOF or EIO) or nothing came in time.
    fn fill(&mut self, deadline: Instant) -> bool {
        if self.closed {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(Errno::EINTR) => return true,
            Err(e) => panic!("poll: {e}"),
        }
        let mut buf = [0u8; 4096];
        match nix::unistd::read(&self.fd, &mut buf) {
            Ok(0) | Err(Errno::EIO) => {
                self.closed = true;
                false
            }
            Ok(n) => {
                self.seen.extend_from_slice(&buf[..n]);
                true
            }
            Err(Errno::EINTR) | Err(Errno::EAGAIN) => true,
            Err(e) => panic!("read the terminal: {e}"),
        }
    }

    /// Reads until `what` arrives; returns what came since the last `expect`, up to and with it.
    #[track_caller]
    fn expect(&mut self, what: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = String::from_utf8_lossy(&self.seen[self.pos..]).into_owned();
            if let Some(i) = text.find(what) {
                let end = i + what.len();
                self.pos += end;
                return text[..end].to_owned();
            }
            if Instant::now() >= deadline || (!self.fill(deadline) && self.closed) {
                panic!(
                    "{what:?} did not arrive on the terminal; got {:?}",
                    String::from_utf8_lossy(&self.seen)
                );
            }
        }
    }

    /// Reads until the other side is closed; returns what came since the last `expect`.
    #[track_caller]
    fn rest(&mut self) -> String {
        let deadline = Instant::now() + PATIENCE;
        while !self.closed {
            if Instant::now() >= deadline {
                panic!(
                    "the terminal was not closed; got {:?}",
                    String::from_utf8_lossy(&self.seen)
                );
            }
            self.fill(deadline);
        }
        let text = String::from_utf8_lossy(&self.seen[self.pos..]).into_owned();
        self.pos = self.seen.len();
        text
    }

    fn type_in(&self, text: &str) {
        let n = nix::unistd::write(&self.fd, text.as_bytes()).unwrap();
        assert_eq!(n, text.len());
    }
}

fn window_size(fd: BorrowedFd) -> (u16, u16) {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes a winsize.
    assert_eq!(
        unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) },
        0
    );
    (ws.ws_row, ws.ws_col)
}

fn set_window_size(fd: BorrowedFd, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize.
    assert_eq!(
        unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) },
        0
    );
}

#[track_caller]
fn wait_with_timeout(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("berth did not exit in time");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn console_socket_receives_the_pty_master() {
    let env = Env::new("tty-socket");
    let socket = ConsoleSocket::new(&env);
    let script = concat!(
        "tty; ",
        "[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-is-a-tty; ",
        "sh -c ': </dev/tty' 2>/dev/null && echo has-a-controlling-tty; ",
        "stty size; ",
        "[ \"$(stat -c %t:%T /dev/console)\" = \"$(stat -c %t:%T \"$(tty)\")\" ] && echo console-is-the-pty; ",
        "echo via-console >/dev/console; ",
        "printf 'name? '; read name; echo \"hello, $name\"; ",
        "trap 'echo interrupted; exit 5' INT; echo waiting; while :; do sleep 0.05; done",
    );
    let mut cfg = terminal_config(&env, script);
    cfg["process"]["consoleSize"] = json!({ "height": 30, "width": 100 });
    let bundle = env.write_bundle("t1", &cfg);
    env.berth(&[
        "create",
        "--bundle",
        path(&bundle),
        "--console-socket",
        socket.arg(),
        "t1",
    ])
    .ok();
    let (name, master) = socket.receive_master();
    assert_eq!(name, "/dev/ptmx", "runc sends the master's name as payload");
    assert_eq!(
        window_size(master.as_fd()),
        (30, 100),
        "process.consoleSize"
    );
    assert_eq!(env.status("t1"), "created");

    env.berth(&["start", "t1"]).ok();
    let mut term = Term::new(master);
    assert_eq!(
        term.expect("name? "),
        "/dev/pts/0\r\nstdio-is-a-tty\r\nhas-a-controlling-tty\r\n30 100\r\n\
         console-is-the-pty\r\nvia-console\r\nname? "
    );
    // The line discipline echoes the input and maps the container's \n to \r\n.
    term.type_in("berth\n");
    assert_eq!(
        term.expect("waiting\r\n"),
        "berth\r\nhello, berth\r\nwaiting\r\n"
    );
    // ^C reaches the shell through the pty: it is the session's controlling terminal and the
    // shell's process group is in the foreground.
    term.type_in("\x03");
    let rest = term.rest();
    assert!(rest.ends_with("interrupted\r\n"), "{rest:?}");
    eventually("the container to stop", || env.status("t1") == "stopped");
    env.berth(&["delete", "t1"]).ok();
    env.assert_gone("t1");
}

#[test]
fn run_detached_sends_the_master_to_the_console_socket() {
    let env = Env::new("tty-run-detach");
    let socket = ConsoleSocket::new(&env);
    let cfg = terminal_config(&env, "read line; echo \"got $line\"");
    let bundle = env.write_bundle("t2", &cfg);
    env.berth(&[
        "run",
        "-d",
        "--bundle",
        path(&bundle),
        "--console-socket",
        socket.arg(),
        "t2",
    ])
    .ok();
    let (name, master) = socket.receive_master();
    assert_eq!(name, "/dev/ptmx");
    // No consoleSize: the pty starts at 0x0, as in runc.
    assert_eq!(window_size(master.as_fd()), (0, 0));
    assert_eq!(env.status("t2"), "running");
    let mut term = Term::new(master);
    term.type_in("ping\n");
    assert_eq!(term.rest(), "ping\r\ngot ping\r\n");
    eventually("the container to stop", || env.status("t2") == "stopped");
    env.berth(&["delete", "t2"]).ok();
    env.assert_gone("t2");
}

#[test]
fn run_attaches_the_pty_to_its_own_terminal() {
    let env = Env::new("tty-run-attached");
    let bundle = env.write_bundle(
        "t3",
        &terminal_config(
            &env,
            concat!(
                "tty; [ -t 0 ] && echo stdin-is-a-tty; ",
                // berth copies its own window size before the process runs: the first look
                // sees it (runc copies it afterwards, where a quick first look reads 0x0).
                "echo \"size $(stty size)\"; ",
                "printf 'input? '; read line; echo \"got $line\"; ",
                // A resize of berth's terminal (SIGWINCH) is passed on.
                "i=0; while [ \"$(stty size)\" = '33 111' ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; ",
                "echo \"resized $(stty size)\"; exit 7",
            ),
        ),
    );
    let pty = openpty(
        &Winsize {
            ws_row: 33,
            ws_col: 111,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
        None,
    )
    .unwrap();
    let slave = pty.slave;
    let mut cmd = env.berth_cmd(&["run", "--bundle", path(&bundle), "t3"]);
    cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave.try_clone().unwrap()));
    // Like a shell in a terminal: berth leads a session whose controlling terminal is the pty.
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let mut term = Term::new(pty.master);
    assert_eq!(
        term.expect("input? "),
        "/dev/pts/0\r\nstdin-is-a-tty\r\nsize 33 111\r\ninput? "
    );
    // berth's terminal is raw while it is attached: only the container's pty echoes.
    let flags = tcgetattr(slave.as_fd()).unwrap().local_flags;
    assert!(!flags.contains(LocalFlags::ICANON), "{flags:?}");
    assert!(!flags.contains(LocalFlags::ECHO), "{flags:?}");
    set_window_size(term.fd.as_fd(), 44, 122);
    term.type_in("hello\r");
    assert_eq!(
        term.expect("resized 44 122\r\n"),
        "hello\r\ngot hello\r\nresized 44 122\r\n"
    );
    let status = wait_with_timeout(&mut child);
    assert_eq!(status.code(), Some(7), "the container's exit status");
    // berth restored its terminal on the way out.
    let flags = tcgetattr(slave.as_fd()).unwrap().local_flags;
    assert!(flags.contains(LocalFlags::ICANON), "{flags:?}");
    assert!(flags.contains(LocalFlags::ECHO), "{flags:?}");
    env.assert_gone("t3");
}

#[test]
fn run_with_a_terminal_and_plain_stdio_copies_the_output() {
    let env = Env::new("tty-run-files");
    let out = env.sh("t4", "tty; echo done; exit 4", |c| {
        c["process"]["terminal"] = json!(true);
    });
    assert_eq!(out.code, 4, "{out:?}");
    assert_eq!(out.stdout, "/dev/pts/0\r\ndone\r\n");
    assert_eq!(out.stderr, "");
    env.assert_gone("t4");
}

#[test]
fn create_with_a_terminal_needs_a_console_socket() {
    let env = Env::new("tty-no-socket");
    let pid_file = env.dir.join("t5.pid");
    let bundle = env.write_bundle("t5", &terminal_config(&env, "true"));
    let out = env.berth(&[
        "create",
        "--bundle",
        path(&bundle),
        "--pid-file",
        path(&pid_file),
        "t5",
    ]);
    let err = out.failed();
    assert!(err.contains("--console-socket"), "{err}");
    assert!(err.contains("terminal"), "{err}");
    assert!(!pid_file.exists());
    env.assert_gone("t5");
    // A detached run has nobody to hand the terminal to either.
    let out = env.berth(&["run", "-d", "--bundle", path(&bundle), "t5"]);
    assert!(out.failed().contains("--console-socket"), "{out:?}");
    env.assert_gone("t5");
}

#[test]
fn console_socket_without_a_terminal_is_refused() {
    let env = Env::new("tty-no-terminal");
    let socket = ConsoleSocket::new(&env);
    let bundle = env.write_bundle("t6", &env.config(&["true"]));
    let out = env.berth(&[
        "create",
        "--bundle",
        path(&bundle),
        "--console-socket",
        socket.arg(),
        "t6",
    ]);
    let err = out.failed();
    assert!(err.contains("--console-socket"), "{err}");
    assert!(err.contains("terminal is false"), "{err}");
    assert!(!socket.has_connection(), "berth connected anyway");
    env.assert_gone("t6");
    assert!(
        fs::read_dir(&env.root).map_or(true, |mut d| d.next().is_none()),
        "state left under {}",
        env.root.display()
    );
}

#[test]
fn the_terminal_belongs_to_the_process_user() {
    // runc chowns the process's stdio to its user before the switch: a non-root process can
    // then reopen its own terminal by path (/dev/stdout, /proc/self/fd/N, `tty`).
    let env = Env::new("tty-owner");
    let socket = ConsoleSocket::new(&env);
    let mut cfg = terminal_config(
        &env,
        "stat -c %u:%g \"$(tty)\"; echo reopened >/dev/stdout && echo ok; id -u",
    );
    cfg["process"]["user"] = json!({ "uid": 1000, "gid": 1000 });
    let bundle = env.write_bundle("t7", &cfg);
    env.berth(&[
        "create",
        "--bundle",
        path(&bundle),
        "--console-socket",
        socket.arg(),
        "t7",
    ])
    .ok();
    let (_, master) = socket.receive_master();
    env.berth(&["start", "t7"]).ok();
    let mut term = Term::new(master);
    // The owner changes; the group stays devpts' gid=5 (tty).
    assert_eq!(term.rest(), "1000:5\r\nreopened\r\nok\r\n1000\r\n");
    eventually("the container to stop", || env.status("t7") == "stopped");
    env.berth(&["delete", "t7"]).ok();
    env.assert_gone("t7");
}

#[test]
fn stdio_pipes_belong_to_the_process_user() {
    // The same for the pipes containerd and conmon pass (nginx and friends log to /dev/stdout);
    // /dev/null is never chowned.
    let env = Env::new("stdio-owner");
    let bundle = env.write_bundle("t8", &{
        let mut cfg = env.config(&[
            "sh",
            "-c",
            "echo one; echo two >>/dev/stdout; echo three >>/proc/self/fd/2",
        ]);
        cfg["process"]["user"] = json!({ "uid": 1000, "gid": 1000 });
        cfg
    });
    let out = env
        .berth_cmd(&["run", "--bundle", path(&bundle), "t8"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = common::Run::from_output(out);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "one\ntwo\n");
    assert_eq!(out.stderr, "three\n");
    let null = fs::metadata("/dev/null").unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&null),
        0,
        "/dev/null was chowned"
    );
    env.assert_gone("t8");
}

#[test]
fn console_socket_may_be_seqpacket() {
    use nix::sys::socket::{
        accept, bind, listen, socket, AddressFamily, Backlog, SockFlag, SockType, UnixAddr,
    };
    // berth falls back to SOCK_SEQPACKET when the listener is not a stream socket.
    let env = Env::new("tty-seqpacket");
    let sock_path = env.dir.join("seq.sock");
    let listener = socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    bind(listener.as_raw_fd(), &UnixAddr::new(&sock_path).unwrap()).unwrap();
    listen(&listener, Backlog::new(1).unwrap()).unwrap();
    let cfg = terminal_config(&env, "echo over-seqpacket");
    let bundle = env.write_bundle("t9", &cfg);
    env.berth(&[
        "run",
        "-d",
        "--bundle",
        path(&bundle),
        "--console-socket",
        path(&sock_path),
        "t9",
    ])
    .ok();
    let conn = accept(&listener).unwrap();
    let (payload, master) = common::receive_with_fd(&conn);
    assert_eq!(payload, b"/dev/ptmx");
    let mut term = Term::new(master);
    assert_eq!(term.rest(), "over-seqpacket\r\n");
    eventually("the container to stop", || env.status("t9") == "stopped");
    env.berth(&["delete", "t9"]).ok();
    env.assert_gone("t9");
}

#[test]
fn a_read_only_dev_still_gets_the_console() {
    // runc's order: mounts, device nodes, pivot, /dev/console, and only then /dev read-only.
    let env = Env::new("tty-ro-dev");
    let socket = ConsoleSocket::new(&env);
    let script = concat!(
        "[ \"$(stat -c %t:%T /dev/console)\" = \"$(stat -c %t:%T \"$(tty)\")\" ] && echo console-is-the-pty; ",
        "grep -E ' /dev (ro|rw),' /proc/self/mountinfo | cut -d' ' -f5,6; ",
        "touch /dev/new 2>&1; echo touch:$?",
    );
    let mut cfg = terminal_config(&env, script);
    let dev = cfg["mounts"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["destination"] == "/dev")
        .unwrap();
    dev["options"].as_array_mut().unwrap().push(json!("ro"));
    let bundle = env.write_bundle("t10", &cfg);
    env.berth(&[
        "run",
        "-d",
        "--bundle",
        path(&bundle),
        "--console-socket",
        socket.arg(),
        "t10",
    ])
    .ok();
    let (_, master) = socket.receive_master();
    let mut term = Term::new(master);
    assert_eq!(
        term.rest(),
        "console-is-the-pty\r\n/dev ro,nosuid\r\ntouch: /dev/new: Read-only file system\r\ntouch:1\r\n"
    );
    eventually("the container to stop", || env.status("t10") == "stopped");
    env.berth(&["delete", "t10"]).ok();
    env.assert_gone("t10");
}
