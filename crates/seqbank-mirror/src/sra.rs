//! SRA metadata: the XML documents of INSDC (`STUDY_SET`, `SAMPLE_SET`, … and single objects),
//! one at a time, in a folder, or in NCBI's metadata tarballs (one folder per submission).

use std::{
    io::Read,
    path::{Path, PathBuf},
    sync::{Arc, atomic::AtomicU64},
};

use crate::{
    Counting, Error, Item, MirrorRecord, expect_xml,
    ncbi::{Mapper, XmlItems},
    open_stream, origin_of, read_error,
    xml::{self, Element},
};

/// Record element and mapper for a document root.
fn plan(root: &str) -> Option<(&'static str, Mapper)> {
    let tag = root.strip_suffix("_SET").unwrap_or(root);
    Some(match tag {
        "STUDY" => ("STUDY", study as Mapper),
        "PROJECT" => ("PROJECT", project),
        "SAMPLE" => ("SAMPLE", sample),
        "EXPERIMENT" => ("EXPERIMENT", experiment),
        "RUN" => ("RUN", run),
        "ANALYSIS" => ("ANALYSIS", analysis),
        "SUBMISSION" => ("SUBMISSION", submission),
        _ => return None,
    })
}

/// Items of one XML document (a set, a single object, or a receipt).
fn document(
    stream: Box<dyn Read + Send>,
    head: Vec<u8>,
    name: &str,
) -> Result<Box<dyn Iterator<Item = Result<Item, Error>> + Send>, Error> {
    expect_xml(&head, name)?;
    let root = xml::root_name(&head).unwrap_or_default();
    if root == "RECEIPT" {
        return receipt(stream, head, name);
    }
    let Some((tag, map)) = plan(&root) else {
        let hint = match root.as_str() {
            "BioSampleSet" => " (a BioSample dump: use the biosample source)",
            "PackageSet" => " (a BioProject dump: use the bioproject source)",
            _ => "",
        };
        return Err(Error::WrongFile {
            file: name.to_owned(),
            message: format!(
                "expected SRA XML (STUDY_SET, SAMPLE_SET, EXPERIMENT_SET, RUN_SET, ANALYSIS_SET, PROJECT_SET, SUBMISSION_SET or RECEIPT), found <{root}>{hint}"
            ),
        });
    };
    Ok(Box::new(XmlItems::new(stream, head, name, tag, map)))
}

/// A tarball, or one XML document.
pub(crate) fn read_stream(
    input: Box<dyn Read + Send>,
    name: &str,
) -> Result<Box<dyn Iterator<Item = Result<Item, Error>> + Send>, Error> {
    let (stream, head) = open_stream(input, name)?;
    if head.len() > 262 && &head[257..262] == b"ustar" {
        return Ok(tarball(stream, head, name));
    }
    document(stream, head, name)
}

/// Walks a tarball on its own thread, handing items over a short queue.
fn tarball(
    stream: Box<dyn Read + Send>,
    head: Vec<u8>,
    name: &str,
) -> Box<dyn Iterator<Item = Result<Item, Error>> + Send> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Item, Error>>(1024);
    let name = name.to_owned();
    std::thread::spawn(move || {
        let input = std::io::Cursor::new(head).chain(stream);
        let mut archive = tar::Archive::new(input);
        let entries = match archive.entries() {
            Ok(entries) => entries,
            Err(e) => {
                let _ = tx.send(Err(read_error(&name, 0, &e)));
                return;
            }
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let _ = tx.send(Err(read_error(&name, 0, &e)));
                    return;
                }
            };
            let path = entry
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            if !path.ends_with(".xml") || entry.header().entry_type() != tar::EntryType::Regular {
                continue;
            }
            let mut bytes = Vec::with_capacity(entry.size() as usize);
            if let Err(e) = entry.read_to_end(&mut bytes) {
                let _ = tx.send(Err(read_error(&format!("{name}:{path}"), 0, &e)));
                return;
            }
            let member = format!("{name}:{path}");
            let items = match document(Box::new(std::io::empty()), bytes, &member) {
                Ok(items) => items,
                // A member that is not SRA XML is reported and passed over.
                Err(e) => {
                    let _ = tx.send(Ok(Item::Skipped(whole_file(member, &e))));
                    continue;
                }
            };
            for item in items {
                if tx.send(item).is_err() {
                    return;
                }
            }
        }
    });
    Box::new(rx.into_iter())
}

