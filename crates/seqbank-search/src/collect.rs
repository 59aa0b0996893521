//! One pass over the matching documents: the top hits in a stable order, the total, and facet
//! counts.
//!
//! Hits are ordered by a key where bigger is better: the score (or a date) first, then the
//! record's `uid` ascending, so every hit has a distinct place and a cursor (the key of the last
//! hit of a page) resumes exactly after it even when scores tie.

use std::{
    cmp::{Ordering, Reverse},
    collections::{BinaryHeap, HashMap},
    sync::Arc,
};

use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED, Term,
    collector::{Collector, SegmentCollector},
    columnar::{Column, StrColumn},
    fieldnorm::FieldNormReader,
    query::{Bm25StatisticsProvider, Bm25Weight, Scorer, Weight},
    schema::IndexRecordOption,
};

/// Where a hit ranks: bigger `primary` first, then smaller `uid`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) struct Key {
    pub(crate) primary: u64,
    pub(crate) uid: u64,
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.primary
            .cmp(&other.primary)
            .then_with(|| other.uid.cmp(&self.uid))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What ranks the hits.
#[derive(Clone, Debug)]
pub(crate) enum Order {
    /// Relevance score.
    Score,
    /// A u64 fast field; documents without a value come last either way.
    Field { name: String, descending: bool },
}

/// Maps a score to a u64 that sorts the same way (scores are never negative).
pub(crate) fn score_bits(score: Score) -> u64 {
    u64::from(score.max(0.0).to_bits())
}

/// The facets asked for: string columns counted by term ordinal, number columns by value.
#[derive(Clone, Debug)]
pub(crate) struct FacetSpec {
    pub(crate) name: String,
    pub(crate) numeric: bool,
    /// For string facets: per segment (by ordinal in the searcher), the values' global ids.
    pub(crate) segments: Vec<SegmentValues>,
}

/// One segment's values of a string facet, as global ids shared by all segments, so that
/// counts from all segments add up without naming every value.
#[derive(Clone, Debug, Default)]
pub(crate) struct SegmentValues {
    /// Each term ordinal's global id.
    pub(crate) ids: Arc<Vec<u32>>,
    /// For a column with at most one value per document: each document's global id.
    pub(crate) docs: Option<Arc<DocValues>>,
}

/// Each document's global id in one segment, in the narrowest integer that holds them; the
/// type's largest value stands for "no value". Counting a hit is then one array read, where
/// the column would decode its ordinal and map it (a quarter of a broad search's time).
/// Built once per segment and facet, on first use: 1, 2 or 4 bytes per document.
#[derive(Debug)]
pub(crate) enum DocValues {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

/// Each document's global id, read from the column a batch at a time, stored by `narrow`.
fn read_ids<T>(
    column: &StrColumn,
    ids: &[u32],
    max_doc: DocId,
    narrow: impl Fn(Option<u32>) -> T,
) -> Vec<T> {
    let mut out = Vec::with_capacity(max_doc as usize);
    let mut docs = Vec::with_capacity(BATCH);
    let mut values = vec![None; BATCH];
    let mut start = 0;
    while start < max_doc {
        let end = max_doc.min(start + BATCH as DocId);
        docs.clear();
        docs.extend(start..end);
        let values = &mut values[..docs.len()];
        values.fill(None);
        column.ords().first_vals(&docs, values);
        out.extend(
            values
                .iter()
                .map(|v| narrow(v.map(|ord| ids[ord as usize]))),
        );
        start = end;
    }
    out
}

impl DocValues {
    pub(crate) fn build(column: &StrColumn, ids: &[u32], max_doc: DocId) -> Self {
        let widest = ids.iter().copied().max().unwrap_or(0);
        if widest < u32::from(u8::MAX) {
            DocValues::U8(read_ids(column, ids, max_doc, |id| {
                id.map_or(u8::MAX, |id| id as u8)
            }))
        } else if widest < u32::from(u16::MAX) {
            DocValues::U16(read_ids(column, ids, max_doc, |id| {
                id.map_or(u16::MAX, |id| id as u16)
            }))
        } else {
            DocValues::U32(read_ids(column, ids, max_doc, |id| id.unwrap_or(u32::MAX)))
        }
    }

