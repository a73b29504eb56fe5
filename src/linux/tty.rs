//! The container's terminal: a pty opened from the container's own devpts, the slave as the
//! process's stdio and controlling terminal (and /dev/console), the master sent to whoever
//! attaches — over `--console-socket` (runc's protocol: SCM_RIGHTS) or back to `berth run`.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::socket::{
    connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr,
};
use nix::sys::stat::Mode;

use crate::linux::mount::{attach, bind_fd, MountOptions};
use crate::linux::resolve::{ensure_in_root, Kind};

pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

/// Connects to the console socket on the host side, before the clone (the path is not reachable
/// from inside the container).
pub fn connect_console_socket(path: &Path) -> Result<OwnedFd> {
    let addr = UnixAddr::new(path).with_context(|| format!("console socket {}", path.display()))?;
    for ty in [SockType::Stream, SockType::SeqPacket] {
        let sock = socket(AddressFamily::Unix, ty, SockFlag::SOCK_CLOEXEC, None)?;
        match connect(sock.as_raw_fd(), &addr) {
            Ok(()) => return Ok(sock),
            Err(Errno::EPROTOTYPE) => continue,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("connect to console socket {}", path.display()))
            }
        }
    }
    bail!(
        "connect to console socket {}: unsupported socket type",
        path.display()
    )
}

/// Opens a new pty pair from /dev/ptmx (the container's devpts instance after pivot_root).
pub fn open_pty() -> Result<Pty> {
    let master = open(
        "/dev/ptmx",
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context("open /dev/ptmx")?;
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK takes a pointer to an int.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } < 0 {
        return Err(Errno::last()).context("unlock pty");
    }
    // TIOCGPTPEER opens the slave through the master: no path lookup that could be raced.
    // SAFETY: plain integer arguments; returns a new fd.
    let fd = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(Errno::last()).context("open pty slave");
    }
    // SAFETY: a new descriptor returned by the kernel.
    let slave = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(Pty { master, slave })
}

pub fn set_size(fd: BorrowedFd, rows: u16, cols: u16) -> Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) } < 0 {
        return Err(Errno::last()).context("set terminal size");
    }
    Ok(())
}

/// The slave becomes stdin, stdout, stderr and the controlling terminal of this (session
/// leader) process; for a container's init it is also bound over /dev/console.
pub fn attach_slave(slave: &OwnedFd, console: bool) -> Result<()> {
    if console {
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let root = open("/", flags, Mode::empty())?;
        let target = ensure_in_root(root.as_fd(), Path::new("/dev/console"), Kind::File)?;
        let tree = bind_fd(slave.as_fd(), false).context("bind the pty")?;
        attach(tree.as_fd(), target.as_fd(), &MountOptions::default())
            .context("mount /dev/console")?;
    }
    for target in [0, 1, 2] {
        // SAFETY: duplicating onto the standard descriptors of this process.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(Errno::last()).context("dup the pty onto stdio");
        }
    }
    // SAFETY: plain integer arguments.
    if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } < 0 {
        return Err(Errno::last()).context("set controlling terminal");
    }
    Ok(())
}

/// Sends the master over the console socket as runc does: SCM_RIGHTS with the name as payload.
pub fn send_master(socket: BorrowedFd, master: BorrowedFd) -> Result<()> {
    let name = b"/dev/ptmx";
    let fds = [master.as_raw_fd()];
    sendmsg::<()>(
        socket.as_raw_fd(),
        &[IoSlice::new(name)],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .context("send the pty master to the console socket")?;
    Ok(())
}
