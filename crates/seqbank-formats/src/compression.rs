//! Detecting and undoing gzip, BGZF and bzip2, turning damage into findings instead of errors.

use std::io::{self, BufRead, Read};

use crate::{Code, Compression, report::Findings, source::Input};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BZIP2_MAGIC: &[u8] = b"BZh";
/// The 28-byte empty block that ends every BGZF file (SAM spec §4.1.2).
pub(crate) const BGZF_EOF: [u8; 28] = [
    0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02, 0x00,
    0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// Tells the compression from the first bytes.
pub(crate) fn detect(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        // BGZF: FLG.FEXTRA set and the first extra subfield is `BC` (SAM spec §4.1).
        if head.len() >= 14 && head[3] & 0x04 != 0 && head[12] == b'B' && head[13] == b'C' {
            Compression::Bgzf
        } else {
            Compression::Gzip
        }
    } else if head.starts_with(BZIP2_MAGIC)
        && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b))
    {
        Compression::Bzip2
    } else {
        Compression::None
    }
}

/// What went wrong while decompressing, if anything.
#[derive(Debug)]
enum Problem {
    Corrupt { offset: u64, message: String },
    Truncated { offset: u64 },
    TrailingGarbage { offset: u64 },
}

/// A decompressing reader that ends the stream at the first damage and remembers it.
pub(crate) struct Decoder<'a> {
    inner: Inner<'a>,
    problem: Option<Problem>,
}

