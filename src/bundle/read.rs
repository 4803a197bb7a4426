//! Reading and validating a bundle.
//!
//! [`check`] follows the reference validator (`shared/tools/gen-bundle
//! --check`, class `Checker`) step by step, so that for the same folder both
//! report the same errors at the same `file:line: column`, in the same order:
//!
//! 1. unknown `.csv` files (warnings), missing required files;
//! 2. each file in [`FILE_NAMES`] order: UTF-8 and CSV syntax (see
//!    [`strict_csv`](super::strict_csv)), the header, then each row: its
//!    values column by column in schema order — a reference to an *earlier*
//!    file is checked at once, one to the same or a later file is kept for the
//!    end — then the row rules (territory codes, duplicate ids, own parent,
//!    date ranges, self-relation, leads, duplicate link keys);
//! 3. the kept references, the territory ranks, the `parent_id` cycles.
//!
//! A file that cannot be read to its end (CSV syntax error, missing required
//! column) is *broken*: references into it are not checked, since most of
//! them would be false alarms.
//!
//! On top of the validator, an incremental import passes what the hub
//! already holds ([`Existing`]): references may resolve there, and the tree
//! rules (rank, cycles, codes, one lead) apply to the hub's data overlaid by
//! the bundle's rows. With `Existing::default()` the verdicts are exactly the
//! validator's.
//!
//! Values are checked and converted in the same pass; the typed [`Bundle`] is
//! built only while no error has been found, since it is thrown away anyway
//! once there is one.

use std::borrow::Cow;
use std::fmt;

use chrono::NaiveDate;
// A fast, randomly seeded hasher: with std's SipHash, hashing ids was the
// largest single cost of checking a national bundle.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use super::format::{
    ACTION_PARTNERS, ACTION_TERRITORIES, ACTIONS, AP_ACTION, AP_PARTNER, AP_ROLE, CONTACTS, FILE_NAMES, FILES, ID,
    MAX_COLS, MEMBERSHIPS, NETWORKS, PARTNER_TERRITORIES, PARTNERS, R_FROM, R_TO, RELATIONS, REQUIRED_FILES, SCHEMA,
    T_CODE, T_KIND, TERRITORIES, Ty, date_range, has_id, link_key, parent_col, ref_label,
};
use super::rules::{self, *};
use super::strict_csv::{self, Reader, SyntaxError, Utf8Issue};
use super::*;
use crate::model::*;

// ----------------------------------------------------------------------------
// check
// ----------------------------------------------------------------------------

/// Validates every file of a bundle and, when it holds no error, returns its
/// typed content and the warnings. `existing` is what the hub already holds
/// (empty for a full replace): references may point into it.
pub fn check(files: &BundleFiles, existing: &Existing) -> Result<(Bundle, Vec<Diagnostic>), Report> {
    check_with(files, existing, None)
}

/// [`check`], handing each file's rows to `sink` as soon as the file is
/// read while no error has been found (in file order; a file the bundle
/// lacks gives no part), so that a caller can write them while the next
/// files are checked. The verdict only comes at the end: rows handed over
/// may still belong to a bundle found invalid (a dangling `parent_id`, a
/// cycle), and the caller must then discard what it did with them. On
/// success the returned bundle holds no rows of the files handed over.
pub fn check_streaming(
    files: &BundleFiles,
    existing: &Existing,
    sink: &mut dyn FnMut(Part),
) -> Result<(Bundle, Vec<Diagnostic>), Report> {
    check_with(files, existing, Some(sink))
}

fn check_with(
    files: &BundleFiles,
    existing: &Existing,
    mut sink: Option<&mut dyn FnMut(Part)>,
) -> Result<(Bundle, Vec<Diagnostic>), Report> {
    // Decode every file up front: the sets of ids borrow from the text of
    // one file while the next ones are read.
    let decoded: Vec<Option<(Cow<str>, Vec<Utf8Issue>)>> = FILE_NAMES
        .iter()
        .map(|name| files.files.get(*name).map(|raw| strict_csv::decode(raw)))
        .collect();
    let mut ck = Checker::new(existing);
    for name in files.files.keys() {
        if name.ends_with(".csv") && !FILE_NAMES.contains(&name.as_str()) {
            ck.warn(name, 1, "-", format_args!("unknown file ignored"));
        }
    }
    for f in REQUIRED_FILES {
        if decoded[f].is_none() {
            ck.err(FILE_NAMES[f], 1, "-", format_args!("required file missing"));
            ck.broken[f] = true;
        }
    }
    let has = |f: usize| decoded[f].is_some();
    ck.bundle.present = Present {
        partner_territories: has(PARTNER_TERRITORIES),
        contacts: has(CONTACTS),
        networks: has(NETWORKS),
        memberships: has(MEMBERSHIPS),
        actions: has(ACTIONS),
        action_partners: has(ACTION_PARTNERS),
        action_territories: has(ACTION_TERRITORIES),
        relations: has(RELATIONS),
    };
    for (f, d) in decoded.iter().enumerate() {
        if let Some((text, issues)) = d {
            // Python sees no line at all only in a 0-byte file; a file holding
            // just a BOM has one empty line, read as an empty header.
            let empty = files.files[FILE_NAMES[f]].is_empty();
            ck.read_file(f, text, issues, empty);
            if let Some(sink) = sink.as_mut()
                && ck.error_count == 0
            {
                sink(ck.take_part(f));
            }
        }
    }
    ck.finish()
}

