//! MD5, the INSDC interchange digest, of one stream or of two at once.
//!
//! MD5 is one long chain: each of a block's 64 steps needs the result of the step before, so a
//! stream is hashed at the speed of that chain whatever the width of the processor. Two
//! streams can share it: their states sit in two lanes of one vector register, and every
//! instruction of a step works on both, so the two files of a pair are hashed in the time of
//! one. With AVX-512 a step is four dependent instructions (its three-input logic instruction
//! computes MD5's bit functions in one, and it rotates in one); elsewhere a portable version
//! hashes one stream at a time.
//!
//! On the benchmark machine (`examples/checksums.rs` on a 234 MB file): one stream 656 MB/s, against
//! 623 MB/s for the `md-5` crate's assembler; two streams together 1,339 MB/s.

use seqbank_core::Md5;

use crate::blocks::{Algorithm, Block, Hasher};

/// The sines of RFC 1321 §3.4: `K[i]` is the integer part of `abs(sin(i + 1)) * 2^32`.
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// The message word step `i` adds (RFC 1321 §3.4, rounds 1 to 4).
const fn word(i: usize) -> usize {
    match i / 16 {
        0 => i % 16,
        1 => (1 + 5 * i) % 16,
        2 => (5 + 3 * i) % 16,
        _ => (7 * i) % 16,
    }
}

/// Expands to the 64 steps of a block: `$step!(a, b, c, d, i, rotation)` with the state
/// variables in the order that step uses them.
macro_rules! all_steps {
    ($step:ident, $a:ident, $b:ident, $c:ident, $d:ident) => {
        all_steps!(@four $step, $a, $b, $c, $d, 0, 7, 12, 17, 22);
        all_steps!(@four $step, $a, $b, $c, $d, 4, 7, 12, 17, 22);
        all_steps!(@four $step, $a, $b, $c, $d, 8, 7, 12, 17, 22);
        all_steps!(@four $step, $a, $b, $c, $d, 12, 7, 12, 17, 22);
        all_steps!(@four $step, $a, $b, $c, $d, 16, 5, 9, 14, 20);
        all_steps!(@four $step, $a, $b, $c, $d, 20, 5, 9, 14, 20);
        all_steps!(@four $step, $a, $b, $c, $d, 24, 5, 9, 14, 20);
        all_steps!(@four $step, $a, $b, $c, $d, 28, 5, 9, 14, 20);
        all_steps!(@four $step, $a, $b, $c, $d, 32, 4, 11, 16, 23);
        all_steps!(@four $step, $a, $b, $c, $d, 36, 4, 11, 16, 23);
        all_steps!(@four $step, $a, $b, $c, $d, 40, 4, 11, 16, 23);
        all_steps!(@four $step, $a, $b, $c, $d, 44, 4, 11, 16, 23);
        all_steps!(@four $step, $a, $b, $c, $d, 48, 6, 10, 15, 21);
        all_steps!(@four $step, $a, $b, $c, $d, 52, 6, 10, 15, 21);
        all_steps!(@four $step, $a, $b, $c, $d, 56, 6, 10, 15, 21);
        all_steps!(@four $step, $a, $b, $c, $d, 60, 6, 10, 15, 21);
    };
    (@four $step:ident, $a:ident, $b:ident, $c:ident, $d:ident,
     $i:literal, $r0:literal, $r1:literal, $r2:literal, $r3:literal) => {
        $step!($a, $b, $c, $d, $i, $r0);
        $step!($d, $a, $b, $c, $i + 1, $r1);
        $step!($c, $d, $a, $b, $i + 2, $r2);
        $step!($b, $c, $d, $a, $i + 3, $r3);
    };
}

/// An MD5 computation over bytes given piece by piece.
///
/// # Examples
///
/// ```
/// use seqbank_formats::md5::Md5Hasher;
///
/// let mut hasher = Md5Hasher::new();
/// hasher.update(b"ab");
/// hasher.update(b"c");
/// assert_eq!(hasher.finalize().to_string(), "900150983cd24fb0d6963f7d28e17f72");
/// ```
pub type Md5Hasher = Hasher<Md5Blocks>;

/// MD5 as a block [`Algorithm`].
#[derive(Clone, Copy, Debug)]
pub struct Md5Blocks;

impl Algorithm for Md5Blocks {
    type State = [u32; 4];
    type Digest = Md5;
    const INITIAL: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

