//! A small YAML document tree for `pnpm-lock.yaml` and yarn berry's `yarn.lock`, built from
//! yaml-rust2's event parser: scalars stay text (no type guessing), anchors and aliases are
//! refused (lockfiles never write them; expanding them is how a small file becomes a huge
//! tree), nesting is capped, and each mapping key keeps its line for error messages.

use std::collections::HashSet;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Deepest nesting accepted. Lockfiles nest about four levels; the cap bounds the tree.
pub const MAX_YAML_DEPTH: usize = 32;

/// One YAML node. Mapping entries keep their order and the 1-based line of their key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<MapEntry>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MapEntry {
    pub key: String,
    pub line: usize,
    pub value: Node,
}

impl Node {
    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    /// The text of a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text under `key`, if it is a scalar.
    pub fn str_at(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Node::Scalar(_) => "a scalar",
            Node::Seq(_) => "a sequence",
            Node::Map(_) => "a mapping",
        }
    }
}

/// Parses one YAML document. Errors are problem texts with a line number.
pub(crate) fn parse(text: &str) -> Result<Node, String> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser
        .load(&mut builder, false)
        .map_err(|e| format!("invalid YAML: {e}"))?;
    if let Some(e) = builder.error {
        return Err(e);
    }
    builder
        .root
        .ok_or_else(|| "an empty YAML document".to_string())
}

enum Frame {
    Seq(Vec<Node>),
    /// Entries so far, their keys (duplicate check) and the key (with its line) waiting for
    /// its value.
    Map(Vec<MapEntry>, HashSet<String>, Option<(String, usize)>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    error: Option<String>,
}

impl Builder {
    fn fail(&mut self, line: usize, problem: &str) {
        if self.error.is_none() {
            self.error = Some(format!("line {line}: {problem}"));
        }
    }

    /// Places a finished node into its parent (or as the root).
    fn push_node(&mut self, node: Node, line: usize) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq(items)) => items.push(node),
            Some(Frame::Map(entries, keys, pending)) => match pending.take() {
                Some((key, key_line)) => entries.push(MapEntry {
                    key,
                    line: key_line,
                    value: node,
                }),
                None => match node {
                    Node::Scalar(key) => {
                        if keys.insert(key.clone()) {
                            *pending = Some((key, line));
                        } else {
                            let problem = format!("duplicate key {key:?}");
                            self.fail(line, &problem);
                        }
                    }
                    _ => self.fail(line, "a mapping key that is not a scalar"),
                },
            },
        }
    }

    fn open(&mut self, frame: Frame, line: usize) {
        if self.stack.len() >= MAX_YAML_DEPTH {
            self.fail(
                line,
                &format!("nested deeper than the cap of {MAX_YAML_DEPTH} levels"),
            );
            return;
        }
        self.stack.push(frame);
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = mark.line();
        match ev {
            Event::Alias(_) => self.fail(line, "YAML aliases are not accepted in a lockfile"),
            Event::Scalar(_, _, anchor, _) | Event::SequenceStart(anchor, _) if anchor != 0 => {
                self.fail(line, "YAML anchors are not accepted in a lockfile")
            }
            Event::Scalar(text, ..) => self.push_node(Node::Scalar(text), line),
            Event::SequenceStart(..) => self.open(Frame::Seq(Vec::new()), line),
            Event::MappingStart(anchor, _) => {
                if anchor != 0 {
                    self.fail(line, "YAML anchors are not accepted in a lockfile");
                    return;
                }
                self.open(Frame::Map(Vec::new(), HashSet::new(), None), line)
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(items)) => self.push_node(Node::Seq(items), line),
                Some(Frame::Map(entries, ..)) => self.push_node(Node::Map(entries), line),
                None => self.fail(line, "unbalanced YAML structure"),
            },
            Event::DocumentStart if self.root.is_some() => {
                self.fail(line, "more than one YAML document")
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_maps_sequences_and_lines() {
        let doc = parse("a: '9.0'\nb:\n  c: {integrity: x}\n  d: [1, two]\n").unwrap();
        assert_eq!(doc.str_at("a"), Some("9.0"));
        let b = doc.get("b").unwrap();
        assert_eq!(b.get("c").unwrap().str_at("integrity"), Some("x"));
        assert_eq!(
            b.get("d"),
            Some(&Node::Seq(vec![
                Node::Scalar("1".into()),
                Node::Scalar("two".into())
            ]))
        );
        match b {
            Node::Map(entries) => assert_eq!(entries[1].line, 4),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refuses_aliases_anchors_duplicates_and_depth() {
        let e = parse("a: &x {b: 1}\nc: *x\n").unwrap_err();
        assert!(e.contains("anchors"), "{e}");
        let e = parse("a: &x 1\nc: 2\n").unwrap_err();
        assert!(e.contains("anchors"), "{e}");
        let e = parse("a: 1\na: 2\n").unwrap_err();
        assert!(e.contains("duplicate key \"a\""), "{e}");
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        let e = parse(&deep).unwrap_err();
        assert!(e.contains("cap of 32 levels"), "{e}");
        let at = format!("{}1{}", "[".repeat(31), "]".repeat(31));
        assert!(parse(&at).is_ok());
        assert!(parse("a: [1").unwrap_err().contains("invalid YAML"));
        assert!(parse("").unwrap_err().contains("empty"));
    }
}
