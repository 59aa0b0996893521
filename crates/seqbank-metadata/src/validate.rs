//! Rules for metadata: each object's fields, checklists, vocabularies and references between objects.

use std::collections::{HashMap, HashSet};

use jiff::civil::Date;
use seqbank_core::ObjectKind;

use crate::{
    Attribute, Attributes, Batch, Checklist, Experiment, Finding, Project, Run, Sample,
    checklist::{Format, Requirement, normalize_tag},
    vocab,
};

/// What a reference outside the batch points to, as the store sees it.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Resolution {
    /// An object of the right kind owned by the submitter.
    Owned,
    /// An object the submitter may see but does not own.
    NotOwned,
    /// Nothing the submitter may see.
    Missing,
}

/// Looks up a reference outside the batch.
type Resolver<'a> = Box<dyn Fn(ObjectKind, &str) -> Resolution + 'a>;

/// What validation needs to know beyond the batch.
pub struct Context<'a> {
    today: Date,
    resolve: Resolver<'a>,
}

impl<'a> Context<'a> {
    /// Creates a context in which nothing outside the batch exists.
    pub fn new(today: Date) -> Self {
        Self {
            today,
            resolve: Box::new(|_, _| Resolution::Missing),
        }
    }

    /// Sets how references outside the batch are looked up.
    pub fn with_resolver(mut self, resolve: impl Fn(ObjectKind, &str) -> Resolution + 'a) -> Self {
        self.resolve = Box::new(resolve);
        self
    }
}

/// Longest alias accepted.
pub const MAX_ALIAS_LEN: usize = 128;
/// Longest title accepted.
pub const MAX_TITLE_LEN: usize = 500;
/// Longest attribute value accepted.
pub const MAX_VALUE_LEN: usize = 4000;

/// Checks every object of a batch and the references between them.
///
/// The batch is the whole submission: objects refer to each other by alias, or to accessioned
/// objects outside it, which `context` resolves.
pub fn validate_batch(batch: &Batch, context: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut aliases: HashMap<ObjectKind, HashSet<&str>> = HashMap::new();
    let mut index: HashMap<ObjectKind, usize> = HashMap::new();
    for (kind, alias) in batch.aliases() {
        let idx = index.entry(kind).or_default();
        if !aliases.entry(kind).or_default().insert(alias) {
            out.push(Finding::error(
                "object.alias_duplicate",
                format!("{}[{idx}].alias", kind.plural()),
                format!("{kind} alias {alias:?} is used more than once in the submission"),
            ));
        }
        *idx += 1;
    }
    let check_ref = |out: &mut Vec<Finding>, path: String, kind: ObjectKind, reference: &str| {
        if reference.trim().is_empty() {
            out.push(Finding::error(
                "ref.empty",
                path,
                format!("the {kind} reference is empty"),
            ));
            return;
        }
        if aliases
            .get(&kind)
            .is_some_and(|set| set.contains(reference))
        {
            return;
        }
        match (context.resolve)(kind, reference) {
            Resolution::Owned => {}
            Resolution::NotOwned => out.push(Finding::error(
                "ref.not_owner",
                path,
                format!("{kind} {reference} belongs to another submitter; refer to your own {kind}s"),
            )),
            Resolution::Missing if is_insdc_accession(kind, reference) => out.push(Finding::warning(
                "ref.external",
                path,
                format!("{kind} {reference} is not in this archive; it is kept as a reference to an INSDC record"),
            )),
            Resolution::Missing => out.push(Finding::error(
                "ref.unresolved",
                path,
                format!("no {kind} with alias or accession {reference:?} in this submission or among your accessioned {}", kind.plural()),
            )),
        }
    };

    for (idx, project) in batch.projects.iter().enumerate() {
        let path = format!("projects[{idx}]");
        check_project(project, &path, &mut out);
        if let Some(umbrella) = &project.umbrella {
            check_ref(
                &mut out,
                format!("{path}.umbrella"),
                ObjectKind::Project,
                umbrella,
            );
        }
    }
    for (idx, sample) in batch.samples.iter().enumerate() {
        let path = format!("samples[{idx}]");
        check_sample(sample, &path, context.today, &mut out);
        if let Some(project) = &sample.project {
            check_ref(
                &mut out,
                format!("{path}.project"),
                ObjectKind::Project,
                project,
            );
        }
    }
    let experiment_layouts: HashMap<&str, &str> = batch
        .experiments
        .iter()
        .map(|e| (e.alias.as_str(), e.library.layout.as_str()))
        .collect();
    for (idx, experiment) in batch.experiments.iter().enumerate() {
        let path = format!("experiments[{idx}]");
        check_experiment(experiment, &path, &mut out);
        check_ref(
            &mut out,
            format!("{path}.sample"),
            ObjectKind::Sample,
            &experiment.sample,
        );
        if let Some(project) = &experiment.project {
            check_ref(
                &mut out,
                format!("{path}.project"),
                ObjectKind::Project,
                project,
            );
        }
    }
    for (idx, run) in batch.runs.iter().enumerate() {
        let path = format!("runs[{idx}]");
        check_run(
            run,
            &path,
            experiment_layouts.get(run.experiment.as_str()).copied(),
            &mut out,
        );
        check_ref(
            &mut out,
            format!("{path}.experiment"),
            ObjectKind::Experiment,
            &run.experiment,
        );
    }
    out
}

