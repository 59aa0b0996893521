//! The metadata objects a submitter describes: projects, samples, experiments and runs.
//!
//! Field names follow the INSDC SRA XML schemas in lower case (`library.strategy` for
//! `LIBRARY_STRATEGY`). Unknown fields are rejected, so a misspelt field is an error and not a
//! silently dropped value.

use std::{collections::BTreeMap, fmt};

use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{self, MapAccess, Visitor},
    ser::SerializeMap,
};

use seqbank_core::ObjectKind;

/// Objects sent together: what a JSON document, a spreadsheet or an XML file describes.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// Projects (BioProject).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<Project>,
    /// Samples (BioSample).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Sample>,
    /// Experiments (sequencing libraries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experiments: Vec<Experiment>,
    /// Runs (files of reads).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<Run>,
}

impl Batch {
    /// Returns the number of objects.
    pub fn len(&self) -> usize {
        self.projects.len() + self.samples.len() + self.experiments.len() + self.runs.len()
    }

    /// Returns whether there are no objects.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the aliases of every object with its kind, in batch order.
    pub fn aliases(&self) -> impl Iterator<Item = (ObjectKind, &str)> {
        let projects = self
            .projects
            .iter()
            .map(|o| (ObjectKind::Project, o.alias.as_str()));
        let samples = self
            .samples
            .iter()
            .map(|o| (ObjectKind::Sample, o.alias.as_str()));
        let experiments = self
            .experiments
            .iter()
            .map(|o| (ObjectKind::Experiment, o.alias.as_str()));
        let runs = self
            .runs
            .iter()
            .map(|o| (ObjectKind::Run, o.alias.as_str()));
        projects.chain(samples).chain(experiments).chain(runs)
    }

    /// Returns the number of projects, samples, experiments and runs, in [`ObjectKind::ALL`] order.
    pub fn counts(&self) -> [usize; 4] {
        [
            self.projects.len(),
            self.samples.len(),
            self.experiments.len(),
            self.runs.len(),
        ]
    }

    /// Returns every reference the objects make: (kind referred to, reference as written).
    pub fn references(&self) -> Vec<(ObjectKind, &str)> {
        let mut out = Vec::new();
        out.extend(self.projects.iter().flat_map(Project::references));
        out.extend(self.samples.iter().flat_map(Sample::references));
        out.extend(self.experiments.iter().flat_map(Experiment::references));
        out.extend(self.runs.iter().flat_map(Run::references));
        out
    }

    /// Returns the objects one by one, projects first.
    pub fn into_objects(self) -> impl Iterator<Item = Object> {
        let projects = self.projects.into_iter().map(Object::Project);
        let samples = self.samples.into_iter().map(Object::Sample);
        let experiments = self.experiments.into_iter().map(Object::Experiment);
        let runs = self.runs.into_iter().map(Object::Run);
        projects.chain(samples).chain(experiments).chain(runs)
    }

    /// Adds every object of `other` after those of `self`.
    pub fn extend(&mut self, other: Batch) {
        self.projects.extend(other.projects);
        self.samples.extend(other.samples);
        self.experiments.extend(other.experiments);
        self.runs.extend(other.runs);
    }
}

/// One object of any kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Object {
    /// A project.
    Project(Project),
    /// A sample.
    Sample(Sample),
    /// An experiment.
    Experiment(Experiment),
    /// A run.
    Run(Run),
}

impl Object {
    /// Parses the JSON body of an object of `kind`, naming the field path of any error.
    pub fn from_json(kind: ObjectKind, json: &[u8]) -> Result<Self, crate::ParseError> {
        Ok(match kind {
            ObjectKind::Project => Self::Project(crate::parse_json(json)?),
            ObjectKind::Sample => Self::Sample(crate::parse_json(json)?),
            ObjectKind::Experiment => Self::Experiment(crate::parse_json(json)?),
            ObjectKind::Run => Self::Run(crate::parse_json(json)?),
        })
    }

    /// Returns the kind.
    pub fn kind(&self) -> ObjectKind {
        match self {
            Self::Project(_) => ObjectKind::Project,
            Self::Sample(_) => ObjectKind::Sample,
            Self::Experiment(_) => ObjectKind::Experiment,
            Self::Run(_) => ObjectKind::Run,
        }
    }

