//! Text normalisation for searching names.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The search key of a name: accents removed, lower case, every run of
/// punctuation or space folded to one space. "Saint-Étienne" and
/// "saint etienne" share the key `saint etienne`, "École" and "ecole" share
/// `ecole`. Stored beside each searchable name and applied to queries, so
/// that a plain `LIKE` behaves alike on SQLite and PostgreSQL.
pub fn search_key(s: &str) -> String {
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
    // Ligatures common in French names that NFD leaves whole.
    if out.contains(['œ', 'æ']) {
        out = out.replace('œ', "oe").replace('æ', "ae");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::search_key;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(search_key("Saint-Étienne"), "saint etienne");
        assert_eq!(search_key("  École  Jules—Ferry "), "ecole jules ferry");
        assert_eq!(search_key("CCAS d'Hayange"), "ccas d hayange");
        assert_eq!(search_key("Œuvre"), "oeuvre");
        assert_eq!(search_key(""), "");
    }
}
