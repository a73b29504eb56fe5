//! The command line: flags and subcommands, each a call into the module that does the work.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use oci_client::Reference;

use crate::auth::Credentials;
use crate::config_gen::ContainerSettings;
use crate::manifest::LocalImage;
use crate::platform::Platform;
use crate::progress::Progress;
use crate::registry::RegistryOptions;
use crate::run::BerthOptions;
use crate::store::Store;
use crate::{bundle, gc, images, login, pull, push, run};

#[derive(Parser)]
#[command(
    name = "berth-image",
    version,
    about = "Pulls OCI images from registries and turns them into bundles that berth runs"
)]
pub struct Cli {
    /// The image store (an OCI image layout) [default: /var/lib/berth, or $XDG_DATA_HOME/berth when not root]
    #[arg(long, global = true, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Speak plain HTTP to the registry (loopback registries always are)
    #[arg(long, global = true)]
    insecure: bool,
    /// Credentials file [default: $REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json, ~/.docker/config.json]
    #[arg(long, global = true, value_name = "FILE")]
    authfile: Option<PathBuf>,
    /// No progress bars
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch an image (all its blobs, verified) into the store
    Pull {
        #[command(flatten)]
        platform: PlatformArg,
        reference: String,
    },
    /// List the stored images
    Images,
    /// Print a stored image's manifest and config as JSON
    Inspect { reference: String },
    /// Make an OCI bundle (rootfs/ and config.json) from an image, pulling it first if needed
    Unpack {
        #[command(flatten)]
        platform: PlatformArg,
        #[command(flatten)]
        container: ContainerArgs,
        reference: String,
        bundle: PathBuf,
    },
    /// Run an image with berth, pulling it first if needed; a COMMAND replaces the image's Cmd
    Run {
        #[command(flatten)]
        platform: PlatformArg,
        #[command(flatten)]
        container: ContainerArgs,
        /// berth's state directory (its --root)
        #[arg(long, value_name = "DIR")]
        berth_root: Option<PathBuf>,
        reference: String,
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Forget stored images (their blobs go at the next gc)
    Rm {
        #[arg(required = true)]
        references: Vec<String>,
    },
    /// Delete blobs that no stored image uses
    Gc,
    /// Push a stored image to the registry its name (or DESTINATION) points at
    Push {
        reference: String,
        destination: Option<String>,
    },
    /// Check credentials with a registry and save them in the auth file
    Login {
        #[arg(short, long)]
        username: String,
        /// The password (prefer --password-stdin: arguments are visible to other users)
        #[arg(short, long, conflicts_with = "password_stdin")]
        password: Option<String>,
        #[arg(long)]
        password_stdin: bool,
        registry: String,
    },
    /// Remove a registry's credentials from the auth file
    Logout { registry: String },
}

#[derive(Args)]
struct PlatformArg {
    /// Which image of a multi-platform index, as os/arch[/variant] [default: this machine's]
    #[arg(long, value_name = "OS/ARCH")]
    platform: Option<Platform>,
}

#[derive(Args)]
struct ContainerArgs {
    /// Container id: hostname and cgroup name [default: berth-<pid>]
    #[arg(long, value_name = "ID")]
    name: Option<String>,
    /// Absolute cgroup under which the container's cgroup is made
    #[arg(long, value_name = "PATH", default_value = "/berth")]
    cgroup_parent: String,
    /// Give the process a terminal
    #[arg(short, long)]
    tty: bool,
}

/// Runs the command; returns the process exit status.
pub fn execute(cli: Cli) -> Result<i32> {
    let options = RegistryOptions {
        insecure: cli.insecure,
        authfile: cli.authfile,
    };
    let store_root = cli.store.unwrap_or_else(Store::default_root);
    let open_store = || Store::open(&store_root).map(Arc::new);
    let progress = Progress::new(cli.quiet);
    match cli.command {
        Command::Pull {
            platform,
            reference,
        } => {
            let reference = parse_reference(&reference)?;
            let descriptor = async_runtime()?.block_on(pull::pull(
                open_store()?,
                &options,
                &reference,
                &platform.or_host(),
                &progress,
            ))?;
            println!("{} {}", reference.whole(), descriptor.digest());
        }
        Command::Images => images::list(&*open_store()?)?,
        Command::Inspect { reference } => {
            images::inspect(&*open_store()?, &parse_reference(&reference)?.whole())?
        }
        Command::Unpack {
            platform,
            container,
            reference,
            bundle,
        } => {
            let store = open_store()?;
            let image =
                ensure_pulled(&store, &options, &reference, &platform.or_host(), &progress)?;
            let id = container.id();
            bundle::make_bundle(&store, &image, &bundle, &container.settings(&id, &[]))?;
        }
        Command::Run {
            platform,
            container,
            berth_root,
            reference,
            command,
        } => {
            let store = open_store()?;
            let image =
                ensure_pulled(&store, &options, &reference, &platform.or_host(), &progress)?;
            let id = container.id();
            return run::run(
                &store,
                &image,
                &container.settings(&id, &command),
                &BerthOptions { root: berth_root },
            );
        }
        Command::Rm { references } => {
            let store = open_store()?;
            for reference in references {
                images::remove(&store, &parse_reference(&reference)?.whole())?;
            }
        }
        Command::Gc => {
            let collected = gc::collect(&*open_store()?)?;
            println!(
                "removed {} blobs, {} bytes",
                collected.blobs, collected.bytes
            );
        }
        Command::Push {
            reference,
            destination,
        } => {
            let source = parse_reference(&reference)?;
            let destination = parse_reference(destination.as_deref().unwrap_or(&reference))?;
            let digest = async_runtime()?.block_on(push::push(
                &*open_store()?,
                &options,
                &source.whole(),
                &destination,
                &progress,
            ))?;
            println!("{} {digest}", destination.whole());
        }
        Command::Login {
            username,
            password,
            password_stdin,
            registry,
        } => {
            let password = match password {
                Some(p) if !password_stdin => p,
                _ => read_password_stdin()?,
            };
            async_runtime()?.block_on(login::login(
                &registry,
                Credentials { username, password },
                &options,
            ))?;
        }
        Command::Logout { registry } => login::logout(&registry, &options)?,
    }
    Ok(0)
}

/// The stored image, pulled first when the store does not have it.
fn ensure_pulled(
    store: &Arc<Store>,
    options: &RegistryOptions,
    reference: &str,
    platform: &Platform,
    progress: &Progress,
) -> Result<LocalImage> {
    let reference = parse_reference(reference)?;
    if store.find(&reference.whole())?.is_none() {
        async_runtime()?.block_on(pull::pull(
            store.clone(),
            options,
            &reference,
            platform,
            progress,
        ))?;
    }
    LocalImage::load(store, &reference.whole())
}

fn parse_reference(reference: &str) -> Result<Reference> {
    reference
        .parse()
        .with_context(|| format!("invalid image reference {reference:?}"))
}

fn async_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn read_password_stdin() -> Result<String> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from stdin")?;
    Ok(password.trim_end_matches(['\n', '\r']).to_string())
}

impl PlatformArg {
    fn or_host(&self) -> Platform {
        self.platform.clone().unwrap_or_else(Platform::host)
    }
}

impl ContainerArgs {
    fn id(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("berth-{}", std::process::id()))
    }

    fn settings<'a>(&'a self, id: &'a str, command: &'a [String]) -> ContainerSettings<'a> {
        ContainerSettings {
            id,
            cgroup_parent: &self.cgroup_parent,
            command,
            terminal: self.tty,
        }
    }
}
