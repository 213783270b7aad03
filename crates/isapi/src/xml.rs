//! A small, tolerant XML element tree keyed by local names.
//!
//! Devices mix and omit namespaces freely (isapi.md §0 rule 1), so the tree keeps
//! only local names for elements and attributes. Typed models are built from this
//! tree with the accessors below instead of strict serde derives.

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

use crate::error::ParseError;
use crate::value;

/// Deepest nesting accepted; real documents stay under 10 levels.
pub const MAX_DEPTH: usize = 128;

/// One XML element: local name, attributes (local names), direct text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
}

/// Capability hints carried as attributes (`opt`, `min`, `max`, `def`, `size`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Capability {
    /// Allowed values listed in `opt="a,b,c"`.
    pub options: Vec<String>,
    /// Lower bound from `min`.
    pub min: Option<String>,
    /// Upper bound from `max`.
    pub max: Option<String>,
    /// Default from `def`.
    pub default: Option<String>,
    /// Maximum list size from `size`.
    pub size: Option<String>,
}

impl Capability {
    /// True when no capability attribute was present.
    pub fn is_empty(&self) -> bool {
        self.options.is_empty()
            && self.min.is_none()
            && self.max.is_none()
            && self.default.is_none()
            && self.size.is_none()
    }
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

impl Element {
    /// Builds an element by hand (used by tests and writers).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Parses a whole document and returns its root element.
    ///
    /// Accepts a UTF-8 BOM, invalid UTF-8 (replaced), any namespaces, mismatched
    /// end tag names and trailing bytes after the root. Rejects empty input,
    /// truncated documents and nesting deeper than [`MAX_DEPTH`].
    pub fn parse(bytes: &[u8]) -> Result<Element, ParseError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = String::from_utf8_lossy(bytes);
        if text.trim().is_empty() {
            return Err(ParseError::Empty);
        }
        let mut reader = Reader::from_str(&text);
        let config = reader.config_mut();
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        config.allow_dangling_amp = true;
        config.check_comments = false;

        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        loop {
            let event = reader
                .read_event()
                .map_err(|e| ParseError::Xml(format!("{e} at byte {}", reader.error_position())))?;
            match event {
                Event::Start(start) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(ParseError::TooDeep(MAX_DEPTH));
                    }
                    stack.push(element_from_start(&start));
                }
                Event::Empty(start) => {
                    let element = element_from_start(&start);
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => {
                            root = Some(element);
                            break;
                        }
                    }
                }
                Event::End(_) => {
                    let Some(done) = stack.pop() else {
                        continue;
                    };
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => {
                            root = Some(done);
                            break;
                        }
                    }
                }
                Event::Text(t) => {
                    if let Some(current) = stack.last_mut() {
                        current
                            .text
                            .push_str(&t.xml_content(XmlVersion::Implicit1_0));
                    }
                }
                Event::CData(c) => {
                    if let Some(current) = stack.last_mut() {
                        current.text.push_str(&c.into_inner());
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(current) = stack.last_mut() {
                        if r.is_char_ref() {
                            if let Ok(Some(c)) = r.resolve_char_ref() {
                                current.text.push(c);
                            }
                        } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r) {
                            current.text.push_str(s);
                        } else {
                            // Unknown entity: keep it verbatim rather than lose data.
                            current.text.push('&');
                            current.text.push_str(&r);
                            current.text.push(';');
                        }
                    }
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Eof => break,
            }
        }
        match root {
            Some(root) => Ok(root),
            None if stack.is_empty() => Err(ParseError::Xml("no root element".into())),
            None => Err(ParseError::Xml(format!(
                "truncated document: <{}> never closed",
                stack.last().map_or("", |e| e.name.as_str())
            ))),
        }
    }

    /// Local name of the element (namespace prefix removed).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True when the local name matches, ignoring ASCII case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// Direct text content, trimmed.
    pub fn text(&self) -> &str {
        self.text.trim()
    }

    /// Direct text content exactly as sent.
    pub fn raw_text(&self) -> &str {
        &self.text
    }

    /// Trimmed text, or `None` when empty.
    pub fn non_empty_text(&self) -> Option<&str> {
        Some(self.text()).filter(|t| !t.is_empty())
    }

    /// Attribute value by local name (case-insensitive).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All attributes as (local name, value).
    pub fn attributes(&self) -> &[(String, String)] {
        &self.attributes
    }

    /// All child elements in document order.
    pub fn children(&self) -> &[Element] {
        &self.children
    }

    /// First child with this local name (case-insensitive).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(name))
    }

    /// All children with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(name))
    }

    /// Follows a path of child names, taking the first match at each step.
    pub fn path(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |e, name| e.child(name))
    }

    /// First descendant (depth-first, excluding self) with this local name.
    pub fn descendant(&self, name: &str) -> Option<&Element> {
        for c in &self.children {
            if c.is(name) {
                return Some(c);
            }
            if let Some(found) = c.descendant(name) {
                return Some(found);
            }
        }
        None
    }

    /// Every descendant (depth-first, excluding self) with this local name.
    pub fn descendants_named<'a>(&'a self, name: &str) -> Vec<&'a Element> {
        let mut out = Vec::new();
        self.collect_named(name, &mut out);
        out
    }

    fn collect_named<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        for c in &self.children {
            if c.is(name) {
                out.push(c);
            }
            c.collect_named(name, out);
        }
    }

    /// Number of elements in this subtree, self included.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(Element::count).sum::<usize>()
    }

    /// Trimmed, non-empty text of the first child with this name.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).and_then(Element::non_empty_text)
    }

    /// Owned version of [`Element::text_of`].
    pub fn string_of(&self, name: &str) -> Option<String> {
        self.text_of(name).map(str::to_owned)
    }

    /// Texts of every child with this name (repeated scalar elements).
    pub fn strings_of(&self, name: &str) -> Vec<String> {
        self.children_named(name)
            .filter_map(Element::non_empty_text)
            .map(str::to_owned)
            .collect()
    }

    /// Child text as an unsigned integer (trimmed; `"12.0"` accepted).
    pub fn u64_of(&self, name: &str) -> Option<u64> {
        self.text_of(name).and_then(value::parse_u64)
    }

    /// Child text as `u32`.
    pub fn u32_of(&self, name: &str) -> Option<u32> {
        self.u64_of(name).and_then(|v| u32::try_from(v).ok())
    }

    /// Child text as a signed integer.
    pub fn i64_of(&self, name: &str) -> Option<i64> {
        self.text_of(name).and_then(value::parse_i64)
    }

    /// Child text as a float.
    pub fn f64_of(&self, name: &str) -> Option<f64> {
        self.text_of(name).and_then(value::parse_f64)
    }

    /// Child text as a boolean (`true/false`, `1/0`, `yes/no`, …).
    pub fn bool_of(&self, name: &str) -> Option<bool> {
        self.text_of(name).and_then(value::parse_bool)
    }

    /// Capability attributes of this element.
    pub fn capability(&self) -> Capability {
        Capability {
            options: self
                .attr("opt")
                .map(|o| {
                    o.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            min: self.attr("min").map(str::to_owned),
            max: self.attr("max").map(str::to_owned),
            default: self.attr("def").map(str::to_owned),
            size: self.attr("size").map(str::to_owned),
        }
    }

    /// Appends a child (builder style).
    pub fn with_child(mut self, child: Element) -> Self {
        self.children.push(child);
        self
    }

    /// Sets the text (builder style).
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    /// Serialises the element without namespaces (for request bodies).
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attributes {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            out.push_str(&escape(v));
            out.push('"');
        }
        out.push('>');
        out.push_str(&escape(&self.text));
        for c in &self.children {
            c.write(out);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// Escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

fn element_from_start(start: &quick_xml::events::BytesStart<'_>) -> Element {
    let name = local(start.name().into_inner()).to_owned();
    let mut attributes = Vec::new();
    let mut attrs = start.attributes();
    attrs.with_checks(false);
    for attr in attrs.flatten() {
        let key = attr.key.into_inner();
        // Namespace declarations are noise for our purposes.
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| attr.value.clone().into_owned());
        attributes.push((local(key).to_owned(), value));
    }
    Element {
        name,
        attributes,
        text: String::new(),
        children: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names_and_mixed_namespaces() {
        let doc = br#"<?xml version="1.0"?>
<a:storage xmlns:a="urn:x" xmlns="http://www.hikvision.com/ver20/XMLSchema">
 <hddList xmlns="http://www.hikvision.com/ver10/XMLSchema" size="8"><hdd><id> 1 </id></hdd></hddList>
 <workMode opt="group, quota">quota</workMode>
</a:storage>"#;
        let root = Element::parse(doc).expect("parses");
        assert_eq!(root.name(), "storage");
        assert_eq!(
            root.path(&["hddList", "hdd", "id"]).map(Element::text),
            Some("1")
        );
        assert_eq!(
            root.child("hddlist").and_then(|e| e.attr("size")),
            Some("8")
        );
        let cap = root
            .child("workMode")
            .map(Element::capability)
            .unwrap_or_default();
        assert_eq!(cap.options, vec!["group", "quota"]);
        assert!(
            root.child("hddList")
                .and_then(|h| h.attr("xmlns"))
                .is_none()
        );
    }

    #[test]
    fn entities_cdata_and_empty_elements() {
        let doc = b"<r><a>x &amp;&amp; y &#65;</a><b/><c></c><d><![CDATA[<raw>]]></d></r>";
        let root = Element::parse(doc).expect("parses");
        assert_eq!(root.text_of("a"), Some("x && y A"));
        assert_eq!(root.text_of("b"), None);
        assert_eq!(root.text_of("c"), None);
        assert_eq!(root.text_of("d"), Some("<raw>"));
    }

    #[test]
    fn rejects_truncated_empty_and_deep() {
        assert!(matches!(Element::parse(b""), Err(ParseError::Empty)));
        assert!(matches!(Element::parse(b"  \r\n"), Err(ParseError::Empty)));
        assert!(Element::parse(b"<a><b>1</b>").is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            Element::parse(deep.as_bytes()),
            Err(ParseError::TooDeep(_))
        ));
    }

    #[test]
    fn tolerates_mismatched_end_and_trailing_garbage() {
        let root = Element::parse(b"<a><b>1</B></a>\r\n--boundary").expect("parses");
        assert_eq!(root.u32_of("b"), Some(1));
    }

    #[test]
    fn writes_escaped_xml() {
        let e =
            Element::new("SessionLogin").with_child(Element::new("userName").with_text("a<b&c"));
        let xml = e.to_xml();
        assert!(xml.contains("<userName>a&lt;b&amp;c</userName>"));
        let back = Element::parse(xml.as_bytes()).expect("round trip");
        assert_eq!(back.text_of("userName"), Some("a<b&c"));
    }
}