    /// Adds one to the count of each document's value.
    fn tally(&self, docs: &[DocId], counts: &mut [u32]) {
        match self {
            DocValues::U8(v) => tally(v, u8::MAX, docs, counts),
            DocValues::U16(v) => tally(v, u16::MAX, docs, counts),
            DocValues::U32(v) => tally(v, u32::MAX, docs, counts),
        }
    }
}

/// The counting loop of [`DocValues::tally`], one per width (`none`: no value). Hits are far
/// apart in a large segment, so nearly every read misses the cache. A loop that does nothing
/// else lets the processor have many of those reads in flight at once; counting each hit as it
/// was found, between decoding postings and scoring, waited for them one at a time.
fn tally<T: Copy + PartialEq + Into<u32>>(
    values: &[T],
    none: T,
    docs: &[DocId],
    counts: &mut [u32],
) {
    for &doc in docs {
        if let Some(&id) = values.get(doc as usize)
            && id != none
            && let Some(count) = counts.get_mut(id.into() as usize)
        {
            *count += 1;
        }
    }
}

/// Counts of one facet over all segments: by global id for strings, by value for numbers.
#[derive(Debug, Default)]
pub(crate) struct FacetCounts {
    /// Count per global id (indexed by id; zero for values not among the hits).
    pub(crate) by_id: Vec<u64>,
    pub(crate) by_value: HashMap<u64, u64>,
}

pub(crate) struct SearchCollector {
    pub(crate) limit: usize,
    pub(crate) after: Option<Key>,
    pub(crate) order: Order,
    pub(crate) facets: Vec<FacetSpec>,
    /// What the viewer may not see, matched apart from the query (scoring off) and skipped.
    pub(crate) hidden: Option<Box<dyn Weight>>,
    /// For a query of one term ranked by score: how to run it block by block.
    pub(crate) term: Option<TermPlan>,
    /// For a phrase: how to match its positions.
    pub(crate) phrase: Option<PhrasePlan>,
}

/// A phrase matched over its terms' postings read in order, each with a running offset into its
/// positions, so that a document's positions are one read away. tantivy's phrase scorer finds
/// that offset by summing the block's frequencies up to the document, for every term of every
/// candidate document: half of a broad phrase's time.
pub(crate) struct PhrasePlan {
    /// Terms with their offsets in the phrase.
    terms: Vec<(usize, Term)>,
    bm25: Bm25Weight,
    /// Each segment's positions of the phrase's field.
    positions: HashMap<tantivy::index::SegmentId, tantivy::directory::FileSlice>,
}

impl PhrasePlan {
    pub(crate) fn new(searcher: &Searcher, terms: &[(usize, Term)]) -> tantivy::Result<Self> {
        let plain: Vec<Term> = terms.iter().map(|(_, t)| t.clone()).collect();
        let bm25 = Bm25Weight::for_terms(searcher, &plain)?;
        let field = plain[0].field();
        // The positions of the searcher's own segments; one that cannot be opened here is run
        // through tantivy's phrase query instead.
        let mut positions = HashMap::new();
        for reader in searcher.segment_readers() {
            let index = searcher.index();
            let segment =
                index.segment(index.new_segment_meta(reader.segment_id(), reader.max_doc()));
            let Ok(file) = segment.open_read(tantivy::index::SegmentComponent::Positions) else {
                continue;
            };
            let Ok(composite) = tantivy::directory::CompositeFile::open(&file) else {
                continue;
            };
            if let Some(slice) = composite.open_read(field) {
                positions.insert(reader.segment_id(), slice);
            }
        }
        Ok(Self {
            terms: terms.to_vec(),
            bm25,
            positions,
        })
    }
}

/// One term of a phrase, read in document order.
struct PhraseCursor {
    block: tantivy::postings::BlockSegmentPostings,
    at: usize,
    /// Where the positions of `block.docs()[at]` start.
    offset: u64,
    positions: tantivy::positions::PositionReader,
    /// The term's place in the phrase.
    place: u32,
    doc_freq: u32,
    buffer: Vec<u32>,
}

impl PhraseCursor {
    /// Moves to the first document at or after `target`.
    fn seek(&mut self, target: DocId) -> DocId {
        loop {
            let docs = self.block.docs();
            let Some(&last) = docs.last() else {
                return TERMINATED;
            };
            let freqs = self.block.freqs();
            if last < target {
                self.offset += freqs[self.at..].iter().map(|&f| u64::from(f)).sum::<u64>();
                self.block.advance();
                self.at = 0;
                continue;
            }
            while docs[self.at] < target {
                self.offset += u64::from(freqs[self.at]);
                self.at += 1;
            }
            return docs[self.at];
        }
    }

