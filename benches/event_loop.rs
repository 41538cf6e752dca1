//! The core event loop alone: a queue holding 10 000 pending events (a busy simulation's
//! order of magnitude), each popped event scheduling its successor a pseudo-random delay
//! later — events per second of the DES core without any model work.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kthena_sim::sim::{EventQueue, SimDuration, SimTime};

/// A small `Copy` event, like the simulator's.
#[derive(Clone, Copy)]
struct Ev {
    unit: u32,
}

fn event_loop(c: &mut Criterion) {
    const PENDING: u64 = 10_000;
    const EVENTS: u64 = 1_000_000;
    let mut g = c.benchmark_group("event loop");
    g.throughput(Throughput::Elements(EVENTS));
    g.bench_function("1 M events, 10 k pending", |b| {
        b.iter(|| {
            let mut q = EventQueue::new();
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
            for i in 0..PENDING {
                q.push(
                    SimTime::from_micros(i as i64),
                    (i % 3) as u8,
                    Ev { unit: i as u32 },
                );
            }
            let mut handled = 0u64;
            while handled < EVENTS {
                let Some((t, ev)) = q.pop() else { break };
                // xorshift: the next delay, 1..=65 536 µs.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                q.push(
                    t + SimDuration::from_micros(1 + (x & 0xFFFF) as i64),
                    (ev.unit % 3) as u8,
                    Ev {
                        unit: black_box(ev.unit),
                    },
                );
                handled += 1;
            }
            black_box(q.len())
        })
    });
    g.finish();
}

criterion_group!(benches, event_loop);
criterion_main!(benches);