/// A member or file that could not be read as SRA XML at all: reported, and passed over.
fn whole_file(file: String, e: &Error) -> crate::Skip {
    crate::Skip {
        record: 0,
        file,
        offset: 0,
        line: 1,
        accession: None,
        reason: e.to_string(),
    }
}

/// Every `.xml` file below a folder, in name order.
pub(crate) fn read_folder(
    dir: &Path,
    counter: Arc<AtomicU64>,
) -> Result<impl Iterator<Item = Result<Item, Error>> + Send + use<>, Error> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| read_error(&d.display().to_string(), 0, &e))?;
        for entry in entries {
            let path = entry
                .map_err(|e| read_error(&d.display().to_string(), 0, &e))?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".xml") || n.ends_with(".xml.gz"))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(Folder {
        files: files.into_iter(),
        current: None,
        counter,
    })
}

struct Folder {
    files: std::vec::IntoIter<PathBuf>,
    current: Option<Box<dyn Iterator<Item = Result<Item, Error>> + Send>>,
    counter: Arc<AtomicU64>,
}

impl Iterator for Folder {
    type Item = Result<Item, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.current.as_mut().and_then(Iterator::next) {
                return Some(item);
            }
            let path = self.files.next()?;
            let name = path.display().to_string();
            let file = match std::fs::File::open(&path) {
                Ok(file) => file,
                Err(e) => return Some(Err(read_error(&name, 0, &e))),
            };
            let counting = Counting {
                inner: file,
                counter: self.counter.clone(),
            };
            match open_stream(Box::new(counting), &name).and_then(|(s, h)| document(s, h, &name)) {
                Ok(items) => self.current = Some(items),
                Err(e) => {
                    self.current = None;
                    return Some(Ok(Item::Skipped(whole_file(name, &e))));
                }
            }
        }
    }
}

