//! `run`: a bundle in the store's `bundles/<id>`, then `berth run` on it in the foreground; the
//! bundle is removed when the container has exited.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::bundle::make_bundle;
use crate::config_gen::ContainerSettings;
use crate::manifest::LocalImage;
use crate::store::Store;

/// Flags passed through to berth.
pub struct BerthOptions {
    /// berth's `--root` (its state directory).
    pub root: Option<PathBuf>,
}

/// Runs the container and returns its exit status (128+signal when it was killed).
pub fn run(
    store: &Store,
    image: &LocalImage,
    settings: &ContainerSettings,
    berth: &BerthOptions,
) -> Result<i32> {
    let berth_path = find_berth()?;
    let bundle = store.bundles_dir().join(settings.id);
    if bundle.exists() {
        bail!(
            "a bundle for container {} already exists at {}",
            settings.id,
            bundle.display()
        );
    }
    let result = make_bundle(store, image, &bundle, settings)
        .and_then(|()| run_berth(&berth_path, &bundle, settings.id, berth));
    let removed = std::fs::remove_dir_all(&bundle)
        .with_context(|| format!("removing bundle {}", bundle.display()));
    let status = result?;
    removed?;
    Ok(status)
}

fn run_berth(berth_path: &Path, bundle: &Path, id: &str, options: &BerthOptions) -> Result<i32> {
    let mut command = Command::new(berth_path);
    if let Some(root) = &options.root {
        command.arg("--root").arg(root);
    }
    command.arg("run").arg("--bundle").arg(bundle).arg(id);
    // berth forwards signals to the container; we outlive it to remove the bundle, so we ignore
    // them while it runs — and the child must not inherit that.
    unsafe {
        command.pre_exec(|| {
            for signal in FORWARDED_SIGNALS {
                libc::signal(signal, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    let _ignoring = IgnoredSignals::new();
    let status = command
        .status()
        .with_context(|| format!("running {}", berth_path.display()))?;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

const FORWARDED_SIGNALS: [libc::c_int; 4] =
    [libc::SIGINT, libc::SIGTERM, libc::SIGQUIT, libc::SIGHUP];

/// Ignores the signals berth forwards until dropped.
struct IgnoredSignals;

impl IgnoredSignals {
    fn new() -> IgnoredSignals {
        for signal in FORWARDED_SIGNALS {
            unsafe { libc::signal(signal, libc::SIG_IGN) };
        }
        IgnoredSignals
    }
}

impl Drop for IgnoredSignals {
    fn drop(&mut self) {
        for signal in FORWARDED_SIGNALS {
            unsafe { libc::signal(signal, libc::SIG_DFL) };
        }
    }
}

/// berth next to berth-image (as installed or built), else on PATH.
fn find_berth() -> Result<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("berth")));
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("berth"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    beside
        .into_iter()
        .chain(on_path)
        .find(|candidate| candidate.is_file())
        .context("berth not found next to berth-image or on PATH")
}
