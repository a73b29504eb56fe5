//! The container's terminal: a pty opened from the container's own devpts, the slave as the
//! process's stdio and controlling terminal (and /dev/console), the master sent to whoever
//! attaches — over `--console-socket` (runc's protocol: SCM_RIGHTS) or back to `berth run`.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::{open, openat, OFlag};
use nix::sys::socket::{
    connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr,
};
use nix::sys::stat::{fstat, Mode};
use nix::sys::statfs::{fstatfs, DEVPTS_SUPER_MAGIC};

use crate::linux::mount::{attach, bind_fd, MountOptions};
use crate::linux::procfs_handle::{Procfs, Scope};
use crate::linux::resolve::{open_in_root, parent_in_root};

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

/// Opens a new pty pair from the container's devpts (after pivot_root), as runc does: the
/// handle on /dev/pts/ptmx is checked to be a real ptmx before it is opened (CVE-2025-52565), and
/// the slave is checked to live on that same devpts instance. /dev/ptmx itself is not used: in a
/// /dev of the image or of the config it may lead anywhere.
pub fn open_pty() -> Result<Pty> {
    let root = open(
        "/",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let ptmx = open_in_root(root.as_fd(), Path::new(PTMX), OFlag::O_PATH)
        .with_context(|| format!("open {PTMX}"))?;
    let devpts = check_ptmx(ptmx.as_fd())?;
    let proc = Procfs::get(Scope::Process).context("open a pty")?;
    let flags = OFlag::O_RDWR | OFlag::O_NOCTTY;
    let master = proc
        .reopen(ptmx.as_fd(), flags)
        .with_context(|| format!("open {PTMX}"))?;
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
    if !on_devpts(slave.as_fd()) || fstat(slave.as_fd())?.st_dev != devpts {
        bail!("the pty slave is not on the devpts of {PTMX}");
    }
    Ok(Pty { master, slave })
}

const PTMX: &str = "/dev/pts/ptmx";

/// `fd` is the ptmx node of a devpts (inode 2, character device 5:2, fs/devpts/inode.c);
/// returns the device number of that devpts instance.
fn check_ptmx(fd: BorrowedFd) -> Result<libc::dev_t> {
    let st = fstat(fd).with_context(|| format!("stat {PTMX}"))?;
    let is_ptmx = st.st_mode & libc::S_IFMT == libc::S_IFCHR
        && st.st_rdev == libc::makedev(5, 2)
        && st.st_ino == 2;
    if !on_devpts(fd) || !is_ptmx {
        bail!("{PTMX} is not the ptmx of a devpts (is /dev/pts mounted?)");
    }
    Ok(st.st_dev)
}

fn on_devpts(fd: BorrowedFd) -> bool {
    fstatfs(fd).is_ok_and(|s| s.filesystem_type() == DEVPTS_SUPER_MAGIC)
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
        let target = console_target()?;
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

/// The handle /dev/console is bound on: the image's file or character device, or an empty file
/// made for it — never followed, so a symlink of the image cannot send the pty over a file of
/// /proc (CVE-2025-52565).
fn console_target() -> Result<OwnedFd> {
    let root = open(
        "/",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let (dev, name) = parent_in_root(root.as_fd(), Path::new("/dev/console"))?;
    let nofollow = OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = match openat(dev.as_fd(), name, OFlag::O_PATH | nofollow, Mode::empty()) {
        Err(Errno::ENOENT) => {
            let create = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | nofollow;
            openat(dev.as_fd(), name, create, Mode::from_bits_truncate(0o666))
        }
        other => other,
    }
    .context("open /dev/console")?;
    match fstat(fd.as_fd()).context("stat /dev/console")?.st_mode & libc::S_IFMT {
        libc::S_IFREG | libc::S_IFCHR => Ok(fd),
        libc::S_IFLNK => bail!(
            "/dev/console is a symlink: the terminal is mounted only on a file or a character device"
        ),
        _ => bail!("/dev/console is not a file or a character device"),
    }
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
