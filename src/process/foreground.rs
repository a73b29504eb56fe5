//! `berth run` in the foreground: forward every signal to the container's init, proxy its
//! terminal (if berth holds the pty master), and return its exit status — 128+N when killed by
//! signal N.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Blocks all signals and opens a signalfd for them; done before the clone so that no signal
/// sent to `berth run` is lost (the clone unblocks them for itself).
pub fn catch_signals() -> Result<SignalFd> {
    let all = SigSet::all();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&all), None)
        .context("block signals")?;
    SignalFd::with_flags(&all, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK).context("signalfd")
}

/// Waits for `init` to exit, forwarding signals and copying terminal data.
pub fn wait(init: Pid, sigfd: &SignalFd, pty: Option<OwnedFd>) -> Result<i32> {
    let _raw = match &pty {
        Some(master) => {
            set_nonblocking(master.as_fd())?;
            copy_window_size(master.as_fd());
            RawTerminal::enter()
        }
        None => None,
    };
    let stdin = std::io::stdin();
    let mut stdin_open = pty.is_some();
    let mut master_open = pty.is_some();
    loop {
        let mut fds = vec![PollFd::new(sigfd.as_fd(), PollFlags::POLLIN)];
        if let (true, Some(master)) = (master_open, &pty) {
            fds.push(PollFd::new(master.as_fd(), PollFlags::POLLIN));
            if stdin_open {
                fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            }
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e).context("poll"),
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        if let (Some(true), Some(master)) = (ready.get(2), &pty) {
            stdin_open = copy_once(stdin.as_fd(), master.as_fd()) != Flow::Closed;
        }
        if let (Some(true), Some(master)) = (ready.get(1), &pty) {
            master_open = drain(master.as_fd()) != Flow::Closed;
        }
        if ready[0] {
            if let Some(code) = handle_signals(init, sigfd, pty.as_ref())? {
                crate::logging::debug(format_args!("process {init} exited with status {code}"));
                if let Some(master) = &pty {
                    let _ = drain(master.as_fd());
                }
                return Ok(code);
            }
        }
    }
}

/// Forwards pending signals; returns the init's exit code once SIGCHLD says it is gone.
fn handle_signals(init: Pid, sigfd: &SignalFd, pty: Option<&OwnedFd>) -> Result<Option<i32>> {
    let mut exit = None;
    while let Some(info) = sigfd.read_signal().context("read signalfd")? {
        let sig = info.ssi_signo as i32;
        if sig == libc::SIGCHLD {
            // As a subreaper berth also inherits the container's orphans: reap them all.
            loop {
                match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::Exited(pid, code)) if pid == init => exit = Some(code),
                    Ok(WaitStatus::Signaled(pid, s, _)) if pid == init => {
                        exit = Some(128 + s as i32)
                    }
                    Ok(WaitStatus::StillAlive) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        } else if sig == libc::SIGWINCH && pty.is_some() {
            if let Some(master) = pty {
                copy_window_size(master.as_fd());
            }
        } else if let Ok(s) = Signal::try_from(sig) {
            crate::logging::debug(format_args!("sending signal to process {s}"));
            let _ = kill(init, s);
        } else {
            // Real-time signals have no nix Signal; forward them raw.
            // SAFETY: plain integer arguments.
            unsafe { libc::kill(init.as_raw(), sig) };
        }
    }
    Ok(exit)
}

#[derive(PartialEq, Eq)]
enum Flow {
    Data,
    Empty,
    Closed,
}

/// One read from `from` written to `to`.
fn copy_once(from: BorrowedFd, to: BorrowedFd) -> Flow {
    let mut buf = [0u8; 8192];
    let n = loop {
        match nix::unistd::read(from, &mut buf) {
            Ok(0) => return Flow::Closed,
            Ok(n) => break n,
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => return Flow::Empty,
            // EIO: every slave descriptor is closed.
            Err(_) => return Flow::Closed,
        }
    };
    let mut rest = &buf[..n];
    while !rest.is_empty() {
        match nix::unistd::write(to, rest) {
            Ok(w) => rest = &rest[w..],
            Err(Errno::EINTR) => continue,
            Err(_) => return Flow::Closed,
        }
    }
    Flow::Data
}

/// Copies what the (non-blocking) pty master holds right now.
fn drain(master: BorrowedFd) -> Flow {
    loop {
        match copy_once(master, std::io::stdout().as_fd()) {
            Flow::Data => continue,
            end => return end,
        }
    }
}

fn set_nonblocking(fd: BorrowedFd) -> Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// Gives the container's terminal the size of ours (if stdin is a terminal). Called before the
/// process is let go too: a program that reads its size first thing must not find 0x0.
pub fn copy_window_size(master: BorrowedFd) {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes a winsize; TIOCSWINSZ reads one.
    unsafe {
        if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
    }
}

/// Our terminal in raw mode while the container's terminal is attached; restored on drop.
struct RawTerminal {
    saved: Termios,
}

impl RawTerminal {
    fn enter() -> Option<RawTerminal> {
        let stdin = std::io::stdin();
        let saved = tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}
