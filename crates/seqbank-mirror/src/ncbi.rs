//! NCBI `bioproject.xml` and `biosample_set.xml`.

use std::io::Read;

use crate::{
    Error, Item, MirrorRecord, Skip, expect_xml, open_stream, origin_of, raw_text, read_error,
    xml::{self, Element, Splitter},
};

/// Which NCBI dump.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Project,
    Sample,
}

/// Turns one parsed record element into a record.
pub(crate) type Mapper = fn(&Element) -> Result<MirrorRecord, String>;

/// Reads a record without a tree, or gives up (`None`) and leaves it to the tree and `Mapper`.
pub(crate) type FastMapper = fn(&str) -> Option<MirrorRecord>;

/// The records of one XML stream.
pub(crate) struct XmlItems {
    splitter: Splitter<Box<dyn Read + Send>>,
    mapper: RecordMapper,
    number: u64,
    failed: bool,
}

impl XmlItems {
    pub(crate) fn new(
        stream: Box<dyn Read + Send>,
        head: Vec<u8>,
        file: &str,
        tag: &str,
        map: Mapper,
    ) -> Self {
        Self {
            splitter: Splitter::new(stream, head, tag),
            mapper: RecordMapper {
                file: file.to_owned(),
                map,
                fast: None,
            },
            number: 0,
            failed: false,
        }
    }

    /// Reads records with `fast` first.
    pub(crate) fn with_fast(mut self, fast: FastMapper) -> Self {
        self.mapper.fast = Some(fast);
        self
    }
}

/// The accession attribute of a start tag, read without parsing the record.
fn accession_in(bytes: &[u8]) -> Option<String> {
    let end = memchr::memchr(b'>', bytes).unwrap_or(bytes.len());
    let tag = &bytes[..end];
    let at = memchr::memmem::find(tag, b" accession=\"")? + 12;
    let len = memchr::memchr(b'"', &tag[at..])?;
    Some(String::from_utf8_lossy(&tag[at..at + len]).into_owned()).filter(|a| !a.is_empty())
}

/// How one raw record becomes an item: what a parsing thread needs.
#[derive(Clone)]
pub(crate) struct RecordMapper {
    file: String,
    map: Mapper,
    fast: Option<FastMapper>,
}

impl RecordMapper {
    /// Record `number` (from 1) of the file.
    pub(crate) fn item(&self, number: u64, raw: xml::RawRecord) -> Item {
        let xml::RawRecord {
            bytes,
            offset,
            line,
            unterminated,
        } = raw;
        let skip = |reason: String, bytes: &[u8]| {
            Item::Skipped(Skip {
                record: number,
                file: self.file.clone(),
                offset,
                line,
                accession: accession_in(bytes),
                reason,
            })
        };
        if let Some(why) = unterminated {
            return skip(why.to_owned(), &bytes);
        }
        let text = raw_text(bytes);
        if let Some(mut record) = self.fast.and_then(|fast| fast(&text)) {
            record.raw = text;
            return Item::Record(Box::new(record));
        }
        let element = match xml::parse(&text) {
            Ok(element) => element,
            Err(e) => return skip(e, text.as_bytes()),
        };
        match (self.map)(&element) {
            Ok(mut record) => {
                record.raw = text;
                Item::Record(Box::new(record))
            }
            Err(e) => skip(e, text.as_bytes()),
        }
    }
}

impl XmlItems {
    /// The mapping half, for threads that parse what this one splits.
    pub(crate) fn mapper(&self) -> RecordMapper {
        self.mapper.clone()
    }

    /// The next record's bytes and number, unparsed.
    pub(crate) fn next_raw(&mut self) -> Option<Result<(u64, xml::RawRecord), Error>> {
        if self.failed {
            return None;
        }
        match self.splitter.next_record() {
            Ok(Some(raw)) => {
                self.number += 1;
                Some(Ok((self.number, raw)))
            }
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(read_error(
                    &self.mapper.file,
                    self.splitter.position(),
                    &e,
                )))
            }
        }
    }
}

