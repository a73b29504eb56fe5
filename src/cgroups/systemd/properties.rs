//! `linux.resources` as systemd unit properties, converted the way runc's systemd managers
//! convert them (what systemd cannot express is written to the cgroup files afterwards), and
//! the `org.systemd.property.<Name>` annotations, whose values are GVariant text as in runc.

use std::collections::HashMap;

use anyhow::{anyhow, bail, Context, Result};
use oci_spec::runtime::LinuxResources;

use crate::cgroups::convert::{blkio_weight_to_io_weight, shares_to_weight, swap_to_v2};
use crate::cgroups::devices::{self, Kind, Policy, MKNOD, READ, WRITE};

/// A property value, in the D-Bus types systemd's properties take.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Byte(u8),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    Str(String),
    /// `ay`: AllowedCPUs, AllowedMemoryNodes.
    Bytes(Vec<u8>),
    /// `au`: PIDs.
    U32s(Vec<u32>),
    /// `as`
    Strs(Vec<String>),
    /// `a(ss)`: DeviceAllow.
    StrPairs(Vec<(String, String)>),
    /// `a(st)`: IO*BandwidthMax, IO*IOPSMax.
    StrU64s(Vec<(String, u64)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub name: String,
    pub value: Value,
}

pub fn prop(name: &str, value: Value) -> Property {
    Property {
        name: name.to_owned(),
        value,
    }
}

/// What a systemd manager of `version` can hold of the resources (runc's
/// genV1ResourcesProperties / genV2ResourcesProperties). `v2`: a pure cgroup2 host.
pub fn from_resources(r: &LinuxResources, v2: bool, version: u32) -> Result<Vec<Property>> {
    let mut out = Vec::new();
    if let Some(d) = r.devices() {
        out.extend(device_properties(&Policy::fold(&devices::rules(d)?)?));
    }
    if let Some(m) = r.memory() {
        let limit = m.limit().unwrap_or(0);
        if limit != 0 {
            let name = if v2 { "MemoryMax" } else { "MemoryLimit" };
            out.push(prop(name, Value::U64(limit as u64)));
        }
        if v2 {
            if let Some(low) = m.reservation().filter(|v| *v != 0) {
                out.push(prop("MemoryLow", Value::U64(low as u64)));
            }
            let swap = swap_to_v2(m.swap().unwrap_or(0), limit)
                .map_err(|e| anyhow!("linux.resources.memory.swap: {e}"))?;
            if let Some(s) = swap.filter(|s| *s != 0) {
                out.push(prop("MemorySwapMax", Value::U64(s as u64)));
            }
        }
    }
    if let Some(c) = r.cpu() {
        if let Some(s) = c.shares().filter(|s| *s != 0) {
            out.push(if v2 {
                prop("CPUWeight", Value::U64(shares_to_weight(s)))
            } else {
                prop("CPUShares", Value::U64(s))
            });
        }
        cpu_quota(
            &mut out,
            c.quota().unwrap_or(0),
            c.period().unwrap_or(0),
            version,
        );
        if version >= 244 {
            for (field, name, list) in [
                ("cpus", "AllowedCPUs", c.cpus()),
                ("mems", "AllowedMemoryNodes", c.mems()),
            ] {
                if let Some(list) = list.as_deref().filter(|l| !l.is_empty()) {
                    let bits = range_to_bits(list)
                        .with_context(|| format!("linux.resources.cpu.{field} {list:?}"))?;
                    out.push(prop(name, Value::Bytes(bits)));
                }
            }
        }
    }
    if let Some(p) = r.pids() {
        if p.limit() > 0 || p.limit() == -1 {
            out.push(prop("TasksMax", Value::U64(p.limit() as u64)));
        }
    }
    if let Some(w) = r
        .block_io()
        .as_ref()
        .and_then(|b| b.weight())
        .filter(|w| *w != 0)
    {
        out.push(if v2 {
            prop("IOWeight", Value::U64(blkio_weight_to_io_weight(w)))
        } else {
            prop("BlockIOWeight", Value::U64(w.into()))
        });
    }
    if let (true, Some(b)) = (v2, r.block_io()) {
        let throttles = [
            ("IOReadBandwidthMax", b.throttle_read_bps_device()),
            ("IOWriteBandwidthMax", b.throttle_write_bps_device()),
            ("IOReadIOPSMax", b.throttle_read_iops_device()),
            ("IOWriteIOPSMax", b.throttle_write_iops_device()),
        ];
        for (name, devices) in throttles {
            // A rate of 0 ("no limit" in the files) has no form here: the file gets it.
            let list: Vec<(String, u64)> = devices
                .iter()
                .flatten()
                .filter(|d| d.rate() != 0)
                .map(|d| (format!("/dev/block/{}:{}", d.major(), d.minor()), d.rate()))
                .collect();
            if !list.is_empty() {
                out.push(prop(name, Value::StrU64s(list)));
            }
        }
    }
    if let (true, Some(u)) = (v2, r.unified()) {
        out.extend(from_unified(u, version)?);
    }
    Ok(out)
}

