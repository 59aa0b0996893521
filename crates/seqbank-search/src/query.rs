//! seqbank's query language: parsed into a small tree, then compiled into a tantivy query.
//!
//! ```text
//! query   := or
//! or      := and ("OR" and)*
//! and     := unary (["AND"] unary)*          words side by side must all match
//! unary   := ("NOT" | "-") unary | primary
//! primary := "(" query ")" | FUNC "(" number ")" | NAME ":" value | value
//! value   := word | word* | "phrase" | [lo TO hi] | {lo TO hi}   (* for an open end)
//! FUNC    := tax_eq | tax_tree
//! ```

use std::ops::Bound;

use crate::{Result, bad};

/// The deepest nesting of parentheses and negations accepted.
const MAX_DEPTH: usize = 32;
/// The most clauses one query may have.
const MAX_CLAUSES: usize = 256;

/// A parsed query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// Every record.
    All,
    /// All must match.
    And(Vec<Node>),
    /// Any may match.
    Or(Vec<Node>),
    /// Must not match.
    Not(Box<Node>),
    /// A value, in a named field or in the record's text.
    Match {
        field: Option<String>,
        value: Value,
        column: usize,
    },
    /// A taxon: `tax_eq(9606)` or `tax_tree(9606)`.
    Taxon { id: u64, tree: bool, column: usize },
}

/// What a clause matches.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// A bare word.
    Word(String),
    /// Words starting with this.
    Prefix(String),
    /// Words in this order.
    Phrase(String),
    /// A range of numbers or dates.
    Range(Bound<String>, Bound<String>),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Not,
    Field(String),
    Word(String),
    Phrase(String),
    Range(Bound<String>, Bound<String>),
}

fn is_special(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | '[' | ']' | '{' | '}')
}

