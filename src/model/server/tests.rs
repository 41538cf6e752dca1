// Over 600 lines: the server's tests rule by rule, then its property tests and M/G/1 check.
//! Tests of the inference server: hand-computed timelines for the rules one by one, a property
//! test that coalesced runs are exactly step-by-step execution, request conservation, the
//! M/G/1 check of the queue, and the scenario spec.

use super::*;
use crate::sim::rng::stream;
use crate::sim::time::round_micros;
use proptest::prelude::*;
use rand::RngExt;
use rand_distr::{Distribution, Exp};

use Ev::{Admitted, Finished, FirstToken, Preempted, TooLong};

/// A [`ServerEvent`] with its time in plain microseconds, for compact expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ev {
    Admitted { req: u32, at: i64 },
    FirstToken { req: u32, at: i64 },
    Finished { req: u32, at: i64 },
    Preempted { req: u32, at: i64 },
    TooLong { req: u32, at: i64 },
}

fn plain(e: ServerEvent) -> Ev {
    let id = |req: SlotId| req.index() as u32;
    match e {
        ServerEvent::Admitted { req, at } => Admitted {
            req: id(req),
            at: at.as_micros(),
        },
        ServerEvent::FirstToken { req, at } => FirstToken {
            req: id(req),
            at: at.as_micros(),
        },
        ServerEvent::Finished { req, at } => Finished {
            req: id(req),
            at: at.as_micros(),
        },
        ServerEvent::Preempted { req, at } => Preempted {
            req: id(req),
            at: at.as_micros(),
        },
        ServerEvent::TooLong { req, at } => TooLong {
            req: id(req),
            at: at.as_micros(),
        },
    }
}

/// Request `i` of a test.
fn slot(i: usize) -> SlotId {
    SlotId::new(i)
}

fn plain_all(events: &[ServerEvent]) -> Vec<Ev> {
    events.iter().copied().map(plain).collect()
}

/// The point `us` microseconds after the start.
fn us(us: i64) -> SimTime {
    SimTime::from_micros(us)
}

/// 10 ms a step, +10 µs per prompt token, +1 ms per decoding sequence, no context cost.
fn simple(max_num_seqs: u32, max_num_batched_tokens: u32, kv_cache_tokens: u64) -> ServerParams {
    ServerParams {
        max_num_seqs,
        max_num_batched_tokens,
        kv_cache_tokens,
        base_ms: 10.0,
        per_prefill_token_ms: 0.01,
        per_decode_seq_ms: 1.0,
        per_context_token_ms: 0.0,
        prefill_attention_ms: 0.0,
        request_overhead_ms: 0.0,
        request_overhead_spread_ms: 0.0,
        decode_saturation_seqs: 0.0,
    }
}

/// Times in the test helpers are plain microseconds.
#[derive(Debug, Clone, Copy)]
struct Arrival {
    at: i64,
    prompt: u32,
    output: u32,
    /// Delivered with [`Server::arrive_prefilled`]: prefilled elsewhere, its KV transferred.
    prefilled: bool,
}

fn arrival(at: i64, prompt: u32, output: u32) -> Arrival {
    Arrival {
        at,
        prompt,
        output,
        prefilled: false,
    }
}

/// A request prefilled on another server (which emitted its first token), to decode here.
fn prefilled(at: i64, prompt: u32, output: u32) -> Arrival {
    Arrival {
        prefilled: true,
        ..arrival(at, prompt, output)
    }
}

/// What a server shows at a probe time.
#[derive(Debug, Clone, PartialEq)]
struct Observation {
    at: i64,
    waiting: usize,
    running: usize,
    kv_used: u64,
    prompt_tokens: u64,
    generation_tokens: u64,
    evicted: Option<Vec<u32>>,
}

#[derive(Debug, Clone, Copy)]
struct Probe {
    at: i64,
    evict: bool,
}

#[derive(Debug)]
struct Trace {
    events: Vec<Ev>,
    observations: Vec<Observation>,
    wakes: usize,
}

/// Feeds `arrivals` (request id = index, sorted by time) to a server and delivers its
/// wake-ups until it is idle, reading it at each probe (after everything at or before the
/// probe's time). At an instant with both, the wake-up is delivered after `wake_after` of the
/// instant's arrivals.
fn drive(
    params: ServerParams,
    coalesce: bool,
    arrivals: &[Arrival],
    wake_after: usize,
    probes: &[Probe],
) -> Trace {
    let mut server = Server::new(params, coalesce);
    let mut events = Vec::new();
    let mut observations = Vec::new();
    let mut wakes = 0;
    let (mut next_arrival, mut next_probe) = (0, 0);
    loop {
        let t_arrival = arrivals.get(next_arrival).map(|a| a.at);
        let t_wake = server.next_wakeup().map(SimTime::as_micros);
        let t_event = match (t_arrival, t_wake) {
            (Some(a), Some(w)) => Some(a.min(w)),
            (a, w) => a.or(w),
        };
        if let Some(probe) = probes.get(next_probe) {
            if t_event.is_none_or(|t| probe.at < t) {
                let at = us(probe.at);
                let evicted = probe.evict.then(|| {
                    let ids = server.evict_all(at);
                    ids.iter().map(|r| r.index() as u32).collect()
                });
                observations.push(Observation {
                    at: probe.at,
                    waiting: server.waiting(),
                    running: server.running(),
                    kv_used: server.kv_used_tokens(at),
                    prompt_tokens: server.prompt_tokens_total(),
                    generation_tokens: server.generation_tokens_total(at),
                    evicted,
                });
                next_probe += 1;
                continue;
            }
        }
        let Some(now) = t_event else {
            break;
        };
        let count = arrivals[next_arrival..]
            .iter()
            .take_while(|a| a.at == now)
            .count();
        for k in 0..=count {
            if k == wake_after.min(count) && t_wake == Some(now) {
                server.wake(us(now), &mut events);
                wakes += 1;
            }
            if k < count {
                let a = arrivals[next_arrival];
                deliver(&mut server, slot(next_arrival), a, &mut events);
                next_arrival += 1;
            }
        }
    }
    assert!(server.is_idle());
    assert_eq!((server.waiting(), server.running()), (0, 0));
    Trace {
        events: plain_all(&events),
        observations,
        wakes,
    }
}

/// Delivers an arrival at its time the way it says: to be prefilled here, or already
/// prefilled.
fn deliver(server: &mut Server, req: SlotId, a: Arrival, out: &mut Vec<ServerEvent>) {
    if a.prefilled {
        server.arrive_prefilled(us(a.at), req, a.prompt, a.output, out);
    } else {
        server.arrive(us(a.at), req, a.prompt, a.output, out);
    }
}

/// Runs both ways, checks they agree, and returns the coalesced trace.
fn drive_both(params: ServerParams, arrivals: &[Arrival], probes: &[Probe]) -> Trace {
    let coalesced = drive(params, true, arrivals, 0, probes);
    let reference = drive(params, false, arrivals, 0, probes);
    assert_eq!(coalesced.events, reference.events);
    assert_eq!(coalesced.observations, reference.observations);
    coalesced
}

fn observe(at: i64) -> Probe {
    Probe { at, evict: false }
}

#[test]
fn single_request_first_token_after_one_prefill_step_then_one_decode_step_per_token() {
    // Prefill of 100 tokens: 10 + 1.0 ms. Each decode: 10 + 1 ms.
    let t = drive_both(simple(4, 8_192, 10_000), &[arrival(5_000, 100, 3)], &[]);
    assert_eq!(
        t.events,
        [
            Admitted { req: 0, at: 5_000 },
            FirstToken { req: 0, at: 16_000 },
            Finished { req: 0, at: 38_000 },
        ]
    );
    assert_eq!(t.wakes, 2, "the two decode steps are one wake-up");
}

