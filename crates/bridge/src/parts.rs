//! Splits a device's alert stream (`multipart/mixed`, isapi.md §3) into the
//! documents it carries, byte for byte as the device wrote them, so the bridge can
//! send each `EventNotificationAlert` up the link unchanged.
//!
//! `siteward_isapi::AlertStreamDecoder` parses parts into models and does not keep
//! their text, so this is a small splitter of its own, tolerant in the same ways:
//! bytes split anywhere give the same documents; a text part ends at the close of
//! its root element (an event is not held back until the next boundary), else at
//! the next boundary or the size limit; picture parts are skipped (by
//! `Content-Length`, else to the next boundary); doubled boundary lines, missing
//! part headers, documents without multipart framing and garbage are survived.

pub use siteward_isapi::alert_stream::MAX_TEXT_PART_BYTES;
use siteward_isapi::alert_stream::boundary_from_content_type;

/// Longest line accepted outside bodies.
const MAX_LINE: usize = 8 * 1024;
/// Most header lines in one part before it is treated as garbage.
const MAX_HEADER_LINES: usize = 32;

#[derive(Debug, Default)]
struct PartHeaders {
    content_type: Option<String>,
    content_length: Option<usize>,
    lines: usize,
}

#[derive(Debug)]
enum State {
    /// Between parts: looking for a boundary or a document.
    Seek,
    /// Reading a part's headers.
    Headers(PartHeaders),
    /// After the blank line: text or binary is not known yet.
    Body(PartHeaders),
    /// In an XML or JSON document.
    Text,
    /// Skipping this many bytes of a binary part.
    Skip(usize),
    /// Skipping a binary part without a length, up to the next boundary.
    SkipToBoundary,
}

/// The splitter of one stream.
#[derive(Debug)]
pub struct PartSplitter {
    buf: Vec<u8>,
    boundary: Option<Vec<u8>>,
    state: State,
}

impl PartSplitter {
    /// For a stream with this `Content-Type` (which usually names the boundary).
    pub fn new(content_type: Option<&str>) -> Self {
        Self {
            buf: Vec::new(),
            boundary: content_type
                .and_then(boundary_from_content_type)
                .map(String::into_bytes),
            state: State::Seek,
        }
    }

