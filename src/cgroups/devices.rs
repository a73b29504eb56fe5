//! The device allow-list of `linux.resources.devices`, with the devices runc always allows
//! appended. Rules are folded (last match wins, default deny) into a default verdict plus
//! exceptions — what cgroup v1 writes to devices.allow/deny and what the v2 eBPF program checks.

use std::fmt;
use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};
use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

pub const MKNOD: u8 = 1;
pub const READ: u8 = 2;
pub const WRITE: u8 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    All,
    Char,
    Block,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub allow: bool,
    pub kind: Kind,
    /// None is the wildcard `*`.
    pub major: Option<i64>,
    pub minor: Option<i64>,
    /// MKNOD | READ | WRITE bits.
    pub access: u8,
}

impl fmt::Display for Rule {
    /// The v1 syntax: `c 1:3 rwm`, `a *:* rwm`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::All => 'a',
            Kind::Char => 'c',
            Kind::Block => 'b',
        };
        let num = |n: Option<i64>| n.map_or("*".to_owned(), |v| v.to_string());
        let mut access = String::new();
        for (bit, ch) in [(READ, 'r'), (WRITE, 'w'), (MKNOD, 'm')] {
            if self.access & bit != 0 {
                access.push(ch);
            }
        }
        write!(f, "{kind} {}:{} {access}", num(self.major), num(self.minor))
    }
}

fn parse_access(s: &str) -> Result<u8> {
    s.chars().try_fold(0, |acc, c| {
        Ok(acc
            | match c {
                'r' => READ,
                'w' => WRITE,
                'm' => MKNOD,
                _ => bail!("unknown access {c:?} (use r, w and m)"),
            })
    })
}

const fn char_dev(major: Option<i64>, minor: Option<i64>, access: u8) -> Rule {
    Rule {
        allow: true,
        kind: Kind::Char,
        major,
        minor,
        access,
    }
}

const RWM: u8 = READ | WRITE | MKNOD;

/// What runc allows in every container, after the config's own rules (so they cannot be
/// taken away): mknod of anything, the standard devices, ptys.
const ALWAYS_ALLOWED: &[Rule] = &[
    char_dev(None, None, MKNOD),
    Rule {
        allow: true,
        kind: Kind::Block,
        major: None,
        minor: None,
        access: MKNOD,
    },
    char_dev(Some(1), Some(3), RWM),
    char_dev(Some(1), Some(8), RWM),
    char_dev(Some(1), Some(7), RWM),
    char_dev(Some(5), Some(0), RWM),
    char_dev(Some(1), Some(5), RWM),
    char_dev(Some(1), Some(9), RWM),
    char_dev(Some(136), None, RWM),
    char_dev(Some(5), Some(2), RWM),
];

/// The config's rules followed by runc's always-allowed ones.
pub fn rules(config: &[LinuxDeviceCgroup]) -> Result<Vec<Rule>> {
    let mut out = Vec::with_capacity(config.len() + ALWAYS_ALLOWED.len());
    for (i, d) in config.iter().enumerate() {
        let kind = match d.typ() {
            None | Some(LinuxDeviceType::A) => Kind::All,
            Some(LinuxDeviceType::C) | Some(LinuxDeviceType::U) => Kind::Char,
            Some(LinuxDeviceType::B) => Kind::Block,
            Some(LinuxDeviceType::P) => {
                bail!("linux.resources.devices[{i}].type: \"p\" is not a cgroup device type")
            }
        };
        let access = parse_access(d.access().as_deref().unwrap_or("rwm"))
            .with_context(|| format!("linux.resources.devices[{i}].access"))?;
        let wildcard = |v: Option<i64>| v.filter(|n| *n >= 0);
        out.push(Rule {
            allow: d.allow(),
            kind,
            major: if kind == Kind::All {
                None
            } else {
                wildcard(d.major())
            },
            minor: if kind == Kind::All {
                None
            } else {
                wildcard(d.minor())
            },
            access,
        });
    }
    out.extend_from_slice(ALWAYS_ALLOWED);
    Ok(out)
}

/// The folded policy: a default verdict and exceptions that all carry the opposite verdict.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub default_allow: bool,
    pub exceptions: Vec<Rule>,
}