    fn compress(state: &mut [u32; 4], blocks: &[Block]) {
        compress(state, blocks);
    }

    fn compress_two(first: &mut [u32; 4], a: &[Block], second: &mut [u32; 4], b: &[Block]) {
        compress_two(first, a, second, b);
    }

    fn length(bits: u64) -> [u8; 8] {
        bits.to_le_bytes()
    }

    fn digest(state: [u32; 4]) -> Md5 {
        let mut digest = [0u8; 16];
        for (out, word) in digest.chunks_exact_mut(4).zip(state) {
            out.copy_from_slice(&word.to_le_bytes());
        }
        Md5::from_bytes(digest)
    }
}

fn compress(state: &mut [u32; 4], blocks: &[Block]) {
    #[cfg(target_arch = "x86_64")]
    if x86::available() {
        x86::compress_checked(state, blocks);
        return;
    }
    portable::compress(state, blocks);
}

fn compress_two(first: &mut [u32; 4], a: &[Block], second: &mut [u32; 4], b: &[Block]) {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if x86::available() {
        x86::compress_two_checked(first, a, second, b);
        return;
    }
    portable::compress(first, a);
    portable::compress(second, b);
}

fn message(block: &Block) -> [u32; 16] {
    let mut m = [0u32; 16];
    for (word, bytes) in m.iter_mut().zip(block.as_chunks::<4>().0) {
        *word = u32::from_le_bytes(*bytes);
    }
    m
}

/// One stream in general-purpose registers, for any processor.
mod portable {
    use super::{Block, K, message, word};

    pub(super) fn compress(state: &mut [u32; 4], blocks: &[Block]) {
        let [mut a, mut b, mut c, mut d] = *state;
        for block in blocks {
            let m = message(block);
            let (a0, b0, c0, d0) = (a, b, c, d);
            // Each step adds what does not depend on the previous step's result (`$b`) first,
            // so that only the bit function, one addition, the rotation and the last addition
            // wait for it.
            macro_rules! step {
                ($a:ident, $b:ident, $c:ident, $d:ident, $i:expr, $r:literal) => {{
                    const I: usize = $i;
                    let early = $a.wrapping_add(m[word(I)].wrapping_add(K[I]));
                    let sum = match I / 16 {
                        0 => early.wrapping_add($d ^ ($b & ($c ^ $d))),
                        // G's two halves have no bit in common, so OR is an addition, and the
                        // half without `$b` is added early.
                        1 => early.wrapping_add($c & !$d).wrapping_add($b & $d),
                        2 => early.wrapping_add($b ^ ($c ^ $d)),
                        _ => early.wrapping_add($c ^ ($b | !$d)),
                    };
                    $a = $b.wrapping_add(sum.rotate_left($r));
                }};
            }
            all_steps!(step, a, b, c, d);
            a = a.wrapping_add(a0);
            b = b.wrapping_add(b0);
            c = c.wrapping_add(c0);
            d = d.wrapping_add(d0);
        }
        *state = [a, b, c, d];
    }
}