/// An ENA receipt: the accessions it lists, with their status and release date.
fn receipt(
    mut stream: Box<dyn Read + Send>,
    mut head: Vec<u8>,
    name: &str,
) -> Result<Box<dyn Iterator<Item = Result<Item, Error>> + Send>, Error> {
    stream
        .read_to_end(&mut head)
        .map_err(|e| read_error(name, 0, &e))?;
    let text = xml::decode(&head);
    let root = xml::parse(&text).map_err(|e| Error::WrongFile {
        file: name.to_owned(),
        message: format!("malformed receipt: {e}"),
    })?;
    let mut items = Vec::new();
    for el in &root.children {
        let kind = match el.name.as_str() {
            "PROJECT" | "STUDY" => "project",
            "SAMPLE" => "sample",
            "EXPERIMENT" => "experiment",
            "RUN" => "run",
            "ANALYSIS" => "analysis",
            _ => continue,
        };
        let Some(accession) = el.attr("accession") else {
            continue;
        };
        let status = match el.attr("status") {
            Some("PRIVATE") => "unpublished",
            Some("CANCELLED") => "withdrawn",
            Some("SUPPRESSED") => "suppressed",
            _ => "live",
        };
        let mut record = MirrorRecord {
            accession: accession.to_owned(),
            kind,
            origin: origin_of(accession),
            status: Some(status.to_owned()),
            published: el
                .attr("holdUntilDate")
                .map(|d| d.chars().take(10).collect()),
            title: el.attr("alias").unwrap_or(accession).to_owned(),
            status_only: true,
            ..MirrorRecord::default()
        };
        record.raw = format!(
            "<{} {}/>",
            el.name,
            el.attributes
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect::<Vec<_>>()
                .join(" ")
        );
        items.push(Ok(Item::Record(Box::new(record))));
    }
    Ok(Box::new(items.into_iter()))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// Accession, title, attributes and links every SRA object has.
fn common(el: &Element, kind: &'static str, attributes: &str) -> Result<MirrorRecord, String> {
    let accession = el
        .attr("accession")
        .map(str::to_owned)
        .or_else(|| el.text_at(&["IDENTIFIERS", "PRIMARY_ID"]))
        .or_else(|| {
            // Submission documents before accessioning: the submitter's alias, by center.
            let alias = el.attr("alias")?;
            Some(format!(
                "{}:{alias}",
                el.attr("center_name").unwrap_or("alias")
            ))
        })
        .ok_or_else(|| format!("the {} has neither an accession nor an alias", el.name))?;
    let mut record = MirrorRecord {
        origin: origin_of(&accession),
        kind,
        title: el.text_at(&["TITLE"]).unwrap_or_default(),
        submitted: el.attr("submission_date").map(str::to_owned),
        ..MirrorRecord::default()
    };
    for (key, tag) in [
        ("alias", "alias"),
        ("center_name", "center_name"),
        ("broker_name", "broker_name"),
    ] {
        if let Some(v) = el.attr(key) {
            record.attributes.push((tag.to_owned(), v.to_owned()));
        }
    }
    if let Some(ids) = el.child("IDENTIFIERS") {
        for id in ids.children("EXTERNAL_ID") {
            if let Some(v) = id.text() {
                record.links.push(v);
            }
        }
    }
    if let Some(attrs) = el.child(attributes) {
        for a in &attrs.children {
            let (Some(tag), value) = (a.text_at(&["TAG"]), a.text_at(&["VALUE"])) else {
                continue;
            };
            let value = match (value, a.text_at(&["UNITS"])) {
                (Some(v), Some(u)) => format!("{v} {u}"),
                (Some(v), None) => v,
                (None, _) => continue,
            };
            record.attributes.push((tag, value));
        }
    }
    for child in &el.children {
        if child.name.ends_with("_REF")
            && let Some(other) = child
                .attr("accession")
                .map(str::to_owned)
                .or_else(|| child.text_at(&["IDENTIFIERS", "PRIMARY_ID"]))
            && !record.links.contains(&other)
        {
            record.links.push(other);
        }
    }
    record.accession = accession;
    Ok(record)
}

/// The names of the files an object lists (`DATA_BLOCK/FILES/FILE` and the like), as `file`
/// attributes.
fn files(record: &mut MirrorRecord, el: &Element) {
    for file in el.descendants().into_iter().filter(|d| d.name == "FILE") {
        if let Some(name) = file.attr("filename") {
            record.attributes.push(("file".into(), name.to_owned()));
        }
    }
}

fn finish(mut record: MirrorRecord) -> Result<MirrorRecord, String> {
    if record.title.is_empty() {
        record.title.clone_from(&record.accession);
    }
    Ok(record)
}

fn study(el: &Element) -> Result<MirrorRecord, String> {
    let mut r = common(el, "project", "STUDY_ATTRIBUTES")?;
    if let Some(d) = el.child("DESCRIPTOR") {
        if let Some(title) = d.text_at(&["STUDY_TITLE"]) {
            r.title = title;
        }
        r.description = d
            .text_at(&["STUDY_ABSTRACT"])
            .or_else(|| d.text_at(&["STUDY_DESCRIPTION"]));
        if let Some(t) = d
            .child("STUDY_TYPE")
            .and_then(|t| t.attr("existing_study_type"))
        {
            r.attributes.push(("study_type".into(), t.to_owned()));
        }
        if let Some(name) = d.text_at(&["CENTER_PROJECT_NAME"]) {
            r.attributes.push(("center_project_name".into(), name));
        }
    }
    finish(r)
}

fn project(el: &Element) -> Result<MirrorRecord, String> {
    let mut r = common(el, "project", "PROJECT_ATTRIBUTES")?;
    r.description = el.text_at(&["DESCRIPTION"]);
    if let Some(name) = el.text_at(&["NAME"]) {
        if r.title.is_empty() {
            r.title.clone_from(&name);
        }
        r.attributes.push(("name".into(), name));
    }
    if let Some(o) = el.descendants().into_iter().find(|d| d.name == "ORGANISM") {
        r.tax_id = o.text_at(&["TAXON_ID"]).and_then(|t| t.parse().ok());
        r.organism = o.text_at(&["SCIENTIFIC_NAME"]);
    }
    finish(r)
}

fn sample(el: &Element) -> Result<MirrorRecord, String> {
    let mut r = common(el, "sample", "SAMPLE_ATTRIBUTES")?;
    if let Some(n) = el.child("SAMPLE_NAME") {
        r.tax_id = n.text_at(&["TAXON_ID"]).and_then(|t| t.parse().ok());
        r.organism = n.text_at(&["SCIENTIFIC_NAME"]);
    }
    r.description = el.text_at(&["DESCRIPTION"]);
    finish(r)
}

fn experiment(el: &Element) -> Result<MirrorRecord, String> {
    let mut r = common(el, "experiment", "EXPERIMENT_ATTRIBUTES")?;
    if let Some(design) = el.child("DESIGN") {
        r.description = design.text_at(&["DESIGN_DESCRIPTION"]);
        if let Some(s) = design
            .child("SAMPLE_DESCRIPTOR")
            .and_then(|s| s.attr("accession"))
            && !r.links.iter().any(|l| l == s)
        {
            r.links.push(s.to_owned());
        }
        if let Some(lib) = design.child("LIBRARY_DESCRIPTOR") {
            r.library_strategy = lib.text_at(&["LIBRARY_STRATEGY"]);
            r.library_source = lib.text_at(&["LIBRARY_SOURCE"]);
            r.library_selection = lib.text_at(&["LIBRARY_SELECTION"]);
            r.library_layout = lib
                .child("LIBRARY_LAYOUT")
                .and_then(|l| l.children.first())
                .map(|c| c.name.clone());
            if let Some(name) = lib.text_at(&["LIBRARY_NAME"]) {
                r.attributes.push(("library_name".into(), name));
            }
        }
    }
    if let Some(platform) = el.child("PLATFORM").and_then(|p| p.children.first()) {
        r.platform = Some(platform.name.clone());
        r.instrument = platform.text_at(&["INSTRUMENT_MODEL"]);
    }
    finish(r)
}

fn run(el: &Element) -> Result<MirrorRecord, String> {
    let mut r = common(el, "run", "RUN_ATTRIBUTES")?;
    for key in ["run_date", "run_center"] {
        if let Some(v) = el.attr(key) {
            r.attributes.push((key.to_owned(), v.to_owned()));
        }
    }
    files(&mut r, el);
    finish(r)
}

fn analysis(el: &Element) -> Result<MirrorRecord, String> {
    let mut r = common(el, "analysis", "ANALYSIS_ATTRIBUTES")?;
    r.description = el.text_at(&["DESCRIPTION"]);
    if let Some(t) = el.child("ANALYSIS_TYPE").and_then(|t| t.children.first()) {
        r.attributes.push(("analysis_type".into(), t.name.clone()));
    }
    if let Some(date) = el.attr("analysis_date") {
        r.attributes.push(("analysis_date".into(), date.to_owned()));
    }
    files(&mut r, el);
    finish(r)
}

fn submission(el: &Element) -> Result<MirrorRecord, String> {
    let mut r = common(el, "submission", "SUBMISSION_ATTRIBUTES")?;
    if let Some(actions) = el.child("ACTIONS") {
        for action in actions.children("ACTION") {
            for a in &action.children {
                let what = match a.attr("schema") {
                    Some(schema) => format!("{} {schema}", a.name),
                    None => a.name.clone(),
                };
                r.attributes.push(("action".into(), what));
            }
        }
    }
    finish(r)
}
