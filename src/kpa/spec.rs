//! What a Knative Service asks of the KPA (its `autoscaling.knative.dev/*` annotations and
//! `containerConcurrency`, [`KpaSpec`]), what the cluster's `config-autoscaler` ConfigMap says
//! ([`KpaConfig`], Knative's defaults, N6), and the parameters the decider and the PodAutoscaler
//! reconciler run with, derived as `MakeDecider`, `ResolveMetricTarget`, `MakeMetric`,
//! `ScaleBounds` and `GetInitialScale` do (N8, N9, N11). Values arrive validated (the manifest
//! reader checks them as Knative's webhook and `config.go` do); nothing here refuses input.

use crate::sim::SimDuration;

/// `autoscaling.TargetMin`: no per-pod target below this (N11).
pub const TARGET_MIN: f64 = 0.01;
/// `autoscaling.WindowMin` / `WindowMax`: the stable window's range (N11).
pub const WINDOW_MIN: SimDuration = SimDuration::from_secs(6);
pub const WINDOW_MAX: SimDuration = SimDuration::from_secs(3600);
/// `config.BucketSize`: metric buckets are one second wide, and no panic window is shorter (N6).
pub const BUCKET_SIZE: SimDuration = SimDuration::from_secs(1);
/// `tickInterval`: the decider runs every 2 s; the scale-down-delay window has one slot per tick
/// (N2, N5).
pub const TICK_INTERVAL: SimDuration = SimDuration::from_secs(2);
/// `config.defaultTargetUtilization`: the utilisation for rps, not settable in the ConfigMap (N6).
const RPS_TARGET_UTILIZATION: f64 = 0.7;

/// What the KPA scales on (`autoscaling.knative.dev/metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Metric {
    /// Requests in flight, time-averaged per second (the default).
    #[default]
    Concurrency,
    /// Requests arriving per second.
    Rps,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Concurrency => "concurrency",
            Metric::Rps => "rps",
        }
    }

    /// How a value of this metric reads in a reason.
    pub(crate) fn unit(self) -> &'static str {
        match self {
            Metric::Concurrency => "in-flight",
            Metric::Rps => "rps",
        }
    }
}

/// How the metric buckets are averaged (`metric-aggregation-algorithm`, N4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// The plain mean over the window's buckets (the default).
    #[default]
    Linear,
    /// Exponentially decaying weights, newest first.
    WeightedExponential,
}

/// The KPA settings a Knative Service writes: its revision template's
/// `autoscaling.knative.dev/*` annotations (`None` where unset, so that the ConfigMap's value
/// applies) and `containerConcurrency`. The class is always KPA: the reader refuses others.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KpaSpec {
    pub metric: Option<Metric>,
    pub target: Option<f64>,
    /// In percent (1..100).
    pub target_utilization_percentage: Option<f64>,
    pub window: Option<SimDuration>,
    pub panic_window_percentage: Option<f64>,
    pub panic_threshold_percentage: Option<f64>,
    pub min_scale: Option<i32>,
    /// 0 = unbounded.
    pub max_scale: Option<i32>,
    pub initial_scale: Option<i32>,
    pub activation_scale: Option<i32>,
    pub scale_down_delay: Option<SimDuration>,
    pub scale_to_zero_pod_retention_period: Option<SimDuration>,
    /// −1 = the activator always in the path.
    pub target_burst_capacity: Option<f64>,
    pub metric_aggregation_algorithm: Option<Algorithm>,
    /// `spec.template.spec.containerConcurrency`: the hard per-pod limit, 0 = unlimited.
    pub container_concurrency: i64,
}

/// The `config-autoscaler` ConfigMap in `knative-serving`, with Knative's defaults
/// (`defaultConfig`, N6). `container_concurrency_target_fraction` is the fraction the
/// `container-concurrency-target-percentage` key becomes (70 → 0.7).
#[derive(Debug, Clone, PartialEq)]
pub struct KpaConfig {
    pub enable_scale_to_zero: bool,
    pub container_concurrency_target_fraction: f64,
    pub container_concurrency_target_default: f64,
    pub requests_per_second_target_default: f64,
    pub target_burst_capacity: f64,
    pub activator_capacity: f64,
    pub allow_zero_initial_scale: bool,
    pub initial_scale: i32,
    pub min_scale: i32,
    pub max_scale: i32,
    pub max_scale_limit: i32,
    pub max_scale_up_rate: f64,
    pub max_scale_down_rate: f64,
    pub stable_window: SimDuration,
    pub panic_window_percentage: f64,
    pub panic_threshold_percentage: f64,
    pub scale_to_zero_grace_period: SimDuration,
    pub scale_to_zero_pod_retention_period: SimDuration,
    pub scale_down_delay: SimDuration,
}