    /// Reads the current document's positions into `buffer`.
    fn read_positions(&mut self) {
        let freq = self.block.freqs()[self.at] as usize;
        self.buffer.resize(freq, 0);
        self.positions.read(self.offset, &mut self.buffer);
        let mut position = 0;
        for p in &mut self.buffer {
            position += *p;
            *p = position;
        }
    }
}

/// A one-term query run over its postings a block (128 documents) at a time. Every document
/// is counted, but only blocks whose best possible score can enter the page are scored: for a
/// broad word, scoring was half of the time, and most blocks cannot beat the 20th hit.
///
/// A block's best score comes from the (length, frequency) pair the index stored for it, the
/// pair that scored best under the segment's own average field length. Under the index-wide
/// average another pair of the block may score a little more (by a factor of at most `r` each
/// way, `r` the ratio of the two averages), so the stored pair's score times `r * r` bounds
/// every score in the block. A pruned block can therefore never hold a hit of the page: the
/// hits, their order and the cursors are those of scoring every document.
pub(crate) struct TermPlan {
    term: Term,
    bm25: Bm25Weight,
    /// Tokens per document of the term's field over all segments, as the scores use it.
    average: f32,
}

impl TermPlan {
    pub(crate) fn new(searcher: &Searcher, term: &Term) -> tantivy::Result<Self> {
        let bm25 = Bm25Weight::for_terms(searcher, std::slice::from_ref(term))?;
        let tokens = searcher.total_num_tokens(term.field())?;
        let docs = searcher.total_num_docs()?;
        Ok(Self {
            term: term.clone(),
            bm25,
            average: tokens as Score / docs as Score,
        })
    }

