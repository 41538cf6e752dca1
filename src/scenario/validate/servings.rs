//! The scenario's servings: each ModelServing from the scenario and its manifest, with its
//! roles, prices, startup model, server parameters, metrics endpoint, disaggregation and
//! faults.

use std::collections::BTreeMap;
use std::path::Path;

use super::policies::read_manifests;
use super::{faults, Problems};
use crate::diagnostic::FieldPath;
use crate::kthena::manifest::{ManifestSet, ModelServing};
use crate::model::spec::{
    Disaggregation, Role, Serving, DEFAULT_METRICS_PATH, DEFAULT_METRICS_PORT,
    DEFAULT_TERMINATION_GRACE, MAX_SERVERS,
};
use crate::model::startup::Startup;
use crate::scenario::raw::{RawScenario, RawServing, RawStartup};
use crate::sim::SimDuration;

pub(super) fn build_servings(
    raw: &RawScenario,
    base: &Path,
    manifests: Option<&ManifestSet>,
    p: &mut Problems,
) -> Vec<Serving> {
    if raw.servings.is_empty() {
        p.add("servings", "at least one ModelServing is needed");
    }
    let in_policies: Vec<ModelServing> = manifests
        .and_then(|m| m.model_servings().ok())
        .map(<[ModelServing]>::to_vec)
        .unwrap_or_default();
    let mut out: Vec<Serving> = Vec::new();
    for (i, s) in raw.servings.iter().enumerate() {
        let path = &FieldPath::new("servings").index(i);
        let manifest = match &s.manifest {
            Some(f) => read_manifests(
                base,
                std::slice::from_ref(f),
                &path.child("manifest"),
                &[],
                &mut [],
                p,
            )
            .and_then(|set| {
                set.model_servings()
                    .ok()
                    .and_then(|v| v.iter().find(|m| m.name == s.name).cloned())
            })
            .or_else(|| {
                p.add(
                    path.child("manifest"),
                    format!("no ModelServing named {:?} in {f}", s.name),
                );
                None
            }),
            None => in_policies.iter().find(|m| m.name == s.name).cloned(),
        };
        if let Some(serving) = build_serving(s, manifest.as_ref(), path, p) {
            if out
                .iter()
                .any(|o| o.name == serving.name && o.namespace == serving.namespace)
            {
                p.add(
                    path.child("name"),
                    format!("duplicate serving {:?}", serving.name),
                );
            }
            out.push(serving);
        }
    }
    out
}

pub(super) fn build_startup(r: &RawStartup, path: &FieldPath, p: &mut Problems) -> Option<Startup> {
    Some(match r {
        RawStartup::Constant(d) => Startup::Constant(p.duration(&path.child("constant"), d)?),
        RawStartup::Lognormal { median, p99 } => {
            let m = p.positive_duration(&path.child("lognormal").child("median"), median)?;
            let q = p.positive_duration(&path.child("lognormal").child("p99"), p99)?;
            if q < m {
                p.add(path.child("lognormal").child("p99"), "must be >= median");
                return None;
            }
            Startup::lognormal(m, q)
        }
        RawStartup::Uniform { min, max } => {
            let lo = p.duration(&path.child("uniform").child("min"), min)?;
            let hi = p.duration(&path.child("uniform").child("max"), max)?;
            if hi < lo {
                p.add(path.child("uniform").child("max"), "must be >= min");
                return None;
            }
            Startup::Uniform { min: lo, max: hi }
        }
        RawStartup::Empirical(v) => {
            if v.is_empty() {
                p.add(path.child("empirical"), "needs at least one duration");
                return None;
            }
            let d: Vec<Option<SimDuration>> = v
                .iter()
                .enumerate()
                .map(|(i, t)| p.duration(&path.child("empirical").index(i), t))
                .collect();
            Startup::Empirical(d.into_iter().collect::<Option<Vec<_>>>()?)
        }
        RawStartup::Phases(phases) => {
            let mut out = Vec::new();
            for (i, ph) in phases.iter().enumerate() {
                out.push((
                    ph.name.clone(),
                    build_startup(
                        &ph.duration,
                        &path.child("phases").index(i).child("duration"),
                        p,
                    )?,
                ));
            }
            Startup::Phases(out)
        }
    })
}