/// AVX-512 (F and VL): one stream, or two in the lanes of one register.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use std::arch::x86_64::{
        __m128i, __m512i, _mm_add_epi32, _mm_cvtsi32_si128, _mm_cvtsi128_si32, _mm_extract_epi32,
        _mm_loadl_epi64, _mm_rol_epi32, _mm_set_epi32, _mm_ternarylogic_epi32, _mm512_add_epi32,
        _mm512_loadu_si512, _mm512_permutex2var_epi32, _mm512_permutexvar_epi32,
        _mm512_storeu_si512,
    };
    use std::sync::OnceLock;

    use super::{Block, K, message, word};

    // The bit functions as truth tables of (b, c, d) for the three-input logic instruction:
    // F = (b & c) | (!b & d), G = (b & d) | (c & !d), H = b ^ c ^ d, I = c ^ (b | !d).
    const F: i32 = 0xca;
    const G: i32 = 0xe4;
    const H: i32 = 0x96;
    const I: i32 = 0x39;

    pub(super) fn available() -> bool {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl")
        })
    }

    pub(super) fn compress_checked(state: &mut [u32; 4], blocks: &[Block]) {
        assert!(available());
        // SAFETY: the processor has AVX-512 F and VL, asserted just above.
        unsafe { compress(state, blocks) }
    }

    pub(super) fn compress_two_checked(
        first: &mut [u32; 4],
        a: &[Block],
        second: &mut [u32; 4],
        b: &[Block],
    ) {
        assert!(available());
        assert_eq!(a.len(), b.len());
        // SAFETY: the processor has AVX-512 F and VL, asserted just above.
        unsafe { compress_two(first, a, second, b) }
    }

    /// The rounds' step functions on lane vectors; `$mk` is the step's message word plus
    /// constant, lane by lane.
    macro_rules! vector_step {
        ($a:ident, $b:ident, $c:ident, $d:ident, $i:expr, $r:literal, $mk:expr) => {{
            const STEP: usize = $i;
            let early = _mm_add_epi32($a, $mk);
            let f = match STEP / 16 {
                0 => _mm_ternarylogic_epi32::<F>($b, $c, $d),
                1 => _mm_ternarylogic_epi32::<G>($b, $c, $d),
                2 => _mm_ternarylogic_epi32::<H>($b, $c, $d),
                _ => _mm_ternarylogic_epi32::<I>($b, $c, $d),
            };
            $a = _mm_add_epi32($b, _mm_rol_epi32::<$r>(_mm_add_epi32(early, f)));
        }};
    }

    #[target_feature(enable = "avx512f,avx512vl")]
    fn compress(state: &mut [u32; 4], blocks: &[Block]) {
        let lane = |x: u32| _mm_cvtsi32_si128(x as i32);
        let (mut a, mut b, mut c, mut d) = (
            lane(state[0]),
            lane(state[1]),
            lane(state[2]),
            lane(state[3]),
        );
        for block in blocks {
            let m = message(block);
            let (a0, b0, c0, d0) = (a, b, c, d);
            macro_rules! step {
                ($a:ident, $b:ident, $c:ident, $d:ident, $i:expr, $r:literal) => {
                    vector_step!($a, $b, $c, $d, $i, $r, {
                        const STEP: usize = $i;
                        lane(m[word(STEP)].wrapping_add(K[STEP]))
                    })
                };
            }
            all_steps!(step, a, b, c, d);
            a = _mm_add_epi32(a, a0);
            b = _mm_add_epi32(b, b0);
            c = _mm_add_epi32(c, c0);
            d = _mm_add_epi32(d, d0);
        }
        let value = |v: __m128i| _mm_cvtsi128_si32(v) as u32;
        *state = [value(a), value(b), value(c), value(d)];
    }

    /// Sixteen 32-bit values as a vector.
    #[target_feature(enable = "avx512f")]
    fn vector(values: &[i32; 16]) -> __m512i {
        // SAFETY: reads the 64 bytes of `values`; the load has no alignment requirement.
        unsafe { _mm512_loadu_si512(values.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx512f,avx512vl")]
    fn compress_two(
        first: &mut [u32; 4],
        a_blocks: &[Block],
        second: &mut [u32; 4],
        b_blocks: &[Block],
    ) {
        // Lane 0 holds the first stream, lane 1 the second.
        let lanes = |k: usize| _mm_set_epi32(0, 0, second[k] as i32, first[k] as i32);
        let (mut a, mut b, mut c, mut d) = (lanes(0), lanes(1), lanes(2), lanes(3));
        // Per round: the message words in the order its steps take them, and its constants.
        let orders: [__m512i; 4] = std::array::from_fn(|round| {
            vector(&std::array::from_fn(|i| word(round * 16 + i) as i32))
        });
        let constants: [__m512i; 4] =
            std::array::from_fn(|round| vector(&std::array::from_fn(|i| K[round * 16 + i] as i32)));
        // Interleaving two rounds' words: first[0], second[0], first[1], second[1], …
        let low = vector(&std::array::from_fn(|i| (i / 2 + (i % 2) * 16) as i32));
        let high = vector(&std::array::from_fn(|i| (8 + i / 2 + (i % 2) * 16) as i32));
        // The 64 steps' message words plus constants, two lanes per step.
        let mut mk = [[0i32; 16]; 8];
        for (a_block, b_block) in a_blocks.iter().zip(b_blocks) {
            let x = vector(&message(a_block).map(|w| w as i32));
            let y = vector(&message(b_block).map(|w| w as i32));
            for round in 0..4 {
                let xr =
                    _mm512_add_epi32(_mm512_permutexvar_epi32(orders[round], x), constants[round]);
                let yr =
                    _mm512_add_epi32(_mm512_permutexvar_epi32(orders[round], y), constants[round]);
                // SAFETY: each store writes the 64 bytes of one row of `mk`; no alignment is
                // required.
                unsafe {
                    _mm512_storeu_si512(
                        mk[2 * round].as_mut_ptr().cast(),
                        _mm512_permutex2var_epi32(xr, low, yr),
                    );
                    _mm512_storeu_si512(
                        mk[2 * round + 1].as_mut_ptr().cast(),
                        _mm512_permutex2var_epi32(xr, high, yr),
                    );
                }
            }
            let flat = mk.as_flattened();
            let (a0, b0, c0, d0) = (a, b, c, d);
            macro_rules! step {
                ($a:ident, $b:ident, $c:ident, $d:ident, $i:expr, $r:literal) => {
                    vector_step!($a, $b, $c, $d, $i, $r, {
                        const STEP: usize = $i;
                        // SAFETY: reads the step's two values, within `flat` (128 values).
                        unsafe { _mm_loadl_epi64(flat[2 * STEP..2 * STEP + 2].as_ptr().cast()) }
                    })
                };
            }
            all_steps!(step, a, b, c, d);
            a = _mm_add_epi32(a, a0);
            b = _mm_add_epi32(b, b0);
            c = _mm_add_epi32(c, c0);
            d = _mm_add_epi32(d, d0);
        }
        let first_lane = |v: __m128i| _mm_extract_epi32::<0>(v) as u32;
        let second_lane = |v: __m128i| _mm_extract_epi32::<1>(v) as u32;
        *first = [first_lane(a), first_lane(b), first_lane(c), first_lane(d)];
        *second = [
            second_lane(a),
            second_lane(b),
            second_lane(c),
            second_lane(d),
        ];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::testing;
    use md5::Digest as _;

    fn reference(bytes: &[u8]) -> [u8; 16] {
        md5::Md5::digest(bytes).into()
    }

    #[test]
    fn rfc_1321_test_suite() {
        let suite = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, digest) in suite {
            let mut hasher = Md5Hasher::new();
            hasher.update(input.as_bytes());
            assert_eq!(hasher.finalize().to_string(), digest, "{input:?}");
        }
    }

    #[test]
    fn any_length_in_any_pieces_gives_the_reference_digest() {
        testing::any_length_in_any_pieces::<Md5Blocks>(
            |b| reference(b).to_vec(),
            |d| d.as_bytes().to_vec(),
        );
    }

    #[test]
    fn two_streams_together_give_each_its_own_digest() {
        testing::two_streams_out_of_step::<Md5Blocks>(
            |b| reference(b).to_vec(),
            |d| d.as_bytes().to_vec(),
        );
    }

    /// The digest of `data` with the given compression function and textbook padding.
    fn digest_with(compress: impl Fn(&mut [u32; 4], &[Block]), data: &[u8]) -> [u8; 16] {
        let mut padded = data.to_vec();
        padded.push(0x80);
        while padded.len() % 64 != 56 {
            padded.push(0);
        }
        padded.extend_from_slice(&(data.len() as u64 * 8).to_le_bytes());
        let mut state = Md5Blocks::INITIAL;
        compress(&mut state, padded.as_chunks::<64>().0);
        let mut digest = [0u8; 16];
        for (out, word) in digest.chunks_exact_mut(4).zip(state) {
            out.copy_from_slice(&word.to_le_bytes());
        }
        digest
    }

    #[test]
    fn every_implementation_gives_the_reference_digest() {
        let data = testing::bytes(64 * 300 + 17, 9);
        assert_eq!(digest_with(portable::compress, &data), reference(&data));
        #[cfg(target_arch = "x86_64")]
        if x86::available() {
            assert_eq!(digest_with(x86::compress_checked, &data), reference(&data));
            // Two streams of different content and state, through the two-lane function.
            let other = testing::bytes(64 * 302, 10);
            let two = |first: &mut [u32; 4], blocks: &[Block]| {
                let mut second = Md5Blocks::INITIAL;
                let other_blocks = &other.as_chunks::<64>().0[..blocks.len()];
                x86::compress_two_checked(first, blocks, &mut second, other_blocks);
                let mut expected = Md5Blocks::INITIAL;
                portable::compress(&mut expected, other_blocks);
                assert_eq!(second, expected);
            };
            assert_eq!(digest_with(two, &data), reference(&data));
        } else {
            println!("skipped the AVX-512 implementations: this processor has no AVX-512");
        }
    }
}
