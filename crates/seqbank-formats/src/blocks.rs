//! What MD5 and SHA-256 share: bytes cut into 64-byte blocks for a compression function, of one
//! stream or of two streams hashed in the same pass, and the padding of the last block.

pub(crate) type Block = [u8; 64];

/// A hash's compression function over whole blocks.
pub(crate) trait Compress {
    type State: Copy + std::fmt::Debug;

    fn compress(state: &mut Self::State, blocks: &[Block]);

    /// Two streams at once; both have the same number of blocks.
    fn compress_two(first: &mut Self::State, a: &[Block], second: &mut Self::State, b: &[Block]);
}

/// A stream's state: the compressed blocks, and the start of a block not yet complete.
#[derive(Clone, Debug)]
pub(crate) struct Blocks<C: Compress> {
    state: C::State,
    pending: Block,
    pending_len: usize,
    length: u64,
}

impl<C: Compress> Blocks<C> {
    pub(crate) fn new(initial: C::State) -> Self {
        Self {
            state: initial,
            pending: [0; 64],
            pending_len: 0,
            length: 0,
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        let bytes = self.complete_pending(bytes);
        let (blocks, rest) = bytes.as_chunks::<64>();
        C::compress(&mut self.state, blocks);
        self.length += (blocks.len() * 64) as u64;
        self.keep(rest);
    }

    /// Adds bytes to two streams, the whole blocks both have in one pass.
    pub(crate) fn update_two(first: &mut Self, a: &[u8], second: &mut Self, b: &[u8]) {
        let a = first.complete_pending(a);
        let b = second.complete_pending(b);
        let (a, b) = if first.pending_len == 0 && second.pending_len == 0 {
            let n = a.len().min(b.len()) / 64 * 64;
            let (a_blocks, a_rest) = a.split_at(n);
            let (b_blocks, b_rest) = b.split_at(n);
            C::compress_two(
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

    /// The state after the padding: 0x80, zeros, and the length in bits as `encode` writes it
    /// in the last 8 bytes of the block that has room for it.
    pub(crate) fn finish(mut self, encode: impl Fn(u64) -> [u8; 8]) -> C::State {
        let bits = (self.length + self.pending_len as u64).wrapping_mul(8);
        let mut tail = [0u8; 128];
        tail[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
        tail[self.pending_len] = 0x80;
        let end = if self.pending_len < 56 { 64 } else { 128 };
        tail[end - 8..end].copy_from_slice(&encode(bits));
        C::compress(&mut self.state, tail[..end].as_chunks::<64>().0);
        self.state
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
            C::compress(&mut self.state, &[block]);
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
