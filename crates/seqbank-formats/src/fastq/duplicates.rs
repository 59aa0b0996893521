//! Duplicate read names in bounded memory: fingerprints first, exact names second.
//!
//! The first pass keeps a 64-bit fingerprint of every read name. While they fit in the memory
//! budget they stay in one vector; beyond it, sorted runs are spilled to temporary files and
//! merged at the end. Fingerprints seen twice are *candidates*: a second pass over the file
//! compares the real names of candidate reads only, so a fingerprint collision never becomes a
//! false finding and the memory use never depends on the file size.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashSet},
    fs::File,
    io::{self, BufReader, BufWriter, Read, Seek, Write},
    path::PathBuf,
};

/// The most candidate fingerprints kept for the second pass.
pub(crate) const MAX_CANDIDATES: usize = 1 << 20;

pub(crate) fn fingerprint(name: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(name)
}

/// Read-name fingerprints seen more than once in the first pass.
#[derive(Clone, Debug, Default)]
pub struct Candidates {
    pub(crate) fingerprints: HashSet<u64>,
    /// More candidates existed than were kept.
    pub(crate) overflowed: bool,
}

impl Candidates {
    pub(crate) fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }
}

pub(crate) struct Detector {
    fingerprints: Vec<u64>,
    max_in_memory: usize,
    runs: Vec<File>,
    temp_dir: Option<PathBuf>,
}

impl Detector {
    pub(crate) fn new(memory_bytes: usize, temp_dir: Option<PathBuf>) -> Self {
        let max_in_memory = (memory_bytes / 8).max(1024);
        Self {
            // Reserved, not touched: pages are taken as fingerprints arrive. Growing by doubling
            // instead would copy and fault in twice the memory.
            fingerprints: Vec::with_capacity(max_in_memory),
            max_in_memory,
            runs: Vec::new(),
            temp_dir,
        }
    }

    #[inline]
    pub(crate) fn add(&mut self, fingerprint: u64) -> io::Result<()> {
        if self.fingerprints.len() == self.max_in_memory {
            self.spill()?;
        }
        self.fingerprints.push(fingerprint);
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.fingerprints.sort_unstable();
        let file = match &self.temp_dir {
            Some(dir) => tempfile::tempfile_in(dir)?,
            None => tempfile::tempfile()?,
        };
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        for fp in &self.fingerprints {
            writer.write_all(&fp.to_le_bytes())?;
        }
        let mut file = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        file.rewind()?;
        self.runs.push(file);
        self.fingerprints.clear();
        Ok(())
    }

    pub(crate) fn finish(mut self) -> io::Result<Candidates> {
        let mut candidates = Candidates::default();
        let mut add = |fp: u64| {
            if candidates.fingerprints.len() < MAX_CANDIDATES {
                candidates.fingerprints.insert(fp);
            } else if !candidates.fingerprints.contains(&fp) {
                candidates.overflowed = true;
            }
        };
        if self.runs.is_empty() {
            self.fingerprints.sort_unstable();
            for pair in self.fingerprints.windows(2) {
                if pair[0] == pair[1] {
                    add(pair[0]);
                }
            }
            return Ok(candidates);
        }
        self.spill()?;
        let mut readers: Vec<_> = self
            .runs
            .into_iter()
            .map(|f| BufReader::with_capacity(1 << 16, f))
            .collect();
        let mut heap = BinaryHeap::new();
        for (i, reader) in readers.iter_mut().enumerate() {
            if let Some(fp) = read_u64(reader)? {
                heap.push(Reverse((fp, i)));
            }
        }
        let mut previous = None;
        while let Some(Reverse((fp, i))) = heap.pop() {
            if previous == Some(fp) {
                add(fp);
            }
            previous = Some(fp);
            if let Some(next) = read_u64(&mut readers[i])? {
                heap.push(Reverse((next, i)));
            }
        }
        Ok(candidates)
    }
}

fn read_u64(reader: &mut impl Read) -> io::Result<Option<u64>> {
    let mut bytes = [0; 8];
    match reader.read_exact(&mut bytes) {
        Ok(()) => Ok(Some(u64::from_le_bytes(bytes))),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(memory: usize, values: impl IntoIterator<Item = u64>) -> Vec<u64> {
        let mut detector = Detector::new(memory, None);
        for v in values {
            detector.add(v).expect("temp file");
        }
        let mut found: Vec<_> = detector
            .finish()
            .expect("temp file")
            .fingerprints
            .into_iter()
            .collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn finds_repeats_in_memory() {
        assert_eq!(candidates(1 << 20, [5, 1, 9, 5, 3, 9, 9]), [5, 9]);
        assert!(candidates(1 << 20, 0..1000).is_empty());
    }

    #[test]
    fn finds_repeats_across_spilled_runs() {
        // 1024 fingerprints per run: the repeats land in different runs.
        let values = (0..10_000u64).chain([17, 9_999, 4_242]);
        assert_eq!(candidates(0, values), [17, 4_242, 9_999]);
    }
}
