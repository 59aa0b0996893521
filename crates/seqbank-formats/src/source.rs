//! Reading a file's bytes once: a reader thread feeds the decoder and the checksum threads.
//!
//! Checksums are computed over the bytes exactly as given, in the same single pass as
//! validation, but never on the thread that inflates and parses: MD5 is a serial chain that
//! would otherwise halve the parse rate. The reader thread hands each chunk (shared, not copied)
//! to an MD5 thread, a SHA-256 thread and the consumer. The files of a run share one checksum
//! thread instead ([`SharedChecksums`]), which hashes two files' bytes in one pass.

use std::{
    collections::VecDeque,
    io::{self, BufRead, Read},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc::{Receiver, SyncSender, sync_channel},
    },
    thread,
};

use seqbank_core::{Md5, Sha256};

use crate::{md5::Md5Hasher, sha256::Sha256Hasher};

const CHUNK_SIZE: usize = 1 << 20;
const CHANNEL_DEPTH: usize = 4;
/// Bytes kept from the end of the stream, enough for the 28-byte BGZF EOF marker.
pub(crate) const TAIL_LEN: usize = 28;

type Chunk = Arc<Vec<u8>>;

/// Live counters a caller can poll to show progress.
#[derive(Debug, Default)]
pub struct Progress {
    bytes: AtomicU64,
    records: AtomicU64,
}

impl Progress {
    /// Bytes read so far (as given, compressed), over all files validated with this counter.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Records validated so far, over all files validated with this counter.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    pub(crate) fn add_records(&self, n: u64) {
        self.records.fetch_add(n, Ordering::Relaxed);
    }
}

/// What the reader thread learned about the whole byte stream.
#[derive(Debug)]
pub(crate) struct Digests {
    pub(crate) size: u64,
    pub(crate) md5: Option<Md5>,
    pub(crate) sha256: Option<Sha256>,
    pub(crate) tail: Vec<u8>,
}

/// The consumer's end: a `BufRead` over the chunks the reader thread sends.
pub(crate) struct Input {
    chunks: Option<Receiver<Chunk>>,
    current: Chunk,
    pos: usize,
    consumed: u64,
}

impl Input {
    /// Bytes consumed so far: the offset of the next byte in the file.
    pub(crate) fn offset(&self) -> u64 {
        self.consumed
    }
}

/// `Read::read` for a reader whose buffer holds the bytes already: copies from it, no more
/// than one buffer's worth at a time.
pub(crate) fn read_buffered(reader: &mut impl BufRead, buf: &mut [u8]) -> io::Result<usize> {
    let available = reader.fill_buf()?;
    let n = available.len().min(buf.len());
    buf[..n].copy_from_slice(&available[..n]);
    reader.consume(n);
    Ok(n)
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, buf)
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.current.len() {
            match self.chunks.as_ref().map(Receiver::recv) {
                Some(Ok(chunk)) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                // The reader finished (or failed: the caller gets its error from `with_input`).
                _ => {
                    self.chunks = None;
                    return Ok(&[]);
                }
            }
        }
        Ok(&self.current[self.pos..])
    }

    fn consume(&mut self, amount: usize) {
        self.pos += amount;
        self.consumed += amount as u64;
    }
}

