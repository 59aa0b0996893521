//! Streaming XML record splitting and a small tree for one record.
//!
//! A dump of tens of millions of records is never parsed as one document: the splitter finds each
//! record element (`<BioSample …>…</BioSample>`) by byte search in a buffer that slides through the
//! file, and only that slice is parsed into an [`Element`] tree. A broken record is then one
//! finding with its position, and the next record parses as if nothing happened.

use std::io::Read;

use memchr::memmem;
use quick_xml::events::Event;

/// Bytes read from the input at a time.
const CHUNK: usize = 1 << 20;

/// One record's bytes, as found in the file.
#[derive(Debug)]
pub(crate) struct RawRecord {
    /// The record element, from `<` of its start tag to `>` of its end tag (or as far as it got).
    pub(crate) bytes: Vec<u8>,
    /// Byte offset of its start tag in the (uncompressed) input.
    pub(crate) offset: u64,
    /// Line of its start tag, from 1.
    pub(crate) line: u64,
    /// Why it has no end tag, if it has none.
    pub(crate) unterminated: Option<&'static str>,
}

/// Finds the `<TAG …>…</TAG>` elements of one name in a stream.
pub(crate) struct Splitter<R> {
    input: R,
    buf: Vec<u8>,
    /// Offset in `buf` up to which everything is consumed.
    start: usize,
    /// Input offset of `buf[0]`.
    base: u64,
    /// Line number at `buf[counted]`.
    line: u64,
    counted: usize,
    eof: bool,
    open: memmem::Finder<'static>,
    close: memmem::Finder<'static>,
    tag_len: usize,
}

fn is_name_end(b: u8) -> bool {
    matches!(b, b' ' | b'>' | b'/' | b'\n' | b'\r' | b'\t')
}

impl<R: Read> Splitter<R> {
    /// Splits `input` at `tag` elements; `head` is what was already read from the input.
    pub(crate) fn new(input: R, head: Vec<u8>, tag: &str) -> Self {
        let open = memmem::Finder::new(format!("<{tag}").as_bytes()).into_owned();
        let close = memmem::Finder::new(format!("</{tag}>").as_bytes()).into_owned();
        Self {
            input,
            buf: head,
            start: 0,
            base: 0,
            line: 1,
            counted: 0,
            eof: false,
            open,
            close,
            tag_len: tag.len(),
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Reads more input; returns false at the end of it.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        // Drop what is consumed, keeping the line count right.
        if self.start > 0 {
            self.count_lines_to(self.start);
            self.buf.drain(..self.start);
            self.base += self.start as u64;
            self.counted -= self.start;
            self.start = 0;
        }
        let old = self.buf.len();
        let want = CHUNK.max(old);
        self.buf.resize(old + want, 0);
        let mut filled = old;
        while filled < self.buf.len() {
            match self.input.read(&mut self.buf[filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(filled);
                    return Err(e);
                }
            }
        }
        self.buf.truncate(filled);
        Ok(filled > old)
    }

    fn count_lines_to(&mut self, to: usize) {
        if to > self.counted {
            self.line += memchr::memchr_iter(b'\n', &self.buf[self.counted..to]).count() as u64;
            self.counted = to;
        }
    }

    /// Finds the next start tag at or after `from`.
    fn find_open(&self, from: usize) -> Option<usize> {
        let mut at = from;
        while let Some(i) = self.open.find(&self.buf[at..]) {
            let s = at + i;
            match self.buf.get(s + 1 + self.tag_len) {
                Some(&b) if is_name_end(b) => return Some(s),
                Some(_) => at = s + 1,
                None => return None,
            }
        }
        None
    }

    /// The next record, or `None` at the end of the input.
    pub(crate) fn next_record(&mut self) -> std::io::Result<Option<RawRecord>> {
        loop {
            let Some(s) = self.find_open(self.start) else {
                // Keep a tail in case a start tag straddles the chunk boundary.
                let keep = self.tag_len + 2;
                self.start = self.start.max(self.buf.len().saturating_sub(keep));
                if self.fill()? {
                    continue;
                }
                return Ok(None);
            };
            let close = self.close.find(&self.buf[s + 1..]).map(|i| s + 1 + i);
            let next = self.find_open(s + 1);
            match (close, next) {
                (Some(e), next) if next.is_none_or(|n| n > e) => {
                    let end = e + self.tag_len + 3;
                    return Ok(Some(self.take(s, end, None)));
                }
                (_, Some(n)) => {
                    return Ok(Some(self.take(
                        s,
                        n,
                        Some("the record has no end tag before the next record starts"),
                    )));
                }
                (Some(_), None) | (None, None) => {
                    // Need more input; the record may be longer than what is buffered.
                    self.start = s;
                    if !self.fill()? {
                        let end = self.buf.len();
                        return Ok(Some(self.take(
                            self.start,
                            end,
                            Some("the input ends inside the record"),
                        )));
                    }
                }
            }
        }
    }

    fn take(&mut self, s: usize, end: usize, unterminated: Option<&'static str>) -> RawRecord {
        self.count_lines_to(s);
        let record = RawRecord {
            bytes: self.buf[s..end].to_vec(),
            offset: self.base + s as u64,
            line: self.line,
            unterminated,
        };
        self.start = end;
        record
    }
}

/// Text of a record: UTF-8 as it is, anything else read as Latin-1 (old dumps have both).
pub(crate) fn decode(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
    }
}

/// An element of a record.
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attributes: Vec<(String, String)>,
    pub(crate) children: Vec<Element>,
    pub(crate) text: String,
}