#[test]
fn context_cost_makes_each_decode_step_longer_and_each_is_rounded_on_its_own() {
    let params = ServerParams {
        per_context_token_ms: 0.001,
        prefill_attention_ms: 0.0,
        request_overhead_ms: 0.0,
        request_overhead_spread_ms: 0.0,
        ..simple(4, 8_192, 10_000)
    };
    // Decodes see 101 and 102 context tokens (prompt + generated): 11.101 and 11.102 ms.
    let t = drive_both(params, &[arrival(0, 100, 3)], &[observe(20_000)]);
    assert_eq!(
        t.events,
        [
            Admitted { req: 0, at: 0 },
            FirstToken { req: 0, at: 11_000 },
            Finished {
                req: 0,
                at: 11_000 + 11_101 + 11_102
            },
        ]
    );
    // During the first decode: prompt + token 1 + the token being decoded.
    assert_eq!(t.observations[0].kv_used, 102);
    assert_eq!(t.observations[0].generation_tokens, 1);
    assert_eq!(t.observations[0].prompt_tokens, 100);
}

#[test]
fn long_prompt_is_prefilled_in_chunks_of_the_token_budget() {
    let params = ServerParams {
        per_context_token_ms: 0.001,
        prefill_attention_ms: 0.0,
        request_overhead_ms: 0.0,
        request_overhead_spread_ms: 0.0,
        ..simple(4, 8_192, 100_000)
    };
    // Chunks of 8192, 8192 and 3616 tokens after 0, 8192 and 16384 computed ones:
    // 10 + 81.92, 10 + 81.92 + 8.192, 10 + 36.16 + 16.384 ms; then one decode over 20001.
    let first = 91_920 + 100_112 + 62_544;
    let t = drive_both(
        params,
        &[arrival(0, 20_000, 2)],
        &[observe(1_000), observe(first), observe(first + 1)],
    );
    assert_eq!(
        t.events,
        [
            Admitted { req: 0, at: 0 },
            FirstToken { req: 0, at: first },
            Finished {
                req: 0,
                at: first + 31_001
            },
        ]
    );
    // The whole prompt is reserved at admission; then one token per emitting step.
    let kv: Vec<u64> = t.observations.iter().map(|o| o.kv_used).collect();
    assert_eq!(kv, [20_000, 20_002, 20_002]);
}

#[test]
fn attention_inside_a_prompt_costs_each_chunk_its_token_pairs() {
    let params = ServerParams {
        prefill_attention_ms: 1e-6,
        ..simple(4, 8_192, 100_000)
    };
    // Chunks of 8192, 8192 and 3616 tokens after 0, 8192 and 16384 computed ones attend to
    // 8192·8193/2, 8192·8192 + 8192·8193/2 and 16384·3616 + 3616·3617/2 token pairs.
    assert_eq!(StepWork::chunk_pairs(0, 8_192), 33_558_528);
    assert_eq!(StepWork::chunk_pairs(8_192, 8_192), 100_667_392);
    assert_eq!(StepWork::chunk_pairs(16_384, 3_616), 65_784_080);
    let first = (91_920 + 33_559) + (91_920 + 100_667) + (46_160 + 65_784);
    let t = drive_both(params, &[arrival(0, 20_000, 2)], &[]);
    assert_eq!(
        t.events,
        [
            Admitted { req: 0, at: 0 },
            FirstToken { req: 0, at: first },
            Finished {
                req: 0,
                at: first + 11_000
            },
        ]
    );
}

#[test]
fn request_overhead_delays_admission_and_every_token_by_exactly_its_length() {
    let params = ServerParams {
        request_overhead_ms: 2.5,
        request_overhead_spread_ms: 0.0,
        ..simple(4, 8_192, 10_000)
    };
    // As the single request above, 2.5 ms later; a transferred request pays no overhead.
    let t = drive_both(
        params,
        &[arrival(5_000, 100, 3), prefilled(50_000, 50, 2)],
        &[observe(6_000)],
    );
    assert_eq!(
        t.events,
        [
            Admitted { req: 0, at: 7_500 },
            FirstToken { req: 0, at: 18_500 },
            Finished { req: 0, at: 40_500 },
            Admitted { req: 1, at: 50_000 },
            Finished { req: 1, at: 61_000 },
        ]
    );
    // In its overhead a request counts as waiting, and holds no KV.
    assert_eq!(
        (t.observations[0].waiting, t.observations[0].kv_used),
        (1, 0)
    );
}

#[test]
fn the_overhead_spread_gives_each_request_its_share_and_they_enter_as_their_overheads_end() {
    let params = ServerParams {
        request_overhead_ms: 2.5,
        request_overhead_spread_ms: 4.0,
        ..simple(4, 8_192, 10_000)
    };
    // The k-th arrival pays 2.5 + 4 × frac(k·φ) ms: 4.972, 3.444 and 5.916 ms, so the
    // second request enters first and starts an 11 ms step alone; the other two join the
    // next. A transferred request pays no overhead and takes no share.
    let t = drive_both(
        params,
        &[
            arrival(5_000, 100, 3),
            arrival(5_000, 100, 3),
            prefilled(5_000, 50, 2),
            arrival(5_000, 100, 3),
        ],
        &[],
    );
    let admitted: Vec<(u32, i64)> = (t.events.iter())
        .filter_map(|e| match *e {
            Admitted { req, at } => Some((req, at)),
            _ => None,
        })
        .collect();
    assert_eq!(
        admitted,
        [(2, 5_000), (1, 16_000), (0, 16_000), (3, 16_000)]
    );
}

#[test]
fn max_num_seqs_queues_the_next_request_until_a_slot_frees() {
    let t = drive_both(
        simple(1, 8_192, 10_000),
        &[arrival(0, 10, 2), arrival(1_000, 10, 1)],
        &[observe(15_000)],
    );
    assert_eq!(
        t.events,
        [
            Admitted { req: 0, at: 0 },
            FirstToken { req: 0, at: 10_100 },
            Finished { req: 0, at: 21_100 },
            Admitted { req: 1, at: 21_100 },
            FirstToken { req: 1, at: 31_200 },
            Finished { req: 1, at: 31_200 },
        ]
    );
    assert_eq!(
        (t.observations[0].waiting, t.observations[0].running),
        (1, 1)
    );
}

#[test]
fn arrival_at_the_instant_a_step_starts_joins_the_next_step_whatever_the_delivery_order() {
    let params = ServerParams {
        per_prefill_token_ms: 0.0,
        per_decode_seq_ms: 0.0,
        ..simple(4, 8_192, 10_000)
    };
    // Every step lasts 10 ms. Request 1 arrives with request 0 on an idle server: request 0
    // starts a step alone. Request 2 arrives at 20 ms, when the third step starts.
    let arrivals = [arrival(0, 10, 5), arrival(0, 10, 1), arrival(20_000, 10, 1)];
    for coalesce in [true, false] {
        for wake_after in 0..3 {
            let t = drive(params, coalesce, &arrivals, wake_after, &[]);
            let admitted: Vec<_> = t
                .events
                .iter()
                .filter(|e| matches!(e, Admitted { .. }))
                .copied()
                .collect();
            assert_eq!(
                admitted,
                [
                    Admitted { req: 0, at: 0 },
                    Admitted { req: 1, at: 10_000 },
                    Admitted { req: 2, at: 30_000 },
                ],
                "coalesce {coalesce}, wake after {wake_after} arrivals"
            );
        }
    }
}