/// Checks a submission's release date: a valid date, not in the past, at most two years ahead.
pub fn check_hold_date(hold_until: &str, today: Date, path: &str) -> Option<Finding> {
    let Ok(date) = hold_until.parse::<Date>() else {
        return Some(Finding::error(
            "submission.hold_date_invalid",
            path,
            format!("{hold_until:?} is not a date (YYYY-MM-DD)"),
        ));
    };
    if date < today {
        return Some(Finding::error(
            "submission.hold_date_past",
            path,
            format!("release date {date} is in the past"),
        ));
    }
    let limit = today
        .checked_add(jiff::Span::new().years(2))
        .unwrap_or(Date::MAX);
    if date > limit {
        return Some(Finding::error(
            "submission.hold_date_too_far",
            path,
            format!("release date {date} is more than two years ahead (latest {limit})"),
        ));
    }
    None
}

fn check_alias(alias: &str, path: &str, out: &mut Vec<Finding>) {
    let ok = !alias.is_empty()
        && alias.len() <= MAX_ALIAS_LEN
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-#+()/ ".contains(&b))
        && !alias.starts_with(' ')
        && !alias.ends_with(' ');
    if !ok {
        out.push(Finding::error(
            "object.alias_invalid",
            format!("{path}.alias"),
            format!("alias {alias:?} must be 1–{MAX_ALIAS_LEN} ASCII letters, digits or . _ : - # + ( ) / and inner spaces"),
        ));
    }
}

fn check_text(value: &str, path: String, max: usize, required: bool, out: &mut Vec<Finding>) {
    if value.trim().is_empty() {
        if required {
            out.push(Finding::error("field.empty", path, "must not be empty"));
        }
    } else if value.chars().count() > max {
        out.push(Finding::error(
            "field.too_long",
            path,
            format!("longer than {max} characters"),
        ));
    }
}

fn check_project(project: &Project, path: &str, out: &mut Vec<Finding>) {
    check_alias(&project.alias, path, out);
    check_text(
        &project.title,
        format!("{path}.title"),
        MAX_TITLE_LEN,
        true,
        out,
    );
    check_text(
        &project.description,
        format!("{path}.description"),
        20_000,
        false,
        out,
    );
    if project.description.trim().is_empty() {
        out.push(Finding::warning(
            "project.description_missing",
            format!("{path}.description"),
            "a project needs a description before it is released",
        ));
    } else if project.description.trim() == project.title.trim() {
        out.push(Finding::warning(
            "project.description_is_title",
            format!("{path}.description"),
            "the description only repeats the title",
        ));
    }
    for (idx, publication) in project.publications.iter().enumerate() {
        let path = format!("{path}.publications[{idx}]");
        match (&publication.pmid, &publication.doi) {
            (None, None) => out.push(Finding::error(
                "project.publication_invalid",
                path,
                "give a pmid or a doi",
            )),
            (pmid, doi) => {
                if let Some(pmid) = pmid
                    && (pmid.is_empty() || !pmid.bytes().all(|b| b.is_ascii_digit()))
                {
                    out.push(Finding::error(
                        "project.publication_invalid",
                        format!("{path}.pmid"),
                        format!("PubMed id {pmid:?} must be digits"),
                    ));
                }
                if let Some(doi) = doi
                    && !is_doi(doi)
                {
                    out.push(Finding::error(
                        "project.publication_invalid",
                        format!("{path}.doi"),
                        format!("{doi:?} is not a DOI (10.NNNN/suffix)"),
                    ));
                }
            }
        }
    }
    if let Some(organism) = &project.organism {
        check_organism(
            organism.taxon_id,
            &organism.scientific_name,
            &format!("{path}.organism"),
            out,
        );
    }
}

