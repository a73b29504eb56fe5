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

/// An access string as runc reads it (its devices.Permissions): r, w and m in any order, any
/// number of times, and any other letter meaning nothing ("rwa" is "rw"). Only an empty string
/// is refused, as runc refuses it.
fn parse_access(s: &str) -> Result<u8> {
    if s.is_empty() {
        bail!("must not be empty (a combination of r, w and m)");
    }
    Ok(s.chars().fold(0, |acc, c| {
        acc | match c {
            'r' => READ,
            'w' => WRITE,
            'm' => MKNOD,
            _ => 0,
        }
    }))
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
        if access == 0 && kind != Kind::All {
            // Grants or takes away nothing (runc's emulator drops it too).
            continue;
        }
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
    /// emulator computes it: a rule for all devices sets the default whatever its access says.
    pub fn fold(rules: &[Rule]) -> Result<Policy> {
        let mut p = Policy::default();
        for r in rules {
            if r.kind == Kind::All {
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

    fn config_rules(json: &str) -> Result<Vec<Rule>> {
        let config: Vec<LinuxDeviceCgroup> = serde_json::from_str(json).unwrap();
        let mut all = rules(&config)?;
        all.truncate(all.len() - ALWAYS_ALLOWED.len());
        Ok(all)
    }

    #[test]
    fn access_strings_read_as_runc_reads_them() {
        for (access, bits) in [
            ("rwm", RWM),
            ("mrw", RWM),
            ("rwa", READ | WRITE),
            ("rrw", READ | WRITE),
            ("wwa", WRITE),
            ("m", MKNOD),
            ("rwmrwm", RWM),
        ] {
            let json = format!(
                r#"[{{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "{access}"}}]"#
            );
            let got = config_rules(&json).unwrap();
            assert_eq!(got.len(), 1, "{access}");
            assert_eq!(got[0].access, bits, "{access}");
        }
        // Nothing but unknown letters grants nothing: the rule is dropped.
        let none = r#"[{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "ax"}]"#;
        assert_eq!(config_rules(none).unwrap(), []);
        // An access that is left out is every access.
        let omitted = r#"[{"allow": true, "type": "b", "major": 8}]"#;
        assert_eq!(config_rules(omitted).unwrap()[0].access, RWM);
    }

    #[test]
    fn an_empty_access_is_refused_by_field() {
        let err =
            config_rules(r#"[{"allow": true, "access": "rwm"}, {"allow": false, "access": ""}]"#)
                .unwrap_err();
        let err = format!("{err:#}");
        assert!(
            err.contains("devices[1].access: must not be empty"),
            "{err}"
        );
    }

    #[test]
    fn a_rule_for_all_devices_sets_the_default_whatever_its_access() {
        // As the v1 kernel and runc's emulator: "a" resets, its access string is not read.
        let p = Policy::fold(
            &rules(
                &serde_json::from_str::<Vec<LinuxDeviceCgroup>>(
                    r#"[{"allow": true, "access": "rwa"},
                        {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"},
                        {"allow": false, "type": "a", "access": "r"}]"#,
                )
                .unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        assert!(!p.default_allow);
        assert_eq!(p.exceptions.len(), ALWAYS_ALLOWED.len());
        let allow_all = rule(true, Kind::All, None, None, READ);
        let deny_null = rule(false, Kind::Char, Some(1), Some(3), WRITE);
        let p = Policy::fold(&[allow_all, deny_null.clone()]).unwrap();
        assert!(p.default_allow);
        assert_eq!(p.exceptions, [deny_null]);
    }
}
