//! Writes one archive entry into the rootfs: the object itself (file, directory, symlink, hard
//! link, device node, fifo), then its owner, mode (with setuid/setgid/sticky bits), xattrs and
//! mtime — every call relative to the parent directory's fd, the last component never followed.
//! Sparse files keep their holes: runs of zeros are skipped over, not written.

use std::ffi::OsStr;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{
    chmodat, chownat, fchmod, fchown, fsetxattr, futimens, linkat, lsetxattr, makedev, mkdirat,
    mknodat, openat, symlinkat, utimensat, AtFlags, FileType, Mode, OFlags, Timespec, Timestamps,
    XattrFlags,
};
use rustix::io::Errno;
use rustix::process::{Gid, Uid};

use crate::inroot::{remove_all, RootDir};

/// What an entry is, with what its kind needs.
pub enum Kind<'a> {
    File,
    /// A GNU sparse file: its holes read as zeros, which are not written.
    SparseFile,
    Directory,
    Symlink(&'a [u8]),
    /// A hard link to this (cleaned) path inside the root.
    HardLink(&'a Path),
    CharDevice(u32, u32),
    BlockDevice(u32, u32),
    Fifo,
}

/// Owner, permissions, xattrs and modification time from the archive.
pub struct Metadata {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub mtime: i64,
    pub xattrs: Vec<(String, Vec<u8>)>,
}

/// How entries are written: chown only works as root, device nodes only with CAP_MKNOD.
pub struct Writer {
    pub as_root: bool,
    buffer: Vec<u8>,
    /// What a hole reads as, to compare with (mapped lazily, as zero pages).
    zeros: Vec<u8>,
}

const BUFFER_SIZE: usize = 256 * 1024;

impl Writer {
    pub fn new() -> Writer {
        Writer {
            as_root: rustix::process::geteuid().is_root(),
            buffer: vec![0; BUFFER_SIZE],
            zeros: vec![0; BUFFER_SIZE],
        }
    }

    /// Creates `name` in `parent`, replacing whatever is there (a directory stays a directory).
    /// Directory mtimes are left to the caller, which sets them once the layer is done.
    pub fn write(
        &mut self,
        root: &RootDir,
        parent: &OwnedFd,
        name: &OsStr,
        kind: Kind,
        meta: &Metadata,
        data: impl Read,
    ) -> io::Result<()> {
        match kind {
            Kind::File => self.write_file(parent, name, meta, data, false),
            Kind::SparseFile => self.write_file(parent, name, meta, data, true),
            Kind::Directory => self.write_dir(parent, name, meta),
            Kind::Symlink(target) => {
                replacing(parent, name, || {
                    symlinkat(OsStr::from_bytes(target), parent, name)
                })?;
                self.set_metadata_at(parent, name, meta, false)
            }
            Kind::HardLink(target) => {
                // Resolved inside the root like any path, and not followed if it is a symlink.
                let target = root.open_in_root(target, OFlags::PATH | OFlags::NOFOLLOW)?;
                replacing(parent, name, || {
                    linkat(&target, "", parent, name, AtFlags::EMPTY_PATH)
                })
            }
            Kind::CharDevice(major, minor) => self.make_node(
                parent,
                name,
                FileType::CharacterDevice,
                makedev(major, minor),
                meta,
            ),
            Kind::BlockDevice(major, minor) => self.make_node(
                parent,
                name,
                FileType::BlockDevice,
                makedev(major, minor),
                meta,
            ),
            Kind::Fifo => self.make_node(parent, name, FileType::Fifo, 0, meta),
        }
    }

    fn write_file(
        &mut self,
        parent: &OwnedFd,
        name: &OsStr,
        meta: &Metadata,
        mut data: impl Read,
        sparse: bool,
    ) -> io::Result<()> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mode = Mode::from_raw_mode(meta.mode & 0o777);
        let mut file = std::fs::File::from(replacing(parent, name, || {
            openat(parent, name, flags, mode)
        })?);
        loop {
            let n = match data.read(&mut self.buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if sparse && self.buffer[..n] == self.zeros[..n] {
                file.seek(SeekFrom::Current(n as i64))?;
            } else {
                file.write_all(&self.buffer[..n])?;
            }
        }
        if sparse {
            // A hole at the end is a length, not a seek.
            let end = file.stream_position()?;
            file.set_len(end)?;
        }
        self.set_metadata_fd(&file, meta)?;
        futimens(&file, &timestamps(meta.mtime))?;
        Ok(())
    }

    fn write_dir(&self, parent: &OwnedFd, name: &OsStr, meta: &Metadata) -> io::Result<()> {
        let open = || {
            openat(
                parent,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
        };
        let dir = match open() {
            Ok(dir) => dir,
            Err(Errno::NOENT) => {
                mkdirat(parent, name, Mode::from_raw_mode(0o700))?;
                open()?
            }
            // Something else is there: a directory replaces it.
            Err(Errno::NOTDIR | Errno::LOOP) => {
                remove_all(parent, name)?;
                mkdirat(parent, name, Mode::from_raw_mode(0o700))?;
                open()?
            }
            Err(e) => return Err(e.into()),
        };
        self.set_metadata_fd(&dir, meta)
    }

    fn make_node(
        &self,
        parent: &OwnedFd,
        name: &OsStr,
        file_type: FileType,
        dev: u64,
        meta: &Metadata,
    ) -> io::Result<()> {
        let mode = Mode::from_raw_mode(meta.mode & 0o777);
        match replacing(parent, name, || mknodat(parent, name, file_type, mode, dev)) {
            // Without CAP_MKNOD a device node cannot exist; the runtime provides /dev anyway.
            Err(e) if !self.as_root && e.raw_os_error() == Some(Errno::PERM.raw_os_error()) => {
                return Ok(())
            }
            other => other?,
        }
        self.set_metadata_at(parent, name, meta, true)
    }

    /// Owner first: changing it clears setuid/setgid bits, which the mode then restores.
    fn set_metadata_fd(&self, fd: impl AsFd, meta: &Metadata) -> io::Result<()> {
        if self.as_root && (meta.uid, meta.gid) != (0, 0) {
            fchown(
                &fd,
                Some(Uid::from_raw(meta.uid)),
                Some(Gid::from_raw(meta.gid)),
            )?;
        }
        fchmod(&fd, Mode::from_raw_mode(meta.mode & 0o7777))?;
        for (key, value) in &meta.xattrs {
            fsetxattr(&fd, key.as_str(), value, XattrFlags::empty())
                .or_else(|e| tolerate_xattr(self.as_root, e))?;
        }
        Ok(())
    }

    /// For objects that cannot be opened for writing (symlinks, nodes): through the parent.
    fn set_metadata_at(
        &self,
        parent: &OwnedFd,
        name: &OsStr,
        meta: &Metadata,
        has_mode: bool,
    ) -> io::Result<()> {
        if self.as_root {
            chownat(
                parent,
                name,
                Some(Uid::from_raw(meta.uid)),
                Some(Gid::from_raw(meta.gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )?;
        }
        if has_mode {
            chmodat(
                parent,
                name,
                Mode::from_raw_mode(meta.mode & 0o7777),
                AtFlags::empty(),
            )?;
        }
        if !meta.xattrs.is_empty() {
            // The parent's fd in /proc names the directory; lsetxattr does not follow `name`.
            use std::os::fd::AsRawFd;
            let path = Path::new("/proc/self/fd")
                .join(parent.as_raw_fd().to_string())
                .join(name);
            for (key, value) in &meta.xattrs {
                lsetxattr(&path, key.as_str(), value, XattrFlags::empty())
                    .or_else(|e| tolerate_xattr(self.as_root, e))?;
            }
        }
        utimensat(
            parent,
            name,
            &timestamps(meta.mtime),
            AtFlags::SYMLINK_NOFOLLOW,
        )?;
        Ok(())
    }
}

/// Sets a directory's mtime once the layer has finished writing into it.
pub fn set_dir_mtime(dir: impl AsFd, mtime: i64) -> io::Result<()> {
    Ok(futimens(dir, &timestamps(mtime))?)
}

/// Runs `create`; if `name` already exists, removes it (a whole tree for a directory) and retries.
fn replacing<T>(
    parent: &OwnedFd,
    name: &OsStr,
    create: impl Fn() -> rustix::io::Result<T>,
) -> io::Result<T> {
    match create() {
        Err(Errno::EXIST) => {
            remove_all(parent, name)?;
            Ok(create()?)
        }
        other => Ok(other?),
    }
}

/// Unprivileged, trusted.* and security.* xattrs cannot be set: they are dropped, as umoci does.
fn tolerate_xattr(as_root: bool, e: Errno) -> io::Result<()> {
    match e {
        Errno::PERM if !as_root => Ok(()),
        // The filesystem under the rootfs has no xattrs (e.g. some tmpfs configurations).
        Errno::OPNOTSUPP => Ok(()),
        e => Err(e.into()),
    }
}

fn timestamps(mtime: i64) -> Timestamps {
    let time = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    Timestamps {
        last_access: time,
        last_modification: time,
    }
}