fn is_doi(doi: &str) -> bool {
    let Some(rest) = doi.strip_prefix("10.") else {
        return false;
    };
    let Some((registrant, suffix)) = rest.split_once('/') else {
        return false;
    };
    registrant.len() >= 4
        && registrant.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !suffix.is_empty()
        && !suffix.contains(char::is_whitespace)
}

fn check_organism(taxon_id: u64, name: &str, path: &str, out: &mut Vec<Finding>) {
    if taxon_id == 0 {
        out.push(Finding::error(
            "organism.taxon_invalid",
            format!("{path}.taxon_id"),
            "taxon id must be a positive NCBI taxonomy id",
        ));
    }
    if name.trim().is_empty() {
        out.push(Finding::error(
            "field.empty",
            format!("{path}.scientific_name"),
            "must not be empty",
        ));
        return;
    }
    let taxonomy = vocab::taxonomy();
    let by_id = taxonomy.iter().find(|(id, _)| *id == taxon_id);
    let by_name = taxonomy
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name.trim()));
    match (by_id, by_name) {
        (Some((_, known)), _) if !known.eq_ignore_ascii_case(name.trim()) => {
            out.push(Finding::error(
                "organism.taxon_mismatch",
                path.to_owned(),
                format!("taxon {taxon_id} is {known:?}, not {name:?}"),
            ))
        }
        (None, Some((known_id, known))) => out.push(Finding::error(
            "organism.taxon_mismatch",
            path.to_owned(),
            format!("{known:?} is taxon {known_id}, not {taxon_id}"),
        )),
        _ => {}
    }
}

fn check_sample(sample: &Sample, path: &str, today: Date, out: &mut Vec<Finding>) {
    check_alias(&sample.alias, path, out);
    check_text(
        &sample.title,
        format!("{path}.title"),
        MAX_TITLE_LEN,
        true,
        out,
    );
    check_organism(
        sample.organism.taxon_id,
        &sample.organism.scientific_name,
        &format!("{path}.organism"),
        out,
    );
    let Some(checklist) = Checklist::get(&sample.checklist) else {
        let names: Vec<_> = Checklist::all().iter().map(|c| c.name.as_str()).collect();
        out.push(Finding::error(
            "sample.checklist_unknown",
            format!("{path}.checklist"),
            format!(
                "unknown checklist {:?}; use one of {}",
                sample.checklist,
                names.join(", ")
            ),
        ));
        return;
    };
    let given: HashMap<String, (&String, &Attribute)> = sample
        .attributes
        .iter()
        .map(|(tag, value)| (normalize_tag(tag), (tag, value)))
        .collect();
    if given.len() < sample.attributes.len() {
        out.push(Finding::error(
            "sample.attribute_duplicate",
            format!("{path}.attributes"),
            "the same attribute is given twice under different spellings",
        ));
    }
    for field in &checklist.fields {
        let field_path = format!("{path}.attributes.{}", field.name);
        match given.get(&field.name) {
            None => match field.requirement {
                Requirement::Mandatory => out.push(Finding::error(
                    "sample.attribute_missing",
                    field_path,
                    format!(
                        "checklist {} requires {}: {}",
                        checklist.name, field.name, field.description
                    ),
                )),
                Requirement::Recommended => out.push(Finding::warning(
                    "sample.attribute_recommended_missing",
                    field_path,
                    format!("checklist {} recommends {}", checklist.name, field.name),
                )),
                Requirement::Optional => {}
            },
            Some((tag, attribute)) => {
                check_attribute(
                    field,
                    attribute,
                    &format!("{path}.attributes.{tag}"),
                    today,
                    out,
                );
            }
        }
    }
    for (tag, attribute) in &sample.attributes {
        if attribute.value.chars().count() > MAX_VALUE_LEN {
            out.push(Finding::error(
                "field.too_long",
                format!("{path}.attributes.{tag}"),
                format!("longer than {MAX_VALUE_LEN} characters"),
            ));
        }
    }
    check_other_attributes(&sample.attributes, path, out);
}

