//! The index's word tokenizers: words, lower case, English stems, with the stems of words already
//! seen remembered.
//!
//! Stemming is a large part of indexing, and the words of a catalogue repeat from record to
//! record, so each tokenizer keeps a bounded map from word to stem. The tokenizers are registered
//! with the index, so tantivy runs them on its indexing threads, in parallel, on plain text.

use std::collections::HashMap;

use tantivy::tokenizer::{
    Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
    Token, TokenStream, Tokenizer,
};

/// Distinct words whose stems are remembered before the memory is cleared.
const STEM_CACHE: usize = 200_000;

/// Longest word indexed, in bytes; longer ones are dropped, as tantivy's `en_stem` does.
const LONGEST_WORD: usize = 40;

/// Words, lower case, English stems (the output of tantivy's `en_stem`). With `tagged`, the text
/// is `tag:value` and every word of the value comes out as `tag:stem`, so that one field holds
/// every attribute and a phrase never spans two of them.
pub(crate) struct StemWords {
    words: TextAnalyzer,
    stemmer: TextAnalyzer,
    stems: HashMap<String, String>,
    tokens: Vec<Token>,
    scratch: Vec<Token>,
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
            words: TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(LONGEST_WORD))
                .filter(LowerCaser)
                .build(),
            stemmer: TextAnalyzer::builder(RawTokenizer::default())
                .filter(Stemmer::new(Language::English))
                .build(),
            stems: HashMap::new(),
            tokens: Vec::new(),
            scratch: Vec::new(),
            tagged,
        }
    }

    fn stem(&mut self, word: &str) -> String {
        if let Some(stem) = self.stems.get(word) {
            return stem.clone();
        }
        let mut stemmed = self.stemmer.token_stream(word);
        let stem = stemmed
            .next()
            .map_or_else(|| word.to_owned(), |t| t.text.clone());
        if self.stems.len() >= STEM_CACHE {
            self.stems.clear();
        }
        self.stems.insert(word.to_owned(), stem.clone());
        stem
    }

    fn run(&mut self, text: &str) {
        self.tokens.clear();
        let (prefix, text) = match (self.tagged, text.split_once(':')) {
            (false, _) => ("", text),
            (true, Some((tag, value))) => (&text[..=tag.len()], value),
            // Without its tag an attribute has nothing to be found by.
            (true, None) => return,
        };
        let mut words = std::mem::take(&mut self.scratch);
        {
            let mut stream = self.words.token_stream(text);
            while stream.advance() {
                words.push(stream.token().clone());
            }
        }
        for mut token in words.drain(..) {
            let stem = self.stem(&token.text);
            token.text = if prefix.is_empty() {
                stem
            } else {
                let mut text = String::with_capacity(prefix.len() + stem.len());
                text.push_str(prefix);
                text.push_str(&stem);
                text
            };
            self.tokens.push(token);
        }
        self.scratch = words;
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
            tokens: &mut self.tokens,
            at: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{TextAnalyzer, TokenStream, TokenizerManager};

    use super::StemWords;

    fn texts(mut analyzer: TextAnalyzer, text: &str) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while let Some(t) = stream.next() {
            out.push((t.text.clone(), t.position));
        }
        out
    }

    #[test]
    fn words_are_what_tantivys_en_stem_makes() {
        let stock = TokenizerManager::default().get("en_stem").unwrap();
        let mine = TextAnalyzer::from(StemWords::new());
        let text = "Running mice; the LIVERS of Homo sapiens, 16S rRNA gene sequencing \
                    aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa café running";
        assert_eq!(texts(mine.clone(), text), texts(stock, text));
        // Twice through the same tokenizer: the remembered stems give the same answer.
        let mut twice = mine;
        let first = texts(twice.clone(), text);
        let _ = twice.token_stream(text);
        assert_eq!(texts(twice, text), first);
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
