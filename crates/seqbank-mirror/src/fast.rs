//! BioSample records read straight from the XML events, without building a tree.
//!
//! BioSample is the largest dump (tens of millions of records), and most of the time of reading
//! one record as a tree goes to allocating elements nobody asks for. This reader keeps only the
//! fields the mapping takes, following the same rules as the tree mapping in `ncbi.rs` (the first
//! `<Description>`, its first `<Title>`, every `<Attribute>` of the first `<Attributes>`, …). When a
//! record is anything but well formed, it gives up and the tree reader, which says what is wrong,
//! reads it instead; the tests hold both to the same answers.

use quick_xml::{XmlVersion, events::Event};

use crate::{MirrorRecord, origin_of, xml::collapse};

/// What an open element is to the mapping.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Role {
    Root,
    Ids,
    Id { biosample: bool, sra: bool },
    Description,
    Title,
    SampleName,
    Organism,
    OrganismName,
    Comment,
    Paragraph,
    Package,
    Attributes,
    Attribute,
    Links,
    Status,
    Other,
}

impl Role {
    /// Whether the element's own text is wanted.
    fn keeps_text(self) -> bool {
        matches!(
            self,
            Role::Id { .. }
                | Role::Title
                | Role::SampleName
                | Role::OrganismName
                | Role::Paragraph
                | Role::Package
                | Role::Attribute
        )
    }
}

/// First-occurrence flags: the tree mapping reads the first child of each name.
#[derive(Default)]
struct Seen {
    ids: bool,
    description: bool,
    title: bool,
    sample_name: bool,
    organism: bool,
    organism_name: bool,
    comment: bool,
    package: bool,
    attributes: bool,
    links: bool,
    status: bool,
    biosample_id: bool,
}

/// What the record holds, as the tree mapping reads it.
#[derive(Default)]
struct Fields {
    accession: Option<String>,
    id_accession: Option<String>,
    last_update: Option<String>,
    published: Option<String>,
    submitted: Option<String>,
    controlled: bool,
    status: Option<String>,
    title: Option<String>,
    sample_name: Option<String>,
    organism_name: Option<String>,
    taxonomy_name: Option<String>,
    tax_id: Option<u64>,
    paragraphs: Vec<String>,
    sra: Vec<String>,
    package: Option<String>,
    attributes: Vec<(String, String)>,
    projects: Vec<String>,
}

