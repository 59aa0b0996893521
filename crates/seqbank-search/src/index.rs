//! The tantivy index: schema, writing, and searching.

use std::{collections::HashSet, ops::Bound, path::Path};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
    query::{
        AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring, Occur, PhraseQuery,
        Query, RangeQuery, RegexQuery, TermQuery,
    },
    schema::{
        FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
        TextOptions, Value as _,
    },
    tokenizer::{LowerCaser, RawTokenizer, TextAnalyzer, TokenizerManager},
};

use crate::{
    Error, Record, Result, bad, bad_param,
    collect::{FacetSpec, Fruit, Key, Order, PhrasePlan, SearchCollector, SegmentValues, TermPlan},
    doc::RecordDoc,
    fields::{self, FIELDS, FieldType, lookup, normalize_tag},
    query::{Node, Value, parse},
    record::{LOCAL_SOURCE, date_number},
};

/// The most hits one page may have.
pub const MAX_LIMIT: usize = 1000;
/// Hits per page when the request does not say.
pub const DEFAULT_LIMIT: usize = 20;
/// Fields returned when the request does not say.
pub const DEFAULT_FIELDS: &[&str] = &[
    "accession",
    "type",
    "title",
    "organism",
    "source",
    "released",
];
/// Bumped when the schema changes; an index of another version must be rebuilt.
const SCHEMA_VERSION: u32 = 3;
/// Weight of an exact accession match, far above any text score.
const ACCESSION_BOOST: f32 = 1000.0;

/// Who is searching, which decides what they may find.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Viewer {
    /// Public records only.
    Anonymous,
    /// Public records and the user's own.
    User(i64),
    /// Everything.
    Curator,
}

/// How hits are ordered.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub enum Sort {
    /// Best match first (the default).
    #[default]
    Relevance,
    /// By a date or number field.
    Field {
        /// Field name: released, submitted, updated, tax_id or year.
        name: String,
        /// Newest (largest) first.
        descending: bool,
    },
}

impl Sort {
    /// Parses `relevance`, `released`, `released:desc`, `submitted:asc`, …
    pub fn parse(text: &str) -> Result<Self> {
        let (name, direction) = text.split_once(':').unwrap_or((text, "desc"));
        if name.is_empty() || name == "relevance" || name == "score" {
            return Ok(Self::Relevance);
        }
        let sortable =
            lookup(name).is_some_and(|f| matches!(f.kind, FieldType::Date | FieldType::Number));
        if !sortable {
            return Err(bad_param(
                "sort",
                format!(
                    "cannot sort by {name:?}: sort by relevance, released, submitted, updated, tax_id or year"
                ),
            ));
        }
        let descending = match direction {
            "desc" => true,
            "asc" => false,
            other => {
                return Err(bad_param(
                    "sort",
                    format!("sort direction {other:?} is neither asc nor desc"),
                ));
            }
        };
        Ok(Self::Field {
            name: name.to_owned(),
            descending,
        })
    }

    fn tag(&self) -> String {
        match self {
            Self::Relevance => "r".into(),
            Self::Field { name, descending } => {
                format!("{name}.{}", if *descending { "d" } else { "a" })
            }
        }
    }
}

/// A search.
#[derive(Clone, Debug)]
pub struct Request {
    /// The query, in seqbank's query language; empty for everything.
    pub query: String,
    /// Only records of this type (project, sample, experiment, run; ENA's names are accepted).
    pub result: Option<String>,
    /// Fields to return (`all` for every one); empty for the defaults.
    pub fields: Vec<String>,
    /// Fields to count values of.
    pub facets: Vec<String>,
    /// Values per facet.
    pub facet_limit: usize,
    /// Hits per page, 0 for counts only.
    pub limit: usize,
    /// Where the previous page ended.
    pub cursor: Option<String>,
    /// Order of hits.
    pub sort: Sort,
}

impl Default for Request {
    fn default() -> Self {
        Self {
            query: String::new(),
            result: None,
            fields: Vec::new(),
            facets: Vec::new(),
            facet_limit: 10,
            limit: DEFAULT_LIMIT,
            cursor: None,
            sort: Sort::Relevance,
        }
    }
}

/// One hit: the requested fields, in the order they were asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// Field names and values; a field the record lacks is left out.
    pub fields: Vec<(String, Json)>,
}

impl Hit {
    /// Returns a field's value.
    pub fn get(&self, name: &str) -> Option<&Json> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// One value as a TSV cell: text as is (tabs and line breaks become spaces), lists joined by
/// `;`, objects (attributes) as `tag=value` pairs joined by `;`.
pub fn tsv_cell(value: &Json) -> String {
    let text = match value {
        Json::String(s) => s.clone(),
        Json::Array(items) => items.iter().map(tsv_cell).collect::<Vec<_>>().join(";"),
        Json::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", tsv_cell(v)))
            .collect::<Vec<_>>()
            .join(";"),
        Json::Null => String::new(),
        other => other.to_string(),
    };
    text.replace(['\t', '\n', '\r'], " ")
}

impl Serialize for Hit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (name, value) in &self.fields {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Counts of one facet's values, largest first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Facet {
    /// Field counted.
    pub field: String,
    /// Values and how many hits have each.
    pub values: Vec<FacetValue>,
}

/// One value of a facet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FacetValue {
    /// The value.
    pub value: String,
    /// Hits with it.
    pub count: u64,
}

