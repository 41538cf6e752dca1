// Over 600 lines: one scheduler, whose invariants (coalesced runs = single steps) span it.
//! The inference server of one serving group (its entry pod): vLLM-style iteration-level
//! continuous batching, exactly as docs/world.md §4.1 states it, with runs
//! of identical decode steps coalesced into one wake-up (docs/world.md §4.3).
//!
//! The server owns its waiting queue, its running batch and its KV cache. It holds no clock and
//! no event queue: the caller delivers arrivals, and wake-ups at the time [`Server::next_wakeup`]
//! names; the server reports what happened as [`ServerEvent`]s. It knows nothing of routing,
//! pods, metrics exposition or latency bookkeeping — requests are the caller's request-table
//! slots ([`SlotId`]).
//!
//! # Decisions where the rules leave room
//! - **Admission prefills at once.** A request admitted in a step takes
//!   `min(prompt, remaining budget)` prompt tokens in that same step, as vLLM's scheduler does.
//! - **KV is reserved when a step is scheduled**, not when it ends: a whole prompt at admission
//!   (+1 if that step completes it), then one token at the start of every step in which the
//!   request emits a token. So [`Server::kv_used_tokens`] in the middle of a step includes the
//!   tokens the step is about to emit, like vLLM's block usage after scheduling; a request's KV
//!   after it emitted `g` tokens is `prompt + g` (rule 4).
//! - **The token budget runs out for everyone.** Running requests are visited in admission
//!   order while budget remains; once an older request's prefill chunk has used it up, the
//!   later ones (decodes included) sit this step out, as in vLLM's scheduler. With
//!   `max_num_batched_tokens >= max_num_seqs` (what [`ServerSpec::resolve`] requires) this can
//!   only happen behind a prefill chunk.
//! - **Preemption victims** are taken from the newest end of the batch, so a victim was never
//!   already scheduled in the step (unless it is the very request that needs the token: then
//!   it is the victim and the batch stops there). Each victim goes to the front of the queue in
//!   turn, so several victims keep their admission order.
//! - **Recompute.** A readmitted request prefills `prompt + tokens generated so far`, reserving
//!   all of it (+1 if completed in that step); the step completing it emits its next output
//!   token. It emits no second first token, and [`Server::prompt_tokens_total`] counts each
//!   prompt once, at its first token (as vLLM v1 counts `prompt_tokens_total`).
//! - **Context tokens** of a scheduled sequence (rule 5): for a prefill chunk, the prompt (or
//!   recompute) tokens computed before the chunk; for a decode, `prompt + generated`, its KV
//!   footprint before the step.
//! - **Simultaneous arrivals.** Rule 6 read literally: an arrival on an idle server starts a
//!   step at once, with that request alone; another request arriving at the same instant
//!   arrives "at the instant a step starts" and joins the next step. The outcome does not
//!   depend on the order in which the caller delivers same-instant arrivals and the wake-up.
//! - **Transferred requests** (prefill/decode disaggregation, docs/world.md §4.5): a decode
//!   server takes a request prefilled elsewhere with [`Server::arrive_prefilled`]. It queues
//!   like any request and is admitted under the same rules, as a decode: 1 token of budget, and
//!   KV for the whole transferred cache (prompt + the first token) + 1 for the token its
//!   admission step emits. It emits tokens `2..=output`, never a `FirstToken`, and its prompt is
//!   not counted in [`Server::prompt_tokens_total`]. Preempted, it loses its KV and recomputes
//!   prompt + generated tokens like any preempted request. A prefill server needs nothing
//!   special: it is given the request with one output token ([`Server::arrive`]).
//! - **Events.** `Admitted` is reported at every admission (readmissions after preemption
//!   included: queue time uses the first one). A wake-up reports the ending step's
//!   `FirstToken`/`Finished` events (in admission order) before the next step's `Preempted` and
//!   `Admitted` events.
//! - **Request overhead** ([`ServerParams::request_overhead_ms`]): an arriving request enters
//!   the queue that much later, exactly as if it had arrived then (rule 6 and the cutting of
//!   runs apply at that instant); until then it counts as waiting. A transferred request pays
//!   none: it was taken in by the prefill server. With a spread
//!   ([`ServerParams::request_overhead_spread_ms`]), the `k`-th request to arrive pays
//!   `spread × frac(k·φ)` more (φ the golden ratio): a deterministic sequence that covers
//!   `[0, spread)` evenly, so that the server holds no random stream. Requests then enter the
//!   queue in the order their overheads end (same instant: arrival order).
//! - **Degenerate inputs** never stall the simulation: prompt and output lengths of 0 count as
//!   1 (a prefill always emits a token), limits below 1 are raised to 1 (the scenario validator
//!   rejects them before), and a step lasts at least 1 µs so that time always advances.
//!
//! # Coalescing
//! A step in which every running request decodes, nothing is preempted and nothing is admitted
//! but transferred requests (which decode at once) is followed by identical steps until a
//! request finishes, KV growth forces a preemption or an arrival may be admitted. Such a run
//! is one wake-up: its length is known in advance (the nearest finish, and the last step whose
//! `running` new KV tokens still fit), and its step durations are computed one by one with the
//! same expression as a lone step (they differ through the context term, each rounded on its
//! own), so every timing is exactly that of step-by-step execution. An arrival that would head
//! the queue cuts the run after the step in progress at its arrival, which is where
//! step-by-step execution would first see it. Gauges and counters read in the middle of a run
//! account for the steps it has done so far. The requests past their prefill share one decode
//! counter ([`Server::settled`]), so that the end of a step or run costs the requests that
//! leave or change, not the whole batch.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ids::SlotId;
use super::presets;
use crate::sim::{SimDuration, SimTime, MICROS_PER_MS};

