//! A process-wide request to stop: set by the command line's signal handler (Ctrl-C,
//! SIGTERM), polled by long loops — the event loop at its progress points, the writer of an
//! output folder before it puts the folder in place — so that an interrupted command stops
//! within moments and leaves no partial results.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks every running simulation and writer to stop.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Whether a stop was requested.
pub fn is_requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
