//! INSDC SRA XML: reading `PROJECT`, `STUDY`, `SAMPLE`, `EXPERIMENT`, `RUN` and `SUBMISSION`
//! documents (single objects or `*_SET`s) into a [`Batch`].
//!
//! Accessions the objects carry from another archive are kept as `external_ids`; seqbank assigns
//! its own. A `STUDY` becomes a project. Analyses are not accepted yet and say so.

use std::collections::BTreeMap;

use quick_xml::events::Event;

use crate::{
    Attribute, Batch, Experiment, Library, Organism, ParseError, Project, Publication, Run,
    RunFile, Sample,
};

/// What an SRA XML document held.
#[derive(Debug, Default)]
pub struct XmlImport {
    /// The objects.
    pub batch: Batch,
    /// The release date of a `SUBMISSION`'s `HOLD` action.
    pub hold_until: Option<String>,
    /// The alias of a `SUBMISSION`.
    pub submission_alias: Option<String>,
}

/// A parsed element: just enough of a tree for metadata documents of a few megabytes.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
    line: usize,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn path(&self, names: &[&str]) -> Option<&Element> {
        names.iter().try_fold(self, |el, name| el.child(name))
    }

    fn text_of(&self, names: &[&str]) -> Option<String> {
        self.path(names)
            .map(|e| collapse(&e.text))
            .filter(|t| !t.is_empty())
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_tree(xml: &[u8]) -> Result<Element, ParseError> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut buf = Vec::new();
    let line_at = |pos: u64| {
        xml[..(pos as usize).min(xml.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    };
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            ParseError::new(
                format!("line {}", line_at(reader.error_position())),
                format!("malformed XML: {e}"),
            )
        })?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let is_empty = matches!(event, Event::Empty(_));
                let name = start.local_name().as_ref().to_owned();
                let mut attributes = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| {
                        ParseError::new(
                            format!("line {}", line_at(pos)),
                            format!("malformed XML attribute: {e}"),
                        )
                    })?;
                    let key = attr.key.local_name().as_ref().to_owned();
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| {
                            ParseError::new(
                                format!("line {}", line_at(pos)),
                                format!("malformed XML attribute: {e}"),
                            )
                        })?
                        .into_owned();
                    attributes.push((key, value));
                }
                let element = Element {
                    name,
                    attributes,
                    children: Vec::new(),
                    text: String::new(),
                    line: line_at(pos),
                };
                if is_empty {
                    stack
                        .last_mut()
                        .expect("root stays on the stack")
                        .children
                        .push(element);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let done = stack.pop().expect("quick-xml checks that end tags match");
                stack
                    .last_mut()
                    .ok_or_else(|| {
                        ParseError::new(format!("line {}", line_at(pos)), "unbalanced XML")
                    })?
                    .children
                    .push(done);
            }
            Event::Text(text) => {
                stack
                    .last_mut()
                    .expect("root stays on the stack")
                    .text
                    .push_str(&text.xml10_content());
            }
            Event::CData(data) => {
                stack
                    .last_mut()
                    .expect("root stays on the stack")
                    .text
                    .push_str(&data);
            }
            Event::GeneralRef(reference) => {
                let name = reference.to_string();
                let resolved = match name.as_str() {
                    "amp" => "&".to_owned(),
                    "lt" => "<".to_owned(),
                    "gt" => ">".to_owned(),
                    "quot" => "\"".to_owned(),
                    "apos" => "'".to_owned(),
                    _ => reference
                        .resolve_char_ref()
                        .ok()
                        .flatten()
                        .map(String::from)
                        .ok_or_else(|| {
                            ParseError::new(
                                format!("line {}", line_at(pos)),
                                format!("unknown XML entity &{name};"),
                            )
                        })?,
                };
                stack
                    .last_mut()
                    .expect("root stays on the stack")
                    .text
                    .push_str(&resolved);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if stack.len() != 1 {
        return Err(ParseError::new(
            format!("line {}", line_at(xml.len() as u64)),
            "malformed XML: the document ends inside an element",
        ));
    }
    let root = stack.pop().expect("checked above");
    Ok(root)
}