/// A page of results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Response {
    /// Hits in all pages together.
    pub total: u64,
    /// This page.
    pub hits: Vec<Hit>,
    /// Facet counts over all hits.
    pub facets: Vec<Facet>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Size and shape of the index.
#[derive(Clone, Debug, Serialize)]
pub struct IndexStats {
    /// Records.
    pub records: u64,
    /// Segments.
    pub segments: usize,
    /// Bytes on disk (or in memory).
    pub bytes: u64,
    /// The last metastore change applied, if the index follows one.
    pub watermark: Option<i64>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct Payload {
    schema: u32,
    watermark: Option<i64>,
    /// The last mirrored-record change applied (the metastore's `mirror_records.seq`).
    #[serde(default)]
    mirror: Option<i64>,
    /// The day mirrored records were last shown or hidden by their publication dates.
    #[serde(default)]
    mirror_day: Option<String>,
}

#[derive(Clone, Copy)]
pub(crate) struct Fields {
    pub(crate) key: Field,
    pub(crate) uid: Field,
    pub(crate) accession: Field,
    pub(crate) kind: Field,
    pub(crate) source: Field,
    pub(crate) title: Field,
    pub(crate) description: Field,
    pub(crate) text: Field,
    pub(crate) organism: Field,
    pub(crate) tax_id: Field,
    pub(crate) platform: Field,
    pub(crate) instrument: Field,
    pub(crate) library_strategy: Field,
    pub(crate) library_source: Field,
    pub(crate) library_selection: Field,
    pub(crate) library_layout: Field,
    pub(crate) status: Field,
    pub(crate) access: Field,
    pub(crate) readers: Field,
    pub(crate) submitted: Field,
    pub(crate) released: Field,
    pub(crate) updated: Field,
    pub(crate) year: Field,
    pub(crate) linked: Field,
    pub(crate) attr: Field,
    pub(crate) attr_tag: Field,
    pub(crate) source_json: Field,
}

const KEYWORD: &str = "keyword";
const STEM: &str = "en_stem";
/// `tag:value` attribute texts, each word indexed as `tag:stem`.
const TAGGED: &str = "tagged_stem";

pub(crate) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let keyword = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(KEYWORD)
            .set_fieldnorms(false)
            .set_index_option(IndexRecordOption::Basic),
    );
    let facet = keyword.clone().set_fast("raw");
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(STEM)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let attr = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TAGGED)
            .set_fieldnorms(false)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let number = INDEXED | FAST;
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        uid: b.add_u64_field("uid", FAST),
        accession: b.add_text_field("accession", keyword.clone()),
        kind: b.add_text_field("type", facet.clone()),
        source: b.add_text_field("source", facet.clone()),
        title: b.add_text_field("title", words.clone()),
        description: b.add_text_field("description", words.clone()),
        text: b.add_text_field("text", words),
        organism: b.add_text_field("organism", facet.clone()),
        tax_id: b.add_u64_field("tax_id", number.clone()),
        platform: b.add_text_field("platform", facet.clone()),
        instrument: b.add_text_field("instrument", keyword.clone()),
        library_strategy: b.add_text_field("library_strategy", facet.clone()),
        library_source: b.add_text_field("library_source", facet.clone()),
        library_selection: b.add_text_field("library_selection", keyword.clone()),
        library_layout: b.add_text_field("library_layout", facet.clone()),
        status: b.add_text_field("status", facet.clone()),
        access: b.add_text_field("access", facet),
        readers: b.add_text_field("readers", STRING),
        submitted: b.add_u64_field("submitted", number.clone()),
        released: b.add_u64_field("released", number.clone()),
        updated: b.add_u64_field("updated", number.clone()),
        year: b.add_u64_field("year", number),
        linked: b.add_text_field("linked", keyword.clone()),
        attr: b.add_text_field("attr", attr),
        attr_tag: b.add_text_field("attr_tag", keyword),
        source_json: b.add_text_field("_source", STORED),
    };
    (b.build(), fields)
}

fn tokenizers() -> TokenizerManager {
    let manager = TokenizerManager::default();
    manager.register(
        KEYWORD,
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(LowerCaser)
            .build(),
    );
    // The same words as tantivy's own `en_stem`, faster (see `words`).
    manager.register(STEM, crate::words::StemWords::new());
    manager.register(TAGGED, crate::words::StemWords::tagged());
    manager
}

/// The search index of one process: a folder on disk or memory.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    stem: TextAnalyzer,
    facet_ids: std::sync::Mutex<std::collections::HashMap<String, GlobalIds>>,
}

/// Global ids of one string facet's values, shared by all segments: each segment's term
/// ordinals map to them once (segments never change), so a search adds counts by id and names
/// only the values it returns.
#[derive(Default)]
struct GlobalIds {
    ids: std::collections::HashMap<String, u32>,
    names: Vec<String>,
    segments: std::collections::HashMap<tantivy::index::SegmentId, SegmentValues>,
}

