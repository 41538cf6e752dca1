//! Port of `pkg/autoscaler/autoscaler/status.go`: the per-scaler state kept across ticks —
//! the panic timer and the five history windows (docs/engine.md §9, §10.1).

use super::policy::Behavior;
use super::revision::History;
use super::sliding_window::{Better, LineChartWindow, RecordWindow};
use super::EngineVersion;

#[derive(Debug, Clone)]
pub struct Status {
    pub panic_mode_ends_at: i64,
    pub panic_mode_hold_ms: i64,
    pub history: History,
}

impl Status {
    /// `NewStatus`. At v0.4.0 `MaxCorrected` is built as a *minimum* window (G1), which
    /// anchors the scale-down limit on the smallest recent decision.
    pub fn new(behavior: &Behavior, version: EngineVersion) -> Self {
        let ms = |d: Option<super::policy::Duration>| d.map_or(0, |d| d.milliseconds());
        let up = &behavior.scale_up;
        let down = &behavior.scale_down;
        let max_corrected_better = match version {
            EngineVersion::V0_4 => Better::Smaller,
            EngineVersion::Head => Better::Larger,
        };
        Status {
            panic_mode_ends_at: 0,
            panic_mode_hold_ms: ms(up.panic_policy.panic_mode_hold),
            history: History {
                max_recommendation: RecordWindow::new(
                    ms(down.stabilization_window),
                    Better::Larger,
                ),
                min_recommendation: RecordWindow::new(
                    ms(up.stable_policy.stabilization_window),
                    Better::Smaller,
                ),
                max_corrected: LineChartWindow::new(ms(down.period), max_corrected_better),
                min_corrected_for_stable: LineChartWindow::new(
                    ms(up.stable_policy.period),
                    Better::Smaller,
                ),
                min_corrected_for_panic: LineChartWindow::new(
                    up.panic_policy.period.milliseconds(),
                    Better::Smaller,
                ),
            },
        }
    }

    pub fn append_recommendation(&mut self, now: i64, recommended: i32) {
        self.history.max_recommendation.append(now, recommended);
        self.history.min_recommendation.append(now, recommended);
    }

    pub fn append_corrected(&mut self, now: i64, corrected: i32) {
        self.history.max_corrected.append(now, corrected);
        self.history.min_corrected_for_stable.append(now, corrected);
        self.history.min_corrected_for_panic.append(now, corrected);
    }

    /// `RefreshPanicMode`: panic lasts `hold` after the last triggering tick.
    pub fn refresh_panic_mode(&mut self, now: i64) {
        self.panic_mode_ends_at = if self.panic_mode_hold_ms == 0 {
            0
        } else {
            now.wrapping_add(self.panic_mode_hold_ms)
        };
    }

    /// `IsPanicMode` (inclusive end).
    pub fn is_panic_mode(&self, now: i64) -> bool {
        self.panic_mode_hold_ms > 0 && now <= self.panic_mode_ends_at
    }
}

#[cfg(test)]
mod go_tests;