/// Runs `consume` over the bytes of `reader` while other threads checksum them.
///
/// MD5 and SHA-256 are computed on threads of their own, or by a run's shared checksum thread
/// when `lane` is given. The whole stream is always read and hashed, even when `consume`
/// stops early.
pub(crate) fn with_input<R, T>(
    reader: R,
    checksums: bool,
    lane: Option<ChecksumLane>,
    progress: Option<&Progress>,
    consume: impl FnOnce(&mut Input) -> T,
) -> io::Result<(T, Digests)>
where
    R: Read + Send,
{
    thread::scope(|scope| {
        let (input_tx, input_rx) = sync_channel::<Chunk>(CHANNEL_DEPTH);
        let mut hash_txs = Vec::new();
        let mut threads = None;
        let mut shared = None;
        match lane {
            Some(lane) if checksums => shared = Some(lane),
            _ if checksums => {
                let (md5_tx, md5_rx) = sync_channel::<Chunk>(CHANNEL_DEPTH);
                let (sha256_tx, sha256_rx) = sync_channel::<Chunk>(CHANNEL_DEPTH);
                hash_txs.extend([md5_tx, sha256_tx]);
                threads = Some((
                    scope.spawn(move || {
                        let mut hasher = Md5Hasher::new();
                        md5_rx.iter().for_each(|chunk| hasher.update(&chunk));
                        hasher.finalize()
                    }),
                    scope.spawn(move || {
                        let mut hasher = Sha256Hasher::new();
                        sha256_rx.iter().for_each(|chunk| hasher.update(&chunk));
                        hasher.finalize()
                    }),
                ));
            }
            _ => {}
        }
        let (lane_sender, lane_digests) = match shared {
            Some(ChecksumLane { sender, digests }) => (Some(sender), Some(digests)),
            None => (None, None),
        };
        let reader_thread = scope
            .spawn(move || read_chunks(reader, input_tx, hash_txs, lane_sender.as_ref(), progress));

        let mut input = Input {
            chunks: Some(input_rx),
            current: Arc::new(Vec::new()),
            pos: 0,
            consumed: 0,
        };
        let output = consume(&mut input);
        drop(input);

        let (size, tail) = reader_thread
            .join()
            .map_err(|_| io::Error::other("reader thread panicked"))??;
        let (md5, sha256) = match (threads, lane_digests) {
            (Some((md5, sha256)), _) => (
                Some(
                    md5.join()
                        .map_err(|_| io::Error::other("md5 thread panicked"))?,
                ),
                Some(
                    sha256
                        .join()
                        .map_err(|_| io::Error::other("sha256 thread panicked"))?,
                ),
            ),
            (None, Some(digests)) => {
                let (md5, sha256) = digests
                    .recv()
                    .map_err(|_| io::Error::other("the shared checksum thread stopped"))?;
                (Some(md5), Some(sha256))
            }
            (None, None) => (None, None),
        };
        Ok((
            output,
            Digests {
                size,
                md5,
                sha256,
                tail,
            },
        ))
    })
}

/// The chunks sent out, taken back once every thread is done with them: a fresh megabyte for
/// every chunk would be zeroed by the allocator and faulted in by the kernel again and again.
#[derive(Default)]
struct Pool {
    sent: Vec<Chunk>,
}

impl Pool {
    /// Chunks in flight at most: each channel's depth, plus the one each thread holds.
    const SIZE: usize = 3 * (CHANNEL_DEPTH + 2);

    /// A buffer of `CHUNK_SIZE` bytes, a returned one if any.
    fn take(&mut self) -> Vec<u8> {
        let returned = self
            .sent
            .iter()
            .position(|chunk| Arc::strong_count(chunk) == 1);
        let mut buffer = match returned.map(|i| Arc::try_unwrap(self.sent.swap_remove(i))) {
            Some(Ok(buffer)) => buffer,
            _ => Vec::new(),
        };
        // Only a fresh buffer, or the end of a short last one, is zeroed.
        buffer.resize(CHUNK_SIZE, 0);
        buffer
    }

    /// Shares a filled buffer, remembering it to take back later.
    fn share(&mut self, buffer: Vec<u8>) -> Chunk {
        let chunk = Arc::new(buffer);
        if self.sent.len() < Self::SIZE {
            self.sent.push(Arc::clone(&chunk));
        }
        chunk
    }
}

