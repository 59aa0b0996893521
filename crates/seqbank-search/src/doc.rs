//! A record as tantivy indexes it.
//!
//! tantivy reads a document through its `Document` trait. Its own `TantivyDocument` encodes
//! every value into a buffer on the caller's thread and decodes each again on the indexing
//! thread. [`RecordDoc`] copies a record's texts once, end to end into one string, and hands
//! tantivy each value as a slice of it. The document is freed on the indexing thread, where
//! each allocation made on another thread costs more to free: it is three allocations, not one
//! per text of the record.

use tantivy::schema::{
    Document, Field,
    document::{ReferenceValue, ReferenceValueLeaf, Value},
};

use crate::{Record, Result, fields::push_tag, index::Fields, record::date_number};

/// The values of one record, in the order tantivy is given them.
pub(crate) struct RecordDoc {
    /// Every text value, end to end.
    texts: String,
    /// The record as returned in hits.
    json: String,
    values: Vec<(Field, Part)>,
}

/// Where a value lies.
#[derive(Clone, Copy, Debug)]
enum Part {
    /// A span of `texts`.
    Text(u32, u32),
    Json,
    Number(u64),
}

/// Builds a [`RecordDoc`]: the record's texts are copied once, into one buffer, so the
/// document is freed on the indexing thread in three pieces rather than in one per text.
struct Builder {
    texts: String,
    values: Vec<(Field, Part)>,
}

impl Builder {
    /// Adds a text, returning where it lies.
    fn text(&mut self, field: Field, text: &str) -> Part {
        let start = self.texts.len();
        self.texts.push_str(text);
        self.span(field, start)
    }

    /// Adds the text from `start` to the end of `texts`, returning where it lies.
    fn span(&mut self, field: Field, start: usize) -> Part {
        let part = Part::Text(start as u32, self.texts.len() as u32);
        self.values.push((field, part));
        part
    }

    fn number(&mut self, field: Field, n: u64) {
        self.values.push((field, Part::Number(n)));
    }
}

impl RecordDoc {
    /// The document of `r`; its key is indexed unless it is a mirrored record found by its
    /// accession (see [`Record::key`]).
    pub(crate) fn new(f: &Fields, r: &Record) -> Result<Self> {
        // Every text of the record, the attributes' twice: nothing grows.
        let own = [&r.key, &r.kind, &r.source, &r.title, &r.status, &r.access];
        let optional = [
            &r.accession,
            &r.description,
            &r.organism,
            &r.platform,
            &r.instrument,
            &r.library_strategy,
            &r.library_source,
            &r.library_selection,
            &r.library_layout,
        ];
        let lists = r.readers.iter().chain(&r.linked);
        let attributes = r
            .attributes
            .iter()
            .map(|(t, v)| 2 * (t.len() + v.len() + 1));
        let size = own.iter().map(|t| t.len()).sum::<usize>()
            + optional
                .iter()
                .flat_map(|t| t.as_deref())
                .map(str::len)
                .sum::<usize>()
            + lists.map(String::len).sum::<usize>()
            + attributes.sum::<usize>();
        let mut b = Builder {
            texts: String::with_capacity(size),
            values: Vec::with_capacity(32 + 3 * r.attributes.len()),
        };
        if r.mirrored_accession().is_none() {
            b.text(f.key, &r.key);
        }
        b.number(f.uid, xxhash_rust::xxh3::xxh3_64(r.key.as_bytes()));
        if let Some(accession) = &r.accession {
            b.text(f.accession, accession);
        }
        b.text(f.kind, &r.kind);
        b.text(f.source, &r.source);
        // Every text goes to its own field and to `text`; each value is a phrase of its own.
        let title = b.text(f.title, &r.title);
        // The title goes into the text twice, which ranks title words above the rest.
        b.values.push((f.text, title));
        b.values.push((f.text, title));
        let described = [(f.description, &r.description), (f.organism, &r.organism)];
        for (field, value) in described {
            if let Some(value) = value {
                let part = b.text(field, value);
                b.values.push((f.text, part));
            }
        }
        if let Some(tax_id) = r.tax_id {
            b.number(f.tax_id, tax_id);
        }
        let keywords = [
            (f.platform, &r.platform),
            (f.instrument, &r.instrument),
            (f.library_strategy, &r.library_strategy),
            (f.library_source, &r.library_source),
            (f.library_selection, &r.library_selection),
            (f.library_layout, &r.library_layout),
        ];
        for (field, value) in keywords {
            if let Some(value) = value {
                let part = b.text(field, value);
                b.values.push((f.text, part));
            }
        }
        b.text(f.status, &r.status);
        b.text(f.access, &r.access);
        for reader in &r.readers {
            b.text(f.readers, reader);
        }
        let dates = [
            (f.submitted, &r.submitted),
            (f.released, &r.released),
            (f.updated, &r.updated),
        ];
        for (field, value) in dates {
            if let Some(n) = value.as_deref().and_then(date_number) {
                b.number(field, n);
            }
        }
        if let Some(n) = r
            .released
            .as_deref()
            .or(r.submitted.as_deref())
            .and_then(date_number)
        {
            b.number(f.year, n / 10_000);
        }
        for linked in &r.linked {
            b.text(f.linked, linked);
        }
        // Tags already given to `attr_tag`, as spans of `texts`.
        let mut tags: Vec<(usize, usize)> = Vec::with_capacity(r.attributes.len());
        for (tag, value) in &r.attributes {
            // `tag:value` for the attribute field, whose tokenizer prefixes each word with the tag.
            let start = b.texts.len();
            push_tag(&mut b.texts, tag, '_');
            let tag_end = b.texts.len();
            b.texts.push(':');
            b.texts.push_str(value);
            b.span(f.attr, start);
            // The tag's words then the value's, one phrase, in the text.
            let phrase = b.texts.len();
            push_tag(&mut b.texts, tag, ' ');
            b.texts.push(' ');
            b.texts.push_str(value);
            b.span(f.text, phrase);
            let texts = &b.texts;
            if !tags
                .iter()
                .any(|&(a, z)| texts[a..z] == texts[start..tag_end])
            {
                tags.push((start, tag_end));
                b.values
                    .push((f.attr_tag, Part::Text(start as u32, tag_end as u32)));
            }
        }
        b.values.push((f.source_json, Part::Json));
        Ok(Self {
            texts: b.texts,
            json: serde_json::to_string(r)?,
            values: b.values,
        })
    }

