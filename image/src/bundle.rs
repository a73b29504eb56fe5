//! `unpack`: an OCI bundle from a stored image — `rootfs/` with every layer applied, and a
//! `config.json` generated from the image's config. The bundle directory is private (0700, see
//! `private_dir`) before the rootfs is made in it, and everything in it is made through its fd.

use std::ffi::OsString;
use std::io::{BufWriter, Write};
use std::os::fd::OwnedFd;
use std::path::Path;

use anyhow::{bail, Context, Result};
use rustix::fs::{fchmod, mkdirat, openat, Mode, OFlags};
use rustix::io::Errno;

use crate::config_gen::{runtime_spec, ContainerSettings};
use crate::inroot::{list_dir, RootDir};
use crate::manifest::LocalImage;
use crate::private_dir;
use crate::store::Store;
use crate::unpack::unpack_image;
use crate::users;

const ROOTFS: &str = "rootfs";
const CONFIG: &str = "config.json";

pub fn make_bundle(
    store: &Store,
    image: &LocalImage,
    bundle: &Path,
    settings: &ContainerSettings,
) -> Result<()> {
    let dir = private_dir::open(bundle, "a bundle", is_bundle)?;
    let root = empty_rootfs(&dir, bundle)?;
    let _in_use = store.lock_shared()?;
    unpack_image(store, image, &root)?;
    let user_spec = image
        .config
        .config()
        .as_ref()
        .and_then(|c| c.user().clone())
        .unwrap_or_default();
    let user = users::resolve(&root, &user_spec)
        .with_context(|| format!("User {user_spec:?} of {}", image.reference))?;
    let spec = runtime_spec(&image.config, user, settings)
        .with_context(|| format!("config.json for {}", image.reference))?;
    write_config(&dir, &spec).with_context(|| format!("writing {}", bundle.join(CONFIG).display()))
}

/// What a bundle directory holds (one made by an older berth-image, say).
fn is_bundle(names: &[OsString]) -> bool {
    names.iter().all(|name| name == ROOTFS || name == CONFIG)
}

/// The bundle's `rootfs`, made if missing, refused unless it is an empty directory; mode 0755
/// whatever the umask (a layer's entry for `./` sets its own).
fn empty_rootfs(bundle_dir: &OwnedFd, bundle: &Path) -> Result<RootDir> {
    let path = bundle.join(ROOTFS);
    match mkdirat(bundle_dir, ROOTFS, Mode::from_raw_mode(0o755)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
    }
    let rootfs = openat(
        bundle_dir,
        ROOTFS,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("opening {} (a directory)", path.display()))?;
    if !list_dir(&rootfs)?.is_empty() {
        bail!(
            "{} is not empty: refusing to unpack over it",
            path.display()
        );
    }
    fchmod(&rootfs, Mode::from_raw_mode(0o755))?;
    Ok(RootDir::from(rootfs))
}

fn write_config(bundle_dir: &OwnedFd, spec: &oci_spec::runtime::Spec) -> Result<()> {
    let file = openat(
        bundle_dir,
        CONFIG,
        OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )?;
    let mut writer = BufWriter::new(std::fs::File::from(file));
    serde_json::to_writer(&mut writer, spec)?;
    Ok(writer.flush()?)
}
