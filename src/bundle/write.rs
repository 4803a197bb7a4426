//! Writing a bundle: the inverse of reading one (`check`).
//!
//! Every file written has its full header in the format's column order, even
//! when it has no row. Which optional files are written follows
//! `bundle.present` (an export sets [`Present::ALL`]), so that a bundle read
//! from a partial folder writes back the same folder and re-reads to an equal
//! [`Bundle`].
//!
//! Values are written so that `check` reads them back exactly: money from
//! the integer cents (`1250050` → `12500.50`, never through a float), numbers
//! with Rust's shortest representation that parses back to the same `f64`
//! (never an exponent), dates as `YYYY-MM-DD`, absent values as empty fields.
//! Quoting is left to the `csv` crate (only where needed), whose output
//! follows RFC 4180 and so is read by the strict reader.

use std::borrow::Cow;
use std::io::{self, Write};

use chrono::NaiveDate;

use super::format::{
    ACTION_PARTNERS, ACTION_TERRITORIES, ACTIONS, CONTACTS, FILE_NAMES, MEMBERSHIPS, NETWORKS, PARTNER_TERRITORIES,
    PARTNERS, RELATIONS, SCHEMA, TERRITORIES,
};
use super::rules::euros;
use super::*;
use crate::model::Cents;

/// Writes a bundle as CSV files into `dir` (created if needed). Other files
/// in `dir` are left alone.
pub fn write_dir(bundle: &Bundle, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for f in files_of(bundle) {
        let file = std::fs::File::create(dir.join(FILE_NAMES[f]))?;
        write_file(bundle, f, io::BufWriter::new(file))?
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
    }
    Ok(())
}

/// A bundle as in-memory files.
pub fn to_files(bundle: &Bundle) -> BundleFiles {
    let files = files_of(bundle)
        .map(|f| {
            let bytes = write_file(bundle, f, Vec::new()).expect("writing to memory does not fail");
            (FILE_NAMES[f].to_owned(), bytes)
        })
        .collect();
    BundleFiles { files }
}

/// The files to write: the two required ones and the optional ones present.
fn files_of(bundle: &Bundle) -> impl Iterator<Item = usize> + use<> {
    let p = bundle.present;
    let present = [
        true,
        true,
        p.partner_territories,
        p.contacts,
        p.networks,
        p.memberships,
        p.actions,
        p.action_partners,
        p.action_territories,
        p.relations,
    ];
    (0..FILE_NAMES.len()).filter(move |&f| present[f])
}

