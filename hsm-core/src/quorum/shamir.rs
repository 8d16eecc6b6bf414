//! Shamir's secret sharing over GF(2^8), byte by byte.
//!
//! Written by hand so that every operation on secret bytes is constant time: multiplication is
//! shift-and-add with masks (no log/exp tables indexed by secret data) and inversion is a fixed
//! exponentiation. The field is the AES one, reduced by x^8 + x^4 + x^3 + x + 1.

use std::fmt;

use crate::secret::SecretBytes;

/// Errors of splitting and combining; they carry only public values (counts, x-coordinates).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShamirError {
    #[error("threshold must be at least 1")]
    ZeroThreshold,
    #[error("number of shares must be at least 1")]
    ZeroShares,
    #[error("threshold {threshold} is larger than the number of shares {shares}")]
    ThresholdAboveShares { threshold: u8, shares: u8 },
    #[error("the secret to share is empty")]
    EmptySecret,
    #[error("no shares given")]
    NoShares,
    #[error("a share has x-coordinate 0, which would be the secret itself: invalid share")]
    ZeroX,
    #[error("two shares have the same x-coordinate {x}")]
    DuplicateX { x: u8 },
    #[error("shares have different lengths ({first} and {other} bytes)")]
    LengthMismatch { first: usize, other: usize },
    #[error("the operating system's random number generator failed")]
    Rng,
}

/// One share: the polynomials evaluated at `x` (public), one byte of `y` per secret byte.
#[derive(Clone)]
pub struct Share {
    pub x: u8,
    pub y: SecretBytes,
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Share {{ x: {}, y: [REDACTED; {}] }}",
            self.x,
            self.y.len()
        )
    }
}

/// Multiplies in GF(2^8) in constant time: eight fixed rounds, masks instead of branches.
pub(crate) fn gf_mul(a: u8, b: u8) -> u8 {
    let mut a = a;
    let mut b = b;
    let mut product = 0u8;
    for _ in 0..8 {
        // 0xFF when the low bit of b is set, 0x00 otherwise.
        product ^= a & (b & 1).wrapping_neg();
        let carry = (a >> 7).wrapping_neg();
        a = (a << 1) ^ (0x1B & carry);
        b >>= 1;
    }
    product
}

/// Inverts in GF(2^8) as a^254 (so 0 maps to 0); the exponent is fixed, hence constant time.
pub(crate) fn gf_inv(a: u8) -> u8 {
    // 254 = 0b1111_1110: square-and-multiply over a public exponent.
    let a2 = gf_mul(a, a);
    let a3 = gf_mul(a2, a);
    let a6 = gf_mul(a3, a3);
    let a12 = gf_mul(a6, a6);
    let a15 = gf_mul(a12, a3);
    let a30 = gf_mul(a15, a15);
    let a60 = gf_mul(a30, a30);
    let a63 = gf_mul(a60, a3);
    let a126 = gf_mul(a63, a63);
    let a127 = gf_mul(a126, a);
    gf_mul(a127, a127)
}

/// Splits `secret` into `shares` shares (x = 1..=shares) of which any `threshold` rebuild it.
///
/// Every coefficient but the constant one is drawn from the OS RNG for every byte position.
pub fn split(secret: &[u8], threshold: u8, shares: u8) -> Result<Vec<Share>, ShamirError> {
    if threshold == 0 {
        return Err(ShamirError::ZeroThreshold);
    }
    if shares == 0 {
        return Err(ShamirError::ZeroShares);
    }
    if threshold > shares {
        return Err(ShamirError::ThresholdAboveShares { threshold, shares });
    }
    if secret.is_empty() {
        return Err(ShamirError::EmptySecret);
    }
    let len = secret.len();
    let degree = usize::from(threshold) - 1;
    // coefficient j (1..=degree) of byte i lives at (j - 1) * len + i.
    let coeffs = SecretBytes::random(degree * len).map_err(|_| ShamirError::Rng)?;
    let coeffs = coeffs.expose();

    let mut out = Vec::with_capacity(usize::from(shares));
    for x in 1..=shares {
        let mut y = vec![0u8; len];
        for (i, (yi, &s)) in y.iter_mut().zip(secret).enumerate() {
            // Horner's rule from the highest coefficient down to the secret.
            let mut acc = 0u8;
            for j in (1..=degree).rev() {
                acc = gf_mul(acc, x) ^ coeffs[(j - 1) * len + i];
            }
            *yi = gf_mul(acc, x) ^ s;
        }
        out.push(Share {
            x,
            y: SecretBytes::new(y),
        });
    }
    Ok(out)
}