fn read_chunks<R: Read>(
    mut reader: R,
    input_tx: SyncSender<Chunk>,
    hash_txs: Vec<SyncSender<Chunk>>,
    lane: Option<&LaneSender>,
    progress: Option<&Progress>,
) -> io::Result<(u64, Vec<u8>)> {
    let mut input_tx = Some(input_tx);
    let mut size = 0u64;
    let mut tail = Vec::with_capacity(TAIL_LEN * 2);
    let mut pool = Pool::default();
    loop {
        let mut chunk = pool.take();
        let mut filled = 0;
        while filled < CHUNK_SIZE {
            match reader.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            return Ok((size, tail));
        }
        chunk.truncate(filled);
        size += filled as u64;
        if let Some(progress) = progress {
            progress.bytes.fetch_add(filled as u64, Ordering::Relaxed);
        }
        tail.extend_from_slice(&chunk[filled.saturating_sub(TAIL_LEN)..]);
        if tail.len() > TAIL_LEN {
            tail.drain(..tail.len() - TAIL_LEN);
        }
        let chunk = pool.share(chunk);
        for tx in &hash_txs {
            tx.send(Arc::clone(&chunk))
                .map_err(|_| io::Error::other("checksum thread stopped"))?;
        }
        if let Some(lane) = lane {
            lane.tx
                .send(LaneMessage::Bytes(lane.lane, Arc::clone(&chunk)))
                .map_err(|_| io::Error::other("the shared checksum thread stopped"))?;
        }
        // The consumer may stop early (e.g. unknown format); keep reading for the checksums.
        if let Some(tx) = &input_tx
            && tx.send(chunk).is_err()
        {
            input_tx = None;
        }
    }
}

/// A file's place in a run's shared checksum thread.
pub(crate) struct ChecksumLane {
    sender: LaneSender,
    digests: Receiver<(Md5, Sha256)>,
}

enum LaneMessage {
    Bytes(usize, Chunk),
    End(usize),
}

/// The sending end of a lane; the lane ends when it is dropped, however reading ended (or if
/// it never started).
struct LaneSender {
    lane: usize,
    tx: SyncSender<LaneMessage>,
}

impl Drop for LaneSender {
    fn drop(&mut self) {
        let _ = self.tx.send(LaneMessage::End(self.lane));
    }
}

/// One checksum thread for all the files of a run: whenever two files have bytes waiting, it
/// hashes them together, MD5 in the time one file takes alone and SHA-256 in less (see
/// [`crate::md5`] and [`crate::sha256`]).
///
/// A file whose bytes wait for a partner is hashed alone once it is [`Self::HOLD`] chunks
/// ahead, or when no other file can send more, so no reader ever waits on another file.
pub(crate) struct SharedChecksums {
    rx: Receiver<LaneMessage>,
    digests: Vec<SyncSender<(Md5, Sha256)>>,
}

#[derive(Default)]
struct Hashers {
    md5: Md5Hasher,
    sha256: Sha256Hasher,
}

struct Lane {
    hashers: Hashers,
    queue: VecDeque<Chunk>,
    /// Bytes of the front chunk already hashed.
    pos: usize,
    ended: bool,
    finished: bool,
}

impl Lane {
    /// The bytes of the front chunk not hashed yet, and the hashers.
    fn split(&mut self) -> (&[u8], &mut Hashers) {
        let waiting = self
            .queue
            .front()
            .map_or(&[][..], |chunk| &chunk[self.pos..]);
        (waiting, &mut self.hashers)
    }

    fn hash_alone(&mut self) {
        let (waiting, hashers) = self.split();
        let n = waiting.len();
        hashers.md5.update(waiting);
        hashers.sha256.update(waiting);
        self.advance(n);
    }

    fn hash_together(a: &mut Self, b: &mut Self) {
        let (a_waiting, a_hashers) = a.split();
        let (b_waiting, b_hashers) = b.split();
        let n = a_waiting.len().min(b_waiting.len());
        let (a_bytes, b_bytes) = (&a_waiting[..n], &b_waiting[..n]);
        Md5Hasher::update_two(&mut a_hashers.md5, a_bytes, &mut b_hashers.md5, b_bytes);
        Sha256Hasher::update_two(
            &mut a_hashers.sha256,
            a_bytes,
            &mut b_hashers.sha256,
            b_bytes,
        );
        a.advance(n);
        b.advance(n);
    }

    fn advance(&mut self, n: usize) {
        self.pos += n;
        if self
            .queue
            .front()
            .is_some_and(|chunk| self.pos == chunk.len())
        {
            self.queue.pop_front();
            self.pos = 0;
        }
    }
}

impl SharedChecksums {
    /// Chunks a file may have waiting for a partner before it is hashed alone.
    const HOLD: usize = 6;

