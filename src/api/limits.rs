//! Query safety (OWASP GraphQL cheat sheet): how deep, how costly, how many
//! aliases and how many operations a request may carry, and how long it may
//! run. Depth and cost are enforced by async-graphql's validation (one
//! schema per role, see [`super::graphql::schema_with`]); aliases and batches
//! are counted here, before anything is executed.

use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::domain::access::Role;

/// The limits a server applies; every one has a flag and an environment variable.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deepest selection (fields inside fields) of any operation.
    pub max_depth: usize,
    /// Largest cost for the directorate's roles (admin, coordinator, analyst).
    pub max_cost_staff: usize,
    /// Largest cost for a partner portal.
    pub max_cost_partner: usize,
    /// Largest cost for anonymous readers.
    pub max_cost_anonymous: usize,
    /// Most aliased fields in one document.
    pub max_aliases: usize,
    /// Most operations in one batched request (a JSON array).
    pub max_batch: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest time a request may take before it is abandoned.
    pub timeout: Duration,
    /// Most operations executing at once; the others wait their turn, first
    /// come first served (`0`: no limit). See [`default_max_running`].
    pub max_running: usize,
    /// Most lexical tokens in a query text, per role (staff, partner,
    /// anonymous): counted before anything is parsed, so a huge document is
    /// refused before it is built.
    pub max_tokens: [usize; 3],
    /// Most fields an operation selects, fragments expanded, per role.
    pub max_fields: [usize; 3],
    /// An operation weighing more than this ([`weight`]) is heavy: it runs
    /// only in one of the [`Limits::max_running_heavy`] turns kept for
    /// heavy ones (`0`: no heavy lane).
    pub heavy_weight: usize,
    /// Heavy operations executing at once; the others wait among
    /// themselves, never holding a turn that light ones need.
    pub max_running_heavy: usize,
}

/// Operations run at once by default: four per core.
///
/// Every admitted operation shares the cores with every other: thirty-two
/// at once on two cores each take sixteen times as long as alone, and the
/// unlucky ones (descheduled mid-statement, behind a large answer) much
/// longer. Admitting a few per core and queueing the rest in arrival order
/// keeps the same throughput while each runs nearly alone, so latencies
/// are about the same for everyone instead of a long tail. Four per core
/// leave room for operations waiting on the database.
pub fn default_max_running() -> usize {
    4 * std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 16,
            max_cost_staff: 500_000,
            max_cost_partner: 100_000,
            max_cost_anonymous: 50_000,
            max_aliases: 50,
            max_batch: 10,
            max_body_bytes: 1 << 20,
            timeout: Duration::from_secs(15),
            max_running: default_max_running(),
            max_tokens: [20_000, 10_000, 5_000],
            max_fields: [5_000, 2_000, 1_000],
            heavy_weight: 5_000,
            max_running_heavy: default_max_running_heavy(),
        }
    }
}

/// Heavy operations run at once by default: one per two cores, at least
/// one. A flood of the costliest queries the limits admit then takes at
/// most half the cores, and the small requests keep the rest (issue
/// "Identity and size": eight clients of a 100 ms query had cut a normal
/// load to 2 % of its rate, every turn held by one of them).
pub fn default_max_running_heavy() -> usize {
    (std::thread::available_parallelism().map_or(2, |n| n.get()) / 2).max(1)
}

/// What an operation weighs, as the cost limit counts it but before any
/// validation: each field 1, times the page it asks (`first` or `last`,
/// literal or variable) for what it selects, fragments expanded. A list
/// without a page argument counts as a page of one: the weight is a floor
/// of the cost, cheap enough to take for every request.
pub fn weight(doc: &ExecutableDocument, variables: &async_graphql::Variables) -> usize {
    use async_graphql::Value as V;
    use async_graphql::parser::types::Field;
    fn page(f: &Field, variables: &async_graphql::Variables) -> usize {
        f.arguments
            .iter()
            .find(|(n, _)| matches!(n.node.as_str(), "first" | "last"))
            .and_then(|(_, v)| {
                match v
                    .node
                    .clone()
                    .into_const_with(|name| variables.get(&name).cloned().ok_or(()))
                {
                    Ok(V::Number(n)) => n.as_u64(),
                    _ => None,
                }
            })
            .map_or(1, |n| n.min(usize::MAX as u64) as usize)
            .max(1)
    }
    fn walk(set: &SelectionSet, doc: &ExecutableDocument, variables: &async_graphql::Variables, depth: usize) -> usize {
        if depth > 64 {
            return 0;
        }
        set.items.iter().fold(0usize, |acc, s| {
            acc.saturating_add(match &s.node {
                Selection::Field(f) => {
                    let inner = walk(&f.node.selection_set.node, doc, variables, depth + 1);
                    1usize.saturating_add(page(&f.node, variables).saturating_mul(inner))
                }
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node, doc, variables, depth + 1),
                Selection::FragmentSpread(f) => doc
                    .fragments
                    .get(&f.node.fragment_name.node)
                    .map_or(0, |d| walk(&d.node.selection_set.node, doc, variables, depth + 1)),
            })
        })
    }
    doc.operations.iter().fold(0usize, |acc, (_, op)| {
        acc.saturating_add(walk(&op.node.selection_set.node, doc, variables, 0))
    })
}