    /// Returns the submitter's alias.
    pub fn alias(&self) -> &str {
        match self {
            Self::Project(o) => &o.alias,
            Self::Sample(o) => &o.alias,
            Self::Experiment(o) => &o.alias,
            Self::Run(o) => &o.alias,
        }
    }

    /// Returns a one-line title for listings.
    pub fn title(&self) -> &str {
        match self {
            Self::Project(o) => &o.title,
            Self::Sample(o) => &o.title,
            Self::Experiment(o) => &o.title,
            Self::Run(o) => o.title.as_deref().unwrap_or(&o.alias),
        }
    }

    /// Returns the references this object makes: (kind referred to, reference as written).
    pub fn references(&self) -> Vec<(ObjectKind, &str)> {
        match self {
            Self::Project(o) => o.references(),
            Self::Sample(o) => o.references(),
            Self::Experiment(o) => o.references(),
            Self::Run(o) => o.references(),
        }
    }

    /// Adds the object to a batch.
    pub fn push_into(self, batch: &mut Batch) {
        match self {
            Self::Project(o) => batch.projects.push(o),
            Self::Sample(o) => batch.samples.push(o),
            Self::Experiment(o) => batch.experiments.push(o),
            Self::Run(o) => batch.runs.push(o),
        }
    }

    /// Returns the object as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("metadata objects always serialize")
    }
}

/// A research effort: BioProject / ENA project / NGDC BioProject.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The submitter's name for it, unique among their projects.
    pub alias: String,
    /// A descriptive title.
    pub title: String,
    /// What the project is about and why.
    #[serde(default)]
    pub description: String,
    /// Project data type, e.g. `Genome sequencing`, `Transcriptome or Gene expression`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub project_type: Option<String>,
    /// Relevance: Agricultural, Medical, Industrial, Environmental, Evolution, Model organism, Other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevance: Option<String>,
    /// The organism studied, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organism: Option<Organism>,
    /// Funding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// Publications describing the data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publications: Vec<Publication>,
    /// The umbrella project this one belongs to (alias or accession).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub umbrella: Option<String>,
    /// Accessions this project has elsewhere (e.g. an imported INSDC record).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_ids: Vec<String>,
    /// Free tag/value attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: Attributes,
}

/// An organism: NCBI taxonomy id and scientific name.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Organism {
    /// NCBI taxonomy id, e.g. 9606.
    pub taxon_id: u64,
    /// Scientific name, e.g. `Homo sapiens`.
    pub scientific_name: String,
}

/// A grant that funded the work.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// Funding agency.
    pub agency: String,
    /// Grant number.
    pub id: String,
    /// Grant title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A publication, by PubMed id or DOI.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Publication {
    /// PubMed id (digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmid: Option<String>,
    /// DOI, e.g. `10.1038/s41586-020-2008-3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
}

/// A biological source material: BioSample.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// The submitter's name for it, unique among their samples.
    pub alias: String,
    /// A descriptive title.
    pub title: String,
    /// Free-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The organism the material comes from (for metagenomes, the metagenome taxon).
    pub organism: Organism,
    /// The checklist (package) the attributes follow; `generic` when absent.
    #[serde(default = "default_checklist")]
    pub checklist: String,
    /// The project this sample belongs to (alias or accession).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Accessions this sample has elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_ids: Vec<String>,
    /// Checklist attributes and any others, by tag.
    #[serde(default)]
    pub attributes: Attributes,
}

impl Project {
    /// Returns the references it makes: its umbrella project.
    pub fn references(&self) -> Vec<(ObjectKind, &str)> {
        self.umbrella
            .iter()
            .map(|r| (ObjectKind::Project, r.as_str()))
            .collect()
    }
}

impl Sample {
    /// Returns the references it makes: its project.
    pub fn references(&self) -> Vec<(ObjectKind, &str)> {
        self.project
            .iter()
            .map(|r| (ObjectKind::Project, r.as_str()))
            .collect()
    }
}

impl Experiment {
    /// Returns the references it makes: its sample and project.
    pub fn references(&self) -> Vec<(ObjectKind, &str)> {
        let mut refs = vec![(ObjectKind::Sample, self.sample.as_str())];
        refs.extend(
            self.project
                .iter()
                .map(|r| (ObjectKind::Project, r.as_str())),
        );
        refs
    }
}

