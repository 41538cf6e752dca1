//! One measured point or trace, simulated on one [`Server`] — the server `run` puts in each
//! pod — exactly as it was measured: closed-loop clients that send their next request the
//! instant the previous one ends (as `closed_loop` streams do in a scenario), Poisson
//! arrivals, or a trace's own arrival times.
//!
//! Same-instant events go in the world's order: a step ending before an arrival, and a
//! client's next request after the step that ended its previous one.

use rand_distr::{Distribution, Exp1};

use super::measured::{Load, MeasuredRequest, Point, PointRequests};
use crate::model::ids::SlotId;
use crate::model::server::{Server, ServerEvent, ServerParams};
use crate::sim::rng::stream;
use crate::sim::{SimDuration, SimTime};

/// Requests per client of a closed-loop point whose file does not say how many were sent.
pub const REQUESTS_PER_CLIENT: u64 = 10;

/// Requests of an open-loop point whose file does not say (vLLM's default `--num-prompts`).
pub const OPEN_LOOP_REQUESTS: u64 = 1_000;

/// What became of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    pub sent: SimTime,
    /// Its first output token; `None` if it was refused (longer than the KV cache).
    pub first_token: Option<SimTime>,
    /// Its last output token, or its refusal.
    pub end: SimTime,
    pub output_tokens: u32,
    /// Evicted from the batch at least once for want of KV cache.
    pub preempted: bool,
}

impl Served {
    /// Time to first token, seconds.
    pub fn ttft_s(&self) -> Option<f64> {
        self.first_token.map(|t| (t - self.sent).as_secs_f64())
    }

    /// Arrival to last token, seconds.
    pub fn e2e_s(&self) -> f64 {
        (self.end - self.sent).as_secs_f64()
    }
}

/// The means a benchmark reports, over one simulated point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointResult {
    pub ttft_ms: f64,
    /// vLLM's TPOT: over requests of more than one output token, `(e2e − ttft) / (output − 1)`.
    pub tpot_ms: f64,
    pub e2e_ms: f64,
    /// Requests refused as longer than the KV cache: a server that cannot serve the point.
    pub refused: usize,
    /// Requests preempted at least once: the point presses on the KV cache.
    pub preempted: usize,
}

/// How requests are sent.
enum Sending<'a> {
    /// This many clients, each sending the next request of the list when its own ends.
    Closed(u32),
    /// Request `i` at `times[i]`.
    At(&'a [SimTime]),
}

/// The server and buffers a thread reuses from one simulated point to the next. Allocated
/// anew for each point (a fit simulates thousands), they made the allocator return memory
/// to the system and fault it in again: about a tenth of a fit's time.
#[derive(Default)]
pub struct Scratch {
    server: Option<Server>,
    lengths: Vec<(u32, u32)>,
    times: Vec<SimTime>,
    served: Vec<Served>,
    events: Vec<ServerEvent>,
}

/// Simulates benchmark point `point` on a server with `params`, in `scratch`; Poisson
/// arrivals draw from the random stream `calibrate/arrivals` of `seed`.
pub fn simulate_point(
    scratch: &mut Scratch,
    params: &ServerParams,
    point: &Point,
    seed: u64,
) -> PointResult {
    let Scratch {
        server,
        lengths,
        times,
        served,
        events,
    } = scratch;
    let server = match server {
        Some(server) => {
            server.renew(*params, true);
            server
        }
        None => server.insert(Server::new(*params, true)),
    };
    point_lengths(point, lengths);
    let sending = match point.load {
        Load::Closed { concurrency } => Sending::Closed(concurrency),
        Load::Open { rate } => {
            poisson_times(rate, lengths.len(), seed, times);
            Sending::At(times)
        }
    };
    serve(server, lengths, &sending, served, events);
    summarise(served)
}

/// Simulates a measured trace's requests at their own arrival times.
pub fn simulate_trace(params: &ServerParams, requests: &[MeasuredRequest]) -> Vec<Served> {
    let lengths: Vec<(u32, u32)> = (requests.iter())
        .map(|r| (r.input_tokens, r.output_tokens))
        .collect();
    let times: Vec<SimTime> = requests.iter().map(|r| r.arrival).collect();
    let (mut server, mut served) = (Server::new(*params, true), Vec::new());
    let sending = Sending::At(&times);
    serve(
        &mut server,
        &lengths,
        &sending,
        &mut served,
        &mut Vec::new(),
    );
    served
}

/// How long simulating `point` takes, roughly: its decode steps if its clients ran in step
/// (a closed loop), or one after the other (an open loop), and one per request. It orders
/// the work of an evaluation; no result depends on it.
pub fn point_work(point: &Point) -> u64 {
    let (requests, tokens) = match &point.requests {
        PointRequests::Listed(lengths) => (
            lengths.len() as u64,
            lengths.iter().map(|&(_, o)| u64::from(o)).sum(),
        ),
        PointRequests::Fixed {
            output_tokens,
            count,
            ..
        } => {
            let n = fixed_count(point.load, *count);
            (n, n.saturating_mul(u64::from(*output_tokens)))
        }
    };
    let steps = match point.load {
        Load::Closed { concurrency } => tokens / u64::from(concurrency.max(1)),
        Load::Open { .. } => tokens,
    };
    steps + requests
}

