//! Read-name styles: recognising what wrote a read name and the ids it carries.
//!
//! The styles are those SRA's loader and ENA's readtools recognise: Illumina CASAVA 1.8+
//! (`@A00123:8:H5KJ3DSXX:1:1101:10004:1000 1:N:0:ACGT`), older Illumina
//! (`@HWUSI-EAS100R:6:73:941:1973#0/1`), BGI/MGI (`@V300012345L1C001R0010000001/1`), Oxford
//! Nanopore (a UUID, `runid=` in the comment), PacBio (`@m64011_190830_220126/1/ccs`) and names
//! rewritten by SRA (`@SRR1234567.1`).

/// A recognised read-name style.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum NameStyle {
    Casava18,
    IlluminaLegacy,
    Mgi,
    Nanopore,
    PacBio,
    Sra,
    Generic,
}

impl NameStyle {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Casava18 => "illumina_casava18",
            Self::IlluminaLegacy => "illumina_legacy",
            Self::Mgi => "mgi",
            Self::Nanopore => "nanopore",
            Self::PacBio => "pacbio",
            Self::Sra => "sra",
            Self::Generic => "generic",
        }
    }

    /// The INSDC platform term the style implies.
    pub(crate) fn platform(self) -> Option<&'static str> {
        match self {
            Self::Casava18 | Self::IlluminaLegacy => Some("ILLUMINA"),
            Self::Mgi => Some("BGISEQ"),
            Self::Nanopore => Some("OXFORD_NANOPORE"),
            Self::PacBio => Some("PACBIO_SMRT"),
            Self::Sra | Self::Generic => None,
        }
    }
}

/// What a read name says.
#[derive(Debug, Eq, PartialEq)]
pub(crate) struct ParsedName<'a> {
    pub(crate) style: NameStyle,
    /// The mate label (1–4) from the CASAVA comment or a `/N` suffix.
    pub(crate) label: Option<u8>,
    pub(crate) instrument: &'a [u8],
    pub(crate) run: &'a [u8],
    pub(crate) flowcell: &'a [u8],
}

fn digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

fn slash_label(name: &[u8]) -> (&[u8], Option<u8>) {
    match name {
        [rest @ .., b'/', d @ b'1'..=b'4'] => (rest, Some(d - b'0')),
        _ => (name, None),
    }
}

/// Classifies a read name (the header's first word) with its comment (the rest).
pub(crate) fn parse<'a>(name: &'a [u8], comment: &'a [u8]) -> ParsedName<'a> {
    let (base, suffix_label) = slash_label(name);
    let generic = ParsedName {
        style: NameStyle::Generic,
        label: suffix_label,
        instrument: b"",
        run: b"",
        flowcell: b"",
    };

    let mut fields = [&b""[..]; 9];
    let mut n_fields = 0;
    for field in base.split(|&b| b == b':') {
        if n_fields == fields.len() {
            n_fields += 1;
            break;
        }
        fields[n_fields] = field;
        n_fields += 1;
    }

    if (n_fields == 7 || n_fields == 8)
        && fields[3..7].iter().all(|f| digits(f))
        && digits(fields[1])
    {
        let label = match comment {
            [d @ b'1'..=b'4', b':', b'Y' | b'N', b':', ..] => Some(d - b'0'),
            _ => suffix_label,
        };
        return ParsedName {
            style: NameStyle::Casava18,
            label,
            instrument: fields[0],
            run: fields[1],
            flowcell: fields[2],
        };
    }

    if n_fields == 5 && fields[1..4].iter().all(|f| digits(f)) {
        let y = fields[4];
        let y = y.iter().position(|&b| b == b'#').map_or(y, |i| &y[..i]);
        if digits(y) {
            return ParsedName {
                style: NameStyle::IlluminaLegacy,
                label: suffix_label,
                instrument: fields[0],
                run: b"",
                flowcell: b"",
            };
        }
    }

    if let Some(flowcell) = mgi_flowcell(base) {
        return ParsedName {
            style: NameStyle::Mgi,
            flowcell,
            ..generic
        };
    }

    if is_uuid(name) {
        let run = comment
            .split(|&b| b == b' ' || b == b'\t')
            .find_map(|kv| kv.strip_prefix(b"runid="))
            .unwrap_or(b"");
        return ParsedName {
            style: NameStyle::Nanopore,
            run,
            ..generic
        };
    }

    if let Some((movie, instrument)) = pacbio_movie(name) {
        return ParsedName {
            style: NameStyle::PacBio,
            label: None,
            instrument,
            run: movie,
            ..generic
        };
    }

    if let Some(run) = sra_accession(base) {
        return ParsedName {
            style: NameStyle::Sra,
            run,
            ..generic
        };
    }

    generic
}

