//! Seeded, named random streams. Each consumer (`arrivals`, `input_tokens`, `startup`, …)
//! draws from its own ChaCha8 stream, seeded from the scenario seed and the stream's name,
//! so adding a consumer or drawing more from one never changes the others.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator every stream uses.
pub type Stream = ChaCha8Rng;

/// FNV-1a: a fixed, documented hash, stable across Rust versions and platforms.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The seed of replication `r` (0-based) of a run seeded with `seed`: replication 0 is the
/// run itself, the others spread by SplitMix64. Every variant of a comparison derives its
/// replications from the same seed, so replication r of each sees the same arrivals, token
/// lengths and startup draws (common random numbers).
pub fn replication_seed(seed: u64, r: usize) -> u64 {
    if r == 0 {
        return seed;
    }
    let mut z = seed.wrapping_add((r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream `name` of the run seeded with `seed`.
pub fn stream(seed: u64, name: &str) -> Stream {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&fnv1a(name.as_bytes()).to_le_bytes());
    key[16..24].copy_from_slice(&(name.len() as u64).to_le_bytes());
    ChaCha8Rng::from_seed(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = stream(7, "arrivals");
                move |_| r.random()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = stream(7, "arrivals");
                move |_| r.random()
            })
            .collect();
        let c: Vec<u64> = (0..4)
            .map({
                let mut r = stream(7, "startup");
                move |_| r.random()
            })
            .collect();
        let d: Vec<u64> = (0..4)
            .map({
                let mut r = stream(8, "arrivals");
                move |_| r.random()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