impl Iterator for XmlItems {
    type Item = Result<Item, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let (number, raw) = match self.next_raw()? {
            Ok(next) => next,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok(self.mapper.item(number, raw)))
    }
}

pub(crate) fn read(input: Box<dyn Read + Send>, name: &str, kind: Kind) -> Result<XmlItems, Error> {
    let (stream, head) = open_stream(input, name)?;
    expect_xml(&head, name)?;
    let root = xml::root_name(&head).unwrap_or_default();
    let (expected, tag, map): (&[&str], &str, Mapper) = match kind {
        Kind::Project => (&["PackageSet", "Package"], "Package", bioproject),
        Kind::Sample => (&["BioSampleSet", "BioSample"], "BioSample", biosample_tree),
    };
    if !expected.contains(&root.as_str()) {
        let hint = match root.as_str() {
            "PackageSet" => " (a BioProject dump)",
            "BioSampleSet" => " (a BioSample dump)",
            r if r.ends_with("_SET") => " (SRA XML)",
            _ => "",
        };
        return Err(Error::WrongFile {
            file: name.to_owned(),
            message: format!(
                "expected a <{}> document, found <{root}>{hint}",
                expected[0]
            ),
        });
    }
    let items = XmlItems::new(stream, head, name, tag, map);
    Ok(match kind {
        Kind::Sample => items.with_fast(crate::fast::biosample),
        Kind::Project => items,
    })
}

/// A date attribute, if present.
fn date(el: &Element, name: &str) -> Option<String> {
    el.attr(name).map(str::to_owned)
}

fn push_attr(record: &mut MirrorRecord, tag: &str, value: Option<String>) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        record.attributes.push((tag.to_owned(), value));
    }
}

/// A BioSample read from its tree (records the fast path in `fast.rs` gives up on).
pub(crate) fn biosample_tree(el: &Element) -> Result<MirrorRecord, String> {
    let accession = el
        .attr("accession")
        .map(str::to_owned)
        .or_else(|| {
            el.child("Ids").and_then(|ids| {
                ids.children("Id")
                    .find(|id| id.attr("db") == Some("BioSample"))
                    .and_then(Element::text)
            })
        })
        .ok_or("the BioSample has no accession")?;
    let mut record = MirrorRecord {
        origin: origin_of(&accession),
        kind: "sample",
        last_update: date(el, "last_update"),
        published: date(el, "publication_date"),
        submitted: date(el, "submission_date"),
        status: el
            .child("Status")
            .and_then(|s| s.attr("status"))
            .map(str::to_owned)
            .or_else(|| Some("live".into())),
        ..MirrorRecord::default()
    };
    if let Some(d) = el.child("Description") {
        record.title = d
            .text_at(&["Title"])
            .or_else(|| d.text_at(&["SampleName"]))
            .unwrap_or_default();
        if let Some(o) = d.child("Organism") {
            record.organism = o
                .text_at(&["OrganismName"])
                .or_else(|| o.attr("taxonomy_name").map(str::to_owned));
            record.tax_id = o.attr("taxonomy_id").and_then(|t| t.parse().ok());
        }
        let paragraphs: Vec<String> = d
            .child("Comment")
            .map(|c| c.children("Paragraph").filter_map(Element::text).collect())
            .unwrap_or_default();
        if !paragraphs.is_empty() {
            record.description = Some(paragraphs.join("\n"));
        }
    }
    if let Some(ids) = el.child("Ids") {
        for id in ids.children("Id") {
            if id.attr("db") == Some("SRA")
                && let Some(sra) = id.text()
            {
                record.links.push(sra);
            }
        }
    }
    push_attr(&mut record, "package", el.text_at(&["Package"]));
    if let Some(attrs) = el.child("Attributes") {
        for a in attrs.children("Attribute") {
            let Some(tag) = a
                .attr("harmonized_name")
                .or_else(|| a.attr("attribute_name"))
            else {
                continue;
            };
            if let Some(value) = a.text() {
                record.attributes.push((tag.to_owned(), value));
            }
        }
    }
    if let Some(links) = el.child("Links") {
        for link in links.children("Link") {
            if link.attr("target") == Some("bioproject")
                && let Some(label) = link.attr("label").filter(|l| l.starts_with("PRJ"))
            {
                record.links.push(label.to_owned());
            }
        }
    }
    if el.attr("access") == Some("controlled") {
        push_attr(&mut record, "access", Some("controlled".into()));
    }
    if record.title.is_empty() {
        record.title.clone_from(&accession);
    }
    record.accession = accession;
    Ok(record)
}

