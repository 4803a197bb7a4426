//! A strict CSV reader that sees a file exactly as the reference validator
//! does: Python's `csv.reader(lines, strict=True)` fed with the file's
//! physical lines, each decoded from UTF-8 on its own.
//!
//! Why not the `csv` crate: it is lenient with quotes (`"ab"c` reads as
//! `abc`, an unterminated quote silently swallows the rest of the file) and
//! it does not tell where a record starts in physical lines, so a bundle could
//! pass here and fail in the validator, or the errors would name other lines.
//!
//! Python's state machine (`Modules/_csv.c`, default dialect, strict), which
//! this reader follows:
//! - a record ends at the end of a physical line (`\n`), unless inside quotes;
//! - a `\r` outside quotes ends the record too, and then only `\r` or `\n` may
//!   follow on that line (else "new-line character seen in unquoted field");
//! - a line holding nothing but `\r`/`\n` is an empty record (a blank line);
//! - a quote opens a quoted field only as the field's first character;
//!   anywhere else it is data (`ab"c` is the field `ab"c`);
//! - inside quotes, `""` is one quote, and commas, `\r` and `\n` are data;
//!   after the closing quote only a comma or the end of the line may follow
//!   (`"ab"c` is an error);
//! - the end of the data inside quotes is an error ("unexpected end of data");
//! - a field of more than 131,072 characters is an error (`field_size_limit`).
//!
//! Fields are borrowed from the decoded text; only a quoted field holding a
//! doubled quote needs an allocation.

use std::borrow::Cow;

/// An invalid UTF-8 sequence, located like the validator does it: the
/// physical line, the first bad byte and its 1-based position in the line
/// (counted after the BOM on line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utf8Issue {
    pub line: u64,
    pub byte: u8,
    pub column: usize,
}

/// Decodes a file like the validator: a leading BOM is dropped, and when the
/// file is not valid UTF-8 each physical line is decoded on its own, its first
/// bad byte reported and the line replaced lossily (U+FFFD), so that reading
/// goes on and later errors are still found.
pub fn decode(raw: &[u8]) -> (Cow<'_, str>, Vec<Utf8Issue>) {
    let body = raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw);
    if let Ok(text) = std::str::from_utf8(body) {
        return (Cow::Borrowed(text), Vec::new());
    }
    let mut text = String::with_capacity(body.len() + 64);
    let mut issues = Vec::new();
    for (n, line) in body.split_inclusive(|&b| b == b'\n').enumerate() {
        match std::str::from_utf8(line) {
            Ok(s) => text.push_str(s),
            Err(e) => {
                let at = e.valid_up_to();
                issues.push(Utf8Issue {
                    line: n as u64 + 1,
                    byte: line[at],
                    column: at + 1,
                });
                text.push_str(&String::from_utf8_lossy(line));
            }
        }
    }
    (Cow::Owned(text), issues)
}

/// Python's default `csv.field_size_limit()`, in characters.
pub const FIELD_LIMIT: usize = 131_072;

/// Where a record lies: the physical line it starts on (what errors name)
/// and the one it ends on (how far the validator has read, which decides
/// which UTF-8 errors it has reported by then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

/// A syntax error. The validator reports it at the line where the record
/// starts; `end` is the last line it had read when it stopped (`u64::MAX`
/// when it had read the whole file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub start: u64,
    pub end: u64,
    pub message: &'static str,
}