impl GlobalIds {
    fn segment(&mut self, reader: &tantivy::SegmentReader, field: &str) -> Result<SegmentValues> {
        if let Some(values) = self.segments.get(&reader.segment_id()) {
            return Ok(values.clone());
        }
        let mut ids = Vec::new();
        let mut docs = None;
        if let Some(column) = reader.fast_fields().str(field)? {
            let mut terms = column
                .dictionary()
                .stream()
                .map_err(tantivy::TantivyError::from)?;
            while terms.advance() {
                let name = String::from_utf8_lossy(terms.key());
                let id = match self.ids.get(name.as_ref()) {
                    Some(&id) => id,
                    None => {
                        let id = self.names.len() as u32;
                        self.names.push(name.clone().into_owned());
                        self.ids.insert(name.into_owned(), id);
                        id
                    }
                };
                ids.push(id);
            }
            let single = !matches!(
                column.ords().get_cardinality(),
                tantivy::columnar::Cardinality::Multivalued
            );
            if single {
                docs = Some(std::sync::Arc::new(crate::collect::DocValues::build(
                    &column,
                    &ids,
                    reader.max_doc(),
                )));
            }
        }
        let values = SegmentValues {
            ids: std::sync::Arc::new(ids),
            docs,
        };
        self.segments.insert(reader.segment_id(), values.clone());
        Ok(values)
    }
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it if the folder is empty or missing. An index built
    /// by another schema version is reported, to be rebuilt with `seqbank reindex`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::Index(tantivy::TantivyError::SystemError(format!(
                "cannot create {}: {e}",
                dir.display()
            )))
        })?;
        let (schema, fields) = schema();
        let index = if dir.join("meta.json").exists() {
            let index = Index::open_in_dir(dir)?;
            let payload = read_payload(&index)?;
            if index.schema() != schema || payload.schema != SCHEMA_VERSION {
                return Err(Error::Index(tantivy::TantivyError::SchemaError(format!(
                    "the search index in {} was built by another version of seqbank; rebuild it with `seqbank reindex`",
                    dir.display()
                ))));
            }
            index
        } else {
            Index::create_in_dir(dir, schema)?
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        Self::with_index(index, fields, threads)
    }

    /// Creates an empty index in memory (tests, and one-off tools).
    pub fn in_memory() -> Result<Self> {
        let (schema, fields) = schema();
        // Small by nature: segments are searched on the calling thread, no pool is started.
        Self::with_index(Index::create_in_ram(schema), fields, 1)
    }

    /// Wraps a tantivy index; `threads` search segments in parallel.
    fn with_index(mut index: Index, fields: Fields, threads: usize) -> Result<Self> {
        let manager = tokenizers();
        index.set_tokenizers(manager.clone());
        if threads > 1 {
            index.set_multithread_executor(threads)?;
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        let stem = manager
            .get(STEM)
            .ok_or_else(|| bad("the en_stem tokenizer is missing"))?;
        Ok(Self {
            index,
            reader,
            fields,
            stem,
            facet_ids: Default::default(),
        })
    }

    /// Memory for the writer of a bulk load (a reindex): a sixth of the machine's memory,
    /// between 256 MiB and 4 GiB. A writer holds its records in memory until the budget is
    /// spent or it commits, then writes them as one segment per thread; a larger budget means
    /// fewer, larger segments, so fewer merges while loading (at 5,000,000 records, 1 GiB
    /// makes eight segments and merges while it loads; 4 GiB writes two and merges nothing).
    pub fn bulk_memory() -> usize {
        const MIB: usize = 1 << 20;
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|info| {
                let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
                let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
                Some(kib * 1024)
            })
            .unwrap_or(0);
        (total / 6).clamp(256 * MIB, 4096 * MIB)
    }

    /// Starts writing: one writer per index at a time, across processes too.
    pub fn writer(&self, memory_bytes: usize) -> Result<Writer> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let memory = memory_bytes
            .max((threads * 16) << 20)
            // tantivy's limit per indexing thread.
            .min(threads * (u32::MAX as usize - 1_000_000));
        // Another writer (a sync in `seqbank serve`, a reindex) holds the lock for moments at a
        // time; wait a little for it before giving up.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let writer = loop {
            match self.index.writer_with_num_threads(threads, memory) {
                Ok(writer) => break writer,
                Err(tantivy::TantivyError::LockFailure(..))
                    if std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(tantivy::TantivyError::LockFailure(..)) => {
                    return Err(Error::Index(tantivy::TantivyError::SystemError(
                        "another seqbank process is writing this search index".into(),
                    )));
                }
                Err(other) => return Err(Error::Index(other)),
            }
        };
        Ok(Writer {
            writer,
            fields: self.fields,
            payload: read_payload(&self.index)?,
        })
    }

    /// Makes the last commit visible to searches now.
    pub fn reload(&self) -> Result<()> {
        self.reader.reload()?;
        Ok(())
    }

    /// The last metastore change the index has applied.
    pub fn watermark(&self) -> Result<Option<i64>> {
        Ok(read_payload(&self.index)?.watermark)
    }

    /// The last mirrored-record change applied, if any.
    pub fn mirror_watermark(&self) -> Result<Option<i64>> {
        Ok(read_payload(&self.index)?.mirror)
    }

    /// The day mirrored records were last shown or hidden by their publication dates
    /// (`YYYY-MM-DD`), if ever.
    pub fn mirror_day(&self) -> Result<Option<String>> {
        Ok(read_payload(&self.index)?.mirror_day)
    }

    /// Size and shape.
    pub fn stats(&self) -> Result<IndexStats> {
        let searcher = self.reader.searcher();
        let bytes = searcher
            .space_usage()
            .map(|usage| usage.total().get_bytes())
            .unwrap_or(0);
        Ok(IndexStats {
            records: searcher.num_docs(),
            segments: searcher.segment_readers().len(),
            bytes,
            watermark: self.watermark()?,
        })
    }

    /// Attribute tags present in the index, most common first.
    pub fn attribute_tags(&self, limit: usize) -> Result<Vec<(String, u64)>> {
        let searcher = self.reader.searcher();
        let mut counts: std::collections::HashMap<String, u64> = Default::default();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.fields.attr_tag)?;
            let mut stream = inverted
                .terms()
                .stream()
                .map_err(tantivy::TantivyError::from)?;
            while stream.advance() {
                let tag = String::from_utf8_lossy(stream.key()).into_owned();
                *counts.entry(tag).or_default() += u64::from(stream.value().doc_freq);
            }
        }
        let mut tags: Vec<_> = counts.into_iter().collect();
        tags.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        tags.truncate(limit);
        Ok(tags)
    }

    /// Runs a search as `viewer`.
    pub fn search(&self, request: &Request, viewer: Viewer) -> Result<Response> {
        if request.limit > MAX_LIMIT {
            return Err(bad_param(
                "limit",
                format!(
                    "limit {} is too large: at most {MAX_LIMIT} hits per page; use the cursor to page further",
                    request.limit
                ),
            ));
        }
        let returned = return_fields(&request.fields)?;
        let searcher = self.reader.searcher();
        let mut facets = request
            .facets
            .iter()
            .map(|name| match lookup(name) {
                Some(f) if f.facet => Ok(FacetSpec {
                    name: f.name.to_owned(),
                    numeric: f.kind == FieldType::Number,
                    segments: Vec::new(),
                }),
                _ => Err(bad_param(
                    "facets",
                    format!(
                        "cannot count facet {name:?}: facets are {}",
                        FIELDS
                            .iter()
                            .filter(|f| f.facet)
                            .map(|f| f.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        self.map_facets(&searcher, &mut facets)?;
        let after = request
            .cursor
            .as_deref()
            .map(|c| decode_cursor(c, &request.sort))
            .transpose()?;
        let Built { query, hidden } = self.build(request, viewer, &searcher)?;
        let order = match &request.sort {
            Sort::Relevance => Order::Score,
            Sort::Field { name, descending } => Order::Field {
                name: name.clone(),
                descending: *descending,
            },
        };
        let scoring = matches!(order, Order::Score);
        let hidden = hidden
            .map(|q| q.weight(EnableScoring::disabled_from_searcher(&searcher)))
            .transpose()?;
        // A one-word query is run block by block, scoring only the blocks that can make the page.
        let term = match query.downcast_ref::<TermQuery>() {
            Some(q) if scoring => Some(TermPlan::new(&searcher, q.term())?),
            _ => None,
        };
        let phrase = match query.downcast_ref::<Phrase>() {
            Some(q) if scoring => Some(PhrasePlan::new(&searcher, &q.terms)?),
            _ => None,
        };
        let collector = SearchCollector {
            limit: request.limit,
            after,
            order,
            facets: facets.clone(),
            hidden,
            term,
            phrase,
        };
        let Fruit {
            total,
            top,
            facets: counts,
        } = searcher.search(query.as_ref(), &collector)?;
        let mut hits = Vec::with_capacity(top.len());
        for (key, address) in &top {
            let doc: TantivyDocument = searcher.doc(*address)?;
            let source = doc
                .get_first(self.fields.source_json)
                .and_then(|v| v.as_str())
                .unwrap_or("{}");
            let mut stored: Map<String, Json> = serde_json::from_str(source)?;
            let mut fields = Vec::with_capacity(returned.len());
            for name in &returned {
                if *name == "score" {
                    if matches!(request.sort, Sort::Relevance) {
                        let score = f32::from_bits(key.primary as u32);
                        fields.push(("score".into(), Json::from(f64::from(score))));
                    }
                } else if let Some(value) = stored.remove(*name) {
                    fields.push(((*name).to_owned(), value));
                }
            }
            hits.push(Hit { fields });
        }
        let next_cursor = match top.last() {
            Some((key, _)) if top.len() == request.limit => {
                Some(encode_cursor(*key, &request.sort))
            }
            _ => None,
        };
        let facets = self.name_facets(&facets, counts, request.facet_limit);
        Ok(Response {
            total,
            hits,
            facets,
            next_cursor,
        })
    }

    /// Gives each string facet its segments' global ids, forgetting segments merged away.
    fn map_facets(&self, searcher: &Searcher, facets: &mut [FacetSpec]) -> Result<()> {
        if facets.iter().all(|f| f.numeric) {
            return Ok(());
        }
        let mut all = self
            .facet_ids
            .lock()
            .map_err(|_| bad("the facet table was poisoned by a panic"))?;
        let live: HashSet<tantivy::index::SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        for spec in facets.iter_mut().filter(|f| !f.numeric) {
            let ids = all.entry(spec.name.clone()).or_default();
            ids.segments.retain(|id, _| live.contains(id));
            spec.segments = searcher
                .segment_readers()
                .iter()
                .map(|reader| ids.segment(reader, &spec.name))
                .collect::<Result<_>>()?;
        }
        Ok(())
    }

    /// The largest counts of each facet, with their values named.
    fn name_facets(
        &self,
        specs: &[FacetSpec],
        counts: Vec<crate::collect::FacetCounts>,
        limit: usize,
    ) -> Vec<Facet> {
        let all = self.facet_ids.lock().ok();
        specs
            .iter()
            .zip(counts)
            .map(|(spec, counts)| {
                let mut values: Vec<FacetValue> = if spec.numeric {
                    counts
                        .by_value
                        .into_iter()
                        .map(|(value, count)| FacetValue {
                            value: value.to_string(),
                            count,
                        })
                        .collect()
                } else {
                    let names = all.as_ref().and_then(|all| all.get(&spec.name));
                    // Name only the values that can make the list: those counted at least as
                    // often as the limit-th largest count.
                    let mut counted: Vec<(u32, u64)> = counts
                        .by_id
                        .into_iter()
                        .enumerate()
                        .filter(|(_, count)| *count > 0)
                        .map(|(id, count)| (id as u32, count))
                        .collect();
                    if counted.len() > limit && limit > 0 {
                        counted.select_nth_unstable_by(limit - 1, |a, b| b.1.cmp(&a.1));
                        let floor = counted[limit - 1].1;
                        counted.retain(|(_, count)| *count >= floor);
                    } else if limit == 0 {
                        counted.clear();
                    }
                    counted
                        .into_iter()
                        .filter_map(|(id, count)| {
                            let name = names?.names.get(id as usize)?;
                            Some(FacetValue {
                                value: name.clone(),
                                count,
                            })
                        })
                        .collect()
                };
                values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
                values.truncate(limit);
                Facet {
                    field: spec.name.clone(),
                    values,
                }
            })
            .collect()
    }

    fn build(&self, request: &Request, viewer: Viewer, searcher: &Searcher) -> Result<Built> {
        let node = parse(&request.query)?;
        let compiler = Compiler {
            f: &self.fields,
            stem: self.stem.clone(),
            searcher,
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, compiler.compile(&node)?)];
        if let Some(result) = &request.result {
            let kind = result_type(result)?;
            clauses.push((Occur::Must, filter(self.fields.kind, kind)));
        }
        // Whatever is not public is private to its owner (and curators). Excluding the few
        // private records costs far less than intersecting with every public one.
        let private = || {
            Box::new(TermQuery::new(
                Term::from_field_text(self.fields.access, "private"),
                IndexRecordOption::Basic,
            )) as Box<dyn Query>
        };
        let hidden = match viewer {
            Viewer::Curator => None,
            Viewer::Anonymous => Some(private()),
            Viewer::User(id) => Some(Box::new(BooleanQuery::new(vec![
                (Occur::Must, private()),
                (
                    Occur::MustNot,
                    filter(self.fields.readers, &format!("user:{id}")),
                ),
            ])) as Box<dyn Query>),
        };
        let query = if clauses.len() == 1 {
            clauses.remove(0).1
        } else {
            Box::new(BooleanQuery::new(clauses))
        };
        Ok(Built { query, hidden })
    }
}

/// A request made into queries.
struct Built {
    /// What matches and how it scores.
    query: Box<dyn Query>,
    /// What the viewer may not see among the matches; kept apart so that a one-word query
    /// stays a term query (see `collect::Hidden`).
    hidden: Option<Box<dyn Query>>,
}

/// A term that narrows without scoring.
fn filter(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        )),
        0.0,
    ))
}