/// The (input, output) lengths of a point's requests, in sending order, into `lengths`.
fn point_lengths(point: &Point, lengths: &mut Vec<(u32, u32)>) {
    lengths.clear();
    match &point.requests {
        PointRequests::Listed(listed) => lengths.extend_from_slice(listed),
        PointRequests::Fixed {
            input_tokens,
            output_tokens,
            count,
        } => lengths.resize(
            fixed_count(point.load, *count) as usize,
            (*input_tokens, *output_tokens),
        ),
    }
}

/// How many requests a point of fixed lengths sends: `count` when the file says, else
/// [`REQUESTS_PER_CLIENT`] per closed-loop client or [`OPEN_LOOP_REQUESTS`].
fn fixed_count(load: Load, count: Option<u64>) -> u64 {
    count.unwrap_or(match load {
        Load::Closed { concurrency } => u64::from(concurrency) * REQUESTS_PER_CLIENT,
        Load::Open { .. } => OPEN_LOOP_REQUESTS,
    })
}

/// `n` Poisson arrival times at `rate` per second from the start (all at the start for an
/// infinite rate), rounded to whole microseconds.
fn poisson_times(rate: f64, n: usize, seed: u64, times: &mut Vec<SimTime>) {
    times.clear();
    if rate.is_infinite() {
        times.resize(n, SimTime::ZERO);
        return;
    }
    let mut rng = stream(seed, "calibrate/arrivals");
    let mut t = 0.0f64;
    times.extend((0..n).map(|_| {
        let gap: f64 = Exp1.sample(&mut rng);
        t += gap / rate * 1e6;
        SimTime::ZERO.saturating_add(SimDuration::from_micros_f64(t))
    }));
}

/// Runs the requests `lengths` through `server`, idle, until the last ends; what became of
/// each goes to `served`, and `events` is a buffer.
fn serve(
    server: &mut Server,
    lengths: &[(u32, u32)],
    sending: &Sending,
    served: &mut Vec<Served>,
    events: &mut Vec<ServerEvent>,
) {
    let n = lengths.len();
    served.clear();
    served.resize(n, Served::default());
    events.clear();
    let mut sent = 0usize;
    // Closed loop: requests owed now by clients whose request just ended (or at the start).
    let mut owed = match sending {
        Sending::Closed(clients) => (*clients as usize).min(n),
        Sending::At(_) => 0,
    };
    let mut now = SimTime::ZERO;
    loop {
        while owed > 0 && sent < n {
            owed -= 1;
            owed += send(server, lengths, served, sent, now, events);
            sent += 1;
        }
        let arrival = match sending {
            Sending::At(times) if sent < n => Some(times[sent]),
            _ => None,
        };
        let wake = server.next_wakeup();
        let ended = match arrival {
            Some(a) if wake.is_none_or(|w| a < w) => {
                now = a;
                let ended = send(server, lengths, served, sent, now, events);
                sent += 1;
                ended
            }
            _ => {
                let Some(wake) = wake else { break };
                now = wake;
                server.wake(now, events);
                record(served, events)
            }
        };
        if matches!(sending, Sending::Closed(_)) {
            owed += ended;
        }
    }
}

/// Sends request `i` at `now`; returns how many requests ended (it may be refused at once).
fn send(
    server: &mut Server,
    lengths: &[(u32, u32)],
    served: &mut [Served],
    i: usize,
    now: SimTime,
    events: &mut Vec<ServerEvent>,
) -> usize {
    let (input, output) = lengths[i];
    served[i].sent = now;
    served[i].output_tokens = output;
    server.arrive(now, SlotId::new(i), input, output, events);
    record(served, events)
}

/// Takes the server's events into `served`; returns how many requests ended.
fn record(served: &mut [Served], events: &mut Vec<ServerEvent>) -> usize {
    let mut ended = 0;
    for e in events.drain(..) {
        match e {
            ServerEvent::FirstToken { req, at } => {
                served[req.index()].first_token.get_or_insert(at);
            }
            ServerEvent::Finished { req, at } | ServerEvent::TooLong { req, at } => {
                served[req.index()].end = at;
                ended += 1;
            }
            ServerEvent::Preempted { req, .. } => served[req.index()].preempted = true,
            ServerEvent::Admitted { .. } => {}
        }
    }
    ended
}

/// The benchmark means of the served requests (refused ones only counted).
fn summarise(served: &[Served]) -> PointResult {
    let (mut ttft, mut e2e, mut tpot) = ((0.0, 0usize), 0.0, (0.0, 0usize));
    let mut refused = 0;
    for s in served {
        let Some(first) = s.ttft_s() else {
            refused += 1;
            continue;
        };
        ttft = (ttft.0 + first, ttft.1 + 1);
        e2e += s.e2e_s();
        if s.output_tokens > 1 {
            let per_token = (s.e2e_s() - first) / f64::from(s.output_tokens - 1);
            tpot = (tpot.0 + per_token, tpot.1 + 1);
        }
    }
    let mean_ms = |(sum, n): (f64, usize)| {
        if n == 0 {
            f64::NAN
        } else {
            sum / n as f64 * 1e3
        }
    };
    PointResult {
        ttft_ms: mean_ms(ttft),
        tpot_ms: mean_ms(tpot),
        e2e_ms: mean_ms((e2e, ttft.1)),
        refused,
        preempted: served.iter().filter(|s| s.preempted).count(),
    }
}