/// Reads records one by one. After a syntax error it yields nothing more,
/// like the validator, which stops reading the file there.
pub struct Reader<'a> {
    text: &'a str,
    pos: usize,
    /// Physical line of the byte at `pos`.
    line: u64,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Self {
        Reader { text, pos: 0, line: 1 }
    }

    /// Reads the next record into `fields` (cleared first). An empty
    /// `fields` with `Ok` is a blank line. `None` at the end of the data.
    pub fn next_record(&mut self, fields: &mut Vec<Cow<'a, str>>) -> Option<Result<Span, SyntaxError>> {
        fields.clear();
        let bytes = self.text.as_bytes();
        let &first = bytes.get(self.pos)?;
        let start = self.line;
        if first == b'\r' || first == b'\n' {
            return Some(self.end_of_line(start));
        }
        loop {
            let field = if bytes.get(self.pos) == Some(&b'"') {
                self.quoted(start)
            } else {
                self.unquoted(start)
            };
            match field {
                Ok(f) => fields.push(f),
                Err(e) => return Some(Err(e)),
            }
            // `pos` is now on the byte that ended the field.
            match bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                None => {
                    return Some(Ok(Span { start, end: self.line }));
                }
                Some(_) => return Some(self.end_of_line(start)), // `\r` or `\n`
            }
        }
    }

    /// A field not starting with a quote: everything up to a comma or a line
    /// break (quotes included, as data).
    fn unquoted(&mut self, start: u64) -> Result<Cow<'a, str>, SyntaxError> {
        let bytes = self.text.as_bytes();
        let from = self.pos;
        let mut p = from;
        while p < bytes.len() && !matches!(bytes[p], b',' | b'\r' | b'\n') {
            p += 1;
        }
        self.pos = p;
        // The stops are ASCII, hence char boundaries.
        let field = &self.text[from..p];
        if field.len() > FIELD_LIMIT && field.chars().count() > FIELD_LIMIT {
            return Err(self.fail(start, self.line, TOO_LONG));
        }
        Ok(Cow::Borrowed(field))
    }

    /// A quoted field; `pos` is on its opening quote. Leaves `pos` on the
    /// byte after the closing quote.
    fn quoted(&mut self, start: u64) -> Result<Cow<'a, str>, SyntaxError> {
        let bytes = self.text.as_bytes();
        let (content, first_line) = (self.pos + 1, self.line);
        let mut seg = content; // start of the part not yet copied to `owned`
        let mut owned: Option<String> = None;
        let mut p = content;
        loop {
            while p < bytes.len() && bytes[p] != b'"' {
                if bytes[p] == b'\n' {
                    self.line += 1;
                }
                p += 1;
            }
            if p == bytes.len() {
                self.check_limit(start, content, p, first_line)?;
                return Err(self.fail(start, u64::MAX, "unexpected end of data"));
            }
            match bytes.get(p + 1) {
                Some(b'"') => {
                    owned.get_or_insert_with(String::new).push_str(&self.text[seg..=p]);
                    p += 2;
                    seg = p;
                }
                Some(b',' | b'\r' | b'\n') | None => {
                    self.check_limit(start, content, p, first_line)?;
                    self.pos = p + 1;
                    let tail = &self.text[seg..p];
                    return Ok(match owned {
                        Some(mut s) => {
                            s.push_str(tail);
                            Cow::Owned(s)
                        }
                        None => Cow::Borrowed(tail),
                    });
                }
                Some(_) => {
                    self.check_limit(start, content, p, first_line)?;
                    return Err(self.fail(start, self.line, "',' expected after '\"'"));
                }
            }
        }
    }

    /// Python counts a quoted field's characters as it adds them and fails on
    /// the one past the limit, before it sees what follows the field; this
    /// checks the raw content `text[from..to]` and, when it is too long, finds
    /// the line of that character (`""` counts as one character).
    fn check_limit(&mut self, start: u64, from: usize, to: usize, mut line: u64) -> Result<(), SyntaxError> {
        if to - from <= FIELD_LIMIT {
            return Ok(());
        }
        let mut chars = self.text[from..to].chars();
        let mut count = 0;
        while let Some(c) = chars.next() {
            count += 1;
            if count > FIELD_LIMIT {
                return Err(self.fail(start, line, TOO_LONG));
            }
            match c {
                '"' => {
                    chars.next();
                }
                '\n' => line += 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// After a record: only `\r` and `\n` may remain on the line.
    fn end_of_line(&mut self, start: u64) -> Result<Span, SyntaxError> {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            self.pos += 1;
            match b {
                b'\r' => {}
                b'\n' => {
                    let end = self.line;
                    self.line += 1;
                    return Ok(Span { start, end });
                }
                _ => {
                    return Err(self.fail(start, self.line, "new-line character seen in unquoted field"));
                }
            }
        }
        Ok(Span { start, end: self.line })
    }

    fn fail(&mut self, start: u64, end: u64, message: &'static str) -> SyntaxError {
        self.pos = self.text.len();
        SyntaxError { start, end, message }
    }
}

const TOO_LONG: &str = "field larger than field limit (131072)";

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as (start line, fields), or an error as (start line, message).
    type Read = Result<(u64, Vec<String>), (u64, &'static str)>;

    fn read(data: &str) -> Vec<Read> {
        let mut r = Reader::new(data);
        let mut fields = Vec::new();
        let mut out = Vec::new();
        while let Some(rec) = r.next_record(&mut fields) {
            out.push(match rec {
                Ok(span) => Ok((span.start, fields.iter().map(|f| f.to_string()).collect())),
                Err(e) => Err((e.start, e.message)),
            });
        }
        out
    }

    fn ok(line: u64, fields: &[&str]) -> Read {
        Ok((line, fields.iter().map(|f| f.to_string()).collect()))
    }

    // Expected values below were obtained from Python 3.11's
    // `csv.reader(lines, strict=True)`.

    #[test]
    fn plain_records_lf_and_crlf() {
        assert_eq!(read("a,b\nc,d\n"), [ok(1, &["a", "b"]), ok(2, &["c", "d"])]);
        assert_eq!(read("a,b\r\nc,d"), [ok(1, &["a", "b"]), ok(2, &["c", "d"])]);
        assert_eq!(read("a,b\r"), [ok(1, &["a", "b"])]);
        assert_eq!(read("a,b\r\r\n"), [ok(1, &["a", "b"])]);
        assert_eq!(read(",\n"), [ok(1, &["", ""])]);
        assert_eq!(read("a,"), [ok(1, &["a", ""])]);
        assert_eq!(read(" \n"), [ok(1, &[" "])]);
    }

    #[test]
    fn blank_lines_are_empty_records() {
        assert_eq!(
            read("x\n\n\ny\n"),
            [ok(1, &["x"]), ok(2, &[]), ok(3, &[]), ok(4, &["y"])]
        );
        assert_eq!(read("a\r\n\r\nb"), [ok(1, &["a"]), ok(2, &[]), ok(3, &["b"])]);
        assert_eq!(read("\r"), [ok(1, &[])]);
        assert_eq!(read(""), []);
    }

    #[test]
    fn quotes() {
        assert_eq!(read("\"a\"\"b\",c\n"), [ok(1, &["a\"b", "c"])]);
        assert_eq!(read("\"\",x\n"), [ok(1, &["", "x"])]);
        assert_eq!(read("a,\"b\"\"\"\n"), [ok(1, &["a", "b\""])]);
        assert_eq!(read("\"a,b\",c"), [ok(1, &["a,b", "c"])]);
        // A quote inside an unquoted field is data; a space before a quote too.
        assert_eq!(read("ab\"c,d\n"), [ok(1, &["ab\"c", "d"])]);
        assert_eq!(read("a, \"b\"\n"), [ok(1, &["a", " \"b\""])]);
        assert_eq!(read("\"a\""), [ok(1, &["a"])]);
        assert_eq!(read("\"a\rb\",c\n"), [ok(1, &["a\rb", "c"])]);
        assert_eq!(read("\"a\"\r\r\nb\n"), [ok(1, &["a"]), ok(2, &["b"])]);
    }

    #[test]
    fn multi_line_records_report_their_first_line() {
        assert_eq!(read("a,\"b\nc\"\nd\n"), [ok(1, &["a", "b\nc"]), ok(3, &["d"])]);
        assert_eq!(
            read("h\n\"1\r\n2\r\n3\",x\r\n\r\ny\r\n"),
            [ok(1, &["h"]), ok(2, &["1\r\n2\r\n3", "x"]), ok(5, &[]), ok(6, &["y"])]
        );
        let mut r = Reader::new("a,\"b\n\nc\"\nd");
        let mut f = Vec::new();
        assert_eq!(r.next_record(&mut f), Some(Ok(Span { start: 1, end: 3 })));
        assert_eq!(r.next_record(&mut f), Some(Ok(Span { start: 4, end: 4 })));
        assert_eq!(r.next_record(&mut f), None);
    }

    #[test]
    fn strict_errors() {
        let misplaced = "',' expected after '\"'";
        let newline = "new-line character seen in unquoted field";
        assert_eq!(read("\"ab\"c,d\n"), [Err((1, misplaced))]);
        assert_eq!(read("x\n\"a\" ,b\n"), [ok(1, &["x"]), Err((2, misplaced))]);
        assert_eq!(read("a\rb,c\n"), [Err((1, newline))]);
        assert_eq!(read("\rabc\n"), [Err((1, newline))]);
        assert_eq!(read("a,\"b\"\rc\n"), [Err((1, newline))]);
        assert_eq!(read("a,\"b\n"), [Err((1, "unexpected end of data"))]);
        assert_eq!(read("\"a\"\n\"b"), [ok(1, &["a"]), Err((2, "unexpected end of data"))]);
        // Nothing is read after an error.
        assert_eq!(read("x\n\"a\"b\nc\n"), [ok(1, &["x"]), Err((2, misplaced))]);
    }

    #[test]
    fn field_size_limit() {
        let at_limit = format!("a,{}\nb,c\n", "é".repeat(FIELD_LIMIT));
        assert_eq!(read(&at_limit).len(), 2);
        let over = format!("a,{}\nb,c\n", "x".repeat(FIELD_LIMIT + 1));
        assert_eq!(read(&over), [Err((1, TOO_LONG))]);
        // In a multi-line quoted field, the error is met on the line holding
        // the character past the limit.
        let quoted = format!("\"{}{}\",b\n", "x\n".repeat(10), "y".repeat(FIELD_LIMIT));
        let mut r = Reader::new(&quoted);
        let e = r.next_record(&mut Vec::new()).unwrap().unwrap_err();
        assert_eq!((e.start, e.end, e.message), (1, 11, TOO_LONG));
        // Doubled quotes count once.
        let doubled = format!("\"{}\",b\n", "\"\"".repeat(FIELD_LIMIT));
        assert_eq!(read(&doubled).len(), 1);
        assert!(read(&doubled)[0].is_ok());
    }

    #[test]
    fn decode_reports_each_bad_line_and_goes_on() {
        let (text, issues) = decode(b"\xef\xbb\xbfid,name\nx,caf\xe9\ny,ok\nz,\xff\xfe\n");
        assert_eq!(text, "id,name\nx,caf\u{fffd}\ny,ok\nz,\u{fffd}\u{fffd}\n");
        assert_eq!(
            issues,
            [
                Utf8Issue {
                    line: 2,
                    byte: 0xe9,
                    column: 6
                },
                Utf8Issue {
                    line: 4,
                    byte: 0xff,
                    column: 3
                }
            ]
        );
        // The BOM is not counted in line 1's byte positions.
        let (_, issues) = decode(b"\xef\xbb\xbfa\xe9\n");
        assert_eq!(
            issues,
            [Utf8Issue {
                line: 1,
                byte: 0xe9,
                column: 2
            }]
        );
        assert!(matches!(decode(b"a,b\n").0, Cow::Borrowed("a,b\n")));
    }
}
