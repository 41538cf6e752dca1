//! Per-metric replica proposals: the port of K1 `pkg/controller/podautoscaler/replica_calculator.go`
//! (`groupPods`, `calcPlainMetricReplicas`, `GetResourceReplicas`, `getUsageRatioReplicaCount`,
//! `GetExternalPerPodMetricReplicas`, `GetObjectPerPodMetricReplicas`) and K5
//! `metrics/utilization.go`, with the per-direction tolerance of K1 `Tolerances`. Go names are
//! kept in snake case so a reviewer can read both side by side.

use super::input::{Input, MetricReading, Phase, Pod, Sample};
use super::spec::{ControllerConfig, HpaSpec, MetricSpec, MetricTarget};
use crate::sim::SimTime;

/// K1 `Tolerances`: how far below / above 1 a usage ratio may be before the HPA acts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Tolerances {
    pub(super) scale_down: f64,
    pub(super) scale_up: f64,
}

impl Tolerances {
    /// K1 `isWithin`: both ends inclusive.
    pub(super) fn is_within(self, usage_ratio: f64) -> bool {
        (1.0 - self.scale_down) <= usage_ratio && usage_ratio <= (1.0 + self.scale_up)
    }
}

/// K2 `tolerancesForHpa`: `behavior.scale{Down,Up}.tolerance` when the `HPAConfigurableTolerance`
/// gate is on and the field is set, otherwise the controller flag.
pub(super) fn tolerances_for_hpa(spec: &HpaSpec, cfg: &ControllerConfig) -> Tolerances {
    let mut t = Tolerances {
        scale_down: cfg.tolerance,
        scale_up: cfg.tolerance,
    };
    if let (true, Some(b)) = (cfg.configurable_tolerance, &spec.behavior) {
        t.scale_down = b.scale_down.tolerance.unwrap_or(t.scale_down);
        t.scale_up = b.scale_up.tolerance.unwrap_or(t.scale_up);
    }
    t
}

/// What one metric asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Proposal {
    pub(super) replicas: i32,
    /// The usage ratio the calculator first formed (before missing/unready pods are filled in).
    pub(super) ratio: f64,
    /// The proposal is the current count because the (final) ratio was within tolerance.
    pub(super) within: bool,
}

impl Proposal {
    fn new(replicas: i32, ratio: f64) -> Self {
        Proposal {
            replicas,
            ratio,
            within: false,
        }
    }
}

/// The pods of K1 `groupPods`, by index: counted as ready, unready (Pending, or CPU not yet
/// trustworthy), missing (no sample) and ignored (deleting or Failed).
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct PodGroups {
    pub(super) ready_count: usize,
    pub(super) unready: Vec<usize>,
    pub(super) missing: Vec<usize>,
    pub(super) ignored: Vec<usize>,
}

/// K1 `groupPods`. Readiness is checked for the CPU resource only: for every other metric a
/// Running pod with a sample counts, ready or not (docs/other-autoscalers.md §2).
pub(super) fn group_pods(
    pods: &[Pod],
    samples: &[Option<Sample>],
    is_cpu: bool,
    now: SimTime,
    cfg: &ControllerConfig,
) -> PodGroups {
    let mut g = PodGroups::default();
    for (i, pod) in pods.iter().enumerate() {
        if pod.deleting || pod.phase == Phase::Failed {
            g.ignored.push(i);
            continue;
        }
        if pod.phase == Phase::Pending {
            g.unready.push(i);
            continue;
        }
        let Some(sample) = samples.get(i).copied().flatten() else {
            g.missing.push(i);
            continue;
        };
        if is_cpu {
            let unready = match (pod.ready, pod.start_time) {
                (Some(ready), Some(start)) => {
                    if start + cfg.cpu_initialization_period > now {
                        // Still initialising: ignore the sample if the pod is unready or one
                        // window has not passed since the last readiness transition.
                        !ready || sample.timestamp < pod.ready_last_transition + sample.window
                    } else {
                        // Ignore it only if the pod is unready and has never been ready.
                        !ready && start + cfg.initial_readiness_delay > pod.ready_last_transition
                    }
                }
                _ => true,
            };
            if unready {
                g.unready.push(i);
                continue;
            }
        }
        g.ready_count += 1;
    }
    g
}

