//! The index's word tokenizers: words, lower case, English stems, with the stems of words already
//! seen remembered.
//!
//! Stemming is a large part of indexing, and the words of a catalogue repeat from record to
//! record, so each tokenizer keeps a bounded map from word to stem. The tokenizers are registered
//! with the index, so tantivy runs them on its indexing threads, in parallel, on plain text.

use std::collections::HashMap;

use tantivy::tokenizer::{
    Language, RawTokenizer, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// Distinct words whose stems are remembered before the memory is cleared.
const STEM_CACHE: usize = 200_000;

/// Longest word indexed, in bytes; longer ones are dropped, as tantivy's `en_stem` does.
const LONGEST_WORD: usize = 40;

/// Words, lower case, English stems (the output of tantivy's `en_stem`). With `tagged`, the text
/// is `tag:value` and every word of the value comes out as `tag:stem`, so that one field holds
/// every attribute and a phrase never spans two of them.
pub(crate) struct StemWords {
    stemmer: TextAnalyzer,
    stems: HashMap<String, String, rustc_hash::FxBuildHasher>,
    /// The tokens of the last text: the first `len` of them (the rest keep their buffers).
    tokens: Vec<Token>,
    len: usize,
    lower: String,
    /// The stem of a word not remembered.
    fresh: String,
    tagged: bool,
}

impl StemWords {
    /// Plain words.
    pub(crate) fn new() -> Self {
        Self::build(false)
    }

    /// `tag:value` texts.
    pub(crate) fn tagged() -> Self {
        Self::build(true)
    }

    fn build(tagged: bool) -> Self {
        Self {
            stemmer: TextAnalyzer::builder(RawTokenizer::default())
                .filter(Stemmer::new(Language::English))
                .build(),
            stems: HashMap::default(),
            tokens: Vec::new(),
            len: 0,
            lower: String::new(),
            fresh: String::new(),
            tagged,
        }
    }

    /// Splits at every character that is not a letter or digit, as tantivy's `SimpleTokenizer`
    /// does (positions count the words dropped for length too), then lower-cases and stems.
    /// A run of words joined by punctuation without spaces (`SARS-CoV-2`, `cluster/outbreak`,
    /// `Crohn's`) also comes out whole, as its words lower-cased and run together (`sarscov2`),
    /// unstemmed, at the position of its first word and spanning all of them
    /// (`position_length`): a query for the joined word then looks up one term, not a phrase.
    fn run(&mut self, text: &str) {
        self.len = 0;
        let (prefix, text) = if self.tagged {
            match text.split_once(':') {
                Some((tag, value)) => (&text[..=tag.len()], value),
                // Without its tag an attribute has nothing to be found by.
                None => return,
            }
        } else {
            ("", text)
        };
        // Plain ASCII, the usual text, is read byte by byte: the same characters without
        // decoding UTF-8.
        if text.is_ascii() {
            let chars = text.bytes().enumerate().map(|(at, b)| (at, char::from(b)));
            self.scan(prefix, text, chars);
        } else {
            self.scan(prefix, text, text.char_indices());
        }
    }

    /// The words of `text`, its characters given with their offsets by `chars`.
    fn scan(&mut self, prefix: &str, text: &str, chars: impl Iterator<Item = (usize, char)>) {
        let mut position = 0;
        let mut start = None;
        // Whether the word being read has a digit.
        let mut digits = false;
        // The run of joined words so far: its first word's position and start, its end, how
        // many words, and whether every one was kept.
        let mut joined = Joined::default();
        let end = std::iter::once((text.len(), ' '));
        for (at, c) in chars.chain(end) {
            if c.is_alphanumeric() {
                if start.is_none() {
                    start = Some(at);
                    digits = false;
                }
                digits |= c.is_ascii_digit();
                continue;
            }
            if let Some(from) = start.take() {
                let kept = at - from < LONGEST_WORD;
                if kept {
                    self.push(prefix, &text[from..at], digits, from, at, position);
                }
                if joined.words == 0 {
                    joined = Joined {
                        position,
                        from,
                        ..Joined::default()
                    };
                }
                joined.words += 1;
                joined.to = at;
                joined.dropped |= !kept;
                joined.numbers += usize::from(digits);
                position += 1;
            }
            if c.is_whitespace() {
                if joined.is_a_word() {
                    self.push_joined(prefix, text, &joined);
                }
                joined.words = 0;
            }
        }
    }

    /// The whole of a run of joined words, when it is not too long to index.
    fn push_joined(&mut self, prefix: &str, text: &str, joined: &Joined) {
        self.lower.clear();
        for c in text[joined.from..joined.to].chars() {
            if c.is_alphanumeric() {
                if c.is_ascii() {
                    self.lower.push(c.to_ascii_lowercase());
                } else {
                    self.lower.extend(c.to_lowercase());
                }
            }
        }
        if self.lower.len() >= LONGEST_WORD || !self.lower.chars().any(char::is_alphabetic) {
            return;
        }
        let token = next_token(&mut self.tokens, &mut self.len);
        token.text.clear();
        token.text.push_str(prefix);
        token.text.push_str(&self.lower);
        token.offset_from = joined.from;
        token.offset_to = joined.to;
        token.position = joined.position;
        token.position_length = joined.words;
    }

    /// One word; `digits` when it has an ASCII digit.
    fn push(
        &mut self,
        prefix: &str,
        word: &str,
        digits: bool,
        from: usize,
        to: usize,
        position: usize,
    ) {
        self.lower.clear();
        if word.is_ascii() {
            self.lower.push_str(word);
            self.lower.make_ascii_lowercase();
        } else {
            // Character by character, as tantivy's `LowerCaser` does (no final-sigma rule).
            self.lower.extend(word.chars().flat_map(char::to_lowercase));
        }
        // The English stemmer only ever changes a word's last letters: a word ending in a digit
        // (`t0`, `326`, `tb602691`) is its own stem.
        if digits && self.lower.as_bytes().last().is_some_and(u8::is_ascii_digit) {
            let token = next_token(&mut self.tokens, &mut self.len);
            token.text.clear();
            token.text.push_str(prefix);
            token.text.push_str(&self.lower);
            token.offset_from = from;
            token.offset_to = to;
            token.position = position;
            token.position_length = 1;
            return;
        }
        // Other words with digits are mostly identifiers, seen once: stemmed, not remembered.
        let remember = !digits;
        let stem = match self.stems.get(self.lower.as_str()) {
            Some(stem) => stem.as_str(),
            None => {
                let stem = {
                    let mut stemmed = self.stemmer.token_stream(&self.lower);
                    stemmed
                        .next()
                        .map_or_else(|| self.lower.clone(), |t| t.text.clone())
                };
                if !remember {
                    self.fresh = stem;
                    self.fresh.as_str()
                } else {
                    if self.stems.len() >= STEM_CACHE {
                        self.stems.clear();
                    }
                    self.stems
                        .entry(self.lower.clone())
                        .or_insert(stem)
                        .as_str()
                }
            }
        };
        let token = next_token(&mut self.tokens, &mut self.len);
        token.text.clear();
        token.text.push_str(prefix);
        token.text.push_str(stem);
        token.offset_from = from;
        token.offset_to = to;
        token.position = position;
        token.position_length = 1;
    }
}

/// The next token of the text, reusing the buffer of an earlier text's.
fn next_token<'a>(tokens: &'a mut Vec<Token>, len: &mut usize) -> &'a mut Token {
    if *len == tokens.len() {
        tokens.push(Token::default());
    }
    *len += 1;
    &mut tokens[*len - 1]
}

