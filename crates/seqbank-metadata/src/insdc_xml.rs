//! Writing released records as INSDC XML, for brokering to INSDC: a project as `PROJECT_SET`
//! (`ENA.project.xsd`), samples as `SAMPLE_SET` (`SRA.sample.xsd`), experiments as
//! `EXPERIMENT_SET` (`SRA.experiment.xsd`) and runs as `RUN_SET` (`SRA.run.xsd`). Every document
//! validates against those schemas (the tests check with `xmllint --schema`).

use std::fmt::Write;

use crate::{Attributes, Experiment, Project, Run, Sample};

/// Who a record is, for its XML: accession, alias, and the center that brokers it.
#[derive(Clone, Debug)]
pub struct Names<'a> {
    /// The record's accession.
    pub accession: &'a str,
    /// The submitter's alias.
    pub alias: &'a str,
    /// The brokering center's name (`center_name`).
    pub center: &'a str,
}

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn open(out: &mut String, element: &str, names: &Names<'_>) {
    let _ = write!(
        out,
        "  <{element} accession=\"{}\" alias=\"{}\" center_name=\"{}\">\n    <IDENTIFIERS>\n      <PRIMARY_ID>{}</PRIMARY_ID>\n      <SUBMITTER_ID namespace=\"{}\">{}</SUBMITTER_ID>\n    </IDENTIFIERS>\n",
        escape(names.accession),
        escape(names.alias),
        escape(names.center),
        escape(names.accession),
        escape(names.center),
        escape(names.alias),
    );
}

fn text(out: &mut String, element: &str, value: &str) {
    let _ = writeln!(out, "    <{element}>{}</{element}>", escape(value));
}

fn attributes(out: &mut String, set: &str, one: &str, attributes: &Attributes) {
    if attributes.is_empty() {
        return;
    }
    let _ = writeln!(out, "    <{set}>");
    for (tag, a) in attributes {
        let _ = write!(
            out,
            "      <{one}>\n        <TAG>{}</TAG>\n        <VALUE>{}</VALUE>\n",
            escape(tag),
            escape(&a.value)
        );
        if let Some(unit) = &a.unit {
            let _ = writeln!(out, "        <UNITS>{}</UNITS>", escape(unit));
        }
        let _ = writeln!(out, "      </{one}>");
    }
    let _ = writeln!(out, "    </{set}>");
}

fn document(set: &str, body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{set}>\n{body}</{set}>\n")
}

/// A project as an ENA `PROJECT_SET`.
pub fn project(p: &Project, names: &Names<'_>) -> String {
    let mut out = String::new();
    open(&mut out, "PROJECT", names);
    text(&mut out, "NAME", &p.alias);
    text(&mut out, "TITLE", &p.title);
    if !p.description.is_empty() {
        text(&mut out, "DESCRIPTION", &p.description);
    }
    out.push_str("    <SUBMISSION_PROJECT>\n      <SEQUENCING_PROJECT/>\n");
    if let Some(o) = &p.organism {
        let _ = writeln!(
            out,
            "      <ORGANISM>\n        <TAXON_ID>{}</TAXON_ID>\n        <SCIENTIFIC_NAME>{}</SCIENTIFIC_NAME>\n      </ORGANISM>",
            o.taxon_id,
            escape(&o.scientific_name)
        );
    }
    out.push_str("    </SUBMISSION_PROJECT>\n");
    let links: Vec<&str> = p
        .publications
        .iter()
        .filter_map(|p| p.pmid.as_deref())
        .collect();
    if !links.is_empty() {
        out.push_str("    <PROJECT_LINKS>\n");
        for pmid in links {
            let _ = writeln!(
                out,
                "      <PROJECT_LINK>\n        <XREF_LINK>\n          <DB>PUBMED</DB>\n          <ID>{}</ID>\n        </XREF_LINK>\n      </PROJECT_LINK>",
                escape(pmid)
            );
        }
        out.push_str("    </PROJECT_LINKS>\n");
    }
    out.push_str("  </PROJECT>\n");
    document("PROJECT_SET", &out)
}

/// A sample as an SRA `SAMPLE_SET`.
pub fn sample(s: &Sample, names: &Names<'_>) -> String {
    let mut out = String::new();
    open(&mut out, "SAMPLE", names);
    text(&mut out, "TITLE", &s.title);
    let _ = writeln!(
        out,
        "    <SAMPLE_NAME>\n      <TAXON_ID>{}</TAXON_ID>\n      <SCIENTIFIC_NAME>{}</SCIENTIFIC_NAME>\n    </SAMPLE_NAME>",
        s.organism.taxon_id,
        escape(&s.organism.scientific_name)
    );
    if let Some(d) = &s.description {
        text(&mut out, "DESCRIPTION", d);
    }
    let mut all = s.attributes.clone();
    all.insert(
        "checklist".into(),
        crate::Attribute::new(s.checklist.clone()),
    );
    attributes(&mut out, "SAMPLE_ATTRIBUTES", "SAMPLE_ATTRIBUTE", &all);
    out.push_str("  </SAMPLE>\n");
    document("SAMPLE_SET", &out)
}

