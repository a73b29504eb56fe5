//! `unpack`: an OCI bundle from a stored image — `rootfs/` with every layer applied, and a
//! `config.json` generated from the image's config.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::config_gen::{runtime_spec, ContainerSettings};
use crate::inroot::RootDir;
use crate::manifest::LocalImage;
use crate::store::Store;
use crate::unpack::unpack_image;
use crate::users;

pub fn make_bundle(
    store: &Store,
    image: &LocalImage,
    bundle: &Path,
    settings: &ContainerSettings,
) -> Result<()> {
    let rootfs = bundle.join("rootfs");
    if rootfs.exists() && fs::read_dir(&rootfs)?.next().is_some() {
        bail!(
            "{} is not empty: refusing to unpack over it",
            rootfs.display()
        );
    }
    let _in_use = store.lock_shared()?;
    unpack_image(store, image, &rootfs)?;
    let user_spec = image
        .config
        .config()
        .as_ref()
        .and_then(|c| c.user().clone())
        .unwrap_or_default();
    let user = users::resolve(&RootDir::open(&rootfs)?, &user_spec)
        .with_context(|| format!("User {user_spec:?} of {}", image.reference))?;
    let spec = runtime_spec(&image.config, user, settings)
        .with_context(|| format!("config.json for {}", image.reference))?;
    let config = bundle.join("config.json");
    spec.save(&config)
        .with_context(|| format!("writing {}", config.display()))
}
