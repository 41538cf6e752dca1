//! The scale-down delay's sliding maximum: `window` and `TimeWindow` of knative/serving
//! `pkg/autoscaler/aggregation/max/window.go` and `timewindow.go` (N5), the "descending
//! minima" algorithm: a ring of (index, value) entries kept in descending value order, so the
//! front is always the maximum of the last `len` indices.

use crate::sim::{SimDuration, SimTime};

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    value: i32,
    index: i64,
}

/// `window`: the maximum over the last `size` indices.
#[derive(Debug, Clone)]
pub struct Window {
    maxima: Vec<Entry>,
    first: usize,
    length: usize,
}

impl Window {
    pub fn new(size: usize) -> Self {
        Window {
            maxima: vec![Entry::default(); size.max(1)],
            first: 0,
            length: 0,
        }
    }

    fn at(&self, i: usize) -> usize {
        i % self.maxima.len()
    }

    /// `Record`: a value at a non-decreasing index; two values at one index keep the larger.
    pub fn record(&mut self, index: i64, mut v: i32) {
        // Entries smaller than the new one can never be the maximum again.
        while self.length > 0 {
            if v < self.maxima[self.at(self.first + self.length - 1)].value {
                break;
            }
            self.length -= 1;
        }
        // Entries that left the window.
        while self.length > 0 && index - self.maxima[self.first].index >= self.maxima.len() as i64 {
            self.length -= 1;
            self.first = self.at(self.first + 1);
        }
        if self.length > 0 {
            let last = self.maxima[self.at(self.first + self.length - 1)];
            if last.index == index {
                v = v.max(last.value);
                self.length -= 1;
            }
        }
        let slot = self.at(self.first + self.length);
        self.maxima[slot] = Entry { index, value: v };
        self.length += 1;
    }

    /// `Current`: the maximum recorded within the window.
    pub fn current(&self) -> i32 {
        self.maxima[self.first].value
    }
}

/// `TimeWindow`: a [`Window`] over time, one index per `granularity` (the 2 s tick).
#[derive(Debug, Clone)]
pub struct TimeWindow {
    window: Window,
    granularity: i64,
}

impl TimeWindow {
    /// `NewTimeWindow`: `ceil(duration / granularity)` slots.
    pub fn new(duration: SimDuration, granularity: SimDuration) -> Self {
        let (d, g) = (duration.as_micros(), granularity.as_micros());
        TimeWindow {
            window: Window::new(((d + g - 1) / g) as usize),
            granularity: g,
        }
    }

    /// `Record`: indexed by whole seconds divided by the granularity's whole seconds, as
    /// upstream (`now.Unix() / granularity.Seconds()`).
    pub fn record(&mut self, now: SimTime, value: i32) {
        let secs = now.as_micros().div_euclid(1_000_000);
        let g = (self.granularity / 1_000_000).max(1);
        self.window.record(secs.div_euclid(g), value);
    }

    pub fn current(&self) -> i32 {
        self.window.current()
    }
}
