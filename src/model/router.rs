//! The router (kthena-router or a Service): picks a ready, non-terminating server for each
//! request. Ties go to the lowest server index (creation order), as docs/world.md §6 fixes.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use rand::RngExt;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use super::ids::UnitId;
use crate::sim::rng::Stream;

/// How a request's server is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RouterPolicy {
    /// Fewest waiting + running requests per unit of speed (default): in a pool of servers of
    /// one kind, simply the fewest requests.
    #[default]
    LeastRequest,
    /// In turn, over the servers ready at the time.
    RoundRobin,
    /// Uniformly at random (the `routing` stream).
    Random,
    /// Two distinct servers at random, the less loaded of them.
    PowerOfTwo,
    /// Lowest KV-cache usage.
    LeastKvCache,
}

impl RouterPolicy {
    pub const NAMES: [&'static str; 5] = [
        "least-request",
        "round-robin",
        "random",
        "power-of-two",
        "least-kv-cache",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RouterPolicy::LeastRequest => "least-request",
            RouterPolicy::RoundRobin => "round-robin",
            RouterPolicy::Random => "random",
            RouterPolicy::PowerOfTwo => "power-of-two",
            RouterPolicy::LeastKvCache => "least-kv-cache",
        }
    }
}

impl fmt::Display for RouterPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A router policy as the scenario file names it: one of [`RouterPolicy::NAMES`].
impl JsonSchema for RouterPolicy {
    fn schema_name() -> Cow<'static, str> {
        "RouterPolicy".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "enum": RouterPolicy::NAMES })
    }
}

/// A router policy name that is not one of [`RouterPolicy::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown router policy {0:?} (expected one of {names})", names = RouterPolicy::NAMES.join(", "))]
pub struct UnknownRouterPolicy(pub String);

impl FromStr for RouterPolicy {
    type Err = UnknownRouterPolicy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "least-request" => Ok(RouterPolicy::LeastRequest),
            "round-robin" => Ok(RouterPolicy::RoundRobin),
            "random" => Ok(RouterPolicy::Random),
            "power-of-two" => Ok(RouterPolicy::PowerOfTwo),
            "least-kv-cache" => Ok(RouterPolicy::LeastKvCache),
            other => Err(UnknownRouterPolicy(other.to_string())),
        }
    }
}

/// A server the router may choose, in creation order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub server: UnitId,
    /// Waiting + running requests.
    pub load: usize,
    /// Relative decode throughput of the server, so that a mixed pool compares load fairly.
    pub speed: f64,
    /// KV-cache usage, 0..1.
    pub kv_usage: f64,
}

pub struct Router {
    policy: RouterPolicy,
    turn: usize,
    rng: Stream,
}

impl Router {
    pub fn new(policy: RouterPolicy, rng: Stream) -> Self {
        Router {
            policy,
            turn: 0,
            rng,
        }
    }

    /// Whether [`Router::pick`] reads [`Candidate::kv_usage`] (the other policies ignore it).
    pub fn uses_kv_usage(&self) -> bool {
        self.policy == RouterPolicy::LeastKvCache
    }

    /// The chosen server among `candidates` (in creation order), `None` if there is none.
    pub fn pick(&mut self, candidates: &[Candidate]) -> Option<UnitId> {
        if candidates.is_empty() {
            return None;
        }
        match self.policy {
            RouterPolicy::LeastRequest => least_loaded(candidates),
            RouterPolicy::RoundRobin => {
                let c = candidates[self.turn % candidates.len()];
                self.turn = self.turn.wrapping_add(1);
                Some(c.server)
            }
            RouterPolicy::Random => {
                Some(candidates[self.rng.random_range(0..candidates.len())].server)
            }
            RouterPolicy::PowerOfTwo => {
                if candidates.len() == 1 {
                    return Some(candidates[0].server);
                }
                let a = self.rng.random_range(0..candidates.len());
                let mut b = self.rng.random_range(0..candidates.len() - 1);
                if b >= a {
                    b += 1;
                }
                let (first, second) = (a.min(b), a.max(b));
                least_loaded(&[candidates[first], candidates[second]])
            }
            RouterPolicy::LeastKvCache => candidates
                .iter()
                .fold(None::<&Candidate>, |best, c| match best {
                    Some(b) if b.kv_usage <= c.kv_usage => Some(b),
                    _ => Some(c),
                })
                .map(|c| c.server),
        }
    }
}

