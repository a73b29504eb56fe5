//! Thin wrappers for the system calls that nix does not cover: clone3, the fd-based mount API,
//! close_range, pidfds, sched_setattr, ioprio_set, keyctl and the loopback interface.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use anyhow::Context;
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::unistd::Pid;

fn check(ret: libc::c_long) -> nix::Result<libc::c_long> {
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

fn owned(ret: libc::c_long) -> nix::Result<OwnedFd> {
    // SAFETY: the kernel just returned this descriptor to us; nobody else owns it.
    check(ret).map(|fd| unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn cstr(s: &str) -> nix::Result<CString> {
    CString::new(s).map_err(|_| Errno::EINVAL)
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Like fork, but creating `flags` namespaces and (with a cgroup fd) starting in that cgroup.
/// Returns `None` in the child.
pub fn clone3(flags: u64, cgroup: Option<BorrowedFd>) -> nix::Result<Option<Pid>> {
    // SAFETY: clone_args is plain old data.
    let mut args: libc::clone_args = unsafe { std::mem::zeroed() };
    args.flags = flags;
    args.exit_signal = libc::SIGCHLD as u64;
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }
    // SAFETY: without CLONE_VM the child gets a copy of our address space, like fork; berth is
    // single-threaded, so no lock can be held by a thread that does not exist in the child.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut libc::clone_args,
            std::mem::size_of::<libc::clone_args>(),
        )
    };
    match check(ret)? {
        0 => Ok(None),
        pid => Ok(Some(Pid::from_raw(pid as i32))),
    }
}

/// `clone(CLONE_PARENT)`: a child that becomes a sibling of the caller (the forced second fork for
/// pid and time namespaces, so the container init stays a child of `berth create`'s caller).
///
/// The caller reports the child's pid to berth and exits; the child returns only once the caller
/// has exited. Both write to the same channel, and berth must read the pid before anything the
/// child sends (its hooks request, `Ready`): without the wait a fast child overtakes the report
/// and berth takes the exiting caller for the container's process.
pub fn fork_sibling() -> nix::Result<Option<Pid>> {
    let caller = pidfd_open(nix::unistd::getpid().as_raw())?;
    // SAFETY: as clone3 above; a null stack means "share the (copied) stack", like fork.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    match check(ret)? {
        0 => {
            // A pidfd turns readable when its process has exited.
            let mut fds = [PollFd::new(caller.as_fd(), PollFlags::POLLIN)];
            loop {
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(_) => return Ok(None),
                    Err(Errno::EINTR) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        pid => Ok(Some(Pid::from_raw(pid as i32))),
    }
}

/// `open_tree(dirfd, path, flags)`; with an empty path, `AT_EMPTY_PATH` is added.
pub fn open_tree(dirfd: RawFd, path: &str, flags: u32) -> nix::Result<OwnedFd> {
    let p = cstr(path)?;
    let flags = if path.is_empty() {
        flags | libc::AT_EMPTY_PATH as u32
    } else {
        flags
    };
    // SAFETY: valid C string and flags.
    owned(unsafe { libc::syscall(libc::SYS_open_tree, dirfd, p.as_ptr(), flags) })
}

/// Attaches the detached mount `from` on top of the file `to` refers to.
pub fn move_mount(from: BorrowedFd, to: BorrowedFd) -> nix::Result<()> {
    let empty = c"";
    let flags = libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH;
    // SAFETY: both paths are empty C strings; the fds are borrowed for the call.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.as_raw_fd(),
            empty.as_ptr(),
            to.as_raw_fd(),
            empty.as_ptr(),
            flags,
        )
    })
    .map(drop)
}

pub fn fsopen(fstype: &str) -> nix::Result<OwnedFd> {
    let t = cstr(fstype)?;
    // SAFETY: valid C string.
    owned(unsafe { libc::syscall(libc::SYS_fsopen, t.as_ptr(), libc::FSOPEN_CLOEXEC) })
}

fn fsconfig(fd: BorrowedFd, cmd: u32, key: Option<&CStr>, value: Option<&CStr>) -> nix::Result<()> {
    let k = key.map_or(std::ptr::null(), CStr::as_ptr);
    let v = value.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: key/value are null or valid C strings.
    check(unsafe { libc::syscall(libc::SYS_fsconfig, fd.as_raw_fd(), cmd, k, v, 0) }).map(drop)
}

pub fn fsconfig_set_string(fd: BorrowedFd, key: &str, value: &str) -> nix::Result<()> {
    let (k, v) = (cstr(key)?, cstr(value)?);
    fsconfig(fd, libc::FSCONFIG_SET_STRING, Some(&k), Some(&v))
}

pub fn fsconfig_set_flag(fd: BorrowedFd, key: &str) -> nix::Result<()> {
    let k = cstr(key)?;
    fsconfig(fd, libc::FSCONFIG_SET_FLAG, Some(&k), None)
}

pub fn fsconfig_create(fd: BorrowedFd) -> nix::Result<()> {
    fsconfig(fd, libc::FSCONFIG_CMD_CREATE, None, None)
}

/// The kernel's own explanation of a failed fsconfig, read from the filesystem context.
pub fn fs_context_message(fd: BorrowedFd) -> Option<String> {
    let mut buf = [0u8; 512];
    // SAFETY: reading into a local buffer.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n <= 2 {
        return None;
    }
    let text = String::from_utf8_lossy(&buf[..n as usize]);
    // Lines look like "e tmpfs: Bad value for 'size'".
    Some(
        text.trim()
            .trim_start_matches(['e', 'w', 'i', ' '])
            .to_owned(),
    )
}

