//! Column and table helpers shared by the migrations.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub fn n(s: &str) -> Alias {
    Alias::new(s)
}

/// A table with a surrogate `id` key and the bookkeeping columns every
/// record carries: `created_at`, `updated_at` and the optimistic-concurrency
/// `version` (bumped on every change).
pub fn record_table(table: &str) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(n(table))
        .col(big_pk_auto(n("id")))
        .col(timestamp_with_time_zone(n("created_at")))
        .col(timestamp_with_time_zone(n("updated_at")))
        .col(integer(n("version")).default(1));
    t
}

/// The external id a record has in bundles (`ref`), unique per table.
pub fn ref_col() -> ColumnDef {
    string_len_uniq(n("ref"), 64)
}

/// A string column restricted to a closed vocabulary by a `CHECK`.
pub fn enum_col(col: &str, values: &[&str], nullable: bool) -> ColumnDef {
    let mut c = if nullable {
        string_len_null(n(col), 32)
    } else {
        string_len(n(col), 32)
    };
    c.check(Expr::col(n(col)).is_in(values.iter().copied()));
    c
}

/// `CHECK (a IS NULL OR b IS NULL OR b >= a)`: a period may not end before it starts.
pub fn period_check(start: &str, end: &str) -> SimpleExpr {
    Expr::col(n(start))
        .is_null()
        .or(Expr::col(n(end)).is_null())
        .or(Expr::col(n(end)).gte(Expr::col(n(start))))
}

/// A foreign key `table.col → target.id`.
pub fn fk(table: &str, col: &str, target: &str, on_delete: ForeignKeyAction) -> ForeignKeyCreateStatement {
    let mut f = ForeignKey::create();
    f.name(format!("fk_{table}_{col}"))
        .from(n(table), n(col))
        .to(n(target), n("id"))
        .on_delete(on_delete)
        .on_update(ForeignKeyAction::Cascade);
    f
}

pub fn index(table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("ix_{table}_{}", cols.join("_"))).table(n(table));
    for c in cols {
        i.col(n(c));
    }
    i
}

pub fn unique(table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut i = index(table, cols);
    i.name(format!("ux_{table}_{}", cols.join("_"))).unique();
    i
}

/// The search key of a name, as `model::text::search_key` made it when a
/// migration first filled a key column: accents removed, lower case, every
/// run of punctuation or space folded to one space. A frozen copy, as the
/// vocabularies are: the application's tests check that both agree.
pub fn search_key(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out.replace('œ', "oe").replace('æ', "ae")
}
