//! What MD5 and SHA-256 share: a [`Hasher`] cuts bytes into 64-byte blocks for the algorithm's
//! compression function, for one stream or for two streams hashed in the same pass, and pads
//! the last block.

/// The unit a compression function takes.
pub type Block = [u8; 64];

/// A hash over 64-byte blocks: [`crate::md5::Md5Blocks`] or [`crate::sha256::Sha256Blocks`].
pub trait Algorithm {
    /// The chaining state between blocks.
    type State: Copy + std::fmt::Debug;
    /// What the hash gives at the end.
    type Digest;
    /// The state before the first block.
    const INITIAL: Self::State;

    /// Hashes whole blocks into the state.
    fn compress(state: &mut Self::State, blocks: &[Block]);

    /// Two streams at once; both have the same number of blocks.
    fn compress_two(first: &mut Self::State, a: &[Block], second: &mut Self::State, b: &[Block]);

    /// The message length in bits as the padding writes it.
    fn length(bits: u64) -> [u8; 8];

    /// The digest of the final state.
    fn digest(state: Self::State) -> Self::Digest;
}

/// A hash computation over bytes given piece by piece.
#[derive(Clone, Debug)]
pub struct Hasher<A: Algorithm> {
    state: A::State,
    /// The start of a block not yet complete.
    pending: Block,
    pending_len: usize,
    length: u64,
}

impl<A: Algorithm> Default for Hasher<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Algorithm> Hasher<A> {
    /// A computation over no bytes yet.
    pub fn new() -> Self {
        Self {
            state: A::INITIAL,
            pending: [0; 64],
            pending_len: 0,
            length: 0,
        }
    }

    /// Adds `bytes` to the hashed stream.
    pub fn update(&mut self, bytes: &[u8]) {
        let bytes = self.complete_pending(bytes);
        let (blocks, rest) = bytes.as_chunks::<64>();
        A::compress(&mut self.state, blocks);
        self.length += (blocks.len() * 64) as u64;
        self.keep(rest);
    }

    /// Adds `a` to `first`'s stream and `b` to `second`'s, the whole blocks both have in one
    /// pass (where the algorithm hashes two streams faster than one after the other).
    pub fn update_two(first: &mut Self, a: &[u8], second: &mut Self, b: &[u8]) {
        let a = first.complete_pending(a);
        let b = second.complete_pending(b);
        let (a, b) = if first.pending_len == 0 && second.pending_len == 0 {
            let n = a.len().min(b.len()) / 64 * 64;
            let (a_blocks, a_rest) = a.split_at(n);
            let (b_blocks, b_rest) = b.split_at(n);
            A::compress_two(
                &mut first.state,
                a_blocks.as_chunks::<64>().0,
                &mut second.state,
                b_blocks.as_chunks::<64>().0,
            );
            first.length += n as u64;
            second.length += n as u64;
            (a_rest, b_rest)
        } else {
            (a, b)
        };
        first.update(a);
        second.update(b);
    }

    /// The digest of every byte given: the state after the padding (0x80, zeros, and the length
    /// in bits in the last 8 bytes of the block that has room for it).
    pub fn finalize(mut self) -> A::Digest {
        let bits = (self.length + self.pending_len as u64).wrapping_mul(8);
        let mut tail = [0u8; 128];
        tail[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
        tail[self.pending_len] = 0x80;
        let end = if self.pending_len < 56 { 64 } else { 128 };
        tail[end - 8..end].copy_from_slice(&A::length(bits));
        A::compress(&mut self.state, tail[..end].as_chunks::<64>().0);
        A::digest(self.state)
    }

    /// Tops up a partly filled block from `bytes` (compressing it once full) and returns the
    /// rest.
    fn complete_pending<'b>(&mut self, bytes: &'b [u8]) -> &'b [u8] {
        if self.pending_len == 0 {
            return bytes;
        }
        let n = (64 - self.pending_len).min(bytes.len());
        self.pending[self.pending_len..self.pending_len + n].copy_from_slice(&bytes[..n]);
        self.pending_len += n;
        if self.pending_len == 64 {
            let block = self.pending;
            A::compress(&mut self.state, &[block]);
            self.length += 64;
            self.pending_len = 0;
        }
        &bytes[n..]
    }

    /// Keeps the start of a block (fewer than 64 bytes), after any already kept.
    fn keep(&mut self, bytes: &[u8]) {
        debug_assert!(self.pending_len + bytes.len() < 64);
        self.pending[self.pending_len..self.pending_len + bytes.len()].copy_from_slice(bytes);
        self.pending_len += bytes.len();
    }
}

/// Checks shared by the algorithms' tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Algorithm, Hasher};

    /// Bytes that look random, the same for the same length and seed.
    pub(crate) fn bytes(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    /// Every length around the block edges, given in pieces of every size, hashes to the
    /// reference digest.
    pub(crate) fn any_length_in_any_pieces<A: Algorithm>(
        reference: impl Fn(&[u8]) -> Vec<u8>,
        bytes_of: impl Fn(A::Digest) -> Vec<u8>,
    ) {
        for len in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 65_537] {
            let data = bytes(len, len as u32 + 1);
            for piece in [1, 7, 64, 100, usize::MAX] {
                let mut hasher = Hasher::<A>::new();
                for part in data.chunks(piece.min(len.max(1))) {
                    hasher.update(part);
                }
                assert_eq!(
                    bytes_of(hasher.finalize()),
                    reference(&data),
                    "length {len}, pieces of {piece}"
                );
            }
        }
    }

    /// Two streams hashed together, out of step (different lengths, one with part of a block
    /// kept while the other has none, one running out first), each give their own digest.
    pub(crate) fn two_streams_out_of_step<A: Algorithm>(
        reference: impl Fn(&[u8]) -> Vec<u8>,
        bytes_of: impl Fn(A::Digest) -> Vec<u8>,
    ) {
        let first = bytes(300_001, 1);
        let second = bytes(250_017, 2);
        for (p, q) in [(65_536, 65_536), (1_000, 4_096), (63, 64), (130, 7)] {
            let (mut h1, mut h2) = (Hasher::<A>::new(), Hasher::<A>::new());
            let mut a = first.chunks(p);
            let mut b = second.chunks(q);
            loop {
                match (a.next(), b.next()) {
                    (None, None) => break,
                    (x, y) => {
                        Hasher::update_two(&mut h1, x.unwrap_or(&[]), &mut h2, y.unwrap_or(&[]));
                    }
                }
            }
            assert_eq!(bytes_of(h1.finalize()), reference(&first), "pieces {p}/{q}");
            assert_eq!(
                bytes_of(h2.finalize()),
                reference(&second),
                "pieces {p}/{q}"
            );
        }
    }
}
