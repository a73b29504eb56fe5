//! `tmpcopyup`: a tmpfs mounted over a directory of the image starts with that directory's content
//! (files, directories, symlinks and nodes, with owners and modes).

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use anyhow::{Context, Result};
use nix::dir::Dir;
use nix::fcntl::{openat, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fchmodat, fstatat, mkdirat, mknodat, FchmodatFlags, Mode, SFlag};
use nix::unistd::{fchownat, symlinkat, Gid, Uid};

/// Copies the content of directory `from` into directory `to` (both handles).
pub fn copy_tree(from: BorrowedFd, to: BorrowedFd) -> Result<()> {
    let src = reopen_dir(from)?;
    let dst = reopen_dir(to)?;
    copy_dir(src.as_fd(), dst.as_fd())
}

fn reopen_dir(fd: BorrowedFd) -> Result<OwnedFd> {
    Ok(openat(
        fd,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?)
}

fn copy_dir(src: BorrowedFd, dst: BorrowedFd) -> Result<()> {
    let mut dir = Dir::from_fd(src.try_clone_to_owned()?).context("read directory")?;
    let names: Vec<std::ffi::CString> = dir
        .iter()
        .flatten()
        .filter(|e| !matches!(e.file_name().to_bytes(), b"." | b".."))
        .map(|e| e.file_name().to_owned())
        .collect();
    for name in names {
        let name = OsStr::from_bytes(name.to_bytes());
        copy_entry(src, dst, name).with_context(|| format!("copy {}", name.to_string_lossy()))?;
    }
    Ok(())
}

fn copy_entry(src: BorrowedFd, dst: BorrowedFd, name: &OsStr) -> Result<()> {
    let st = fstatat(src, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
    let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
    let perm = Mode::from_bits_truncate(st.st_mode & 0o7777);
    match kind {
        SFlag::S_IFDIR => {
            mkdirat(dst, name, perm)?;
            let s = openat(
                src,
                name,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
            let d = openat(
                dst,
                name,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
            copy_dir(s.as_fd(), d.as_fd())?;
        }
        SFlag::S_IFREG => {
            let s = openat(
                src,
                name,
                OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
            let d = openat(
                dst,
                name,
                OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_CLOEXEC,
                perm,
            )?;
            std::io::copy(&mut File::from(s), &mut File::from(d))?;
        }
        SFlag::S_IFLNK => {
            let target = readlinkat(src, name)?;
            symlinkat(target.as_os_str(), dst, name)?;
        }
        _ => mknodat(dst, name, kind, perm, st.st_rdev)?,
    }
    fchownat(
        dst,
        name,
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )?;
    if kind != SFlag::S_IFLNK {
        // chown clears setuid bits; the mode is set last.
        fchmodat(dst, name, perm, FchmodatFlags::FollowSymlink)?;
    }
    Ok(())
}