pub fn fsmount(fd: BorrowedFd, attr_flags: u64) -> nix::Result<OwnedFd> {
    // SAFETY: plain integer arguments.
    owned(unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fd.as_raw_fd(),
            libc::FSMOUNT_CLOEXEC,
            attr_flags as libc::c_uint,
        )
    })
}

/// Attribute changes for `mount_setattr`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MountAttr {
    pub set: u64,
    pub clear: u64,
    pub propagation: u64,
    pub userns_fd: Option<RawFd>,
}

impl MountAttr {
    pub fn is_empty(&self) -> bool {
        self.set == 0 && self.clear == 0 && self.propagation == 0 && self.userns_fd.is_none()
    }
}

pub fn mount_setattr(fd: BorrowedFd, recursive: bool, attr: &MountAttr) -> nix::Result<()> {
    if attr.is_empty() {
        return Ok(());
    }
    let raw = libc::mount_attr {
        attr_set: attr.set,
        attr_clr: attr.clear,
        propagation: attr.propagation,
        userns_fd: attr.userns_fd.map_or(0, |fd| fd as u64),
    };
    let mut flags = libc::AT_EMPTY_PATH as u32;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    // SAFETY: `raw` lives across the call and its size is passed.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &raw as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    })
    .map(drop)
}

/// Marks every descriptor from `first` upwards close-on-exec.
pub fn cloexec_from(first: u32) -> nix::Result<()> {
    // SAFETY: plain integer arguments.
    let ret = unsafe { libc::close_range(first, u32::MAX, libc::CLOSE_RANGE_CLOEXEC as i32) };
    check(ret as libc::c_long).map(drop)
}

/// Closes every descriptor in `first..=last`.
pub fn close_range(first: u32, last: u32) -> nix::Result<()> {
    if first > last {
        return Ok(());
    }
    // SAFETY: plain integer arguments.
    check(unsafe { libc::close_range(first, last, 0) } as libc::c_long).map(drop)
}

pub fn pidfd_open(pid: i32) -> nix::Result<OwnedFd> {
    // SAFETY: plain integer arguments.
    owned(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })
}

pub fn pidfd_send_signal(pidfd: BorrowedFd, sig: i32) -> nix::Result<()> {
    // SAFETY: a null siginfo means "as kill(2)".
    check(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    })
    .map(drop)
}

pub fn sched_setattr(attr: &libc::sched_attr) -> nix::Result<()> {
    // SAFETY: `attr` is a valid sched_attr whose size field is set by the caller.
    check(unsafe { libc::syscall(libc::SYS_sched_setattr, 0, attr as *const _, 0) }).map(drop)
}

pub fn ioprio_set_self(class: u32, level: u32) -> nix::Result<()> {
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    let prio = (class << 13) | level;
    // SAFETY: plain integer arguments.
    check(unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, prio) }).map(drop)
}

/// Joins a new session keyring named `name` and lets the container's user search it, as runc
/// does (so keys of the host session never leak into containers).
pub fn join_session_keyring(name: &str) -> nix::Result<()> {
    const KEYCTL_DESCRIBE: libc::c_int = 6;
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_int = 1;
    const KEYCTL_SETPERM: libc::c_int = 5;
    const KEY_USR_SEARCH: u32 = 0x0008_0000;
    let n = cstr(name)?;
    // SAFETY: valid C string.
    let serial =
        check(unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, n.as_ptr()) })?;
    // The description reads "type;uid;gid;perm;name" with perm in hex.
    let mut buf = [0u8; 256];
    // SAFETY: the kernel writes at most buf.len() bytes.
    let len = check(unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_DESCRIBE,
            serial,
            buf.as_mut_ptr(),
            buf.len(),
        )
    })? as usize;
    let desc = String::from_utf8_lossy(&buf[..len.min(buf.len())]);
    let perm = desc
        .split(';')
        .nth(3)
        .and_then(|p| u32::from_str_radix(p, 16).ok())
        .ok_or(Errno::EINVAL)?;
    // SAFETY: plain integer arguments.
    check(unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_SETPERM,
            serial,
            perm | KEY_USR_SEARCH,
        )
    })
    .map(drop)
}

/// Brings up `lo` in the current network namespace (a new one starts with it down).
pub fn loopback_up() -> nix::Result<()> {
    let (family, kind) = (libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC);
    // SAFETY: plain integer arguments; the descriptor is owned at once.
    let sock = owned(unsafe { libc::socket(family, kind, 0) } as libc::c_long)?;
    // SAFETY: ifreq is plain old data.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the flags of the named interface in `req`.
    unsafe {
        check(libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) as libc::c_long)?;
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        check(libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) as libc::c_long).map(drop)
    }
}

/// A new memfd (close-on-exec); `sealable` allows seals to be added later.
pub fn memfd(name: &str, sealable: bool) -> anyhow::Result<std::fs::File> {
    let name = CString::new(name)?;
    let flags = libc::MFD_CLOEXEC | if sealable { libc::MFD_ALLOW_SEALING } else { 0 };
    // SAFETY: valid C string; returns a new descriptor.
    let fd = owned(unsafe { libc::memfd_create(name.as_ptr(), flags) } as libc::c_long)
        .map_err(std::io::Error::from)
        .context("memfd_create")?;
    Ok(fd.into())
}