fn result_type(result: &str) -> Result<&'static str> {
    Ok(match result.to_ascii_lowercase().as_str() {
        "project" | "study" | "bioproject" => "project",
        "sample" | "biosample" => "sample",
        "experiment" | "read_experiment" => "experiment",
        "run" | "read_run" => "run",
        other => {
            return Err(bad_param(
                "result",
                format!("unknown result type {other:?}: use project, sample, experiment or run"),
            ));
        }
    })
}

fn return_fields(requested: &[String]) -> Result<Vec<&'static str>> {
    if requested.is_empty() {
        return Ok(DEFAULT_FIELDS.to_vec());
    }
    if requested.iter().any(|f| f == "all") {
        let mut all: Vec<&'static str> = FIELDS
            .iter()
            .map(|f| f.name)
            .filter(|n| fields::returnable(n))
            .collect();
        all.push("score");
        return Ok(all);
    }
    requested
        .iter()
        .map(|name| {
            if name == "score" {
                return Ok("score");
            }
            match lookup(name) {
                Some(f) if fields::returnable(f.name) => Ok(f.name),
                _ => Err(bad_param(
                    "fields",
                    format!(
                        "unknown return field {name:?}; GET /api/v1/search/returnFields lists them"
                    ),
                )),
            }
        })
        .collect()
}

