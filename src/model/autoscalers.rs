//! The autoscalers installed beside (or instead of) Kthena's engine: Kubernetes HPAs, KEDA
//! ScaledObjects and Knative KPAs, each with its own state and controller clock
//! (docs/other-autoscalers.md §5). This component turns what the world shows them — the target's pods and
//! their metrics, the simulated Prometheus, the requests in flight — into their inputs, and
//! hands back their decisions; the world writes the replicas and records the rows.

use crate::engine::cluster::{Families, MetricFamily, QueryResult};
use crate::engine::policy::Labels;
use crate::hpa::{self, HpaSpec, MetricSpec};
use crate::keda::{self, QueryOutcome, ScaledObjectSpec};
use crate::kpa::Kpa;
pub use crate::kthena::autoscaler::AutoscalerSpec;
use crate::sim::{SimDuration, SimTime};
use std::collections::BTreeSet;

use super::ids::ServingIdx;
use super::metrics::{exposition, ServerGauges};
use super::prometheus::{Query, SeriesStore};
use super::servings::{Servings, UnitState};
use super::spec::Serving;

/// The HPA's sync period (`--horizontal-pod-autoscaler-sync-period`, spec K4); KEDA's HPA
/// runs on it too.
pub const HPA_SYNC_PERIOD: SimDuration = SimDuration::from_secs(15);
/// The KPA decider's tick (N2 `tickInterval`).
pub const KPA_TICK: SimDuration = SimDuration::from_secs(2);
/// How often the in-flight requests of a KPA's revision are sampled: ten samples make each
/// second's time-averaged concurrency (the queue-proxy reports an average over the second).
pub const KPA_SAMPLE: SimDuration = SimDuration::from_millis(100);
/// Samples per whole second.
const SAMPLES_PER_SECOND: u32 = 10;
/// The gauge the simulated Kthena router exposes per ModelServing (as Kthena's router does
/// per model): requests in flight through the router, waiting ones included.
pub const ROUTER_ACTIVE_REQUESTS: &str = "kthena_router_active_downstream_requests";

/// One controller clock event of an autoscaler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// An HPA sync, or the sync of the HPA a KEDA ScaledObject created.
    HpaSync,
    /// A KEDA polling-loop pass.
    KedaPoll,
}

/// What one controller pass decided, for the world to write and record.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `spec.replicas` to write.
    pub write: Option<i32>,
    /// What the autoscaler computed (the timeline's `recommended`); `None` before a KPA's
    /// decider has had data.
    pub desired: Option<i32>,
    pub panic: bool,
    /// No decision could be made (no metrics).
    pub skip: bool,
    pub reason_code: &'static str,
    pub reason: String,
    /// The metric values it read, `name=value;…`.
    pub metrics: String,
}

/// An installed autoscaler's state.
enum State {
    Hpa(hpa::Hpa),
    Keda {
        keda: keda::Keda,
        queries: Vec<Query>,
        /// The metric families the queries can read (`None`: all): the rest is not scraped.
        names: Option<BTreeSet<String>>,
        store: SeriesStore,
    },
    Kpa {
        kpa: Box<Kpa>,
        /// Sum of this second's in-flight samples, and samples taken.
        sum: f64,
        samples: u32,
        /// A stat exists for this second: a server was ready or the router held requests
        /// at one of its samples (seconds without one are not recorded, N3).
        stat: bool,
        /// Requests that reached the revision in this second.
        requests: u64,
        /// The last second's average concurrency, for the timeline.
        last: f64,
    },
}

/// One installed autoscaler.
pub struct Installed {
    pub spec: AutoscalerSpec,
    pub serving: ServingIdx,
    state: State,
}

/// Every installed autoscaler, in manifest order.
#[derive(Default)]
pub struct Autoscalers {
    pub items: Vec<Installed>,
}

