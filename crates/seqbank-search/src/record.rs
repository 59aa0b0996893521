//! What goes into the index: one record of any type, from any source.

use serde::{Serialize, Serializer, ser::SerializeMap};

/// The source of the records this archive holds itself; any other is an archive mirrored.
pub(crate) const LOCAL_SOURCE: &str = "seqbank";

/// A searchable record. Everything but `key` and `readers` is also returned in results.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Record {
    /// Unique key in the index; a record with the same key replaces the older one. A mirrored
    /// record (any `source` but `seqbank`) that has an accession is found again by that
    /// accession instead: an archive's accession names one record, and its key is not indexed.
    #[serde(skip)]
    pub key: String,
    /// Who may see it when `access` is `private`: `user:ID` of its owner. Anyone may see a
    /// record whose `access` is `public`; curators see everything.
    #[serde(skip)]
    pub readers: Vec<String>,
    /// Accession, if it has one yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accession: Option<String>,
    /// Object type: project, sample, experiment, run.
    #[serde(rename = "type")]
    pub kind: String,
    /// `seqbank` or the archive it was mirrored from.
    pub source: String,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Scientific name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organism: Option<String>,
    /// NCBI Taxonomy id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<u64>,
    /// Attributes, tag and value, in the record's order (returned as an object).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "as_map")]
    pub attributes: Vec<(String, String)>,
    /// Sequencing platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Instrument model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    /// Library strategy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_strategy: Option<String>,
    /// Library source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_source: Option<String>,
    /// Library selection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_selection: Option<String>,
    /// Library layout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_layout: Option<String>,
    /// Lifecycle state.
    pub status: String,
    /// `public` (anyone may find it) or `private` (its readers and curators only).
    pub access: String,
    /// Created or submitted, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted: Option<String>,
    /// Made public, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released: Option<String>,
    /// Last changed, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// Accessions of related records.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub linked: Vec<String>,
}

impl Record {
    /// The accession a mirrored record is found again by, when it has one (see
    /// [`Record::key`]). Half the distinct terms of a mirror-sized index would otherwise be
    /// keys, each seen once.
    pub(crate) fn mirrored_accession(&self) -> Option<&str> {
        (self.source != LOCAL_SOURCE)
            .then_some(self.accession.as_deref())
            .flatten()
    }
}

fn as_map<S: Serializer>(pairs: &[(String, String)], serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(pairs.len()))?;
    for (tag, value) in pairs {
        map.serialize_entry(tag, value)?;
    }
    map.end()
}

/// Parses the leading `YYYY-MM-DD` of a date or timestamp into `YYYYMMDD`.
pub(crate) fn date_number(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u64> {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    ((1..=12).contains(&month) && (1..=31).contains(&day))
        .then_some(year * 10_000 + month * 100 + day)
}

#[cfg(test)]
mod tests {
    use super::date_number;

    #[test]
    fn dates_become_sortable_numbers() {
        assert_eq!(date_number("2021-03-04"), Some(20210304));
        assert_eq!(date_number("2021-03-04T10:00:00Z"), Some(20210304));
        assert_eq!(date_number("2021-13-04"), None);
        assert_eq!(date_number("21-03-04"), None);
        assert_eq!(date_number("2021-0a-04"), None);
    }
}