fn encode_cursor(key: Key, sort: &Sort) -> String {
    format!("{}~{:x}~{:x}", sort.tag(), key.primary, key.uid)
}

fn decode_cursor(cursor: &str, sort: &Sort) -> Result<Key> {
    let malformed = || {
        bad_param(
            "cursor",
            format!(
                "malformed cursor {cursor:?}: pass back the next_cursor of the previous page unchanged"
            ),
        )
    };
    let mut parts = cursor.split('~');
    let (Some(tag), Some(primary), Some(uid), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    if tag != sort.tag() {
        return Err(bad_param(
            "cursor",
            "the cursor belongs to a search with another sort order; start again without a cursor",
        ));
    }
    Ok(Key {
        primary: u64::from_str_radix(primary, 16).map_err(|_| malformed())?,
        uid: u64::from_str_radix(uid, 16).map_err(|_| malformed())?,
    })
}

fn read_payload(index: &Index) -> Result<Payload> {
    let metas = index.load_metas()?;
    Ok(match metas.payload {
        Some(text) => serde_json::from_str(&text)?,
        None => Payload {
            schema: SCHEMA_VERSION,
            watermark: None,
            mirror: None,
            mirror_day: None,
        },
    })
}

struct Compiler<'a> {
    f: &'a Fields,
    stem: TextAnalyzer,
    searcher: &'a Searcher,
}