impl Autoscalers {
    /// Installs `specs` over `servings` at `now` (each spec's target was checked to exist).
    pub fn new(specs: &[AutoscalerSpec], servings: &[Serving], now: SimTime) -> Self {
        let items = specs
            .iter()
            .filter_map(|spec| {
                let (ns, name) = spec.target();
                let s = servings
                    .iter()
                    .position(|x| x.namespace == ns && x.name == name)?;
                let state = match spec {
                    AutoscalerSpec::Hpa(_) => State::Hpa(hpa::Hpa::new()),
                    AutoscalerSpec::Keda(k) => {
                        let queries: Vec<Query> = (k.triggers.iter())
                            .filter_map(|t| Query::parse(&t.query).ok())
                            .collect();
                        let range = (queries.iter().map(Query::max_range).max())
                            .unwrap_or(SimDuration::ZERO);
                        let names = (queries.iter()).try_fold(BTreeSet::new(), |mut all, q| {
                            all.extend(q.metric_names()?.iter().cloned());
                            Some(all)
                        });
                        State::Keda {
                            keda: keda::Keda::new(now),
                            queries,
                            names,
                            store: SeriesStore::new(range + k.polling_interval()),
                        }
                    }
                    AutoscalerSpec::Kpa { spec, config, .. } => State::Kpa {
                        kpa: Box::new(Kpa::new(spec, config, now, servings[s].replicas)),
                        sum: 0.0,
                        samples: 0,
                        stat: false,
                        requests: 0,
                        last: 0.0,
                    },
                };
                Some(Installed {
                    spec: spec.clone(),
                    serving: ServingIdx::new(s),
                    state,
                })
            })
            .collect();
        Autoscalers { items }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether autoscaler `i` is a KPA.
    pub fn is_kpa(&self, i: usize) -> bool {
        matches!(self.items[i].state, State::Kpa { .. })
    }

    /// Whether any KPA is installed (its metric sampling then runs).
    pub fn has_kpa(&self) -> bool {
        (self.items.iter()).any(|i| matches!(i.state, State::Kpa { .. }))
    }

    /// The first events of autoscaler `i`: `(when, clock)`.
    pub fn first_events(&self, i: usize, first_tick: SimTime) -> Vec<(SimTime, Clock)> {
        match &self.items[i].spec {
            AutoscalerSpec::Hpa(_) => vec![(first_tick, Clock::HpaSync)],
            // KEDA polls from the moment the ScaledObject exists; its HPA syncs on the
            // controller's clock. A poll and a sync at one instant: the poll first.
            AutoscalerSpec::Keda(_) => {
                vec![
                    (SimTime::ZERO, Clock::KedaPoll),
                    (first_tick, Clock::HpaSync),
                ]
            }
            AutoscalerSpec::Kpa { .. } => Vec::new(),
        }
    }

    /// The period of `clock` for autoscaler `i`.
    pub fn period(&self, i: usize, clock: Clock) -> SimDuration {
        match (&self.items[i].spec, clock) {
            (AutoscalerSpec::Keda(k), Clock::KedaPoll) => k.polling_interval(),
            _ => HPA_SYNC_PERIOD,
        }
    }

    /// A request was sent to a server of serving `s`: it counts in the KPAs' request rate.
    pub fn request_sent(&mut self, s: ServingIdx) {
        for item in &mut self.items {
            if let (State::Kpa { requests, .. }, true) = (&mut item.state, item.serving == s) {
                *requests += 1;
            }
        }
    }

    /// A request arrived at the router. For a KPA whose activator is in the request path
    /// and whose revision was idle (`idle(serving)`), the activator reports the request at
    /// once (N12: concurrency 1); one at zero is poked. Returns the KPAs to tick now.
    pub fn activator_stat(
        &mut self,
        now: SimTime,
        idle: impl Fn(ServingIdx) -> bool,
    ) -> Vec<usize> {
        let mut poke = Vec::new();
        for (i, item) in self.items.iter_mut().enumerate() {
            if let State::Kpa { kpa, .. } = &mut item.state {
                if kpa.activator_in_path() && idle(item.serving) {
                    kpa.activator_first_request(now);
                    if kpa.wants_poke() {
                        poke.push(i);
                    }
                }
            }
        }
        poke
    }

    /// Takes one in-flight sample for every KPA: `in_flight(serving)` counts the requests in
    /// its ready servers and at the router, and says whether there is a stat at all (a ready
    /// server, or requests held at the router). At a whole second the second's average is
    /// recorded, if it had a stat. Returns whether this sample closed a second.
    pub fn sample(&mut self, now: SimTime, in_flight: impl Fn(ServingIdx) -> (u64, bool)) -> bool {
        let mut closed = false;
        for item in &mut self.items {
            let State::Kpa {
                kpa,
                sum,
                samples,
                requests,
                last,
                stat,
            } = &mut item.state
            else {
                continue;
            };
            let (n, any) = in_flight(item.serving);
            *sum += n as f64;
            *stat |= any;
            *samples += 1;
            if *samples == SAMPLES_PER_SECOND {
                let second = now.as_micros() / 1_000_000;
                *last = *sum / f64::from(*samples);
                if *stat {
                    kpa.record(second, *last, *requests as f64);
                }
                (*sum, *samples, *requests, *stat) = (0.0, 0, 0, false);
                closed = true;
            }
        }
        closed
    }

    /// KPA `i`'s pass at `now`: a decider tick when `tick`, then the PodAutoscaler reconcile.
    pub fn kpa_pass(&mut self, i: usize, now: SimTime, tick: bool, servings: &Servings) -> Outcome {
        let item = &mut self.items[i];
        let State::Kpa { kpa, last, .. } = &mut item.state else {
            unreachable!("kpa_pass on a KPA");
        };
        // The ready index, not `Servings::read`'s walk over every unit ever created: this
        // runs every second, and the row's full read follows only when a row is written.
        let ready = servings.in_flight(item.serving).1 as i32;
        let spec = servings.spec_replicas(item.serving, None);
        if tick {
            kpa.tick(now, ready);
        }
        let d = kpa.reconcile(now, spec, ready);
        Outcome {
            write: d.replicas,
            desired: (d.desired >= 0).then_some(d.desired),
            panic: kpa.in_panic(),
            skip: false,
            reason_code: d.reason.code(),
            reason: d.reason.to_string(),
            metrics: format!("concurrency={}", round3(*last)),
        }
    }

    /// HPA or KEDA autoscaler `i`'s pass of `clock` at `now`.
    pub fn pass(
        &mut self,
        i: usize,
        clock: Clock,
        now: SimTime,
        servings: &Servings,
        router_waiting: u64,
        cfg: &hpa::ControllerConfig,
    ) -> Outcome {
        let item = &mut self.items[i];
        let serving = item.serving;
        let spec_replicas = servings.spec_replicas(serving, None);
        match (&item.spec, &mut item.state) {
            (AutoscalerSpec::Hpa(spec), State::Hpa(h)) => {
                let mut input = hpa_input(servings, serving, now);
                let (metrics, text) = hpa_readings(spec, servings, serving, now);
                input.metrics = metrics;
                let d = h.sync(spec, cfg, &input);
                hpa_outcome(d, text)
            }
            (
                AutoscalerSpec::Keda(spec),
                State::Keda {
                    keda,
                    queries,
                    names,
                    store,
                },
            ) => {
                scrape(store, names.as_ref(), servings, now, router_waiting);
                let outcomes: Vec<QueryOutcome> = queries
                    .iter()
                    .map(|q| query_outcome(q.evaluate(store, now)))
                    .collect();
                let text = metrics_text(spec, &outcomes);
                let d = match clock {
                    Clock::KedaPoll => keda.poll(spec, now, spec_replicas, &outcomes),
                    Clock::HpaSync => {
                        keda.hpa_sync(spec, cfg, hpa_input(servings, serving, now), &outcomes)
                    }
                };
                Outcome {
                    write: d.replicas,
                    desired: Some(d.desired),
                    panic: false,
                    skip: d.replicas.is_none() && d.reason.code() == "query_error",
                    reason_code: d.reason.code(),
                    reason: d.reason.to_string(),
                    metrics: text,
                }
            }
            _ => unreachable!("the clock of an HPA or KEDA autoscaler"),
        }
    }
}

/// The HPA's reading of the target's pods (K1 `groupPods` inputs): pods not gone, with their
/// phase and readiness; the metric readings are added per metric.
fn hpa_input(servings: &Servings, s: ServingIdx, now: SimTime) -> hpa::Input {
    let mut pods = Vec::new();
    let mut status = 0;
    for (_, u) in servings.units() {
        if u.serving != s || u.state() == UnitState::Gone {
            continue;
        }
        let (phase, deleting, ready, since) = match u.state() {
            UnitState::Pending => (hpa::Phase::Pending, false, None, None),
            UnitState::Starting { scheduled_at }
            | UnitState::Restarting { scheduled_at }
            | UnitState::Lost { scheduled_at } => {
                (hpa::Phase::Running, false, Some(false), Some(scheduled_at))
            }
            UnitState::Ready { since, .. } => (hpa::Phase::Running, false, Some(true), Some(since)),
            UnitState::Terminating { scheduled_at } => {
                (hpa::Phase::Running, true, Some(true), Some(scheduled_at))
            }
            UnitState::Gone => continue,
        };
        status += i32::from(!deleting);
        pods.push(hpa::Pod {
            phase,
            deleting,
            ready,
            ready_last_transition: since.unwrap_or(now),
            start_time: u.state().scheduled_at(),
            cpu_request_milli: None,
        });
    }
    hpa::Input {
        now,
        spec_replicas: servings.spec_replicas(s, None),
        status_replicas: status,
        pods,
        metrics: Vec::new(),
    }
}

/// Each metric's reading, in spec order, and the values as the timeline shows them. Pods
/// metrics read each running pod's gauge as the Prometheus adapter serves it (fresh at the
/// sync); Object and External metrics the sum of the gauge over the target's pods, which is
/// what an adapter rule `sum(<<.Series>>{<<.LabelMatchers>>})` returns. Resource metrics
/// have no source in the simulated world (validation refuses them in scenarios).
fn hpa_readings(
    spec: &HpaSpec,
    servings: &Servings,
    s: ServingIdx,
    now: SimTime,
) -> (Vec<hpa::MetricReading>, String) {
    let values = |name: &str| -> Vec<Option<f64>> {
        (servings.units())
            .filter(|(_, u)| u.serving == s && u.state() != UnitState::Gone)
            .map(|(_, u)| {
                u.state()
                    .is_running()
                    .then(|| {
                        gauge(
                            &exposition(&u.series, ServerGauges::of(&u.server, now)),
                            name,
                        )
                    })
                    .flatten()
            })
            .collect()
    };
    let mut text = Vec::new();
    let readings = spec
        .metrics
        .iter()
        .map(|m| match m {
            MetricSpec::Pods { metric, .. } => {
                let v = values(&metric.name);
                let sampled: Vec<f64> = v.iter().flatten().copied().collect();
                if !sampled.is_empty() {
                    let mean = sampled.iter().sum::<f64>() / sampled.len() as f64;
                    text.push(format!("{}={}", metric.name, round3(mean)));
                }
                hpa::MetricReading::PerPod(
                    v.into_iter()
                        .map(|x| {
                            x.map(|value| hpa::Sample {
                                value_milli: milli(value),
                                timestamp: now,
                                window: SimDuration::from_secs(60),
                            })
                        })
                        .collect(),
                )
            }
            MetricSpec::Object { metric, .. } | MetricSpec::External { metric, .. } => {
                let v = values(&metric.name);
                let total: f64 = v.iter().flatten().sum();
                text.push(format!("{}={}", metric.name, round3(total)));
                hpa::MetricReading::Total(Ok(milli(total)))
            }
            MetricSpec::Resource { name, .. } => {
                hpa::MetricReading::Total(Err(format!("the simulated pods have no {name} usage")))
            }
        })
        .collect();
    (readings, text.join(";"))
}

/// The value of gauge `name` in a pod's payload (the adapter's `vllm_…` spelling of a
/// `vllm:…` name too): the sum of its series.
fn gauge(families: &Families, name: &str) -> Option<f64> {
    let family = families.get(name).or_else(|| {
        families
            .iter()
            .find(|(k, _)| k.replace(':', "_") == name)
            .map(|(_, f)| f)
    })?;
    match family {
        MetricFamily::Gauge(v) => Some(v.iter().sum()),
        _ => None,
    }
}

/// Scrapes every running pod and the router's per-serving gauge into `store` at `now`,
/// keeping only the families in `names` (all with `None`): series no query reads would only
/// cost time. A histogram family is kept when a query reads its `_bucket`, `_sum` or `_count`.
fn scrape(
    store: &mut SeriesStore,
    names: Option<&BTreeSet<String>>,
    servings: &Servings,
    now: SimTime,
    router_waiting: u64,
) {
    let read = |family: &str| {
        names.is_none_or(|n| {
            n.contains(family)
                || ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| n.contains(&format!("{family}{s}")))
        })
    };
    let mut targets: Vec<(Labels, Families)> = Vec::new();
    for (_, u) in servings.units() {
        if u.state().is_running() {
            let mut f = exposition(&u.series, ServerGauges::of(&u.server, now));
            f.retain(|k, _| read(k));
            targets.push((u.prom_labels.clone(), f));
        }
    }
    targets.extend(router_targets(servings, router_waiting));
    store.record(now, targets.iter().map(|(l, f)| (l, f)));
}