    fn value(&self, part: Part) -> DocValue<'_> {
        match part {
            Part::Text(from, to) => DocValue::Text(&self.texts[from as usize..to as usize]),
            Part::Json => DocValue::Text(&self.json),
            Part::Number(n) => DocValue::Number(n),
        }
    }
}

/// One value of a [`RecordDoc`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum DocValue<'a> {
    Text(&'a str),
    Number(u64),
}

impl<'a> Value<'a> for DocValue<'a> {
    type ArrayIter = std::iter::Empty<Self>;
    type ObjectIter = std::iter::Empty<(&'a str, Self)>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        ReferenceValue::Leaf(match *self {
            DocValue::Text(text) => ReferenceValueLeaf::Str(text),
            DocValue::Number(n) => ReferenceValueLeaf::U64(n),
        })
    }
}

/// The values of a [`RecordDoc`], in order.
pub(crate) struct Values<'a> {
    doc: &'a RecordDoc,
    next: std::slice::Iter<'a, (Field, Part)>,
}

impl<'a> Iterator for Values<'a> {
    type Item = (Field, DocValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let &(field, part) = self.next.next()?;
        Some((field, self.doc.value(part)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.next.size_hint()
    }
}

impl Document for RecordDoc {
    type Value<'a> = DocValue<'a>;
    type FieldsValuesIter<'a> = Values<'a>;

    fn iter_fields_and_values(&self) -> Values<'_> {
        Values {
            doc: self,
            next: self.values.iter(),
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{Document, Value};

    use super::RecordDoc;
    use crate::{Record, fields::normalize_tag, index::schema};

    #[test]
    fn attributes_come_out_as_tag_value_texts_phrases_and_tags() {
        let (schema, fields) = schema();
        let record = Record {
            key: "seqbank:1".into(),
            kind: "sample".into(),
            source: "seqbank".into(),
            title: "Liver".into(),
            attributes: vec![
                ("Tissue".into(), "liver lobe".into()),
                (" host-disease state ".into(), "NASH".into()),
                ("Größe".into(), "12 cm".into()),
                ("tissue".into(), "portal vein".into()),
            ],
            ..Record::default()
        };
        let doc = RecordDoc::new(&fields, &record).unwrap();
        let values = |field| -> Vec<String> {
            doc.iter_fields_and_values()
                .filter(|(f, _)| *f == field)
                .map(|(_, v)| v.as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            values(fields.attr),
            [
                "tissue:liver lobe",
                "host_disease_state:NASH",
                "größe:12 cm",
                "tissue:portal vein"
            ]
        );
        assert_eq!(
            values(fields.text),
            [
                "Liver",
                "Liver",
                "tissue liver lobe",
                "host disease state NASH",
                "größe 12 cm",
                "tissue portal vein"
            ]
        );
        assert_eq!(
            values(fields.attr_tag),
            ["tissue", "host_disease_state", "größe"]
        );
        for (tag, _) in &record.attributes {
            assert!(values(fields.attr_tag).contains(&normalize_tag(tag)));
        }
        assert_eq!(values(fields.key), ["seqbank:1"]);
        let json = values(schema.get_field("_source").unwrap());
        let stored: serde_json::Value = serde_json::from_str(&json[0]).unwrap();
        assert_eq!(stored["attributes"]["Größe"], "12 cm");
    }
}