/// Writes one file; gives back the underlying writer, flushed.
fn write_file<W: Write>(bundle: &Bundle, f: usize, out: W) -> io::Result<W> {
    let mut w = csv::WriterBuilder::new().from_writer(out);
    w.write_record(SCHEMA[f].iter().map(|c| c.name))?;
    match f {
        TERRITORIES => {
            for t in &bundle.territories {
                let kind = t.kind.as_str().into();
                let row = [
                    s(&t.id),
                    kind,
                    o(&t.code),
                    s(&t.name),
                    o(&t.parent_ref),
                    int(t.population),
                    num(t.lat),
                    num(t.lon),
                ];
                put(&mut w, row)?;
            }
        }
        PARTNERS => {
            for p in &bundle.partners {
                put(
                    &mut w,
                    [
                        s(&p.id),
                        s(&p.name),
                        p.kind.as_str().into(),
                        o(&p.siret),
                        o(&p.parent_ref),
                        o(&p.territory_ref),
                        o(&p.website),
                        o(&p.email),
                        o(&p.phone),
                        o(&p.description),
                    ],
                )?;
            }
        }
        PARTNER_TERRITORIES => {
            for pt in &bundle.partner_territories {
                w.write_record([&pt.partner_ref, &pt.territory_ref])?;
            }
        }
        CONTACTS => {
            for c in &bundle.contacts {
                put(
                    &mut w,
                    [
                        s(&c.id),
                        s(&c.partner_ref),
                        s(&c.full_name),
                        o(&c.role_title),
                        o(&c.email),
                        o(&c.phone),
                    ],
                )?;
            }
        }
        NETWORKS => {
            for n in &bundle.networks {
                put(
                    &mut w,
                    [
                        s(&n.id),
                        s(&n.name),
                        n.kind.as_str().into(),
                        o(&n.territory_ref),
                        o(&n.parent_ref),
                        date(n.started_on),
                        date(n.ended_on),
                        o(&n.description),
                        vis(n.visibility),
                    ],
                )?;
            }
        }
        MEMBERSHIPS => {
            for m in &bundle.memberships {
                let role = m.role.as_str().into();
                put(
                    &mut w,
                    [s(&m.network_ref), s(&m.partner_ref), role, date(m.since), date(m.until)],
                )?;
            }
        }
        ACTIONS => {
            for a in &bundle.actions {
                put(
                    &mut w,
                    [
                        s(&a.id),
                        s(&a.title),
                        a.theme.as_str().into(),
                        a.status.as_str().into(),
                        o(&a.network_ref),
                        date(a.started_on),
                        date(a.ended_on),
                        money(a.budget_cents),
                        int(a.beneficiaries),
                        o(&a.description),
                        vis(a.visibility),
                    ],
                )?;
            }
        }
        ACTION_PARTNERS => {
            for ap in &bundle.action_partners {
                let role = ap.role.as_str().into();
                put(
                    &mut w,
                    [
                        s(&ap.action_ref),
                        s(&ap.partner_ref),
                        role,
                        money(ap.contribution_cents),
                    ],
                )?;
            }
        }
        ACTION_TERRITORIES => {
            for at in &bundle.action_territories {
                w.write_record([&at.action_ref, &at.territory_ref])?;
            }
        }
        RELATIONS => {
            for r in &bundle.relations {
                put(
                    &mut w,
                    [
                        s(&r.from_ref),
                        s(&r.to_ref),
                        r.kind.as_str().into(),
                        date(r.since),
                        date(r.until),
                        num(Some(r.weight)),
                        o(&r.note),
                        vis(r.visibility),
                    ],
                )?;
            }
        }
        _ => unreachable!("no file #{f}"),
    }
    w.into_inner().map_err(|e| e.into_error())
}

fn put<W: Write, const N: usize>(w: &mut csv::Writer<W>, row: [Cow<'_, str>; N]) -> csv::Result<()> {
    w.write_record(row.iter().map(|v| v.as_bytes()))
}

fn s(v: &str) -> Cow<'_, str> {
    Cow::Borrowed(v)
}

fn o(v: &Option<String>) -> Cow<'_, str> {
    Cow::Borrowed(v.as_deref().unwrap_or(""))
}

fn vis(v: Option<crate::model::Visibility>) -> Cow<'static, str> {
    Cow::Borrowed(v.map_or("", |v| v.as_str()))
}

fn date(v: Option<NaiveDate>) -> Cow<'static, str> {
    v.map_or(Cow::Borrowed(""), |d| d.format("%Y-%m-%d").to_string().into())
}

fn money(v: Option<Cents>) -> Cow<'static, str> {
    v.map_or(Cow::Borrowed(""), |c| euros(c).into())
}

fn int(v: Option<i64>) -> Cow<'static, str> {
    v.map_or(Cow::Borrowed(""), |i| i.to_string().into())
}

/// Rust's `Display` for `f64` is the shortest decimal that parses back to the
/// same value, and never uses an exponent (which the format forbids).
fn num(v: Option<f64>) -> Cow<'static, str> {
    v.map_or(Cow::Borrowed(""), |x| x.to_string().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_no_exponent() {
        assert_eq!(num(Some(1.0)), "1");
        assert_eq!(num(Some(0.1)), "0.1");
        assert_eq!(num(Some(1e-7)), "0.0000001");
        assert_eq!(num(Some(49.358_512)), "49.358512");
        assert_eq!(num(Some(1e21)), "1000000000000000000000");
    }
}
