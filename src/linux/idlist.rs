//! Lists of CPU or node numbers as cpusets write them: "0-3,7" (spaces around numbers allowed).

/// The numbers of `s`, each below `limit`; `what` names them in errors ("node", "CPU").
pub fn parse(s: &str, limit: u32, what: &str) -> Result<Vec<u32>, String> {
    let mut ids = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let number = |n: &str| {
            n.trim()
                .parse::<u32>()
                .ok()
                .filter(|&n| n < limit)
                .ok_or_else(|| format!("{part:?} is not a {what} number below {limit}"))
        };
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(part)?, number(part)?),
        };
        if first > last {
            return Err(format!("{part:?} is a range that ends before it starts"));
        }
        ids.extend(first..=last);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_singles_and_mistakes() {
        assert_eq!(parse("0-2, 5,64", 1024, "node").unwrap(), [0, 1, 2, 5, 64]);
        assert_eq!(parse(" , ", 1024, "node").unwrap(), Vec::<u32>::new());
        assert!(parse("2-1", 1024, "node")
            .unwrap_err()
            .contains("ends before"));
        assert!(parse("x", 1024, "node").unwrap_err().contains("\"x\""));
        let err = parse("1024", 1024, "CPU").unwrap_err();
        assert!(err.contains("not a CPU number below 1024"), "{err}");
    }
}
