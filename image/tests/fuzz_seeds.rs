//! The committed seeds of the unpack fuzz target keep its properties: nothing written outside
//! the rootfs, no descriptor left open, no more space used than the layer could fill. Its own
//! test binary with one test, because the descriptor check sees the whole process (needs root).

use std::fs;
use std::path::Path;

#[test]
fn unpack_seeds_hold() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/unpack");
    let mut checked = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        berth_image::fuzzing::unpack(&fs::read(entry.unwrap().path()).unwrap());
        checked += 1;
    }
    assert!(checked > 0, "no seeds in {}", dir.display());
}