/// A reference to the same or a later file, checked once every file is read.
struct Pending<'a> {
    file: usize,
    line: u64,
    col: &'static str,
    target: usize,
    value: Cow<'a, str>,
}

/// The `parent_id` links of one file, in the order the validator's dict
/// keeps them: by first appearance of the child, the last row winning.
#[derive(Default)]
struct ParentMap<'a> {
    entries: Vec<(Cow<'a, str>, Cow<'a, str>, u64)>,
    index: HashMap<Cow<'a, str>, usize>,
}

impl<'a> ParentMap<'a> {
    fn set(&mut self, child: Cow<'a, str>, parent: Cow<'a, str>, line: u64) {
        if let Some(&i) = self.index.get(&child) {
            self.entries[i].1 = parent;
            self.entries[i].2 = line;
        } else {
            self.index.insert(child.clone(), self.entries.len());
            self.entries.push((child, parent, line));
        }
    }
}

/// A checked value of one column of a row. `Null` for an absent column, an
/// empty field or an invalid value.
#[derive(Debug, Clone, Copy, Default)]
enum Cell<'r> {
    #[default]
    Null,
    Str(&'r str),
    Date(NaiveDate),
    Cents(Cents),
    Int(i64),
    Num(f64),
}

impl Cell<'_> {
    fn opt(self) -> Option<String> {
        match self {
            Cell::Str(s) => Some(s.to_owned()),
            _ => None,
        }
    }
    /// A required text: present whenever the row had no error.
    fn string(self) -> String {
        self.opt().unwrap_or_default()
    }
    /// A required enum, already validated.
    fn vocab<T>(self, parse: fn(&str) -> Option<T>) -> T {
        match self {
            Cell::Str(s) => parse(s),
            _ => None,
        }
        .expect("enum value checked before the row is built")
    }
    /// An optional enum, already validated.
    fn vocab_opt<T>(self, parse: fn(&str) -> Option<T>) -> Option<T> {
        match self {
            Cell::Str(s) => parse(s),
            _ => None,
        }
    }
    fn date(self) -> Option<NaiveDate> {
        match self {
            Cell::Date(d) => Some(d),
            _ => None,
        }
    }
    fn cents(self) -> Option<Cents> {
        match self {
            Cell::Cents(c) => Some(c),
            _ => None,
        }
    }
    fn int(self) -> Option<i64> {
        match self {
            Cell::Int(i) => Some(i),
            _ => None,
        }
    }
    fn num(self) -> Option<f64> {
        match self {
            Cell::Num(x) => Some(x),
            _ => None,
        }
    }
}

static EMPTY: Cow<'static, str> = Cow::Borrowed("");

/// Reports the UTF-8 errors of a file as the validator meets them: a line
/// is decoded when the CSV reader pulls it, i.e. before the record that ends
/// on it is processed.
struct Utf8Queue<'i> {
    issues: &'i [Utf8Issue],
}

impl Utf8Queue<'_> {
    fn flush(&mut self, ck: &mut Checker, file: &str, up_to_line: u64) {
        while let Some((i, rest)) = self.issues.split_first() {
            if i.line > up_to_line {
                break;
            }
            ck.err(
                file,
                i.line,
                "-",
                format_args!("invalid UTF-8 byte 0x{:02x} at byte {} of the line", i.byte, i.column),
            );
            self.issues = rest;
        }
    }
}