/// Limits and step-cost model of one inference server.
///
/// A step costs `base_ms + per_prefill_token_ms × P + prefill_attention_ms × A +
/// per_decode_seq_ms × D + per_context_token_ms × K` (the decode term saturating when
/// `decode_saturation_seqs` > 0) ([`StepWork`] names the counts). Each
/// term stands for something the hardware does:
/// - `base_ms`: reading every weight once, kernel launches and the scheduler's own work — paid
///   by every step whatever its batch (a decode step is memory-bound);
/// - `per_prefill_token_ms`: the matrix products of each prompt token (compute-bound);
/// - `prefill_attention_ms`: attention inside a prompt — each prefilled token attends to every
///   earlier token of its sequence, so a chunk of `p` tokens after `k` computed ones does
///   `p·k + p(p+1)/2` token pairs: the cost of a long prompt grows faster than linearly;
/// - `per_decode_seq_ms`: the matrix products, sampling and bookkeeping of each decoding
///   sequence; with a `decode_saturation_seqs` `S` > 0 the term is instead
///   `per_decode_seq_ms × S × (1 − e^(−D/S))`: each further sequence costs less, and the whole
///   term tends to `per_decode_seq_ms × S`. A mixture-of-experts model sends each token to `k`
///   of its `N` experts, so a decode step reads the weights of about `N × (1 − e^(−D·k/N))`
///   distinct experts: once the batch has touched every expert, more sequences add little.
///   `S` is then about `N / k` (gpt-oss-120b, 4 of 128: 32); a dense model has none (`S` = 0);
/// - `per_context_token_ms`: reading the KV cache — every scheduled sequence reads the tokens
///   it already holds (attention in decode is memory-bound).
///
/// `request_overhead_ms` is not a step cost: it is the time between a request's arrival and
/// its entry in the scheduler's queue (HTTP handling, tokenisation, the engine's input
/// processing). It delays the first token and the last alike, but takes no GPU time.
/// `request_overhead_spread_ms` is how much that time varies from one request to the next
/// (the API server's event loop is shared with every stream it sends out). Its effect is less
/// the mean it adds than the phase it breaks: with a fixed overhead, closed-loop clients whose
/// requests end together come back at the same point of a step, cycle after cycle, and the
/// simulated TTFT jumps up and down as the concurrency grows by one client; measured TTFTs grow
/// smoothly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerParams {
    /// Running batch slots.
    pub max_num_seqs: u32,
    /// Token budget of one step (prefill chunks + one token per decode).
    pub max_num_batched_tokens: u32,
    /// KV-cache capacity, in tokens.
    pub kv_cache_tokens: u64,
    /// Fixed cost of a step.
    pub base_ms: f64,
    /// Cost of each prompt token prefilled in the step.
    pub per_prefill_token_ms: f64,
    /// Cost of each (prefilled token, earlier token of its sequence) pair in the step.
    pub prefill_attention_ms: f64,
    /// Cost of each sequence decoding in the step.
    pub per_decode_seq_ms: f64,
    /// Cost of each token already processed of each sequence in the step (attention over the
    /// KV cache).
    pub per_context_token_ms: f64,
    /// Delay from a request's arrival to its entry in the scheduler's queue.
    pub request_overhead_ms: f64,
    /// Width of the range over which each request's overhead exceeds `request_overhead_ms`
    /// (spread evenly over `[0, spread)`).
    pub request_overhead_spread_ms: f64,
    /// Batch at which the cost of a further decoding sequence has fallen to 1/e of the first
    /// one's (0: it never falls).
    pub decode_saturation_seqs: f64,
}

/// What one step does, as the step cost counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepWork {
    /// Prompt (or recompute) tokens prefilled.
    pub prefill_tokens: u64,
    /// Attention pairs of those tokens: `p·k + p(p+1)/2` for each chunk of `p` tokens after
    /// `k` computed ones.
    pub attention_pairs: u64,
    /// Sequences decoding one token.
    pub decode_seqs: u64,
    /// Tokens already held by the scheduled sequences (rule 5).
    pub context_tokens: u64,
}

impl StepWork {
    /// A step of `decode_seqs` decodes holding `context_tokens`, with no prefill.
    pub fn decode(decode_seqs: u64, context_tokens: u64) -> Self {
        StepWork {
            decode_seqs,
            context_tokens,
            ..StepWork::default()
        }
    }

    /// The attention pairs of a chunk of `chunk` tokens after `computed` ones.
    pub fn chunk_pairs(computed: u64, chunk: u64) -> u64 {
        computed
            .saturating_mul(chunk)
            .saturating_add(chunk.saturating_mul(chunk + 1) / 2)
    }
}

impl ServerParams {
    /// Duration of one step (rule 5): computed in `f64` milliseconds, rounded half-up to whole
    /// microseconds, and at least 1 µs so that simulated time always advances. The terms are
    /// added in the order [`ServerParams`] lists them; a term whose cost is 0 adds exactly 0.
    pub fn step_duration(&self, work: &StepWork) -> SimDuration {
        self.duration_after(
            self.fixed_ms(work.prefill_tokens, work.attention_pairs, work.decode_seqs),
            work.context_tokens,
        )
    }

    /// The terms of [`ServerParams::step_duration`] that do not depend on the context: the
    /// same for every step of a decode run.
    fn fixed_ms(&self, prefill_tokens: u64, attention_pairs: u64, decode_seqs: u64) -> f64 {
        self.base_ms
            + self.per_prefill_token_ms * prefill_tokens as f64
            + self.prefill_attention_ms * attention_pairs as f64
            + self.decode_ms(decode_seqs)
    }

    /// The decode term: `per_decode_seq_ms` per sequence, or with a saturation `S`,
    /// `per_decode_seq_ms × S × (1 − e^(−D/S))`.
    pub fn decode_ms(&self, decode_seqs: u64) -> f64 {
        let d = decode_seqs as f64;
        if self.decode_saturation_seqs > 0.0 {
            let s = self.decode_saturation_seqs;
            self.per_decode_seq_ms * s * -(-d / s).exp_m1()
        } else {
            self.per_decode_seq_ms * d
        }
    }

    /// [`ServerParams::step_duration`] from its context-free terms `fixed` (added first, as
    /// there, so that the sum is the same bit for bit).
    fn duration_after(&self, fixed: f64, context_tokens: u64) -> SimDuration {
        let ms = fixed + self.per_context_token_ms * context_tokens as f64;
        SimDuration::from_micros(round_half_up(ms * MICROS_PER_MS as f64).max(1))
    }

    /// The overhead of the `k`-th request to arrive (from 1), in whole microseconds (rounded
    /// half-up): [`ServerParams::request_overhead_ms`] plus its share of the spread.
    pub fn request_overhead(&self, k: u64) -> SimDuration {
        let ms = self.request_overhead_ms + self.request_overhead_spread_ms * spread_fraction(k);
        SimDuration::from_micros(round_half_up(ms * MICROS_PER_MS as f64).max(0))
    }
}

/// `frac(k·φ)`: the golden-ratio sequence, which fills `[0, 1)` more evenly than random draws
/// for every `k` (each new point falls in one of the largest gaps left).
fn spread_fraction(k: u64) -> f64 {
    const PHI_FRACTION: f64 = 0.618_033_988_749_894_9;
    (k as f64 * PHI_FRACTION).fract()
}

