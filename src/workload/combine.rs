//! Sources built from other sources: several streams merged in arrival order, and the
//! model's context limit applied to whatever comes out.

use super::{BoxedSource, Request, RequestSource, TraceTally, WorkloadError};

/// Several sources merged in arrival order. At equal arrivals the source listed first goes
/// first, so a merged workload is as reproducible as its parts.
pub struct Merge {
    sources: Vec<BoxedSource>,
    /// The next request of each source, `None` once it is exhausted.
    heads: Vec<Option<Request>>,
}

impl Merge {
    /// Pulls the first request of every source, so that the first pick can compare them.
    pub fn new(mut sources: Vec<BoxedSource>) -> Result<Self, WorkloadError> {
        let heads = sources
            .iter_mut()
            .map(|s| s.next_request())
            .collect::<Result<_, _>>()?;
        Ok(Merge { sources, heads })
    }
}

impl RequestSource for Merge {
    fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
        // A linear scan: workloads mix a handful of streams, not thousands.
        let earliest = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, head)| head.map(|r| (r.arrival, i)))
            .min();
        let Some((_, i)) = earliest else {
            return Ok(None);
        };
        let next = self.sources[i].next_request()?;
        Ok(std::mem::replace(&mut self.heads[i], next))
    }

    fn traces(&self, out: &mut Vec<TraceTally>) {
        self.sources.iter().for_each(|s| s.traces(out));
    }
}

/// Clips requests to a model's context length: the prompt is cut to leave room for one
/// output token, and the output stops where the context is full, as a server that truncates
/// prompts and stops generation at `max_model_len` would do.
pub struct ContextLimit {
    inner: BoxedSource,
    max_context: u32,
}

impl ContextLimit {
    /// `max_context` must be at least 2: one prompt token and one output token.
    pub fn new(inner: BoxedSource, max_context: u32) -> Self {
        ContextLimit { inner, max_context }
    }
}

impl RequestSource for ContextLimit {
    fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
        Ok((self.inner.next_request()?).map(|r| clip_to_context(r, self.max_context)))
    }

    fn traces(&self, out: &mut Vec<TraceTally>) {
        self.inner.traces(out);
    }
}

/// Request `r` cut to fit `max_context` tokens (see [`ContextLimit`]); shared with the
/// closed-loop streams, which are not sources.
pub(super) fn clip_to_context(r: Request, max_context: u32) -> Request {
    let input_tokens = r.input_tokens.min(max_context.saturating_sub(1)).max(1);
    let output_tokens = r
        .output_tokens
        .min(max_context.saturating_sub(input_tokens))
        .max(1);
    Request {
        input_tokens,
        output_tokens,
        ..r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimTime;

    /// Requests from a list, for tests.
    struct Listed(std::vec::IntoIter<Request>);

    impl RequestSource for Listed {
        fn next_request(&mut self) -> Result<Option<Request>, WorkloadError> {
            Ok(self.0.next())
        }
    }

    fn listed(arrivals: &[(i64, u32)]) -> BoxedSource {
        let requests: Vec<Request> = arrivals
            .iter()
            .map(|&(arrival, tag)| Request {
                arrival: SimTime::from_micros(arrival),
                input_tokens: tag,
                output_tokens: tag,
            })
            .collect();
        Box::new(Listed(requests.into_iter()))
    }

    fn drain(mut s: impl RequestSource) -> Vec<Request> {
        let mut out = Vec::new();
        while let Some(r) = s.next_request().unwrap() {
            out.push(r);
        }
        out
    }

    #[test]
    fn merge_is_in_arrival_order_with_ties_to_the_first_source() {
        let merged = Merge::new(vec![
            listed(&[(0, 1), (5, 1), (5, 1), (9, 1)]),
            listed(&[(0, 2), (3, 2), (5, 2)]),
            listed(&[]),
            listed(&[(5, 3), (20, 3)]),
        ])
        .unwrap();
        let order: Vec<(i64, u32)> = drain(merged)
            .iter()
            .map(|r| (r.arrival.as_micros(), r.input_tokens))
            .collect();
        assert_eq!(
            order,
            [
                (0, 1),
                (0, 2),
                (3, 2),
                (5, 1),
                (5, 1),
                (5, 2),
                (5, 3),
                (9, 1),
                (20, 3)
            ]
        );
    }

    #[test]
    fn the_context_limit_cuts_the_prompt_first_then_the_output() {
        let limited = ContextLimit::new(listed(&[(0, 10), (1, 50), (2, 150)]), 100);
        let lengths: Vec<(u32, u32)> = drain(limited)
            .iter()
            .map(|r| (r.input_tokens, r.output_tokens))
            .collect();
        assert_eq!(lengths, [(10, 10), (50, 50), (99, 1)]);
    }
}