fn looks_like_accession(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_alphabetic())
        && word.bytes().any(|b| b.is_ascii_digit())
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
}

fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~\"'".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Compiler<'_> {
    fn compile(&self, node: &Node) -> Result<Box<dyn Query>> {
        Ok(match node {
            Node::All => Box::new(AllQuery),
            Node::And(children) => {
                let mut clauses = Vec::with_capacity(children.len() + 1);
                for child in children {
                    clauses.push(match child {
                        Node::Not(inner) => (Occur::MustNot, self.compile(inner)?),
                        other => (Occur::Must, self.compile(other)?),
                    });
                }
                if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Box::new(BooleanQuery::new(clauses))
            }
            Node::Or(children) => Box::new(BooleanQuery::new(
                children
                    .iter()
                    .map(|c| Ok((Occur::Should, self.compile(c)?)))
                    .collect::<Result<_>>()?,
            )),
            Node::Not(inner) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery)),
                (Occur::MustNot, self.compile(inner)?),
            ])),
            Node::Taxon {
                id, tree: false, ..
            } => Box::new(TermQuery::new(
                Term::from_field_u64(self.f.tax_id, *id),
                IndexRecordOption::Basic,
            )),
            Node::Taxon { column, .. } => {
                return Err(bad(format!(
                    "tax_tree at column {column} needs the NCBI Taxonomy tree, which this archive has not loaded; use tax_eq(ID) for one taxon"
                )));
            }
            Node::Match {
                field,
                value,
                column,
            } => self.clause(field.as_deref(), value, *column)?,
        })
    }

    /// The terms to look up for a text, each with its position: a run of words joined by
    /// punctuation is looked up whole (the index holds it whole beside its words), the other
    /// words one by one.
    fn terms(&self, text: &str) -> Vec<(usize, String)> {
        let mut stem = self.stem.clone();
        let mut stream = stem.token_stream(text);
        let mut words = Vec::new();
        let mut joined = Vec::new();
        while let Some(token) = stream.next() {
            let entry = (token.position, token.position_length, token.text.clone());
            if token.position_length > 1 {
                joined.push(entry);
            } else {
                words.push(entry);
            }
        }
        let mut terms = Vec::with_capacity(words.len());
        let mut joined = joined.into_iter().peekable();
        let mut covered = 0;
        for (position, _, word) in words {
            if let Some((_, span, whole)) = joined.next_if(|(at, _, _)| *at == position) {
                terms.push((position, whole));
                covered = position + span;
            } else if position >= covered {
                terms.push((position, word));
            }
        }
        terms
    }

    /// Words (one or several, which must then be adjacent) in a stemmed text field.
    fn words(
        &self,
        field: Field,
        text: &str,
        column: usize,
        prefix: &str,
    ) -> Result<Box<dyn Query>> {
        let terms = self.terms(text);
        let base = terms.first().map_or(0, |(at, _)| *at);
        let mut terms: Vec<(usize, Term)> = terms
            .into_iter()
            .map(|(at, t)| {
                (
                    at - base,
                    Term::from_field_text(field, &format!("{prefix}{t}")),
                )
            })
            .collect();
        Ok(match terms.len() {
            0 => {
                return Err(bad(format!(
                    "{text:?} at column {column} has no letters or digits to search for"
                )));
            }
            1 => Box::new(TermQuery::new(
                terms.pop().expect("one term").1,
                IndexRecordOption::WithFreqs,
            )),
            _ => Box::new(Phrase {
                query: PhraseQuery::new_with_offset(terms.clone()),
                terms,
            }),
        })
    }

    fn prefix(&self, field: Field, prefix: &str) -> Result<Box<dyn Query>> {
        let pattern = format!("{}.*", escape_regex(&prefix.to_lowercase()));
        Ok(Box::new(RegexQuery::from_pattern(&pattern, field)?))
    }

    fn clause(&self, field: Option<&str>, value: &Value, column: usize) -> Result<Box<dyn Query>> {
        let Some(name) = field else {
            return match value {
                Value::Word(word) => {
                    let text = self.words(self.f.text, word, column, "")?;
                    if !looks_like_accession(word) {
                        return Ok(text);
                    }
                    let accession = Term::from_field_text(self.f.accession, &word.to_lowercase());
                    let linked = Term::from_field_text(self.f.linked, &word.to_lowercase());
                    Ok(Box::new(BooleanQuery::new(vec![
                        (
                            Occur::Should,
                            Box::new(BoostQuery::new(
                                Box::new(TermQuery::new(accession, IndexRecordOption::Basic)),
                                ACCESSION_BOOST,
                            )),
                        ),
                        (
                            Occur::Should,
                            Box::new(TermQuery::new(linked, IndexRecordOption::Basic)),
                        ),
                        (Occur::Should, text),
                    ])))
                }
                Value::Phrase(text) => self.words(self.f.text, text, column, ""),
                Value::Prefix(prefix) => self.prefix(self.f.text, prefix),
                Value::Range(..) => Err(bad(format!(
                    "a range at column {column} needs a field, e.g. released:[2020 TO 2023]"
                ))),
            };
        };
        let Some(info) = lookup(name).filter(|f| f.searchable) else {
            return self.attribute(name, value, column);
        };
        let field = self.field(info.name);
        match (info.kind, value) {
            (FieldType::Text, Value::Word(w) | Value::Phrase(w)) => {
                self.words(field, w, column, "")
            }
            (FieldType::Text | FieldType::Keyword, Value::Prefix(p)) => self.prefix(field, p),
            (FieldType::Keyword, Value::Word(w) | Value::Phrase(w)) => {
                Ok(Box::new(TermQuery::new(
                    Term::from_field_text(field, &w.to_lowercase()),
                    IndexRecordOption::Basic,
                )))
            }
            (FieldType::Text | FieldType::Keyword, Value::Range(..)) => Err(bad(format!(
                "{name} at column {column} is not a date or number, so it takes no range"
            ))),
            (FieldType::Number | FieldType::Date, Value::Prefix(_)) => Err(bad(format!(
                "{name} at column {column} is a {}: give a value or a [range], not a prefix",
                if info.kind == FieldType::Date {
                    "date"
                } else {
                    "number"
                }
            ))),
            (kind, Value::Word(w) | Value::Phrase(w)) => {
                let (lo, hi) = span(kind, name, w, column)?;
                Ok(range(field, Bound::Included(lo), Bound::Included(hi)))
            }
            (kind, Value::Range(lo, hi)) => {
                let lo = match lo {
                    Bound::Unbounded => Bound::Unbounded,
                    Bound::Included(v) => Bound::Included(span(kind, name, v, column)?.0),
                    Bound::Excluded(v) => Bound::Excluded(span(kind, name, v, column)?.1),
                };
                let hi = match hi {
                    Bound::Unbounded => Bound::Unbounded,
                    Bound::Included(v) => Bound::Included(span(kind, name, v, column)?.1),
                    Bound::Excluded(v) => Bound::Excluded(span(kind, name, v, column)?.0),
                };
                if lo == Bound::Unbounded && hi == Bound::Unbounded {
                    return Ok(Box::new(tantivy::query::ExistsQuery::new(
                        name.to_owned(),
                        false,
                    )));
                }
                Ok(range(field, lo, hi))
            }
        }
    }

    fn attribute(&self, name: &str, value: &Value, column: usize) -> Result<Box<dyn Query>> {
        let tag = normalize_tag(name);
        let known = self
            .searcher
            .doc_freq(&Term::from_field_text(self.f.attr_tag, &tag))
            .unwrap_or(0)
            > 0;
        if !known || name == "attributes" {
            return Err(bad(format!(
                "unknown field {name:?} at column {column}: it is neither a search field nor an attribute tag of any record; GET /api/v1/search/fields lists them"
            )));
        }
        let prefix = format!("{tag}:");
        match value {
            Value::Word(w) | Value::Phrase(w) => self.words(self.f.attr, w, column, &prefix),
            Value::Prefix(p) => {
                let pattern = format!(
                    "{}{}.*",
                    escape_regex(&prefix),
                    escape_regex(&p.to_lowercase())
                );
                Ok(Box::new(RegexQuery::from_pattern(&pattern, self.f.attr)?))
            }
            Value::Range(..) => Err(bad(format!(
                "attribute {name} at column {column} is text, so it takes no range"
            ))),
        }
    }

    fn field(&self, name: &str) -> Field {
        let f = self.f;
        match name {
            "accession" => f.accession,
            "type" => f.kind,
            "source" => f.source,
            "title" => f.title,
            "description" => f.description,
            "organism" => f.organism,
            "tax_id" => f.tax_id,
            "platform" => f.platform,
            "instrument" => f.instrument,
            "library_strategy" => f.library_strategy,
            "library_source" => f.library_source,
            "library_selection" => f.library_selection,
            "library_layout" => f.library_layout,
            "status" => f.status,
            "access" => f.access,
            "submitted" => f.submitted,
            "released" => f.released,
            "updated" => f.updated,
            "year" => f.year,
            "linked" => f.linked,
            _ => f.text,
        }
    }
}

