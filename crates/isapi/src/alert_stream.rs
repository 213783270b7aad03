//! Incremental decoder for `/ISAPI/Event/notification/alertStream` (isapi.md §3).
//!
//! The stream is an endless `multipart/mixed` body of `EventNotificationAlert`
//! documents (XML or JSON), sometimes with JPEG parts, heartbeats, doubled
//! boundary lines, missing multipart headers, or plain garbage. The decoder
//! accepts bytes split anywhere and yields the same items however the input is
//! chunked: every decision is taken only once the bytes that decide it are
//! buffered. Text parts end at the close of their root element (so an event is
//! delivered without waiting for the next boundary), or at the next boundary,
//! or at the size limit.

use bytes::Bytes;

use crate::error::ParseError;
use crate::models::{EventAlert, XmlModel};

/// Largest XML/JSON part accepted.
pub const MAX_TEXT_PART_BYTES: usize = 1024 * 1024;
/// Largest binary (picture) part accepted.
pub const MAX_BINARY_PART_BYTES: usize = 8 * 1024 * 1024;
/// Longest line accepted outside bodies.
const MAX_LINE: usize = 8 * 1024;
/// Most header lines in one part before it is treated as garbage.
const MAX_HEADER_LINES: usize = 32;

/// One decoded item.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// An event.
    Event(Box<EventAlert>),
    /// A heartbeat (`videoloss`/`inactive`, post count 0): proves the link is alive.
    Heartbeat(Box<EventAlert>),
    /// A binary part (usually a JPEG attached to a smart event).
    Attachment {
        /// The part's `Content-Type`.
        content_type: Option<String>,
        /// The bytes.
        data: Bytes,
    },
    /// A part that could not be decoded; the stream goes on.
    Malformed {
        /// Why.
        reason: String,
        /// How many bytes were dropped.
        len: usize,
    },
}

/// Outcome of judging a line as a boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Judge {
    /// A boundary line; carries the boundary (learnt when it was unknown).
    Yes(Vec<u8>),
    /// Not a boundary line.
    No,
    /// The bytes so far cannot tell.
    Undecided,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PartHeaders {
    /// True inside a multipart part (false for bare documents).
    framed: bool,
    content_type: Option<String>,
    content_length: Option<usize>,
    lines: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Xml,
    Json,
    Binary,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Between parts: skipping whitespace and garbage, looking for a boundary or a document.
    Seek,
    /// Reading part headers.
    Headers(PartHeaders),
    /// Reading a body; `kind` is decided on its first non-blank byte.
    Body(PartHeaders, Option<Kind>),
    /// Discarding an oversized part of known length.
    Skip(usize),
}

/// Incremental alert-stream decoder.
#[derive(Debug, Clone)]
pub struct AlertStreamDecoder {
    buf: Vec<u8>,
    pos: usize,
    state: State,
    boundary: Option<Vec<u8>>,
    skipped: u64,
}

impl Default for AlertStreamDecoder {
    fn default() -> Self {
        Self::new()
    }
}

