//! Readers of NCBI/INSDC public metadata dumps: each turns a dump into a stream of
//! [`MirrorRecord`]s, one per accession, in seqbank's terms (type, title, organism, attributes,
//! library, links) with the record's own text kept beside them.
//!
//! | Source | Files | Record |
//! |---|---|---|
//! | [`Source::Bioproject`] | NCBI `bioproject.xml` | `<Package>` → project |
//! | [`Source::Biosample`] | NCBI `biosample_set.xml(.gz)` | `<BioSample>` → sample |
//! | [`Source::Sra`] | SRA metadata tarball (`.tar.gz`), folder, or one SRA/ENA XML file | `STUDY`, `PROJECT`, `SAMPLE`, `EXPERIMENT`, `RUN`, `ANALYSIS`, `SUBMISSION` |
//! | [`Source::SraAccessions`] | `SRA_Accessions.tab` | status, visibility, dates and links of any SRA accession |
//! | [`Source::Assembly`] | `assembly_summary_{genbank,refseq}.txt`, 20 or 38 columns | assembly |
//!
//! Everything is streamed: a 100 GB BioSample dump is read in 1 MiB pieces, and each record is
//! parsed on its own. Parsing is lenient the way old dumps need (unknown elements, missing
//! optional ones, Latin-1 text, HTML entities); a record that cannot be read at all is an
//! [`Item::Skipped`] naming its number, byte offset and line, and the next record is read as if
//! nothing happened. A file that is not what the source expects is an [`Error`] before any record.
//!
//! # Examples
//!
//! ```
//! use seqbank_mirror::{Item, Source, read};
//!
//! let xml = br#"<BioSampleSet><BioSample accession="SAMN1" last_update="2024-01-02T00:00:00">
//!   <Description><Title>Soil</Title><Organism taxonomy_id="410658" taxonomy_name="soil metagenome"/></Description>
//! </BioSample></BioSampleSet>"#;
//! let mut items = read(Source::Biosample, std::io::Cursor::new(&xml[..]), "biosample_set.xml")?;
//! let Some(Ok(Item::Record(record))) = items.next() else { panic!() };
//! assert_eq!((record.accession.as_str(), record.kind), ("SAMN1", "sample"));
//! assert_eq!(record.tax_id, Some(410658));
//! # Ok::<(), seqbank_mirror::Error>(())
//! ```

mod fast;
mod ncbi;
mod par;
mod sra;
mod tab;
mod xml;

use std::io::Read;

use serde::{Deserialize, Serialize};

/// A public dump seqbank can mirror.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Source {
    /// NCBI `bioproject.xml`.
    Bioproject,
    /// NCBI `biosample_set.xml.gz`.
    Biosample,
    /// NCBI SRA metadata (tarball, folder or XML file).
    Sra,
    /// NCBI `SRA_Accessions.tab`.
    SraAccessions,
    /// NCBI `assembly_summary_genbank.txt` / `assembly_summary_refseq.txt`.
    Assembly,
}

impl Source {
    /// Every source, in the order a full load applies them.
    pub const ALL: [Source; 5] = [
        Source::Bioproject,
        Source::Biosample,
        Source::Sra,
        Source::SraAccessions,
        Source::Assembly,
    ];

    /// The name used on the command line and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Bioproject => "bioproject",
            Source::Biosample => "biosample",
            Source::Sra => "sra",
            Source::SraAccessions => "sra-accessions",
            Source::Assembly => "assembly",
        }
    }
}