/// A run of words joined by punctuation, as it is read.
#[derive(Default)]
struct Joined {
    position: usize,
    from: usize,
    to: usize,
    words: usize,
    /// Words with digits.
    numbers: usize,
    dropped: bool,
}

impl Joined {
    /// Whether the run is indexed whole too: two or three words, all kept, at most one with
    /// digits (`SARS-CoV-2`, `COVID-19`, `blaNDM-1`, `RNA-seq`). Longer runs and runs of numbers
    /// (`SARS-CoV-2/human/USA/CA-1234/2021`, `liver_T0_54`, `2021-03-04`) are nearly all
    /// different from record to record: each would be a term of its own, which costs the index
    /// far more than it saves; they are found as phrases of their words instead.
    fn is_a_word(&self) -> bool {
        (2..=3).contains(&self.words) && self.numbers <= 1 && !self.dropped
    }
}

impl Clone for StemWords {
    /// A fresh tokenizer: the remembered stems stay with the original (tantivy clones one per
    /// indexing thread and field).
    fn clone(&self) -> Self {
        Self::build(self.tagged)
    }
}

/// The tokens of one text, produced at once.
pub(crate) struct Tokens<'a> {
    tokens: &'a mut [Token],
    at: usize,
}

impl TokenStream for Tokens<'_> {
    fn advance(&mut self) -> bool {
        if self.at < self.tokens.len() {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.at - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.at - 1]
    }
}