/// K1 `computeReplicasForMetric` dispatch (through K2 `computeStatusFor*Metric`): which
/// calculator a metric type and target type go to. `reading` is `None` when the world gave
/// fewer readings than metrics.
pub(super) fn replicas_for_metric(
    metric: &MetricSpec,
    reading: Option<&MetricReading>,
    input: &Input,
    tolerances: Tolerances,
    cfg: &ControllerConfig,
) -> Result<Proposal, String> {
    let name = metric.metric_name();
    let reading = reading.ok_or_else(|| format!("no reading for metric {name}"))?;
    let per_pod = || match reading {
        MetricReading::PerPod(samples) => Ok(samples.as_slice()),
        MetricReading::Total(_) => Err(format!("metric {name} needs per-pod samples")),
    };
    let total = || match reading {
        MetricReading::Total(Ok(v)) => Ok(*v),
        MetricReading::Total(Err(e)) => Err(format!("unable to get metric {name}: {e}")),
        MetricReading::PerPod(_) => Err(format!("metric {name} needs one value")),
    };
    let calc = Calc {
        pods: &input.pods,
        now: input.now,
        tolerances,
        cfg,
    };
    let current = input.spec_replicas;
    match (metric, *metric.target()) {
        (MetricSpec::Pods { .. }, MetricTarget::AverageValue(target)) => {
            calc.calc_plain_metric_replicas(per_pod()?, current, target, false)
        }
        (MetricSpec::Resource { name, .. }, MetricTarget::AverageValue(target)) => {
            calc.calc_plain_metric_replicas(per_pod()?, current, target, name == "cpu")
        }
        (MetricSpec::Resource { name, .. }, MetricTarget::Utilization(target)) => {
            calc.get_resource_replicas(per_pod()?, current, target, name)
        }
        (MetricSpec::Object { .. } | MetricSpec::External { .. }, MetricTarget::Value(target)) => {
            let usage = total()?;
            calc.get_usage_ratio_replica_count(current, usage as f64 / target as f64)
        }
        (
            MetricSpec::Object { .. } | MetricSpec::External { .. },
            MetricTarget::AverageValue(target),
        ) => Ok(calc.get_per_pod_metric_replicas(input.status_replicas, total()?, target)),
        (_, target) => Err(format!(
            "invalid metric source: target {target:?} does not apply to metric {name}"
        )),
    }
}

/// The lister's view shared by the calculators (K1 `ReplicaCalculator`).
struct Calc<'a> {
    pods: &'a [Pod],
    now: SimTime,
    tolerances: Tolerances,
    cfg: &'a ControllerConfig,
}

const NO_PODS: &str = "no pods returned by selector while calculating replica count";
const NO_METRICS: &str = "did not receive metrics for targeted pods (pods might be unready)";

/// `int32(math.Ceil(x))`, saturating where Go's conversion is undefined.
fn ceil_i32(x: f64) -> i32 {
    x.ceil() as i32
}