impl std::str::FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Source::ALL
            .into_iter()
            .find(|source| source.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown source {s:?}: use bioproject, biosample, sra, sra-accessions or assembly"
                )
            })
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One mirrored record, in seqbank's terms.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
pub struct MirrorRecord {
    /// Its accession (for records without one, which only submission examples have, the
    /// submitter's `CENTER:alias`).
    pub accession: String,
    /// project, sample, experiment, run, analysis, submission or assembly.
    pub kind: &'static str,
    /// The archive that issued the accession: NCBI, ENA, DDBJ (or NGDC).
    pub origin: &'static str,
    /// live, suppressed, withdrawn, replaced or unpublished; `None` when the dump does not say
    /// (SRA XML, whose status is in `SRA_Accessions.tab`), so the status already known stands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// When the record last changed at its archive (`YYYY-MM-DD…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update: Option<String>,
    /// When it was (or will be) made public.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// When it was received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted: Option<String>,
    /// Title.
    pub title: String,
    /// Description or abstract.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Scientific name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organism: Option<String>,
    /// NCBI Taxonomy id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<u64>,
    /// Attributes, tag and value, in the record's order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<(String, String)>,
    /// Sequencing platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Instrument model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    /// Library strategy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_strategy: Option<String>,
    /// Library source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_source: Option<String>,
    /// Library selection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_selection: Option<String>,
    /// Library layout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_layout: Option<String>,
    /// Accessions of related records (project, sample, experiment, BioSample ↔ SRA sample …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// The accession that replaced this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    /// Only status, dates and links (from `SRA_Accessions.tab`): applied onto the record if it is
    /// there, and a short record of its own if not.
    #[serde(skip)]
    pub status_only: bool,
    /// The record as the dump wrote it: its XML element, or its TSV line with the header's names.
    #[serde(skip)]
    pub raw: String,
}

/// The archive that issued an accession, by its prefix.
pub fn origin_of(accession: &str) -> &'static str {
    let b = accession.as_bytes();
    let first = |c: u8| b.first() == Some(&c);
    if accession.starts_with("SAMN") || accession.starts_with("PRJN") || accession.starts_with("GC")
    {
        "NCBI"
    } else if accession.starts_with("SAME") || accession.starts_with("PRJE") {
        "ENA"
    } else if accession.starts_with("SAMD") || accession.starts_with("PRJD") {
        "DDBJ"
    } else if accession.starts_with("SAMC") || accession.starts_with("PRJC") {
        "NGDC"
    } else if b.len() > 3 && b[1] == b'R' && b[2].is_ascii_uppercase() {
        if first(b'E') {
            "ENA"
        } else if first(b'D') {
            "DDBJ"
        } else if first(b'C') {
            "NGDC"
        } else {
            "NCBI"
        }
    } else {
        "NCBI"
    }
}

/// A record that could not be read, and where it is.
#[derive(Clone, Debug, Eq, PartialEq, Serialize)]
pub struct Skip {
    /// Its number in the file, from 1.
    pub record: u64,
    /// The file (or tarball member) it is in.
    pub file: String,
    /// Byte offset of its start in the uncompressed file.
    pub offset: u64,
    /// Line of its start, from 1.
    pub line: u64,
    /// Its accession, when that much could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accession: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: record {} (line {}, byte {})",
            self.file, self.record, self.line, self.offset
        )?;
        if let Some(accession) = &self.accession {
            write!(f, " {accession}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// What a reader yields.
#[derive(Debug)]
pub enum Item {
    /// A record.
    Record(Box<MirrorRecord>),
    /// A record that could not be read.
    Skipped(Skip),
}

/// Why a dump could not be read on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is not what the source reads.
    #[error("{file}: {message}")]
    WrongFile {
        /// The file.
        file: String,
        /// What was expected and found.
        message: String,
    },
    /// Reading failed (a truncated gzip member, a broken tarball, a disk error).
    #[error("{file}: {message} (after {offset} bytes)")]
    Read {
        /// The file.
        file: String,
        /// Uncompressed bytes read before the failure.
        offset: u64,
        /// What happened.
        message: String,
    },
}

/// A stream of [`Item`]s from one dump.
pub struct Records {
    inner: Box<dyn Iterator<Item = Result<Item, Error>> + Send>,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records").finish_non_exhaustive()
    }
}

impl Records {
    /// Input bytes read so far (compressed bytes for a compressed file), for progress.
    pub fn bytes_read(&self) -> u64 {
        self.counter.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Iterator for Records {
    type Item = Result<Item, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }
}

/// Counts bytes read through it.
pub(crate) struct Counting<R> {
    inner: R,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads the first bytes of a stream, undoing gzip when it is compressed.
pub(crate) fn open_stream(
    input: Box<dyn Read + Send>,
    name: &str,
) -> Result<(Box<dyn Read + Send>, Vec<u8>), Error> {
    let mut input = input;
    let mut magic = vec![0u8; 2];
    let got = read_full(&mut input, &mut magic).map_err(|e| read_error(name, 0, &e))?;
    magic.truncate(got);
    let chained: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(magic.clone()).chain(input));
    let mut stream: Box<dyn Read + Send> = if magic == [0x1f, 0x8b] {
        Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::with_capacity(1 << 20, chained),
        ))
    } else {
        chained
    };
    let mut head = vec![0u8; 64 << 10];
    let got = read_full(&mut stream, &mut head).map_err(|e| read_error(name, 0, &e))?;
    head.truncate(got);
    Ok((stream, head))
}

