//! Progress bars, one per blob, on a terminal; nothing at all when stderr is piped or with `--quiet`.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bars: MultiProgress,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Progress {
            bars: MultiProgress::with_draw_target(target),
        }
    }

    /// A bar for `size` bytes of the blob `digest`, labelled with its short digest.
    pub fn blob(&self, what: &str, digest: &str, size: u64) -> ProgressBar {
        let bar = self.bars.add(ProgressBar::new(size));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>6} {msg:12} [{bar:30}] {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_prefix(what.to_string());
        bar.set_message(short_digest(digest).to_string());
        bar
    }
}

/// The first 12 hex digits of a digest, as `docker images` shows them.
pub fn short_digest(digest: &str) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    &hex[..hex.len().min(12)]
}
