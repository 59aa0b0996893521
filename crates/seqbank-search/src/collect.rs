//! One pass over the matching documents: the top hits in a stable order, the total, and facet
//! counts.
//!
//! Hits are ordered by a key where bigger is better: the score (or a date) first, then the
//! record's `uid` ascending, so every hit has a distinct place and a cursor (the key of the last
//! hit of a page) resumes exactly after it even when scores tie.

use std::{
    cmp::{Ordering, Reverse},
    collections::{BinaryHeap, HashMap},
};

use tantivy::{
    DocAddress, DocId, Score, SegmentOrdinal, SegmentReader,
    collector::{Collector, SegmentCollector},
    columnar::{Column, StrColumn},
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
}

pub(crate) struct SearchCollector {
    pub(crate) limit: usize,
    pub(crate) after: Option<Key>,
    pub(crate) order: Order,
    pub(crate) facets: Vec<FacetSpec>,
}

/// What a segment or the whole search yields.
pub(crate) struct Fruit {
    pub(crate) total: u64,
    pub(crate) top: Vec<(Key, DocAddress)>,
    pub(crate) facets: Vec<HashMap<String, u64>>,
}

enum FacetColumn {
    /// Term ordinals counted; whether each document has at most one value.
    Str(StrColumn, Vec<u32>, bool),
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
    facets: Vec<FacetColumn>,
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
                    match fast.str(&spec.name)? {
                        Some(column) => {
                            let terms = column.num_terms();
                            let single = !matches!(
                                column.ords().get_cardinality(),
                                tantivy::columnar::Cardinality::Multivalued
                            );
                            FacetColumn::Str(column, vec![0; terms], single)
                        }
                        None => FacetColumn::Missing,
                    }
                })
            })
            .collect::<tantivy::Result<_>>()?;
        Ok(SegmentSearch {
            segment,
            limit: self.limit,
            after: self.after,
            order,
            uid: fast.u64("uid")?,
            total: 0,
            heap: BinaryHeap::with_capacity(self.limit + 1),
            facets,
        })
    }

    fn requires_scoring(&self) -> bool {
        matches!(self.order, Order::Score)
    }

    fn merge_fruits(&self, fruits: Vec<Fruit>) -> tantivy::Result<Fruit> {
        let mut total = 0;
        let mut top = Vec::new();
        let mut facets: Vec<HashMap<String, u64>> = vec![HashMap::new(); self.facets.len()];
        for fruit in fruits {
            total += fruit.total;
            top.extend(fruit.top);
            for (merged, counts) in facets.iter_mut().zip(fruit.facets) {
                for (value, count) in counts {
                    *merged.entry(value).or_default() += count;
                }
            }
        }
        top.sort_by_key(|entry| std::cmp::Reverse(entry.0));
        top.truncate(self.limit);
        Ok(Fruit { total, top, facets })
    }
}

impl SegmentCollector for SegmentSearch {
    type Fruit = Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.total += 1;
        for facet in &mut self.facets {
            match facet {
                FacetColumn::Str(column, counts, true) => {
                    if let Some(ord) = column.ords().first(doc) {
                        counts[ord as usize] += 1;
                    }
                }
                FacetColumn::Str(column, counts, false) => {
                    for ord in column.ords().values_for_doc(doc) {
                        counts[ord as usize] += 1;
                    }
                }
                FacetColumn::Num(column, counts) => {
                    for value in column.values_for_doc(doc) {
                        *counts.entry(value).or_default() += 1;
                    }
                }
                FacetColumn::Missing => {}
            }
        }
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
        if self.heap.len() == self.limit
            && self
                .heap
                .peek()
                .is_some_and(|Reverse((worst, _))| primary < worst.primary)
        {
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
    }

    fn harvest(self) -> Fruit {
        let segment = self.segment;
        let top = self
            .heap
            .into_iter()
            .map(|Reverse((key, doc))| (key, DocAddress::new(segment, doc)))
            .collect();
        let mut facets = Vec::with_capacity(self.facets.len());
        for facet in self.facets {
            let mut named = HashMap::new();
            match facet {
                FacetColumn::Str(column, counts, _) => {
                    // One walk through the dictionary for all counted values: looking each up
                    // alone would scan its block from the start every time.
                    let ords: Vec<u64> = (0..counts.len() as u64)
                        .filter(|&ord| counts[ord as usize] > 0)
                        .collect();
                    let mut values = ords.iter();
                    let _ = column.dictionary().sorted_ords_to_term_cb(&ords, |term| {
                        if let Some(&ord) = values.next() {
                            named.insert(
                                String::from_utf8_lossy(term).into_owned(),
                                u64::from(counts[ord as usize]),
                            );
                        }
                    });
                }
                FacetColumn::Num(_, counts) => {
                    for (value, count) in counts {
                        named.insert(value.to_string(), u64::from(count));
                    }
                }
                FacetColumn::Missing => {}
            }
            facets.push(named);
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