/// runc's addCpuQuota: CPUQuotaPeriodUSec (systemd ≥ 242), and CPUQuotaPerSecUSec rounded up
/// to whole percent (systemd keeps a percentage), u64::MAX being "no quota".
fn cpu_quota(out: &mut Vec<Property>, quota: i64, period: u64, version: u32) {
    if period != 0 && version >= 242 {
        out.push(prop("CPUQuotaPeriodUSec", Value::U64(period)));
    }
    if quota != 0 || period != 0 {
        let mut per_sec = u64::MAX;
        if quota > 0 {
            let period = if period == 0 { 100_000 } else { period };
            per_sec = (quota as u64).saturating_mul(1_000_000) / period;
            if per_sec % 10_000 != 0 {
                per_sec = (per_sec / 10_000 + 1) * 10_000;
            }
        }
        out.push(prop("CPUQuotaPerSecUSec", Value::U64(per_sec)));
    }
}

/// runc's unifiedResToSystemdProps: the cgroup2 keys systemd has a property for; the others
/// (and these too) are written to the files.
fn from_unified(u: &HashMap<String, String>, version: u32) -> Result<Vec<Property>> {
    let mut out = Vec::new();
    let mut keys: Vec<_> = u.keys().collect();
    keys.sort();
    for key in keys {
        let v = u[key].trim();
        let bad = || format!("linux.resources.unified.{key}: invalid value {v:?}");
        let num_or_max = |v: &str| -> Result<u64> {
            if v == "max" {
                Ok(u64::MAX)
            } else {
                v.parse().with_context(bad)
            }
        };
        match key.as_str() {
            "cpu.max" => {
                let fields: Vec<&str> = v.split_whitespace().collect();
                if fields.is_empty() || fields.len() > 2 {
                    bail!(bad());
                }
                let quota = match fields[0] {
                    "max" => 0,
                    q => q.parse().with_context(bad)?,
                };
                let period = match fields.get(1) {
                    Some(p) => p.parse().with_context(bad)?,
                    None => 100_000,
                };
                cpu_quota(&mut out, quota, period, version);
            }
            "cpu.weight" => out.push(prop("CPUWeight", Value::U64(v.parse().with_context(bad)?))),
            "cpuset.cpus" | "cpuset.mems" if version >= 244 => {
                let name = if key == "cpuset.cpus" {
                    "AllowedCPUs"
                } else {
                    "AllowedMemoryNodes"
                };
                out.push(prop(
                    name,
                    Value::Bytes(range_to_bits(v).with_context(bad)?),
                ));
            }
            "memory.high" | "memory.low" | "memory.min" | "memory.max" | "memory.swap.max" => {
                let name = match key.as_str() {
                    "memory.high" => "MemoryHigh",
                    "memory.low" => "MemoryLow",
                    "memory.min" => "MemoryMin",
                    "memory.max" => "MemoryMax",
                    _ => "MemorySwapMax",
                };
                out.push(prop(name, Value::U64(num_or_max(v)?)));
            }
            "pids.max" => out.push(prop("TasksMax", Value::U64(num_or_max(v)?))),
            _ => {}
        }
    }
    Ok(out)
}