    /// What multiplies a block's stored best score into a bound of its scores in a segment with
    /// `tokens` tokens over `docs` documents; `None` when no bound holds (empty fields).
    fn margin(&self, tokens: u64, docs: u32) -> Option<Score> {
        let own = tokens as Score / docs as Score;
        let ratio = if own > self.average {
            own / self.average
        } else {
            self.average / own
        };
        // A little more for the rounding of the scores themselves.
        let margin = ratio * ratio * 1.001;
        (margin.is_finite() && margin >= 1.0).then_some(margin)
    }
}

/// The lengths of `field`'s values in a segment; every document counts as one word when the
/// field keeps none.
fn fieldnorms(
    reader: &SegmentReader,
    field: tantivy::schema::Field,
) -> tantivy::Result<FieldNormReader> {
    Ok(match reader.fieldnorms_readers().get_field(field)? {
        Some(fieldnorms) => fieldnorms,
        None => FieldNormReader::constant(reader.max_doc(), 1),
    })
}

/// Whether the viewer may not see `doc`: the hidden documents are read in step with the hits.
fn hides(hidden: &mut Option<Box<dyn Scorer>>, doc: DocId) -> bool {
    match hidden {
        None => false,
        Some(hidden) => {
            if hidden.doc() < doc {
                hidden.seek(doc);
            }
            hidden.doc() == doc
        }
    }
}

/// What a segment or the whole search yields.
pub(crate) struct Fruit {
    pub(crate) total: u64,
    pub(crate) top: Vec<(Key, DocAddress)>,
    pub(crate) facets: Vec<FacetCounts>,
}

enum FacetColumn {
    /// Counts by global id, from each document's global id.
    Dense(Arc<DocValues>, Vec<u32>),
    /// Term ordinals counted, for a column with several values per document; the ordinals'
    /// global ids.
    Str(StrColumn, Vec<u32>, Arc<Vec<u32>>),
    Num(Column<u64>, HashMap<u64, u32>),
    Missing,
}

pub(crate) struct SegmentSearch {
    segment: SegmentOrdinal,
    limit: usize,
    after: Option<Key>,
    order: Option<(Column<u64>, bool)>,
    uid: Column<u64>,
    total: u64,
    heap: BinaryHeap<Reverse<(Key, DocId)>>,
    /// The worst primary key in a full heap: documents below it cannot enter.
    threshold: u64,
    facets: Vec<FacetColumn>,
    /// Counted hits whose facet values are not yet counted (see [`tally`]).
    pending: Vec<DocId>,
}

impl Collector for SearchCollector {
    type Fruit = Fruit;
    type Child = SegmentSearch;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentSearch> {
        let fast = reader.fast_fields();
        let order = match &self.order {
            Order::Score => None,
            Order::Field { name, descending } => Some((fast.u64(name)?, *descending)),
        };
        let facets = self
            .facets
            .iter()
            .map(|spec| {
                Ok(if spec.numeric {
                    FacetColumn::Num(fast.u64(&spec.name)?, HashMap::new())
                } else {
                    let values = spec
                        .segments
                        .get(segment as usize)
                        .cloned()
                        .unwrap_or_default();
                    match (fast.str(&spec.name)?, values.docs) {
                        (Some(_), Some(docs)) => {
                            let size = values.ids.iter().max().map_or(0, |&max| max as usize + 1);
                            FacetColumn::Dense(docs, vec![0; size])
                        }
                        (Some(column), None) => {
                            let terms = column.num_terms();
                            FacetColumn::Str(column, vec![0; terms], values.ids)
                        }
                        (None, _) => FacetColumn::Missing,
                    }
                })
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(SegmentSearch {
            segment,
            limit: self.limit,
            after: self.after,
            order,
            uid: fast.u64("uid")?,
            total: 0,
            heap: BinaryHeap::with_capacity(self.limit + 1),
            threshold: 0,
            pending: Vec::with_capacity(if facets.is_empty() { 0 } else { BATCH }),
            facets,
        })
    }

    fn requires_scoring(&self) -> bool {
        matches!(self.order, Order::Score)
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Fruit> {
        let mut child = self.for_segment(segment, reader)?;
        let mut hidden = self
            .hidden
            .as_ref()
            .map(|w| w.scorer(reader, 1.0))
            .transpose()?;
        match (&self.term, &self.phrase) {
            (Some(plan), _) => child.run_term(plan, reader, &mut hidden)?,
            (None, Some(plan)) if plan.positions.contains_key(&reader.segment_id()) => {
                child.run_phrase(plan, reader, &mut hidden)?
            }
            _ => child.run(weight, reader, &mut hidden, self.requires_scoring())?,
        }
        Ok(child.harvest())
    }

    fn merge_fruits(&self, fruits: Vec<Fruit>) -> tantivy::Result<Fruit> {
        let mut total = 0;
        let mut top = Vec::new();
        let mut facets: Vec<FacetCounts> =
            self.facets.iter().map(|_| FacetCounts::default()).collect();
        for fruit in fruits {
            total += fruit.total;
            top.extend(fruit.top);
            for (merged, counts) in facets.iter_mut().zip(fruit.facets) {
                if merged.by_id.len() < counts.by_id.len() {
                    merged.by_id.resize(counts.by_id.len(), 0);
                }
                for (total, count) in merged.by_id.iter_mut().zip(counts.by_id) {
                    *total += count;
                }
                for (value, count) in counts.by_value {
                    *merged.by_value.entry(value).or_default() += count;
                }
            }
        }
        top.sort_by_key(|entry| std::cmp::Reverse(entry.0));
        top.truncate(self.limit);
        Ok(Fruit { total, top, facets })
    }
}

/// Documents whose facet values are read together when a segment's table is built.
const BATCH: usize = 128;

impl SegmentSearch {
    /// Counts a hit the viewer may see: the total now, the facets a batch at a time.
    #[inline]
    fn count(&mut self, doc: DocId) {
        self.total += 1;
        if !self.facets.is_empty() {
            self.pending.push(doc);
            if self.pending.len() == BATCH {
                self.count_facets();
            }
        }
    }

    /// Counts the facet values of the pending hits.
    fn count_facets(&mut self) {
        for facet in &mut self.facets {
            match facet {
                FacetColumn::Dense(values, counts) => values.tally(&self.pending, counts),
                FacetColumn::Str(column, counts, _) => {
                    for &doc in &self.pending {
                        for ord in column.ords().values_for_doc(doc) {
                            counts[ord as usize] += 1;
                        }
                    }
                }
                FacetColumn::Num(column, counts) => {
                    for &doc in &self.pending {
                        for value in column.values_for_doc(doc) {
                            *counts.entry(value).or_default() += 1;
                        }
                    }
                }
                FacetColumn::Missing => {}
            }
        }
        self.pending.clear();
    }

    /// Offers a counted hit for the page.
    #[inline]
    fn offer(&mut self, doc: DocId, score: Score) {
        if self.limit == 0 {
            return;
        }
        let primary = match &self.order {
            None => score_bits(score),
            Some((column, descending)) => match column.first(doc) {
                None => 0,
                Some(value) if *descending => value.saturating_add(1),
                Some(value) => u64::MAX - value,
            },
        };
        if primary < self.threshold {
            return;
        }
        let key = Key {
            primary,
            uid: self.uid.first(doc).unwrap_or(0),
        };
        if self.after.is_some_and(|after| key >= after) {
            return;
        }
        if self.heap.len() < self.limit {
            self.heap.push(Reverse((key, doc)));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && key > worst.0.0
        {
            *worst = Reverse((key, doc));
        }
        if self.heap.len() == self.limit
            && let Some(Reverse((worst, _))) = self.heap.peek()
        {
            self.threshold = worst.primary;
        }
    }

    /// Runs any query: every match the viewer may see is counted, and scored only when the
    /// page ranks by score.
    fn run(
        &mut self,
        weight: &dyn Weight,
        reader: &SegmentReader,
        hidden: &mut Option<Box<dyn Scorer>>,
        scoring: bool,
    ) -> tantivy::Result<()> {
        let mut scorer = weight.scorer(reader, 1.0)?;
        let alive = reader.alive_bitset();
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) && !hides(hidden, doc) {
                self.count(doc);
                if self.limit > 0 {
                    let score = if scoring { scorer.score() } else { 0.0 };
                    self.offer(doc, score);
                }
            }
            doc = scorer.advance();
        }
        Ok(())
    }

    /// Runs a one-term query block by block (see [`TermPlan`]).
    fn run_term(
        &mut self,
        plan: &TermPlan,
        reader: &SegmentReader,
        hidden: &mut Option<Box<dyn Scorer>>,
    ) -> tantivy::Result<()> {
        let field = plan.term.field();
        let inverted = reader.inverted_index(field)?;
        let Some(mut block) =
            inverted.read_block_postings(&plan.term, IndexRecordOption::WithFreqs)?
        else {
            return Ok(());
        };
        let fieldnorms = fieldnorms(reader, field)?;
        let margin = plan.margin(inverted.total_num_tokens(), reader.max_doc());
        let alive = reader.alive_bitset();
        while !block.docs().is_empty() {
            let bound = match margin {
                Some(margin) if self.limit > 0 => {
                    score_bits(block.block_max_score(&fieldnorms, &plan.bm25) * margin)
                }
                _ => u64::MAX,
            };
            let (docs, freqs) = (block.docs(), block.freqs());
            for (i, &doc) in docs.iter().enumerate() {
                if alive.is_some_and(|a| !a.is_alive(doc)) || hides(hidden, doc) {
                    continue;
                }
                self.count(doc);
                if self.limit > 0 && bound >= self.threshold {
                    // Fields without frequencies count each term once.
                    let freq = freqs.get(i).copied().unwrap_or(1);
                    self.offer(doc, plan.bm25.score(fieldnorms.fieldnorm_id(doc), freq));
                }
            }
            block.advance();
        }
        Ok(())
    }

    /// Runs a phrase over its terms' postings (see [`PhrasePlan`]).
    fn run_phrase(
        &mut self,
        plan: &PhrasePlan,
        reader: &SegmentReader,
        hidden: &mut Option<Box<dyn Scorer>>,
    ) -> tantivy::Result<()> {
        let field = plan.terms[0].1.field();
        let inverted = reader.inverted_index(field)?;
        let Some(positions) = plan.positions.get(&reader.segment_id()) else {
            return Err(tantivy::TantivyError::InternalError(
                "the phrase has no positions for this segment".into(),
            ));
        };
        let mut cursors = Vec::with_capacity(plan.terms.len());
        for (place, term) in &plan.terms {
            let Some(info) = inverted.get_term_info(term)? else {
                return Ok(());
            };
            let block =
                inverted.read_block_postings_from_terminfo(&info, IndexRecordOption::WithFreqs)?;
            let bytes = positions.read_bytes_slice(info.positions_range.clone())?;
            cursors.push(PhraseCursor {
                block,
                at: 0,
                offset: 0,
                positions: tantivy::positions::PositionReader::open(bytes)?,
                place: *place as u32,
                doc_freq: info.doc_freq,
                buffer: Vec::new(),
            });
        }
        // The rarest term leads.
        cursors.sort_by_key(|c| c.doc_freq);
        let fieldnorms = fieldnorms(reader, field)?;
        let alive = reader.alive_bitset();
        let mut target = 0;
        'docs: loop {
            let doc = cursors[0].seek(target);
            if doc == TERMINATED {
                break;
            }
            for cursor in &mut cursors[1..] {
                let other = cursor.seek(doc);
                if other == TERMINATED {
                    break 'docs;
                }
                if other > doc {
                    target = other;
                    continue 'docs;
                }
            }
            target = doc + 1;
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            for cursor in &mut cursors {
                cursor.read_positions();
            }
            let (lead, rest) = cursors.split_first().expect("a phrase has terms");
            let mut count = 0;
            for &p in &lead.buffer {
                let Some(start) = p.checked_sub(lead.place) else {
                    continue;
                };
                if rest
                    .iter()
                    .all(|c| c.buffer.binary_search(&(start + c.place)).is_ok())
                {
                    count += 1;
                }
            }
            if count == 0 || hides(hidden, doc) {
                continue;
            }
            self.count(doc);
            if self.limit > 0 {
                self.offer(doc, plan.bm25.score(fieldnorms.fieldnorm_id(doc), count));
            }
        }
        Ok(())
    }
}

impl SegmentCollector for SegmentSearch {
    type Fruit = Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.count(doc);
        self.offer(doc, score);
    }

