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

use crate::{Record, Result, fields::normalize_tag, index::Fields, record::date_number};

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
        let part = Part::Text(start as u32, self.texts.len() as u32);
        self.values.push((field, part));
        part
    }

    fn number(&mut self, field: Field, n: u64) {
        self.values.push((field, Part::Number(n)));
    }
}

impl RecordDoc {
    /// The document of `r`; `keyed` when its key is indexed (see [`Record::key`]).
    pub(crate) fn new(f: &Fields, r: &Record, keyed: bool) -> Result<Self> {
        let mut b = Builder {
            texts: String::with_capacity(1024),
            values: Vec::with_capacity(32 + 3 * r.attributes.len()),
        };
        if keyed {
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
        let own = [(f.description, &r.description), (f.organism, &r.organism)];
        for (field, value) in own {
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
        let mut tags: Vec<String> = Vec::with_capacity(r.attributes.len());
        let mut text = String::new();
        for (tag, value) in &r.attributes {
            let tag = normalize_tag(tag);
            // `tag:value` for the attribute field, whose tokenizer prefixes each word with the tag.
            text.clear();
            text.push_str(&tag);
            text.push(':');
            text.push_str(value);
            b.text(f.attr, &text);
            // The tag's words then the value's, one phrase, in the text.
            text.clear();
            text.extend(tag.chars().map(|c| if c == '_' { ' ' } else { c }));
            text.push(' ');
            text.push_str(value);
            b.text(f.text, &text);
            if !tags.contains(&tag) {
                b.text(f.attr_tag, &tag);
                tags.push(tag);
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