fn reference(out: &mut String, element: &str, accession: &str) {
    let _ = writeln!(
        out,
        "    <{element} accession=\"{0}\">\n      <IDENTIFIERS>\n        <PRIMARY_ID>{0}</PRIMARY_ID>\n      </IDENTIFIERS>\n    </{element}>",
        escape(accession)
    );
}

/// An experiment as an SRA `EXPERIMENT_SET`, with the accessions of its project and sample.
pub fn experiment(e: &Experiment, names: &Names<'_>, study: &str, sample: &str) -> String {
    let mut out = String::new();
    open(&mut out, "EXPERIMENT", names);
    text(&mut out, "TITLE", &e.title);
    reference(&mut out, "STUDY_REF", study);
    out.push_str("    <DESIGN>\n");
    let _ = writeln!(
        out,
        "      <DESIGN_DESCRIPTION>{}</DESIGN_DESCRIPTION>",
        escape(e.design_description.as_deref().unwrap_or(""))
    );
    let _ = writeln!(
        out,
        "      <SAMPLE_DESCRIPTOR accession=\"{}\"/>",
        escape(sample)
    );
    out.push_str("      <LIBRARY_DESCRIPTOR>\n");
    if let Some(name) = &e.library.name {
        let _ = writeln!(out, "        <LIBRARY_NAME>{}</LIBRARY_NAME>", escape(name));
    }
    let _ = writeln!(
        out,
        "        <LIBRARY_STRATEGY>{}</LIBRARY_STRATEGY>\n        <LIBRARY_SOURCE>{}</LIBRARY_SOURCE>\n        <LIBRARY_SELECTION>{}</LIBRARY_SELECTION>",
        escape(&e.library.strategy),
        escape(&e.library.source),
        escape(&e.library.selection)
    );
    let layout = if e.library.layout.eq_ignore_ascii_case("PAIRED") {
        match e.library.insert_size {
            Some(n) => format!("<PAIRED NOMINAL_LENGTH=\"{n}\"/>"),
            None => "<PAIRED/>".to_owned(),
        }
    } else {
        "<SINGLE/>".to_owned()
    };
    let _ = writeln!(
        out,
        "        <LIBRARY_LAYOUT>\n          {layout}\n        </LIBRARY_LAYOUT>"
    );
    if let Some(p) = &e.library.construction_protocol {
        let _ = writeln!(
            out,
            "        <LIBRARY_CONSTRUCTION_PROTOCOL>{}</LIBRARY_CONSTRUCTION_PROTOCOL>",
            escape(p)
        );
    }
    out.push_str("      </LIBRARY_DESCRIPTOR>\n    </DESIGN>\n");
    let platform = e.platform.to_ascii_uppercase();
    let _ = writeln!(
        out,
        "    <PLATFORM>\n      <{platform}>\n        <INSTRUMENT_MODEL>{}</INSTRUMENT_MODEL>\n      </{platform}>\n    </PLATFORM>",
        escape(&e.instrument_model)
    );
    attributes(
        &mut out,
        "EXPERIMENT_ATTRIBUTES",
        "EXPERIMENT_ATTRIBUTE",
        &e.attributes,
    );
    out.push_str("  </EXPERIMENT>\n");
    document("EXPERIMENT_SET", &out)
}

/// A run as an SRA `RUN_SET`, with the accession of its experiment.
pub fn run(r: &Run, names: &Names<'_>, experiment: &str) -> String {
    let mut out = String::new();
    open(&mut out, "RUN", names);
    if let Some(title) = &r.title {
        text(&mut out, "TITLE", title);
    }
    reference(&mut out, "EXPERIMENT_REF", experiment);
    out.push_str("    <DATA_BLOCK>\n      <FILES>\n");
    for f in &r.files {
        let _ = writeln!(
            out,
            "        <FILE filename=\"{}\" filetype=\"{}\" checksum_method=\"MD5\" checksum=\"{}\"/>",
            escape(&f.name),
            escape(&f.file_type),
            escape(&f.md5)
        );
    }
    out.push_str("      </FILES>\n    </DATA_BLOCK>\n");
    attributes(&mut out, "RUN_ATTRIBUTES", "RUN_ATTRIBUTE", &r.attributes);
    out.push_str("  </RUN>\n");
    document("RUN_SET", &out)
}