    fn harvest(mut self) -> Fruit {
        self.count_facets();
        let segment = self.segment;
        let top = self
            .heap
            .into_iter()
            .map(|Reverse((key, doc))| (key, DocAddress::new(segment, doc)))
            .collect();
        let mut facets = Vec::with_capacity(self.facets.len());
        for facet in self.facets {
            let mut counted = FacetCounts::default();
            match facet {
                FacetColumn::Str(_, counts, global) => {
                    let size = global.iter().max().map_or(0, |&max| max as usize + 1);
                    counted.by_id = vec![0; size];
                    for (count, &id) in counts.into_iter().zip(global.iter()) {
                        counted.by_id[id as usize] += u64::from(count);
                    }
                }
                FacetColumn::Dense(_, counts) => {
                    counted.by_id = counts.into_iter().map(u64::from).collect();
                }
                FacetColumn::Num(_, counts) => {
                    counted.by_value = counts.into_iter().map(|(v, c)| (v, u64::from(c))).collect();
                }
                FacetColumn::Missing => {}
            }
            facets.push(counted);
        }
        Fruit {
            total: self.total,
            top,
            facets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Key;

    #[test]
    fn keys_rank_by_primary_then_smaller_uid() {
        let a = Key { primary: 5, uid: 9 };
        let b = Key { primary: 4, uid: 1 };
        let c = Key { primary: 5, uid: 2 };
        assert!(a > b);
        assert!(c > a);
    }
}