#[test]
fn arrival_inside_a_coalesced_run_joins_the_first_step_starting_after_it() {
    let params = ServerParams {
        per_prefill_token_ms: 0.0,
        per_decode_seq_ms: 0.0,
        ..simple(4, 8_192, 10_000)
    };
    let t = drive_both(params, &[arrival(0, 10, 100), arrival(35_000, 10, 1)], &[]);
    assert!(t.events.contains(&Admitted { req: 1, at: 40_000 }));
    assert!(t.events.contains(&Finished {
        req: 0,
        at: 1_000_000
    }));
    // Prefill, the run cut at 40 ms, the step with request 1, then the rest of the run.
    assert_eq!(t.wakes, 4);
}

#[test]
fn kv_full_preempts_the_newest_request_which_recomputes_its_prompt_and_tokens() {
    // 12 KV tokens; two requests of 4 + 4 tokens (8 at most each, 16 together).
    let t = drive_both(
        simple(4, 100, 12),
        &[arrival(0, 4, 4), arrival(0, 4, 4)],
        &[observe(25_000), observe(50_000)],
    );
    assert_eq!(
        t.events,
        [
            // Step 1 (10.04 ms): request 0 prefills alone; request 1 arrived at its start.
            Admitted { req: 0, at: 0 },
            FirstToken { req: 0, at: 10_040 },
            // Step 2 (11.04 ms): 0 decodes (6 KV), 1 is admitted with 4 + 1 KV: 11 of 12.
            Admitted { req: 1, at: 10_040 },
            FirstToken { req: 1, at: 21_080 },
            // Step 3: 0 takes the last KV token, 1 needs one more: it is the newest.
            Preempted { req: 1, at: 21_080 },
            // Steps 3 and 4 (11 ms each): 0 decodes alone; 1 needs 4 + 1 + 1 > 12 - 8.
            Finished { req: 0, at: 43_080 },
            // Step 5 (10.05 ms): 1 recomputes 5 tokens (prompt + token 1) and emits token 2.
            Admitted { req: 1, at: 43_080 },
            Finished { req: 1, at: 75_130 },
        ]
    );
    let o = &t.observations;
    assert_eq!((o[0].waiting, o[0].running, o[0].kv_used), (1, 1, 7));
    assert_eq!((o[1].waiting, o[1].running, o[1].kv_used), (0, 1, 6));
    // The recompute is neither a second first token nor a second prompt in the counters.
    assert_eq!(o[1].prompt_tokens, 8);
    assert_eq!(o[1].generation_tokens, 5);
}

#[test]
fn request_that_can_never_fit_the_kv_cache_fails_at_once() {
    // 8 + 3 > 10 can never fit; 8 + 2 fits exactly, alone.
    let t = drive_both(
        simple(4, 8_192, 10),
        &[arrival(0, 8, 3), arrival(1, 8, 2)],
        &[],
    );
    assert_eq!(t.events[0], TooLong { req: 0, at: 0 });
    assert_eq!(t.events[1], Admitted { req: 1, at: 1 });
    assert!(matches!(t.events[3], Finished { req: 1, .. }));
}

#[test]
fn evict_all_keeps_the_tokens_emitted_so_far_and_leaves_the_server_idle() {
    let params = ServerParams {
        per_prefill_token_ms: 0.0,
        per_decode_seq_ms: 0.0,
        ..simple(4, 8_192, 10_000)
    };
    let t = drive_both(
        params,
        &[arrival(0, 10, 100), arrival(1_000, 10, 100)],
        &[Probe {
            at: 55_000,
            evict: true,
        }],
    );
    let o = &t.observations[0];
    assert_eq!(o.evicted, Some(vec![0, 1]));
    // Request 0 emitted at 10, 20, 30, 40 and 50 ms; request 1 at 20, 30, 40 and 50 ms.
    assert_eq!(o.generation_tokens, 9);
    assert_eq!((o.waiting, o.running, o.kv_used), (0, 0, 0));
}

#[test]
fn coalescing_turns_a_long_decode_into_one_wake_up() {
    let params = simple(4, 8_192, 10_000);
    let arrivals = [arrival(0, 10, 1_000)];
    let coalesced = drive(params, true, &arrivals, 0, &[]);
    let reference = drive(params, false, &arrivals, 0, &[]);
    assert_eq!(coalesced.events, reference.events);
    assert_eq!((coalesced.wakes, reference.wakes), (2, 1_000));
}

#[test]
fn reading_at_the_wake_up_instant_before_the_wake_up_sees_the_last_step_in_progress() {
    let params = ServerParams {
        per_prefill_token_ms: 0.0,
        per_decode_seq_ms: 0.0,
        ..simple(4, 8_192, 10_000)
    };
    for coalesce in [true, false] {
        let mut server = Server::new(params, coalesce);
        let mut events = Vec::new();
        server.arrive(us(0), slot(0), 10, 5, &mut events);
        while let Some(w) = server.next_wakeup().filter(|&w| w < us(50_000)) {
            server.wake(w, &mut events);
        }
        // Tokens at 10, 20, 30 and 40 ms; the last one ends at 50 ms.
        assert_eq!(server.next_wakeup(), Some(us(50_000)));
        assert_eq!(server.generation_tokens_total(us(50_000)), 4);
        assert_eq!(server.kv_used_tokens(us(50_000)), 15);
        server.wake(us(50_000), &mut events);
        assert_eq!(server.generation_tokens_total(us(50_000)), 5);
        assert_eq!(server.kv_used_tokens(us(50_000)), 0);
    }
}

#[test]
fn a_stale_wake_up_is_ignored() {
    let mut server = Server::new(simple(4, 8_192, 10_000), true);
    let mut events = Vec::new();
    server.arrive(us(0), slot(7), 10, 50, &mut events);
    let first = server.next_wakeup();
    server.wake(us(1), &mut events);
    assert_eq!(server.next_wakeup(), first);
    assert_eq!(plain_all(&events), [Admitted { req: 7, at: 0 }]);
}

#[test]
fn a_renewed_server_is_a_new_one() {
    // Runs `(at µs, prompt, output)` arrivals to the end; the events, and the wake-ups taken.
    fn serve(server: &mut Server, arrivals: &[(i64, u32, u32)]) -> (Vec<Ev>, usize) {
        let (mut events, mut wakes, mut next) = (Vec::new(), 0, 0);
        loop {
            let wake = server.next_wakeup();
            match arrivals.get(next) {
                Some(&(at, prompt, output)) if wake.is_none_or(|w| us(at) < w) => {
                    server.arrive(us(at), slot(next), prompt, output, &mut events);
                    next += 1;
                }
                _ => match wake {
                    Some(w) => {
                        server.wake(w, &mut events);
                        wakes += 1;
                    }
                    None => return (plain_all(&events), wakes),
                },
            }
        }
    }
    // Left mid-run with a full batch, a queue, laid-out step ends and a preemption behind it.
    let busy = ServerParams {
        per_context_token_ms: 0.001,
        ..simple(2, 64, 600)
    };
    let mut server = Server::new(busy, true);
    let mut events = Vec::new();
    for i in 0..4 {
        server.arrive(us(0), slot(i), 100, 200, &mut events);
    }
    for _ in 0..6 {
        let at = server.next_wakeup().expect("busy");
        server.wake(at, &mut events);
    }
    assert!(!server.is_idle() && server.waiting() > 0);
    let params = ServerParams {
        per_context_token_ms: 0.002,
        request_overhead_ms: 1.5,
        request_overhead_spread_ms: 0.0,
        ..simple(3, 128, 5_000)
    };
    server.renew(params, true);
    let arrivals = [
        (0, 80, 40),
        (0, 300, 10),
        (2_000, 50, 90),
        (40_000, 120, 30),
    ];
    let renewed = serve(&mut server, &arrivals);
    assert_eq!(renewed, serve(&mut Server::new(params, true), &arrivals));
    assert!(
        renewed.0.len() > 8,
        "every request admitted, started and finished"
    );
}