impl Policy {
    /// Applies rules in order (default deny), the way the v1 kernel list behaves and runc's
    /// emulator computes it.
    pub fn fold(rules: &[Rule]) -> Result<Policy> {
        let mut p = Policy::default();
        for r in rules {
            if r.kind == Kind::All && r.major.is_none() && r.minor.is_none() && r.access == RWM {
                p.default_allow = r.allow;
                p.exceptions.clear();
            } else if r.allow != p.default_allow {
                match p.exceptions.iter_mut().find(|e| same_key(e, r)) {
                    Some(e) => e.access |= r.access,
                    None => p.exceptions.push(r.clone()),
                }
            } else {
                p.remove(r)?;
            }
        }
        Ok(p)
    }

    /// A rule with the default verdict takes its access away from the exceptions it covers.
    fn remove(&mut self, r: &Rule) -> Result<()> {
        for e in &mut self.exceptions {
            if covers(r, e) {
                e.access &= !r.access;
            } else if covers(e, r) && e.access & r.access != 0 {
                bail!("device rule \"{r}\" punches a hole in the wider rule \"{e}\"");
            }
        }
        self.exceptions.retain(|e| e.access != 0);
        Ok(())
    }
}

fn same_key(a: &Rule, b: &Rule) -> bool {
    a.kind == b.kind && a.major == b.major && a.minor == b.minor
}

/// Whether `outer` matches every device `inner` matches.
fn covers(outer: &Rule, inner: &Rule) -> bool {
    let kind = outer.kind == Kind::All || outer.kind == inner.kind;
    let num = |o: Option<i64>, i: Option<i64>| o.is_none() || o == i;
    kind && num(outer.major, inner.major) && num(outer.minor, inner.minor)
}

/// cgroup v1: reset to the default verdict, then write each exception.
pub fn apply_v1(dir: &Path, policy: &Policy) -> Result<()> {
    let (default_file, exception_file) = if policy.default_allow {
        ("devices.allow", "devices.deny")
    } else {
        ("devices.deny", "devices.allow")
    };
    fs::write(dir.join(default_file), "a").with_context(|| format!("write {default_file}"))?;
    for e in &policy.exceptions {
        fs::write(dir.join(exception_file), e.to_string())
            .with_context(|| format!("write \"{e}\" to {exception_file}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(allow: bool, kind: Kind, major: Option<i64>, minor: Option<i64>, access: u8) -> Rule {
        Rule {
            allow,
            kind,
            major,
            minor,
            access,
        }
    }

    #[test]
    fn deny_all_then_allow_list() {
        let rules = rules(&[serde_json::from_str(r#"{"allow": false, "access": "rwm"}"#).unwrap()])
            .unwrap();
        let p = Policy::fold(&rules).unwrap();
        assert!(!p.default_allow);
        assert_eq!(p.exceptions.len(), ALWAYS_ALLOWED.len());
        assert_eq!(p.exceptions[0].to_string(), "c *:* m");
        assert_eq!(p.exceptions[2].to_string(), "c 1:3 rwm");
    }

    #[test]
    fn later_rules_win_and_merge() {
        let all = rule(true, Kind::All, None, None, RWM);
        let deny_null_w = rule(false, Kind::Char, Some(1), Some(3), WRITE);
        let p = Policy::fold(&[all.clone(), deny_null_w.clone()]).unwrap();
        assert!(p.default_allow);
        assert_eq!(p.exceptions, vec![deny_null_w]);
        let allow_r = rule(true, Kind::Char, Some(1), Some(3), READ);
        let allow_w = rule(true, Kind::Char, Some(1), Some(3), WRITE);
        let p = Policy::fold(&[allow_r, allow_w]).unwrap();
        assert_eq!(p.exceptions.len(), 1);
        assert_eq!(p.exceptions[0].to_string(), "c 1:3 rw");
        let p = Policy::fold(&[
            rule(true, Kind::Char, Some(1), Some(3), RWM),
            rule(false, Kind::Char, None, None, RWM),
        ])
        .unwrap();
        assert!(p.exceptions.is_empty());
        assert!(Policy::fold(&[
            rule(true, Kind::Char, Some(1), None, RWM),
            rule(false, Kind::Char, Some(1), Some(3), READ)
        ])
        .is_err());
    }

    #[test]
    fn bad_access_names_the_field() {
        let d: LinuxDeviceCgroup =
            serde_json::from_str(r#"{"allow": true, "type": "c", "access": "rx"}"#).unwrap();
        let err = format!("{:#}", rules(&[d]).unwrap_err());
        assert!(err.contains("devices[0].access"), "{err}");
    }
}
