//! The bisection of a monotone dimension in `kthena-sim plan`'s search.

/// Bisection over the cost-ordered positions `0..n` of one dimension (0 the cheapest) for
/// the first position that meets, assuming that a position meets whenever a cheaper one
/// does. Each probe halves the positions still in doubt, so finding the boundary among
/// `h` positions takes `ceil(log2(h + 1))` probes.
#[derive(Debug, Clone, PartialEq)]
pub struct Bisection {
    n: usize,
    /// The most generous position known to fail.
    fails: Option<usize>,
    /// The cheapest position known to meet.
    meets: Option<usize>,
    /// The most generous position failed too: nothing on this line meets.
    hopeless: bool,
    stopped: bool,
}

impl Bisection {
    /// `known`: a position known to meet (the current configuration's), if any; without
    /// one, the most generous position is probed first.
    pub fn new(n: usize, known: Option<usize>) -> Self {
        Bisection {
            n,
            fails: None,
            meets: known,
            hopeless: n == 0,
            stopped: false,
        }
    }

    /// The next position to evaluate; `None` when the boundary is found.
    pub fn next(&self) -> Option<usize> {
        if self.hopeless || self.stopped {
            return None;
        }
        let Some(hi) = self.meets else {
            return Some(self.n - 1);
        };
        let lo = self.fails.map_or(0, |f| f + 1);
        (lo < hi).then(|| lo + (hi - lo) / 2)
    }

    pub fn record(&mut self, position: usize, meets: bool) {
        if meets {
            self.meets = Some(self.meets.map_or(position, |m| m.min(position)));
        } else if self.meets.is_none() && position + 1 == self.n {
            self.hopeless = true;
        } else {
            self.fails = Some(self.fails.map_or(position, |f| f.max(position)));
        }
    }

    /// Ends the bisection early (the budget is spent).
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Whether it was ended early.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The cheapest position found to meet.
    pub fn result(&self) -> Option<usize> {
        self.meets
    }
}