impl Default for KpaConfig {
    fn default() -> Self {
        KpaConfig {
            enable_scale_to_zero: true,
            container_concurrency_target_fraction: 0.7,
            container_concurrency_target_default: 100.0,
            requests_per_second_target_default: 200.0,
            target_burst_capacity: 211.0,
            activator_capacity: 100.0,
            allow_zero_initial_scale: false,
            initial_scale: 1,
            min_scale: 0,
            max_scale: 0,
            max_scale_limit: 0,
            max_scale_up_rate: 1000.0,
            max_scale_down_rate: 2.0,
            stable_window: SimDuration::from_secs(60),
            panic_window_percentage: 10.0,
            panic_threshold_percentage: 200.0,
            scale_to_zero_grace_period: SimDuration::from_secs(30),
            scale_to_zero_pod_retention_period: SimDuration::ZERO,
            scale_down_delay: SimDuration::ZERO,
        }
    }
}

/// `scaling.DeciderSpec`: what the 2 s decider runs with (N9).
#[derive(Debug, Clone, PartialEq)]
pub struct DeciderSpec {
    pub metric: Metric,
    pub algorithm: Algorithm,
    /// Per-pod value aimed at: `max(0.01, total × utilisation)`.
    pub target_value: f64,
    /// Per-pod capacity, for the excess burst capacity.
    pub total_value: f64,
    pub target_burst_capacity: f64,
    pub panic_threshold: f64,
    pub max_scale_up_rate: f64,
    pub max_scale_down_rate: f64,
    pub stable_window: SimDuration,
    pub panic_window: SimDuration,
    pub scale_down_delay: SimDuration,
    pub initial_scale: i32,
    /// The revision is routed to. Always true in the simulator (one revision, always served);
    /// kept because the upstream tables test the unreachable case.
    pub reachable: bool,
    pub activation_scale: i32,
}

/// What the PodAutoscaler reconciler and its scaler run with (N10).
#[derive(Debug, Clone, PartialEq)]
pub struct ScalerSpec {
    pub min_scale: i32,
    /// 0 = unbounded.
    pub max_scale: i32,
    pub initial_scale: i32,
    pub enable_scale_to_zero: bool,
    pub stable_window: SimDuration,
    pub scale_to_zero_grace_period: SimDuration,
    pub scale_to_zero_pod_retention_period: SimDuration,
    pub target_burst_capacity: f64,
    pub reachable: bool,
}

/// Both, resolved from the Service and the ConfigMap.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub decider: DeciderSpec,
    pub scaler: ScalerSpec,
}

impl Resolved {
    pub fn new(spec: &KpaSpec, cfg: &KpaConfig) -> Self {
        let stable_window = spec.window.unwrap_or(cfg.stable_window);
        let (target_value, total_value) = resolve_metric_target(spec, cfg);
        let target_burst_capacity = spec
            .target_burst_capacity
            .unwrap_or(cfg.target_burst_capacity);
        let initial_scale = get_initial_scale(spec, cfg);
        let reachable = true;
        let decider = DeciderSpec {
            metric: spec.metric.unwrap_or_default(),
            algorithm: spec.metric_aggregation_algorithm.unwrap_or_default(),
            target_value,
            total_value,
            target_burst_capacity,
            panic_threshold: spec
                .panic_threshold_percentage
                .unwrap_or(cfg.panic_threshold_percentage)
                / 100.0,
            max_scale_up_rate: cfg.max_scale_up_rate,
            max_scale_down_rate: cfg.max_scale_down_rate,
            stable_window,
            panic_window: panic_window(
                stable_window,
                spec.panic_window_percentage
                    .unwrap_or(cfg.panic_window_percentage),
            ),
            scale_down_delay: spec.scale_down_delay.unwrap_or(cfg.scale_down_delay),
            initial_scale,
            reachable,
            activation_scale: spec.activation_scale.unwrap_or(0),
        };
        let scaler = ScalerSpec {
            min_scale: spec.min_scale.unwrap_or(cfg.min_scale),
            max_scale: spec.max_scale.unwrap_or(cfg.max_scale),
            initial_scale,
            enable_scale_to_zero: cfg.enable_scale_to_zero,
            stable_window,
            scale_to_zero_grace_period: cfg.scale_to_zero_grace_period,
            scale_to_zero_pod_retention_period: spec
                .scale_to_zero_pod_retention_period
                .unwrap_or(cfg.scale_to_zero_pod_retention_period),
            target_burst_capacity,
            reachable,
        };
        Resolved { decider, scaler }
    }
}

