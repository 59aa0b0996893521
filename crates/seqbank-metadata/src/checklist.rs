//! Sample checklists: which attributes a kind of sample must, should and may carry.
//!
//! Checklists are data, not code: TOML files in `crates/seqbank-metadata/checklists/`, embedded
//! at build time. A checklist may `extend` another and then adds to or overrides its fields.

use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

/// How much a checklist needs a field.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Requirement {
    /// Must be present (an INSDC missing-value term is accepted).
    Mandatory,
    /// Shown in templates; a warning when absent.
    Recommended,
    /// Shown in templates.
    Optional,
}

impl Requirement {
    /// Returns the lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mandatory => "mandatory",
            Self::Recommended => "recommended",
            Self::Optional => "optional",
        }
    }
}

/// What shape a value has.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// An INSDC date: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, optional time, or `start/end`.
    Date,
    /// `39.90 N 116.40 E`.
    LatLon,
    /// A decimal number.
    Number,
}

/// One attribute of a checklist.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Attribute tag, lower case with underscores.
    pub name: String,
    /// Whether it must be there.
    pub requirement: Requirement,
    /// What it means and how to write it.
    #[serde(default)]
    pub description: String,
    /// The value's shape.
    #[serde(default)]
    pub format: Option<Format>,
    /// A named vocabulary the value (before any `:`) must be in.
    #[serde(default)]
    pub vocabulary: Option<String>,
    /// The allowed values, when the list is short.
    #[serde(default)]
    pub values: Vec<String>,
    /// A regular expression the value must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Allowed units; when not empty, a unit is required.
    #[serde(default)]
    pub units: Vec<String>,
    #[serde(skip)]
    regex: Option<Regex>,
}

impl Field {
    /// Returns the compiled pattern.
    pub fn regex(&self) -> Option<&Regex> {
        self.regex.as_ref()
    }
}

/// A named set of fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    /// Short name used in submissions (`human`).
    pub name: String,
    /// Human title.
    pub title: String,
    /// What it is for.
    pub description: String,
    /// The checklist this one builds on.
    #[serde(default)]
    pub extends: Option<String>,
    /// The fields, the parent's first.
    #[serde(default, rename = "field")]
    pub fields: Vec<Field>,
}

impl Checklist {
    /// Returns every checklist seqbank ships.
    pub fn all() -> &'static [Checklist] {
        static CELL: OnceLock<Vec<Checklist>> = OnceLock::new();
        CELL.get_or_init(|| {
            let sources = [
                include_str!("../checklists/generic.toml"),
                include_str!("../checklists/human.toml"),
                include_str!("../checklists/microbe.toml"),
                include_str!("../checklists/plant.toml"),
                include_str!("../checklists/environmental.toml"),
            ];
            let parsed: Vec<Checklist> = sources
                .iter()
                .map(|s| {
                    toml::from_str(s)
                        .expect("embedded checklists are valid; a unit test parses them")
                })
                .collect();
            parsed.iter().map(|c| c.resolved(&parsed)).collect()
        })
    }

    /// Returns the checklist of this name.
    pub fn get(name: &str) -> Option<&'static Checklist> {
        Self::all().iter().find(|c| c.name == name)
    }

    /// Returns the field of this tag (tags are compared after [`normalize_tag`]).
    pub fn field(&self, tag: &str) -> Option<&Field> {
        let tag = normalize_tag(tag);
        self.fields.iter().find(|f| f.name == tag)
    }

    fn resolved(&self, all: &[Checklist]) -> Checklist {
        let mut fields: Vec<Field> = Vec::new();
        if let Some(parent) = self
            .extends
            .as_deref()
            .and_then(|p| all.iter().find(|c| c.name == p))
        {
            fields.extend(parent.resolved(all).fields);
        }
        for field in &self.fields {
            let copy = field.copy();
            match fields.iter_mut().find(|f| f.name == field.name) {
                Some(slot) => *slot = copy,
                None => fields.push(copy),
            }
        }
        Checklist {
            name: self.name.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            extends: self.extends.clone(),
            fields,
        }
    }
}

impl Field {
    fn copy(&self) -> Field {
        Field {
            name: self.name.clone(),
            requirement: self.requirement,
            description: self.description.clone(),
            format: self.format,
            vocabulary: self.vocabulary.clone(),
            values: self.values.clone(),
            pattern: self.pattern.clone(),
            units: self.units.clone(),
            regex: self
                .pattern
                .as_deref()
                .map(|p| Regex::new(p).expect("checklist patterns compile; a unit test checks")),
        }
    }
}

/// Normalizes an attribute tag: lower case, spaces and `-` as `_` (`Collection Date` → `collection_date`).
pub fn normalize_tag(tag: &str) -> String {
    tag.trim()
        .chars()
        .map(|c| {
            if c == ' ' || c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checklists_parse_and_inherit() {
        let names: Vec<_> = Checklist::all().iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["generic", "human", "microbe", "plant", "environmental"]
        );
        let env = Checklist::get("environmental").unwrap();
        assert_eq!(
            env.field("Collection Date").unwrap().requirement,
            Requirement::Mandatory
        );
        // Overridden from optional in the generic checklist.
        assert_eq!(
            env.field("lat_lon").unwrap().requirement,
            Requirement::Mandatory
        );
        assert!(
            Checklist::get("human")
                .unwrap()
                .field("consent_code")
                .unwrap()
                .regex()
                .is_some()
        );
        for checklist in Checklist::all() {
            for field in &checklist.fields {
                if let Some(v) = &field.vocabulary {
                    assert!(
                        crate::vocab::by_name(v).is_some(),
                        "{}: unknown vocabulary {v}",
                        checklist.name
                    );
                }
            }
        }
    }
}