fn range(field: Field, lo: Bound<u64>, hi: Bound<u64>) -> Box<dyn Query> {
    let term = |v: u64| Term::from_field_u64(field, v);
    Box::new(RangeQuery::new(lo.map(term), hi.map(term)))
}

/// The first and last value a written date or number covers: `2020` is all of 2020.
fn span(kind: FieldType, name: &str, text: &str, column: usize) -> Result<(u64, u64)> {
    if kind == FieldType::Number {
        let n: u64 = text.parse().map_err(|_| {
            bad(format!(
                "{name} at column {column} takes a whole number, not {text:?}"
            ))
        })?;
        return Ok((n, n));
    }
    let invalid = || {
        bad(format!(
            "{name} at column {column} takes a date as YYYY, YYYY-MM or YYYY-MM-DD, not {text:?}"
        ))
    };
    match text.len() {
        4 => {
            let year: u64 = text.parse().map_err(|_| invalid())?;
            Ok((year * 10_000 + 101, year * 10_000 + 1231))
        }
        7 => {
            let start = date_number(&format!("{text}-01")).ok_or_else(invalid)?;
            Ok((start, start - 1 + 31))
        }
        10 => {
            let day = date_number(text).ok_or_else(invalid)?;
            Ok((day, day))
        }
        _ => Err(invalid()),
    }
}