fn read_full(input: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

pub(crate) fn read_error(file: &str, offset: u64, e: &std::io::Error) -> Error {
    let message = if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "the file ends early (a truncated gzip file?)".to_owned()
    } else {
        e.to_string()
    };
    Error::Read {
        file: file.to_owned(),
        offset,
        message,
    }
}

/// Checks that a file starts as XML, before its root element is asked for.
pub(crate) fn expect_xml(head: &[u8], name: &str) -> Result<(), Error> {
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    let bom = head.starts_with(&[0xef, 0xbb, 0xbf]);
    if first == Some(&b'<') || bom {
        Ok(())
    } else if head.is_empty() {
        Err(Error::WrongFile {
            file: name.to_owned(),
            message: "the file is empty".into(),
        })
    } else {
        Err(Error::WrongFile {
            file: name.to_owned(),
            message: "this is not XML (it does not start with '<'): binary or another format"
                .into(),
        })
    }
}

/// Reads a dump of `source` from `input`, named `name` in reports. A tarball or folder of SRA
/// XML goes through [`read_path`].
pub fn read(
    source: Source,
    input: impl Read + Send + 'static,
    name: &str,
) -> Result<Records, Error> {
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counting = Counting {
        inner: input,
        counter: counter.clone(),
    };
    let inner: Box<dyn Iterator<Item = Result<Item, Error>> + Send> = match source {
        Source::Bioproject => parallel(
            ncbi::read(Box::new(counting), name, ncbi::Kind::Project)?,
            name,
        ),
        Source::Biosample => parallel(
            ncbi::read(Box::new(counting), name, ncbi::Kind::Sample)?,
            name,
        ),
        Source::Sra => Box::new(sra::read_stream(Box::new(counting), name)?),
        Source::SraAccessions => {
            Box::new(tab::read(Box::new(counting), name, tab::Kind::Accessions)?)
        }
        Source::Assembly => Box::new(tab::read(Box::new(counting), name, tab::Kind::Assembly)?),
    };
    Ok(Records { inner, counter })
}

/// An XML dump's items, parsed on every core when there is more than one.
fn parallel(
    items: ncbi::XmlItems,
    name: &str,
) -> Box<dyn Iterator<Item = Result<Item, Error>> + Send> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if cores < 2 {
        return Box::new(items);
    }
    Box::new(par::ParallelItems::new(items, name, cores.min(4)))
}

/// Reads a dump from a file or, for [`Source::Sra`], a folder of SRA XML files.
pub fn read_path(source: Source, path: &std::path::Path) -> Result<Records, Error> {
    let name = path.display().to_string();
    if path.is_dir() {
        if source != Source::Sra {
            return Err(Error::WrongFile {
                file: name,
                message: format!("a folder, but {source} dumps are single files"),
            });
        }
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let inner = sra::read_folder(path, counter.clone())?;
        return Ok(Records {
            inner: Box::new(inner),
            counter,
        });
    }
    let file = std::fs::File::open(path).map_err(|e| read_error(&name, 0, &e))?;
    read(source, file, &name)
}

/// The record text as stored: XML as the dump wrote it.
pub(crate) fn raw_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| xml::decode(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins_follow_the_accession_prefix() {
        assert_eq!(origin_of("SRR000001"), "NCBI");
        assert_eq!(origin_of("ERR000076"), "ENA");
        assert_eq!(origin_of("DRX000001"), "DDBJ");
        assert_eq!(origin_of("SAMEA123"), "ENA");
        assert_eq!(origin_of("PRJDB1"), "DDBJ");
        assert_eq!(origin_of("GCA_000001405.29"), "NCBI");
        assert_eq!(origin_of("CRR000001"), "NGDC");
    }
}
