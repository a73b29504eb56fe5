//! Paths named inside a layer (entry names and hard-link targets) made relative to the rootfs.
//! A leading `/` or `./` is dropped (the path is still meant inside the root); a `..` component
//! is refused outright: no legitimate image needs one, and refusing it means a climb never has to
//! be reasoned about.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use anyhow::{bail, Result};

/// The relative path for `raw`; empty for the root itself.
pub fn clean(raw: &[u8]) -> Result<PathBuf> {
    let mut path = PathBuf::new();
    for component in raw.split(|&b| b == b'/') {
        match component {
            b"" | b"." => {}
            b".." => bail!("the path climbs out with \"..\": refused"),
            name => path.push(OsStr::from_bytes(name)),
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_slashes_and_dots_are_dropped() {
        assert_eq!(clean(b"./usr/bin/").unwrap(), PathBuf::from("usr/bin"));
        assert_eq!(clean(b"/etc//passwd").unwrap(), PathBuf::from("etc/passwd"));
        assert_eq!(clean(b"./").unwrap(), PathBuf::new());
    }

    #[test]
    fn dotdot_is_refused_anywhere() {
        for raw in [&b"../etc/passwd"[..], b"a/../../b", b"a/..", b"/.."] {
            assert!(clean(raw).is_err(), "{:?}", String::from_utf8_lossy(raw));
        }
    }
}