impl Element {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub(crate) fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub(crate) fn path(&self, names: &[&str]) -> Option<&Element> {
        names.iter().try_fold(self, |el, name| el.child(name))
    }

    /// The collapsed text at `names` below this element, if not empty.
    pub(crate) fn text_at(&self, names: &[&str]) -> Option<String> {
        self.path(names).and_then(Element::text)
    }

    /// Its own text with runs of white space collapsed, if not empty.
    pub(crate) fn text(&self) -> Option<String> {
        let text = collapse(&self.text);
        (!text.is_empty()).then_some(text)
    }

    /// Every element below this one, depth first.
    pub(crate) fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        let mut stack: Vec<&Element> = self.children.iter().rev().collect();
        while let Some(el) = stack.pop() {
            out.push(el);
            stack.extend(el.children.iter().rev());
        }
        out
    }
}

/// Collapses white space runs to one space and trims.
pub(crate) fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Parses one record into a tree; the error names the line within the record.
pub(crate) fn parse(text: &str) -> Result<Element, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = vec![Element::default()];
    let line_at = |pos: u64| -> usize {
        let pos = (pos as usize).min(text.len());
        memchr::memchr_iter(b'\n', &text.as_bytes()[..pos]).count() + 1
    };
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "line {} of the record: {e}",
                line_at(reader.error_position())
            )
        })?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let mut element = Element {
                    name: start.local_name().as_ref().to_owned(),
                    ..Element::default()
                };
                for attr in start.attributes().with_checks(false) {
                    let Ok(attr) = attr else { continue };
                    let key = attr.key.local_name().as_ref().to_owned();
                    let value = match attr.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                        Ok(v) => v.into_owned(),
                        // An entity only HTML knows (`&nbsp;`): keep the text as written.
                        Err(_) => attr.value.clone().into_owned(),
                    };
                    element.attributes.push((key, value));
                }
                if matches!(event, Event::Empty(_)) {
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(element);
                    }
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let done = stack.pop().unwrap_or_default();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Err("an end tag without its start tag".into()),
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(d) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&d);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(el) = stack.last_mut() {
                    let name = r.to_string();
                    match name.as_str() {
                        "amp" => el.text.push('&'),
                        "lt" => el.text.push('<'),
                        "gt" => el.text.push('>'),
                        "quot" => el.text.push('"'),
                        "apos" => el.text.push('\''),
                        _ => match r.resolve_char_ref() {
                            Ok(Some(c)) => el.text.push(c),
                            _ => {
                                el.text.push('&');
                                el.text.push_str(&name);
                                el.text.push(';');
                            }
                        },
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        let open = stack.last().map(|e| e.name.clone()).unwrap_or_default();
        return Err(format!(
            "line {} of the record: <{open}> is never closed",
            line_at(text.len() as u64)
        ));
    }
    let mut root = stack.pop().unwrap_or_default();
    root.children
        .pop()
        .ok_or_else(|| "the record has no element".to_owned())
}

/// The name of the first element of a document (its root), skipping the prolog.
pub(crate) fn root_name(head: &[u8]) -> Option<String> {
    let mut at = 0;
    while let Some(i) = memchr::memchr(b'<', &head[at..]) {
        let s = at + i + 1;
        match head.get(s) {
            Some(b'?' | b'!') => at = s,
            Some(_) => {
                let end = head[s..]
                    .iter()
                    .position(|&b| is_name_end(b))
                    .map_or(head.len(), |e| s + e);
                let name = String::from_utf8_lossy(&head[s..end]).into_owned();
                return Some(name.rsplit(':').next().unwrap_or(&name).to_owned());
            }
            None => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{Splitter, parse, root_name};

    #[test]
    fn records_split_across_chunks_and_broken_ones_are_cut_at_the_next() {
        let mut xml = String::from("<?xml version=\"1.0\"?>\n<Set>\n");
        for i in 0..5000 {
            if i == 4 {
                xml.push_str("<Rec id=\"4\"><Title>never closed\n");
                continue;
            }
            xml.push_str(&format!(
                "<Rec id=\"{i}\"><Title>t{i}</Title><RecX/></Rec>\n"
            ));
        }
        xml.push_str("</Set>\n");
        let mut s = Splitter::new(std::io::Cursor::new(xml.as_bytes()), Vec::new(), "Rec");
        let mut n = 0;
        while let Some(r) = s.next_record().unwrap() {
            if n == 4 {
                assert!(r.unterminated.is_some());
                assert_eq!(r.line, 7);
            } else {
                assert!(r.unterminated.is_none(), "record {n}");
                let el = parse(std::str::from_utf8(&r.bytes).unwrap()).unwrap();
                assert_eq!(el.attr("id"), Some(n.to_string().as_str()));
            }
            n += 1;
        }
        assert_eq!(n, 5000);
    }

    #[test]
    fn a_record_with_an_unclosed_child_is_an_error_naming_it() {
        let err = parse("<Rec>\n<A><B>x</A>\n</Rec>").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn entities_and_latin1() {
        let el = parse("<R a=\"x&amp;y\">&lt;p&gt;&#13;&#233;t&eacute;</R>").unwrap();
        assert_eq!(el.attr("a"), Some("x&y"));
        assert_eq!(el.text, "<p>\r\u{e9}t&eacute;");
        assert_eq!(super::decode(b"caf\xe9"), "caf\u{e9}");
        assert_eq!(
            root_name(b"<?xml version='1.0'?>\n<!-- x -->\n<BioSampleSet>").as_deref(),
            Some("BioSampleSet")
        );
    }
}