/// A CPU or memory-node list ("0-3,7") as systemd's bitmask bytes, lowest CPUs first.
pub fn range_to_bits(list: &str) -> Result<Vec<u8>> {
    let ids = crate::linux::idlist::parse(list, 8192, "CPU or node").map_err(|e| anyhow!(e))?;
    let Some(&highest) = ids.iter().max() else {
        bail!("empty list");
    };
    let mut bytes = vec![0u8; highest as usize / 8 + 1];
    for id in ids {
        bytes[id as usize / 8] |= 1 << (id % 8);
    }
    Ok(bytes)
}

/// runc's device properties: DevicePolicy=strict with the allowed devices in DeviceAllow, or
/// `auto` with nothing listed when every device is allowed. A deny-list systemd cannot hold:
/// it gets strict and none (berth's own filter, loaded after, says what the config says).
pub fn device_properties(policy: &Policy) -> Vec<Property> {
    let strict = |allow: Vec<(String, String)>| {
        vec![
            prop("DevicePolicy", Value::Str("strict".into())),
            prop("DeviceAllow", Value::StrPairs(allow)),
        ]
    };
    if policy.default_allow {
        if policy.exceptions.is_empty() {
            return vec![
                prop("DevicePolicy", Value::Str("auto".into())),
                prop("DeviceAllow", Value::StrPairs(Vec::new())),
            ];
        }
        crate::logging::debug(format_args!(
            "systemd holds no device deny-list: the unit gets none, berth's filter the rules"
        ));
        return strict(Vec::new());
    }
    let groups = std::fs::read_to_string("/proc/devices").unwrap_or_default();
    let mut allow = Vec::new();
    for rule in &policy.exceptions {
        let kind = match rule.kind {
            Kind::Char => "char",
            Kind::Block => "block",
            Kind::All => continue,
        };
        let mut access = String::new();
        for (bit, ch) in [(READ, 'r'), (WRITE, 'w'), (MKNOD, 'm')] {
            if rule.access & bit != 0 {
                access.push(ch);
            }
        }
        let path = match (rule.major, rule.minor) {
            (None, None) => format!("{kind}-*"),
            // systemd cannot say "any major"; runc skips such a rule too.
            (None, Some(_)) => continue,
            (Some(major), None) => match device_group(&groups, kind, major) {
                Some(group) => group,
                None => continue,
            },
            (Some(major), Some(minor)) => format!("/dev/{kind}/{major}:{minor}"),
        };
        allow.push((path, access));
    }
    strict(allow)
}

/// The /proc/devices name of a major ("char-pts" for char 136), as systemd's DeviceAllow
/// takes a wildcard-minor rule.
fn device_group(proc_devices: &str, kind: &str, major: i64) -> Option<String> {
    let header = if kind == "char" {
        "Character devices:"
    } else {
        "Block devices:"
    };
    let mut in_section = false;
    for line in proc_devices.lines() {
        let line = line.trim();
        if line.ends_with(':') {
            in_section = line == header;
            continue;
        }
        if !in_section {
            continue;
        }
        let mut fields = line.split_whitespace();
        if let (Some(num), Some(name)) = (fields.next(), fields.next()) {
            if num.parse::<i64>().ok() == Some(major) {
                return Some(format!("{kind}-{name}"));
            }
        }
    }
    None
}

