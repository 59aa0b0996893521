//! SHA-256 of one stream or of two at once.
//!
//! The processor's SHA instructions take a stream two rounds at a time, and each step waits for
//! the one before it: one stream leaves the SHA unit idle between its steps. Two streams
//! interleaved fill those gaps, so the two files of a pair are hashed in less time than each
//! alone. One stream is hashed by the `sha2` crate (which uses the same instructions when the
//! processor has them).
//!
//! On the benchmark machine (`examples/checksums.rs` on a 234 MB file): one stream 1,788 MB/s,
//! two streams together 3,109 MB/s.

use seqbank_core::Sha256;

use crate::blocks::{Algorithm, Block, Hasher};

/// A SHA-256 computation over bytes given piece by piece.
///
/// # Examples
///
/// ```
/// use seqbank_formats::sha256::Sha256Hasher;
///
/// let mut hasher = Sha256Hasher::new();
/// hasher.update(b"ab");
/// hasher.update(b"c");
/// assert_eq!(
///     hasher.finalize().to_string(),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub type Sha256Hasher = Hasher<Sha256Blocks>;

/// SHA-256 as a block [`Algorithm`].
#[derive(Clone, Copy, Debug)]
pub struct Sha256Blocks;

impl Algorithm for Sha256Blocks {
    type State = [u32; 8];
    type Digest = Sha256;
    const INITIAL: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];

    fn compress(state: &mut [u32; 8], blocks: &[Block]) {
        sha2::block_api::compress256(state, blocks);
    }

    fn compress_two(first: &mut [u32; 8], a: &[Block], second: &mut [u32; 8], b: &[Block]) {
        debug_assert_eq!(a.len(), b.len());
        #[cfg(target_arch = "x86_64")]
        if x86::available() {
            x86::compress_two_checked(first, a, second, b);
            return;
        }
        Self::compress(first, a);
        Self::compress(second, b);
    }

    fn length(bits: u64) -> [u8; 8] {
        bits.to_be_bytes()
    }

    fn digest(state: [u32; 8]) -> Sha256 {
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        Sha256::from_bytes(digest)
    }
}

