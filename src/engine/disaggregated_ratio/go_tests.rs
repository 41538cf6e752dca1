//! Kthena's unit-test table for the prefill/decode ratio enforcement (`TestEnforceRoleRatio`
//! in `pkg/autoscaler/algorithm/disaggregated_ratio_test.go`), translated case by case. Ratio
//! enforcement exists only at HEAD (docs/engine.md §12); the eight cases of revision 768013f4 match
//! HEAD's fallback ("saturate the deficient side, then lower the other side",
//! docs/engine.md §13.4 G6). Revision 0ab2f55e (newer than HEAD) adds three cases: one of them
//! ("exact decimal ratio avoids floating-point rounding rejection") also holds at HEAD and is
//! ported; the other two expect behaviour HEAD does not have and are not ported:
//! * "rounding repair remains inside both ratio bounds": prefill 1, decode 3, bounds [1, 10]
//!   each, ratio [0.5, 0.5]; Go expects prefill 2 / decode 4 / "0.5"; HEAD gives prefill 2 /
//!   decode 3 / "0.6666666666666666" (one repair step, no second pass);
//! * `TestEnforceRoleRatioReturnsErrorWhenNoIntegerPairSatisfiesConstraint`: prefill 1,
//!   decode 2, bounds prefill [1, 2] decode [2, 3], ratio [0.55, 0.55]; Go expects an error;
//!   HEAD returns prefill 2 / decode 2 / "1" with no error (docs/engine.md §12: a violated ratio
//!   after clamping is not reported).

use super::*;
use crate::engine::policy::Quantity;

fn constraint(min: &str, max: &str) -> RatioConstraint {
    RatioConstraint {
        numerator_role: "prefill".to_string(),
        denominator_role: "decode".to_string(),
        min_ratio: Quantity::parse(min).expect("quantity"),
        max_ratio: Quantity::parse(max).expect("quantity"),
    }
}

fn roles(prefill: i32, decode: i32) -> BTreeMap<String, i32> {
    BTreeMap::from([
        ("prefill".to_string(), prefill),
        ("decode".to_string(), decode),
    ])
}

fn bounds(prefill: (i32, i32), decode: (i32, i32)) -> BTreeMap<String, (i32, i32)> {
    BTreeMap::from([
        ("prefill".to_string(), prefill),
        ("decode".to_string(), decode),
    ])
}

/// The table's shared bounds: prefill [0, 8], decode [0, 16].
fn default_bounds() -> BTreeMap<String, (i32, i32)> {
    bounds((0, 8), (0, 16))
}

/// The table's shared constraint: prefill/decode in [0.25, 1].
fn default_constraint() -> Option<RatioConstraint> {
    Some(constraint("0.25", "1"))
}

struct Case {
    name: &'static str,
    replicas: (i32, i32),
    bounds: BTreeMap<String, (i32, i32)>,
    constraint: Option<RatioConstraint>,
    want_replicas: (i32, i32),
    want_adjusted: bool,
    want_ratio: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "already within ratio",
            replicas: (2, 4),
            bounds: default_bounds(),
            constraint: default_constraint(),
            want_replicas: (2, 4),
            want_adjusted: false,
            want_ratio: "0.5",
        },
        Case {
            name: "below min raises numerator first",
            replicas: (1, 8),
            bounds: default_bounds(),
            constraint: default_constraint(),
            want_replicas: (2, 8),
            want_adjusted: true,
            want_ratio: "0.25",
        },
        // Revision 0ab2f55e (newer than HEAD); HEAD agrees: ceil(7 / 0.07) = ceil(99.99…) = 100.
        Case {
            name: "exact decimal ratio avoids floating-point rounding rejection",
            replicas: (7, 99),
            bounds: bounds((7, 7), (1, 100)),
            constraint: Some(constraint("0.07", "0.07")),
            want_replicas: (7, 100),
            want_adjusted: true,
            want_ratio: "0.07",
        },
        Case {
            name: "above max raises denominator first",
            replicas: (6, 2),
            bounds: default_bounds(),
            constraint: default_constraint(),
            want_replicas: (6, 6),
            want_adjusted: true,
            want_ratio: "1",
        },
        Case {
            name: "fallback saturates numerator before lowering denominator",
            replicas: (2, 20),
            bounds: bounds((0, 3), (0, 20)),
            constraint: default_constraint(),
            want_replicas: (3, 12),
            want_adjusted: true,
            want_ratio: "0.25",
        },
        Case {
            name: "zero numerator is raised to keep both roles available",
            replicas: (0, 4),
            bounds: default_bounds(),
            constraint: default_constraint(),
            want_replicas: (1, 4),
            want_adjusted: true,
            want_ratio: "0.25",
        },
        Case {
            name: "zero denominator is raised before ratio repair",
            replicas: (4, 0),
            bounds: default_bounds(),
            constraint: default_constraint(),
            want_replicas: (4, 4),
            want_adjusted: true,
            want_ratio: "1",
        },
        Case {
            name: "both zero preserves coupled scale to zero",
            replicas: (0, 0),
            bounds: default_bounds(),
            constraint: default_constraint(),
            want_replicas: (0, 0),
            want_adjusted: false,
            want_ratio: "",
        },
        Case {
            name: "nil constraint only clamps",
            replicas: (10, 4),
            bounds: default_bounds(),
            constraint: None,
            want_replicas: (8, 4),
            want_adjusted: false,
            want_ratio: "",
        },
    ]
}

#[test]
fn enforce_role_ratio() {
    for c in cases() {
        let got = enforce_ratio(
            &roles(c.replicas.0, c.replicas.1),
            &c.bounds,
            c.constraint.as_ref(),
        )
        .unwrap_or_else(|e| panic!("{}: EnforceRoleRatio error: {e}", c.name));
        assert_eq!(
            got.replicas,
            roles(c.want_replicas.0, c.want_replicas.1),
            "{}: replicas",
            c.name
        );
        assert_eq!(got.adjusted, c.want_adjusted, "{}: adjusted", c.name);
        assert_eq!(got.current_ratio, c.want_ratio, "{}: ratio", c.name);
    }
}