// ---------------------------------------------------------------------------------------------
// Transferred requests (disaggregated prefill/decode)
// ---------------------------------------------------------------------------------------------

#[test]
fn transferred_request_decodes_its_remaining_tokens_one_step_each_without_a_first_token() {
    let params = ServerParams {
        per_context_token_ms: 0.001,
        prefill_attention_ms: 0.0,
        request_overhead_ms: 0.0,
        request_overhead_spread_ms: 0.0,
        ..simple(4, 8_192, 10_000)
    };
    // Prompt 100 and token 1 arrive with it; tokens 2, 3 and 4 are decoded over 101, 102 and
    // 103 context tokens: 10 + 1 + 0.101, 0.102, 0.103 ms.
    let t = drive_both(
        params,
        &[prefilled(5_000, 100, 4)],
        &[observe(10_000), observe(20_000), observe(40_000)],
    );
    assert_eq!(
        t.events,
        [
            Admitted { req: 0, at: 5_000 },
            Finished {
                req: 0,
                at: 5_000 + 11_101 + 11_102 + 11_103
            },
        ]
    );
    assert_eq!(t.wakes, 1, "the three decode steps are one run");
    let o = &t.observations;
    // The transferred 101 tokens + the token being decoded, then one more each step.
    assert_eq!((o[0].kv_used, o[0].generation_tokens), (102, 0));
    assert_eq!((o[1].kv_used, o[1].generation_tokens), (103, 1));
    assert_eq!((o[2].kv_used, o[2].generation_tokens), (0, 3));
    // Its prompt was prefilled, and counted, elsewhere.
    assert!(o.iter().all(|o| o.prompt_tokens == 0));
}

#[test]
fn transferred_request_waits_for_a_slot_behind_max_num_seqs() {
    let t = drive_both(
        simple(1, 8_192, 10_000),
        &[arrival(0, 10, 2), prefilled(1_000, 50, 3)],
        &[
            observe(15_000),
            observe(25_000),
            observe(40_000),
            observe(50_000),
        ],
    );
    assert_eq!(
        t.events,
        [
            Admitted { req: 0, at: 0 },
            FirstToken { req: 0, at: 10_100 },
            Finished { req: 0, at: 21_100 },
            // Admitted when request 0 leaves; two decode steps of 11 ms.
            Admitted { req: 1, at: 21_100 },
            Finished { req: 1, at: 43_100 },
        ]
    );
    let o = &t.observations;
    assert_eq!((o[0].waiting, o[0].running), (1, 1));
    assert_eq!((o[1].waiting, o[1].running, o[1].kv_used), (0, 1, 52));
    assert_eq!((o[2].kv_used, o[2].generation_tokens), (53, 3));
    // Request 0's prompt only; its 2 tokens and request 1's tokens 2 and 3.
    assert_eq!((o[3].prompt_tokens, o[3].generation_tokens), (10, 4));
}

#[test]
fn transferred_request_takes_one_token_of_budget_and_waits_while_a_chunk_uses_it_all() {
    // A budget of 4: request 0's 8-token prompt takes two whole steps.
    let t = drive_both(
        simple(4, 4, 1_000),
        &[arrival(0, 8, 2), prefilled(0, 10, 2)],
        &[],
    );
    assert_eq!(
        t.events,
        [
            Admitted { req: 0, at: 0 },
            // Steps 1 and 2 (10.04 ms each): chunks of 4; request 1 arrived at step 1's start,
            // and step 2's chunk leaves no budget.
            FirstToken { req: 0, at: 20_080 },
            // Step 3 (12 ms): two decodes, one token of budget each.
            Admitted { req: 1, at: 20_080 },
            Finished { req: 0, at: 32_080 },
            Finished { req: 1, at: 32_080 },
        ]
    );
}

#[test]
fn preempted_transferred_request_loses_its_kv_and_recomputes_prompt_and_tokens() {
    // 12 KV tokens; request 0 (4 + 4) is prefilled here, request 1 (4 + 4) was prefilled
    // elsewhere. Each needs 8 at most, 16 together.
    let t = drive_both(
        simple(4, 100, 12),
        &[arrival(0, 4, 4), prefilled(0, 4, 4)],
        &[observe(30_000), observe(50_000), observe(70_000)],
    );
    assert_eq!(
        t.events,
        [
            // Step 1 (10.04 ms): request 0 prefills alone (5 KV).
            Admitted { req: 0, at: 0 },
            FirstToken { req: 0, at: 10_040 },
            // Step 2 (12 ms): 0 decodes (6 KV); 1 is admitted with its 5 transferred tokens
            // + 1: 12 of 12. Both emit token 2.
            Admitted { req: 1, at: 10_040 },
            // Step 3: 0 needs a token of a full cache: 1, the newest, is preempted.
            Preempted { req: 1, at: 22_040 },
            // Steps 3 and 4 (11 ms each): 0 decodes alone; 1 needs 4 + 2 + 1 > 12 - 8.
            Finished { req: 0, at: 44_040 },
            // Step 5 (10.06 ms): 1 recomputes 6 tokens (prompt + tokens 1 and 2) and emits
            // token 3, then step 6 (11 ms) token 4. No first token.
            Admitted { req: 1, at: 44_040 },
            Finished { req: 1, at: 65_100 },
        ]
    );
    let o = &t.observations;
    assert_eq!((o[0].waiting, o[0].running, o[0].kv_used), (1, 1, 7));
    assert_eq!((o[1].waiting, o[1].running, o[1].kv_used), (0, 1, 7));
    // Request 0's prompt only, even though this server recomputed request 1's; request 0's
    // four tokens and request 1's tokens 2 (before the preemption), 3 and 4.
    assert_eq!((o[1].prompt_tokens, o[1].generation_tokens), (4, 5));
    assert_eq!((o[2].prompt_tokens, o[2].generation_tokens), (4, 7));
}

#[test]
fn transferred_request_that_can_never_fit_the_kv_cache_fails_at_once() {
    // 8 + 3 > 10 can never fit; 8 + 2 fits exactly: 9 transferred tokens + 1.
    let t = drive_both(
        simple(4, 8_192, 10),
        &[prefilled(0, 8, 3), prefilled(1, 8, 2)],
        &[observe(5_000)],
    );
    assert_eq!(
        t.events,
        [
            TooLong { req: 0, at: 0 },
            Admitted { req: 1, at: 1 },
            Finished { req: 1, at: 11_001 },
        ]
    );
    assert_eq!(t.observations[0].kv_used, 10);
}

#[test]
fn transferred_request_with_nothing_left_to_decode_finishes_on_arrival() {
    // Request 0 decodes from 10.1 ms to 54.1 ms in one run, which the others do not cut:
    // they never queue, whatever their prompt (request 3's could never fit).
    let t = drive_both(
        simple(4, 8_192, 100),
        &[
            arrival(0, 10, 5),
            prefilled(15_000, 50, 1),
            prefilled(15_000, 50, 0),
            prefilled(20_000, 500, 1),
        ],
        &[observe(30_000)],
    );
    assert_eq!(
        t.events,
        [
            Admitted { req: 0, at: 0 },
            FirstToken { req: 0, at: 10_100 },
            Finished { req: 1, at: 15_000 },
            Finished { req: 2, at: 15_000 },
            Finished { req: 3, at: 20_000 },
            Finished { req: 0, at: 54_100 },
        ]
    );
    assert_eq!(t.wakes, 2);
    let o = &t.observations[0];
    assert_eq!((o.waiting, o.running, o.prompt_tokens), (0, 1, 10));
    // Alone on an idle server: nothing to do, no step.
    let t = drive_both(simple(4, 8_192, 100), &[prefilled(0, 50, 1)], &[]);
    assert_eq!(
        (t.events.as_slice(), t.wakes),
        (&[Finished { req: 0, at: 0 }][..], 0)
    );
}