/// [`round_micros`](crate::sim::time::round_micros), the same for every `f64` (NaN, infinities
/// and out-of-range values included), without a call to `floor`: the conversion truncates
/// towards zero, which is the floor except below zero off the integers, where it is one more.
/// (`trunc(x)` of an `x` in the `i64` range is an integer `f64`, so it converts back exactly;
/// below it, the saturated `i64::MIN` stays.)
#[inline]
fn round_half_up(us: f64) -> i64 {
    let x = us + 0.5;
    let t = x as i64;
    if t as f64 > x {
        t.saturating_sub(1)
    } else {
        t
    }
}

/// What the server reports, each with the simulated time it happened at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerEvent {
    /// Taken into the running batch (at a step start); again after each preemption.
    Admitted { req: SlotId, at: SimTime },
    /// Output token 1: the end of the step that completed the prompt. Never reported for a
    /// transferred request ([`Server::arrive_prefilled`]): its first token came from the
    /// prefill server.
    FirstToken { req: SlotId, at: SimTime },
    /// The last output token: the request leaves the server.
    Finished { req: SlotId, at: SimTime },
    /// Evicted from the batch to the front of the queue, its KV freed (at a step start).
    Preempted { req: SlotId, at: SimTime },
    /// Refused on arrival: its prompt and output can never fit in the KV cache.
    TooLong { req: SlotId, at: SimTime },
}

/// The work a running request has in the step in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// Not scheduled in this step.
    Idle,
    /// A prefill chunk of this many tokens (at most the token budget).
    Prefill(u32),
    /// One decode token per step (per step of a coalesced run).
    Decode,
}

/// A request of the server. In the settled prefix of the batch (see [`Server::settled`]),
/// `generated`, `kv` and `work` are left as they were when it settled: its tokens follow from
/// `finish` and the server's decode counter.
#[derive(Debug, Clone, Copy)]
struct Request {
    id: SlotId,
    arrival: SimTime,
    prompt: u32,
    output: u32,
    /// Output tokens emitted so far.
    generated: u32,
    /// Admission number, increasing along the running batch (set at every admission).
    seq: u64,
    /// Settled: the value of the decode counter at which its last token is out.
    finish: u64,
    /// Tokens to prefill in the current admission: the prompt, plus the tokens generated
    /// before a preemption (recompute).
    target: u64,
    /// Of `target`, the tokens already computed.
    computed: u64,
    /// KV tokens held (0 while waiting).
    kv: u64,
    /// Waiting with its KV (prompt + `generated` tokens) at hand, transferred from the prefill
    /// server ([`Server::arrive_prefilled`]): admitted, it decodes at once. Cleared at
    /// admission, so a preempted request recomputes.
    kv_transferred: bool,
    work: Work,
}

/// The memory of a server's queues, handed from one server to the next by
/// [`Server::renew`].
#[derive(Default)]
struct Buffers {
    incoming: VecDeque<Request>,
    waiting: VecDeque<Request>,
    running: Vec<Request>,
    finishes: BinaryHeap<Reverse<(u64, u64)>>,
    run_ends: Vec<SimTime>,
}

/// The step in progress: one step, or a coalesced run of identical decode steps.
#[derive(Debug, Clone, Copy)]
struct Step {
    start: SimTime,
    end: SimTime,
    /// Steps in the run (1 for a lone step).
    steps: u32,
    /// Decoding sequences of every step of a run.
    decode_seqs: u64,
    /// Context tokens of the run's first step; each later step has `decode_seqs` more.
    context: u64,
}

/// What the scheduling of a step has gathered so far.
#[derive(Debug, Clone, Copy)]
struct Tally {
    /// Token budget left.
    budget: u64,
    prefill: u64,
    /// Attention pairs of the prefill chunks.
    pairs: u64,
    decode: u64,
    context: u64,
    /// The fewest tokens a decoding request has left to emit (`run_length`).
    to_finish: u32,
    preempted: bool,
}

impl Tally {
    fn new(params: &ServerParams) -> Self {
        Tally {
            budget: u64::from(params.max_num_batched_tokens),
            prefill: 0,
            pairs: 0,
            decode: 0,
            context: 0,
            to_finish: u32::MAX,
            preempted: false,
        }
    }
}

/// One inference server.
#[derive(Debug, Clone)]
pub struct Server {
    params: ServerParams,
    coalesce: bool,
    /// Arrived, in their request overhead until their `arrival`, when they join `waiting`
    /// (in that order).
    incoming: VecDeque<Request>,
    waiting: VecDeque<Request>,
    /// In admission order.
    running: Vec<Request>,
    /// With coalescing, `running[..settled]` are requests past their prefill that decode in
    /// every step: instead of each counting its tokens, they share `decoded`, the decode
    /// steps taken so far, and a heap of the counter values at which they finish, so that a
    /// step or run costs the requests that leave it, not the batch. A step that cannot
    /// schedule all of them as decodes (token budget, preemption) unsettles them first.
    settled: usize,
    decoded: u64,
    /// `(finish, seq)` of the settled requests, soonest first (then in admission order).
    finishes: BinaryHeap<Reverse<(u64, u64)>>,
    /// Σ `prompt + output` and Σ `finish` of the settled requests: their context tokens are
    /// `settled_tokens + settled × decoded − settled_finish`.
    settled_tokens: u64,
    settled_finish: u64,
    /// Admissions so far (the next `seq`).
    admissions: u64,
    /// KV tokens reserved; the later steps of a run in progress are added at its wake-up
    /// (until then, [`Server::kv_used_tokens`] adds those done).
    kv_used: u64,
    prompt_tokens_total: u64,
    /// Output tokens emitted, the run in progress aside (as for `kv_used`).
    generation_tokens_total: u64,
    step: Option<Step>,
    /// With a context cost, the end of every step of the run in progress (when it has more
    /// than one), so that [`Server::steps_ended_by`] is a binary search. Reused from run to
    /// run; only its first `steps` entries belong to the run.
    run_ends: Vec<SimTime>,
    /// Requests that have paid a request overhead so far (which share of the spread the
    /// next one pays).
    overheads_paid: u64,
}

impl Server {
    /// An idle server. `coalesce: false` simulates every step as its own wake-up (the
    /// reference the coalesced runs are tested against).
    pub fn new(params: ServerParams, coalesce: bool) -> Self {
        let mut server = Server::idle(params, coalesce, Buffers::default());
        server.running.reserve(server.params.max_num_seqs as usize);
        server
    }