    /// Takes the next bytes; returns the documents they complete.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while self.step(&mut out, false) {}
        out
    }

    /// The stream ended: whatever document was begun.
    pub fn finish(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while self.step(&mut out, true) {}
        self.buf.clear();
        self.state = State::Seek;
        out
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n.min(self.buf.len()));
    }

    fn skip_whitespace(&mut self) {
        let n = self
            .buf
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        self.consume(n);
    }

    /// The next whole line (without `\r\n`) and the bytes it spans; `Err` when
    /// no line ends within [`MAX_LINE`].
    fn line(&self) -> Option<Result<(Vec<u8>, usize), ()>> {
        let window = &self.buf[..self.buf.len().min(MAX_LINE + 1)];
        match window.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let line = self.buf[..i].strip_suffix(b"\r").unwrap_or(&self.buf[..i]);
                Some(Ok((line.to_vec(), i + 1)))
            }
            None if self.buf.len() > MAX_LINE => Some(Err(())),
            None => None,
        }
    }

    /// Whether `line` is a boundary line; learns the boundary when it is unknown.
    fn boundary_line(&mut self, line: &[u8]) -> bool {
        let Some(after) = line.strip_prefix(b"--") else {
            return false;
        };
        match &self.boundary {
            Some(b) => after.strip_prefix(b.as_slice()).is_some_and(|tail| {
                let tail = trim(tail);
                tail.is_empty() || tail == b"--"
            }),
            None => {
                let t = trim(after);
                let t = t.strip_suffix(b"--").unwrap_or(t);
                let ok = !t.is_empty() && t.iter().all(|&c| is_bchar(c));
                if ok {
                    self.boundary = Some(t.to_vec());
                }
                ok
            }
        }
    }

    /// Where the next boundary line starts in `buf[from..]`, if one does.
    fn find_boundary(&self, from: usize) -> Option<usize> {
        let b = self.boundary.as_deref().unwrap_or_default();
        let needle = [b"\n--".as_slice(), b].concat();
        self.buf
            .get(from..)?
            .windows(needle.len())
            .position(|w| w == needle.as_slice())
            .map(|i| from + i + 1)
    }

    /// Advances once; false when more input is needed.
    fn step(&mut self, out: &mut Vec<String>, eof: bool) -> bool {
        match std::mem::replace(&mut self.state, State::Seek) {
            State::Seek => {
                self.skip_whitespace();
                match self.buf.first() {
                    None => return false,
                    Some(b'<' | b'{' | b'[') => {
                        // A document without multipart framing.
                        self.state = State::Text;
                        return true;
                    }
                    Some(_) => {}
                }
                match self.line() {
                    None => {
                        if eof {
                            self.buf.clear();
                        }
                        false
                    }
                    Some(Err(())) => {
                        self.consume(MAX_LINE);
                        true
                    }
                    Some(Ok((line, used))) => {
                        self.consume(used);
                        if self.boundary_line(&line) {
                            self.state = State::Headers(PartHeaders::default());
                        } else if self.boundary.is_none() {
                            // A stray HTTP header block may announce the boundary.
                            let text = String::from_utf8_lossy(&line);
                            if let Some((name, value)) = text.split_once(':')
                                && name.trim().eq_ignore_ascii_case("content-type")
                            {
                                self.boundary =
                                    boundary_from_content_type(value).map(String::into_bytes);
                            }
                        }
                        true
                    }
                }
            }
            State::Headers(mut h) => {
                if matches!(self.buf.first(), Some(b'<' | b'{')) {
                    // The body started without the blank line.
                    self.state = State::Body(h);
                    return true;
                }
                match self.line() {
                    None => {
                        self.state = State::Headers(h);
                        if eof {
                            self.buf.clear();
                        }
                        false
                    }
                    Some(Err(())) => {
                        self.consume(MAX_LINE);
                        true
                    }
                    Some(Ok((line, used))) => {
                        self.consume(used);
                        if self.boundary_line(&line) {
                            self.state = State::Headers(PartHeaders::default());
                        } else if trim(&line).is_empty() {
                            self.state = State::Body(h);
                        } else {
                            h.lines += 1;
                            let text = String::from_utf8_lossy(&line);
                            if let Some((name, value)) = text.split_once(':') {
                                let name = name.trim();
                                if name.eq_ignore_ascii_case("content-type") {
                                    h.content_type = Some(value.trim().to_ascii_lowercase());
                                } else if name.eq_ignore_ascii_case("content-length") {
                                    h.content_length = value.trim().parse().ok();
                                }
                            }
                            if h.lines <= MAX_HEADER_LINES {
                                self.state = State::Headers(h);
                            }
                        }
                        true
                    }
                }
            }
            State::Body(h) => {
                let binary = h
                    .content_type
                    .as_deref()
                    .is_some_and(|ct| ct.starts_with("image/") || ct.contains("octet-stream"));
                let first = self.buf.iter().position(|b| !b.is_ascii_whitespace());
                let text = !binary && first.is_some_and(|i| b"<{[".contains(&self.buf[i]));
                match (first, text) {
                    (None, false) if !binary => {
                        // Only blanks so far.
                        self.state = State::Body(h);
                        if eof {
                            self.buf.clear();
                        }
                        false
                    }
                    (_, true) => {
                        self.skip_whitespace();
                        self.state = State::Text;
                        true
                    }
                    _ => {
                        self.state = match h.content_length {
                            Some(n) => State::Skip(n),
                            None => State::SkipToBoundary,
                        };
                        true
                    }
                }
            }
            State::Text => {
                let end = match self.buf.first() {
                    Some(b'<') => xml_end(&self.buf),
                    _ => json_end(&self.buf),
                };
                let boundary = if self.boundary.is_some() {
                    self.find_boundary(0)
                } else {
                    None
                };
                let cut = match (end, boundary) {
                    (Some(e), Some(b)) => Some(e.min(b)),
                    (e, b) => e.or(b),
                };
                if let Some(at) = cut.filter(|&at| at <= MAX_TEXT_PART_BYTES) {
                    emit(out, &self.buf[..at]);
                    self.consume(at);
                    return true;
                }
                if self.buf.len() > MAX_TEXT_PART_BYTES {
                    tracing::debug!("an alert-stream document over the size limit was dropped");
                    self.buf.clear();
                    self.state = State::SkipToBoundary;
                    return false;
                }
                if eof {
                    emit(out, &self.buf);
                    self.buf.clear();
                    return false;
                }
                self.state = State::Text;
                false
            }
            State::Skip(n) => {
                let take = n.min(self.buf.len());
                self.consume(take);
                if take < n {
                    self.state = State::Skip(n - take);
                    return false;
                }
                true
            }
            State::SkipToBoundary => match self.find_boundary(0) {
                Some(at) => {
                    self.consume(at);
                    true
                }
                None => {
                    // Keep only what could be the start of a boundary line.
                    let keep = self.boundary.as_ref().map_or(2, Vec::len) + 3;
                    let drop = self.buf.len().saturating_sub(keep);
                    self.consume(drop);
                    self.state = State::SkipToBoundary;
                    false
                }
            },
        }
    }
}