/// Extracts the `boundary` parameter of a `Content-Type` value.
pub fn boundary_from_content_type(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

fn is_bchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(&c)
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

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

impl AlertStreamDecoder {
    /// A decoder that learns the boundary from the stream itself.
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            pos: 0,
            state: State::Seek,
            boundary: None,
            skipped: 0,
        }
    }

    /// A decoder for a known boundary (from the response `Content-Type`).
    pub fn with_boundary(boundary: &str) -> Self {
        let mut d = Self::new();
        let b = boundary.trim().trim_start_matches("--");
        if !b.is_empty() {
            d.boundary = Some(b.as_bytes().to_vec());
        }
        d
    }

    /// A decoder configured from a response `Content-Type` header.
    pub fn from_content_type(content_type: Option<&str>) -> Self {
        match content_type.and_then(boundary_from_content_type) {
            Some(b) => Self::with_boundary(&b),
            None => Self::new(),
        }
    }

    /// Bytes skipped as garbage so far.
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped
    }

    /// Feeds a chunk; returns every item completed by it.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<StreamItem> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while self.step(&mut out, false) {}
        self.compact();
        out
    }

    /// Ends the stream: flushes a pending body. The decoder is reset afterwards.
    pub fn finish(&mut self) -> Vec<StreamItem> {
        let mut out = Vec::new();
        while self.step(&mut out, false) {}
        while self.step(&mut out, true) {}
        self.buf.clear();
        self.pos = 0;
        self.state = State::Seek;
        out
    }

    fn compact(&mut self) {
        if self.pos > 0 && (self.pos >= self.buf.len() || self.pos > 64 * 1024) {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    fn rest(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// The next complete line (without its terminator) and the bytes it spans.
    /// `Err(())` when no newline occurs within [`MAX_LINE`].
    #[allow(clippy::result_unit_err)]
    fn line(&self) -> Option<Result<(&[u8], usize), ()>> {
        let rest = self.rest();
        let window = &rest[..rest.len().min(MAX_LINE + 1)];
        match window.iter().position(|&b| b == b'\n') {
            Some(i) => Some(Ok((&rest[..i], i + 1))),
            None if rest.len() > MAX_LINE => Some(Err(())),
            None => None,
        }
    }

    /// Judges whether `line` (without `\n`) is a boundary line. `complete` says
    /// whether the line's end is known; a partial line is judged only when its
    /// prefix already decides, so the answer never changes as bytes arrive.
    fn judge(&self, line: &[u8], complete: bool) -> Judge {
        let undecided_or = |no: bool| {
            if complete || no {
                Judge::No
            } else {
                Judge::Undecided
            }
        };
        if line.len() < 2 {
            return undecided_or(!b"--".starts_with(line));
        }
        let Some(after) = line.strip_prefix(b"--") else {
            return Judge::No;
        };
        match &self.boundary {
            Some(b) => {
                if after.len() < b.len() {
                    return undecided_or(!b.starts_with(after));
                }
                let Some(tail) = after.strip_prefix(b.as_slice()) else {
                    return Judge::No;
                };
                match tail.first() {
                    None if complete => Judge::Yes(b.clone()),
                    None => Judge::Undecided,
                    Some(b'\r' | b' ' | b'\t') => Judge::Yes(b.clone()),
                    Some(b'-') => match tail.get(1) {
                        Some(b'-') => Judge::Yes(b.clone()),
                        Some(_) => Judge::No,
                        None => undecided_or(false),
                    },
                    Some(_) => Judge::No,
                }
            }
            None => {
                if !complete {
                    return Judge::Undecided;
                }
                let t = trim(after);
                let t = t.strip_suffix(b"--").unwrap_or(t);
                if !t.is_empty() && t.iter().all(|&c| is_bchar(c)) {
                    Judge::Yes(t.to_vec())
                } else {
                    Judge::No
                }
            }
        }
    }

    /// Advances once. Returns false when more input is needed.
    fn step(&mut self, out: &mut Vec<StreamItem>, eof: bool) -> bool {
        match std::mem::replace(&mut self.state, State::Seek) {
            State::Seek => self.seek(),
            State::Headers(h) => self.headers(h, out),
            State::Body(h, kind) => self.body(h, kind, out, eof),
            State::Skip(n) => {
                let take = n.min(self.rest().len());
                self.pos += take;
                if take < n {
                    if eof || take == 0 {
                        self.state = State::Skip(n - take);
                        return false;
                    }
                    self.state = State::Skip(n - take);
                    return true;
                }
                true
            }
        }
    }

    fn seek(&mut self) -> bool {
        let ws = self
            .rest()
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        self.pos += ws;
        let Some(&first) = self.rest().first() else {
            return false;
        };
        if matches!(first, b'<' | b'{' | b'[') {
            // A document without multipart framing (raw-TCP style devices).
            self.state = State::Body(PartHeaders::default(), None);
            return true;
        }
        match self.line() {
            None => false,
            Some(Err(())) => {
                self.pos += MAX_LINE;
                self.skipped += MAX_LINE as u64;
                true
            }
            Some(Ok((line, used))) => {
                let line = line.to_vec();
                let line = line.as_slice();
                if let Judge::Yes(b) = self.judge(line, true) {
                    self.boundary.get_or_insert(b);
                    self.pos += used;
                    self.state = State::Headers(PartHeaders {
                        framed: true,
                        ..PartHeaders::default()
                    });
                    return true;
                }
                // A stray HTTP header block may announce the boundary.
                let text = String::from_utf8_lossy(line);
                if self.boundary.is_none()
                    && let Some((name, value)) = text.split_once(':')
                    && name.trim().eq_ignore_ascii_case("content-type")
                    && let Some(b) = boundary_from_content_type(value)
                {
                    self.boundary = Some(b.into_bytes());
                }
                if !text.contains(':') || !text.is_ascii() {
                    self.skipped += used as u64;
                }
                self.pos += used;
                true
            }
        }
    }

    fn headers(&mut self, mut h: PartHeaders, out: &mut Vec<StreamItem>) -> bool {
        if matches!(self.rest().first(), Some(b'<' | b'{')) {
            // Body started without the blank line.
            self.state = State::Body(h, None);
            return true;
        }
        match self.line() {
            None => {
                self.state = State::Headers(h);
                false
            }
            Some(Err(())) => {
                out.push(StreamItem::Malformed {
                    reason: "part header line too long".into(),
                    len: MAX_LINE,
                });
                self.pos += MAX_LINE;
                true
            }
            Some(Ok((line, used))) => {
                if matches!(self.judge(line, true), Judge::Yes(_)) {
                    // Doubled boundary: start the part over.
                    self.pos += used;
                    self.state = State::Headers(PartHeaders {
                        framed: true,
                        ..PartHeaders::default()
                    });
                    return true;
                }
                let line = trim(line);
                if line.is_empty() {
                    self.pos += used;
                    self.state = State::Body(h, None);
                    return true;
                }
                let text = String::from_utf8_lossy(line).into_owned();
                self.pos += used;
                h.lines += 1;
                if h.lines > MAX_HEADER_LINES {
                    self.skipped += used as u64;
                    return true;
                }
                if let Some((name, value)) = text.split_once(':') {
                    let name = name.trim();
                    if name.eq_ignore_ascii_case("content-type") {
                        h.content_type = Some(value.trim().to_owned());
                    } else if name.eq_ignore_ascii_case("content-length") {
                        h.content_length = value.trim().parse().ok();
                    }
                }
                self.state = State::Headers(h);
                true
            }
        }
    }

    /// Offset of the first boundary line in `body`, judging only lines whose
    /// outcome is already decided (at EOF the last line counts as complete).
    fn find_boundary(&self, body: &[u8], eof: bool) -> Option<usize> {
        let mut line_start = 0;
        loop {
            let rest = &body[line_start..];
            let end = rest.iter().position(|&b| b == b'\n');
            let line = end.map_or(rest, |e| &rest[..e]);
            if let Judge::Yes(_) = self.judge(line, end.is_some() || eof) {
                return Some(line_start);
            }
            line_start += end? + 1;
        }
    }

    fn body(
        &mut self,
        h: PartHeaders,
        kind: Option<Kind>,
        out: &mut Vec<StreamItem>,
        eof: bool,
    ) -> bool {
        let kind = match kind {
            Some(k) => k,
            None => {
                let declared_binary = h.content_type.as_deref().is_some_and(|ct| {
                    let ct = ct.to_ascii_lowercase();
                    ct.starts_with("image/") || ct.contains("octet-stream")
                });
                if declared_binary {
                    Kind::Binary
                } else {
                    let ws = self
                        .rest()
                        .iter()
                        .take_while(|b| b.is_ascii_whitespace())
                        .count();
                    match self.rest().get(ws) {
                        Some(b'<') => {
                            self.pos += ws;
                            Kind::Xml
                        }
                        Some(b'{' | b'[') => {
                            self.pos += ws;
                            Kind::Json
                        }
                        Some(_) => Kind::Binary,
                        None => {
                            // Only blanks so far.
                            if eof {
                                self.pos += ws;
                                return false;
                            }
                            self.state = State::Body(h, None);
                            return false;
                        }
                    }
                }
            }
        };
        let rest = self.rest();
        match kind {
            Kind::Binary => {
                if let Some(n) = h.content_length {
                    if n > MAX_BINARY_PART_BYTES {
                        out.push(StreamItem::Malformed {
                            reason: format!("binary part of {n} bytes exceeds the limit"),
                            len: n,
                        });
                        self.state = State::Skip(n);
                        return true;
                    }
                    if rest.len() >= n {
                        let data = Bytes::copy_from_slice(&rest[..n]);
                        self.pos += n;
                        out.push(StreamItem::Attachment {
                            content_type: h.content_type,
                            data,
                        });
                        return true;
                    }
                    if eof {
                        out.push(StreamItem::Malformed {
                            reason: format!("stream ended inside a {n}-byte part"),
                            len: rest.len(),
                        });
                        self.pos = self.buf.len();
                        return false;
                    }
                    self.state = State::Body(h, Some(kind));
                    return false;
                }
                let limit = MAX_BINARY_PART_BYTES;
                let window = &rest[..rest.len().min(limit + 1)];
                match self.find_boundary(window, eof) {
                    Some(at) => {
                        let data = strip_line_end(&window[..at]);
                        let len = at;
                        if !trim(data).is_empty() {
                            out.push(StreamItem::Attachment {
                                content_type: h.content_type,
                                data: Bytes::copy_from_slice(data),
                            });
                        }
                        self.pos += len;
                        true
                    }
                    None if rest.len() > limit => {
                        out.push(StreamItem::Malformed {
                            reason: "binary part without boundary exceeds the limit".into(),
                            len: limit,
                        });
                        self.pos += limit;
                        true
                    }
                    None if eof => {
                        let data = Bytes::copy_from_slice(rest);
                        self.pos = self.buf.len();
                        if !trim(&data).is_empty() {
                            out.push(StreamItem::Attachment {
                                content_type: h.content_type,
                                data,
                            });
                        }
                        false
                    }
                    None => {
                        self.state = State::Body(h, Some(kind));
                        false
                    }
                }
            }
            Kind::Xml | Kind::Json => {
                let window = &rest[..rest.len().min(MAX_TEXT_PART_BYTES + 1)];
                let scan = if kind == Kind::Xml {
                    xml_document_end(window)
                } else {
                    json_document_end(window)
                };
                // A boundary before the document closes cuts it short.
                let cut = self.find_boundary(window, eof);
                if let Scan::Invalid(at) = scan
                    && !h.framed
                    && cut.is_none()
                    && !eof
                    && undecided_boundary_line(window, at)
                {
                    // The evidence against the document sits on a line that may yet
                    // turn out to be a boundary: wait for its end, so the answer does
                    // not depend on where the chunks were cut.
                    self.state = State::Body(h, Some(kind));
                    return false;
                }
                if let Scan::Invalid(at) = scan
                    && !h.framed
                    && cut.is_none_or(|c| c > at)
                {
                    // A bare "document" that is not one: skip a byte and look again.
                    // (A boundary before the evidence wins, whatever the chunking.)
                    self.pos += 1;
                    self.skipped += 1;
                    return true;
                }
                let end = match (scan, cut) {
                    (Scan::Complete(e), Some(c)) if c < e => Some(c),
                    (Scan::Complete(e), _) => Some(e),
                    (_, Some(c)) => Some(c),
                    (Scan::Invalid(_) | Scan::NeedMore, None) if eof => Some(window.len()),
                    (Scan::Invalid(_) | Scan::NeedMore, None)
                        if rest.len() > MAX_TEXT_PART_BYTES =>
                    {
                        out.push(StreamItem::Malformed {
                            reason: "document exceeds the size limit".into(),
                            len: MAX_TEXT_PART_BYTES,
                        });
                        self.pos += MAX_TEXT_PART_BYTES;
                        return true;
                    }
                    _ => None,
                };
                let Some(end) = end else {
                    self.state = State::Body(h, Some(kind));
                    return false;
                };
                let doc = &window[..end];
                if !trim(doc).is_empty() {
                    out.push(decode_document(doc, kind));
                }
                self.pos += end;
                !eof || self.pos < self.buf.len()
            }
        }
    }
}

/// Whether the line holding byte `at` is unfinished and could still be a boundary
/// line (it starts with `--`, or with `-` as far as it goes).
fn undecided_boundary_line(window: &[u8], at: usize) -> bool {
    let at = at.min(window.len());
    let start = window[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = &window[start..];
    let unfinished = !line.contains(&b'\n');
    let prefix = &line[..line.len().min(2)];
    unfinished && !prefix.is_empty() && b"--".starts_with(prefix)
}

fn strip_line_end(data: &[u8]) -> &[u8] {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    data.strip_suffix(b"\r").unwrap_or(data)
}

fn decode_document(doc: &[u8], kind: Kind) -> StreamItem {
    let parsed = match kind {
        Kind::Json => EventAlert::from_json(doc),
        _ => EventAlert::from_xml(doc),
    };
    match parsed {
        Ok(e) if e.is_heartbeat() => StreamItem::Heartbeat(Box::new(e)),
        Ok(e) => StreamItem::Event(Box::new(e)),
        Err(e) => StreamItem::Malformed {
            reason: describe(&e),
            len: doc.len(),
        },
    }
}

fn describe(e: &ParseError) -> String {
    e.to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    Complete(usize),
    NeedMore,
    /// Not a document; the evidence is at this offset.
    Invalid(usize),
}

/// Where the root element of an XML document closes, counting nested
/// same-name elements; prolog, comments and doctype are skipped.
fn xml_document_end(b: &[u8]) -> Scan {
    let mut i = 0;
    // Prolog.
    let (name, after_start) = loop {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if i >= b.len() {
            return Scan::NeedMore;
        }
        if b[i] != b'<' {
            return Scan::Invalid(i);
        }
        let rest = &b[i..];
        if rest.len() < 2 {
            return Scan::NeedMore;
        }
        let (skip_to, closer): (usize, &[u8]) = if rest.starts_with(b"<?") {
            (2, b"?>")
        } else if rest.starts_with(b"<!--") {
            (4, b"-->")
        } else if rest.starts_with(b"<!") {
            (2, b">")
        } else if rest.len() < 4 && (b"<!--".starts_with(rest)) {
            return Scan::NeedMore;
        } else {
            match start_tag(b, i) {
                TagScan::Open { name, end } => break (name, end),
                TagScan::SelfClosed { end } => return Scan::Complete(end),
                TagScan::NeedMore => return Scan::NeedMore,
                TagScan::Invalid => return Scan::Invalid(i + 1),
            }
        };
        match find(&rest[skip_to..], closer) {
            Some(p) => i += skip_to + p + closer.len(),
            None => return Scan::NeedMore,
        }
    };
    let mut depth = 1usize;
    let mut i = after_start;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        i += off;
        let rest = &b[i..];
        if rest.len() < 2 + name.len() {
            return Scan::NeedMore;
        }
        if rest.starts_with(b"</") && rest[2..].starts_with(name) {
            let mut j = i + 2 + name.len();
            while b.get(j).is_some_and(u8::is_ascii_whitespace) {
                j += 1;
            }
            match b.get(j) {
                None => return Scan::NeedMore,
                Some(b'>') => {
                    depth -= 1;
                    if depth == 0 {
                        return Scan::Complete(j + 1);
                    }
                    i = j + 1;
                    continue;
                }
                Some(_) => {
                    i += 1;
                    continue;
                }
            }
        }
        if rest.starts_with(b"<!--") {
            match find(&rest[4..], b"-->") {
                Some(p) => {
                    i += 4 + p + 3;
                    continue;
                }
                None => return Scan::NeedMore,
            }
        }
        if rest[1..].starts_with(name) {
            match start_tag(b, i) {
                TagScan::Open { name: n, end } if n == name => {
                    depth += 1;
                    i = end;
                    continue;
                }
                TagScan::NeedMore => return Scan::NeedMore,
                TagScan::Open { end, .. } | TagScan::SelfClosed { end } => {
                    i = end;
                    continue;
                }
                TagScan::Invalid => {}
            }
        }
        i += 1;
    }
    Scan::NeedMore
}

enum TagScan<'a> {
    Open { name: &'a [u8], end: usize },
    SelfClosed { end: usize },
    NeedMore,
    Invalid,
}

/// Reads the start tag at `b[i] == '<'`, honouring quoted attribute values.
fn start_tag(b: &[u8], i: usize) -> TagScan<'_> {
    let name_start = i + 1;
    let mut j = name_start;
    while b
        .get(j)
        .is_some_and(|&c| !c.is_ascii_whitespace() && c != b'>' && c != b'/')
    {
        j += 1;
    }
    if j >= b.len() {
        return TagScan::NeedMore;
    }
    if j == name_start {
        return TagScan::Invalid;
    }
    let name = &b[name_start..j];
    let mut quote: Option<u8> = None;
    while let Some(&c) = b.get(j) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => {
                return if b[j - 1] == b'/' {
                    TagScan::SelfClosed { end: j + 1 }
                } else {
                    TagScan::Open { name, end: j + 1 }
                };
            }
            None => {}
        }
        j += 1;
    }
    TagScan::NeedMore
}

