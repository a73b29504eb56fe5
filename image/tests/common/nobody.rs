//! What another local user can reach: probes run as uid and gid 65534 (nobody, no supplementary
//! groups), each answering with the errno the kernel gave it.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

pub const NOBODY: u32 = 65534;

/// The errno nobody gets opening `path` read-only (without blocking on a fifo); 0 if it opens.
pub fn open_errno(path: &Path) -> i32 {
    let path = CString::new(path.as_os_str().as_bytes()).unwrap();
    // The child only makes async-signal-safe calls before _exit: safe in a threaded test process.
    match unsafe { libc::fork() } {
        -1 => panic!("fork: {}", std::io::Error::last_os_error()),
        0 => unsafe {
            let code = if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setresgid(NOBODY, NOBODY, NOBODY) != 0
                || libc::setresuid(NOBODY, NOBODY, NOBODY) != 0
            {
                255
            } else if libc::open(
                path.as_ptr(),
                libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY,
            ) >= 0
            {
                0
            } else {
                *libc::__errno_location()
            };
            libc::_exit(code)
        },
        pid => {
            let mut status = 0;
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            assert!(libc::WIFEXITED(status), "probe of {path:?} died: {status}");
            let code = libc::WEXITSTATUS(status);
            assert_ne!(code, 255, "the probe could not become nobody");
            code
        }
    }
}

/// The errno nobody gets executing `path`; 0 if it runs.
pub fn exec_errno(path: &Path) -> i32 {
    let spawned = Command::new(path)
        .uid(NOBODY)
        .gid(NOBODY)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            let _ = child.kill();
            let _ = child.wait();
            0
        }
        Err(e) => e.raw_os_error().unwrap_or(-1),
    }
}