impl Limits {
    /// The cost limit of a role. A list field costs its page size times what
    /// it selects, so `partners(first: 100) { networks(first: 100) { … } }`
    /// costs about 10 000.
    pub fn max_cost(&self, role: Role) -> usize {
        match role {
            Role::Admin | Role::Coordinator | Role::Analyst => self.max_cost_staff,
            Role::Partner => self.max_cost_partner,
            Role::Anonymous => self.max_cost_anonymous,
        }
    }

    /// The token limit of a role.
    pub fn max_tokens(&self, role: Role) -> usize {
        self.max_tokens[tier(role)]
    }

    /// The field limit of a role.
    pub fn max_fields(&self, role: Role) -> usize {
        self.max_fields[tier(role)]
    }
}

fn tier(role: Role) -> usize {
    match role {
        Role::Admin | Role::Coordinator | Role::Analyst => 0,
        Role::Partner => 1,
        Role::Anonymous => 2,
    }
}

/// The longest name (of a field, argument, type, variable…) a query may
/// hold. The schema's longest is under 40; async-graphql compares unknown
/// names with every known one for its suggestions, at a cost proportional
/// to their length.
pub const MAX_NAME: usize = 128;

/// Why a query text is refused before it is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextRefusal {
    Tokens(usize),
    Name,
}

/// Counts the lexical tokens of a GraphQL document (punctuators, names,
/// numbers, strings; blanks, commas and comments are none), stopping as
/// soon as there are more than `max`, or at a name longer than
/// [`MAX_NAME`]. One pass over the bytes, nothing allocated: what makes a
/// megabyte of `id id id …` cost a millisecond to refuse instead of the
/// parser's hundreds of milliseconds and megabytes. Malformed text is left
/// to the parser (counted as best it can be).
pub fn count_tokens(text: &str, max: usize) -> Result<usize, TextRefusal> {
    let b = text.as_bytes();
    let (mut i, mut n) = (0, 0usize);
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            0xEF if b[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => {
                i += 3;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                    i += if b[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'.' if b[i..].starts_with(b"...") => i += 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                let start = i;
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                if i - start > MAX_NAME {
                    return Err(TextRefusal::Name);
                }
            }
            b'-' | b'0'..=b'9' => {
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'.' | b'+' | b'-')) {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        n += 1;
        if n > max {
            return Err(TextRefusal::Tokens(max));
        }
    }
    Ok(n)
}

/// How many fields a document's operations select, each fragment counted
/// as often as it is spread (so a fragment spread a thousand times counts a
/// thousand times), saturating: a spread of spreads cannot overflow.
pub fn count_fields(doc: &ExecutableDocument) -> usize {
    use std::collections::HashMap;
    fn walk(
        set: &SelectionSet,
        doc: &ExecutableDocument,
        memo: &mut HashMap<String, usize>,
        open: &mut Vec<String>,
    ) -> usize {
        set.items.iter().fold(0usize, |acc, s| {
            acc.saturating_add(match &s.node {
                Selection::Field(f) => 1usize.saturating_add(walk(&f.node.selection_set.node, doc, memo, open)),
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node, doc, memo, open),
                Selection::FragmentSpread(f) => {
                    let name = f.node.fragment_name.node.to_string();
                    if let Some(n) = memo.get(&name) {
                        *n
                    } else if open.contains(&name) {
                        // A cycle: validation refuses it anyway.
                        0
                    } else if let Some(def) = doc.fragments.get(&f.node.fragment_name.node) {
                        open.push(name.clone());
                        let n = walk(&def.node.selection_set.node, doc, memo, open);
                        open.pop();
                        memo.insert(name, n);
                        n
                    } else {
                        0
                    }
                }
            })
        })
    }
    let mut memo = HashMap::new();
    doc.operations.iter().fold(0usize, |acc, (_, op)| {
        acc.saturating_add(walk(&op.node.selection_set.node, doc, &mut memo, &mut vec![]))
    })
}