/// Where a JSON value starting at the first byte closes (string-aware).
fn json_document_end(b: &[u8]) -> Scan {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &c) in b.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return Scan::Invalid(i);
                }
                depth -= 1;
                if depth == 0 {
                    return Scan::Complete(i + 1);
                }
            }
            _ if depth == 0 && !c.is_ascii_whitespace() => return Scan::Invalid(i),
            _ => {}
        }
    }
    Scan::NeedMore
}

/// Decodes a complete stream held in memory (convenience for tests and pushes).
pub fn decode_all(content_type: Option<&str>, bytes: &[u8]) -> Vec<StreamItem> {
    let mut d = AlertStreamDecoder::from_content_type(content_type);
    let mut items = d.push(bytes);
    items.extend(d.finish());
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = "<EventNotificationAlert version=\"2.0\" xmlns=\"http://www.hikvision.com/ver20/XMLSchema\">\r\n<channelID>1</channelID>\r\n<activePostCount>1</activePostCount>\r\n<eventType>VMD</eventType>\r\n<eventState>active</eventState>\r\n</EventNotificationAlert>\r\n";
    const BEAT: &str = "<EventNotificationAlert><channelID>1</channelID><activePostCount>0</activePostCount><eventType>videoloss</eventType><eventState>inactive</eventState></EventNotificationAlert>";

    fn part(boundary: &str, body: &str) -> String {
        format!(
            "--{boundary}\r\nContent-Type: application/xml; charset=\"UTF-8\"\r\nContent-Length: {}\r\n\r\n{body}\r\n",
            body.len()
        )
    }

    fn kinds(items: &[StreamItem]) -> Vec<&'static str> {
        items
            .iter()
            .map(|i| match i {
                StreamItem::Event(_) => "event",
                StreamItem::Heartbeat(_) => "heartbeat",
                StreamItem::Attachment { .. } => "attachment",
                StreamItem::Malformed { .. } => "malformed",
            })
            .collect()
    }

    #[test]
    fn events_are_delivered_without_waiting_for_the_next_boundary() {
        let mut d = AlertStreamDecoder::with_boundary("boundary");
        let items = d.push(part("boundary", EVENT).as_bytes());
        assert_eq!(kinds(&items), ["event"]);
    }

    #[test]
    fn heartbeats_doubled_boundaries_garbage_and_jpeg() {
        let jpeg = b"\xFF\xD8\xFF\xE0--not-a-boundary\r\n\xFF\xD9";
        let mut s = Vec::new();
        s.extend_from_slice(b"garbage line\r\n\x00\x01\x02\r\n");
        s.extend_from_slice(part("hikboundary", BEAT).as_bytes());
        s.extend_from_slice(b"--hikboundary\r\n");
        s.extend_from_slice(part("hikboundary", EVENT).as_bytes());
        s.extend_from_slice(
            format!(
                "--hikboundary\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                jpeg.len()
            )
            .as_bytes(),
        );
        s.extend_from_slice(jpeg);
        s.extend_from_slice(b"\r\n");
        s.extend_from_slice(part("hikboundary", "<EventNotificationAlert><broken>").as_bytes());
        s.extend_from_slice(part("hikboundary", EVENT).as_bytes());
        let items = decode_all(Some("multipart/mixed; boundary=hikboundary"), &s);
        assert_eq!(
            kinds(&items),
            ["heartbeat", "event", "attachment", "malformed", "event"]
        );
        let StreamItem::Attachment { data, content_type } = &items[2] else {
            panic!("attachment expected");
        };
        assert_eq!(data.as_ref(), jpeg);
        assert_eq!(content_type.as_deref(), Some("image/jpeg"));
    }

    #[test]
    fn raw_documents_without_multipart() {
        let s = format!(
            "{EVENT}{EVENT}{{\"eventType\":\"cidEvent\",\"eventState\":\"active\",\"CIDEvent\":{{\"code\":1759}}}}"
        );
        let items = decode_all(None, s.as_bytes());
        assert_eq!(kinds(&items), ["event", "event", "event"]);
    }

    #[test]
    fn boundary_learnt_from_stray_http_headers() {
        let s = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=MIME_boundary\r\n\r\n{}",
            part("MIME_boundary", EVENT)
        );
        let items = decode_all(None, s.as_bytes());
        assert_eq!(kinds(&items), ["event"]);
    }

    #[test]
    fn every_split_point_gives_the_same_items() {
        let mut s = part("b", EVENT);
        s.push_str(&part("b", BEAT));
        s.push_str("--b\r\nContent-Type: application/json\r\n\r\n{\"eventType\":\"AccessControllerEvent\",\"AccessControllerEvent\":{\"majorEventType\":5,\"subEventType\":75}}\r\n--b--\r\n");
        let whole = decode_all(None, s.as_bytes());
        assert_eq!(kinds(&whole), ["event", "heartbeat", "event"]);
        for split in 0..s.len() {
            let mut d = AlertStreamDecoder::new();
            let mut items = d.push(&s.as_bytes()[..split]);
            items.extend(d.push(&s.as_bytes()[split..]));
            items.extend(d.finish());
            assert_eq!(items, whole, "split at {split}");
        }
    }

    #[test]
    fn truncated_stream_end_is_reported() {
        let items = decode_all(
            None,
            b"--b\r\nContent-Type: application/xml\r\n\r\n<EventNotificationAlert><eventType>VMD",
        );
        assert_eq!(kinds(&items), ["malformed"]);
    }

    #[test]
    fn boundary_parameter() {
        assert_eq!(
            boundary_from_content_type("multipart/mixed; boundary=\"MIME_boundary\""),
            Some("MIME_boundary".into())
        );
        assert_eq!(boundary_from_content_type("application/xml"), None);
    }
}
