//! Signal names and numbers as runc accepts them: `9`, `KILL`, `SIGKILL`, `kill`, and `0` (which
//! only checks that the process is there).

use anyhow::{bail, Result};
use nix::sys::signal::Signal;

/// A signal number; real-time signals (beyond the named ones) are accepted as numbers.
pub fn parse(raw: &str) -> Result<i32> {
    if let Ok(n) = raw.parse::<i32>() {
        if n < 0 || n > libc::SIGRTMAX() {
            bail!("invalid signal {raw:?}");
        }
        return Ok(n);
    }
    let upper = raw.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    match name.parse::<Signal>() {
        Ok(sig) => Ok(sig as i32),
        Err(_) => bail!("unknown signal {raw:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("9").unwrap(), 9);
        assert_eq!(parse("KILL").unwrap(), 9);
        assert_eq!(parse("SIGTERM").unwrap(), 15);
        assert_eq!(parse("usr1").unwrap(), 10);
        assert_eq!(parse("40").unwrap(), 40);
        assert!(parse("FOO").is_err());
        assert_eq!(parse("0").unwrap(), 0);
        assert!(parse("-1").is_err());
        assert!(parse("99").is_err());
    }
}
