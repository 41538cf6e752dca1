//! `spec.behavior` as the user wrote it: every object and field optional, before the schema
//! defaults and the mutating webhook ran. [`super::defaults`] turns it into [`super::Behavior`].

use crate::engine::policy::{Duration, SelectPolicy};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BehaviorSpec {
    pub scale_up: Option<ScaleUpSpec>,
    pub scale_down: Option<StablePolicySpec>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScaleUpSpec {
    pub stable_policy: Option<StablePolicySpec>,
    pub panic_policy: Option<PanicPolicySpec>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StablePolicySpec {
    pub instances: Option<i32>,
    pub percent: Option<i32>,
    pub period: Option<Duration>,
    pub select_policy: Option<SelectPolicy>,
    pub stabilization_window: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PanicPolicySpec {
    pub percent: Option<i32>,
    /// Required by the schema whenever `panicPolicy` is present; validation reports its absence.
    pub period: Option<Duration>,
    pub panic_threshold_percent: Option<i32>,
    pub panic_mode_hold: Option<Duration>,
}
