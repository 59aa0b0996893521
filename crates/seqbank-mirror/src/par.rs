//! Parsing one XML dump on every core.
//!
//! One thread splits the stream into records (`Splitter`, byte search, cheap) and hands them out
//! in numbered batches; parsing threads turn each batch into items; the iterator puts the batches
//! back in order. Records, skips and their numbers come out exactly as the single-threaded reader
//! gives them. Memory stays bounded: a few batches wait in each queue.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, mpsc},
};

use crate::{Error, Item, ncbi::XmlItems, xml::RawRecord};

/// Records per batch.
const BATCH: usize = 256;

/// A batch to parse: its number, its records with their numbers, the read error that ended the
/// file after them, and whether it is the last.
struct Work {
    seq: u64,
    records: Vec<(u64, RawRecord)>,
    error: Option<Error>,
    last: bool,
}

/// A parsed batch.
struct Done {
    seq: u64,
    items: Vec<Result<Item, Error>>,
    last: bool,
}

/// The items of an XML dump, parsed by `workers` threads, in the file's order.
pub(crate) struct ParallelItems {
    file: String,
    done: mpsc::Receiver<Done>,
    pending: BTreeMap<u64, Done>,
    next: u64,
    current: std::vec::IntoIter<Result<Item, Error>>,
    last_seen: bool,
    finished: bool,
}

impl ParallelItems {
    pub(crate) fn new(mut items: XmlItems, file: &str, workers: usize) -> Self {
        let mapper = items.mapper();
        let workers = workers.max(1);
        let (work_tx, work_rx) = mpsc::sync_channel::<Work>(workers * 2);
        let (done_tx, done_rx) = mpsc::sync_channel::<Done>(workers * 2);
        std::thread::spawn(move || {
            let mut seq = 0;
            loop {
                let mut records = Vec::with_capacity(BATCH);
                let mut error = None;
                let mut last = false;
                while records.len() < BATCH {
                    match items.next_raw() {
                        Some(Ok(record)) => records.push(record),
                        Some(Err(e)) => {
                            error = Some(e);
                            last = true;
                            break;
                        }
                        None => {
                            last = true;
                            break;
                        }
                    }
                }
                let work = Work {
                    seq,
                    records,
                    error,
                    last,
                };
                if work_tx.send(work).is_err() || last {
                    return;
                }
                seq += 1;
            }
        });
        let work_rx = Arc::new(Mutex::new(work_rx));
        for _ in 0..workers {
            let work_rx = work_rx.clone();
            let done_tx = done_tx.clone();
            let mapper = mapper.clone();
            std::thread::spawn(move || {
                loop {
                    let work = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(work) = work else { return };
                    let mut items: Vec<Result<Item, Error>> = work
                        .records
                        .into_iter()
                        .map(|(number, raw)| Ok(mapper.item(number, raw)))
                        .collect();
                    items.extend(work.error.map(Err));
                    let done = Done {
                        seq: work.seq,
                        items,
                        last: work.last,
                    };
                    if done_tx.send(done).is_err() {
                        return;
                    }
                }
            });
        }
        Self {
            file: file.to_owned(),
            done: done_rx,
            pending: BTreeMap::new(),
            next: 0,
            current: Vec::new().into_iter(),
            last_seen: false,
            finished: false,
        }
    }
}

impl Iterator for ParallelItems {
    type Item = Result<Item, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.finished {
                return None;
            }
            if let Some(item) = self.current.next() {
                self.finished = item.is_err();
                return Some(item);
            }
            if self.last_seen {
                self.finished = true;
                return None;
            }
            if let Some(done) = self.pending.remove(&self.next) {
                self.next += 1;
                self.last_seen = done.last;
                self.current = done.items.into_iter();
                continue;
            }
            match self.done.recv() {
                Ok(done) => {
                    self.pending.insert(done.seq, done);
                }
                Err(_) => {
                    // Every parsing thread is gone before the last batch: one of them failed.
                    self.finished = true;
                    return Some(Err(Error::Read {
                        file: self.file.clone(),
                        offset: 0,
                        message: "a parsing thread stopped before the end of the file".into(),
                    }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Write;

    use crate::ncbi::{Kind, read};

    fn dump(records: usize) -> Vec<u8> {
        let mut xml = String::from("<?xml version=\"1.0\"?>\n<BioSampleSet>\n");
        for i in 0..records {
            match i % 97 {
                5 => xml.push_str(&format!(
                    "<BioSample accession=\"SAMN{i}\"><Description><Title>open\n"
                )),
                7 => xml.push_str(&format!(
                    "<BioSample accession=\"SAMN{i}\"><Description><Title>x</Description></BioSample>\n"
                )),
                _ => xml.push_str(&format!(
                    "<BioSample accession=\"SAMN{i}\"><Description><Title>t{i} &amp; more</Title></Description><Attributes><Attribute attribute_name=\"n\">{i}</Attribute></Attributes></BioSample>\n"
                )),
            }
        }
        xml.push_str("</BioSampleSet>\n");
        xml.into_bytes()
    }

    fn all(items: impl Iterator<Item = Result<crate::Item, crate::Error>>) -> Vec<String> {
        items.map(|i| format!("{i:?}")).collect()
    }

    fn both(bytes: Vec<u8>) -> (Vec<String>, Vec<String>) {
        let one = read(
            Box::new(std::io::Cursor::new(bytes.clone())),
            "d.xml",
            Kind::Sample,
        )
        .unwrap();
        let many = read(Box::new(std::io::Cursor::new(bytes)), "d.xml", Kind::Sample).unwrap();
        (all(one), all(super::ParallelItems::new(many, "d.xml", 3)))
    }

    #[test]
    fn parallel_parsing_gives_what_one_thread_gives_in_order() {
        let (one, many) = both(dump(3000));
        assert_eq!(one.len(), 3000);
        assert!(one.iter().filter(|i| i.contains("Skipped")).count() >= 60);
        assert_eq!(one, many);
    }

    #[test]
    fn a_truncated_file_ends_with_the_same_error_after_the_same_records() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&dump(40_000)).unwrap();
        let mut bytes = gz.finish().unwrap();
        bytes.truncate(bytes.len() * 2 / 3);
        let (one, many) = both(bytes);
        assert!(
            one.last().unwrap().starts_with("Err(Read"),
            "{:?}",
            one.last()
        );
        assert!(one.len() > 1000);
        assert_eq!(one, many);
    }
}
