//! What the search tests share (`tests/search.rs`, `tests/search_migration.rs`):
//! the API over a database, the searchable lists, and a plain scan to
//! compare every search with.

use async_graphql::Request;
use maillage::api::graphql::{ApiConfig, AppSchema, Loaders, schema};
use maillage::domain::access::Principal;
use maillage::model::text::search_key;
use maillage::storage::Scope;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

use super::engine;

/// The schema over `db`, asked as the server itself (or as `principal`).
pub struct Api {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
}

impl Api {
    pub fn new(db: &DatabaseConnection) -> Api {
        let config = ApiConfig {
            default_page_size: 100,
            max_page_size: 2000,
        };
        Api {
            db: db.clone(),
            schema: schema(Some(db.clone()), config),
        }
    }

    pub async fn raw_as(&self, principal: Option<Principal>, query: &str, vars: Value) -> Value {
        // A mutation's loaders keep nothing: its later fields see its writes.
        let loaders = if query.starts_with("mutation") {
            Loaders::new(&self.db, &Scope::All)
        } else {
            Loaders::caching(&self.db, &Scope::All)
        };
        let mut req = Request::new(query)
            .variables(async_graphql::Variables::from_json(vars))
            .data(loaders)
            .data(Scope::All);
        if let Some(p) = principal {
            req = req.data(p);
        }
        serde_json::to_value(maillage::api::graphql::execute(&self.schema, req).await).unwrap()
    }

    pub async fn q(&self, query: &str, vars: Value) -> Value {
        let r = self.raw_as(None, query, vars.clone()).await;
        assert!(r.get("errors").is_none(), "{query}\n{vars}\n{r}");
        r["data"].clone()
    }
}

/// A searchable list: its root field, table, search key column, the field
/// its name is read from, and its orders with the SQL a plain reference
/// sorts by (and whether the column may be NULL).
pub struct List {
    pub field: &'static str,
    pub table: &'static str,
    pub key: &'static str,
    /// A word some of the demo's rows hold.
    pub word: &'static str,
    pub orders: &'static [(&'static str, &'static str, bool)],
}

pub const LISTS: [List; 5] = [
    List {
        field: "partners",
        table: "partners",
        word: "fensch",
        key: "name_search",
        orders: &[
            ("NAME", "name_search", false),
            ("KIND", "kind", false),
            ("UPDATED_AT", "updated_at", false),
        ],
    },
    List {
        field: "networks",
        table: "networks",
        word: "fensch",
        key: "name_search",
        orders: &[
            ("NAME", "name_search", false),
            ("KIND", "kind", false),
            ("STARTED_ON", "started_on", true),
        ],
    },
    List {
        field: "territories",
        table: "territories",
        word: "fensch",
        key: "name_search",
        orders: &[
            ("NAME", "name_search", false),
            ("CODE", "code", true),
            ("POPULATION", "population", true),
        ],
    },
    List {
        field: "actions",
        table: "actions",
        word: "jeunes",
        key: "title_search",
        orders: &[
            ("TITLE", "title_search", false),
            ("THEME", "theme", false),
            ("UPDATED_AT", "updated_at", false),
        ],
    },
    List {
        field: "contacts",
        table: "contacts",
        word: "garnier",
        key: "name_search",
        orders: &[("NAME", "full_name", false)],
    },
];

/// Searches worth trying: words of every length (one and two characters
/// have no trigram), several words, accents and case, punctuation, none.
pub const SEARCHES: &[&str] = &[
    "centre",
    "ecole",
    "ÉCOLE chance",
    "de",
    "la de",
    "e",
    "saint-jean",
    "mission locale",
    "œuvre",
    "fensch",
    "ml",
    "2e",
    "zzzz",
    "  ",
    "jeunes",
    "d hayange",
    "ville",
    "ar",
];

/// The ids a plain scan finds, in the order asked: every word a `LIKE` on
/// the key written so that no index can serve it (`|| ''`), the order's
/// column (NULLs last), then the id.
pub async fn scanned(db: &DatabaseConnection, l: &List, search: &str, order: Option<(&str, bool, bool)>) -> Vec<i64> {
    let mut words = vec![];
    for w in search_key(search).split(' ').filter(|w| !w.is_empty()) {
        words.push(format!("({} || '') LIKE '%{w}%'", l.key));
    }
    let cond = if words.is_empty() {
        "1 = 1".into()
    } else {
        words.join(" AND ")
    };
    let by = match order {
        None => String::new(),
        Some((col, desc, nullable)) => {
            let null = if nullable {
                format!("({col} IS NULL), ")
            } else {
                String::new()
            };
            format!("{null}{col} {}, ", if desc { "DESC" } else { "ASC" })
        }
    };
    let sql = format!("SELECT id FROM {} WHERE {cond} ORDER BY {by}id", l.table);
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    rows.iter().map(|r| r.try_get_by_index::<i64>(0).unwrap()).collect()
}

/// The row id of a global id (`Kind:n`, base64).
pub fn row_id(gid: &str) -> i64 {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(gid).unwrap();
    String::from_utf8(raw)
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The ids a list answers for `search` in `order` (one page of all), and its `totalCount`.
pub async fn listed(api: &Api, l: &List, search: &str, order: Option<(&str, bool)>) -> (Vec<i64>, u64) {
    let order = order.map_or(String::new(), |(f, desc)| {
        format!(
            ", orderBy: [{{field: {f}, direction: {}}}]",
            if desc { "DESC" } else { "ASC" }
        )
    });
    let q = format!(
        "query($s: String) {{ l: {}(first: 2000, filter: {{search: $s}}{order}) {{ totalCount nodes {{ id }} }} }}",
        l.field
    );
    let d = api.q(&q, json!({ "s": search })).await;
    let ids = d["l"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| row_id(n["id"].as_str().unwrap()));
    (ids.collect(), d["l"]["totalCount"].as_u64().unwrap())
}

/// Every search of every list, in every order and both directions, equals
/// the plain scan: on `db` as it stands.
pub async fn every_search_answers_as_the_scan(db: &DatabaseConnection) {
    let api = Api::new(db);
    for l in &LISTS {
        for s in SEARCHES {
            let all = scanned(db, l, s, None).await;
            let (ids, total) = listed(&api, l, s, None).await;
            assert_eq!(ids, all, "{} {s:?} in creation order", l.field);
            assert_eq!(total as usize, all.len(), "{} {s:?}: totalCount", l.field);
            for &(field, col, nullable) in l.orders {
                for desc in [false, true] {
                    let want = scanned(db, l, s, Some((col, desc, nullable))).await;
                    let (got, _) = listed(&api, l, s, Some((field, desc))).await;
                    assert_eq!(got, want, "{} {s:?} by {field} desc={desc}", l.field);
                }
            }
        }
    }
}

/// SQLite: the FTS5 tables hold exactly what their rows say (FTS5's own
/// `integrity-check` against the content table).
pub async fn fts_in_step(db: &DatabaseConnection) {
    if engine() != "sqlite" {
        return;
    }
    for (table, _) in migration::SEARCH_KEYS {
        let fts = migration::fts_table(table);
        db.execute_unprepared(&format!(
            "INSERT INTO {fts} ({fts}, rank) VALUES ('integrity-check', 1)"
        ))
        .await
        .unwrap_or_else(|e| panic!("{fts} out of step with {table}: {e}"));
    }
}