struct Checker<'a, 'e> {
    existing: &'e Existing,
    errors: Vec<Diagnostic>,
    error_count: usize,
    warnings: Vec<Diagnostic>,
    /// Files not read to their end: references into them are not checked.
    broken: [bool; FILES],
    /// The ids of each file, numbered in order of appearance.
    ids: [HashMap<Cow<'a, str>, u32>; FILES],
    parents: [ParentMap<'a>; FILES],
    pending: Vec<Pending<'a>>,
    /// action → line of its first lead.
    leads: HashMap<Cow<'a, str>, u64>,
    /// territory → (kind, line); the last row wins, like the validator's dict.
    terr_kind: HashMap<Cow<'a, str>, (Option<TerritoryKind>, u64)>,
    /// (kind, code) → line of the first territory holding it.
    terr_codes: HashMap<(Cow<'a, str>, Cow<'a, str>), u64>,
    /// Link keys seen in the file being read, as numbers when every part of
    /// the key has one (see `row`), which is the usual case and much cheaper
    /// to hash and store than the strings.
    keys: HashSet<[u32; 3]>,
    /// The other link keys, as strings.
    text_keys: HashSet<(Cow<'a, str>, Cow<'a, str>, Cow<'a, str>)>,
    /// Incremental import: (line, code, holder) for a bundle territory whose
    /// code an existing territory holds; an error unless the bundle redefines
    /// the holder (then the bundle's own code check applies).
    code_holders: Vec<(u64, Cow<'a, str>, &'e str)>,
    /// Incremental import: (line, action, new lead, old lead) for a bundle
    /// lead that replaces the hub's.
    lead_changes: Vec<(u64, Cow<'a, str>, Cow<'a, str>, &'e str)>,
    /// Incremental import: the (action, partner) rows of the bundle, for
    /// actions the hub knows a lead of. A row for the old lead either demotes
    /// it (another role) or makes two leads in the bundle (already an error).
    restated: HashSet<(Cow<'a, str>, Cow<'a, str>)>,
    bundle: Bundle,
}

impl<'a, 'e> Checker<'a, 'e> {
    fn new(existing: &'e Existing) -> Self {
        Checker {
            existing,
            errors: Vec::new(),
            error_count: 0,
            warnings: Vec::new(),
            broken: [false; FILES],
            ids: Default::default(),
            parents: Default::default(),
            pending: Vec::new(),
            leads: HashMap::new(),
            terr_kind: HashMap::new(),
            terr_codes: HashMap::new(),
            keys: HashSet::new(),
            text_keys: HashSet::new(),
            code_holders: Vec::new(),
            lead_changes: Vec::new(),
            restated: HashSet::new(),
            bundle: Bundle::default(),
        }
    }

    fn err(&mut self, file: &str, line: u64, column: &str, message: fmt::Arguments) {
        self.error_count += 1;
        if self.errors.len() < Report::KEPT {
            self.errors.push(diag(file, line, column, message));
        }
    }

    fn warn(&mut self, file: &str, line: u64, column: &str, message: fmt::Arguments) {
        self.warnings.push(diag(file, line, column, message));
    }

    fn syntax_error(&mut self, f: usize, utf8: &mut Utf8Queue, e: SyntaxError) {
        let name = FILE_NAMES[f];
        utf8.flush(self, name, e.end);
        self.err(
            name,
            e.start,
            "-",
            format_args!("CSV syntax error: {} (unterminated or misplaced quote?)", e.message),
        );
        self.broken[f] = true;
    }

    fn read_file(&mut self, f: usize, text: &'a str, issues: &[Utf8Issue], empty: bool) {
        let name = FILE_NAMES[f];
        if empty {
            self.err(name, 1, "-", format_args!("empty file (no header)"));
            return;
        }
        let mut utf8 = Utf8Queue { issues };
        let mut reader = Reader::new(text);
        let mut fields = Vec::new();
        match reader.next_record(&mut fields) {
            None => {} // only a BOM: one empty line, an empty header
            Some(Err(e)) => return self.syntax_error(f, &mut utf8, e),
            Some(Ok(span)) => utf8.flush(self, name, span.end),
        }
        let Some(idx) = self.header(f, &fields) else {
            self.broken[f] = true;
            return;
        };
        let ncol = fields.len();
        self.reserve(f, text.bytes().filter(|&b| b == b'\n').count());
        loop {
            match reader.next_record(&mut fields) {
                None => break,
                Some(Err(e)) => {
                    self.syntax_error(f, &mut utf8, e);
                    break;
                }
                Some(Ok(span)) => {
                    utf8.flush(self, name, span.end);
                    if fields.is_empty() {
                        continue; // blank line
                    }
                    if fields.len() != ncol {
                        let n = fields.len();
                        self.err(name, span.start, "-", format_args!("{n} fields, header has {ncol}"));
                    }
                    self.row(f, span.start, &fields, &idx);
                }
            }
        }
        (self.keys, self.text_keys) = Default::default();
        self.end_of_file(f);
    }

    /// Makes room for about `rows` more rows of file `f` at once, rather than
    /// growing (and rehashing) step by step.
    fn reserve(&mut self, f: usize, rows: usize) {
        if has_id(f) {
            self.ids[f].reserve(rows);
        }
        if !link_key(f).is_empty() {
            self.keys.reserve(rows);
        }
        if f == TERRITORIES {
            self.terr_kind.reserve(rows);
        }
        let b = &mut self.bundle;
        match f {
            TERRITORIES => b.territories.reserve(rows),
            PARTNERS => b.partners.reserve(rows),
            PARTNER_TERRITORIES => b.partner_territories.reserve(rows),
            CONTACTS => b.contacts.reserve(rows),
            NETWORKS => b.networks.reserve(rows),
            MEMBERSHIPS => b.memberships.reserve(rows),
            ACTIONS => b.actions.reserve(rows),
            ACTION_PARTNERS => b.action_partners.reserve(rows),
            ACTION_TERRITORIES => b.action_territories.reserve(rows),
            _ => b.relations.reserve(rows),
        }
    }

    /// Checks the header; returns, for each schema column, its position in
    /// the rows (the last one when a name is repeated, like the validator),
    /// or `None` when a required column is missing.
    fn header(&mut self, f: usize, fields: &[Cow<'_, str>]) -> Option<[Option<usize>; MAX_COLS]> {
        let name = FILE_NAMES[f];
        let schema = SCHEMA[f];
        let cols: Vec<&str> = fields.iter().map(|h| py_strip(h)).collect();
        for h in &cols {
            if !schema.iter().any(|c| c.name == *h) {
                self.warn(name, 1, h, format_args!("unknown column ignored"));
            }
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let mut order = Vec::new();
        for h in &cols {
            let n = counts.entry(*h).or_insert(0);
            if *n == 0 {
                order.push(*h);
            }
            *n += 1;
        }
        for h in order {
            if counts[h] > 1 {
                self.err(name, 1, h, format_args!("duplicate column in header"));
            }
        }
        let mut missing = false;
        for c in schema.iter().filter(|c| c.required && !counts.contains_key(c.name)) {
            self.err(name, 1, c.name, format_args!("missing required column"));
            missing = true;
        }
        if missing {
            return None;
        }
        let mut idx = [None; MAX_COLS];
        for (i, c) in schema.iter().enumerate() {
            idx[i] = cols.iter().rposition(|h| *h == c.name);
        }
        Some(idx)
    }

    fn resolves(&self, target: usize, v: &str) -> bool {
        self.ids[target].contains_key(v) || self.in_hub(target, v)
    }

    fn in_hub(&self, target: usize, v: &str) -> bool {
        let e = self.existing;
        match target {
            TERRITORIES => e.territories.contains_key(v),
            PARTNERS => e.partners.contains_key(v),
            NETWORKS => e.networks.contains_key(v),
            ACTIONS => e.actions.contains(v),
            CONTACTS => e.contacts.contains(v),
            _ => false,
        }
    }

    fn dangling(&mut self, file: usize, line: u64, col: &str, target: usize, v: &str) {
        let label = ref_label(target);
        self.err(
            FILE_NAMES[file],
            line,
            col,
            format_args!("{}", rules::dangling(label, v)),
        );
    }

    fn row(&mut self, f: usize, line: u64, fields: &[Cow<'a, str>], idx: &[Option<usize>; MAX_COLS]) {
        let name = FILE_NAMES[f];
        let schema = SCHEMA[f];
        // A schema column's field: `None` when the header lacks the column,
        // "" past the end of a short row (the validator pads those).
        let field = |i: usize| -> Option<&Cow<'a, str>> { idx[i].map(|p| fields.get(p).unwrap_or(&EMPTY)) };
        let text = |i: usize| -> &str { field(i).map_or("", |c| c) };
        let cow = |i: usize| -> Cow<'a, str> { field(i).unwrap_or(&EMPTY).clone() };

        let mut cells = [Cell::Null; MAX_COLS];
        // The number of the row a reference to an earlier file points at.
        let mut targets = [None; MAX_COLS];
        for (i, c) in schema.iter().enumerate() {
            let Some(v) = field(i) else { continue };
            if v.is_empty() {
                if c.required {
                    self.err(name, line, c.name, format_args!("required value is empty"));
                }
                continue;
            }
            cells[i] = match c.ty {
                Ty::Ref(target) => {
                    if target < f {
                        targets[i] = self.ids[target].get(v.as_ref()).copied();
                        if targets[i].is_none() && !self.broken[target] && !self.in_hub(target, v) {
                            self.dangling(f, line, c.name, target, v);
                        }
                    } else {
                        self.pending.push(Pending {
                            file: f,
                            line,
                            col: c.name,
                            target,
                            value: v.clone(),
                        });
                    }
                    Cell::Str(v.as_ref())
                }
                ty => self.value(name, line, c.name, ty, v.as_ref()),
            };
        }

        if f == TERRITORIES && !text(ID).is_empty() {
            let kind = text(T_KIND);
            self.terr_kind.insert(cow(ID), (TerritoryKind::parse(kind), line));
            let code = text(T_CODE);
            if !code.is_empty() {
                match self.terr_codes.get(&(cow(T_KIND), cow(T_CODE))) {
                    Some(&first) => self.err(
                        name,
                        line,
                        "code",
                        format_args!("code {} already used by {kind} at line {first}", Quoted(code)),
                    ),
                    None => {
                        self.terr_codes.insert((cow(T_KIND), cow(T_CODE)), line);
                    }
                }
                let existing = self.existing;
                if !existing.territory_codes.is_empty()
                    && let Some(k) = TerritoryKind::parse(kind)
                    && let Some(holder) = existing.territory_codes.get(&(k, code.to_owned()))
                    && holder.as_str() != text(ID)
                {
                    self.code_holders.push((line, cow(T_CODE), holder.as_str()));
                }
            }
        }

        if has_id(f) && !text(ID).is_empty() {
            let id = text(ID);
            if self.ids[f].contains_key(id) {
                self.err(name, line, "id", format_args!("{}", rules::duplicate_id(id)));
            } else {
                let n = self.ids[f].len() as u32;
                self.ids[f].insert(cow(ID), n);
            }
            if let Some(pc) = parent_col(f)
                && !text(pc).is_empty()
            {
                if text(pc) == id {
                    self.err(name, line, "parent_id", format_args!("{}", rules::OWN_PARENT));
                } else {
                    self.parents[f].set(cow(ID), cow(pc), line);
                }
            }
        }

        if let Some((a, b)) = date_range(f)
            && let (Cell::Date(start), Cell::Date(end)) = (cells[a], cells[b])
            && let Err(m) = rules::date_range(schema[a].name, start, schema[b].name, end)
        {
            self.err(name, line, schema[b].name, format_args!("{m}"));
        }

        if f == RELATIONS && !text(R_FROM).is_empty() && text(R_FROM) == text(R_TO) {
            let m = rules::self_relation(text(R_TO));
            self.err(name, line, "to_partner_id", format_args!("{m}"));
        }

        if f == ACTION_PARTNERS && !text(AP_ACTION).is_empty() {
            let action = text(AP_ACTION);
            let old_lead = self.existing.leads.get(action);
            if text(AP_ROLE) == "lead" {
                match self.leads.get(action) {
                    Some(&first) => self.err(
                        name,
                        line,
                        "role",
                        format_args!(
                            "action {} has more than one lead (first at line {first})",
                            Quoted(action)
                        ),
                    ),
                    None => {
                        self.leads.insert(cow(AP_ACTION), line);
                        if let Some(old) = old_lead
                            && old.as_str() != text(AP_PARTNER)
                        {
                            self.lead_changes
                                .push((line, cow(AP_ACTION), cow(AP_PARTNER), old.as_str()));
                        }
                    }
                }
            }
            if old_lead.is_some() {
                self.restated.insert((cow(AP_ACTION), cow(AP_PARTNER)));
            }
        }

        let key = link_key(f);
        if !key.is_empty() {
            // A key's parts are references to earlier files and enum values.
            // Two rows have the same key exactly when their strings are equal;
            // a string that names a row of the bundle (or a valid enum value)
            // always gets the same number, so the key can be compared as
            // numbers when every part has one, as strings otherwise.
            let number = |k: usize| match schema[k].ty {
                Ty::Ref(_) => targets[k],
                Ty::Enum(vocab) => vocab.ordinal(text(k)),
                _ => None,
            };
            let mut numbers = [0; 3];
            let numbered = key
                .iter()
                .zip(&mut numbers)
                .all(|(&k, slot)| number(k).map(|n| *slot = n).is_some());
            let new = if numbered {
                self.keys.insert(numbers)
            } else {
                let third = key.get(2).map_or_else(|| EMPTY.clone(), |&k| cow(k));
                self.text_keys.insert((cow(key[0]), cow(key[1]), third))
            };
            if !new {
                let parts: Vec<_> = key.iter().map(|&k| (schema[k].name, text(k))).collect();
                let last = schema[key[key.len() - 1]].name;
                self.err(name, line, last, format_args!("{}", rules::duplicate_key(&parts)));
            }
        }

        if self.error_count == 0 {
            self.build(f, cells);
        }
    }

    /// Checks one non-empty value of a column that is not a reference;
    /// returns it converted, or `Cell::Null` after reporting an error. The
    /// rules themselves are in [`rules`], shared with the API's edits.
    fn value<'r>(&mut self, file: &str, line: u64, col: &str, ty: Ty, v: &'r str) -> Cell<'r> {
        let checked = match ty {
            Ty::Ref(_) => Ok(Cell::Str(v)), // resolved by the caller
            Ty::Text => rules::text(v).map(|()| Cell::Str(v)),
            Ty::Id => rules::id(v).map(|()| Cell::Str(v)),
            Ty::Enum(vocab) => match vocab.ordinal(v) {
                Some(_) => Ok(Cell::Str(v)),
                None => {
                    let expected = vocab.strings().join(", ");
                    Err(format!("unknown value {} (expected one of: {expected})", Quoted(v)))
                }
            },
            Ty::Date => rules::date(v).map(Cell::Date),
            Ty::Money => rules::money(v).map(|(cents, exact)| {
                if !exact {
                    let euros = rules::euros(cents);
                    self.warn(
                        file,
                        line,
                        col,
                        format_args!("amount {v} has more than 2 decimals: rounded to {euros}"),
                    );
                }
                Cell::Cents(cents)
            }),
            Ty::Int => rules::count(v).map(Cell::Int),
            Ty::PosNumber => rules::positive(col, v).map(Cell::Num),
            Ty::Lat => rules::coordinate(col, v, rules::LAT_LIMIT).map(Cell::Num),
            Ty::Lon => rules::coordinate(col, v, rules::LON_LIMIT).map(Cell::Num),
            Ty::Siret => rules::siret(v).map(|luhn| {
                if !luhn {
                    self.warn(file, line, col, format_args!("SIRET {v} fails the Luhn check"));
                }
                Cell::Str(v)
            }),
        };
        checked.unwrap_or_else(|message| {
            self.err(file, line, col, format_args!("{message}"));
            Cell::Null
        })
    }

    /// The rows of file `f` built so far, moved out of the bundle.
    fn take_part(&mut self, f: usize) -> Part {
        use std::mem::take;
        let b = &mut self.bundle;
        match f {
            TERRITORIES => Part::Territories(take(&mut b.territories)),
            PARTNERS => Part::Partners(take(&mut b.partners)),
            PARTNER_TERRITORIES => Part::PartnerTerritories(take(&mut b.partner_territories)),
            CONTACTS => Part::Contacts(take(&mut b.contacts)),
            NETWORKS => Part::Networks(take(&mut b.networks)),
            MEMBERSHIPS => Part::Memberships(take(&mut b.memberships)),
            ACTIONS => Part::Actions(take(&mut b.actions)),
            ACTION_PARTNERS => Part::ActionPartners(take(&mut b.action_partners)),
            ACTION_TERRITORIES => Part::ActionTerritories(take(&mut b.action_territories)),
            _ => Part::Relations(take(&mut b.relations)),
        }
    }

    /// Appends the typed record of a row with no error.
    fn build(&mut self, f: usize, cells: [Cell; MAX_COLS]) {
        let b = &mut self.bundle;
        match f {
            TERRITORIES => {
                let [id, kind, code, name, parent, population, lat, lon, ..] = cells;
                b.territories.push(Territory {
                    id: id.string(),
                    kind: kind.vocab(TerritoryKind::parse),
                    code: code.opt(),
                    name: name.string(),
                    parent_ref: parent.opt(),
                    population: population.int(),
                    lat: lat.num(),
                    lon: lon.num(),
                });
            }
            PARTNERS => {
                let [
                    id,
                    name,
                    kind,
                    siret,
                    parent,
                    territory,
                    website,
                    email,
                    phone,
                    description,
                    ..,
                ] = cells;
                b.partners.push(Partner {
                    id: id.string(),
                    name: name.string(),
                    kind: kind.vocab(PartnerKind::parse),
                    siret: siret.opt(),
                    parent_ref: parent.opt(),
                    territory_ref: territory.opt(),
                    website: website.opt(),
                    email: email.opt(),
                    phone: phone.opt(),
                    description: description.opt(),
                });
            }
            PARTNER_TERRITORIES => {
                let [partner, territory, ..] = cells;
                b.partner_territories.push(PartnerTerritory {
                    partner_ref: partner.string(),
                    territory_ref: territory.string(),
                });
            }
            CONTACTS => {
                let [id, partner, full_name, role_title, email, phone, ..] = cells;
                b.contacts.push(Contact {
                    id: id.string(),
                    partner_ref: partner.string(),
                    full_name: full_name.string(),
                    role_title: role_title.opt(),
                    email: email.opt(),
                    phone: phone.opt(),
                });
            }
            NETWORKS => {
                let [
                    id,
                    name,
                    kind,
                    territory,
                    parent,
                    started_on,
                    ended_on,
                    description,
                    visibility,
                    ..,
                ] = cells;
                b.networks.push(Network {
                    id: id.string(),
                    name: name.string(),
                    kind: kind.vocab(NetworkKind::parse),
                    territory_ref: territory.opt(),
                    parent_ref: parent.opt(),
                    started_on: started_on.date(),
                    ended_on: ended_on.date(),
                    description: description.opt(),
                    visibility: visibility.vocab_opt(Visibility::parse),
                });
            }
            MEMBERSHIPS => {
                let [network, partner, role, since, until, ..] = cells;
                b.memberships.push(Membership {
                    network_ref: network.string(),
                    partner_ref: partner.string(),
                    role: role.vocab(MembershipRole::parse),
                    since: since.date(),
                    until: until.date(),
                });
            }
            ACTIONS => {
                let [
                    id,
                    title,
                    theme,
                    status,
                    network,
                    started_on,
                    ended_on,
                    budget,
                    beneficiaries,
                    description,
                    visibility,
                ] = cells;
                b.actions.push(Action {
                    id: id.string(),
                    title: title.string(),
                    theme: theme.vocab(Theme::parse),
                    status: status.vocab(ActionStatus::parse),
                    network_ref: network.opt(),
                    started_on: started_on.date(),
                    ended_on: ended_on.date(),
                    budget_cents: budget.cents(),
                    beneficiaries: beneficiaries.int(),
                    description: description.opt(),
                    visibility: visibility.vocab_opt(Visibility::parse),
                });
            }
            ACTION_PARTNERS => {
                let [action, partner, role, contribution, ..] = cells;
                b.action_partners.push(ActionPartner {
                    action_ref: action.string(),
                    partner_ref: partner.string(),
                    role: role.vocab(ParticipationRole::parse),
                    contribution_cents: contribution.cents(),
                });
            }
            ACTION_TERRITORIES => {
                let [action, territory, ..] = cells;
                b.action_territories.push(ActionTerritory {
                    action_ref: action.string(),
                    territory_ref: territory.string(),
                });
            }
            RELATIONS => {
                let [from, to, kind, since, until, weight, note, visibility, ..] = cells;
                b.relations.push(Relation {
                    from_ref: from.string(),
                    to_ref: to.string(),
                    kind: kind.vocab(RelationKind::parse),
                    since: since.date(),
                    until: until.date(),
                    weight: weight.num().unwrap_or(1.0),
                    note: note.opt(),
                    visibility: visibility.vocab_opt(Visibility::parse),
                });
            }
            _ => unreachable!("no file #{f}"),
        }
    }

    /// The incremental-import rules that need a whole file: a code held by an
    /// existing territory the bundle does not redefine; a new lead where the
    /// hub has another one that the bundle does not mention.
    fn end_of_file(&mut self, f: usize) {
        if f == TERRITORIES {
            for (line, code, holder) in std::mem::take(&mut self.code_holders) {
                if !self.ids[TERRITORIES].contains_key(holder) {
                    let m = rules::code_taken(&code, holder);
                    self.err(FILE_NAMES[f], line, "code", format_args!("{m}"));
                }
            }
        }
        if f == ACTION_PARTNERS {
            for (line, action, new, old) in std::mem::take(&mut self.lead_changes) {
                if !self.restated.contains(&(action.clone(), Cow::Owned(old.to_owned()))) {
                    let (a, n, o) = (Quoted(&action), Quoted(&new), Quoted(old));
                    self.err(
                        FILE_NAMES[f],
                        line,
                        "role",
                        format_args!("action {a} already has lead {o} in the hub: give {o} another role in this file to make {n} the lead"),
                    );
                }
            }
            self.restated = HashSet::new();
        }
    }

    fn finish(mut self) -> Result<(Bundle, Vec<Diagnostic>), Report> {
        for p in std::mem::take(&mut self.pending) {
            if !self.broken[p.target] && !self.resolves(p.target, &p.value) {
                self.dangling(p.file, p.line, p.col, p.target, &p.value);
            }
        }
        self.check_ranks();
        for f in [TERRITORIES, PARTNERS, NETWORKS] {
            self.check_cycles(f);
        }
        if self.error_count > 0 {
            Err(Report {
                errors: self.errors,
                error_count: self.error_count,
                warnings: self.warnings,
            })
        } else {
            Ok((self.bundle, self.warnings))
        }
    }

    /// The kind a territory will have: the bundle's when it defines it, else
    /// the hub's. `None` when unknown (or invalid: already reported).
    fn territory_kind(&self, id: &str) -> Option<TerritoryKind> {
        match self.terr_kind.get(id) {
            Some(&(kind, _)) => kind,
            None => self.existing.territories.get(id).map(|(kind, _)| *kind),
        }
    }

    /// A territory's parent has a strictly higher rank.
    fn check_ranks(&mut self) {
        let mut found = Vec::new();
        for (child, parent, line) in &self.parents[TERRITORIES].entries {
            if let (Some(ck), Some(pk)) = (self.territory_kind(child), self.territory_kind(parent))
                && let Err(m) = rules::territory_rank(ck, pk, parent)
            {
                found.push((*line, "parent_id", m));
            }
        }
        // Incremental import: a territory of the hub that the bundle leaves
        // alone, inside one whose kind the bundle changes.
        let mut changed = Vec::new();
        for (child, (ck, parent)) in &self.existing.territories {
            if let Some(parent) = parent
                && !self.terr_kind.contains_key(child.as_str())
                && let Some(&(Some(pk), line)) = self.terr_kind.get(parent.as_str())
                && pk.rank() >= ck.rank()
            {
                let m = rules::territory_rank_changed(parent, pk, *ck, child);
                changed.push((line, "kind", m));
            }
        }
        changed.sort();
        for (line, col, m) in found.into_iter().chain(changed) {
            self.err(FILE_NAMES[TERRITORIES], line, col, format_args!("{m}"));
        }
    }

    /// Cycles in the `parent_id` chains of a file, found like the validator
    /// does (a walk from each child in order, coloring the nodes), over the
    /// hub's tree overlaid by the bundle's rows.
    fn check_cycles(&mut self, f: usize) {
        let (map, ids, existing) = (&self.parents[f], &self.ids[f], self.existing);
        let parent_of = |x: &str| parent_after_import(f, map, ids, existing, x);
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let mut state: HashMap<&str, u8> = HashMap::new();
        let mut found = Vec::new();
        for (start, _, start_line) in &map.entries {
            if state.contains_key(&**start) {
                continue;
            }
            let mut path: Vec<&str> = Vec::new();
            let mut x: &str = start;
            while !state.contains_key(x)
                && let Some((parent, _)) = parent_of(x)
            {
                state.insert(x, ON_PATH);
                path.push(x);
                x = parent;
            }
            if state.get(x) == Some(&ON_PATH) {
                let cycle = &path[path.iter().position(|y| *y == x).unwrap_or(0)..];
                // The validator names the row of the node where the walk
                // closed the cycle; when that node is the hub's, the first
                // bundle row of the cycle (or, failing that, the walk's start).
                let line = cycle
                    .iter()
                    .find_map(|y| parent_of(y).and_then(|(_, l)| l))
                    .unwrap_or(*start_line);
                let chain: Vec<&str> = cycle.iter().copied().chain([x]).collect();
                found.push((line, rules::cycle(&chain)));
            }
            for y in path {
                state.insert(y, DONE);
            }
        }
        for (line, m) in found {
            self.err(FILE_NAMES[f], line, "parent_id", format_args!("{m}"));
        }
    }
}

/// The parent a record will have once the bundle is imported, and the line
/// of the bundle row that gives it (`None` for the hub's own link).
fn parent_after_import<'m>(
    f: usize,
    map: &'m ParentMap,
    ids: &HashMap<Cow<str>, u32>,
    existing: &'m Existing,
    x: &str,
) -> Option<(&'m str, Option<u64>)> {
    if let Some(&i) = map.index.get(x) {
        let (_, parent, line) = &map.entries[i];
        return Some((parent, Some(*line)));
    }
    if ids.contains_key(x) {
        return None; // the bundle defines it without a parent
    }
    let parent = match f {
        TERRITORIES => existing.territories.get(x).and_then(|(_, p)| p.as_ref()),
        PARTNERS => existing.partners.get(x).and_then(|p| p.as_ref()),
        _ => existing.networks.get(x).and_then(|p| p.as_ref()),
    };
    parent.map(|p| (p.as_str(), None))
}

fn diag(file: &str, line: u64, column: &str, message: fmt::Arguments) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        line,
        column: column.to_owned(),
        message: message.to_string(),
    }
}

// ----------------------------------------------------------------------------
// Values
// ----------------------------------------------------------------------------

/// Header names are trimmed like Python's `str.strip()`, whose whitespace
/// includes the separators U+001C..U+001F besides Unicode's `White_Space`.
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_to_cents() {
        let cents = |v: &str| to_cents(v);
        assert_eq!(cents("12500.50"), Some((1_250_050, true)));
        assert_eq!(cents("12500.5"), Some((1_250_050, true)));
        assert_eq!(cents("12500"), Some((1_250_000, true)));
        assert_eq!(cents("0.07"), Some((7, true)));
        assert_eq!(cents("007.10"), Some((710, true)));
        assert_eq!(cents("1.234"), Some((123, false)));
        assert_eq!(cents("1.235"), Some((124, false)));
        assert_eq!(cents("1.2350"), Some((124, false)));
        assert_eq!(cents("0.995"), Some((100, false)));
        assert_eq!(cents("1.500000"), Some((150, true)));
        assert_eq!(cents("-0.00"), Some((0, true)));
        assert_eq!(cents("92233720368547758.07"), Some((i64::MAX, true)));
        assert_eq!(cents("92233720368547758.08"), None);
        assert_eq!(cents("99999999999999999999"), None);
    }

    #[test]
    fn number_shapes() {
        for ok in ["0", "12", "-3", "1.5", "-0.0", "007"] {
            assert!(is_number(ok, true), "{ok}");
        }
        for bad in [
            "", "-", "1.", ".5", "1,5", "1e3", "+1", " 1", "1 000", "1.2.3", "--1", "inf", "NaN",
        ] {
            assert!(!is_number(bad, true), "{bad}");
        }
        assert!(is_number("12", false) && !is_number("1.5", false));
    }

    #[test]
    fn unicode_digits_count_like_python() {
        assert_eq!(decimal_digit('7'), Some(7));
        assert_eq!(decimal_digit('٣'), Some(3)); // U+0663 ARABIC-INDIC DIGIT THREE
        assert_eq!(decimal_digit('９'), Some(9)); // U+FF19 FULLWIDTH DIGIT NINE
        assert_eq!(decimal_digit('²'), None); // superscript: No, not Nd
        assert_eq!(decimal_digit('a'), None);
        assert_eq!(decimal_digit('\u{65f}'), None);
        assert_eq!(ascii_digits("١٢٣.٥"), "123.5");
        assert!(matches!(ascii_digits("12.5"), Cow::Borrowed(_)));
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2024-02-29"),
            Ok(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
        );
        assert_eq!(parse_date("2019-02-29"), Err("no such day"));
        assert_eq!(parse_date("0000-01-01"), Err("no such day"));
        assert_eq!(parse_date("2019-13-01"), Err("no such day"));
        for bad in [
            "2019-2-01",
            "2019/02/01",
            "20190201",
            "2019-02-01 ",
            "２０１９-０２-０１",
        ] {
            assert_eq!(parse_date(bad), Err("expected YYYY-MM-DD"), "{bad}");
        }
    }

    #[test]
    fn ids_sirets_and_header_names() {
        assert!(is_id("ptn-1") && is_id("a.b_c:d-E9") && is_id(&"x".repeat(64)));
        assert!(!is_id("") && !is_id(&"x".repeat(65)) && !is_id("a b") && !is_id("é"));
        assert!(luhn_ok("73282932000074") && !luhn_ok("73282932000075"));
        assert_eq!(py_strip(" \u{1f}kind\u{a0}\t"), "kind");
    }
}