fn bioproject(package: &Element) -> Result<MirrorRecord, String> {
    let outer = package
        .child("Project")
        .ok_or("the Package has no <Project>")?;
    let project = outer.child("Project").unwrap_or(outer);
    let id = project
        .path(&["ProjectID", "ArchiveID"])
        .ok_or("the Project has no ProjectID/ArchiveID")?;
    let accession = id
        .attr("accession")
        .map(str::to_owned)
        .ok_or("the Project's ArchiveID has no accession")?;
    let mut record = MirrorRecord {
        origin: origin_of(&accession),
        kind: "project",
        status: Some("live".into()),
        ..MirrorRecord::default()
    };
    if let Some(descr) = project.child("ProjectDescr") {
        record.title = descr
            .text_at(&["Title"])
            .or_else(|| descr.text_at(&["Name"]))
            .unwrap_or_default();
        record.description = descr.text_at(&["Description"]);
        push_attr(&mut record, "name", descr.text_at(&["Name"]));
        record.published = descr.text_at(&["ProjectReleaseDate"]);
        for publication in descr.children("Publication") {
            push_attr(
                &mut record,
                "pubmed",
                publication.attr("id").map(str::to_owned),
            );
        }
        for grant in descr.children("Grant") {
            push_attr(
                &mut record,
                "grant",
                grant.attr("GrantId").map(str::to_owned),
            );
        }
        push_attr(&mut record, "relevance", {
            descr
                .child("Relevance")
                .and_then(|r| r.children.first())
                .map(|c| c.name.clone())
        });
    }
    if let Some(kind) = project.child("ProjectType") {
        for el in kind.descendants() {
            match el.name.as_str() {
                "Organism" if record.tax_id.is_none() => {
                    record.tax_id = el.attr("taxID").and_then(|t| t.parse().ok());
                    record.organism = el.text_at(&["OrganismName"]);
                }
                "DataType" => push_attr(&mut record, "data_type", el.text()),
                "Method" => push_attr(
                    &mut record,
                    "method_type",
                    el.attr("method_type").map(str::to_owned),
                ),
                "Target" => {
                    push_attr(
                        &mut record,
                        "sample_scope",
                        el.attr("sample_scope").map(str::to_owned),
                    );
                    push_attr(
                        &mut record,
                        "material",
                        el.attr("material").map(str::to_owned),
                    );
                }
                "ProjectTypeTopAdmin" | "ProjectTypeSubmission" => push_attr(
                    &mut record,
                    "project_type",
                    Some(el.name.trim_start_matches("ProjectType").to_lowercase()),
                ),
                _ => {}
            }
        }
    }
    if let Some(submission) = outer.child("Submission") {
        record.submitted = date(submission, "submitted");
        record.last_update = date(submission, "last_update").or_else(|| record.submitted.clone());
        if let Some(d) = submission.child("Description") {
            push_attr(
                &mut record,
                "organization",
                d.text_at(&["Organization", "Name"]),
            );
            push_attr(&mut record, "access", d.text_at(&["Access"]));
        }
    }
    if let Some(links) = outer.child("ProjectLinks") {
        for el in links.descendants() {
            if matches!(el.name.as_str(), "MemberID" | "ProjectIDRef")
                && let Some(other) = el.attr("accession")
                && other != accession
                && !record.links.iter().any(|l| l == other)
            {
                record.links.push(other.to_owned());
            }
        }
    }
    if record.title.is_empty() {
        record.title.clone_from(&accession);
    }
    record.accession = accession;
    Ok(record)
}