    /// The thread's state and one lane per file.
    pub(crate) fn new(files: usize) -> (Self, Vec<ChecksumLane>) {
        let (tx, rx) = sync_channel(CHANNEL_DEPTH * files);
        let mut digests = Vec::new();
        let lanes = (0..files)
            .map(|lane| {
                let (digest_tx, digest) = sync_channel(1);
                digests.push(digest_tx);
                ChecksumLane {
                    sender: LaneSender {
                        lane,
                        tx: tx.clone(),
                    },
                    digests: digest,
                }
            })
            .collect();
        (Self { rx, digests }, lanes)
    }

    /// Hashes until every lane has ended, sending each lane's digest as it finishes.
    pub(crate) fn run(self) {
        let mut lanes: Vec<Lane> = self
            .digests
            .iter()
            .map(|_| Lane {
                hashers: Hashers::default(),
                queue: VecDeque::new(),
                pos: 0,
                ended: false,
                finished: false,
            })
            .collect();
        let accept = |lanes: &mut Vec<Lane>, message| match message {
            LaneMessage::Bytes(lane, chunk) => lanes[lane].queue.push_back(chunk),
            LaneMessage::End(lane) => lanes[lane].ended = true,
        };
        loop {
            while let Ok(message) = self.rx.try_recv() {
                accept(&mut lanes, message);
            }
            let mut ready = (0..lanes.len()).filter(|&i| !lanes[i].queue.is_empty());
            match (ready.next(), ready.next()) {
                (Some(i), Some(j)) => {
                    let (first, second) = lanes.split_at_mut(j);
                    Lane::hash_together(&mut first[i], &mut second[0]);
                    continue;
                }
                (Some(i), None) => {
                    let partner_may_come = (0..lanes.len()).any(|k| k != i && !lanes[k].ended);
                    let lane = &mut lanes[i];
                    if !partner_may_come || lane.ended || lane.queue.len() >= Self::HOLD {
                        lane.hash_alone();
                        continue;
                    }
                }
                _ => {}
            }
            for (lane, digest) in lanes.iter_mut().zip(&self.digests) {
                if lane.ended && lane.queue.is_empty() && !lane.finished {
                    lane.finished = true;
                    let hashers = std::mem::take(&mut lane.hashers);
                    // The file's validation may have failed and stopped listening.
                    let _ = digest.send((hashers.md5.finalize(), hashers.sha256.finalize()));
                }
            }
            if lanes.iter().all(|lane| lane.finished) {
                return;
            }
            match self.rx.recv() {
                Ok(message) => accept(&mut lanes, message),
                // Every lane's sender is gone; each sent its end before going.
                Err(_) => lanes.iter_mut().for_each(|lane| lane.ended = true),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_feeds_every_byte() -> io::Result<()> {
        // More chunks than the pool holds, so buffers come back and are filled again.
        let len = (2 * Pool::SIZE * CHUNK_SIZE + 12_345) as u32;
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let progress = Progress::default();
        let (copy, digests) = with_input(&data[..], true, None, Some(&progress), |input| {
            let mut copy = Vec::new();
            input.read_to_end(&mut copy).map(|_| copy)
        })?;
        assert_eq!(copy?, data);
        assert_eq!(digests.size, data.len() as u64);
        assert_eq!(progress.bytes(), data.len() as u64);
        assert_eq!(digests.tail, data[data.len() - TAIL_LEN..]);
        let md5 = <md5::Md5 as md5::Digest>::digest(&data);
        assert_eq!(digests.md5.map(|m| *m.as_bytes()), Some(md5.into()));
        Ok(())
    }

    #[test]
    fn hashes_everything_even_when_the_consumer_stops_early() -> io::Result<()> {
        let data = vec![7u8; 5 * CHUNK_SIZE + 3];
        let ((), digests) = with_input(&data[..], true, None, None, |_input| ())?;
        assert_eq!(digests.size, data.len() as u64);
        let md5 = <md5::Md5 as md5::Digest>::digest(&data);
        assert_eq!(digests.md5.map(|m| *m.as_bytes()), Some(md5.into()));
        Ok(())
    }

    #[test]
    fn a_read_error_is_an_error() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let result = with_input(Failing, true, None, None, |input| {
            input.fill_buf().map(<[u8]>::len)
        });
        assert!(result.is_err());
    }
}