fn emit(out: &mut Vec<String>, doc: &[u8]) {
    let text = String::from_utf8_lossy(trim(doc)).into_owned();
    if !text.is_empty() {
        out.push(text);
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

fn is_bchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(&c)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| from + i)
}

/// The end of the XML document at the start of `b` (after its root's end tag),
/// once it is all there.
fn xml_end(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    // The prolog: declaration, comments, doctype.
    loop {
        i += b[i..]
            .iter()
            .take_while(|c| c.is_ascii_whitespace())
            .count();
        let rest = &b[i..];
        if rest.starts_with(b"<?") {
            i = find(b, b"?>", i)? + 2;
        } else if rest.starts_with(b"<!--") {
            i = find(b, b"-->", i)? + 3;
        } else if rest.starts_with(b"<!") {
            i = find(b, b">", i)? + 1;
        } else {
            break;
        }
    }
    if b.get(i) != Some(&b'<') {
        return None;
    }
    let name_len = b[i + 1..]
        .iter()
        .take_while(|c| !c.is_ascii_whitespace() && !b"/>".contains(c))
        .count();
    if name_len == 0 {
        return None;
    }
    let name = &b[i + 1..i + 1 + name_len];
    let gt = find(b, b">", i + 1 + name_len)?;
    if b[gt - 1] == b'/' {
        return Some(gt + 1);
    }
    let close = [b"</".as_slice(), name].concat();
    let mut from = gt + 1;
    loop {
        let at = find(b, &close, from)?;
        let mut j = at + close.len();
        j += b[j..]
            .iter()
            .take_while(|c| c.is_ascii_whitespace())
            .count();
        match b.get(j) {
            Some(b'>') => return Some(j + 1),
            None => return None,
            Some(_) => from = at + 1,
        }
    }
}