/// Two streams with the SHA extensions (and SSSE3 and SSE4.1, which every processor with them
/// has).
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_alignr_epi8, _mm_blend_epi16, _mm_loadu_si128, _mm_set_epi64x,
        _mm_sha256msg1_epu32, _mm_sha256msg2_epu32, _mm_sha256rnds2_epu32, _mm_shuffle_epi8,
        _mm_shuffle_epi32, _mm_storeu_si128,
    };
    use std::sync::OnceLock;

    use super::Block;

    /// The round constants of FIPS 180-4 §4.2.2.
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    pub(super) fn available() -> bool {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            std::is_x86_feature_detected!("sha")
                && std::is_x86_feature_detected!("sse4.1")
                && std::is_x86_feature_detected!("ssse3")
        })
    }

    pub(super) fn compress_two_checked(
        first: &mut [u32; 8],
        a: &[Block],
        second: &mut [u32; 8],
        b: &[Block],
    ) {
        assert!(available());
        assert_eq!(a.len(), b.len());
        // SAFETY: the processor has SHA, SSE4.1 and SSSE3, asserted just above.
        unsafe { compress_two(first, a, second, b) }
    }

    /// Sixteen bytes of `bytes` from `at` as a vector.
    #[target_feature(enable = "sse2")]
    fn load<T>(values: &[T], at: usize) -> __m128i {
        assert!(size_of_val(&values[at..]) >= 16);
        // SAFETY: reads 16 bytes from `values[at]` on, within `values` (asserted); the load
        // has no alignment requirement.
        unsafe { _mm_loadu_si128(values[at..].as_ptr().cast()) }
    }

    /// The state as the SHA instructions hold it: (A, B, E, F) and (C, D, G, H).
    #[target_feature(enable = "sha,sse4.1,ssse3")]
    fn unpack(state: &[u32; 8]) -> (__m128i, __m128i) {
        let abcd = _mm_shuffle_epi32::<0xb1>(load(state, 0));
        let efgh = _mm_shuffle_epi32::<0x1b>(load(state, 4));
        (
            _mm_alignr_epi8::<8>(abcd, efgh),
            _mm_blend_epi16::<0xf0>(efgh, abcd),
        )
    }

    #[target_feature(enable = "sha,sse4.1,ssse3")]
    fn pack(state: &mut [u32; 8], abef: __m128i, cdgh: __m128i) {
        let feba = _mm_shuffle_epi32::<0x1b>(abef);
        let dchg = _mm_shuffle_epi32::<0xb1>(cdgh);
        let mut out = [[0u32; 4]; 2];
        // SAFETY: each store writes the 16 bytes of one row of `out`; no alignment is required.
        unsafe {
            _mm_storeu_si128(
                out[0].as_mut_ptr().cast(),
                _mm_blend_epi16::<0xf0>(feba, dchg),
            );
            _mm_storeu_si128(out[1].as_mut_ptr().cast(), _mm_alignr_epi8::<8>(dchg, feba));
        }
        *state = [
            out[0][0], out[0][1], out[0][2], out[0][3], out[1][0], out[1][1], out[1][2], out[1][3],
        ];
    }

    /// A block's 64 message words, four to a vector.
    #[target_feature(enable = "sha,sse4.1,ssse3")]
    fn schedule(block: &Block) -> [__m128i; 16] {
        // The words are big-endian.
        let swap = _mm_set_epi64x(0x0c0d0e0f08090a0b, 0x0405060700010203);
        let mut w = [load(block, 0); 16];
        for (i, word) in w.iter_mut().take(4).enumerate() {
            *word = _mm_shuffle_epi8(load(block, 16 * i), swap);
        }
        for g in 4..16 {
            let partial = _mm_add_epi32(
                _mm_sha256msg1_epu32(w[g - 4], w[g - 3]),
                _mm_alignr_epi8::<4>(w[g - 1], w[g - 2]),
            );
            w[g] = _mm_sha256msg2_epu32(partial, w[g - 1]);
        }
        w
    }

    /// Both streams' rounds side by side, so each waits less for its previous step.
    #[target_feature(enable = "sha,sse4.1,ssse3")]
    fn compress_two(first: &mut [u32; 8], a: &[Block], second: &mut [u32; 8], b: &[Block]) {
        let (mut x_abef, mut x_cdgh) = unpack(first);
        let (mut y_abef, mut y_cdgh) = unpack(second);
        for (x_block, y_block) in a.iter().zip(b) {
            let (x0, x1, y0, y1) = (x_abef, x_cdgh, y_abef, y_cdgh);
            let x_words = schedule(x_block);
            let y_words = schedule(y_block);
            for g in 0..16 {
                let k = load(&K, 4 * g);
                let x_msg = _mm_add_epi32(x_words[g], k);
                let y_msg = _mm_add_epi32(y_words[g], k);
                x_cdgh = _mm_sha256rnds2_epu32(x_cdgh, x_abef, x_msg);
                y_cdgh = _mm_sha256rnds2_epu32(y_cdgh, y_abef, y_msg);
                x_abef = _mm_sha256rnds2_epu32(x_abef, x_cdgh, _mm_shuffle_epi32::<0x0e>(x_msg));
                y_abef = _mm_sha256rnds2_epu32(y_abef, y_cdgh, _mm_shuffle_epi32::<0x0e>(y_msg));
            }
            x_abef = _mm_add_epi32(x_abef, x0);
            x_cdgh = _mm_add_epi32(x_cdgh, x1);
            y_abef = _mm_add_epi32(y_abef, y0);
            y_cdgh = _mm_add_epi32(y_cdgh, y1);
        }
        pack(first, x_abef, x_cdgh);
        pack(second, y_abef, y_cdgh);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::testing;

    fn reference(bytes: &[u8]) -> Vec<u8> {
        <sha2::Sha256 as sha2::Digest>::digest(bytes).to_vec()
    }

    #[test]
    fn any_length_in_any_pieces_gives_the_reference_digest() {
        testing::any_length_in_any_pieces::<Sha256Blocks>(reference, |d| d.as_bytes().to_vec());
    }

    #[test]
    fn two_streams_together_give_each_its_own_digest() {
        #[cfg(target_arch = "x86_64")]
        if !x86::available() {
            println!("the two streams are hashed one after the other: no SHA extensions here");
        }
        testing::two_streams_out_of_step::<Sha256Blocks>(reference, |d| d.as_bytes().to_vec());
    }
}