enum Inner<'a> {
    Plain(&'a mut Input),
    Gzip(Gzip<'a>),
    Bgzf(Box<noodles_bgzf::io::Reader<&'a mut Input>>),
    Bzip2(bzip2::bufread::MultiBzDecoder<&'a mut Input>),
}

/// gzip members one after another; anything after the last member that is not a member is
/// trailing garbage (flate2's `MultiGzDecoder` cannot tell that from a corrupt header).
enum Gzip<'a> {
    Member(Box<flate2::bufread::GzDecoder<&'a mut Input>>),
    Between(&'a mut Input),
    Done,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(input: &'a mut Input, compression: Compression) -> Self {
        let inner = match compression {
            Compression::None => Inner::Plain(input),
            Compression::Gzip => Inner::Gzip(Gzip::Member(Box::new(
                flate2::bufread::GzDecoder::new(input),
            ))),
            Compression::Bgzf => Inner::Bgzf(Box::new(noodles_bgzf::io::Reader::new(input))),
            Compression::Bzip2 => Inner::Bzip2(bzip2::bufread::MultiBzDecoder::new(input)),
        };
        Self {
            inner,
            problem: None,
        }
    }

    /// Whether there is anything to undo.
    pub(crate) fn is_compressed(&self) -> bool {
        !matches!(self.inner, Inner::Plain(_))
    }

    fn input_offset(&self) -> u64 {
        match &self.inner {
            Inner::Plain(input) => input.offset(),
            Inner::Gzip(Gzip::Member(decoder)) => decoder.get_ref().offset(),
            Inner::Gzip(Gzip::Between(input)) => input.offset(),
            Inner::Gzip(Gzip::Done) => 0,
            Inner::Bgzf(reader) => reader.get_ref().offset(),
            Inner::Bzip2(decoder) => decoder.get_ref().offset(),
        }
    }

    /// Adds a finding for the damage seen, if any.
    pub(crate) fn report(&self, findings: &mut Findings) {
        match &self.problem {
            None => {}
            Some(Problem::Corrupt { offset, message }) => findings.push(
                Code::CompressionCorrupt,
                || format!("compressed data is damaged near byte {offset} of the file: {message}"),
                None,
                None,
                Some(*offset),
            ),
            Some(Problem::Truncated { offset }) => findings.push(
                Code::CompressionTruncated,
                || {
                    format!(
                        "the compressed stream ends early, at byte {offset}, before its end marker"
                    )
                },
                None,
                None,
                Some(*offset),
            ),
            Some(Problem::TrailingGarbage { offset }) => findings.push(
                Code::CompressionTrailingGarbage,
                || {
                    format!(
                        "bytes from offset {offset} on are not compressed data and were not read"
                    )
                },
                None,
                None,
                Some(*offset),
            ),
        }
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Plain(input) => input.read(buf),
            Inner::Bgzf(reader) => reader.read(buf),
            Inner::Bzip2(decoder) => decoder.read(buf),
            Inner::Gzip(gzip) => loop {
                match std::mem::replace(gzip, Gzip::Done) {
                    Gzip::Member(mut decoder) => match decoder.read(buf) {
                        Ok(0) if !buf.is_empty() => *gzip = Gzip::Between(decoder.into_inner()),
                        Ok(n) => {
                            *gzip = Gzip::Member(decoder);
                            return Ok(n);
                        }
                        Err(e) => {
                            *gzip = Gzip::Member(decoder);
                            return Err(e);
                        }
                    },
                    Gzip::Between(input) => {
                        let head = input.fill_buf()?;
                        if head.is_empty() {
                            return Ok(0);
                        } else if head.starts_with(&GZIP_MAGIC) || head == [GZIP_MAGIC[0]] {
                            *gzip = Gzip::Member(Box::new(flate2::bufread::GzDecoder::new(input)));
                        } else {
                            let offset = input.offset();
                            self.problem = Some(Problem::TrailingGarbage { offset });
                            return Ok(0);
                        }
                    }
                    Gzip::Done => return Ok(0),
                }
            },
        }
    }
}

impl Read for Decoder<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.problem.is_some() {
            return Ok(0);
        }
        match self.read_inner(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let offset = self.input_offset();
                self.problem = Some(if e.kind() == io::ErrorKind::UnexpectedEof {
                    Problem::Truncated { offset }
                } else {
                    Problem::Corrupt {
                        offset,
                        message: e.to_string(),
                    }
                });
                Ok(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::with_input;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).expect("in memory");
        encoder.finish().expect("in memory")
    }

    fn decode(bytes: &[u8]) -> (Vec<u8>, Vec<String>) {
        let (out, _) = with_input(bytes, false, None, None, |input| {
            let compression = detect(input.fill_buf().expect("in memory"));
            let mut decoder = Decoder::new(input, compression);
            let mut out = Vec::new();
            decoder
                .read_to_end(&mut out)
                .expect("decoder never fails on data");
            let mut findings = Findings::new(10);
            decoder.report(&mut findings);
            let codes = findings
                .into_parts()
                .0
                .iter()
                .map(|f| f.code().to_owned())
                .collect();
            (out, codes)
        })
        .expect("in memory");
        out
    }

    #[test]
    fn reads_every_gzip_member() {
        let mut bytes = gzip(b"hello ");
        bytes.extend(gzip(b"world"));
        assert_eq!(decode(&bytes), (b"hello world".to_vec(), vec![]));
    }

    #[test]
    fn truncated_gzip_is_a_finding() {
        let bytes = gzip(&vec![b'A'; 100_000]);
        let (_, codes) = decode(&bytes[..bytes.len() - 10]);
        assert_eq!(codes, ["compression.truncated"]);
    }

    #[test]
    fn garbage_after_gzip_is_a_finding() {
        let mut bytes = gzip(b"hello");
        bytes.extend_from_slice(b"not gzip at all");
        assert_eq!(
            decode(&bytes),
            (
                b"hello".to_vec(),
                vec!["compression.trailing_garbage".to_owned()]
            )
        );
    }

    #[test]
    fn detects_bgzf_and_bzip2() {
        assert_eq!(detect(&BGZF_EOF), Compression::Bgzf);
        assert_eq!(detect(&gzip(b"x")), Compression::Gzip);
        assert_eq!(detect(b"BZh91AY&SY"), Compression::Bzip2);
        assert_eq!(detect(b"@read"), Compression::None);
    }
}