/// The end of the JSON value at the start of `b`, once it is all there.
fn json_end(b: &[u8]) -> Option<usize> {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for (i, &c) in b.iter().enumerate() {
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALERT: &str = "<EventNotificationAlert version=\"2.0\" xmlns=\"http://www.isapi.org/ver20/XMLSchema\">\r\n<ipAddress>10.0.0.5</ipAddress>\r\n<eventType>fielddetection</eventType>\r\n<eventState>active</eventState>\r\n</EventNotificationAlert>";
    const JSON: &str = r#"{"ipAddress":"10.0.0.9","eventType":"cidEvent","note":"a } in \" a string","CIDEvent":{"code":1130}}"#;

    fn framed(boundary: &str, ct: &str, body: &[u8], with_length: bool) -> Vec<u8> {
        let mut v = format!("--{boundary}\r\nContent-Type: {ct}\r\n").into_bytes();
        if with_length {
            v.extend(format!("Content-Length: {}\r\n", body.len()).bytes());
        }
        v.extend(b"\r\n");
        v.extend(body);
        v.extend(b"\r\n");
        v
    }

    fn stream() -> Vec<u8> {
        let mut s = Vec::new();
        s.extend(framed(
            "boundary",
            "application/xml",
            ALERT.as_bytes(),
            true,
        ));
        // A picture with a length that holds a boundary-looking line and a '<'.
        let jpeg = b"\xff\xd8<junk\r\n--boundary\r\nmore\xff\xd9";
        s.extend(framed("boundary", "image/jpeg", jpeg, true));
        s.extend(framed(
            "boundary",
            "application/json",
            JSON.as_bytes(),
            false,
        ));
        // A doubled boundary line.
        s.extend(b"--boundary\r\n");
        s.extend(framed(
            "boundary",
            "application/xml",
            ALERT.as_bytes(),
            false,
        ));
        // A picture without a length: skipped to the next boundary.
        s.extend(framed(
            "boundary",
            "image/jpeg",
            b"\xff\xd8<<{{\xff\xd9",
            false,
        ));
        s.extend(framed(
            "boundary",
            "application/xml",
            ALERT.as_bytes(),
            false,
        ));
        s
    }

    #[test]
    fn documents_come_out_as_written_however_the_bytes_are_split() {
        let bytes = stream();
        let want = vec![
            ALERT.to_owned(),
            JSON.to_owned(),
            ALERT.to_owned(),
            ALERT.to_owned(),
        ];
        let mut whole = PartSplitter::new(Some("multipart/mixed; boundary=boundary"));
        let mut got = whole.push(&bytes);
        got.extend(whole.finish());
        assert_eq!(got, want);
        for size in [1, 2, 3, 7, 64] {
            let mut s = PartSplitter::new(Some("multipart/mixed; boundary=boundary"));
            let mut got: Vec<String> = bytes.chunks(size).flat_map(|c| s.push(c)).collect();
            got.extend(s.finish());
            assert_eq!(got, want, "chunks of {size}");
        }
        // The boundary is learnt when the header does not name it.
        let mut s = PartSplitter::new(None);
        let mut got = s.push(&bytes);
        got.extend(s.finish());
        assert_eq!(got, want, "boundary learnt");
    }

    #[test]
    fn an_event_is_delivered_before_the_next_boundary() {
        let mut s = PartSplitter::new(Some("multipart/mixed; boundary=MIME_boundary"));
        let head = b"--MIME_boundary\r\nContent-Type: application/xml\r\n\r\n";
        assert!(s.push(head).is_empty());
        assert_eq!(s.push(ALERT.as_bytes()), vec![ALERT.to_owned()]);
    }

    #[test]
    fn raw_documents_and_garbage_are_survived() {
        let mut s = PartSplitter::new(None);
        let mut input = b"HTTP junk line\r\n".to_vec();
        input.extend(b"<?xml version=\"1.0\"?>\n<!-- c -->");
        input.extend(ALERT.as_bytes());
        input.extend(b"\n");
        input.extend(JSON.as_bytes());
        let got = s.push(&input);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].starts_with("<?xml") && got[0].ends_with("</EventNotificationAlert>"));
        assert_eq!(got[1], JSON);
        // A document cut by the end of the stream is handed on as it is.
        assert!(s.push(b"<EventNotificationAlert><eventType>IO").is_empty());
        assert_eq!(s.finish(), vec!["<EventNotificationAlert><eventType>IO"]);
    }

    #[test]
    fn a_root_end_tag_must_really_end_the_root() {
        let doc = b"<A><AB>x</AB></AB2></A >tail";
        assert_eq!(xml_end(doc), Some(doc.len() - 4));
        assert_eq!(xml_end(b"<A/>"), Some(4));
        assert_eq!(xml_end(b"<A><b/></A"), None);
        assert_eq!(json_end(br#"{"a":"}"}x"#), Some(9));
    }

    #[test]
    fn an_oversized_document_is_dropped_and_the_stream_goes_on() {
        let mut s = PartSplitter::new(Some("multipart/mixed; boundary=b"));
        let mut big = b"--b\r\nContent-Type: application/xml\r\n\r\n<E>".to_vec();
        big.extend(std::iter::repeat_n(b'x', MAX_TEXT_PART_BYTES + 10));
        let mut got = s.push(&big);
        got.extend(s.push(b"</E>\r\n"));
        got.extend(s.push(&framed("b", "application/xml", ALERT.as_bytes(), true)));
        assert_eq!(got, vec![ALERT.to_owned()]);
    }
}
