//! Token lengths resampled from a trace: the lengths of one column are read once, when the
//! workload is built, and drawn uniformly with replacement during the run.
//!
//! This is the one place where a trace is held in memory, and it is bounded: at most
//! [`EMPIRICAL_CAP`] lengths (4 MB) are kept. A longer trace is read through, and a uniform
//! sample of its lengths kept (reservoir sampling), so the distribution still covers the
//! whole trace rather than its first hours.

use std::path::Path;

use rand::RngExt;

use super::lengths::EmpiricalLengths;
use super::{LengthColumn, RequestSource, TraceFormat, TraceOptions, TraceSource, WorkloadError};
use crate::sim::rng::Stream;

/// The most lengths kept from one trace.
pub const EMPIRICAL_CAP: usize = 1_000_000;

/// The lengths of `column` of the trace at `path`, a uniform sample of at most
/// [`EMPIRICAL_CAP`] of them drawn with `rng` when the trace is longer.
pub(super) fn load_lengths(
    path: &Path,
    format: Option<TraceFormat>,
    column: LengthColumn,
    rng: &mut Stream,
) -> Result<EmpiricalLengths, WorkloadError> {
    let mut source = TraceSource::open(
        path,
        TraceOptions {
            format,
            ..TraceOptions::default()
        },
    )?;
    let mut sample = Reservoir::new(EMPIRICAL_CAP);
    while let Some(request) = source.next_request()? {
        sample.offer(
            match column {
                LengthColumn::Input => request.input_tokens,
                LengthColumn::Output => request.output_tokens,
            },
            rng,
        );
    }
    EmpiricalLengths::new(sample.kept).ok_or_else(|| WorkloadError::Trace {
        path: path.to_path_buf(),
        message: "has no request to draw token lengths from".to_owned(),
    })
}

/// A uniform sample of at most `cap` items of a stream of unknown length (Vitter's
/// algorithm R): the first `cap` are kept, then the n-th replaces a random kept item with
/// probability `cap / n`.
struct Reservoir {
    cap: usize,
    kept: Vec<u32>,
    seen: u64,
}

impl Reservoir {
    fn new(cap: usize) -> Self {
        Reservoir {
            cap,
            kept: Vec::new(),
            seen: 0,
        }
    }

    fn offer(&mut self, item: u32, rng: &mut Stream) {
        self.seen += 1;
        if self.kept.len() < self.cap {
            self.kept.push(item);
        } else {
            let slot = rng.random_range(0..self.seen);
            if let Some(kept) = usize::try_from(slot)
                .ok()
                .and_then(|i| self.kept.get_mut(i))
            {
                *kept = item;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::stream;

    #[test]
    fn a_short_stream_is_kept_whole_and_a_long_one_sampled_uniformly() {
        let mut rng = stream(1, "x");
        let mut short = Reservoir::new(10);
        for i in 0..7 {
            short.offer(i, &mut rng);
        }
        assert_eq!(short.kept, (0..7).collect::<Vec<_>>());

        let mut long = Reservoir::new(2_000);
        for i in 0..100_000 {
            long.offer(i, &mut rng);
        }
        assert_eq!(long.kept.len(), 2_000);
        // Each tenth of the stream holds about a tenth of the sample (sd about 13).
        for tenth in 0..10 {
            let n = long.kept.iter().filter(|&&x| x / 10_000 == tenth).count();
            assert!((n as i64 - 200).abs() < 60, "tenth {tenth}: {n}");
        }
    }
}