    /// Makes this server what [`Server::new`] makes, keeping the memory of its queues: for
    /// a caller that simulates many short runs one after the other (a calibration fit),
    /// where allocating them anew each time costs more than the runs.
    pub fn renew(&mut self, params: ServerParams, coalesce: bool) {
        let mut buffers = Buffers {
            incoming: std::mem::take(&mut self.incoming),
            waiting: std::mem::take(&mut self.waiting),
            running: std::mem::take(&mut self.running),
            finishes: std::mem::take(&mut self.finishes),
            run_ends: std::mem::take(&mut self.run_ends),
        };
        buffers.incoming.clear();
        buffers.waiting.clear();
        buffers.running.clear();
        buffers.finishes.clear();
        buffers.run_ends.clear();
        *self = Server::idle(params, coalesce, buffers);
    }

    /// An idle server whose queues are `buffers` (empty).
    fn idle(params: ServerParams, coalesce: bool, buffers: Buffers) -> Self {
        let Buffers {
            incoming,
            waiting,
            running,
            finishes,
            run_ends,
        } = buffers;
        let params = ServerParams {
            max_num_seqs: params.max_num_seqs.max(1),
            max_num_batched_tokens: params.max_num_batched_tokens.max(1),
            ..params
        };
        Server {
            params,
            coalesce,
            incoming,
            waiting,
            running,
            settled: 0,
            decoded: 0,
            finishes,
            settled_tokens: 0,
            settled_finish: 0,
            admissions: 0,
            kv_used: 0,
            prompt_tokens_total: 0,
            generation_tokens_total: 0,
            step: None,
            run_ends,
            overheads_paid: 0,
        }
    }

    /// A request `req` arrives at `now` (not before the last call). It is refused at once
    /// (`TooLong`) if `prompt + output` exceeds the KV capacity; otherwise it queues after its
    /// request overhead (at once without one), and an idle server starts a step with it.
    ///
    /// The prefill server of a disaggregated group needs nothing else: it is given the request
    /// with `output_tokens = 1`, so that it prefills the prompt, emits the first token
    /// (`FirstToken` and `Finished` at the same instant), counts the prompt and that token, and
    /// frees the KV; the decode server then takes the request with
    /// [`Server::arrive_prefilled`].
    pub fn arrive(
        &mut self,
        now: SimTime,
        req: SlotId,
        prompt_tokens: u32,
        output_tokens: u32,
        out: &mut Vec<ServerEvent>,
    ) {
        self.enqueue(now, req, prompt_tokens, output_tokens, false, out);
    }

    /// A request whose prompt (`prompt_tokens`) was prefilled on another server, which also
    /// emitted its first output token; its KV cache (prompt + 1 token) arrives with it. It
    /// queues like any request; when admitted it reserves that KV and decodes tokens
    /// `2..=output_tokens`, one per step, with no prefill and no `FirstToken` event. Refused
    /// (`TooLong`) if prompt + output exceeds the KV capacity. If it is preempted, its KV is
    /// lost and it recomputes prompt + generated tokens as a prefill like any preempted
    /// request.
    ///
    /// `output_tokens` is the request's whole output, the token emitted by the prefill server
    /// included. With `output_tokens <= 1` there is nothing left to decode: the request is
    /// `Finished` at once at `now`, without queueing, admission or KV (so before, and whatever,
    /// the capacity check). Admission follows the rules of every request (FCFS, `max_num_seqs`,
    /// token budget), the request counting as a decode: 1 token of budget, and KV for the
    /// whole transferred cache + 1 for the token the step emits. This server's counters take
    /// none of its prompt tokens, and the `output_tokens - 1` output tokens it emits.
    pub fn arrive_prefilled(
        &mut self,
        now: SimTime,
        req: SlotId,
        prompt_tokens: u32,
        output_tokens: u32,
        out: &mut Vec<ServerEvent>,
    ) {
        if output_tokens <= 1 {
            out.push(ServerEvent::Finished { req, at: now });
            return;
        }
        self.enqueue(now, req, prompt_tokens, output_tokens, true, out);
    }

    /// Queues an arriving request (refused if it can never fit), already holding its first
    /// token and that KV if `transferred`.
    fn enqueue(
        &mut self,
        now: SimTime,
        req: SlotId,
        prompt_tokens: u32,
        output_tokens: u32,
        transferred: bool,
        out: &mut Vec<ServerEvent>,
    ) {
        // Requests whose overhead ends now are ahead of those arriving now, whichever the
        // caller delivers first.
        self.admit_incoming(now, out);
        let prompt = prompt_tokens.max(1);
        let output = output_tokens.max(1);
        if u64::from(prompt) + u64::from(output) > self.params.kv_cache_tokens {
            out.push(ServerEvent::TooLong { req, at: now });
            return;
        }
        let overhead = if transferred {
            SimDuration::ZERO
        } else {
            self.overheads_paid += 1;
            self.params.request_overhead(self.overheads_paid)
        };
        let request = Request {
            id: req,
            arrival: now.saturating_add(overhead),
            prompt,
            output,
            generated: u32::from(transferred),
            seq: 0,
            finish: 0,
            target: 0,
            computed: 0,
            kv: 0,
            kv_transferred: transferred,
            work: Work::Idle,
        };
        if overhead > SimDuration::ZERO {
            // After every request whose overhead ends by then (all of them without a spread).
            let at = self
                .incoming
                .partition_point(|r| r.arrival <= request.arrival);
            self.incoming.insert(at, request);
        } else {
            self.join_queue(request, out);
        }
    }

    /// A request enters the scheduler's queue at its `arrival`, the current time; an idle
    /// server starts a step with it, and a run it could be admitted after is cut.
    fn join_queue(&mut self, request: Request, out: &mut Vec<ServerEvent>) {
        let now = request.arrival;
        let heads_queue = self.waiting.is_empty();
        self.waiting.push_back(request);
        match self.step {
            None => self.start_step(now, out),
            // Behind a waiting request the run cannot admit, it cannot be admitted either.
            Some(step) if heads_queue && step.steps > 1 && now < step.end => {
                let (done, end) = self.steps_ended_by(&step, now);
                self.step = Some(Step {
                    steps: done + 1,
                    end,
                    ..step
                });
            }
            Some(_) => {}
        }
    }

