//! berth: a low-level OCI container runtime with runc's command line.

use berth::{cli, logging};

fn main() {
    // Rust ignores SIGPIPE; a CLI whose reader went away (`berth list | head`) should just end.
    // SAFETY: restoring the default disposition before anything else runs.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = cli::parse();
    // Before berth opens a descriptor of its own: the log file is the first.
    let passed_fds = cli.check_passed_fds();
    if let Err(err) = logging::init(&cli.global) {
        logging::fatal(&err);
        std::process::exit(1);
    }
    if let Err(err) = passed_fds {
        logging::fatal(&err);
        std::process::exit(1);
    }
    let code = match cli::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            logging::fatal(&err);
            1
        }
    };
    std::process::exit(code);
}