impl Calc<'_> {
    /// The samples K1 keeps after `removeMetricsForPods(ignored ∪ unready)`, by index; entries
    /// past the last pod (pods no longer listed) stay, as they do upstream.
    fn kept_metrics(&self, samples: &[Option<Sample>], g: &PodGroups) -> Vec<(usize, i64)> {
        samples
            .iter()
            .enumerate()
            .filter(|(i, _)| !g.ignored.contains(i) && !g.unready.contains(i))
            .filter_map(|(i, s)| s.map(|s| (i, s.value_milli)))
            .collect()
    }

    /// K1 `calcPlainMetricReplicas` (Pods metrics and Resource `AverageValue`).
    fn calc_plain_metric_replicas(
        &self,
        samples: &[Option<Sample>],
        current: i32,
        target: i64,
        is_cpu: bool,
    ) -> Result<Proposal, String> {
        if self.pods.is_empty() {
            return Err(NO_PODS.to_string());
        }
        let g = group_pods(self.pods, samples, is_cpu, self.now, self.cfg);
        let mut metrics = self.kept_metrics(samples, &g);
        if metrics.is_empty() {
            return Err(NO_METRICS.to_string());
        }
        let ratio = get_metric_usage_ratio(&metrics, target);
        let scale_up_with_unready = !g.unready.is_empty() && ratio > 1.0;
        if !scale_up_with_unready && g.missing.is_empty() {
            if self.tolerances.is_within(ratio) {
                return Ok(Proposal {
                    replicas: current,
                    ratio,
                    within: true,
                });
            }
            return Ok(Proposal::new(ceil_i32(ratio * g.ready_count as f64), ratio));
        }
        if ratio < 1.0 {
            // On a scale-down, missing pods are assumed at exactly the target.
            metrics.extend(g.missing.iter().map(|&i| (i, target)));
        } else if ratio > 1.0 {
            // On a scale-up, missing pods are assumed idle.
            metrics.extend(g.missing.iter().map(|&i| (i, 0)));
        }
        if scale_up_with_unready {
            metrics.extend(g.unready.iter().map(|&i| (i, 0)));
        }
        let new_ratio = get_metric_usage_ratio(&metrics, target);
        Ok(self.rebalanced(current, ratio, new_ratio, metrics.len()))
    }

    /// The end shared by K1 `calcPlainMetricReplicas` and `GetResourceReplicas` once missing
    /// and unready pods are filled in: no change when the new ratio is within tolerance or
    /// flips the direction, nor when the pod count would.
    fn rebalanced(&self, current: i32, ratio: f64, new_ratio: f64, n: usize) -> Proposal {
        let within = self.tolerances.is_within(new_ratio);
        if within || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0) {
            return Proposal {
                replicas: current,
                ratio,
                within,
            };
        }
        let new_replicas = ceil_i32(new_ratio * n as f64);
        if (new_ratio < 1.0 && new_replicas > current)
            || (new_ratio > 1.0 && new_replicas < current)
        {
            return Proposal::new(current, ratio);
        }
        Proposal::new(new_replicas, ratio)
    }

    /// K1 `GetResourceReplicas`: Resource `Utilization`, a percentage of the pods' requests.
    /// Only CPU requests are modelled; any other resource fails as a pod without a request.
    fn get_resource_replicas(
        &self,
        samples: &[Option<Sample>],
        current: i32,
        target_utilization: i32,
        resource: &str,
    ) -> Result<Proposal, String> {
        if self.pods.is_empty() {
            return Err(NO_PODS.to_string());
        }
        let is_cpu = resource == "cpu";
        let g = group_pods(self.pods, samples, is_cpu, self.now, self.cfg);
        let mut metrics = self.kept_metrics(samples, &g);
        if metrics.is_empty() {
            return Err(NO_METRICS.to_string());
        }
        // K1 `calculateRequests`: every listed pod needs a request, ignored ones included.
        let requests = self
            .pods
            .iter()
            .enumerate()
            .map(|(i, p)| {
                p.cpu_request_milli
                    .filter(|_| is_cpu)
                    .ok_or_else(|| format!("missing request for {resource} in pod {i}"))
            })
            .collect::<Result<Vec<i64>, String>>()?;
        let (ratio, _) = get_resource_utilization_ratio(&metrics, &requests, target_utilization)?;
        let scale_up_with_unready = !g.unready.is_empty() && ratio > 1.0;
        if !scale_up_with_unready && g.missing.is_empty() {
            if self.tolerances.is_within(ratio) {
                return Ok(Proposal {
                    replicas: current,
                    ratio,
                    within: true,
                });
            }
            return Ok(Proposal::new(ceil_i32(ratio * g.ready_count as f64), ratio));
        }
        if ratio < 1.0 {
            // On a scale-down, a missing pod uses all of its request, or the target when the
            // target is above 100 %.
            let fallback = i64::from(target_utilization.max(100));
            metrics.extend(g.missing.iter().map(|&i| (i, requests[i] * fallback / 100)));
        } else if ratio > 1.0 {
            metrics.extend(g.missing.iter().map(|&i| (i, 0)));
        }
        if scale_up_with_unready {
            metrics.extend(g.unready.iter().map(|&i| (i, 0)));
        }
        let (new_ratio, _) =
            get_resource_utilization_ratio(&metrics, &requests, target_utilization)?;
        Ok(self.rebalanced(current, ratio, new_ratio, metrics.len()))
    }

    /// K1 `getUsageRatioReplicaCount` (Object and External `Value` targets): scales by the
    /// pods that are Running and Ready, the one place the HPA looks at readiness for a
    /// non-CPU metric. At 0 replicas (HPAScaleToZero) the ratio alone decides.
    fn get_usage_ratio_replica_count(
        &self,
        current: i32,
        usage_ratio: f64,
    ) -> Result<Proposal, String> {
        if current == 0 {
            return Ok(Proposal::new(ceil_i32(usage_ratio), usage_ratio));
        }
        if self.tolerances.is_within(usage_ratio) {
            return Ok(Proposal {
                replicas: current,
                ratio: usage_ratio,
                within: true,
            });
        }
        if self.pods.is_empty() {
            return Err(format!("unable to calculate ready pods: {NO_PODS}"));
        }
        let ready = (self.pods.iter())
            .filter(|p| p.phase == Phase::Running && p.ready == Some(true))
            .count();
        let replicas = usage_ratio * ready as f64;
        let replicas = if replicas > f64::from(i32::MAX) {
            i32::MAX
        } else {
            ceil_i32(replicas)
        };
        Ok(Proposal::new(replicas, usage_ratio))
    }

    /// K1 `GetExternalPerPodMetricReplicas` / `GetObjectPerPodMetricReplicas` (`AverageValue`
    /// targets): `ceil(usage / target)` over `status.replicas`, readiness plays no part.
    fn get_per_pod_metric_replicas(
        &self,
        status_replicas: i32,
        usage: i64,
        target: i64,
    ) -> Proposal {
        let ratio = usage as f64 / (target as f64 * f64::from(status_replicas));
        if self.tolerances.is_within(ratio) {
            return Proposal {
                replicas: status_replicas,
                ratio,
                within: true,
            };
        }
        let replicas = (usage as f64 / target as f64).ceil();
        let replicas = if replicas > f64::from(i32::MAX) {
            i32::MAX
        } else {
            replicas as i32
        };
        Proposal::new(replicas, ratio)
    }
}