    /// When the caller must call [`Server::wake`]: the end of the step or run in progress, or
    /// the end of the first request overhead in progress if that is sooner; `None` when idle.
    /// An arrival can bring it forward (it cuts a run).
    pub fn next_wakeup(&self) -> Option<SimTime> {
        let entry = self.incoming.front().map(|r| r.arrival);
        match (self.step.map(|s| s.end), entry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Ends the step in progress and starts the next one, then lets the requests whose
    /// overhead ends now into the queue (the order does not matter: see "Simultaneous
    /// arrivals"). A call at any other time than [`Server::next_wakeup`] is ignored, so a
    /// wake-up left in the caller's queue after an arrival cut a run short, or after
    /// [`Server::evict_all`], does no harm.
    pub fn wake(&mut self, now: SimTime, out: &mut Vec<ServerEvent>) {
        if let Some(step) = self.step.filter(|s| s.end == now) {
            self.finish_step(&step, out);
            self.start_step(now, out);
        }
        self.admit_incoming(now, out);
    }

    /// The requests whose overhead has ended by `now` join the queue, in arrival order.
    fn admit_incoming(&mut self, now: SimTime, out: &mut Vec<ServerEvent>) {
        while self.incoming.front().is_some_and(|r| r.arrival <= now) {
            if let Some(request) = self.incoming.pop_front() {
                self.join_queue(request, out);
            }
        }
    }

    /// Requests queued (never admitted, or preempted), those still in their request overhead
    /// included: the server has accepted them.
    pub fn waiting(&self) -> usize {
        self.waiting.len() + self.incoming.len()
    }

    /// Requests in the running batch.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// KV tokens in use at `now`, the reservations of the step in progress included.
    pub fn kv_used_tokens(&self, now: SimTime) -> u64 {
        self.kv_used + self.run_progress(now)
    }

    pub fn kv_capacity(&self) -> u64 {
        self.params.kv_cache_tokens
    }

    /// Prompt tokens of the requests whose first token this server emitted. Takes no time: only
    /// a wake-up completes a prompt (never a step inside a coalesced run). A transferred
    /// request's prompt ([`Server::arrive_prefilled`]) is not counted: it was prefilled, and
    /// counted, elsewhere (even if a preemption makes this server recompute it).
    pub fn prompt_tokens_total(&self) -> u64 {
        self.prompt_tokens_total
    }

    /// Output tokens this server emitted by `now` (for a transferred request, tokens
    /// `2..=output`: the prefill server emitted the first).
    pub fn generation_tokens_total(&self, now: SimTime) -> u64 {
        self.generation_tokens_total + self.run_progress(now)
    }

    /// Removes every request, e.g. when the pod terminates: the running ones in admission order,
    /// then the waiting ones in queue order, then those in their overhead. Tokens emitted by
    /// `now` stay counted; the step in progress is abandoned and the server is idle.
    pub fn evict_all(&mut self, now: SimTime) -> Vec<SlotId> {
        self.generation_tokens_total = self.generation_tokens_total(now);
        self.kv_used = 0;
        self.step = None;
        self.unsettle();
        let ids = self
            .running
            .iter()
            .chain(self.waiting.iter())
            .chain(self.incoming.iter())
            .map(|r| r.id)
            .collect();
        self.running.clear();
        self.waiting.clear();
        self.incoming.clear();
        ids
    }

    /// No step in progress and no request in its overhead; then nothing is queued or running
    /// either.
    pub fn is_idle(&self) -> bool {
        self.step.is_none() && self.incoming.is_empty()
    }

    /// Tokens emitted (= KV tokens reserved) by the steps of the run in progress that ended by
    /// `now`, its last step excepted: that one ends at the wake-up, which accounts for it.
    fn run_progress(&self, now: SimTime) -> u64 {
        match &self.step {
            Some(step) if step.steps > 1 => {
                let (done, _) = self.steps_ended_by(step, now);
                u64::from(done.min(step.steps - 1)) * step.decode_seqs
            }
            _ => 0,
        }
    }

    /// Duration of step `j` (0-based) of a decode run.
    fn run_step_duration(&self, step: &Step, j: u32) -> SimDuration {
        let context = step.context + u64::from(j) * step.decode_seqs;
        self.params
            .step_duration(&StepWork::decode(step.decode_seqs, context))
    }

    /// How many steps of `step` end at or before `t`, and the end of the step after them (of
    /// the last step if all have ended).
    fn steps_ended_by(&self, step: &Step, t: SimTime) -> (u32, SimTime) {
        if self.params.per_context_token_ms == 0.0 {
            // Every step of the run costs the same, bit for bit: the context term is exactly 0.
            let d = self.run_step_duration(step, 0);
            let since = t.saturating_since(step.start).max(SimDuration::ZERO);
            let done = (since / d).min(i64::from(step.steps));
            let next = (done + 1).min(i64::from(step.steps));
            return (
                done as u32,
                step.start.saturating_add(d.saturating_mul(next)),
            );
        }
        // The ends of the run's steps, laid out by `plan_run` (nondecreasing: every step lasts
        // at least 1 µs, and the sum saturates).
        let ends = &self.run_ends[..step.steps as usize];
        let done = ends.partition_point(|&end| end <= t);
        (done as u32, ends[done.min(ends.len() - 1)])
    }

    /// The end of the run `step` (of more than one step), after laying out the ends of its
    /// steps for [`Server::steps_ended_by`] when they are not all the same length. Each
    /// step's duration is [`ServerParams::step_duration`] of its own context, rounded on its
    /// own, and the ends are their saturating running sum from `step.start`.
    fn plan_run(&mut self, step: &Step) -> SimTime {
        let p = self.params;
        if p.per_context_token_ms != 0.0 {
            let fixed = p.fixed_ms(0, 0, step.decode_seqs);
            let last_context = u64::from(step.steps - 1)
                .checked_mul(step.decode_seqs)
                .and_then(|c| c.checked_add(step.context));
            let exact = last_context.is_some_and(|c| c <= 1 << f64::MANTISSA_DIGITS);
            let unclamped = |context: f64| {
                let ms = fixed + p.per_context_token_ms * context;
                (ms * MICROS_PER_MS as f64 + 0.5) as i64
            };
            let micros = |context: f64| unclamped(context).max(1);
            // The last step is the longest (durations grow with the context): when the run
            // cannot reach the end of time at that length, no sum saturates.
            let bounded = last_context.is_some_and(|c| {
                let longest = micros(c as f64);
                longest < 1 << 52
                    && (longest + 1)
                        .checked_mul(i64::from(step.steps))
                        .and_then(|total| total.checked_add(step.start.as_micros()))
                        .is_some()
            });
            if exact && bounded && fixed >= 0.0 && p.per_context_token_ms >= 0.0 {
                // The same durations, computed faster: every context is an integer below 2^53,
                // so the f64 running sums are exact (each equals the integer's conversion); every
                // `ms * 1000 + 0.5` is at least 0.5 or NaN, whose floor is its truncation
                // (NaN converts to 0, as `round_micros` makes it); and nothing saturates.
                let n = step.steps as usize;
                if self.run_ends.len() < n {
                    self.run_ends.resize(n, SimTime::ZERO);
                }
                let ends = &mut self.run_ends[..n];
                let (start, context) = (step.start.as_micros(), step.context as f64);
                let seqs = step.decode_seqs as f64;
                // Durations grow with the context, so when the first step lasts at least 1 µs
                // every step does, and the clamp can be left out of the loop.
                if unclamped(context) >= 1 {
                    lay_out_pairs(ends, start, context, seqs, unclamped);
                } else {
                    lay_out_pairs(ends, start, context, seqs, micros);
                }
            } else {
                self.run_ends.clear();
                self.run_ends.reserve(step.steps as usize);
                let mut end = step.start;
                let mut context = step.context;
                for _ in 0..step.steps {
                    end = end.saturating_add(p.duration_after(fixed, context));
                    self.run_ends.push(end);
                    context = context.wrapping_add(step.decode_seqs);
                }
            }
        }
        self.steps_ended_by(step, SimTime::MAX).1
    }

    /// Applies the end of the step (or run) in progress: prompts advance, tokens are emitted,
    /// finished requests leave and free their KV, and the requests now past their prefill
    /// settle (with coalescing).
    fn finish_step(&mut self, step: &Step, out: &mut Vec<ServerEvent>) {
        // Every settled request decoded in every step; the run's first step reserved their
        // tokens when it was scheduled, the others reserve theirs now.
        let later = u64::from(step.steps - 1);
        let settled = self.settled as u64;
        self.decoded += u64::from(step.steps);
        let mut reserved = later * settled;
        let mut emitted_total = u64::from(step.steps) * settled;
        let mut freed = 0;
        // The settled requests that finish now come out of the heap in admission order, which
        // is their order in the batch: the survivors between them close up as they are passed
        // (`write` trails `read`), and the rest of the batch moves down once.
        let mut read = match self.finishes.peek() {
            Some(&Reverse((finish, seq))) if finish <= self.decoded => {
                self.running[..self.settled].partition_point(|r| r.seq < seq)
            }
            _ => self.settled,
        };
        let mut write = read;
        while let Some(&Reverse((finish, seq))) = self.finishes.peek() {
            // A run ends at the soonest finish at the latest.
            debug_assert!(finish >= self.decoded);
            if finish > self.decoded {
                break;
            }
            self.finishes.pop();
            while self.running[read].seq < seq {
                self.running[write] = self.running[read];
                (read, write) = (read + 1, write + 1);
            }
            let r = self.running[read];
            read += 1;
            debug_assert_eq!(r.seq, seq);
            out.push(ServerEvent::Finished {
                req: r.id,
                at: step.end,
            });
            let tokens = u64::from(r.prompt) + u64::from(r.output);
            freed += tokens;
            self.settled_tokens -= tokens;
            self.settled_finish -= finish;
        }
        self.running.drain(write..read);
        self.settled -= read - write;
        let mut finished = false;
        for r in &mut self.running[self.settled..] {
            let emitted = match r.work {
                Work::Idle => 0,
                Work::Prefill(chunk) => {
                    r.computed += u64::from(chunk);
                    u32::from(r.computed == r.target)
                }
                Work::Decode => {
                    r.kv += later;
                    reserved += later;
                    step.steps
                }
            };
            r.work = Work::Idle;
            if emitted == 0 {
                continue;
            }
            if r.generated == 0 {
                out.push(ServerEvent::FirstToken {
                    req: r.id,
                    at: step.end,
                });
                self.prompt_tokens_total += u64::from(r.prompt);
            }
            r.generated += emitted;
            emitted_total += u64::from(emitted);
            if r.generated >= r.output {
                out.push(ServerEvent::Finished {
                    req: r.id,
                    at: step.end,
                });
                freed += r.kv;
                finished = true;
            }
        }
        if finished {
            let mut kept = self.settled;
            for k in self.settled..self.running.len() {
                let r = self.running[k];
                if r.generated < r.output {
                    self.running[kept] = r;
                    kept += 1;
                }
            }
            self.running.truncate(kept);
        }
        self.kv_used = self.kv_used + reserved - freed;
        self.generation_tokens_total += emitted_total;
        self.step = None;
        if self.coalesce {
            self.settle();
        }
    }

    /// The requests after the settled prefix that are past their prefill join it, up to the
    /// first that is not.
    fn settle(&mut self) {
        while let Some(r) = self.running.get_mut(self.settled) {
            if r.computed < r.target {
                break;
            }
            r.finish = self.decoded + u64::from(r.output - r.generated);
            self.finishes.push(Reverse((r.finish, r.seq)));
            self.settled_tokens += u64::from(r.prompt) + u64::from(r.output);
            self.settled_finish += r.finish;
            self.settled += 1;
        }
    }

    /// Gives the settled requests their own counts again (between steps), and empties the
    /// prefix.
    fn unsettle(&mut self) {
        for r in &mut self.running[..self.settled] {
            r.generated = r.output - (r.finish - self.decoded) as u32;
            r.kv = u64::from(r.prompt) + u64::from(r.generated);
        }
        self.settled = 0;
        self.finishes.clear();
        self.settled_tokens = 0;
        self.settled_finish = 0;
    }

    /// Schedules the step starting at `now` (rules 1–3 and 6), and extends it into a run of
    /// identical decode steps when it is one.
    fn start_step(&mut self, now: SimTime, out: &mut Vec<ServerEvent>) {
        let cap = self.params.kv_cache_tokens;
        let mut t = Tally::new(&self.params);

        // 1–2. Running requests first, in admission order: the settled ones all decode,
        // unless the budget runs out or the KV fills up at one of their turns.
        let n = self.settled as u64;
        if n > t.budget || self.kv_used + n > cap {
            self.unsettle();
        } else if let Some(&Reverse((finish, _))) = self.finishes.peek() {
            self.kv_used += n;
            t.budget -= n;
            t.decode = n;
            t.context = self
                .settled_tokens
                .wrapping_add(n.wrapping_mul(self.decoded))
                .wrapping_sub(self.settled_finish);
            t.to_finish = (finish - self.decoded) as u32;
        }
        let mut i = self.settled;
        while i < self.running.len() && t.budget > 0 {
            let r = self.running[i];
            let (tokens, emits) = if r.computed < r.target {
                let chunk = (r.target - r.computed).min(t.budget);
                (chunk, r.computed + chunk == r.target)
            } else {
                (1, true)
            };
            if emits {
                // Victims come from the newest end, down to this request itself at most.
                while self.kv_used >= cap && self.running.len() > i {
                    let Some(mut victim) = self.running.pop() else {
                        break;
                    };
                    self.kv_used -= victim.kv;
                    victim.kv = 0;
                    victim.computed = 0;
                    victim.work = Work::Idle;
                    out.push(ServerEvent::Preempted {
                        req: victim.id,
                        at: now,
                    });
                    self.waiting.push_front(victim);
                    t.preempted = true;
                }
                if i >= self.running.len() {
                    break; // it was the newest, and is now queued
                }
                self.kv_used += 1;
                self.running[i].kv += 1;
            }
            let r = &mut self.running[i];
            if r.computed < r.target {
                t.prefill += tokens;
                t.pairs += StepWork::chunk_pairs(r.computed, tokens);
                t.context += r.computed;
                r.work = Work::Prefill(tokens as u32);
            } else {
                t.decode += 1;
                t.context += u64::from(r.prompt) + u64::from(r.generated);
                r.work = Work::Decode;
                t.to_finish = t.to_finish.min(r.output - r.generated);
            }
            t.budget -= tokens;
            i += 1;
        }
        self.admit_and_launch(now, t, out);
    }

    /// The end of [`Server::start_step`], the running requests scheduled as `t` says:
    /// admission (rule 3), then the step, or the run of identical decode steps, at `now`.
    fn admit_and_launch(&mut self, now: SimTime, mut t: Tally, out: &mut Vec<ServerEvent>) {
        let cap = self.params.kv_cache_tokens;
        // 3. Admission, FCFS, unless this step preempted.
        while !t.preempted && t.budget > 0 && self.running.len() < self.params.max_num_seqs as usize
        {
            let Some(head) = self.waiting.front() else {
                break;
            };
            // Rule 6: arrived at this very instant → the next step, unless the server was idle
            // (this step would be empty), in which case its arrival starts this step.
            let step_empty = t.prefill == 0 && t.decode == 0;
            if head.arrival >= now && !step_empty {
                break;
            }
            let target = u64::from(head.prompt) + u64::from(head.generated);
            let (tokens, need) = if head.kv_transferred {
                // A decode: its transferred KV + the token this step emits.
                (1, target + 1)
            } else {
                let chunk = target.min(t.budget);
                (chunk, target + u64::from(chunk == target))
            };
            if self.kv_used + need > cap {
                break;
            }
            let Some(mut r) = self.waiting.pop_front() else {
                break;
            };
            r.target = target;
            r.kv = need;
            if r.kv_transferred {
                r.computed = target;
                r.work = Work::Decode;
                t.decode += 1;
                t.context += target;
                t.to_finish = t.to_finish.min(r.output - r.generated);
            } else {
                r.computed = 0;
                r.work = Work::Prefill(tokens as u32);
                t.prefill += tokens;
                t.pairs += StepWork::chunk_pairs(0, tokens);
            }
            r.kv_transferred = false;
            r.seq = self.admissions;
            self.admissions += 1;
            self.kv_used += need;
            t.budget -= tokens;
            out.push(ServerEvent::Admitted { req: r.id, at: now });
            self.running.push(r);
        }

        if t.prefill == 0 && t.decode == 0 {
            // Nothing queued or running: every queued request fits an empty server.
            self.step = None;
            return;
        }
        let mut step = Step {
            start: now,
            end: now.saturating_add(self.params.step_duration(&StepWork {
                prefill_tokens: t.prefill,
                attention_pairs: t.pairs,
                decode_seqs: t.decode,
                context_tokens: t.context,
            })),
            steps: 1,
            decode_seqs: t.decode,
            context: t.context,
        };
        // No prefill: nothing was admitted either, transferred requests aside, which decode like
        // the others. A queued request this step could not admit cannot be admitted in the
        // run's later steps either (`run_length`).
        let all_decode = t.prefill == 0 && t.decode == self.running.len() as u64;
        if self.coalesce && all_decode && !t.preempted {
            step.steps = self.run_length(now, t.to_finish);
            if step.steps > 1 {
                step.end = self.plan_run(&step);
            }
        }
        self.step = Some(step);
    }

    /// How many identical decode steps can follow from the one just scheduled at `now`
    /// (itself included): up to the step in which a request emits its last token, and while
    /// every step's new KV tokens fit. A queued request that can't be admitted now can't be
    /// admitted during the run either (slots, budget and KV only tighten while nobody leaves),
    /// except one that arrived at `now`: it joins the next step, so the run stops after this
    /// one. `to_finish` is the fewest tokens a running request has left to emit (all decode).
    fn run_length(&self, now: SimTime, to_finish: u32) -> u32 {
        if self.waiting.front().is_some_and(|r| r.arrival >= now) {
            return 1;
        }
        let per_step = self.running.len().max(1) as u64;
        let kv_steps = self.params.kv_cache_tokens.saturating_sub(self.kv_used) / per_step + 1;
        u64::from(to_finish).min(kv_steps) as u32
    }
}

/// The `server:` block of a scenario: a preset, explicit values, or a preset with overrides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ServerSpec {
    /// A built-in preset (e.g. `llama2-70b-8xa100`); the other fields override its values.
    /// Without a preset every field is required but `prefill_attention_ms`,
    /// `per_context_token_ms`, `request_overhead_ms`, `request_overhead_spread_ms` and
    /// `decode_saturation_seqs` (default 0).
    #[schemars(with = "Option<presets::Preset>")]
    pub preset: Option<String>,
    // The bounds below are those `resolve` checks.
    /// Running batch slots (vLLM `--max-num-seqs`).
    #[schemars(range(min = 1))]
    pub max_num_seqs: Option<u32>,
    /// Token budget per step (vLLM `--max-num-batched-tokens`); at least `max_num_seqs`.
    #[schemars(range(min = 1))]
    pub max_num_batched_tokens: Option<u32>,
    /// KV-cache capacity in tokens (vLLM logs it as "GPU KV cache size").
    #[schemars(range(min = 1))]
    pub kv_cache_tokens: Option<u64>,
    /// Fixed cost of a step, in milliseconds.
    #[schemars(range(min = 0))]
    pub base_ms: Option<f64>,
    /// Cost per prompt token prefilled in a step, in milliseconds.
    #[schemars(range(min = 0))]
    pub per_prefill_token_ms: Option<f64>,
    /// Cost per (prefilled token, earlier token of its sequence) pair, in milliseconds:
    /// attention inside long prompts (default 0).
    #[schemars(range(min = 0))]
    pub prefill_attention_ms: Option<f64>,
    /// Cost per decoding sequence in a step, in milliseconds.
    #[schemars(range(min = 0))]
    pub per_decode_seq_ms: Option<f64>,
    /// Cost per already-processed token of each sequence in a step, in milliseconds.
    #[schemars(range(min = 0))]
    pub per_context_token_ms: Option<f64>,
    /// Delay from a request's arrival to its entry in the scheduler's queue (HTTP,
    /// tokenisation), in milliseconds (default 0).
    #[schemars(range(min = 0))]
    pub request_overhead_ms: Option<f64>,
    /// How much the request overhead varies: each request's is `request_overhead_ms` plus up
    /// to this much, spread evenly over the requests, in milliseconds (default 0).
    #[schemars(range(min = 0))]
    pub request_overhead_spread_ms: Option<f64>,
    /// Batch at which the cost of a further decoding sequence has fallen to 1/e of the first
    /// one's: about experts ÷ experts per token for a mixture-of-experts model (default 0:
    /// never, as for a dense model).
    #[schemars(range(min = 0))]
    pub decode_saturation_seqs: Option<f64>,
}

/// Why a [`ServerSpec`] is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServerSpecError {
    #[error("unknown server preset `{name}` (known presets: {known})")]
    UnknownPreset { name: String, known: String },
    #[error("`{field}` is required when no `preset` is given")]
    Missing { field: &'static str },
    #[error("`{field}` must be at least 1")]
    NotPositive { field: &'static str },
    #[error("`{field}` must be a finite number of milliseconds, 0 or more (got {value})")]
    BadCost { field: &'static str, value: f64 },
    #[error(
        "`decode_saturation_seqs` must be a finite number of sequences, 0 or more (got {value})"
    )]
    BadSaturation { value: f64 },
    #[error(
        "`max_num_batched_tokens` ({tokens}) must be at least `max_num_seqs` ({seqs}), as vLLM requires"
    )]
    BudgetBelowSeqs { tokens: u32, seqs: u32 },
}