fn check_other_attributes(attributes: &Attributes, path: &str, out: &mut Vec<Finding>) {
    for tag in attributes.keys() {
        if tag.trim().is_empty() {
            out.push(Finding::error(
                "field.empty",
                format!("{path}.attributes"),
                "an attribute has an empty tag",
            ));
        }
    }
}

fn check_attribute(
    field: &crate::checklist::Field,
    attribute: &Attribute,
    path: &str,
    today: Date,
    out: &mut Vec<Finding>,
) {
    let value = attribute.value.trim();
    if value.is_empty() {
        out.push(Finding::error(
            "sample.attribute_empty",
            path,
            format!(
                "{} is empty; give a value or an INSDC missing-value term such as 'not collected'",
                field.name
            ),
        ));
        return;
    }
    if vocab::MISSING_VALUE_TERMS.contains(&value) {
        return;
    }
    if vocab::PLACEHOLDERS.contains(&value.to_ascii_lowercase().as_str()) {
        out.push(Finding::error(
            "sample.missing_value_invalid",
            path,
            format!(
                "{value:?} is not an INSDC missing-value term; use one of: {}",
                vocab::MISSING_VALUE_TERMS[..5].join(", ")
            ),
        ));
        return;
    }
    match field.format {
        Some(Format::Date) => match check_date(value, today) {
            DateCheck::Ok => {}
            DateCheck::Invalid => out.push(Finding::error(
                "sample.date_invalid",
                path,
                format!("{value:?} is not an INSDC date (YYYY, YYYY-MM, YYYY-MM-DD, optional THH:MM[:SS]Z, or start/end)"),
            )),
            DateCheck::Future => out.push(Finding::error("sample.date_in_future", path, format!("{value} is after today ({today})"))),
        },
        Some(Format::LatLon) if !is_lat_lon(value) => out.push(Finding::error(
            "sample.lat_lon_invalid",
            path,
            format!("{value:?} is not latitude and longitude like '39.90 N 116.40 E'"),
        )),
        Some(Format::Number) if value.parse::<f64>().map(|n| !n.is_finite()).unwrap_or(true) => {
            out.push(Finding::error("sample.number_invalid", path, format!("{value:?} is not a number")));
        }
        _ => {}
    }
    if let Some(name) = &field.vocabulary
        && let Some(vocabulary) = vocab::by_name(name)
    {
        let head = value.split(':').next().unwrap_or(value).trim();
        if !vocabulary.contains(head) {
            let hint = vocabulary
                .suggest(head)
                .map(|s| format!("; did you mean {s:?}?"))
                .unwrap_or_default();
            out.push(Finding::error(
                "sample.vocabulary_invalid",
                path,
                format!(
                    "{head:?} is not in the INSDC {} list{hint}",
                    vocabulary.name()
                ),
            ));
        }
    }
    if !field.values.is_empty() && !field.values.iter().any(|v| v == value) {
        out.push(Finding::error(
            "sample.vocabulary_invalid",
            path,
            format!("{value:?} is not one of {}", field.values.join(", ")),
        ));
    }
    if let Some(regex) = field.regex()
        && !regex.is_match(value)
    {
        out.push(Finding::error(
            "sample.pattern_mismatch",
            path,
            format!("{value:?} does not match {}", regex.as_str()),
        ));
    }
    match (&attribute.unit, field.units.is_empty()) {
        (None, false) => out.push(Finding::error(
            "sample.unit_required",
            path,
            format!("{} needs a unit: {}", field.name, field.units.join(", ")),
        )),
        (Some(unit), false) if !field.units.contains(unit) => out.push(Finding::error(
            "sample.unit_invalid",
            path,
            format!("unit {unit:?} is not one of {}", field.units.join(", ")),
        )),
        (Some(unit), true) => out.push(Finding::error(
            "sample.unit_invalid",
            path,
            format!("{} takes no unit, got {unit:?}", field.name),
        )),
        _ => {}
    }
}

