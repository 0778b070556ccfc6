//! Seeded random streams (SPEC 5).
//!
//! A job draws from three independent ChaCha streams: data, init and shuffle.
//! Each stream's key is the job's seed; its ChaCha *stream id* is a stable hash
//! of a tag and of the parameters that stream depends on, and nothing else. So
//! two jobs that differ only in, say, the learning rate see the same data and
//! the same initial weights (common random numbers: comparisons are paired).
//!
//! Sampling is done here by hand (`uniform01`, `below`) rather than through
//! `rand`'s distributions, so a dependency upgrade can never change results.

use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha12Rng;

/// The random generator every stream uses.
pub type Rng = ChaCha12Rng;

/// 64-bit FNV-1a: a tiny, stable, documented hash (unlike `DefaultHasher`,
/// whose output may change between Rust releases).
#[derive(Debug, Clone, Copy)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    pub fn bytes(mut self, bytes: &[u8]) -> Self {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    /// Hashes a field followed by a separator, so `("ab","c")` != `("a","bc")`.
    pub fn field(self, s: &str) -> Self {
        self.bytes(s.as_bytes()).bytes(&[0xff])
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

/// Hash of a byte string, as 16 lowercase hex digits.
pub fn hex_hash(bytes: &[u8]) -> String {
    format!("{:016x}", Fnv64::default().bytes(bytes).finish())
}

/// A stream keyed by `seed`, identified by `tag` and the `parts` it depends on.
pub fn stream(seed: u64, tag: &str, parts: &[&str]) -> Rng {
    let mut h = Fnv64::default().field(tag);
    for p in parts {
        h = h.field(p);
    }
    let mut rng = Rng::seed_from_u64(seed);
    rng.set_stream(h.finish());
    rng
}

/// Uniform in [0, 1) with 53 random bits.
pub fn uniform01(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform integer in `0..n` (n > 0), unbiased (Lemire's multiply-and-reject).
pub fn below(rng: &mut Rng, n: u64) -> u64 {
    debug_assert!(n > 0);
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        if (m as u64) >= threshold {
            return (m >> 64) as u64;
        }
    }
}

/// Standard normal draw (Box-Muller on two uniforms; the second value is
/// discarded so each call consumes a fixed two draws, which keeps the streams
/// aligned whatever the caller does with the value).
pub fn normal(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - uniform01(rng); // (0, 1]: ln is finite
    let u2 = uniform01(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Fisher-Yates shuffle in place; allocates nothing.
pub fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_tag_and_parts_but_not_by_call() {
        let a = stream(3, "data", &["linear", "100"]).next_u64();
        let b = stream(3, "data", &["linear", "100"]).next_u64();
        let c = stream(3, "init", &["linear", "100"]).next_u64();
        let d = stream(3, "data", &["linear", "101"]).next_u64();
        let e = stream(4, "data", &["linear", "100"]).next_u64();
        assert_eq!(a, b);
        assert!(a != c && a != d && a != e);
    }

    #[test]
    fn field_separator_prevents_concatenation_collisions() {
        let ab_c = Fnv64::default().field("ab").field("c").finish();
        let a_bc = Fnv64::default().field("a").field("bc").finish();
        assert_ne!(ab_c, a_bc);
    }

    #[test]
    fn fnv_matches_reference_vectors() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(Fnv64::default().finish(), 0xcbf29ce484222325);
        assert_eq!(Fnv64::default().bytes(b"a").finish(), 0xaf63dc4c8601ec8c);
        assert_eq!(Fnv64::default().bytes(b"foobar").finish(), 0x85944171f73967e8);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = stream(0, "t", &[]);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            seen[below(&mut rng, 7) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800 && c < 1200), "{seen:?}");
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut rng = stream(1, "t", &[]);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "var {var}");
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = stream(2, "t", &[]);
        let mut v: Vec<usize> = (0..50).collect();
        shuffle(&mut rng, &mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(v, sorted);
    }
}
