//! The rules a single value or record obeys, shared by the bundle reader
//! ([`super::check`]) and by the edits the API makes one record at a time
//! (`domain::edit`): one definition, so that the import and a mutation accept
//! and refuse exactly the same values, with the same messages.
//!
//! Value checks take the text of the value (as a bundle field holds it; the
//! API turns its typed numbers into the same text) and return it converted,
//! or the message. Record rules are message builders: where the rule needs
//! the other rows, the caller gathers them (the bundle from its files, the
//! API from the database).

use std::borrow::Cow;
use std::fmt;

use chrono::NaiveDate;

use crate::model::*;

// ----------------------------------------------------------------------------
// Values
// ----------------------------------------------------------------------------

/// A record's external id: 1–64 characters of `A-Za-z0-9._:-`.
pub fn id(v: &str) -> Result<(), String> {
    if is_id(v) {
        Ok(())
    } else {
        Err(format!("invalid id {} (1-64 characters of A-Za-z0-9._:-)", Quoted(v)))
    }
}

/// Free text: anything but NUL (which neither database stores).
pub fn text(v: &str) -> Result<(), String> {
    if v.contains('\0') {
        Err("NUL character in text".into())
    } else {
        Ok(())
    }
}

/// What an empty required value is told.
pub const REQUIRED: &str = "required value is empty";

/// `YYYY-MM-DD`, a day that exists.
pub fn date(v: &str) -> Result<NaiveDate, String> {
    parse_date(v).map_err(|why| format!("invalid date {} ({why})", Quoted(v)))
}

/// An amount in euros, not negative: cents, and whether that was exact
/// (more than 2 decimals are rounded half up).
pub fn money(v: &str) -> Result<(Cents, bool), String> {
    let n = ascii_digits(v);
    if !is_number(&n, true) {
        let e = "expected a decimal number like 12500.50, with a dot and no thousands separator";
        Err(format!("invalid amount {} ({e})", Quoted(v)))
    } else if n.starts_with('-') && float(&n) != 0.0 {
        Err(format!("negative amount {v}"))
    } else {
        to_cents(&n).ok_or_else(|| format!("amount {v} is too large"))
    }
}

/// Euros from cents, exactly (the inverse of [`money`], as a bundle writes
/// amounts): `1250050` → `12500.50`, `1250000` → `12500`.
pub fn euros(cents: Cents) -> String {
    let (sign, abs) = (if cents < 0 { "-" } else { "" }, cents.unsigned_abs());
    match abs % 100 {
        0 => format!("{sign}{}", abs / 100),
        c => format!("{sign}{}.{c:02}", abs / 100),
    }
}

/// A count (population, beneficiaries): an integer, not negative.
pub fn count(v: &str) -> Result<i64, String> {
    let n = ascii_digits(v);
    if !is_number(&n, false) {
        Err(format!("invalid integer {}", Quoted(v)))
    } else if n.starts_with('-') && n.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        Err(format!("negative value {v}"))
    } else {
        n.parse::<i64>().map_err(|_| format!("integer {v} is too large"))
    }
}

/// A number > 0 (a relation's `weight`), named `col` in the message.
pub fn positive(col: &str, v: &str) -> Result<f64, String> {
    let n = ascii_digits(v);
    if !is_number(&n, true) {
        Err(format!("invalid number {}", Quoted(v)))
    } else if float(&n) <= 0.0 {
        Err(format!("{col} must be positive, got {v}"))
    } else {
        Ok(float(&n))
    }
}

/// A latitude (`limit` 90) or longitude (`limit` 180) in degrees.
pub fn coordinate(col: &str, v: &str, limit: f64) -> Result<f64, String> {
    let n = ascii_digits(v);
    if !is_number(&n, true) {
        Err(format!("invalid coordinate {}", Quoted(v)))
    } else if float(&n).abs() > limit {
        Err(format!("{col} out of range: {v} (at most {limit} degrees)"))
    } else {
        Ok(float(&n))
    }
}