#[test]
fn prefill_server_is_a_request_with_one_output_token() {
    // The prefill side: prompt and first token, KV freed at once.
    let prefill = drive_both(
        simple(4, 8_192, 10_000),
        &[arrival(0, 100, 1)],
        &[observe(20_000)],
    );
    assert_eq!(
        prefill.events,
        [
            Admitted { req: 0, at: 0 },
            FirstToken { req: 0, at: 11_000 },
            Finished { req: 0, at: 11_000 },
        ]
    );
    let o = &prefill.observations[0];
    assert_eq!(
        (o.kv_used, o.prompt_tokens, o.generation_tokens),
        (0, 100, 1)
    );
}

// ---------------------------------------------------------------------------------------------
// Coalesced = step by step
// ---------------------------------------------------------------------------------------------

/// Small limits (KV from 4 tokens: preemptions and refusals are common; a budget that can be
/// below `max_num_seqs`), step costs often on the arrivals' 100 µs grid so that arrivals often
/// fall exactly on step boundaries, a context cost that is sometimes 0 (the closed-form
/// runs), and attention and request overhead sometimes 0, sometimes on the grid.
fn arb_params() -> impl Strategy<Value = ServerParams> {
    (
        1u32..=4,
        1u32..=40,
        4u64..=120,
        1u32..=20,
        prop_oneof![Just(0u32), Just(10), 0u32..=50],
        0u32..=30,
        prop_oneof![Just(0u32), 1u32..=20],
        (
            prop_oneof![Just(0u32), 1u32..=20],
            prop_oneof![Just(0u32), Just(10), 1u32..=300],
            prop_oneof![Just(0u32), 1u32..=300],
            prop_oneof![Just(0u32), 1u32..=64],
        ),
    )
        .prop_map(
            |(
                seqs,
                budget,
                kv,
                base,
                prefill,
                decode,
                context,
                (attention, overhead, spread, saturation),
            )| {
                ServerParams {
                    max_num_seqs: seqs,
                    max_num_batched_tokens: budget,
                    kv_cache_tokens: kv,
                    base_ms: f64::from(base),
                    per_prefill_token_ms: f64::from(prefill) * 0.01,
                    per_decode_seq_ms: f64::from(decode) * 0.1,
                    per_context_token_ms: f64::from(context) * 0.001,
                    prefill_attention_ms: f64::from(attention) * 0.0001,
                    request_overhead_ms: f64::from(overhead) * 0.1,
                    request_overhead_spread_ms: f64::from(spread) * 0.1,
                    decode_saturation_seqs: f64::from(saturation),
                }
            },
        )
}

/// Arrivals on a 100 µs grid, several at the same instant now and then; about a third of them
/// already prefilled elsewhere (decode only).
fn arb_arrivals() -> impl Strategy<Value = Vec<Arrival>> {
    arrivals_on_grid(300, 40, 30)
}

/// Up to `max_len` arrivals, each `0..=max_gap` steps of 100 µs after the one before, with
/// prompts of 0..=60 and outputs of `0..=max_output` tokens; about a third prefilled.
fn arrivals_on_grid(
    max_gap: i64,
    max_output: u32,
    max_len: usize,
) -> impl Strategy<Value = Vec<Arrival>> {
    prop::collection::vec(
        (
            0i64..=max_gap,
            0u32..=60,
            0u32..=max_output,
            prop::bool::weighted(0.35),
        ),
        0..max_len,
    )
    .prop_map(|rows| {
        let mut at = 0;
        rows.into_iter()
            .map(|(gap, prompt, output, pre)| {
                at += gap * 100;
                Arrival {
                    prefilled: pre,
                    ..arrival(at, prompt, output)
                }
            })
            .collect()
    })
}

fn arb_probes() -> impl Strategy<Value = Vec<Probe>> {
    prop::collection::vec((0i64..=30_000, prop::bool::weighted(0.1)), 0..10).prop_map(|rows| {
        let mut probes: Vec<Probe> = rows
            .into_iter()
            .map(|(at, evict)| Probe {
                at: at * 100,
                evict,
            })
            .collect();
        probes.sort_by_key(|p| p.at);
        probes
    })
}

/// Events in a canonical order: same-instant events from an arrival and from a wake-up come in
/// delivery order, which is the caller's choice.
fn canonical(events: &[Ev]) -> Vec<(i64, u8, u32)> {
    let mut v: Vec<_> = events
        .iter()
        .map(|e| match *e {
            Admitted { req, at } => (at, 0, req),
            FirstToken { req, at } => (at, 1, req),
            Finished { req, at } => (at, 2, req),
            Preempted { req, at } => (at, 3, req),
            TooLong { req, at } => (at, 4, req),
        })
        .collect();
    v.sort_unstable();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// A coalesced server and a step-by-step one fed the same arrivals report the same events
    /// at the same times, show the same gauges and counters at any probe time, and evict the
    /// same requests; the coalesced one never wakes more often. The delivery order of
    /// same-instant arrivals and wake-ups changes nothing but the order of their events.
    #[test]
    fn coalesced_runs_are_exactly_step_by_step_execution(
        params in arb_params(),
        arrivals in arb_arrivals(),
        probes in arb_probes(),
        wake_after in (0usize..3, 0usize..3),
    ) {
        let coalesced = drive(params, true, &arrivals, wake_after.0, &probes);
        let reference = drive(params, false, &arrivals, wake_after.1, &probes);
        if wake_after.0 == wake_after.1 {
            prop_assert_eq!(&coalesced.events, &reference.events);
        } else {
            prop_assert_eq!(canonical(&coalesced.events), canonical(&reference.events));
        }
        prop_assert_eq!(&coalesced.observations, &reference.observations);
        prop_assert!(coalesced.wakes <= reference.wakes);
        for o in &coalesced.observations {
            prop_assert!(o.kv_used <= params.kv_cache_tokens);
        }
    }

    /// Every arrived request ends exactly once: finished, refused as too long, or evicted.
    /// Transferred requests never report a first token, the others at most one. Without
    /// eviction, the counters end at the requests' prompt and output totals, less the prompts
    /// and first tokens of the transferred requests (prefilled elsewhere).
    #[test]
    fn requests_are_conserved(
        params in arb_params(),
        arrivals in arb_arrivals(),
        probes in arb_probes(),
    ) {
        let t = drive(params, true, &arrivals, 0, &probes);
        let mut ends = vec![0u32; arrivals.len()];
        let mut first_tokens = vec![0u32; arrivals.len()];
        for e in &t.events {
            match *e {
                Finished { req, .. } | TooLong { req, .. } => ends[req as usize] += 1,
                FirstToken { req, .. } => first_tokens[req as usize] += 1,
                _ => {}
            }
        }
        for (a, &n) in arrivals.iter().zip(&first_tokens) {
            prop_assert!(n <= u32::from(!a.prefilled), "{:?}: {} first tokens", a, n);
        }
        for o in &t.observations {
            for &req in o.evicted.iter().flatten() {
                ends[req as usize] += 1;
            }
        }
        prop_assert!(ends.iter().all(|&n| n == 1), "{:?}", ends);

        let evicted = t.observations.iter().any(|o| o.evicted.is_some());
        if !evicted {
            let mut check = Server::new(params, true);
            let mut events = Vec::new();
            let (mut prompts, mut outputs) = (0u64, 0u64);
            for (id, a) in arrivals.iter().enumerate() {
                while let Some(w) = check.next_wakeup().filter(|&w| w < us(a.at)) {
                    check.wake(w, &mut events);
                }
                deliver(&mut check, slot(id), *a, &mut events);
                if events.last().copied().map(plain) != Some(TooLong { req: id as u32, at: a.at }) {
                    if a.prefilled {
                        outputs += u64::from(a.output.max(1) - 1);
                    } else {
                        prompts += u64::from(a.prompt.max(1));
                        outputs += u64::from(a.output.max(1));
                    }
                }
            }
            while let Some(w) = check.next_wakeup() {
                check.wake(w, &mut events);
            }
            prop_assert_eq!(check.prompt_tokens_total(), prompts);
            prop_assert_eq!(check.generation_tokens_total(SimTime::MAX), outputs);
            prop_assert_eq!(check.kv_used_tokens(SimTime::MAX), 0);
        }
    }
}