fn build_serving(
    s: &RawServing,
    manifest: Option<&ModelServing>,
    path: &FieldPath,
    p: &mut Problems,
) -> Option<Serving> {
    if s.name.is_empty() {
        p.add(path.child("name"), "must not be empty");
    }
    let replicas = s
        .replicas
        .or(manifest.and_then(|m| m.replicas))
        .unwrap_or(1);
    let most = MAX_SERVERS as i32;
    if !(0..=most).contains(&replicas) {
        p.add(
            path.child("replicas"),
            format!("must be between 0 and {most}"),
        );
    }
    let mut roles: Vec<Role> = s
        .roles
        .iter()
        .map(|r| Role {
            name: r.name.clone(),
            replicas: r.replicas.unwrap_or(1),
            serves: r.serves.unwrap_or(true),
            labels: r.labels.clone(),
        })
        .collect();
    if roles.is_empty() {
        if let Some(m) = manifest {
            roles = m
                .roles
                .iter()
                .map(|r| Role {
                    name: r.name.clone(),
                    replicas: r.replicas.unwrap_or(1),
                    serves: true,
                    labels: BTreeMap::new(),
                })
                .collect();
        }
    }
    for (i, r) in roles.iter().enumerate() {
        if !(0..=most).contains(&r.replicas) {
            p.add(
                path.child("roles").index(i).child("replicas"),
                format!("must be between 0 and {most}"),
            );
        }
    }
    let pods_per_server = s.pods_per_server.unwrap_or(1);
    let gpus_per_pod = s.gpus_per_pod.unwrap_or(1);
    if pods_per_server == 0 {
        p.add(path.child("pods_per_server"), "must be at least 1");
    }
    let price_per_hour = match (s.price_per_hour, s.price_per_gpu_hour) {
        (Some(h), _) => h,
        (None, Some(g)) => g * f64::from(pods_per_server) * f64::from(gpus_per_pod),
        (None, None) => 0.0,
    };
    if !(price_per_hour.is_finite() && price_per_hour >= 0.0) {
        p.add(path.child("price_per_hour"), "must be a finite number >= 0");
    }
    let startup = match &s.startup {
        Some(r) => build_startup(r, &path.child("startup"), p),
        None => Some(Startup::Constant(SimDuration::ZERO)),
    };
    let termination_grace = match &s.termination_grace {
        Some(t) => p.duration(&path.child("termination_grace"), t),
        None => Some(DEFAULT_TERMINATION_GRACE),
    };
    let server = match s.server.resolve() {
        Ok(params) => Some(params),
        Err(e) => {
            p.add(path.child("server"), e);
            None
        }
    };
    let metrics_port = s
        .metrics
        .as_ref()
        .and_then(|m| m.port)
        .unwrap_or(DEFAULT_METRICS_PORT);
    let metrics_path = s
        .metrics
        .as_ref()
        .and_then(|m| m.path.clone())
        .unwrap_or_else(|| DEFAULT_METRICS_PATH.into());
    if !(1..=65535).contains(&metrics_port) {
        p.add(
            path.child("metrics").child("port"),
            "must be between 1 and 65535",
        );
    }
    let disaggregation = s.disaggregation.as_ref().and_then(|d| {
        let role = |name: &str, field: &str, p: &mut Problems| {
            let i = roles.iter().position(|r| r.name == name);
            if i.is_none() {
                let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
                p.add(
                    path.child("disaggregation").child(field),
                    format!("no role {name:?} (roles: {})", names.join(", ")),
                );
            }
            i
        };
        let prefill_role = role(&d.prefill_role, "prefill_role", p);
        let decode_role = role(&d.decode_role, "decode_role", p);
        if d.prefill_role == d.decode_role {
            p.add(
                path.child("disaggregation").child("decode_role"),
                "must differ from prefill_role",
            );
        }
        let t = d.kv_transfer.as_ref();
        let gbps = t.and_then(|t| t.gbps).unwrap_or(100.0);
        let bytes = t.and_then(|t| t.bytes_per_token).unwrap_or(327_680.0);
        if !(gbps.is_finite() && gbps > 0.0) {
            p.add(
                path.child("disaggregation")
                    .child("kv_transfer")
                    .child("gbps"),
                "must be a number > 0",
            );
        }
        if !(bytes.is_finite() && bytes >= 0.0) {
            p.add(
                path.child("disaggregation")
                    .child("kv_transfer")
                    .child("bytes_per_token"),
                "must be a number >= 0",
            );
        }
        let latency = match t.and_then(|t| t.latency.as_deref()) {
            Some(l) => p.duration(
                &path
                    .child("disaggregation")
                    .child("kv_transfer")
                    .child("latency"),
                l,
            )?,
            None => SimDuration::from_millis(1),
        };
        Some(Disaggregation {
            prefill_role: prefill_role?,
            decode_role: decode_role?,
            latency,
            per_token_us: bytes * 8.0 / (gbps * 1e9) * 1e6,
        })
    });
    let faults = faults::serving_faults(s.faults.as_ref(), startup.as_ref(), path, p);
    let namespace = s
        .namespace
        .clone()
        .or(manifest.map(|m| m.namespace.clone()))
        .unwrap_or_else(|| "default".into());
    Some(Serving {
        name: s.name.clone(),
        namespace,
        replicas,
        roles,
        pods_per_server,
        gpus_per_pod,
        accelerator: s.accelerator.clone().unwrap_or_else(|| "gpu".into()),
        price_per_hour,
        startup: startup?,
        termination_grace: termination_grace?,
        server: server?,
        metrics_port,
        metrics_path,
        labels: s.labels.clone(),
        disaggregation,
        faults: faults?,
    })
}