/// `ResolveMetricTarget` (N8): the per-pod target and capacity.
fn resolve_metric_target(spec: &KpaSpec, cfg: &KpaConfig) -> (f64, f64) {
    let metric = spec.metric.unwrap_or_default();
    let cc = spec.container_concurrency as f64;
    let (mut total, mut tu) = match metric {
        Metric::Rps => (
            cfg.requests_per_second_target_default,
            RPS_TARGET_UTILIZATION,
        ),
        Metric::Concurrency => (
            if cc == 0.0 {
                cfg.container_concurrency_target_default
            } else {
                cc
            },
            cfg.container_concurrency_target_fraction,
        ),
    };
    if let Some(target) = spec.target {
        total = target;
        if metric == Metric::Concurrency && cc != 0.0 {
            total = target.min(cc);
        }
    }
    if let Some(pct) = spec.target_utilization_percentage {
        tu = pct / 100.0;
    }
    (TARGET_MIN.max(total * tu), total)
}

/// `MakeMetric` (N8): the panic window is the stable window's percentage, rounded to the second
/// (Go's `Duration.Round`, halves away from zero) and at least one bucket.
fn panic_window(stable: SimDuration, percentage: f64) -> SimDuration {
    let micros = (stable.as_micros() as f64 * percentage / 100.0) as i64;
    let sec = SimDuration::from_secs(1).as_micros();
    let rounded = (micros + sec / 2) / sec * sec;
    SimDuration::from_micros(rounded.max(BUCKET_SIZE.as_micros()))
}

/// `GetInitialScale` (N9): the annotation, unless it asks for 0 where the cluster forbids it.
fn get_initial_scale(spec: &KpaSpec, cfg: &KpaConfig) -> i32 {
    match spec.initial_scale {
        Some(0) if !cfg.allow_zero_initial_scale => cfg.initial_scale,
        Some(n) => n,
        None => cfg.initial_scale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(spec: KpaSpec) -> Resolved {
        Resolved::new(&spec, &KpaConfig::default())
    }

    #[test]
    fn defaults_aim_at_70_in_flight_over_60_and_6_seconds() {
        let d = resolved(KpaSpec::default()).decider;
        assert!((d.target_value - 70.0).abs() < 1e-9);
        assert_eq!(d.total_value, 100.0);
        assert_eq!(d.stable_window, SimDuration::from_secs(60));
        assert_eq!(d.panic_window, SimDuration::from_secs(6));
        assert_eq!(d.panic_threshold, 2.0);
        assert_eq!((d.max_scale_up_rate, d.max_scale_down_rate), (1000.0, 2.0));
    }

    #[test]
    fn target_annotation_is_capped_by_container_concurrency() {
        let d = resolved(KpaSpec {
            target: Some(8.0),
            ..KpaSpec::default()
        })
        .decider;
        assert!((d.target_value - 5.6).abs() < 1e-9);
        let d = resolved(KpaSpec {
            target: Some(8.0),
            container_concurrency: 4,
            ..KpaSpec::default()
        })
        .decider;
        assert_eq!(d.total_value, 4.0);
        let d = resolved(KpaSpec {
            container_concurrency: 16,
            target_utilization_percentage: Some(50.0),
            ..KpaSpec::default()
        })
        .decider;
        assert_eq!(d.target_value, 8.0);
        let d = resolved(KpaSpec {
            metric: Some(Metric::Rps),
            container_concurrency: 16,
            ..KpaSpec::default()
        })
        .decider;
        assert!((d.target_value - 140.0).abs() < 1e-9, "rps ignores cc");
        let d = resolved(KpaSpec {
            target: Some(0.01),
            target_utilization_percentage: Some(1.0),
            ..KpaSpec::default()
        })
        .decider;
        assert_eq!(d.target_value, TARGET_MIN);
    }

    #[test]
    fn panic_window_rounds_to_the_second_and_is_at_least_one() {
        let w = |stable: i64, pct: f64| panic_window(SimDuration::from_secs(stable), pct);
        assert_eq!(w(60, 10.0), SimDuration::from_secs(6));
        assert_eq!(w(45, 10.0), SimDuration::from_secs(5)); // 4.5 s rounds up
        assert_eq!(w(44, 10.0), SimDuration::from_secs(4));
        assert_eq!(w(6, 1.0), SimDuration::from_secs(1));
    }

    #[test]
    fn initial_scale_zero_needs_the_cluster_to_allow_it() {
        let spec = KpaSpec {
            initial_scale: Some(0),
            ..KpaSpec::default()
        };
        assert_eq!(get_initial_scale(&spec, &KpaConfig::default()), 1);
        let cfg = KpaConfig {
            allow_zero_initial_scale: true,
            ..KpaConfig::default()
        };
        assert_eq!(get_initial_scale(&spec, &cfg), 0);
    }
}