/// How many fields of a document carry an alias (operations and fragments).
pub fn count_aliases(doc: &ExecutableDocument) -> usize {
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => usize::from(f.node.alias.is_some()) + walk(&f.node.selection_set.node),
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    doc.operations
        .iter()
        .map(|(_, op)| walk(&op.node.selection_set.node))
        .sum::<usize>()
        + doc
            .fragments
            .values()
            .map(|f| walk(&f.node.selection_set.node))
            .sum::<usize>()
}

/// Whether a document asks for the schema (`__schema` or `__type`;
/// `__typename` is no introspection).
pub fn asks_introspection(doc: &ExecutableDocument) -> bool {
    fn walk(set: &SelectionSet) -> bool {
        set.items.iter().any(|s| match &s.node {
            Selection::Field(f) => {
                matches!(f.node.name.node.as_str(), "__schema" | "__type") || walk(&f.node.selection_set.node)
            }
            Selection::InlineFragment(f) => walk(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => false,
        })
    }
    doc.operations.iter().any(|(_, op)| walk(&op.node.selection_set.node))
        || doc.fragments.values().any(|f| walk(&f.node.selection_set.node))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tokens_as_the_lexer_sees_them() {
        let q = "query Q($a: Int = -1.5e3) { # a comment, not tokens\n  a: partners(first: $a, s: \"x, y \\\" z\") { ...F } }";
        // query Q ( $ a : Int = -1.5e3 ) { a : partners ( first : $ a s : "…" ) { ... F } }
        assert_eq!(count_tokens(q, 100), Ok(28));
        assert_eq!(count_tokens(q, 27), Err(TextRefusal::Tokens(27)));
        assert_eq!(
            count_tokens("{ x(d: \"\"\"block \\\"\"\" \"quoted\" \"\"\") }", 100),
            Ok(8)
        );
        assert_eq!(
            count_tokens(&format!("{{ {} }}", "n".repeat(MAX_NAME + 1)), 100),
            Err(TextRefusal::Name)
        );
        assert_eq!(count_tokens(&format!("{{ {} }}", "n".repeat(MAX_NAME)), 100), Ok(3));
    }

    #[test]
    fn weighs_pages_times_what_they_select() {
        let doc = async_graphql::parser::parse_query(
            "query($n: Int) { a: partners(first: 100) { nodes { id name } } b: networks(first: $n) { nodes { ...F } } } fragment F on Network { id }",
        )
        .unwrap();
        let none = async_graphql::Variables::default();
        // a: 1 + 100 × (nodes: 1 + 2); b: 1 + 1 × (nodes: 1 + 1)
        assert_eq!(weight(&doc, &none), 301 + 3);
        let vars = async_graphql::Variables::from_json(serde_json::json!({"n": 10}));
        assert_eq!(weight(&doc, &vars), 301 + 21);
    }

    #[test]
    fn counts_fields_with_fragments_expanded() {
        let doc = async_graphql::parser::parse_query(
            "{ a: partners { ...F } b: partners { ...F nodes { id } } } fragment F on PartnerConnection { totalCount pageInfo { hasNextPage } }",
        )
        .unwrap();
        // a, b (2) + F twice (3 each) + nodes, id (2)
        assert_eq!(count_fields(&doc), 10);
        // Spreads of spreads saturate rather than overflow.
        let mut text = String::from("{ ...F0 } fragment F0 on QueryRoot { a: __typename }");
        for i in 1..80 {
            text.push_str(&format!(" fragment F{i} on QueryRoot {{ ...F{p} ...F{p} }}", p = i - 1));
        }
        text = text.replace("{ ...F0 }", "{ ...F79 }");
        let doc = async_graphql::parser::parse_query(&text).unwrap();
        assert_eq!(count_fields(&doc), usize::MAX);
    }

    #[test]
    fn counts_aliases_in_operations_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "query { a: partners { totalCount } b: partners { ...F } networks { totalCount } }
             fragment F on PartnerConnection { n: totalCount ... on PartnerConnection { m: totalCount } }",
        )
        .unwrap();
        assert_eq!(count_aliases(&doc), 4);
    }
}