/// Rebuilds the secret from shares by Lagrange interpolation at x = 0.
///
/// With fewer shares than the threshold this returns a wrong value, not an error: Shamir shares
/// carry no threshold. Callers must check the result (the quorum code uses a key-check value).
pub fn combine(shares: &[Share]) -> Result<SecretBytes, ShamirError> {
    let first = shares.first().ok_or(ShamirError::NoShares)?;
    let len = first.y.len();
    if len == 0 {
        return Err(ShamirError::EmptySecret);
    }
    let mut seen = [false; 256];
    for share in shares {
        if share.x == 0 {
            return Err(ShamirError::ZeroX);
        }
        if std::mem::replace(&mut seen[usize::from(share.x)], true) {
            return Err(ShamirError::DuplicateX { x: share.x });
        }
        if share.y.len() != len {
            return Err(ShamirError::LengthMismatch {
                first: len,
                other: share.y.len(),
            });
        }
    }

    // Lagrange basis at 0: l_j = prod_{m != j} x_m / (x_m - x_j); subtraction is xor.
    let mut secret = vec![0u8; len];
    for (j, share_j) in shares.iter().enumerate() {
        let mut num = 1u8;
        let mut den = 1u8;
        for (m, share_m) in shares.iter().enumerate() {
            if m != j {
                num = gf_mul(num, share_m.x);
                den = gf_mul(den, share_m.x ^ share_j.x);
            }
        }
        let basis = gf_mul(num, gf_inv(den));
        for (s, &y) in secret.iter_mut().zip(share_j.y.expose()) {
            *s ^= gf_mul(basis, y);
        }
    }
    Ok(SecretBytes::new(secret))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    /// Textbook carry-less multiply then reduce, with branches: the slow reference.
    fn slow_mul(a: u8, b: u8) -> u8 {
        let mut wide: u16 = 0;
        for bit in 0..8 {
            if b & (1 << bit) != 0 {
                wide ^= u16::from(a) << bit;
            }
        }
        for bit in (8..16).rev() {
            if wide & (1 << bit) != 0 {
                wide ^= 0x11B << (bit - 8);
            }
        }
        wide as u8
    }

    #[test]
    fn mul_matches_slow_reference_on_all_pairs() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(gf_mul(a, b), slow_mul(a, b), "{a} * {b}");
            }
        }
    }

    #[test]
    fn known_products() {
        // FIPS-197 section 4.2: {57} * {83} = {c1}, {57} * {13} = {fe}.
        assert_eq!(gf_mul(0x57, 0x83), 0xC1);
        assert_eq!(gf_mul(0x57, 0x13), 0xFE);
        // x * x^7 = x^8 = x^4 + x^3 + x + 1.
        assert_eq!(gf_mul(0x02, 0x80), 0x1B);
    }

    #[test]
    fn field_axioms_spot_checks() {
        let samples = [0u8, 1, 2, 3, 0x53, 0x57, 0x83, 0xCA, 0xFE, 0xFF];
        for &a in &samples {
            assert_eq!(gf_mul(a, 1), a);
            assert_eq!(gf_mul(a, 0), 0);
            for &b in &samples {
                assert_eq!(gf_mul(a, b), gf_mul(b, a));
                for &c in &samples {
                    assert_eq!(gf_mul(gf_mul(a, b), c), gf_mul(a, gf_mul(b, c)));
                    assert_eq!(gf_mul(a, b ^ c), gf_mul(a, b) ^ gf_mul(a, c));
                }
            }
        }
    }

    #[test]
    fn every_nonzero_element_has_its_inverse() {
        assert_eq!(gf_inv(0), 0);
        for a in 1..=255u8 {
            assert_eq!(gf_mul(a, gf_inv(a)), 1, "{a}");
        }
        // FIPS-197 section 4.2.1: {53} and {ca} are inverses.
        assert_eq!(gf_inv(0x53), 0xCA);
    }

    #[test]
    fn parameter_errors() {
        assert_eq!(split(b"s", 0, 3).unwrap_err(), ShamirError::ZeroThreshold);
        assert_eq!(split(b"s", 1, 0).unwrap_err(), ShamirError::ZeroShares);
        assert_eq!(
            split(b"s", 4, 3).unwrap_err(),
            ShamirError::ThresholdAboveShares {
                threshold: 4,
                shares: 3
            }
        );
        assert_eq!(split(b"", 2, 3).unwrap_err(), ShamirError::EmptySecret);
        assert_eq!(split(b"s", 255, 255).unwrap().len(), 255);
    }

    #[test]
    fn combine_errors() {
        let shares = split(b"secret", 2, 3).unwrap();
        assert_eq!(combine(&[]).unwrap_err(), ShamirError::NoShares);
        let dup = [shares[0].clone(), shares[1].clone(), shares[0].clone()];
        assert_eq!(combine(&dup).unwrap_err(), ShamirError::DuplicateX { x: 1 });
        let zero = [
            shares[0].clone(),
            Share {
                x: 0,
                y: SecretBytes::from_slice(b"secret"),
            },
        ];
        assert_eq!(combine(&zero).unwrap_err(), ShamirError::ZeroX);
        let short = [
            shares[0].clone(),
            Share {
                x: 9,
                y: SecretBytes::from_slice(b"secre"),
            },
        ];
        assert_eq!(
            combine(&short).unwrap_err(),
            ShamirError::LengthMismatch { first: 6, other: 5 }
        );
        let empty = [Share {
            x: 1,
            y: SecretBytes::new(Vec::new()),
        }];
        assert_eq!(combine(&empty).unwrap_err(), ShamirError::EmptySecret);
    }

    #[test]
    fn threshold_one_shares_are_the_secret() {
        for share in split(b"abc", 1, 4).unwrap() {
            assert_eq!(share.y.expose(), b"abc");
        }
    }

    #[test]
    fn shares_differ_between_splits() {
        let a = split(&[7u8; 32], 3, 5).unwrap();
        let b = split(&[7u8; 32], 3, 5).unwrap();
        assert_ne!(a[0].y.expose(), b[0].y.expose());
    }

    #[test]
    fn debug_is_redacted() {
        let shares = split(b"hunter2hunter2", 2, 2).unwrap();
        let shown = format!("{shares:?}");
        assert!(
            shown.contains("REDACTED") && shown.contains("x: 2"),
            "{shown}"
        );
        for s in &shares {
            assert!(!shown.contains(&format!("{:?}", s.y.expose())));
        }
    }

    /// Lexicographic successor of a sorted index combination; false after the last one.
    fn next_combination(idx: &mut [usize], n: usize) -> bool {
        let k = idx.len();
        for i in (0..k).rev() {
            if idx[i] < n - k + i {
                idx[i] += 1;
                for j in i + 1..k {
                    idx[j] = idx[j - 1] + 1;
                }
                return true;
            }
        }
        false
    }

    fn binomial(n: usize, k: usize) -> u64 {
        (0..k as u64).fold(1, |acc, i| acc * (n as u64 - i) / (i + 1))
    }

    /// Small deterministic generator for sampling subsets from a proptest-chosen seed.
    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn random_subset(n: usize, k: usize, state: &mut u64) -> Vec<usize> {
        // Partial Fisher-Yates shuffle.
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + (splitmix(state) % (n - i) as u64) as usize;
            all.swap(i, j);
        }
        let mut subset = all[..k].to_vec();
        subset.sort_unstable();
        subset
    }

    /// Above this many subsets we sample instead of enumerating, to keep the suite fast.
    const ENUMERATE_MAX: u64 = 2000;
    /// Subsets drawn when enumeration would be too large.
    const SAMPLES: usize = 300;

    /// All k-subsets of 0..n if there are at most ENUMERATE_MAX of them, else SAMPLES random ones.
    fn subsets(n: usize, k: usize, seed: u64) -> Vec<Vec<usize>> {
        if binomial(n, k) <= ENUMERATE_MAX {
            let mut idx: Vec<usize> = (0..k).collect();
            let mut out = vec![idx.clone()];
            while next_combination(&mut idx, n) {
                out.push(idx.clone());
            }
            assert_eq!(out.len() as u64, binomial(n, k));
            out
        } else {
            let mut state = seed;
            (0..SAMPLES)
                .map(|_| random_subset(n, k, &mut state))
                .collect()
        }
    }

    fn pick(shares: &[Share], idx: &[usize]) -> Vec<Share> {
        idx.iter().map(|&i| shares[i].clone()).collect()
    }

    /// The core property for one (M, N): every M-subset rebuilds, no (M-1)-subset does.
    fn check_threshold(m: u8, n: u8, secret: &[u8], seed: u64) -> Result<(), TestCaseError> {
        let shares = split(secret, m, n).unwrap();
        prop_assert_eq!(shares.len(), usize::from(n));
        let (m, n) = (usize::from(m), usize::from(n));
        for subset in subsets(n, m, seed) {
            let got = combine(&pick(&shares, &subset)).unwrap();
            prop_assert_eq!(got.expose(), secret, "M={} N={} subset {:?}", m, n, subset);
        }
        let all = combine(&shares).unwrap();
        prop_assert_eq!(all.expose(), secret);
        if m >= 2 {
            for subset in subsets(n, m - 1, seed ^ 0x5555) {
                let got = combine(&pick(&shares, &subset)).unwrap();
                prop_assert_ne!(got.expose(), secret, "M={} N={} subset {:?}", m, n, subset);
            }
        }
        Ok(())
    }

    /// Covers the whole grid 1 <= M <= N <= 16, M <= 10 (proptest picks the secret and the
    /// sampling seed for each cell). Subsets are enumerated exhaustively where C(N, M) <= 2000
    /// (all cells with N <= 11, and the edges of the larger ones) and sampled (300 random
    /// subsets) otherwise, e.g. 8-of-16 with its 12870 subsets.
    #[test]
    fn every_quorum_rebuilds_and_no_smaller_set_does_full_grid() {
        for n in 1..=16u8 {
            for m in 1..=n.min(10) {
                let mut runner = TestRunner::new(Config {
                    cases: 1,
                    failure_persistence: None,
                    ..Config::default()
                });
                runner
                    .run(
                        &(prop::collection::vec(any::<u8>(), 32), any::<u64>()),
                        |(secret, seed)| check_threshold(m, n, &secret, seed),
                    )
                    .unwrap();
            }
        }
    }

    proptest! {
        #![proptest_config(Config { cases: 48, failure_persistence: None, ..Config::default() })]

        /// Random (M, N) in the grid with secrets of any length, down to one byte (the grid test
        /// above uses 32-byte secrets, long enough for its (M-1)-subset check to be meaningful).
        #[test]
        fn random_grid_cells_with_any_secret_length(
            (m, n) in (1..=16u8).prop_flat_map(|n| (1..=n.min(10), Just(n))),
            secret in prop::collection::vec(any::<u8>(), 1..=64),
            seed in any::<u64>(),
        ) {
            let shares = split(&secret, m, n).unwrap();
            let mut state = seed;
            for _ in 0..20 {
                let idx = random_subset(usize::from(n), usize::from(m), &mut state);
                let got = combine(&pick(&shares, &idx)).unwrap();
                prop_assert_eq!(got.expose(), &secret[..]);
            }
        }

        /// Share order does not matter, and extra shares beyond M do not hurt.
        #[test]
        fn order_and_surplus_do_not_matter(
            secret in prop::collection::vec(any::<u8>(), 32),
            seed in any::<u64>(),
        ) {
            let shares = split(&secret, 4, 9).unwrap();
            let mut state = seed;
            let k = 4 + (splitmix(&mut state) % 6) as usize;
            let mut idx = random_subset(9, k, &mut state);
            idx.reverse();
            let got = combine(&pick(&shares, &idx)).unwrap();
            prop_assert_eq!(got.expose(), &secret[..]);
        }
    }
}