enum DateCheck {
    Ok,
    Invalid,
    Future,
}

/// Checks an INSDC collection date (one date or `start/end`).
fn check_date(value: &str, today: Date) -> DateCheck {
    let parts: Vec<&str> = value.split('/').collect();
    if parts.len() > 2 {
        return DateCheck::Invalid;
    }
    let mut dates = Vec::new();
    for part in &parts {
        match parse_partial_date(part) {
            Some(d) => dates.push(d),
            None => return DateCheck::Invalid,
        }
    }
    if dates.len() == 2 && dates[0] > dates[1] {
        return DateCheck::Invalid;
    }
    if dates.iter().any(|d| *d > today) {
        DateCheck::Future
    } else {
        DateCheck::Ok
    }
}

/// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]Z` to its first day.
fn parse_partial_date(s: &str) -> Option<Date> {
    let date_part = match s.split_once('T') {
        Some((date, time)) => {
            let time = time.strip_suffix('Z')?;
            let fields: Vec<&str> = time.split(':').collect();
            let ok = (2..=3).contains(&fields.len())
                && fields
                    .iter()
                    .all(|f| f.len() == 2 && f.bytes().all(|b| b.is_ascii_digit()));
            if !ok {
                return None;
            }
            date
        }
        None => s,
    };
    let fields: Vec<&str> = date_part.split('-').collect();
    let number = |f: &str, len: usize| {
        (f.len() == len && f.bytes().all(|b| b.is_ascii_digit()))
            .then(|| f.parse::<i16>().ok())
            .flatten()
    };
    let year = number(fields.first()?, 4)?;
    let month = match fields.get(1) {
        Some(m) => number(m, 2)?,
        None => 1,
    };
    let day = match fields.get(2) {
        Some(d) => number(d, 2)?,
        None => 1,
    };
    if fields.len() > 3 || year < 1000 {
        return None;
    }
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

fn is_lat_lon(value: &str) -> bool {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [lat, ns, lon, ew] = parts[..] else {
        return false;
    };
    let lat_ok =
        lat.parse::<f64>().is_ok_and(|v| (0.0..=90.0).contains(&v)) && matches!(ns, "N" | "S");
    let lon_ok =
        lon.parse::<f64>().is_ok_and(|v| (0.0..=180.0).contains(&v)) && matches!(ew, "E" | "W");
    lat_ok && lon_ok
}

fn check_vocab(
    value: &str,
    vocabulary: &vocab::Vocabulary,
    code: &'static str,
    path: String,
    out: &mut Vec<Finding>,
) {
    if !vocabulary.contains(value) {
        let hint = vocabulary
            .suggest(value)
            .map(|s| format!("; did you mean {s:?}?"))
            .unwrap_or_default();
        out.push(Finding::error(
            code,
            path,
            format!("{value:?} is not an INSDC {}{hint}", vocabulary.name()),
        ));
    }
}

fn check_experiment(experiment: &Experiment, path: &str, out: &mut Vec<Finding>) {
    check_alias(&experiment.alias, path, out);
    check_text(
        &experiment.title,
        format!("{path}.title"),
        MAX_TITLE_LEN,
        true,
        out,
    );
    let library = &experiment.library;
    check_vocab(
        &library.strategy,
        vocab::library_strategy(),
        "experiment.vocabulary_invalid",
        format!("{path}.library.strategy"),
        out,
    );
    check_vocab(
        &library.source,
        vocab::library_source(),
        "experiment.vocabulary_invalid",
        format!("{path}.library.source"),
        out,
    );
    check_vocab(
        &library.selection,
        vocab::library_selection(),
        "experiment.vocabulary_invalid",
        format!("{path}.library.selection"),
        out,
    );
    if !vocab::LAYOUTS.contains(&library.layout.as_str()) {
        out.push(Finding::error(
            "experiment.vocabulary_invalid",
            format!("{path}.library.layout"),
            format!("layout {:?} must be SINGLE or PAIRED", library.layout),
        ));
    } else if library.layout == "PAIRED" && library.insert_size.is_none() {
        out.push(Finding::warning(
            "experiment.insert_size_missing",
            format!("{path}.library.insert_size"),
            "a paired library should give its nominal insert size",
        ));
    }
    if library.insert_size.is_some_and(|size| size > 100_000) {
        out.push(Finding::error(
            "experiment.insert_size_invalid",
            format!("{path}.library.insert_size"),
            "insert size above 100,000 bp is not plausible",
        ));
    }
    if !vocab::is_platform(&experiment.platform) {
        out.push(Finding::error(
            "experiment.vocabulary_invalid",
            format!("{path}.platform"),
            format!(
                "{:?} is not an INSDC platform (ILLUMINA, OXFORD_NANOPORE, PACBIO_SMRT, DNBSEQ, …)",
                experiment.platform
            ),
        ));
    } else {
        let platforms = vocab::platforms_of(&experiment.instrument_model);
        if platforms.is_empty() {
            out.push(Finding::error(
                "experiment.vocabulary_invalid",
                format!("{path}.instrument_model"),
                format!(
                    "{:?} is not an INSDC instrument model",
                    experiment.instrument_model
                ),
            ));
        } else if !platforms.contains(&experiment.platform.as_str()) {
            out.push(Finding::error(
                "experiment.instrument_platform_mismatch",
                format!("{path}.instrument_model"),
                format!(
                    "{} is a {} instrument, not {}",
                    experiment.instrument_model,
                    platforms.join("/"),
                    experiment.platform
                ),
            ));
        }
    }
}

fn check_run(run: &Run, path: &str, layout: Option<&str>, out: &mut Vec<Finding>) {
    check_alias(&run.alias, path, out);
    if run.files.is_empty() {
        out.push(Finding::error(
            "run.files_missing",
            format!("{path}.files"),
            "a run needs at least one file",
        ));
        return;
    }
    let mut names = HashSet::new();
    for (idx, file) in run.files.iter().enumerate() {
        let file_path = format!("{path}.files[{idx}]");
        // A relative path inside the upload area is allowed (SRA XML names files so); nothing that climbs out of it.
        let bad_name = file.name.is_empty()
            || !file.name.is_ascii()
            || file
                .name
                .contains(['\\', '<', '>', ':', '"', '|', '?', '*'])
            || file.name.starts_with('/')
            || file
                .name
                .split('/')
                .any(|part| part.is_empty() || part == ".." || part.starts_with('.'));
        if bad_name {
            out.push(Finding::error(
                "run.file_name_invalid",
                format!("{file_path}.name"),
                format!("{:?} must be an ASCII file name or relative path, without \\ < > : \" | ? * or hidden parts", file.name),
            ));
        }
        if !names.insert(file.name.as_str()) {
            out.push(Finding::error(
                "run.file_duplicate",
                format!("{file_path}.name"),
                format!("{} is listed twice", file.name),
            ));
        }
        if vocab::LEGACY_RUN_FILE_TYPES.contains(&file.file_type.as_str()) {
            out.push(Finding::warning(
                "run.file_type_unchecked",
                format!("{file_path}.type"),
                format!("{} files are archived as they are; seqbank checks the content of fastq, bam and cram", file.file_type),
            ));
        } else if !vocab::RUN_FILE_TYPES.contains(&file.file_type.as_str()) {
            out.push(Finding::error(
                "run.file_type_invalid",
                format!("{file_path}.type"),
                format!("{:?} is not a read file type (fastq, bam, cram, or another INSDC run file type)", file.file_type),
            ));
        }
        if file.md5.parse::<seqbank_core::Md5>().is_err() {
            out.push(Finding::error(
                "run.md5_invalid",
                format!("{file_path}.md5"),
                format!("{:?} is not an MD5 (32 hex digits)", file.md5),
            ));
        }
    }
    let types: HashSet<&str> = run.files.iter().map(|f| f.file_type.as_str()).collect();
    if types.len() > 1 {
        out.push(Finding::error(
            "run.file_types_mixed",
            format!("{path}.files"),
            "a run holds FASTQ files, or one BAM, or one CRAM, not a mix",
        ));
    }
    let n_fastq = run.files.iter().filter(|f| f.file_type == "fastq").count();
    if n_fastq > 10 {
        out.push(Finding::error(
            "run.too_many_files",
            format!("{path}.files"),
            "a run holds at most 10 FASTQ files",
        ));
    }
    if types.len() == 1 && (types.contains("bam") || types.contains("cram")) && run.files.len() > 1
    {
        out.push(Finding::error(
            "run.too_many_files",
            format!("{path}.files"),
            "a run holds one BAM or one CRAM file",
        ));
    }
    if layout == Some("PAIRED") && types == HashSet::from(["fastq"]) && n_fastq < 2 {
        out.push(Finding::error(
            "run.second_file_missing",
            format!("{path}.files"),
            "the experiment's library is PAIRED: give both mates as two FASTQ files",
        ));
    }
}

/// Returns whether `s` looks like an INSDC/NGDC/EGA accession of `kind`.
pub fn is_insdc_accession(kind: ObjectKind, s: &str) -> bool {
    let digits = |t: &str, min: usize| t.len() >= min && t.bytes().all(|b| b.is_ascii_digit());
    let three = |prefixes: &[&str], t: &str| {
        prefixes
            .iter()
            .any(|p| t.strip_prefix(p).is_some_and(|rest| digits(rest, 6)))
    };
    match kind {
        ObjectKind::Project => {
            s.strip_prefix("PRJ").is_some_and(|rest| {
                let b = rest.as_bytes();
                b.len() > 2
                    && b"EDNC".contains(&b[0])
                    && b[1].is_ascii_uppercase()
                    && digits(&rest[2..], 1)
            }) || three(&["ERP", "DRP", "SRP", "CRA", "EGAS"], s)
        }
        ObjectKind::Sample => {
            s.strip_prefix("SAM").is_some_and(|rest| {
                let rest = rest.trim_start_matches(|c: char| c.is_ascii_uppercase());
                digits(rest, 1) && rest.len() + 3 < s.len()
            }) || three(&["ERS", "DRS", "SRS", "EGAN"], s)
        }
        ObjectKind::Experiment => three(&["ERX", "DRX", "SRX", "CRX", "EGAX"], s),
        ObjectKind::Run => three(&["ERR", "DRR", "SRR", "CRR", "EGAR"], s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_json;

    fn today() -> Date {
        Date::new(2026, 11, 21).unwrap()
    }

    fn codes(json: &str) -> Vec<(String, &'static str)> {
        let batch: Batch = parse_json(json.as_bytes()).unwrap();
        validate_batch(&batch, &Context::new(today()))
            .into_iter()
            .map(|f| (f.path, f.code))
            .collect()
    }

    const GOOD: &str = r#"{
        "projects": [{"alias": "p1", "title": "Gut microbiome of rice farmers", "description": "Shotgun metagenomes."}],
        "samples": [{"alias": "s1", "title": "Stool 1", "project": "p1", "checklist": "human",
            "organism": {"taxon_id": 9606, "scientific_name": "Homo sapiens"},
            "attributes": {"collection date": "2024-03", "geo_loc_name": "China: Hunan", "sex": "female",
                "tissue": "stool", "age": {"value": "41", "unit": "years"}, "disease": "not collected"}}],
        "experiments": [{"alias": "e1", "title": "WGS of stool 1", "sample": "s1", "platform": "ILLUMINA",
            "instrument_model": "Illumina NovaSeq 6000",
            "library": {"strategy": "WGS", "source": "GENOMIC", "selection": "RANDOM", "layout": "PAIRED", "insert_size": 350}}],
        "runs": [{"alias": "r1", "experiment": "e1", "files": [
            {"name": "s1_R1.fastq.gz", "type": "fastq", "md5": "d41d8cd98f00b204e9800998ecf8427e"},
            {"name": "s1_R2.fastq.gz", "type": "fastq", "md5": "0cc175b9c0f1b6a831c399e269772661"}]}]
    }"#;

    #[test]
    fn a_good_batch_has_no_findings() {
        assert_eq!(codes(GOOD), vec![]);
    }

    #[test]
    fn each_rule_reports_its_place() {
        let bad = GOOD
            .replace("\"2024-03\"", "\"2027-01-05\"")
            .replace("\"China: Hunan\"", "\"Chinaa\"")
            .replace("\"WGS\"", "\"wgs\"")
            .replace("\"sample\": \"s1\"", "\"sample\": \"s9\"")
            .replace("Illumina NovaSeq 6000", "MinION")
            .replace("\"years\"", "\"decades\"")
            .replace("\"female\"", "\"N/A\"")
            .replace(",\n            {\"name\": \"s1_R2.fastq.gz\", \"type\": \"fastq\", \"md5\": \"0cc175b9c0f1b6a831c399e269772661\"}", "");
        let found = codes(&bad);
        let expected = [
            (
                "samples[0].attributes.collection date",
                "sample.date_in_future",
            ),
            (
                "samples[0].attributes.geo_loc_name",
                "sample.vocabulary_invalid",
            ),
            ("samples[0].attributes.sex", "sample.missing_value_invalid"),
            ("samples[0].attributes.age", "sample.unit_invalid"),
            (
                "experiments[0].library.strategy",
                "experiment.vocabulary_invalid",
            ),
            (
                "experiments[0].instrument_model",
                "experiment.instrument_platform_mismatch",
            ),
            ("experiments[0].sample", "ref.unresolved"),
            ("runs[0].files", "run.second_file_missing"),
        ];
        for (path, code) in expected {
            assert!(
                found.iter().any(|(p, c)| p == path && *c == code),
                "missing {code} at {path} in {found:?}"
            );
        }
        assert_eq!(found.len(), expected.len(), "{found:?}");
    }

    #[test]
    fn missing_mandatory_attributes_are_deferred() {
        let batch: Batch = parse_json(br#"{"samples": [{"alias": "s", "title": "t", "organism": {"taxon_id": 562, "scientific_name": "Escherichia coli"}}]}"#).unwrap();
        let findings = validate_batch(&batch, &Context::new(today()));
        assert_eq!(findings.len(), 2, "{findings:?}");
        assert!(findings.iter().all(Finding::is_deferred));
    }

    #[test]
    fn dates_and_accessions() {
        assert!(matches!(check_date("2020/2021-06", today()), DateCheck::Ok));
        assert!(matches!(
            check_date("2021-06-01T10:20Z", today()),
            DateCheck::Ok
        ));
        assert!(matches!(check_date("2021-13", today()), DateCheck::Invalid));
        assert!(matches!(
            check_date("2022/2021", today()),
            DateCheck::Invalid
        ));
        assert!(matches!(
            check_date("21-06-01", today()),
            DateCheck::Invalid
        ));
        assert!(is_insdc_accession(ObjectKind::Project, "PRJNA294609"));
        assert!(is_insdc_accession(ObjectKind::Sample, "SAMN00000985"));
        assert!(is_insdc_accession(ObjectKind::Sample, "SRS000099"));
        assert!(!is_insdc_accession(ObjectKind::Sample, "SAM"));
        assert!(is_insdc_accession(ObjectKind::Run, "ERR000076"));
        assert!(!is_insdc_accession(ObjectKind::Run, "exp-ref-001"));
        assert_eq!(
            check_hold_date("2029-01-01", today(), "hold").map(|f| f.code),
            Some("submission.hold_date_too_far")
        );
        assert_eq!(check_hold_date("2027-01-01", today(), "hold"), None);
        assert_eq!(
            check_hold_date("2026-11-20", today(), "hold").map(|f| f.code),
            Some("submission.hold_date_past")
        );
    }
}