/// Degrees a latitude may not exceed.
pub const LAT_LIMIT: f64 = 90.0;
/// Degrees a longitude may not exceed.
pub const LON_LIMIT: f64 = 180.0;

/// A SIRET: 14 digits. Returns whether it passes the Luhn check (a failure
/// is only a warning; La Poste's establishments, SIREN 356000000, are
/// numbered outside the scheme and always pass).
pub fn siret(v: &str) -> Result<bool, String> {
    if v.chars().count() != 14 || !v.chars().all(|c| decimal_digit(c).is_some()) {
        return Err(format!("invalid SIRET {} (expected 14 digits)", Quoted(v)));
    }
    Ok(luhn_ok(v) || v.starts_with("356000000"))
}

// ----------------------------------------------------------------------------
// Record rules (messages; the caller knows which rows are involved)
// ----------------------------------------------------------------------------

/// A date range may be one day (`start == end`), never end before it starts.
pub fn date_range(start_name: &str, start: NaiveDate, end_name: &str, end: NaiveDate) -> Result<(), String> {
    if end < start {
        Err(format!("{end_name} {end} is before {start_name} {start}"))
    } else {
        Ok(())
    }
}

/// A `parent_id` naming the record itself.
pub const OWN_PARENT: &str = "record is its own parent";

/// A territory sits inside one of strictly higher rank.
pub fn territory_rank(child: TerritoryKind, parent: TerritoryKind, parent_ref: &str) -> Result<(), String> {
    if parent.rank() >= child.rank() {
        Err(format!(
            "a {child} cannot sit inside a {parent} ({})",
            Quoted(parent_ref)
        ))
    } else {
        Ok(())
    }
}

/// A territory whose new kind is no longer above one of its children.
pub fn territory_rank_changed(
    parent_ref: &str,
    parent: TerritoryKind,
    child: TerritoryKind,
    child_ref: &str,
) -> String {
    format!(
        "{} becomes a {parent}, but the hub's {child} {} sits inside it",
        Quoted(parent_ref),
        Quoted(child_ref)
    )
}

/// A `parent_id` chain that comes back to where it started: `chain` lists
/// the records of the cycle, the first one repeated at the end.
pub fn cycle(chain: &[&str]) -> String {
    format!("cycle in parent_id chain: {}", chain.join(" -> "))
}

/// An external id already used by a record of the same type.
pub fn duplicate_id(id: &str) -> String {
    format!("duplicate id {}", Quoted(id))
}

/// A territory code another territory of the same kind holds.
pub fn code_taken(code: &str, holder: &str) -> String {
    format!(
        "code {} already used by territory {} in the hub",
        Quoted(code),
        Quoted(holder)
    )
}

/// Two link rows with the same key: `parts` are the key's columns and values.
pub fn duplicate_key(parts: &[(&str, &str)]) -> String {
    let what = parts.iter().map(|(c, v)| format!("{c} {}", Quoted(v)));
    format!("duplicate row for {}", what.collect::<Vec<_>>().join(", "))
}

/// A relation from a partner to itself.
pub fn self_relation(partner: &str) -> String {
    format!("relation from partner {} to itself", Quoted(partner))
}

/// A reference to a record that does not exist.
pub fn dangling(label: &str, v: &str) -> String {
    format!("unknown {label} id {} (dangling reference)", Quoted(v))
}

/// A second lead for an action that has one: `old` must get another role first.
pub fn lead_taken(action: &str, new: &str, old: &str) -> String {
    let (a, n, o) = (Quoted(action), Quoted(new), Quoted(old));
    format!("action {a} already has lead {o}: give {o} another role to make {n} the lead")
}

/// A value in a message, quoted like Python's `repr` does it.
pub struct Quoted<'s>(pub &'s str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}'", self.0.escape_debug())
    }
}

