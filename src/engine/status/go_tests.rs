//! Kthena's unit tests of the per-scaler state (`pkg/autoscaler/autoscaler/status_test.go`,
//! volcano-sh/kthena revision 404a7afb, whose first test also appears alone in another stored
//! revision), translated case by case. Go's wall clock becomes an explicit `NOW`.
//!
//! Two of them read `MaxCorrected`, which v0.4.0 builds as a *minimum* window (docs/engine.md §13.4
//! G1); they are checked at HEAD with the Go expectation and at v0.4.0 with the value the
//! v0.4.0 wiring gives (the Go comment itself names it: "a Minimum window would return 3").
//!
//! Not ported: the four `TestCorrectedInstances_*` cases of revision 6d71602d
//! (`ScaleDown_BlockedByStabilizationWindow`, `ScaleDown_ReinitializedWithCurrentReplicas`,
//! `ScaleDown_WindowExpires`, `ScaleUp_BlockedByStabilizationWindow`). They seed the history
//! with `Status.InitializeWithCurrentReplicas`, which exists in neither v0.4.0 nor HEAD.

use super::*;
use crate::engine::policy::{Duration, PanicPolicy, ScaleUpBehavior, SelectPolicy, StablePolicy};

const NOW: i64 = 1_735_722_000_000;
const HOUR_MS: i64 = 3_600_000;

fn stable(period: Option<Duration>, window: Option<Duration>) -> StablePolicy {
    // Go leaves Instances/Percent nil and SelectPolicy ""; none of them is read here.
    StablePolicy {
        instances: 0,
        percent: 0,
        period,
        select_policy: SelectPolicy::Or,
        stabilization_window: window,
    }
}

fn behavior(window: Option<Duration>) -> Behavior {
    let hour = Some(Duration::from_millis(HOUR_MS));
    Behavior {
        scale_down: stable(hour, window),
        scale_up: ScaleUpBehavior {
            stable_policy: stable(hour, window),
            panic_policy: PanicPolicy {
                percent: 1000,
                period: Duration::from_millis(HOUR_MS),
                panic_threshold_percent: None,
                panic_mode_hold: None,
            },
        },
    }
}

/// `TestNewStatusWiresMaxCorrectedAsMaximumWindow` (periods of one hour, no stabilization).
#[test]
fn new_status_wires_max_corrected_as_maximum_window() {
    let b = behavior(None);
    let best = |version| {
        let mut status = Status::new(&b, version);
        for v in [3, 8, 5] {
            status.history.max_corrected.append(NOW, v);
        }
        status.history.max_corrected.get_best(NOW, 4)
    };
    assert_eq!(
        best(EngineVersion::Head),
        Some(8),
        "MaxCorrected must return the maximum sample; a Minimum window would return 3"
    );
    // v0.4.0: the minimum window the Go test guards against (G1).
    assert_eq!(best(EngineVersion::V0_4), Some(3));
}

/// `TestAppendRecommendation` (`newFreshBehavior`: periods and windows of one hour).
#[test]
fn append_recommendation() {
    for version in [EngineVersion::Head, EngineVersion::V0_4] {
        let mut status = Status::new(&behavior(Some(Duration::from_millis(HOUR_MS))), version);
        for v in [5, 2, 9, 4] {
            status.append_recommendation(NOW, v);
        }
        assert_eq!(
            status.history.max_recommendation.get_best(NOW),
            Some(9),
            "{version}"
        );
        assert_eq!(
            status.history.min_recommendation.get_best(NOW),
            Some(2),
            "{version}"
        );
    }
}

/// `TestAppendCorrected`. At v0.4.0 `MaxCorrected.GetBest(0)` is the minimum of 0 and the
/// samples, i.e. 0 (G1); HEAD gives Go's 8.
#[test]
fn append_corrected() {
    for version in [EngineVersion::Head, EngineVersion::V0_4] {
        let mut status = Status::new(&behavior(Some(Duration::from_millis(HOUR_MS))), version);
        for v in [3, 8, 5] {
            status.append_corrected(NOW, v);
        }
        let want_max = match version {
            EngineVersion::Head => 8,
            EngineVersion::V0_4 => 0,
        };
        let h = &mut status.history;
        assert_eq!(
            h.max_corrected.get_best(NOW, 0),
            Some(want_max),
            "{version}"
        );
        assert_eq!(
            h.min_corrected_for_stable.get_best(NOW, 1000),
            Some(3),
            "{version}"
        );
        assert_eq!(
            h.min_corrected_for_panic.get_best(NOW, 1000),
            Some(3),
            "{version}"
        );
    }
}

fn bare_status(hold_ms: i64, ends_at: i64) -> Status {
    let mut s = Status::new(&behavior(None), EngineVersion::Head);
    s.panic_mode_hold_ms = hold_ms;
    s.panic_mode_ends_at = ends_at;
    s
}

/// `TestRefreshPanicMode/hold disabled clears the panic deadline`.
#[test]
fn refresh_panic_mode_hold_disabled_clears_the_panic_deadline() {
    let mut s = bare_status(0, 12345);
    s.refresh_panic_mode(NOW);
    assert_eq!(s.panic_mode_ends_at, 0);
    assert!(!s.is_panic_mode(NOW));
}

/// `TestRefreshPanicMode/hold enabled arms the panic deadline`. Go brackets the deadline by
/// two clock reads; with an explicit clock it is exactly `now + hold`.
#[test]
fn refresh_panic_mode_hold_enabled_arms_the_panic_deadline() {
    const HOLD_MS: i64 = 60_000;
    let mut s = bare_status(HOLD_MS, 0);
    s.refresh_panic_mode(NOW);
    assert_eq!(s.panic_mode_ends_at, NOW + HOLD_MS);
    assert!(s.is_panic_mode(NOW));
}
