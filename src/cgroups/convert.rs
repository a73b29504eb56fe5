//! Values that mean the same thing on cgroup v1 and v2, converted the way runc converts them.

/// cpu.shares (2..262144) to cpu.weight (1..10000).
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + (shares.saturating_sub(2) * 9999) / 262_142
}

/// blkio.weight (10..1000) to io.weight (1..10000).
pub fn blkio_weight_to_io_weight(weight: u16) -> u64 {
    if weight == 0 {
        return 0;
    }
    1 + (u64::from(weight).saturating_sub(10)) * 9999 / 990
}

/// v1's memory+swap limit to v2's swap-only `memory.swap.max` (None: leave it alone).
pub fn swap_to_v2(swap: i64, limit: i64) -> Result<Option<i64>, String> {
    // An unlimited memory with no swap given means both unlimited, as on v1.
    if limit == -1 && swap == 0 {
        return Ok(Some(-1));
    }
    if swap == -1 {
        return Ok(Some(-1));
    }
    if swap == 0 {
        return Ok(None);
    }
    if limit <= 0 {
        return Err("a swap limit needs a memory limit".to_owned());
    }
    if swap < limit {
        return Err(format!(
            "swap {swap} is below the memory limit {limit} (swap counts memory+swap)"
        ));
    }
    Ok(Some(swap - limit))
}

/// A limit as cgroup v2 writes it: -1 is "max".
pub fn v2_limit(value: i64) -> String {
    if value < 0 {
        "max".to_owned()
    } else {
        value.to_string()
    }
}

/// Parses a size such as `512m`, `1G`, `4096` or `-1` (runc's units.RAMInBytes: binary units).
pub fn parse_bytes(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if t == "-1" {
        return Ok(-1);
    }
    let lower = t.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits_end);
    let value: f64 = num.parse().map_err(|_| format!("invalid size {text:?}"))?;
    let mult: f64 = match unit.trim().trim_end_matches('b').trim_end_matches('i') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return Err(format!("invalid size {text:?}")),
    };
    Ok((value * mult) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_match_runc() {
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10000);
        assert_eq!(blkio_weight_to_io_weight(10), 1);
        assert_eq!(blkio_weight_to_io_weight(1000), 10000);
        assert_eq!(blkio_weight_to_io_weight(500), 4950);
        assert_eq!(swap_to_v2(0, -1), Ok(Some(-1)));
        assert_eq!(swap_to_v2(-1, 100), Ok(Some(-1)));
        assert_eq!(swap_to_v2(0, 100), Ok(None));
        assert_eq!(swap_to_v2(300, 100), Ok(Some(200)));
        assert!(swap_to_v2(50, 100).is_err());
        assert!(swap_to_v2(50, 0).is_err());
        assert_eq!(v2_limit(-1), "max");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("512m"), Ok(512 << 20));
        assert_eq!(parse_bytes("1G"), Ok(1 << 30));
        assert_eq!(parse_bytes("32kb"), Ok(32 << 10));
        assert_eq!(parse_bytes("-1"), Ok(-1));
        assert!(parse_bytes("12x").is_err());
    }
}
