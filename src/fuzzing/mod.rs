//! What the fuzz targets in `fuzz/` call: each function takes the fuzzer's bytes, runs one of
//! berth's parsers on them and panics where a property of the result does not hold. Not part of
//! berth's interface; the binary never calls it.

mod go_flags;

use anyhow::Error;

pub use go_flags::go_flags;

/// config.json, parsed and validated: whatever the bytes, an answer and never a panic, and every
/// refusal names the field (or the file) it is about.
pub fn config(data: &[u8]) {
    let spec = match crate::bundle::parse(data) {
        Ok(spec) => spec,
        Err(e) => return names_a_field(&e),
    };
    if let Err(e) = crate::validate::validate(&spec) {
        names_a_field(&e);
    }
}

/// A `linux.seccomp` profile, compiled: a refusal names its field, and the program answers every
/// probed syscall as the profile means (`seccomp::model`).
pub fn seccomp(data: &[u8]) {
    let Ok(profile) = serde_json::from_slice(data) else {
        return;
    };
    if let Err(e) = crate::seccomp::model::compile_and_check(&profile) {
        names_a_field(&e);
        let msg = format!("{e:#}");
        assert!(msg.starts_with("config.json: linux.seccomp"), "{msg}");
    }
}

fn names_a_field(e: &Error) {
    let msg = format!("{e:#}");
    assert!(
        msg.starts_with("config.json: "),
        "an error that names no field of config.json: {msg}"
    );
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::*;

    fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/seeds")
            .join(target);
        let seeds: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                (path.display().to_string(), fs::read(&path).unwrap())
            })
            .collect();
        assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
        seeds
    }

    /// Every committed seed keeps its target's properties, and the config and seccomp seeds are
    /// accepted whole, so that the fuzzer starts from inputs that reach deep.
    #[test]
    fn seeds_hold_and_are_accepted() {
        for (name, data) in seeds("config") {
            config(&data);
            let spec = crate::bundle::parse(&data).unwrap();
            crate::validate::validate(&spec).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
        for (name, data) in seeds("seccomp") {
            seccomp(&data);
            let profile = serde_json::from_slice(&data).unwrap();
            crate::seccomp::model::compile_and_check(&profile)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
        for (_, data) in seeds("go_flags") {
            go_flags(&data);
        }
    }
}