/// `V300012345L1C001R0010000001`: flowcell, `L` lane, `C` column, `R` row, then the read number.
fn mgi_flowcell(name: &[u8]) -> Option<&[u8]> {
    let l = name.iter().position(|&b| b == b'L')?;
    let flowcell = &name[..l];
    let rest = &name[l + 1..];
    let ok = flowcell.len() >= 5
        && flowcell.iter().all(u8::is_ascii_alphanumeric)
        && flowcell.iter().any(u8::is_ascii_digit)
        && rest.len() >= 10
        && rest[0].is_ascii_digit()
        && rest[1] == b'C'
        && digits(&rest[2..5])
        && rest[5] == b'R'
        && digits(&rest[6..9])
        && rest[9..].iter().all(|&b| b.is_ascii_digit() || b == b'_');
    ok.then_some(flowcell)
}

fn is_uuid(name: &[u8]) -> bool {
    name.len() == 36
        && name.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `m64011_190830_220126/1/ccs` or `m54006_160504_020705/4194370/0_11386`: (movie, instrument).
fn pacbio_movie(name: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut parts = name.split(|&b| b == b'/');
    let movie = parts.next()?;
    let zmw = parts.next()?;
    let ok = movie.len() > 2
        && movie[0] == b'm'
        && movie[1].is_ascii_digit()
        && movie
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_')
        && digits(zmw);
    if !ok {
        return None;
    }
    let instrument = &movie[1..movie.iter().position(|&b| b == b'_').unwrap_or(movie.len())];
    Some((movie, instrument))
}

/// `SRR1234567.1` (or `.1.1`): the run accession.
fn sra_accession(name: &[u8]) -> Option<&[u8]> {
    let dot = name.iter().position(|&b| b == b'.')?;
    let accession = &name[..dot];
    let ok = accession.len() >= 4
        && matches!(&accession[..3], b"SRR" | b"ERR" | b"DRR" | b"CRR")
        && digits(&accession[3..])
        && name[dot + 1..].split(|&b| b == b'.').all(digits);
    ok.then_some(accession)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(name: &str, comment: &str) -> (NameStyle, Option<u8>) {
        let parsed = parse(name.as_bytes(), comment.as_bytes());
        (parsed.style, parsed.label)
    }

    #[test]
    fn recognises_each_style() {
        use NameStyle::*;
        assert_eq!(
            style("A00123:8:H5KJ3DSXX:1:1101:10004:1000", "2:N:0:ACGTACGT"),
            (Casava18, Some(2))
        );
        assert_eq!(
            style("A00123:8:H5KJ3DSXX:1:1101:10004:1000:ACGTTT", ""),
            (Casava18, None)
        );
        assert_eq!(
            style("HWUSI-EAS100R:6:73:941:1973#0/1", ""),
            (IlluminaLegacy, Some(1))
        );
        assert_eq!(style("HWI-ST:1:1:1:1/2", ""), (IlluminaLegacy, Some(2)));
        assert_eq!(style("V300012345L1C001R0010000001/1", ""), (Mgi, Some(1)));
        assert_eq!(style("E100000000L1C001R00100000001/2", ""), (Mgi, Some(2)));
        assert_eq!(
            style("0f5e3c1a-1d2b-4c3d-8e9f-0a1b2c3d4e5f", "runid=abc ch=1"),
            (Nanopore, None)
        );
        assert_eq!(style("m64011_190830_220126/1/ccs", ""), (PacBio, None));
        assert_eq!(
            style("m54006_160504_020705/4194370/0_11386", ""),
            (PacBio, None)
        );
        assert_eq!(style("SRR1234567.1", "1 length=150"), (Sra, None));
        assert_eq!(style("ERR000001.12/1", ""), (Sra, Some(1)));
        assert_eq!(style("read_1", ""), (Generic, None));
        assert_eq!(style("frag17/2", ""), (Generic, Some(2)));
        // Field counts at the edges: a trailing colon is an empty eighth field, ten fields
        // are too many.
        assert_eq!(
            style("A00123:8:H5KJ3DSXX:1:1101:10004:1000:", ""),
            (Casava18, None)
        );
        assert_eq!(style("A:8:F:1:1:1:1:1:1:1", ""), (Generic, None));
        assert_eq!(style("A:8:F:1:1:1", ""), (Generic, None));
        assert_eq!(style("", ""), (Generic, None));
        // Found by fuzzing: an empty PacBio-like movie name.
        assert_eq!(style("/5", ""), (Generic, None));
        assert_eq!(style("/", ""), (Generic, None));
    }

    #[test]
    fn extracts_ids() {
        let parsed = parse(b"A00123:8:H5KJ3DSXX:1:1101:10004:1000", b"1:N:0:A");
        assert_eq!(
            (parsed.instrument, parsed.run, parsed.flowcell),
            (&b"A00123"[..], &b"8"[..], &b"H5KJ3DSXX"[..])
        );
        let parsed = parse(b"V300012345L1C001R0010000001", b"");
        assert_eq!(parsed.flowcell, b"V300012345");
        let parsed = parse(
            b"0f5e3c1a-1d2b-4c3d-8e9f-0a1b2c3d4e5f",
            b"read=1 runid=9f0e ch=3",
        );
        assert_eq!(parsed.run, b"9f0e");
        let parsed = parse(b"m64011_190830_220126/1/ccs", b"");
        assert_eq!(
            (parsed.instrument, parsed.run),
            (&b"64011"[..], &b"m64011_190830_220126"[..])
        );
    }
}