fn is_field_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Splits a query into tokens, each with its 1-based column.
fn lex(query: &str) -> Result<Vec<(Tok, usize)>> {
    let chars: Vec<char> = query.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push((Tok::Open, column));
                i += 1;
            }
            ')' => {
                tokens.push((Tok::Close, column));
                i += 1;
            }
            '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '"')
                    .ok_or_else(|| {
                        bad(format!(
                            "unbalanced quote: the \" at column {column} has no closing quote"
                        ))
                    })?;
                let text: String = chars[i + 1..i + 1 + end].iter().collect();
                i += end + 2;
                if chars.get(i) == Some(&'*') {
                    i += 1;
                    tokens.push((Tok::Word(format!("{text}*")), column));
                } else {
                    tokens.push((Tok::Phrase(text), column));
                }
            }
            '[' | '{' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == ']' || c == '}')
                    .ok_or_else(|| {
                        bad(format!(
                            "unclosed range: the {c} at column {column} has no closing ] or }}"
                        ))
                    })?;
                let inner: String = chars[i + 1..i + 1 + end].iter().collect();
                let closing = chars[i + 1 + end];
                i += end + 2;
                let parts: Vec<&str> = inner.split_whitespace().collect();
                let [lo, to, hi] = parts[..] else {
                    return Err(bad(format!(
                        "malformed range at column {column}: write [FROM TO UNTIL], e.g. [2020 TO 2023]"
                    )));
                };
                if to != "TO" {
                    return Err(bad(format!(
                        "malformed range at column {column}: expected TO between the bounds, found {to:?}"
                    )));
                }
                let bound = |s: &str, inclusive: bool| match (s, inclusive) {
                    ("*", _) => Bound::Unbounded,
                    (s, true) => Bound::Included(s.to_owned()),
                    (s, false) => Bound::Excluded(s.to_owned()),
                };
                tokens.push((
                    Tok::Range(bound(lo, c == '['), bound(hi, closing == ']')),
                    column,
                ));
            }
            ']' | '}' => {
                return Err(bad(format!(
                    "unexpected {c} at column {column}: it closes no range"
                )));
            }
            _ => {
                let start = i;
                while i < chars.len() && !is_special(chars[i]) {
                    if chars[i] == ':' {
                        let name: String = chars[start..i].iter().collect();
                        if is_field_name(&name) {
                            break;
                        }
                    }
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if chars.get(i) == Some(&':') {
                    i += 1;
                    if chars.get(i).is_none_or(|c| c.is_whitespace() || *c == ')') {
                        return Err(bad(format!(
                            "field {word:?} at column {column} has no value after the colon"
                        )));
                    }
                    tokens.push((Tok::Field(word), column));
                    continue;
                }
                let token = match word.as_str() {
                    "AND" | "&&" => Tok::And,
                    "OR" | "||" => Tok::Or,
                    "NOT" => Tok::Not,
                    w if w.len() > 1
                        && w.starts_with('-')
                        && tokens
                            .last()
                            .is_none_or(|(t, _)| !matches!(t, Tok::Field(_))) =>
                    {
                        tokens.push((Tok::Not, column));
                        Tok::Word(w[1..].to_owned())
                    }
                    _ => Tok::Word(word),
                };
                tokens.push((token, column));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(Tok, usize)>,
    at: usize,
    clauses: usize,
    end_column: usize,
}

/// Parses a query; an empty query or `*` matches every record.
pub(crate) fn parse(query: &str) -> Result<Node> {
    let tokens = lex(query)?;
    if tokens.is_empty() {
        return Ok(Node::All);
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        clauses: 0,
        end_column: query.chars().count() + 1,
    };
    let node = parser.or(0)?;
    if let Some((token, column)) = parser.tokens.get(parser.at) {
        return Err(match token {
            Tok::Close => bad(format!(
                "unbalanced parenthesis: the ) at column {column} closes nothing"
            )),
            _ => bad(format!("unexpected {} at column {column}", describe(token))),
        });
    }
    Ok(node)
}

fn describe(token: &Tok) -> String {
    match token {
        Tok::Open => "(".into(),
        Tok::Close => ")".into(),
        Tok::And => "AND".into(),
        Tok::Or => "OR".into(),
        Tok::Not => "NOT".into(),
        Tok::Field(name) => format!("{name}:"),
        Tok::Word(w) => format!("{w:?}"),
        Tok::Phrase(p) => format!("\"{p}\""),
        Tok::Range(..) => "range".into(),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn column(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or(self.end_column, |(_, column)| *column)
    }

    fn deeper(depth: usize, column: usize) -> Result<usize> {
        if depth >= MAX_DEPTH {
            return Err(bad(format!(
                "query nests too deeply at column {column} (at most {MAX_DEPTH} levels)"
            )));
        }
        Ok(depth + 1)
    }

    fn or(&mut self, depth: usize) -> Result<Node> {
        let mut any = vec![self.and(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            any.push(self.and(depth)?);
        }
        Ok(if any.len() == 1 {
            any.remove(0)
        } else {
            Node::Or(any)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Node> {
        let mut all = vec![self.unary(depth)?];
        loop {
            match self.peek() {
                None | Some(Tok::Or | Tok::Close) => break,
                Some(Tok::And) => {
                    self.at += 1;
                }
                Some(_) => {}
            }
            all.push(self.unary(depth)?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Node::And(all)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Node> {
        if self.peek() == Some(&Tok::Not) {
            let depth = Self::deeper(depth, self.column())?;
            self.at += 1;
            return Ok(Node::Not(Box::new(self.unary(depth)?)));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Node> {
        let column = self.column();
        let Some((token, _)) = self.tokens.get(self.at).cloned() else {
            return Err(bad(format!(
                "query ends at column {column} where a word, phrase or ( was expected"
            )));
        };
        self.at += 1;
        self.clauses += 1;
        if self.clauses > MAX_CLAUSES {
            return Err(bad(format!(
                "query has too many clauses (at most {MAX_CLAUSES})"
            )));
        }
        match token {
            Tok::Open => {
                let depth = Self::deeper(depth, column)?;
                let node = self.or(depth)?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(bad(format!(
                        "unbalanced parenthesis: the ( at column {column} is never closed"
                    )));
                }
                self.at += 1;
                Ok(node)
            }
            Tok::Word(word)
                if (word == "tax_eq" || word == "tax_tree") && self.peek() == Some(&Tok::Open) =>
            {
                self.at += 1;
                let id = match self.tokens.get(self.at) {
                    Some((Tok::Word(n), _)) => n.parse::<u64>().ok(),
                    _ => None,
                }
                .ok_or_else(|| {
                    bad(format!(
                        "{word} at column {column} takes a taxon id, e.g. {word}(9606)"
                    ))
                })?;
                self.at += 1;
                if self.peek() != Some(&Tok::Close) {
                    return Err(bad(format!("{word}( at column {column} is never closed")));
                }
                self.at += 1;
                Ok(Node::Taxon {
                    id,
                    tree: word == "tax_tree",
                    column,
                })
            }
            Tok::Field(name) => {
                let value_column = self.column();
                let value = match self.tokens.get(self.at).cloned() {
                    Some((Tok::Word(w), _)) => word_value(w, value_column)?,
                    Some((Tok::Phrase(p), _)) => Value::Phrase(p),
                    Some((Tok::Range(lo, hi), _)) => Value::Range(lo, hi),
                    _ => {
                        return Err(bad(format!(
                            "field {name:?} at column {column} needs a word, \"phrase\" or [range] after the colon"
                        )));
                    }
                };
                self.at += 1;
                Ok(Node::Match {
                    field: Some(name),
                    value,
                    column,
                })
            }
            Tok::Word(word) if word == "*" => Ok(Node::All),
            Tok::Word(word) => Ok(Node::Match {
                field: None,
                value: word_value(word, column)?,
                column,
            }),
            Tok::Phrase(p) => Ok(Node::Match {
                field: None,
                value: Value::Phrase(p),
                column,
            }),
            Tok::Range(..) => Err(bad(format!(
                "a range at column {column} needs a field before it, e.g. released:[2020 TO 2023]"
            ))),
            Tok::Close => Err(bad(format!(
                "unbalanced parenthesis: the ) at column {column} closes nothing"
            ))),
            Tok::And | Tok::Or | Tok::Not => Err(bad(format!(
                "{} at column {column} has nothing to its left or right",
                describe(&token)
            ))),
        }
    }
}

/// Minimum characters before a `*`.
pub(crate) const MIN_PREFIX: usize = 3;

fn word_value(word: String, column: usize) -> Result<Value> {
    match word.strip_suffix('*') {
        Some(prefix) if !prefix.contains('*') => {
            if prefix.chars().count() < MIN_PREFIX {
                return Err(bad(format!(
                    "prefix {word:?} at column {column} is too short: give at least {MIN_PREFIX} characters before *"
                )));
            }
            Ok(Value::Prefix(prefix.to_owned()))
        }
        _ if word.contains('*') => Err(bad(format!(
            "wildcard in {word:?} at column {column}: * is only allowed at the end of a word"
        ))),
        _ => Ok(Value::Word(word)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(field: Option<&str>, w: &str, column: usize) -> Node {
        Node::Match {
            field: field.map(str::to_owned),
            value: Value::Word(w.to_owned()),
            column,
        }
    }

    #[test]
    fn words_side_by_side_are_all_required() {
        assert_eq!(
            parse("liver Homo").ok(),
            Some(Node::And(vec![
                word(None, "liver", 1),
                word(None, "Homo", 7)
            ]))
        );
    }

    #[test]
    fn operators_fields_phrases_and_ranges() {
        let node =
            parse(r#"organism:"Mus musculus" AND (tissue:brain OR -heart) released:[2020 TO *}"#)
                .ok();
        let expected = Node::And(vec![
            Node::Match {
                field: Some("organism".into()),
                value: Value::Phrase("Mus musculus".into()),
                column: 1,
            },
            Node::Or(vec![
                word(Some("tissue"), "brain", 30),
                Node::Not(Box::new(word(None, "heart", 46))),
            ]),
            Node::Match {
                field: Some("released".into()),
                value: Value::Range(Bound::Included("2020".into()), Bound::Unbounded),
                column: 54,
            },
        ]);
        assert_eq!(node, Some(expected));
    }

    #[test]
    fn empty_and_star_match_everything() {
        assert_eq!(parse("  ").ok(), Some(Node::All));
        assert_eq!(parse("*").ok(), Some(Node::All));
    }

    #[test]
    fn functions_and_prefixes() {
        assert_eq!(
            parse("tax_eq(9606) carcin*").ok(),
            Some(Node::And(vec![
                Node::Taxon {
                    id: 9606,
                    tree: false,
                    column: 1
                },
                Node::Match {
                    field: None,
                    value: Value::Prefix("carcin".into()),
                    column: 14
                }
            ]))
        );
    }

    fn error(query: &str) -> String {
        match parse(query) {
            Err(e) => e.to_string(),
            Ok(node) => panic!("{query:?} parsed as {node:?}"),
        }
    }

    #[test]
    fn bad_queries_point_at_the_problem() {
        assert!(error(r#"liver "bone marrow"#).contains("column 7"));
        assert!(error("(liver OR lung").contains("( at column 1 is never closed"));
        assert!(error("liver)").contains(") at column 6 closes nothing"));
        assert!(error("released:[2020 2023]").contains("malformed range"));
        assert!(error("released:[2020 TO 2023").contains("unclosed range"));
        assert!(error("li*").contains("too short"));
        assert!(error("l*ver").contains("only allowed at the end"));
        assert!(error("liver AND").contains("where a word"));
        assert!(error("OR liver").contains("nothing to its left"));
        assert!(error("tax_eq(human)").contains("takes a taxon id"));
        assert!(error("title: liver").contains("no value after the colon"));
        assert!(error(&"(".repeat(100)).contains("nests too deeply"));
        assert!(error(&"a ".repeat(300)).contains("too many clauses"));
    }
}