impl ServerSpec {
    /// The preset (if any) with the explicit fields over it, validated.
    pub fn resolve(&self) -> Result<ServerParams, ServerSpecError> {
        let base = match &self.preset {
            Some(name) => Some(presets::get(name).ok_or_else(|| {
                ServerSpecError::UnknownPreset {
                    name: name.clone(),
                    known: presets::PRESETS
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })?),
            None => None,
        };
        let p = ServerParams {
            max_num_seqs: pick(
                "max_num_seqs",
                self.max_num_seqs,
                base.map(|b| b.max_num_seqs),
            )?,
            max_num_batched_tokens: pick(
                "max_num_batched_tokens",
                self.max_num_batched_tokens,
                base.map(|b| b.max_num_batched_tokens),
            )?,
            kv_cache_tokens: pick(
                "kv_cache_tokens",
                self.kv_cache_tokens,
                base.map(|b| b.kv_cache_tokens),
            )?,
            base_ms: pick("base_ms", self.base_ms, base.map(|b| b.base_ms))?,
            per_prefill_token_ms: pick(
                "per_prefill_token_ms",
                self.per_prefill_token_ms,
                base.map(|b| b.per_prefill_token_ms),
            )?,
            per_decode_seq_ms: pick(
                "per_decode_seq_ms",
                self.per_decode_seq_ms,
                base.map(|b| b.per_decode_seq_ms),
            )?,
            per_context_token_ms: optional(
                self.per_context_token_ms,
                base.map(|b| b.per_context_token_ms),
            ),
            prefill_attention_ms: optional(
                self.prefill_attention_ms,
                base.map(|b| b.prefill_attention_ms),
            ),
            request_overhead_ms: optional(
                self.request_overhead_ms,
                base.map(|b| b.request_overhead_ms),
            ),
            request_overhead_spread_ms: optional(
                self.request_overhead_spread_ms,
                base.map(|b| b.request_overhead_spread_ms),
            ),
            decode_saturation_seqs: optional(
                self.decode_saturation_seqs,
                base.map(|b| b.decode_saturation_seqs),
            ),
        };
        for (field, value) in [
            ("max_num_seqs", u64::from(p.max_num_seqs)),
            (
                "max_num_batched_tokens",
                u64::from(p.max_num_batched_tokens),
            ),
            ("kv_cache_tokens", p.kv_cache_tokens),
        ] {
            if value == 0 {
                return Err(ServerSpecError::NotPositive { field });
            }
        }
        for (field, value) in [
            ("base_ms", p.base_ms),
            ("per_prefill_token_ms", p.per_prefill_token_ms),
            ("per_decode_seq_ms", p.per_decode_seq_ms),
            ("prefill_attention_ms", p.prefill_attention_ms),
            ("per_context_token_ms", p.per_context_token_ms),
            ("request_overhead_ms", p.request_overhead_ms),
            ("request_overhead_spread_ms", p.request_overhead_spread_ms),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(ServerSpecError::BadCost { field, value });
            }
        }
        let saturation = p.decode_saturation_seqs;
        if !saturation.is_finite() || saturation < 0.0 {
            return Err(ServerSpecError::BadSaturation { value: saturation });
        }
        if p.max_num_batched_tokens < p.max_num_seqs {
            return Err(ServerSpecError::BudgetBelowSeqs {
                tokens: p.max_num_batched_tokens,
                seqs: p.max_num_seqs,
            });
        }
        Ok(p)
    }
}