/// `org.systemd.property.<Name>` annotations as runc reads them: a name of ASCII letters and
/// digits starting with A-Z, a GVariant value; `<name>Sec` (a lower-case letter before "Sec")
/// becomes `<name>USec` in microseconds.
pub fn from_annotations<'a>(
    annotations: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<Vec<Property>> {
    const PREFIX: &str = "org.systemd.property.";
    let mut found: Vec<(&String, &String)> = annotations
        .into_iter()
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect();
    found.sort();
    let mut out = Vec::new();
    for (key, text) in found {
        let mut name = key[PREFIX.len()..].to_owned();
        check_name(&name).with_context(|| format!("annotation {key} name incorrect"))?;
        let mut value = parse_gvariant(text)
            .with_context(|| format!("annotation {key}={text} value parse error"))?;
        if let Some(stem) = name.strip_suffix("Sec") {
            if stem.ends_with(|c: char| c.is_ascii_lowercase()) {
                name = format!("{stem}USec");
                value = sec_to_usec(&value)
                    .with_context(|| format!("annotation {key}={text} value parse error"))?;
            }
        }
        out.push(Property { name, value });
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<()> {
    let Some(first) = name.chars().next() else {
        bail!("no property name");
    };
    if !first.is_ascii_uppercase() {
        bail!("must start with A-Z");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!("can only contain alphanumeric ascii");
    }
    Ok(())
}

fn sec_to_usec(v: &Value) -> Result<Value> {
    let secs: u64 = match *v {
        Value::Byte(n) => n.into(),
        Value::U16(n) => n.into(),
        Value::U32(n) => n.into(),
        Value::U64(n) => n,
        Value::I16(n) => u64::try_from(n)?,
        Value::I32(n) => u64::try_from(n)?,
        Value::I64(n) => u64::try_from(n)?,
        _ => bail!("not a number of seconds"),
    };
    Ok(Value::U64(secs.saturating_mul(1_000_000)))
}

/// The GVariant text runc's annotations take (its dbus.ParseVariant): `true`/`false`, a quoted
/// string, an integer (int32, int64 when larger), a typed integer (`uint64 5`, `@t 5`, `uint32`,
/// `@u`, `int64`, `@x`, `int32`, `@i`, `uint16`, `@q`, `int16`, `@n`, `byte`, `@y`) and a
/// list of strings (`['a', 'b']`).
pub fn parse_gvariant(text: &str) -> Result<Value> {
    let t = text.trim();
    match t {
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        _ => {}
    }
    if let Some(s) = quoted(t) {
        return Ok(Value::Str(s?));
    }
    if let Some(inner) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let items = inner
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| quoted(s).unwrap_or_else(|| Err(anyhow!("only lists of strings: {s:?}"))))
            .collect::<Result<Vec<_>>>()?;
        return Ok(Value::Strs(items));
    }
    if let Some((kind, num)) = t.split_once(char::is_whitespace) {
        let num = num.trim();
        let bad = || format!("{num:?} is no {kind}");
        return Ok(match kind {
            "uint64" | "@t" => Value::U64(num.parse().with_context(bad)?),
            "int64" | "@x" => Value::I64(num.parse().with_context(bad)?),
            "uint32" | "@u" => Value::U32(num.parse().with_context(bad)?),
            "int32" | "@i" => Value::I32(num.parse().with_context(bad)?),
            "uint16" | "@q" => Value::U16(num.parse().with_context(bad)?),
            "int16" | "@n" => Value::I16(num.parse().with_context(bad)?),
            "byte" | "@y" => Value::Byte(num.parse().with_context(bad)?),
            "boolean" | "@b" => match num {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => bail!(bad()),
            },
            "@s" | "string" => match quoted(num) {
                Some(s) => Value::Str(s?),
                None => bail!(bad()),
            },
            _ => bail!("unsupported GVariant type {kind:?}"),
        });
    }
    if let Ok(n) = t.parse::<i32>() {
        return Ok(Value::I32(n));
    }
    if let Ok(n) = t.parse::<i64>() {
        return Ok(Value::I64(n));
    }
    bail!("unsupported GVariant value {t:?}")
}