impl Tokenizer for StemWords {
    type TokenStream<'a> = Tokens<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens<'a> {
        self.run(text);
        Tokens {
            tokens: &mut self.tokens[..self.len],
            at: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{TextAnalyzer, TokenStream, TokenizerManager};

    use super::StemWords;

    /// The single words of a text, with their positions.
    fn texts(analyzer: TextAnalyzer, text: &str) -> Vec<(String, usize)> {
        spans(analyzer, text)
            .into_iter()
            .filter(|(_, _, span)| *span == 1)
            .map(|(word, at, _)| (word, at))
            .collect()
    }

    /// Every token of a text: text, position, words spanned.
    fn spans(mut analyzer: TextAnalyzer, text: &str) -> Vec<(String, usize, usize)> {
        let mut out = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while let Some(t) = stream.next() {
            out.push((t.text.clone(), t.position, t.position_length));
        }
        out
    }

    #[test]
    fn words_joined_by_punctuation_also_come_out_whole() {
        let joined = |text: &str| -> Vec<(String, usize, usize)> {
            spans(TextAnalyzer::from(StemWords::new()), text)
                .into_iter()
                .filter(|(_, _, span)| *span > 1)
                .collect()
        };
        let t = |text: &str, at, span| (text.to_owned(), at, span);
        assert_eq!(
            joined("Wastewater SARS-CoV-2 (cluster/outbreak) Crohn's, RNA seq"),
            vec![
                t("sarscov2", 1, 3),
                t("clusteroutbreak", 4, 2),
                t("crohns", 6, 2)
            ]
        );
        // The words themselves are still there, stemmed, at their own positions.
        assert_eq!(
            texts(TextAnalyzer::from(StemWords::new()), "cluster/outbreaks"),
            vec![("cluster".to_owned(), 0), ("outbreak".to_owned(), 1)]
        );
        // Not when a word of the run is too long to index, nor when the whole is.
        let long = "a".repeat(40);
        assert_eq!(joined(&format!("x-{long} y-z")), vec![t("yz", 2, 2)]);
        let parts = ["abcdefghijklmn"; 3].join("-");
        assert_eq!(joined(&parts), vec![]);
        // Nor runs of more than three words, or of more than one number, which are mostly
        // identifiers seen once.
        assert_eq!(
            joined("2021-03-04 12.5 liver_T0_54 blaCTX-M-15 a-b-c-d E14.5 x-1"),
            vec![t("blactxm15", 8, 3), t("x1", 17, 2)]
        );
        // Attribute words carry their tag.
        assert_eq!(
            spans(
                TextAnalyzer::from(StemWords::tagged()),
                "host:SARS-CoV-2 Wuhan"
            ),
            vec![
                t("host:sar", 0, 1),
                t("host:cov", 1, 1),
                t("host:2", 2, 1),
                t("host:sarscov2", 0, 3),
                t("host:wuhan", 3, 1),
            ]
        );
    }

    #[test]
    fn words_are_what_tantivys_en_stem_makes() {
        let stock = TokenizerManager::default().get("en_stem").unwrap();
        let mine = TextAnalyzer::from(StemWords::new());
        let text = "Running mice; the LIVERS of Homo sapiens, 16S rRNA gene sequencing \
                    aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa café running ÉTÉ Straße \
                    ΣΊΣΥΦΟΣ İstanbul x_y-z/w 3'UTR \
                    bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb cccccccccccccccccccccccccccccccccccccccc";
        assert_eq!(texts(mine.clone(), text), texts(stock, text));
        // Twice through the same tokenizer: the remembered stems give the same answer.
        let mut twice = mine;
        let first = texts(twice.clone(), text);
        let _ = twice.token_stream(text);
        assert_eq!(texts(twice, text), first);
    }

    #[test]
    fn words_ending_in_a_digit_are_their_own_stems() {
        // Endings the English stemmer rewrites, each followed by a digit, and numbers.
        let endings = [
            "s", "sses", "ies", "ied", "us", "ss", "eed", "eedly", "ed", "edly", "ing", "ingly",
            "y", "ational", "tional", "enci", "anci", "abli", "entli", "izer", "ization", "ation",
            "ator", "alism", "aliti", "alli", "fulness", "ousli", "ousness", "iveness", "iviti",
            "biliti", "bli", "logi", "fulli", "lessli", "li", "alize", "icate", "iciti", "ical",
            "ful", "ness", "ative", "al", "ance", "ence", "er", "ic", "able", "ible", "ant",
            "ement", "ment", "ent", "ism", "ate", "iti", "ous", "ive", "ize", "ion", "e", "l",
        ];
        let mut text = String::new();
        for (i, ending) in endings.iter().enumerate() {
            for stem in ["", "x", "Run", "generat", "HOPP", "sky"] {
                text.push_str(&format!("{stem}{ending}{} ", i % 10));
                text.push_str(&format!("{stem}{ending}{i}0 "));
            }
        }
        text.push_str("0 7 42 2021 16 326 602691 ");
        let stock = TokenizerManager::default().get("en_stem").unwrap();
        let words = texts(stock, &text);
        // The stock stemmer left every one as it was, and so does this tokenizer, without it.
        let lower: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        let stock_words: Vec<String> = words.into_iter().map(|(w, _)| w).collect();
        assert_eq!(stock_words, lower);
        assert_eq!(
            texts(TextAnalyzer::from(StemWords::new()), &text),
            texts(TokenizerManager::default().get("en_stem").unwrap(), &text)
        );
    }

    #[test]
    fn ascii_text_reads_as_decoded_text_does() {
        let long = "x".repeat(45);
        let texts = [
            "Wastewater SARS-CoV-2 (cluster/outbreak) Crohn's, RNA seq",
            "2021-03-04 12.5 liver_T0_54 blaCTX-M-15 a-b-c-d E14.5 x-1",
            &format!("short {long} a-{long} tail"),
            "  leading and trailing spaces, TABS\tand\nlines  ",
            "Mixed123 words456 and-7 8-9 UPPER lower",
            "",
        ];
        for tagged in [false, true] {
            for text in texts {
                let text = if tagged {
                    format!("host_tissue:{text}")
                } else {
                    text.to_owned()
                };
                let tokens = |words: &StemWords| -> Vec<(String, usize, usize, usize, usize)> {
                    words.tokens[..words.len]
                        .iter()
                        .map(|t| {
                            (
                                t.text.clone(),
                                t.position,
                                t.position_length,
                                t.offset_from,
                                t.offset_to,
                            )
                        })
                        .collect()
                };
                let mut fast = StemWords::build(tagged);
                fast.run(&text);
                let mut decoded = StemWords::build(tagged);
                let (prefix, value) = if tagged {
                    text.split_at(text.find(':').unwrap() + 1)
                } else {
                    ("", text.as_str())
                };
                decoded.scan(prefix, value, value.char_indices());
                assert_eq!(tokens(&fast), tokens(&decoded), "{text}");
                assert!(fast.len > 0 || text.trim().is_empty() || text.ends_with(':'));
            }
        }
    }

    #[test]
    fn tagged_words_carry_their_tag() {
        let mine = TextAnalyzer::from(StemWords::tagged());
        assert_eq!(
            texts(mine.clone(), "host_tissue:Livers and Kidneys"),
            vec![
                ("host_tissue:liver".to_owned(), 0),
                ("host_tissue:and".to_owned(), 1),
                ("host_tissue:kidney".to_owned(), 2),
            ]
        );
        assert_eq!(texts(mine, "no tag here"), vec![]);
    }
}
