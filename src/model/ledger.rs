//! The ledger: what the servers cost. It owns the count of live (billed) servers in all and
//! per serving with its integral over time (server-seconds) and peaks, and each serving's
//! billed cost of the servers that stopped being billed; it computes the cost rows.
//!
//! It is told when a server starts or stops being billed; it does not decide which servers
//! are billed (the serving controller's states do) or keep the rows (the recorder does).

use super::ids::ServingIdx;
use super::results::{CostRow, Results};
use super::servings::Unit;
use crate::sim::SimTime;

#[derive(Debug, Clone, Default)]
struct ServingBill {
    name: String,
    price_per_hour: f64,
    live: u64,
    peak: u64,
    server_seconds: f64,
    /// The billed cost of its servers no longer billed.
    cost: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Ledger {
    servings: Vec<ServingBill>,
    live: u64,
    peak: u64,
    server_seconds: f64,
    /// Up to when the server-seconds are integrated.
    since: SimTime,
}

impl Ledger {
    /// The ledger of servings `(name, price per server-hour)`, in order.
    pub fn new(servings: impl IntoIterator<Item = (String, f64)>) -> Self {
        Ledger {
            servings: servings
                .into_iter()
                .map(|(name, price_per_hour)| ServingBill {
                    name,
                    price_per_hour,
                    ..ServingBill::default()
                })
                .collect(),
            ..Ledger::default()
        }
    }

    /// Integrates the live servers up to `now`.
    pub fn advance(&mut self, now: SimTime) {
        let dt = (now - self.since).as_secs_f64();
        self.server_seconds += self.live as f64 * dt;
        for s in &mut self.servings {
            s.server_seconds += s.live as f64 * dt;
        }
        self.since = now;
    }

    /// A server of `serving` starts (`delta` 1) or stops (-1) being billed at `now`.
    pub fn change(&mut self, serving: ServingIdx, delta: i64, now: SimTime) {
        self.advance(now);
        self.live = self.live.saturating_add_signed(delta);
        let s = &mut self.servings[serving.index()];
        s.live = s.live.saturating_add_signed(delta);
        self.peak = self.peak.max(self.live);
        s.peak = s.peak.max(s.live);
    }

    /// What a server of `serving` created at `created` has cost by `now`.
    fn cost(&self, serving: ServingIdx, created: SimTime, now: SimTime) -> f64 {
        (now - created).as_secs_f64() / 3600.0 * self.servings[serving.index()].price_per_hour
    }

    /// A server stopped being billed at `now`: its whole cost joins its serving's bill.
    pub fn bill(&mut self, serving: ServingIdx, created: SimTime, now: SimTime) {
        let cost = self.cost(serving, created, now);
        self.servings[serving.index()].cost += cost;
    }

    /// Each serving's cost so far at `now`: its bill plus what its `billed` units have cost
    /// until now, summed in the same order as the final bill, so that the rows at the end
    /// equal the summary's costs exactly.
    pub fn cost_rows<'u>(
        &self,
        now: SimTime,
        billed: impl IntoIterator<Item = &'u Unit>,
    ) -> Vec<CostRow> {
        let mut cost: Vec<f64> = self.servings.iter().map(|s| s.cost).collect();
        let mut servers = vec![0u64; cost.len()];
        for u in billed {
            cost[u.serving.index()] += self.cost(u.serving, u.created, now);
            servers[u.serving.index()] += 1;
        }
        let time_s = now.as_secs_f64();
        (self.servings.iter().enumerate())
            .map(|(i, s)| CostRow {
                time_s,
                serving: s.name.clone(),
                servers: servers[i],
                cost_per_hour: servers[i] as f64 * s.price_per_hour,
                cost: cost[i],
            })
            .collect()
    }

    /// Writes the totals into `results`.
    pub fn settle(self, results: &mut Results) {
        results.server_seconds = self.server_seconds;
        results.peak_servers = self.peak;
        for (r, s) in results.servings.iter_mut().zip(self.servings) {
            r.cost = s.cost;
            r.server_seconds = s.server_seconds;
            r.peak_servers = s.peak;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimDuration;

    fn at(secs: i64) -> SimTime {
        SimTime::from_secs(secs)
    }

    fn ledger() -> Ledger {
        Ledger::new([("a".to_string(), 2.0), ("b".to_string(), 10.0)])
    }

    fn settled(l: Ledger) -> Results {
        let mut r = Results {
            servings: vec![Default::default(); 2],
            ..Results::default()
        };
        l.settle(&mut r);
        r
    }

    #[test]
    fn live_servers_are_integrated_over_time_per_serving() {
        let (a, b) = (ServingIdx::new(0), ServingIdx::new(1));
        let mut l = ledger();
        l.change(a, 1, at(0));
        l.change(a, 1, at(10));
        l.change(b, 1, at(20));
        l.change(a, -1, at(30));
        l.advance(at(40));
        let r = settled(l);
        // a: 1 server for 10 s, 2 for 20 s, 1 for 10 s; b: 1 for 20 s.
        assert_eq!(r.servings[0].server_seconds, 60.0);
        assert_eq!(r.servings[1].server_seconds, 20.0);
        assert_eq!(r.server_seconds, 80.0);
        assert_eq!((r.peak_servers, r.servings[0].peak_servers), (3, 2));
    }

    #[test]
    fn the_bill_and_the_cost_rows_agree() {
        let a = ServingIdx::new(0);
        let mut l = ledger();
        // A server of `a` created at 0 and billed until 1800 s: half an hour at 2 an hour.
        l.bill(a, at(0), at(1_800));
        assert_eq!(settled(l.clone()).servings[0].cost, 1.0);
        let rows = l.cost_rows(at(3_600), []);
        assert_eq!(
            rows[0],
            CostRow {
                time_s: 3_600.0,
                serving: "a".into(),
                servers: 0,
                cost_per_hour: 0.0,
                cost: 1.0,
            }
        );
        assert_eq!(rows[1].cost, 0.0);
        assert_eq!(l.cost(a, at(0), at(0) + SimDuration::from_secs(900)), 0.5);
    }
}