/// Adds, replaces and removes records; nothing is visible until [`Writer::commit`].
pub struct Writer {
    writer: IndexWriter<RecordDoc>,
    fields: Fields,
    /// What the next commit records: the index's payload as opened, with this writer's marks.
    payload: Payload,
}

impl Writer {
    /// Adds a record, replacing any with the same key (a mirrored record: with the same
    /// accession).
    pub fn upsert(&mut self, record: &Record) -> Result<()> {
        match record.mirrored_accession() {
            Some(accession) => {
                // This archive's own record with the same accession stays.
                let query = BooleanQuery::new(vec![
                    (
                        Occur::Must,
                        filter(self.fields.accession, &accession.to_lowercase()),
                    ),
                    (Occur::MustNot, filter(self.fields.source, LOCAL_SOURCE)),
                ]);
                self.writer.delete_query(Box::new(query))?;
            }
            None => {
                self.writer
                    .delete_term(Term::from_field_text(self.fields.key, &record.key));
            }
        }
        self.add(record)
    }

    /// Adds a record known not to be in the index yet (bulk loads into an empty index).
    pub fn add(&mut self, record: &Record) -> Result<()> {
        let doc = RecordDoc::new(&self.fields, record)?;
        self.writer.add_document(doc)?;
        Ok(())
    }

    /// Removes the record of this archive with this key, if any.
    pub fn delete(&mut self, key: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.fields.key, key));
    }

    /// Removes every record.
    pub fn clear(&mut self) -> Result<()> {
        self.writer.delete_all_documents()?;
        // Mirrored records go too; they come back from the start of their feed.
        self.payload.mirror = None;
        self.payload.mirror_day = None;
        Ok(())
    }

    /// Makes everything written so far durable and visible, with the metastore change it
    /// reflects.
    pub fn commit(&mut self, watermark: Option<i64>) -> Result<()> {
        self.payload.watermark = watermark;
        self.commit_payload()
    }

    /// Makes everything written so far durable and visible, with the mirrored-record change it
    /// reflects; the metastore change stays as it was.
    pub fn commit_mirror(&mut self, mirror: i64) -> Result<()> {
        self.payload.mirror = Some(mirror);
        self.commit_payload()
    }

    /// Makes everything written so far durable and visible with the day mirrored records were
    /// shown or hidden by their publication dates; the change marks stay as they were.
    pub fn commit_mirror_day(&mut self, day: &str) -> Result<()> {
        self.payload.mirror_day = Some(day.to_owned());
        self.commit_payload()
    }

    fn commit_payload(&mut self) -> Result<()> {
        let payload = serde_json::to_string(&self.payload)?;
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        Ok(())
    }

    /// Waits for background merges, for a compact index after a bulk load.
    pub fn finish(self) -> Result<()> {
        self.writer.wait_merging_threads()?;
        Ok(())
    }
}

/// A phrase that remembers its terms and their offsets, for the collector to match it itself
/// (see `PhrasePlan`); anything else runs it as tantivy's phrase query.
#[derive(Clone, Debug)]
struct Phrase {
    query: PhraseQuery,
    terms: Vec<(usize, Term)>,
}

impl Query for Phrase {
    fn weight(
        &self,
        scoring: EnableScoring<'_>,
    ) -> tantivy::Result<Box<dyn tantivy::query::Weight>> {
        self.query.weight(scoring)
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.query.query_terms(visitor);
    }
}