/// Reads an SRA XML document.
pub fn read(xml: &[u8]) -> Result<XmlImport, ParseError> {
    let document = parse_tree(xml)?;
    let Some(root) = document.children.first() else {
        return Err(ParseError::new(
            "line 1",
            "not an SRA XML document: no root element",
        ));
    };
    let mut out = XmlImport::default();
    let items: Vec<&Element> = match root.name.strip_suffix("_SET") {
        Some(_) => root.children.iter().collect(),
        None => vec![root],
    };
    for item in items {
        let place = format!("line {}", item.line);
        match item.name.as_str() {
            "PROJECT" => out.batch.projects.push(project(item)),
            "STUDY" => out.batch.projects.push(study(item)),
            "SAMPLE" => out.batch.samples.push(sample(item)),
            "EXPERIMENT" => out.batch.experiments.push(experiment(item, &place)?),
            "RUN" => out.batch.runs.push(run(item, &place)?),
            "SUBMISSION" => {
                out.submission_alias = item.attr("alias").map(str::to_owned);
                for action in item
                    .path(&["ACTIONS"])
                    .into_iter()
                    .flat_map(|a| a.children("ACTION"))
                {
                    if let Some(hold) = action.child("HOLD") {
                        out.hold_until = hold
                            .attr("HoldUntilDate")
                            .map(|d| d.get(..10).unwrap_or(d).to_owned());
                    }
                }
            }
            "ANALYSIS" => {
                return Err(ParseError::new(
                    place,
                    "ANALYSIS objects (assemblies, alignments, variants) are not accepted yet; submit reads as EXPERIMENT and RUN",
                ));
            }
            other => {
                return Err(ParseError::new(
                    place,
                    format!(
                        "<{other}> is not an SRA object; expected PROJECT, STUDY, SAMPLE, EXPERIMENT, RUN or SUBMISSION (or their _SET)"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn alias_of(item: &Element) -> String {
    item.attr("alias")
        .or_else(|| item.attr("accession"))
        .map(str::to_owned)
        .or_else(|| item.text_of(&["IDENTIFIERS", "SUBMITTER_ID"]))
        .or_else(|| item.text_of(&["IDENTIFIERS", "PRIMARY_ID"]))
        .unwrap_or_default()
}

fn external_ids(item: &Element) -> Vec<String> {
    let mut ids: Vec<String> = item
        .attr("accession")
        .map(str::to_owned)
        .into_iter()
        .collect();
    for id in item
        .path(&["IDENTIFIERS"])
        .into_iter()
        .flat_map(|i| i.children("EXTERNAL_ID"))
    {
        let text = collapse(&id.text);
        if !text.is_empty() && !ids.contains(&text) {
            ids.push(text);
        }
    }
    ids
}

fn attributes(item: &Element, list: &str, one: &str) -> BTreeMap<String, Attribute> {
    let mut out = BTreeMap::new();
    for attribute in item.path(&[list]).into_iter().flat_map(|a| a.children(one)) {
        let Some(tag) = attribute.text_of(&["TAG"]) else {
            continue;
        };
        let value = attribute.text_of(&["VALUE"]).unwrap_or_default();
        out.insert(
            tag,
            Attribute {
                value,
                unit: attribute.text_of(&["UNITS"]),
            },
        );
    }
    out
}

fn pubmed_links(item: &Element, links: &str, link: &str) -> Vec<Publication> {
    item.path(&[links])
        .into_iter()
        .flat_map(|l| l.children(link))
        .filter_map(|l| l.child("XREF_LINK"))
        .filter(|x| {
            x.text_of(&["DB"])
                .is_some_and(|db| db.eq_ignore_ascii_case("pubmed"))
        })
        .filter_map(|x| x.text_of(&["ID"]))
        .map(|id| Publication {
            pmid: Some(id),
            doi: None,
        })
        .collect()
}

fn organism(el: Option<&Element>) -> Option<Organism> {
    let el = el?;
    let taxon_id = el.text_of(&["TAXON_ID"])?.parse().ok()?;
    Some(Organism {
        taxon_id,
        scientific_name: el.text_of(&["SCIENTIFIC_NAME"]).unwrap_or_default(),
    })
}

fn project(item: &Element) -> Project {
    let submission = item.child("SUBMISSION_PROJECT");
    Project {
        alias: alias_of(item),
        title: item
            .text_of(&["TITLE"])
            .or_else(|| item.text_of(&["NAME"]))
            .unwrap_or_default(),
        description: item.text_of(&["DESCRIPTION"]).unwrap_or_default(),
        project_type: None,
        relevance: None,
        organism: organism(submission.and_then(|s| s.child("ORGANISM"))),
        grants: Vec::new(),
        publications: pubmed_links(item, "PROJECT_LINKS", "PROJECT_LINK"),
        umbrella: None,
        external_ids: external_ids(item),
        attributes: attributes(item, "PROJECT_ATTRIBUTES", "PROJECT_ATTRIBUTE"),
    }
}

fn study(item: &Element) -> Project {
    Project {
        alias: alias_of(item),
        title: item
            .text_of(&["DESCRIPTOR", "STUDY_TITLE"])
            .unwrap_or_default(),
        description: item
            .text_of(&["DESCRIPTOR", "STUDY_ABSTRACT"])
            .or_else(|| item.text_of(&["DESCRIPTOR", "STUDY_DESCRIPTION"]))
            .unwrap_or_default(),
        project_type: item
            .path(&["DESCRIPTOR", "STUDY_TYPE"])
            .and_then(|t| t.attr("existing_study_type"))
            .map(str::to_owned),
        relevance: None,
        organism: None,
        grants: Vec::new(),
        publications: pubmed_links(item, "STUDY_LINKS", "STUDY_LINK"),
        umbrella: None,
        external_ids: external_ids(item),
        attributes: attributes(item, "STUDY_ATTRIBUTES", "STUDY_ATTRIBUTE"),
    }
}

fn sample(item: &Element) -> Sample {
    let mut attributes = attributes(item, "SAMPLE_ATTRIBUTES", "SAMPLE_ATTRIBUTE");
    // ENA names its checklists ERC000011 …; seqbank's own names are used when given.
    let checklist = attributes
        .remove("seqbank-checklist")
        .map(|a| a.value)
        .unwrap_or_else(|| "generic".to_owned());
    let alias = alias_of(item);
    Sample {
        title: item.text_of(&["TITLE"]).unwrap_or_else(|| alias.clone()),
        alias,
        description: item.text_of(&["DESCRIPTION"]),
        organism: organism(item.child("SAMPLE_NAME")).unwrap_or(Organism {
            taxon_id: 0,
            scientific_name: String::new(),
        }),
        checklist,
        project: None,
        external_ids: external_ids(item),
        attributes,
    }
}

fn reference(el: Option<&Element>) -> Option<String> {
    let el = el?;
    el.attr("accession")
        .or_else(|| el.attr("refname"))
        .map(str::to_owned)
        .or_else(|| el.text_of(&["IDENTIFIERS", "PRIMARY_ID"]))
}

fn experiment(item: &Element, place: &str) -> Result<Experiment, ParseError> {
    let design = item.child("DESIGN");
    let library = design.and_then(|d| d.child("LIBRARY_DESCRIPTOR"));
    let text = |names: &[&str]| library.and_then(|l| l.text_of(names)).unwrap_or_default();
    let layout_el = library
        .and_then(|l| l.child("LIBRARY_LAYOUT"))
        .and_then(|l| l.children.first());
    let insert_size = layout_el
        .and_then(|l| l.attr("NOMINAL_LENGTH"))
        .and_then(|n| n.parse::<f64>().ok())
        .map(|n| n as u32);
    let platform = item.child("PLATFORM").and_then(|p| p.children.first());
    let sample = reference(design.and_then(|d| d.child("SAMPLE_DESCRIPTOR")))
        .ok_or_else(|| ParseError::new(place, "EXPERIMENT has no DESIGN/SAMPLE_DESCRIPTOR"))?;
    let alias = alias_of(item);
    Ok(Experiment {
        title: item
            .text_of(&["TITLE"])
            .or_else(|| design.and_then(|d| d.text_of(&["DESIGN_DESCRIPTION"])))
            .unwrap_or_else(|| alias.clone()),
        alias,
        project: reference(item.child("STUDY_REF")),
        sample,
        library: Library {
            name: library.and_then(|l| l.text_of(&["LIBRARY_NAME"])),
            strategy: text(&["LIBRARY_STRATEGY"]),
            source: text(&["LIBRARY_SOURCE"]),
            selection: text(&["LIBRARY_SELECTION"]),
            layout: layout_el.map(|l| l.name.clone()).unwrap_or_default(),
            insert_size,
            insert_size_sd: layout_el
                .and_then(|l| l.attr("NOMINAL_SDEV"))
                .and_then(|n| n.parse().ok()),
            construction_protocol: library
                .and_then(|l| l.text_of(&["LIBRARY_CONSTRUCTION_PROTOCOL"])),
        },
        platform: platform.map(|p| p.name.clone()).unwrap_or_default(),
        instrument_model: platform
            .and_then(|p| p.text_of(&["INSTRUMENT_MODEL"]))
            .unwrap_or_default(),
        design_description: design.and_then(|d| d.text_of(&["DESIGN_DESCRIPTION"])),
        external_ids: external_ids(item),
        attributes: attributes(item, "EXPERIMENT_ATTRIBUTES", "EXPERIMENT_ATTRIBUTE"),
    })
}

fn run(item: &Element, place: &str) -> Result<Run, ParseError> {
    let experiment = reference(item.child("EXPERIMENT_REF"))
        .ok_or_else(|| ParseError::new(place, "RUN has no EXPERIMENT_REF"))?;
    let files = item
        .path(&["DATA_BLOCK", "FILES"])
        .into_iter()
        .flat_map(|f| f.children("FILE"))
        .map(|file| RunFile {
            name: file.attr("filename").unwrap_or_default().to_owned(),
            file_type: file
                .attr("filetype")
                .unwrap_or_default()
                .to_ascii_lowercase(),
            md5: if file
                .attr("checksum_method")
                .is_none_or(|m| m.eq_ignore_ascii_case("MD5"))
            {
                file.attr("checksum")
                    .unwrap_or_default()
                    .to_ascii_lowercase()
            } else {
                String::new()
            },
            read_type: file.children("READ_TYPE").next().map(|r| collapse(&r.text)),
        })
        .collect();
    Ok(Run {
        alias: alias_of(item),
        title: item.text_of(&["TITLE"]),
        experiment,
        files,
        external_ids: external_ids(item),
        attributes: attributes(item, "RUN_ATTRIBUTES", "RUN_ATTRIBUTE"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_and_errors() {
        let xml = br#"<?xml version="1.0"?>
<EXPERIMENT_SET><EXPERIMENT alias="e1"><TITLE>  Deep
   sequencing &amp; more</TITLE><STUDY_REF refname="p1"/>
<DESIGN><SAMPLE_DESCRIPTOR accession="SRS000099"/><LIBRARY_DESCRIPTOR><LIBRARY_STRATEGY>WGS</LIBRARY_STRATEGY>
<LIBRARY_SOURCE>GENOMIC</LIBRARY_SOURCE><LIBRARY_SELECTION>RANDOM</LIBRARY_SELECTION>
<LIBRARY_LAYOUT><PAIRED NOMINAL_LENGTH="300"/></LIBRARY_LAYOUT></LIBRARY_DESCRIPTOR></DESIGN>
<PLATFORM><ILLUMINA><INSTRUMENT_MODEL>Illumina NovaSeq 6000</INSTRUMENT_MODEL></ILLUMINA></PLATFORM></EXPERIMENT></EXPERIMENT_SET>"#;
        let import = read(xml).unwrap();
        let e = &import.batch.experiments[0];
        assert_eq!(e.title, "Deep sequencing & more");
        assert_eq!(
            (e.sample.as_str(), e.project.as_deref()),
            ("SRS000099", Some("p1"))
        );
        assert_eq!(
            (e.library.layout.as_str(), e.library.insert_size),
            ("PAIRED", Some(300))
        );
        assert_eq!(e.platform, "ILLUMINA");

        assert_eq!(read(b"<html><body/></html>").unwrap_err().path, "line 1");
        assert!(
            read(b"<SAMPLE_SET>\n<SAMPLE>")
                .unwrap_err()
                .message
                .contains("malformed XML")
        );
    }
}