/// An explicit value, else the preset's, else missing.
fn pick<T>(
    field: &'static str,
    explicit: Option<T>,
    preset: Option<T>,
) -> Result<T, ServerSpecError> {
    explicit
        .or(preset)
        .ok_or(ServerSpecError::Missing { field })
}

/// An optional field: the explicit value, else the preset's, else 0.
fn optional(explicit: Option<f64>, preset: Option<f64>) -> f64 {
    explicit.or(preset).unwrap_or(0.0)
}

/// Lays out the ends of a decode run's steps from `start`, the first step's context being
/// `context` and each step adding `seqs` to it. Steps are taken in pairs, each with its own
/// context sum, so that the two durations are computed side by side (a third less time per
/// step).
fn lay_out_pairs(
    ends: &mut [SimTime],
    start: i64,
    context: f64,
    seqs: f64,
    micros: impl Fn(f64) -> i64,
) {
    let (mut a, mut b) = (context, context + seqs);
    let mut end = start;
    let mut pairs = ends.chunks_exact_mut(2);
    for pair in &mut pairs {
        let (da, db) = (micros(a), micros(b));
        end += da;
        pair[0] = SimTime::from_micros(end);
        end += db;
        pair[1] = SimTime::from_micros(end);
        a += 2.0 * seqs;
        b += 2.0 * seqs;
    }
    if let [last] = pairs.into_remainder() {
        *last = SimTime::from_micros(end + micros(a));
    }
}

#[cfg(test)]
mod tests;