/// [`arb_params`] with room: a KV cache that rarely or never fills and batches of up to 16,
/// so that most wake-ups take the one-pass path of decode runs ([`Server::roll_over`]); the
/// budget may still be below the batch.
fn arb_roomy_params() -> impl Strategy<Value = ServerParams> {
    (
        arb_params(),
        1u32..=16,
        prop_oneof![Just(100_000u64), 100u64..=2_000],
    )
        .prop_map(|(p, seqs, kv)| ServerParams {
            max_num_seqs: seqs,
            kv_cache_tokens: kv,
            ..p
        })
}

/// Busier arrivals than [`arb_arrivals`]: closer together, with longer outputs.
fn arb_busy_arrivals() -> impl Strategy<Value = Vec<Arrival>> {
    arrivals_on_grid(40, 120, 40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The coalesced server agrees with step-by-step execution when batches are large and the
    /// KV cache roomy, as in production.
    #[test]
    fn coalesced_runs_with_room_are_exactly_step_by_step_execution(
        params in arb_roomy_params(),
        arrivals in arb_busy_arrivals(),
        probes in arb_probes(),
    ) {
        let coalesced = drive(params, true, &arrivals, 0, &probes);
        let reference = drive(params, false, &arrivals, 0, &probes);
        prop_assert_eq!(&coalesced.events, &reference.events);
        prop_assert_eq!(&coalesced.observations, &reference.observations);
        prop_assert!(coalesced.wakes <= reference.wakes);
    }
}

// ---------------------------------------------------------------------------------------------
// M/G/1
// ---------------------------------------------------------------------------------------------

/// The queue of a one-slot server is an M/G/1 queue, and its mean wait is Pollaczek–Khinchine's.
///
/// With `max_num_seqs = 1` the batch holds one request at a time. Its service time is a sum of
/// step durations fixed by its lengths alone (rule 5, `B` the token budget): prefill chunk
/// `i = 1..⌈P/B⌉` of `cᵢ = min(B, P − (i−1)B)` tokens after `(i−1)B` computed ones lasts
/// `round(base + per_prefill·cᵢ + per_context·(i−1)B)`, and decode `m = 1..N−1` (emitting token
/// `m+1` over `P + m` processed tokens) lasts `round(base + per_decode + per_context·(P + m))`.
/// The KV cache is large enough never to preempt. Service starts at admission: a request
/// arriving at an idle server is admitted at once, and otherwise when the one in service
/// finishes (the next step starts at that instant and admits the queue's head). So queue time
/// (admission − arrival) is the FCFS M/G/1 waiting time, with Poisson arrivals of rate `λ`, and
/// its mean is `Wq = λ·E[S²] / (2(1 − ρ))`, `ρ = λ·E[S]`. Prompt and output lengths are drawn
/// independently and uniformly from small sets, so `E[S]` and `E[S²]` are exact averages over
/// the 16 pairs (arrival times are rounded to whole microseconds: a negligible change of `λ`).
/// `λ` is set for `ρ = 0.5`, where the service's squared coefficient of variation is near 1
/// and the mean of 200,000 waits has a standard error of about 1%: over seeds 0–19 the
/// relative errors spread with a standard deviation of 0.9%, the worst at −2.5%, so the 5%
/// tolerance is some 5 standard errors (seed 42: +0.6%).
#[test]
fn one_slot_server_queue_matches_pollaczek_khinchine() {
    let (simulated, theory, es) = one_slot_mean_wait(42);
    let error = (simulated - theory).abs() / theory;
    assert!(
        error < 0.05,
        "simulated Wq {simulated:.4} s vs theory {theory:.4} s (E[S] {es:.4} s): {:.2}% off",
        error * 100.0
    );
}

/// The simulated and the theoretical mean wait, and `E[S]`, in seconds, of the run seeded
/// with `seed`.
fn one_slot_mean_wait(seed: u64) -> (f64, f64, f64) {
    const PROMPTS: [u32; 4] = [64, 512, 1_500, 5_000];
    const OUTPUTS: [u32; 4] = [1, 16, 64, 200];
    const REQUESTS: usize = 200_000;
    let params = ServerParams {
        max_num_seqs: 1,
        max_num_batched_tokens: 2_048,
        kv_cache_tokens: 1_000_000,
        base_ms: 20.0,
        per_prefill_token_ms: 0.1,
        per_decode_seq_ms: 0.5,
        per_context_token_ms: 0.0005,
        prefill_attention_ms: 0.0,
        request_overhead_ms: 0.0,
        request_overhead_spread_ms: 0.0,
        decode_saturation_seqs: 0.0,
    };
    let service = |prompt: u32, output: u32| -> f64 {
        let ms = |x: f64| round_micros(x * 1_000.0) as f64;
        let budget = params.max_num_batched_tokens;
        let prefill: f64 = (0..prompt.div_ceil(budget))
            .map(|i| {
                let chunk = budget.min(prompt - i * budget);
                ms(params.base_ms
                    + params.per_prefill_token_ms * f64::from(chunk)
                    + params.per_context_token_ms * f64::from(i * budget))
            })
            .sum();
        let decode: f64 = (1..output)
            .map(|m| {
                ms(params.base_ms
                    + params.per_decode_seq_ms
                    + params.per_context_token_ms * f64::from(prompt + m))
            })
            .sum();
        (prefill + decode) / 1e6
    };
    let pairs = (PROMPTS.len() * OUTPUTS.len()) as f64;
    let (mut es, mut es2) = (0.0, 0.0);
    for p in PROMPTS {
        for n in OUTPUTS {
            let s = service(p, n);
            es += s / pairs;
            es2 += s * s / pairs;
        }
    }
    let rho = 0.5;
    let lambda = rho / es;
    let theory = lambda * es2 / (2.0 * (1.0 - rho));

    let mut gaps = stream(seed, "arrivals");
    let mut lengths = stream(seed, "input_tokens");
    let exp = Exp::new(lambda).expect("positive rate");
    let mut server = Server::new(params, true);
    let mut events = Vec::new();
    let mut arrived_at = Vec::with_capacity(REQUESTS);
    let mut admitted_at = vec![None; REQUESTS];
    let mut clock = 0.0;
    let mut record = |events: &mut Vec<ServerEvent>| {
        for e in events.drain(..) {
            if let Admitted { req, at } = plain(e) {
                admitted_at[req as usize].get_or_insert(at);
            }
        }
    };
    for id in 0..REQUESTS {
        clock += exp.sample(&mut gaps);
        let at = round_micros(clock * 1e6);
        while let Some(w) = server.next_wakeup().filter(|&w| w <= us(at)) {
            server.wake(w, &mut events);
            record(&mut events);
        }
        let prompt = PROMPTS[lengths.random_range(0..PROMPTS.len())];
        let output = OUTPUTS[lengths.random_range(0..OUTPUTS.len())];
        server.arrive(us(at), slot(id), prompt, output, &mut events);
        record(&mut events);
        arrived_at.push(at);
    }
    while let Some(w) = server.next_wakeup() {
        server.wake(w, &mut events);
        record(&mut events);
    }
    let total_wait: f64 = admitted_at
        .iter()
        .zip(&arrived_at)
        .map(|(admitted, arrived)| {
            (admitted.expect("every request is admitted") - arrived) as f64 / 1e6
        })
        .sum();
    (total_wait / REQUESTS as f64, theory, es)
}

// ---------------------------------------------------------------------------------------------
// Step durations
// ---------------------------------------------------------------------------------------------

/// The step cost as first written, rounded with [`round_micros`]: the reference the faster
/// evaluation must equal bit for bit.
fn step_duration_reference(
    p: &ServerParams,
    (prefill, pairs): (u64, u64),
    decode: u64,
    context: u64,
) -> SimDuration {
    let ms = p.base_ms
        + p.per_prefill_token_ms * prefill as f64
        + p.prefill_attention_ms * pairs as f64
        + decode_reference(p, decode)
        + p.per_context_token_ms * context as f64;
    SimDuration::from_micros(round_micros(ms * MICROS_PER_MS as f64).max(1))
}

/// The decode term as docs/world.md §4.2 writes it (`1 − e^(−D/S)` taken as `−expm1(−D/S)`,
/// exact for small `D/S`).
fn decode_reference(p: &ServerParams, decode: u64) -> f64 {
    let (d, s) = (decode as f64, p.decode_saturation_seqs);
    if s == 0.0 {
        p.per_decode_seq_ms * d
    } else {
        p.per_decode_seq_ms * s * -(-d / s).exp_m1()
    }
}

/// Rounding without `floor` equals [`round_micros`] on every kind of `f64`: arbitrary bit
/// patterns (NaN, infinities, subnormals, both signs, beyond the `i64` range), values next to
/// the half-integers (where half-up rounding turns), and the magnitudes step costs have.
#[test]
fn rounding_without_floor_is_round_micros() {
    let mut rng = stream(7, "rounding");
    let mut special = vec![
        0.0,
        -0.0,
        0.5,
        -0.5,
        0.49999999999999994,
        -0.49999999999999994,
        1.5,
        -1.5,
        2.5,
        -2.5,
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        4_503_599_627_370_495.5,
        4_503_599_627_370_496.0,
        -4_503_599_627_370_495.5,
        9_007_199_254_740_993.0,
    ];
    for e in [52, 53, 62, 63, 64] {
        let p = 2f64.powi(e);
        for v in [p, -p] {
            special.extend([
                v,
                f64::from_bits(v.to_bits() + 1),
                f64::from_bits(v.to_bits() - 1),
            ]);
        }
    }
    for &x in &special {
        assert_eq!(round_half_up(x), round_micros(x), "{x:e}");
    }
    for _ in 0..500_000 {
        let bits: u64 = rng.random();
        let x = f64::from_bits(bits);
        assert_eq!(round_half_up(x), round_micros(x), "{x:e} ({bits:#x})");
        // Near a half-integer of up to 2^40, a few ulps either side.
        let half = (rng.random_range(-(1i64 << 40)..(1i64 << 40)) as f64) + 0.5;
        let ulps = rng.random_range(-4i64..=4);
        let near = f64::from_bits((half.to_bits() as i64 + ulps) as u64);
        assert_eq!(round_half_up(near), round_micros(near), "{near:e}");
        // Magnitudes of step costs in microseconds.
        let us = rng.random_range(0.0..1e7) * if rng.random::<bool>() { 1.0 } else { 1e-3 };
        assert_eq!(round_half_up(us), round_micros(us), "{us:e}");
    }
}

/// [`ServerParams::step_duration`], and the run durations built from its context-free part,
/// equal the expression as first written for random costs and token counts, presets included.
#[test]
fn step_duration_is_the_reference_expression_bit_for_bit() {
    let mut rng = stream(11, "step-duration");
    let mut params: Vec<ServerParams> = presets::PRESETS.iter().map(|p| p.params).collect();
    for _ in 0..2_000 {
        let cost = |rng: &mut crate::sim::rng::Stream| match rng.random_range(0..4) {
            0 => 0.0,
            1 => f64::from(rng.random_range(0u32..1_000)) * 1e-3,
            2 => rng.random_range(0.0..100.0),
            _ => rng.random_range(0.0..1e-3),
        };
        params.push(ServerParams {
            max_num_seqs: 1,
            max_num_batched_tokens: 1,
            kv_cache_tokens: 1,
            base_ms: cost(&mut rng),
            per_prefill_token_ms: cost(&mut rng),
            per_decode_seq_ms: cost(&mut rng),
            per_context_token_ms: cost(&mut rng),
            prefill_attention_ms: cost(&mut rng) * 1e-3,
            request_overhead_ms: 0.0,
            request_overhead_spread_ms: 0.0,
            decode_saturation_seqs: match rng.random_range(0..2) {
                0 => 0.0,
                _ => rng.random_range(1.0..200.0),
            },
        });
    }
    for p in &params {
        for _ in 0..500 {
            let prefill = rng.random_range(0u64..10_000);
            let decode = rng.random_range(0u64..1_000);
            let context = rng.random_range(0u64..2_000_000);
            let pairs = StepWork::chunk_pairs(rng.random_range(0u64..100_000), prefill);
            let reference = step_duration_reference(p, (prefill, pairs), decode, context);
            let work = StepWork {
                prefill_tokens: prefill,
                attention_pairs: pairs,
                decode_seqs: decode,
                context_tokens: context,
            };
            assert_eq!(p.step_duration(&work), reference, "{p:?}");
            assert_eq!(
                p.step_duration(&StepWork::decode(decode, context)),
                step_duration_reference(p, (0, 0), decode, context),
                "{p:?}"
            );
            let fixed = p.fixed_ms(0, 0, decode);
            assert_eq!(
                p.duration_after(fixed, context),
                step_duration_reference(p, (0, 0), decode, context),
                "{p:?}"
            );
        }
    }
}

/// The ends a run lays out are the running sums of [`ServerParams::step_duration`] of each
/// step's context, as first written (the faster loop included: costs of both signs, contexts
/// beyond 2^53, no context cost), and [`Server::steps_ended_by`] reads them right.
#[test]
fn run_ends_are_the_running_sum_of_each_steps_duration() {
    let mut rng = stream(13, "run-ends");
    for _ in 0..3_000 {
        let mut cost = |allow_negative: bool| match rng.random_range(0..7) {
            0 => 0.0,
            1 => f64::from(rng.random_range(0u32..1_000)) * 1e-3,
            2 => rng.random_range(0.0..50.0),
            3 if allow_negative => -rng.random_range(0.0..2.0),
            4 => rng.random_range(0.0..1e-4),
            _ => rng.random_range(0.0..1e-3),
        };
        let params = ServerParams {
            max_num_seqs: 1,
            max_num_batched_tokens: 1,
            kv_cache_tokens: 1,
            base_ms: cost(true),
            per_prefill_token_ms: cost(false),
            per_decode_seq_ms: cost(true),
            per_context_token_ms: cost(true),
            prefill_attention_ms: 0.0,
            request_overhead_ms: 0.0,
            request_overhead_spread_ms: 0.0,
            decode_saturation_seqs: 0.0,
        };
        let mut server = Server::new(params, true);
        let decode_seqs = rng.random_range(1u64..300);
        let context = match rng.random_range(0..10) {
            0 => (1u64 << 53) - rng.random_range(0u64..2_000),
            1 => rng.random_range(0u64..1 << 60),
            _ => rng.random_range(0u64..1_000_000),
        };
        let step = Step {
            start: us(rng.random_range(0i64..1_000_000_000_000)),
            end: SimTime::ZERO,
            steps: rng.random_range(2u32..300),
            decode_seqs,
            context,
        };
        let end = server.plan_run(&step);
        let mut ends = Vec::new();
        let mut expected = step.start;
        for j in 0..step.steps {
            let context = context + u64::from(j) * decode_seqs;
            expected = expected.saturating_add(step_duration_reference(
                &params,
                (0, 0),
                decode_seqs,
                context,
            ));
            ends.push(expected);
        }
        assert_eq!(end, expected, "{params:?} {step:?}");
        if expected == SimTime::MAX {
            continue; // saturated: the ends are no longer distinct
        }
        let mut previous = step.start;
        for (j, &e) in ends.iter().enumerate() {
            let before = e - SimDuration::from_micros(1);
            assert_eq!(server.steps_ended_by(&step, before), (j as u32, e));
            assert_eq!(server.steps_ended_by(&step, previous), (j as u32, e));
            previous = e;
        }
        assert_eq!(server.steps_ended_by(&step, end), (step.steps, end));
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario spec and presets
// ---------------------------------------------------------------------------------------------

#[test]
fn preset_alone_resolves_to_its_values() {
    for preset in presets::PRESETS {
        let spec = ServerSpec {
            preset: Some(preset.name.to_string()),
            ..ServerSpec::default()
        };
        assert_eq!(spec.resolve(), Ok(preset.params), "{}", preset.name);
    }
    let a100 = presets::get("llama2-70b-8xa100").expect("preset");
    // A 1,000-token prompt in one step: 43 ms + 1000/5300 s.
    let prompt = StepWork {
        prefill_tokens: 1_000,
        ..StepWork::default()
    };
    assert_eq!(a100.step_duration(&prompt).as_micros(), 231_679);
    // 64 decoding sequences: 43 + 64 × 0.44 ms.
    assert_eq!(
        a100.step_duration(&StepWork::decode(64, 0)).as_micros(),
        71_160
    );
}

#[test]
fn fields_override_the_preset_and_stand_alone_without_one() {
    let spec: ServerSpec =
        serde_json::from_str(r#"{"preset": "llama2-70b-8xh100", "max_num_seqs": 32}"#)
            .expect("valid spec");
    let p = spec.resolve().expect("valid");
    assert_eq!(p.max_num_seqs, 32);
    assert_eq!(p.base_ms, 30.0);

    let spec: ServerSpec = serde_json::from_str(
        r#"{"max_num_seqs": 8, "max_num_batched_tokens": 512, "kv_cache_tokens": 4096,
            "base_ms": 5, "per_prefill_token_ms": 0.1, "per_decode_seq_ms": 0.2}"#,
    )
    .expect("valid spec");
    assert_eq!(
        spec.resolve(),
        Ok(ServerParams {
            max_num_seqs: 8,
            max_num_batched_tokens: 512,
            kv_cache_tokens: 4096,
            base_ms: 5.0,
            per_prefill_token_ms: 0.1,
            per_decode_seq_ms: 0.2,
            per_context_token_ms: 0.0,
            prefill_attention_ms: 0.0,
            request_overhead_ms: 0.0,
            request_overhead_spread_ms: 0.0,
            decode_saturation_seqs: 0.0,
        })
    );
}

#[test]
fn bad_specs_are_refused_with_the_field_name() {
    let preset = |name: &str| ServerSpec {
        preset: Some(name.to_string()),
        ..ServerSpec::default()
    };
    let err = preset("gpt-5-1xcpu").resolve().expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "unknown server preset `gpt-5-1xcpu` (known presets: llama2-70b-8xa100, \
         llama2-70b-8xh100, llama3-8b-1xh100, llama3-8b-1xa100, qwen3-32b-bf16-h100-tp2, \
         llama-3.1-70b-fp8-h100-tp4, llama-3.1-70b-fp8-h100-tp8, gpt-oss-120b-fp4-h100-tp2, \
         llama-3.1-8b-rtx4090, llama-3.1-8b-rtxpro6000)"
    );
    assert_eq!(
        ServerSpec::default().resolve(),
        Err(ServerSpecError::Missing {
            field: "max_num_seqs"
        })
    );
    let with = |f: fn(&mut ServerSpec)| {
        let mut spec = preset("llama3-8b-1xh100");
        f(&mut spec);
        spec.resolve()
    };
    assert_eq!(
        with(|s| s.kv_cache_tokens = Some(0)),
        Err(ServerSpecError::NotPositive {
            field: "kv_cache_tokens"
        })
    );
    assert_eq!(
        with(|s| s.max_num_seqs = Some(0)),
        Err(ServerSpecError::NotPositive {
            field: "max_num_seqs"
        })
    );
    assert_eq!(
        with(|s| s.per_decode_seq_ms = Some(-0.1)),
        Err(ServerSpecError::BadCost {
            field: "per_decode_seq_ms",
            value: -0.1
        })
    );
    assert_eq!(
        with(|s| s.decode_saturation_seqs = Some(f64::NAN)).map_err(|e| e.to_string()),
        Err(
            "`decode_saturation_seqs` must be a finite number of sequences, 0 or more (got NaN)"
                .to_string()
        )
    );
    assert_eq!(
        with(|s| s.max_num_batched_tokens = Some(100)),
        Err(ServerSpecError::BudgetBelowSeqs {
            tokens: 100,
            seqs: 256
        })
    );
    let unknown = serde_json::from_str::<ServerSpec>(r#"{"preset": "x", "max_seqs": 1}"#);
    assert!(unknown
        .expect_err("unknown field")
        .to_string()
        .contains("unknown field `max_seqs`"));
}

#[test]
fn a_saturating_decode_cost_charges_each_further_sequence_less() {
    let linear = simple(64, 8_192, 100_000);
    let saturating = ServerParams {
        decode_saturation_seqs: 16.0,
        ..linear
    };
    // Without a saturation, the term is the per-sequence cost times the batch, as it was.
    assert_eq!(linear.decode_ms(7), 7.0);
    // With one: about linear in a small batch, never above it, and approaching
    // `per_decode_seq_ms × S` (16 ms) as the batch grows, each sequence adding less.
    assert!((saturating.decode_ms(1) - 16.0 * (1.0 - (-1.0f64 / 16.0).exp())).abs() < 1e-12);
    let costs: Vec<f64> = (0..=200).map(|d| saturating.decode_ms(d)).collect();
    assert_eq!(costs[0], 0.0);
    for d in 1..costs.len() {
        let added = costs[d] - costs[d - 1];
        assert!(added > 0.0 && costs[d] <= linear.decode_ms(d as u64), "{d}");
        if d > 1 {
            assert!(added < costs[d - 1] - costs[d - 2], "{d}");
        }
    }
    assert!((costs[200] - 16.0).abs() < 1e-4);
    // A step pays it: two decodes cost 10 + 2 × 1 ms without the saturation.
    let work = StepWork::decode(2, 0);
    assert_eq!(
        linear.step_duration(&work),
        SimDuration::from_micros(12_000)
    );
    let want = (10.0 + saturating.decode_ms(2)) * 1_000.0;
    assert_eq!(
        saturating.step_duration(&work),
        SimDuration::from_micros(want.round() as i64)
    );
}