/// K5 `GetMetricUsageRatio`: the truncated integer mean over the samples, over the target.
fn get_metric_usage_ratio(metrics: &[(usize, i64)], target: i64) -> f64 {
    let total: i128 = metrics.iter().map(|&(_, v)| i128::from(v)).sum();
    let usage = (total / metrics.len() as i128) as i64;
    usage as f64 / target as f64
}

/// K5 `GetResourceUtilizationRatio`: the summed usage over the summed requests of the pods
/// that have both, truncated to a whole percent, over the target percent. Returns the ratio
/// and that percent.
fn get_resource_utilization_ratio(
    metrics: &[(usize, i64)],
    requests: &[i64],
    target_utilization: i32,
) -> Result<(f64, i32), String> {
    let (mut metrics_total, mut requests_total) = (0i128, 0i128);
    for &(i, v) in metrics {
        // A sample for a pod the lister does not know has no request: skipped (K5).
        if let Some(&r) = requests.get(i) {
            metrics_total += i128::from(v);
            requests_total += i128::from(r);
        }
    }
    if requests_total == 0 {
        return Err("no metrics returned matched known pods".to_string());
    }
    let utilization = (metrics_total * 100 / requests_total) as i32;
    Ok((
        f64::from(utilization) / f64::from(target_utilization),
        utilization,
    ))
}
