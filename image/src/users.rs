//! The image's `User` ("user", "uid", "user:group", "uid:gid", …) resolved to numeric ids through
//! the image's own /etc/passwd and /etc/group, read inside the rootfs (a symlinked /etc/passwd
//! cannot point at the host's) and only when they are regular files of a sane size.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::inroot::RootDir;

#[derive(Debug, PartialEq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
}

pub fn resolve(root: &RootDir, user: &str) -> Result<ResolvedUser> {
    let passwd = read_table(root, "etc/passwd")?;
    let group = read_table(root, "etc/group")?;
    resolve_in(user, &passwd, &group)
}

/// More than any real /etc/passwd or /etc/group holds.
const TABLE_LIMIT: u64 = 1 << 20;

/// The table's text; empty when the image has none.
fn read_table(root: &RootDir, path: &str) -> Result<String> {
    let context = || format!("the image's /{path}");
    let bytes = root
        .read_regular_file(Path::new(path), TABLE_LIMIT)
        .with_context(context)?
        .unwrap_or_default();
    String::from_utf8(bytes).with_context(context)
}

fn resolve_in(user: &str, passwd: &str, group: &str) -> Result<ResolvedUser> {
    let (user_part, group_part) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let passwd_entries = || {
        passwd
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .filter(|f| f.len() >= 4)
    };
    let group_entries = || {
        group
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .filter(|f| f.len() >= 3)
    };

    let (uid, mut gid, name) = if user_part.is_empty() {
        (0, 0, Some("root".to_string()))
    } else if let Ok(uid) = user_part.parse::<u32>() {
        // A uid need not be in /etc/passwd; then its group is 0, as Docker does.
        match passwd_entries().find(|f| f[2] == user_part) {
            Some(f) => (uid, f[3].parse().unwrap_or(0), Some(f[0].to_string())),
            None => (uid, 0, None),
        }
    } else {
        let Some(f) = passwd_entries().find(|f| f[0] == user_part) else {
            bail!("user {user_part:?} is not in the image's /etc/passwd");
        };
        let uid = f[2]
            .parse()
            .with_context(|| format!("uid of {user_part} in the image's /etc/passwd"))?;
        (
            uid,
            f[3].parse()
                .with_context(|| format!("gid of {user_part} in the image's /etc/passwd"))?,
            Some(user_part.to_string()),
        )
    };
    if let Some(g) = group_part {
        gid = match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => match group_entries().find(|f| f[0] == g) {
                Some(f) => f[2]
                    .parse()
                    .with_context(|| format!("gid of group {g} in the image's /etc/group"))?,
                None => bail!("group {g:?} is not in the image's /etc/group"),
            },
        };
    }
    // Supplementary groups: those listing the user as a member.
    let additional_gids = match &name {
        Some(name) if group_part.is_none() => group_entries()
            .filter(|f| {
                f.get(3)
                    .is_some_and(|members| members.split(',').any(|m| m == name))
            })
            .filter_map(|f| f[2].parse().ok())
            .filter(|g| *g != gid)
            .collect(),
        _ => Vec::new(),
    };
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\nweb:x:33:33::/var/www:/bin/false\n";
    const GROUP: &str =
        "root:x:0:\nwheel:x:10:user,web\nuser:x:1000:\nwww-data:x:33:\naudio:x:29:user\n";

    fn ids(user: &str) -> Result<(u32, u32, Vec<u32>)> {
        resolve_in(user, PASSWD, GROUP).map(|r| (r.uid, r.gid, r.additional_gids))
    }

    #[test]
    fn names_and_numbers_in_every_combination() {
        assert_eq!(ids("").unwrap(), (0, 0, vec![]));
        assert_eq!(ids("user").unwrap(), (1000, 1000, vec![10, 29]));
        assert_eq!(ids("1000").unwrap(), (1000, 1000, vec![10, 29]));
        assert_eq!(ids("4242").unwrap(), (4242, 0, vec![]));
        assert_eq!(ids("web:www-data").unwrap(), (33, 33, vec![]));
        assert_eq!(ids("user:7").unwrap(), (1000, 7, vec![]));
        assert_eq!(ids("4242:4242").unwrap(), (4242, 4242, vec![]));
    }

    #[test]
    fn tables_are_regular_files_of_the_rootfs_and_small() {
        let dir = tempfile::tempdir().unwrap();
        let etc = dir.path().join("etc");
        std::fs::create_dir_all(dir.path().join("usr/lib")).unwrap();
        std::fs::create_dir(&etc).unwrap();
        std::fs::write(dir.path().join("usr/lib/passwd"), PASSWD).unwrap();
        // Absolute and climbing links resolve inside the rootfs.
        std::os::unix::fs::symlink("/usr/lib/passwd", etc.join("passwd")).unwrap();
        std::os::unix::fs::symlink("../../../../etc/passwd", etc.join("group")).unwrap();
        let root = RootDir::open(dir.path()).unwrap();
        assert_eq!(resolve(&root, "web").unwrap().uid, 33);

        std::fs::remove_file(etc.join("group")).unwrap();
        std::fs::create_dir(etc.join("group")).unwrap();
        let err = format!("{:#}", resolve(&root, "web").unwrap_err());
        assert!(
            err.contains("/etc/group: a directory, not a regular file"),
            "{err}"
        );

        std::fs::remove_dir(etc.join("group")).unwrap();
        std::fs::write(etc.join("group"), "x".repeat(TABLE_LIMIT as usize + 1)).unwrap();
        let err = format!("{:#}", resolve(&root, "web").unwrap_err());
        assert!(
            err.contains("/etc/group: 1048577 bytes, more than"),
            "{err}"
        );
    }

    #[test]
    fn unknown_names_are_errors() {
        assert!(ids("nobody")
            .unwrap_err()
            .to_string()
            .contains("/etc/passwd"));
        assert!(ids("user:nogroup")
            .unwrap_err()
            .to_string()
            .contains("/etc/group"));
    }
}