/// The simulated Kthena router as a Prometheus target, one per ModelServing (labels `job`,
/// `namespace`, `model`): its requests in flight, those it holds while no server is ready
/// included. The router queue is shared: a request waiting for any server counts for every
/// serving (docs/other-autoscalers.md §5).
pub fn router_targets(servings: &Servings, router_waiting: u64) -> Vec<(Labels, Families)> {
    (servings.specs().iter().enumerate())
        .map(|(s, spec)| {
            let mut labels = Labels::new();
            labels.insert("job".into(), "kthena-router".into());
            labels.insert("namespace".into(), spec.namespace.clone());
            labels.insert("model".into(), spec.name.clone());
            let active = servings.in_flight(ServingIdx::new(s)).0 + router_waiting;
            let mut f = Families::new();
            f.insert(
                ROUTER_ACTIVE_REQUESTS.to_string(),
                MetricFamily::Gauge(vec![active as f64]),
            );
            (labels, f)
        })
        .collect()
}

/// A PromQL result as KEDA's Prometheus scaler receives it.
fn query_outcome(r: QueryResult) -> QueryOutcome {
    match r {
        QueryResult::Scalar(v) => Ok(vec![v]),
        QueryResult::Vector(v) => Ok(v),
        QueryResult::Unsupported(what) => Err(format!("unsupported result type {what}")),
        QueryResult::Error(e) => Err(e),
    }
}

/// KEDA's trigger values, `name=value;…`.
fn metrics_text(spec: &ScaledObjectSpec, outcomes: &[QueryOutcome]) -> String {
    (spec.triggers.iter().zip(outcomes))
        .enumerate()
        .map(|(i, (t, o))| {
            let name = t.name.clone().unwrap_or_else(|| format!("s{i}"));
            match o {
                Ok(v) => format!(
                    "{name}={}",
                    v.iter()
                        .map(|x| round3(*x).to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                Err(_) => format!("{name}=error"),
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn hpa_outcome(d: hpa::Decision, metrics: String) -> Outcome {
    Outcome {
        write: d.replicas,
        desired: Some(d.desired),
        panic: false,
        skip: d.reason.code() == "no_metrics",
        reason_code: d.reason.code(),
        reason: d.reason.to_string(),
        metrics,
    }
}

/// A metric value in milli, as `resource.Quantity.MilliValue` rounds it (up).
fn milli(v: f64) -> i64 {
    (v * 1000.0).ceil() as i64
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