/// 1–64 characters of `A-Za-z0-9._:-`.
pub fn is_id(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// `YYYY-MM-DD`, a day that exists.
pub fn parse_date(v: &str) -> Result<NaiveDate, &'static str> {
    let b = v.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err("expected YYYY-MM-DD");
    }
    let num = |r: std::ops::Range<usize>| v[r].parse::<u32>().unwrap_or(0);
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    // Python's dates start at year 1.
    NaiveDate::from_ymd_opt(y as i32, m, d)
        .filter(|_| y >= 1)
        .ok_or("no such day")
}

/// The zero of each run of ten decimal digits (Unicode category Nd) other
/// than ASCII's, as of Unicode 14.0 (Python 3.11's `unicodedata`).
const DIGIT_ZEROS: [u32; 65] = [
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0, 0xF20,
    0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0,
    0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0,
    0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The value of a decimal digit. The validator's patterns use Python's `\d`,
/// which matches every Unicode decimal digit, and `int()`/`float()` accept
/// them: `١٢٣` is a valid amount there, so it is here.
pub fn decimal_digit(c: char) -> Option<u32> {
    if c.is_ascii_digit() {
        return Some(c as u32 - '0' as u32);
    }
    let c = c as u32;
    let i = DIGIT_ZEROS.partition_point(|&z| z <= c).checked_sub(1)?;
    Some(c - DIGIT_ZEROS[i]).filter(|d| *d < 10)
}

/// The value with every decimal digit made ASCII (borrowed in the usual,
/// all-ASCII case).
pub fn ascii_digits(v: &str) -> Cow<'_, str> {
    if v.is_ascii() {
        return Cow::Borrowed(v);
    }
    v.chars()
        .map(|c| decimal_digit(c).and_then(|d| char::from_digit(d, 10)).unwrap_or(c))
        .collect::<String>()
        .into()
}

/// `-?[0-9]+`, followed by `(\.[0-9]+)?` when `fraction` is allowed.
pub fn is_number(n: &str, fraction: bool) -> bool {
    let body = n.strip_prefix('-').unwrap_or(n);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) if fraction => (i, Some(f)),
        _ => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

/// Python's `float()` of a string that passed [`is_number`] (both round
/// correctly, so comparisons against 0 agree, underflow included).
pub fn float(n: &str) -> f64 {
    n.parse().unwrap_or(f64::NAN)
}

/// Euros (a string that passed [`is_number`], not negative) to cents,
/// rounding half up; also says whether that was exact. `None` on overflow.
pub fn to_cents(n: &str) -> Option<(Cents, bool)> {
    let body = n.strip_prefix('-').unwrap_or(n);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digit = |b: u8| Cents::from(b - b'0');
    let mut cents: Cents = 0;
    for b in int.bytes() {
        cents = cents.checked_mul(10)?.checked_add(digit(b))?;
    }
    let f = frac.as_bytes();
    let frac_digit = |i: usize| f.get(i).map_or(0, |&b| digit(b));
    cents = cents
        .checked_mul(100)?
        .checked_add(frac_digit(0) * 10 + frac_digit(1))?;
    let rest = f.get(2..).unwrap_or_default();
    if rest.first().is_some_and(|&b| b >= b'5') {
        cents = cents.checked_add(1)?;
    }
    // A "-0.00…" amount is 0 (any other negative amount is an error).
    Some((cents, rest.iter().all(|&b| b == b'0')))
}

/// The validator's Luhn check, digit value = code point − 48 (which only
/// differs from the usual check for non-ASCII digits).
pub fn luhn_ok(v: &str) -> bool {
    let mut total: i64 = 0;
    for (i, c) in v.chars().rev().enumerate() {
        let mut d = c as i64 - 48;
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        total += d;
    }
    total % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_are_exact() {
        assert_eq!(euros(1_250_050), "12500.50");
        assert_eq!(euros(1_250_000), "12500");
        assert_eq!(euros(7), "0.07");
        assert_eq!(euros(0), "0");
        assert_eq!(euros(-150), "-1.50");
        assert_eq!(euros(i64::MAX), "92233720368547758.07");
        assert_eq!(euros(i64::MIN), "-92233720368547758.08");
    }
}