impl Run {
    /// Returns the references it makes: its experiment.
    pub fn references(&self) -> Vec<(ObjectKind, &str)> {
        vec![(ObjectKind::Experiment, self.experiment.as_str())]
    }
}

fn default_checklist() -> String {
    "generic".to_owned()
}

/// A sequencing library on an instrument: SRA experiment.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// The submitter's name for it, unique among their experiments.
    pub alias: String,
    /// A descriptive title.
    pub title: String,
    /// The project (alias or accession); defaults to the sample's project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The sample sequenced (alias or accession).
    pub sample: String,
    /// How the library was made.
    pub library: Library,
    /// Platform, e.g. `ILLUMINA`, `OXFORD_NANOPORE`.
    pub platform: String,
    /// Instrument model, e.g. `Illumina NovaSeq 6000`.
    pub instrument_model: String,
    /// Design description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design_description: Option<String>,
    /// Accessions this experiment has elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_ids: Vec<String>,
    /// Free tag/value attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: Attributes,
}

/// The library descriptor of an experiment.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Library {
    /// Library name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// INSDC library strategy, e.g. `WGS`, `RNA-Seq`.
    pub strategy: String,
    /// INSDC library source, e.g. `GENOMIC`.
    pub source: String,
    /// INSDC library selection, e.g. `RANDOM`.
    pub selection: String,
    /// `SINGLE` or `PAIRED`.
    pub layout: String,
    /// Nominal insert size in base pairs (paired libraries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insert_size: Option<u32>,
    /// Standard deviation of the insert size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insert_size_sd: Option<f64>,
    /// Library construction protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub construction_protocol: Option<String>,
}

/// Files of reads from one experiment: SRA run.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// The submitter's name for it, unique among their runs.
    pub alias: String,
    /// A title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The experiment (alias or accession).
    pub experiment: String,
    /// The files, with their declared checksums.
    #[serde(default)]
    pub files: Vec<RunFile>,
    /// Accessions this run has elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_ids: Vec<String>,
    /// Free tag/value attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: Attributes,
}

/// One file of a run, as declared by the submitter.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunFile {
    /// File name as uploaded, e.g. `A1_R1.fastq.gz`.
    pub name: String,
    /// `fastq`, `bam` or `cram`.
    #[serde(rename = "type")]
    pub file_type: String,
    /// Declared MD5, 32 hex digits.
    pub md5: String,
    /// What the file holds in a multi-file run: `paired`, `single`, `cell_barcode`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_type: Option<String>,
}

/// Attributes by tag.
pub type Attributes = BTreeMap<String, Attribute>;

/// An attribute value with an optional unit.
///
/// In JSON it is a string (or number), or `{"value": "34", "unit": "years"}`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Attribute {
    /// The value as written.
    pub value: String,
    /// The unit, when one is given.
    pub unit: Option<String>,
}

impl Attribute {
    /// Creates an attribute without a unit.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            unit: None,
        }
    }
}

impl Serialize for Attribute {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.unit {
            None => serializer.serialize_str(&self.value),
            Some(unit) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("value", &self.value)?;
                map.serialize_entry("unit", unit)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Attribute {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AttributeVisitor;

        impl<'de> Visitor<'de> for AttributeVisitor {
            type Value = Attribute;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, a number, or an object with `value` and optional `unit`")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Attribute, E> {
                Ok(Attribute::new(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Attribute, E> {
                Ok(Attribute::new(v.to_string()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Attribute, E> {
                Ok(Attribute::new(v.to_string()))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Attribute, E> {
                Ok(Attribute::new(v.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attribute, A::Error> {
                let mut value = None;
                let mut unit = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "value" => value = Some(map.next_value::<Attribute>()?.value),
                        "unit" => unit = map.next_value::<Option<String>>()?,
                        other => return Err(de::Error::unknown_field(other, &["value", "unit"])),
                    }
                }
                let value = value.ok_or_else(|| de::Error::missing_field("value"))?;
                Ok(Attribute {
                    value,
                    unit: unit.filter(|u| !u.is_empty()),
                })
            }
        }

        deserializer.deserialize_any(AttributeVisitor)
    }
}