/// An attribute value as the tree reader keeps it: normalized, trimmed, not empty.
fn value(attr: &quick_xml::events::attributes::Attribute<'_>) -> Option<String> {
    let value = match attr.normalized_value(XmlVersion::Implicit1_0) {
        Ok(v) => v,
        Err(_) => attr.value.clone(),
    };
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// Sets `slot` from the first attribute of its name only, as the tree's `attr()` finds it.
fn first(slot: &mut Option<Option<String>>, attr: &quick_xml::events::attributes::Attribute<'_>) {
    if slot.is_none() {
        *slot = Some(value(attr));
    }
}

/// The values of the named attributes of a start tag, each from its first occurrence as the
/// tree's `attr()` finds it; `None` if the tag's attributes cannot be read.
fn attrs<const N: usize>(
    start: &quick_xml::events::BytesStart<'_>,
    names: [&str; N],
) -> Option<[Option<String>; N]> {
    let mut found: [Option<Option<String>>; N] = std::array::from_fn(|_| None);
    for attr in start.attributes().with_checks(false) {
        let attr = attr.ok()?;
        if let Some(i) = names
            .iter()
            .position(|n| *n == attr.key.local_name().as_ref())
        {
            first(&mut found[i], &attr);
        }
    }
    Some(found.map(Option::flatten))
}

/// The record in `text`, or `None` when the tree reader must look at it.
pub(crate) fn biosample(text: &str) -> Option<MirrorRecord> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<(Role, String)> = Vec::with_capacity(8);
    let mut seen = Seen::default();
    let mut f = Fields::default();
    let mut roots = 0;
    // Attribute tag of the open <Attribute>, if it has one.
    let mut tag: Option<String> = None;
    loop {
        let event = reader.read_event().ok()?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let parent = stack.last().map(|(r, _)| *r);
                let name = start.local_name();
                let name = name.as_ref();
                let role = match (parent, name) {
                    (None, _) => {
                        roots += 1;
                        Role::Root
                    }
                    (Some(Role::Root), "Ids") if !seen.ids => {
                        seen.ids = true;
                        Role::Ids
                    }
                    (Some(Role::Ids), "Id") => Role::Id {
                        biosample: false,
                        sra: false,
                    },
                    (Some(Role::Root), "Description") if !seen.description => {
                        seen.description = true;
                        Role::Description
                    }
                    (Some(Role::Description), "Title") if !seen.title => {
                        seen.title = true;
                        Role::Title
                    }
                    (Some(Role::Description), "SampleName") if !seen.sample_name => {
                        seen.sample_name = true;
                        Role::SampleName
                    }
                    (Some(Role::Description), "Organism") if !seen.organism => {
                        seen.organism = true;
                        Role::Organism
                    }
                    (Some(Role::Organism), "OrganismName") if !seen.organism_name => {
                        seen.organism_name = true;
                        Role::OrganismName
                    }
                    (Some(Role::Description), "Comment") if !seen.comment => {
                        seen.comment = true;
                        Role::Comment
                    }
                    (Some(Role::Comment), "Paragraph") => Role::Paragraph,
                    (Some(Role::Root), "Package") if !seen.package => {
                        seen.package = true;
                        Role::Package
                    }
                    (Some(Role::Root), "Attributes") if !seen.attributes => {
                        seen.attributes = true;
                        Role::Attributes
                    }
                    (Some(Role::Attributes), "Attribute") => Role::Attribute,
                    (Some(Role::Root), "Links") if !seen.links => {
                        seen.links = true;
                        Role::Links
                    }
                    (Some(Role::Links), "Link") => Role::Other,
                    (Some(Role::Root), "Status") if !seen.status => {
                        seen.status = true;
                        Role::Status
                    }
                    _ => Role::Other,
                };
                let mut role = role;
                // Attributes of the element, where the mapping reads any.
                match (role, parent, name) {
                    (Role::Root, ..) => {
                        let [accession, last_update, published, submitted, access] = attrs(
                            start,
                            [
                                "accession",
                                "last_update",
                                "publication_date",
                                "submission_date",
                                "access",
                            ],
                        )?;
                        f.accession = accession;
                        f.last_update = last_update;
                        f.published = published;
                        f.submitted = submitted;
                        f.controlled = access.as_deref() == Some("controlled");
                    }
                    (Role::Id { .. }, ..) => {
                        let [db] = attrs(start, ["db"])?;
                        let biosample = db.as_deref() == Some("BioSample") && !seen.biosample_id;
                        if biosample {
                            seen.biosample_id = true;
                        }
                        role = Role::Id {
                            biosample,
                            sra: db.as_deref() == Some("SRA"),
                        };
                    }
                    (Role::Organism, ..) => {
                        let [name, id] = attrs(start, ["taxonomy_name", "taxonomy_id"])?;
                        f.taxonomy_name = name;
                        f.tax_id = id.and_then(|t| t.parse().ok());
                    }
                    (Role::Attribute, ..) => {
                        let [harmonized, plain] =
                            attrs(start, ["harmonized_name", "attribute_name"])?;
                        tag = harmonized.or(plain);
                    }
                    (Role::Status, ..) => {
                        let [status] = attrs(start, ["status"])?;
                        f.status = status;
                    }
                    (Role::Other, Some(Role::Links), "Link") => {
                        let [target, label] = attrs(start, ["target", "label"])?;
                        if target.as_deref() == Some("bioproject")
                            && let Some(label) = label.filter(|l| l.starts_with("PRJ"))
                        {
                            f.projects.push(label);
                        }
                    }
                    _ => {}
                }
                if matches!(event, Event::Empty(_)) {
                    close(role, String::new(), &mut f, &mut tag);
                } else {
                    stack.push((role, String::new()));
                }
            }
            Event::End(_) => {
                let (role, text) = stack.pop()?;
                close(role, text, &mut f, &mut tag);
            }
            Event::Text(t) => {
                if let Some((role, text)) = stack.last_mut()
                    && role.keeps_text()
                {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::CData(d) => {
                if let Some((role, text)) = stack.last_mut()
                    && role.keeps_text()
                {
                    text.push_str(&d);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((role, text)) = stack.last_mut()
                    && role.keeps_text()
                {
                    let name = r.to_string();
                    match name.as_str() {
                        "amp" => text.push('&'),
                        "lt" => text.push('<'),
                        "gt" => text.push('>'),
                        "quot" => text.push('"'),
                        "apos" => text.push('\''),
                        _ => match r.resolve_char_ref() {
                            Ok(Some(c)) => text.push(c),
                            _ => {
                                text.push('&');
                                text.push_str(&name);
                                text.push(';');
                            }
                        },
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() || roots != 1 || (f.accession.is_none() && f.id_accession.is_none()) {
        return None;
    }
    Some(record(f))
}

/// Files an element's text where the mapping wants it, as the tree's `text()` does: white
/// space collapsed, nothing if empty.
fn close(role: Role, text: String, f: &mut Fields, tag: &mut Option<String>) {
    let mut text = Some(text);
    let mut text = || Some(collapsed(text.take().unwrap_or_default())).filter(|t| !t.is_empty());
    match role {
        Role::Id { biosample, sra } => {
            if biosample {
                f.id_accession = text();
            }
            if sra && let Some(id) = text() {
                f.sra.push(id);
            }
        }
        Role::Title => f.title = text(),
        Role::SampleName => f.sample_name = text(),
        Role::OrganismName => f.organism_name = text(),
        Role::Paragraph => {
            if let Some(p) = text() {
                f.paragraphs.push(p);
            }
        }
        Role::Package => f.package = text(),
        Role::Attribute => {
            if let (Some(tag), Some(value)) = (tag.take(), text()) {
                f.attributes.push((tag, value));
            }
        }
        _ => {}
    }
}

/// `collapse`, without copying text that has nothing to collapse (most of it).
fn collapsed(text: String) -> String {
    let bytes = text.as_bytes();
    let plain = text.is_ascii()
        && bytes.first() != Some(&b' ')
        && bytes.last() != Some(&b' ')
        && !bytes.windows(2).any(|w| w == b"  ")
        && !bytes
            .iter()
            .any(|&b| b != b' ' && char::from(b).is_whitespace());
    if plain { text } else { collapse(&text) }
}

fn record(f: Fields) -> MirrorRecord {
    let Fields {
        accession,
        id_accession,
        last_update,
        published,
        submitted,
        controlled,
        status,
        title,
        sample_name,
        organism_name,
        taxonomy_name,
        tax_id,
        paragraphs,
        sra,
        package,
        attributes,
        projects,
    } = f;
    let accession = accession.or(id_accession).unwrap_or_default();
    let mut record = MirrorRecord {
        origin: origin_of(&accession),
        kind: "sample",
        last_update,
        published,
        submitted,
        status: status.or_else(|| Some("live".into())),
        title: title.or(sample_name).unwrap_or_default(),
        organism: organism_name.or(taxonomy_name),
        tax_id,
        ..MirrorRecord::default()
    };
    if !paragraphs.is_empty() {
        record.description = Some(paragraphs.join("\n"));
    }
    record.links = sra;
    record.links.extend(projects);
    if let Some(package) = package {
        record.attributes.push(("package".into(), package));
    }
    record.attributes.extend(attributes);
    if controlled {
        record
            .attributes
            .push(("access".into(), "controlled".into()));
    }
    if record.title.is_empty() {
        record.title.clone_from(&accession);
    }
    record.accession = accession;
    record
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::{io::Read, path::PathBuf};

    use crate::{MirrorRecord, ncbi, xml};

    /// The tree reader's answer for one record.
    fn by_tree(text: &str) -> Result<MirrorRecord, String> {
        ncbi::biosample_tree(&xml::parse(text)?)
    }

    fn same(text: &str) {
        let fast = super::biosample(text);
        let tree = by_tree(text);
        match (fast, tree) {
            (Some(fast), Ok(tree)) => assert_eq!(fast, tree, "record:\n{text}"),
            (Some(fast), Err(e)) => {
                panic!("the tree refuses ({e}) what the fast path read: {fast:?}")
            }
            // Giving up is always allowed: the tree then answers.
            (None, _) => {}
        }
    }

    /// Every record of a dump (gzip or plain) through both readers; returns (records, fast).
    fn compare_file(path: &std::path::Path) -> (usize, usize) {
        let mut text = Vec::new();
        let file = std::fs::File::open(path).unwrap();
        if path.extension().is_some_and(|e| e == "gz") {
            flate2::read::MultiGzDecoder::new(file)
                .read_to_end(&mut text)
                .unwrap();
        } else {
            std::io::BufReader::new(file)
                .read_to_end(&mut text)
                .unwrap();
        }
        let mut splitter = xml::Splitter::new(std::io::Cursor::new(text), Vec::new(), "BioSample");
        let (mut n, mut fast) = (0, 0);
        while let Some(raw) = splitter.next_record().unwrap() {
            let text = String::from_utf8(raw.bytes).unwrap();
            same(&text);
            n += 1;
            fast += usize::from(super::biosample(&text).is_some());
        }
        (n, fast)
    }

    #[test]
    fn the_real_biosample_head_reads_the_same_as_by_the_tree() {
        let dir = std::env::var_os("SEQBANK_CORPORA")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
            });
        let path = dir.join("ncbi-metadata/biosample_set.head.xml.gz");
        if !path.is_file() {
            eprintln!("skipping: no {} (set SEQBANK_CORPORA)", path.display());
            return;
        }
        let (n, fast) = compare_file(&path);
        assert!(n >= 10, "{n} records");
        assert_eq!(fast, n, "every well-formed record takes the fast path");
        // A larger dump, such as one from ../shared/bench/gen_biosample_xml.py, on request.
        if let Some(more) = std::env::var_os("SEQBANK_BIOSAMPLE_XML") {
            let (n, fast) = compare_file(std::path::Path::new(&more));
            assert_eq!(fast, n, "every well-formed record takes the fast path");
        }
    }

    #[test]
    fn odd_records_read_the_same_as_by_the_tree() {
        let cases = [
            // Entities, CDATA, white space, a Title with a child, an empty first Title.
            r#"<BioSample accession=" SAMN1 " last_update="2020-01-01" access="controlled">
                 <Description><Title>a &amp; b&#233; &nbsp;<i>x</i> c <![CDATA[<d>]]></Title>
                 <Title>second</Title>
                 <Organism taxonomy_id="9606" taxonomy_name="Homo sapiens"/>
                 <Comment><Paragraph>one</Paragraph><Paragraph>  </Paragraph><Paragraph>two
                 lines</Paragraph></Comment></Description>
                 <Attributes><Attribute attribute_name="tissue">liver</Attribute>
                 <Attribute harmonized_name="host" attribute_name="Host">  </Attribute>
                 <Attribute>untagged</Attribute>
                 <Attribute harmonized_name="" attribute_name="x">y</Attribute></Attributes>
                 <Attributes><Attribute attribute_name="late">ignored</Attribute></Attributes>
                 <Links><Link type="entrez" target="bioproject" label="PRJNA1">1</Link>
                 <Link target="bioproject" label="other">2</Link></Links>
                 <Status status="suppressed"/><Status status="live"/>
               </BioSample>"#,
            // No accession attribute: the BioSample Id; no Title: the SampleName.
            r#"<BioSample><Ids><Id db="SRA">SRS1</Id><Id db="BioSample">SAMEA2</Id>
                 <Id db="BioSample">SAMEA3</Id><Id db="SRA"> </Id></Ids>
                 <Description><SampleName>s1</SampleName>
                 <Organism><OrganismName>Mus musculus</OrganismName></Organism></Description>
                 <Package>Generic.1.0</Package></BioSample>"#,
            // Nothing but an accession; namespaced names.
            r#"<ns:BioSample xmlns:ns="urn:x" accession="SAMD9"><ns:Description/></ns:BioSample>"#,
            // Duplicate attributes: the first counts.
            r#"<BioSample accession="SAMN5" accession="SAMN6"><Attributes>
                 <Attribute harmonized_name="a" harmonized_name="b">v</Attribute></Attributes></BioSample>"#,
        ];
        for case in cases {
            assert!(
                super::biosample(case).is_some(),
                "fast path gave up on {case}"
            );
            same(case);
        }
    }

    #[test]
    fn broken_or_accessionless_records_go_to_the_tree() {
        for case in [
            "<BioSample accession=\"SAMN1\"><Description><Title>x</Description></BioSample>",
            "<BioSample accession=\"SAMN1\"><Title>never closed",
            "<BioSample><Description><Title>no accession</Title></Description></BioSample>",
            "<BioSample accession=\"A\"/><BioSample accession=\"B\"/>",
        ] {
            assert!(super::biosample(case).is_none(), "{case}");
        }
    }
}
