//! Random numbers, hashing and weighted choice.

use rand::RngCore;
use rand::rngs::SmallRng;

/// The generator's random source (xoshiro via `SmallRng`) with the few draws it needs.
pub(crate) struct Rand(pub(crate) SmallRng);

impl Rand {
    #[inline]
    pub(crate) fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in `0..n` (`n > 0`), by multiply-shift.
    #[inline]
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.0.next_u32()) * u64::from(n)) >> 32) as u32
    }
    /// Uniform in `lo..=hi`.
    #[inline]
    pub(crate) fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }
    /// Uniform in `[0, 1)`.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Roughly standard normal (Irwin–Hall with four uniforms), bounded to ±3.5.
    #[inline]
    pub(crate) fn normalish(&mut self) -> f64 {
        let s = self.unit() + self.unit() + self.unit() + self.unit();
        (s - 2.0) * 1.732_050_807_568_877_2
    }
    /// Log-normal around `median` with shape `sigma`.
    #[inline]
    pub(crate) fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normalish()).exp()
    }
}

/// SplitMix64 finaliser: a stateless hash for per-client attributes.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Zipf over ranks 1..=n, mapped to ids through a seeded permutation (so the hot ids are not
/// simply 1, 2, 3 …).
pub(crate) struct Zipf {
    pub(crate) cdf: Vec<f64>,
    pub(crate) ids: Vec<u32>,
}

impl Zipf {
    pub(crate) fn new(n: usize, s: f64, rng: &mut Rand) -> Self {
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0;
        for k in 1..=n {
            acc += (k as f64).powf(-s);
            cdf.push(acc);
        }
        for c in &mut cdf {
            *c /= acc;
        }
        let mut ids: Vec<u32> = (1..=n as u32).collect();
        for i in (1..n).rev() {
            let j = rng.below(i as u32 + 1) as usize;
            ids.swap(i, j);
        }
        Self { cdf, ids }
    }

    #[inline]
    pub(crate) fn sample(&self, rng: &mut Rand) -> u32 {
        let u = rng.unit();
        let i = self
            .cdf
            .partition_point(|&c| c <= u)
            .min(self.ids.len() - 1);
        self.ids[i]
    }

    /// Index (rank - 1) instead of the mapped id.
    #[inline]
    pub(crate) fn sample_rank(&self, rng: &mut Rand) -> u32 {
        let u = rng.unit();
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.ids.len() - 1) as u32
    }
}

/// Weighted choice among a few items.
pub(crate) struct Picker<T: Copy> {
    pub(crate) cum: Vec<u32>,
    pub(crate) items: Vec<T>,
}

impl<T: Copy> Picker<T> {
    pub(crate) fn new(weighted: &[(u32, T)]) -> Self {
        let mut cum = Vec::with_capacity(weighted.len());
        let mut items = Vec::with_capacity(weighted.len());
        let mut acc = 0;
        for &(w, item) in weighted {
            if w > 0 {
                acc += w;
                cum.push(acc);
                items.push(item);
            }
        }
        assert!(acc > 0, "a picker needs a positive weight");
        Self { cum, items }
    }

    #[inline]
    pub(crate) fn pick(&self, rng: &mut Rand) -> T {
        let total = self.cum[self.cum.len() - 1];
        let x = rng.below(total);
        let i = self.cum.partition_point(|&c| c <= x);
        self.items[i]
    }
}