/// The candidate with the least load per unit of speed; the first (oldest) of equals wins.
/// Each candidate's ratio is divided out once, not at every comparison: the loop then
/// carries only a comparison from one candidate to the next.
fn least_loaded(candidates: &[Candidate]) -> Option<UnitId> {
    let mut best: Option<(f64, UnitId)> = None;
    for c in candidates {
        let per_speed = c.load as f64 / c.speed;
        if best.is_none_or(|(least, _)| per_speed.total_cmp(&least).is_lt()) {
            best = Some((per_speed, c.server));
        }
    }
    best.map(|(_, server)| server)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::stream;

    fn c(server: usize, load: usize, kv_usage: f64) -> Candidate {
        Candidate {
            server: UnitId::new(server),
            load,
            speed: 1.0,
            kv_usage,
        }
    }

    #[test]
    fn least_request_breaks_ties_by_creation_order() {
        let mut r = Router::new(RouterPolicy::LeastRequest, stream(1, "routing"));
        assert_eq!(
            r.pick(&[c(4, 2, 0.0), c(7, 1, 0.0), c(9, 1, 0.0)]),
            Some(UnitId::new(7))
        );
        assert_eq!(r.pick(&[]), None);
    }

    #[test]
    fn least_request_weighs_load_by_speed() {
        let mut r = Router::new(RouterPolicy::LeastRequest, stream(1, "routing"));
        let slow = Candidate {
            speed: 1.0,
            ..c(1, 4, 0.0)
        };
        let fast = Candidate {
            speed: 3.0,
            ..c(2, 9, 0.0)
        };
        assert_eq!(
            r.pick(&[slow, fast]),
            Some(UnitId::new(2)),
            "9 requests on a 3x server beat 4 on a 1x one"
        );
    }

    #[test]
    fn round_robin_cycles() {
        let mut r = Router::new(RouterPolicy::RoundRobin, stream(1, "routing"));
        let cs = [c(1, 0, 0.0), c(2, 0, 0.0), c(3, 0, 0.0)];
        let picks: Vec<_> = (0..4).map(|_| r.pick(&cs).unwrap().index()).collect();
        assert_eq!(picks, vec![1, 2, 3, 1]);
    }

    #[test]
    fn least_kv_cache_and_power_of_two() {
        let mut r = Router::new(RouterPolicy::LeastKvCache, stream(1, "routing"));
        assert_eq!(
            r.pick(&[c(1, 0, 0.5), c(2, 9, 0.2), c(3, 0, 0.2)]),
            Some(UnitId::new(2))
        );
        let mut p = Router::new(RouterPolicy::PowerOfTwo, stream(1, "routing"));
        // With two servers both are always compared: the less loaded wins.
        for _ in 0..20 {
            assert_eq!(p.pick(&[c(1, 5, 0.0), c(2, 1, 0.0)]), Some(UnitId::new(2)));
        }
    }

    #[test]
    fn random_covers_every_server() {
        let mut r = Router::new(RouterPolicy::Random, stream(3, "routing"));
        let cs = [c(1, 0, 0.0), c(2, 0, 0.0), c(3, 0, 0.0)];
        let mut seen = [0; 4];
        for _ in 0..300 {
            seen[r.pick(&cs).unwrap().index()] += 1;
        }
        assert!(seen[1..].iter().all(|&n| n > 60), "{seen:?}");
    }
}