/// A '…' or "…" string with backslash escapes; None when `t` is not quoted.
fn quoted(t: &str) -> Option<Result<String>> {
    let q = t.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = t.strip_prefix(q)?.strip_suffix(q)?;
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => return Some(Err(anyhow!("a string ends in a backslash"))),
            },
            c if c == q => return Some(Err(anyhow!("unescaped quote in a string"))),
            c => out.push(c),
        }
    }
    Some(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxPidsBuilder;
    use oci_spec::runtime::{LinuxBlockIoBuilder, LinuxCpuBuilder, LinuxMemoryBuilder};
    use oci_spec::runtime::{LinuxDeviceCgroupBuilder, LinuxDeviceType, LinuxResourcesBuilder};

    fn find<'a>(props: &'a [Property], name: &str) -> Option<&'a Value> {
        props.iter().find(|p| p.name == name).map(|p| &p.value)
    }

    #[test]
    fn quota_rounds_up_to_whole_percent_as_runc_does() {
        let mut out = Vec::new();
        cpu_quota(&mut out, 50_000, 100_000, 252);
        assert_eq!(find(&out, "CPUQuotaPeriodUSec"), Some(&Value::U64(100_000)));
        assert_eq!(find(&out, "CPUQuotaPerSecUSec"), Some(&Value::U64(500_000)));
        // runc's test: 5000/100000 is 5%; 1 µs more rounds up to 6%.
        let mut out = Vec::new();
        cpu_quota(&mut out, 5_001, 100_000, 252);
        assert_eq!(find(&out, "CPUQuotaPerSecUSec"), Some(&Value::U64(60_000)));
        let mut out = Vec::new();
        cpu_quota(&mut out, 10_000, 0, 252);
        assert_eq!(find(&out, "CPUQuotaPeriodUSec"), None);
        assert_eq!(find(&out, "CPUQuotaPerSecUSec"), Some(&Value::U64(100_000)));
        let mut out = Vec::new();
        cpu_quota(&mut out, -1, 50_000, 241);
        assert_eq!(find(&out, "CPUQuotaPeriodUSec"), None);
        assert_eq!(
            find(&out, "CPUQuotaPerSecUSec"),
            Some(&Value::U64(u64::MAX))
        );
        let mut out = Vec::new();
        cpu_quota(&mut out, 0, 0, 252);
        assert!(out.is_empty());
    }

    #[test]
    fn cpu_lists_become_bitmasks() {
        assert_eq!(range_to_bits("0").unwrap(), vec![0x01]);
        assert_eq!(range_to_bits("0-3").unwrap(), vec![0x0f]);
        assert_eq!(range_to_bits("1,3-4").unwrap(), vec![0x1a]);
        assert_eq!(range_to_bits("9").unwrap(), vec![0x00, 0x02]);
        assert_eq!(range_to_bits("0-7,16").unwrap(), vec![0xff, 0x00, 0x01]);
        for bad in ["", "a", "3-1", "1-", "-1"] {
            assert!(range_to_bits(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resources_become_runcs_properties() {
        let r = LinuxResourcesBuilder::default()
            .memory(
                LinuxMemoryBuilder::default()
                    .limit(64 << 20)
                    .reservation(32 << 20)
                    .swap(128 << 20)
                    .build()
                    .unwrap(),
            )
            .cpu(
                LinuxCpuBuilder::default()
                    .shares(1024u64)
                    .quota(20_000i64)
                    .period(100_000u64)
                    .cpus("0-1")
                    .build()
                    .unwrap(),
            )
            .pids(LinuxPidsBuilder::default().limit(42).build().unwrap())
            .block_io(
                LinuxBlockIoBuilder::default()
                    .weight(500u16)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let p = from_resources(&r, true, 252).unwrap();
        assert_eq!(find(&p, "MemoryMax"), Some(&Value::U64(64 << 20)));
        assert_eq!(find(&p, "MemoryLow"), Some(&Value::U64(32 << 20)));
        assert_eq!(find(&p, "MemorySwapMax"), Some(&Value::U64(64 << 20)));
        // runc's shares → weight: 1024 → 39.
        assert_eq!(find(&p, "CPUWeight"), Some(&Value::U64(39)));
        assert_eq!(find(&p, "CPUQuotaPerSecUSec"), Some(&Value::U64(200_000)));
        assert_eq!(find(&p, "AllowedCPUs"), Some(&Value::Bytes(vec![3])));
        assert_eq!(find(&p, "TasksMax"), Some(&Value::U64(42)));
        assert_eq!(find(&p, "IOWeight"), Some(&Value::U64(4950)));
        assert_eq!(find(&p, "BlockIOWeight"), None);
        // cgroup v1: runc's legacy names, the blkio weight as it is.
        let v1 = from_resources(&r, false, 252).unwrap();
        assert_eq!(find(&v1, "MemoryLimit"), Some(&Value::U64(64 << 20)));
        assert_eq!(find(&v1, "CPUShares"), Some(&Value::U64(1024)));
        assert_eq!(find(&v1, "BlockIOWeight"), Some(&Value::U64(500)));
        assert_eq!(find(&v1, "IOWeight"), None);
        assert_eq!(find(&v1, "MemoryLow"), None);
    }

    #[test]
    fn devices_become_strict_allow_lists() {
        let deny_all = LinuxDeviceCgroupBuilder::default()
            .allow(false)
            .access("rwm")
            .build()
            .unwrap();
        let null = LinuxDeviceCgroupBuilder::default()
            .allow(true)
            .typ(LinuxDeviceType::C)
            .major(42)
            .minor(3)
            .access("rw")
            .build()
            .unwrap();
        let policy = Policy::fold(&devices::rules(&[deny_all, null]).unwrap()).unwrap();
        let props = device_properties(&policy);
        assert_eq!(
            find(&props, "DevicePolicy"),
            Some(&Value::Str("strict".into()))
        );
        let Some(Value::StrPairs(allow)) = find(&props, "DeviceAllow") else {
            panic!("{props:?}")
        };
        assert!(
            allow.contains(&("/dev/char/42:3".into(), "rw".into())),
            "{allow:?}"
        );
        assert!(allow.contains(&("char-*".into(), "m".into())), "{allow:?}");
        let pts = "Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  7 loop\n";
        assert_eq!(device_group(pts, "char", 136).as_deref(), Some("char-pts"));
        assert_eq!(device_group(pts, "block", 7).as_deref(), Some("block-loop"));
        assert_eq!(device_group(pts, "block", 136), None);
    }

    #[test]
    fn annotations_as_runc_reads_them() {
        let a: HashMap<String, String> = [
            ("org.systemd.property.TimeoutStopUSec", "uint64 123456789"),
            ("org.systemd.property.CollectMode", "'inactive-or-failed'"),
            ("org.systemd.property.TimeoutStartSec", "5"),
            ("org.systemd.property.Delegate", "true"),
            ("org.systemd.property.TasksMax", "@t 7"),
            ("other", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let p = from_annotations(&a).unwrap();
        assert_eq!(p.len(), 5);
        assert_eq!(find(&p, "TimeoutStopUSec"), Some(&Value::U64(123456789)));
        assert_eq!(
            find(&p, "CollectMode"),
            Some(&Value::Str("inactive-or-failed".into()))
        );
        assert_eq!(find(&p, "TimeoutStartUSec"), Some(&Value::U64(5_000_000)));
        assert_eq!(find(&p, "Delegate"), Some(&Value::Bool(true)));
        assert_eq!(find(&p, "TasksMax"), Some(&Value::U64(7)));
        for (k, v) in [
            ("org.systemd.property.", "1"),
            ("org.systemd.property.lower", "1"),
            ("org.systemd.property.Bad-Name", "1"),
            ("org.systemd.property.X", "not gvariant"),
            ("org.systemd.property.TimeoutSec", "'str'"),
        ] {
            let one: HashMap<String, String> = [(k.to_owned(), v.to_owned())].into();
            assert!(from_annotations(&one).is_err(), "{k}={v}");
        }
    }

    #[test]
    fn gvariant_values() {
        assert_eq!(parse_gvariant("42").unwrap(), Value::I32(42));
        assert_eq!(
            parse_gvariant("5000000000").unwrap(),
            Value::I64(5_000_000_000)
        );
        assert_eq!(parse_gvariant("uint32 7").unwrap(), Value::U32(7));
        assert_eq!(
            parse_gvariant("\"a\\\"b\"").unwrap(),
            Value::Str("a\"b".into())
        );
        assert_eq!(
            parse_gvariant("['a', 'b']").unwrap(),
            Value::Strs(vec!["a".into(), "b".into()])
        );
        assert!(parse_gvariant("uint64 -1").is_err());
    }
}
