//! RFC 3339 timestamps in UTC, formatted the way Go (and so runc and containerd) print them.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds precision, e.g. `2026-11-25T08:00:00Z` (logrus' default for log lines).
pub fn rfc3339(t: SystemTime) -> String {
    let (secs, _) = split(t);
    format!("{}Z", civil(secs))
}

/// Nanosecond precision with trailing zeros trimmed, as Go's `time.RFC3339Nano`
/// (the `created` field of runc's state).
pub fn rfc3339_nano(t: SystemTime) -> String {
    let (secs, nanos) = split(t);
    if nanos == 0 {
        return format!("{}Z", civil(secs));
    }
    let frac = format!("{nanos:09}");
    format!("{}.{}Z", civil(secs), frac.trim_end_matches('0'))
}

fn split(t: SystemTime) -> (i64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    (d.as_secs() as i64, d.subsec_nanos())
}

/// `YYYY-MM-DDTHH:MM:SS` for seconds since the epoch (Howard Hinnant's days-to-civil algorithm).
fn civil(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_like_go() {
        let t = UNIX_EPOCH + Duration::new(1_795_593_601, 710_808_000);
        assert_eq!(rfc3339_nano(t), "2026-11-25T08:00:01.710808Z");
        assert_eq!(rfc3339(t), "2026-11-25T08:00:01Z");
        assert_eq!(rfc3339_nano(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00Z");
    }
}
