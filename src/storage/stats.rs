//! Aggregates analysts ask for, computed in SQL: action statistics grouped
//! by dimensions, and each partner's degree in the partner graph.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query, SelectStatement};
use sea_orm::{Condition, ConnectionTrait};

use super::Result;
use super::read::{Scope, Scoped};
use crate::model::TerritoryKind;
use crate::storage::entity::*;

/// What action statistics can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Theme,
    Status,
    Network,
    /// The kind of the partners taking part (an action counts once per kind).
    PartnerKind,
    /// The territories of the given kind the action takes place in or within
    /// (an action in a QPV counts for its commune, EPCI, department…).
    Territory(TerritoryKind),
    /// The year the action started.
    Year,
}

/// One group: its key (one value per dimension, in the order asked) and sums.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsRow {
    pub key: Vec<KeyValue>,
    pub count: i64,
    pub budget_cents: Option<i64>,
    pub beneficiaries: Option<i64>,
    pub contribution_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyValue {
    Text(Option<String>),
    Id(Option<i64>),
    Int(Option<i64>),
}

fn a(col: &str) -> Expr {
    Expr::col((Alias::new("actions"), Alias::new(col)))
}

/// Counts and sums over the actions `filter` keeps, grouped by `dims`.
///
/// Joins that fan out (territories, partners) would count an action or its
/// budget several times; so the keys are first computed per distinct
/// (action, key) pair, then summed over those pairs.
pub async fn action_stats<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    filter: Condition,
    dims: &[Dimension],
) -> Result<Vec<StatsRow>> {
    let mut pairs = Query::select();
    pairs
        .distinct()
        .expr_as(a("id"), Alias::new("aid"))
        .from(action::Entity)
        .cond_where(action::Entity::visible(scope))
        .cond_where(filter);
    for (i, d) in dims.iter().enumerate() {
        let k = Alias::new(format!("k{i}"));
        match d {
            Dimension::Theme => {
                pairs.expr_as(a("theme"), k);
            }
            Dimension::Status => {
                pairs.expr_as(a("status"), k);
            }
            Dimension::Network => {
                // A network the viewer may not see groups with "no network",
                // as `Action.network` answers it: a group of its own would
                // tell that it exists.
                if network::Entity::sees_all(scope) {
                    pairs.expr_as(a("network_id"), k);
                } else {
                    pairs.expr_as(
                        Expr::cust(format!(
                            "CASE WHEN \"actions\".\"network_id\" IN ({}) THEN \"actions\".\"network_id\" END",
                            super::read::visible_networks(scope)
                        )),
                        k,
                    );
                }
            }
            Dimension::Year => {
                // Dates are ISO text on SQLite and `date` on PostgreSQL: both
                // print as YYYY-MM-DD.
                pairs.expr_as(
                    Expr::cust("CAST(SUBSTR(CAST(\"actions\".\"started_on\" AS TEXT), 1, 4) AS INTEGER)"),
                    k,
                );
            }
            Dimension::PartnerKind => {
                let ap = Alias::new(format!("ap{i}"));
                let p = Alias::new(format!("p{i}"));
                pairs
                    .join_as(
                        JoinType::InnerJoin,
                        action_partner::Entity,
                        ap.clone(),
                        Expr::col((ap.clone(), Alias::new("action_id")))
                            .equals((Alias::new("actions"), Alias::new("id"))),
                    )
                    .join_as(
                        JoinType::InnerJoin,
                        partner::Entity,
                        p.clone(),
                        Expr::col((p.clone(), Alias::new("id"))).equals((ap, Alias::new("partner_id"))),
                    )
                    .expr_as(Expr::col((p, Alias::new("kind"))), k);
            }
            Dimension::Territory(kind) => {
                let at = Alias::new(format!("at{i}"));
                let ta = Alias::new(format!("ta{i}"));
                let t = Alias::new(format!("t{i}"));
                pairs
                    .join_as(
                        JoinType::InnerJoin,
                        action_territory::Entity,
                        at.clone(),
                        Expr::col((at.clone(), Alias::new("action_id")))
                            .equals((Alias::new("actions"), Alias::new("id"))),
                    )
                    .join_as(
                        JoinType::InnerJoin,
                        territory_ancestor::Entity,
                        ta.clone(),
                        Expr::col((ta.clone(), Alias::new("territory_id"))).equals((at, Alias::new("territory_id"))),
                    )
                    .join_as(
                        JoinType::InnerJoin,
                        territory::Entity,
                        t.clone(),
                        Expr::col((t.clone(), Alias::new("id")))
                            .equals((ta, Alias::new("ancestor_id")))
                            .and(Expr::col((t.clone(), Alias::new("kind"))).eq(kind.as_str())),
                    )
                    .expr_as(Expr::col((t, Alias::new("id"))), k);
            }
        }
    }

    let g = Alias::new("g");
    let mut q = Query::select();
    q.from_subquery(pairs, g.clone())
        .join(
            JoinType::InnerJoin,
            action::Entity,
            Expr::col((Alias::new("actions"), Alias::new("id"))).equals((g.clone(), Alias::new("aid"))),
        )
        // PostgreSQL's SUM(bigint) is numeric: cast back so both engines answer integers.
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .expr_as(
            Expr::cust("CAST(SUM(\"actions\".\"budget_cents\") AS BIGINT)"),
            Alias::new("budget"),
        )
        .expr_as(
            Expr::cust("CAST(SUM(\"actions\".\"beneficiaries\") AS BIGINT)"),
            Alias::new("beneficiaries"),
        )
        .expr_as(
            Expr::cust(
                "CAST(SUM((SELECT SUM(\"c\".\"contribution_cents\") FROM \"action_partners\" AS \"c\" \
                 WHERE \"c\".\"action_id\" = \"actions\".\"id\")) AS BIGINT)",
            ),
            Alias::new("contribution"),
        );
    for i in 0..dims.len() {
        let k = Expr::col((g.clone(), Alias::new(format!("k{i}"))));
        q.expr_as(k.clone(), Alias::new(format!("k{i}")))
            .add_group_by([k.clone()])
            .order_by_expr(k, Order::Asc);
    }
    let rows = db.query_all(&q).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut key = Vec::with_capacity(dims.len());
        for (i, d) in dims.iter().enumerate() {
            let col = format!("k{i}");
            key.push(match d {
                Dimension::Theme | Dimension::Status | Dimension::PartnerKind => KeyValue::Text(r.try_get("", &col)?),
                Dimension::Network | Dimension::Territory(_) => KeyValue::Id(r.try_get("", &col)?),
                Dimension::Year => KeyValue::Int(get_int(&r, &col)?),
            });
        }
        out.push(StatsRow {
            key,
            count: get_int(&r, "n")?.unwrap_or(0),
            budget_cents: get_int(&r, "budget")?,
            beneficiaries: get_int(&r, "beneficiaries")?,
            contribution_cents: get_int(&r, "contribution")?,
        });
    }
    Ok(out)
}

/// An integer column, whether the engine typed it 64- or 32-bit (a year
/// cast to INTEGER is `int4` on PostgreSQL).
fn get_int(r: &sea_orm::QueryResult, col: &str) -> Result<Option<i64>> {
    match r.try_get::<Option<i64>>("", col) {
        Ok(v) => Ok(v),
        Err(_) => Ok(r.try_get::<Option<i32>>("", col)?.map(i64::from)),
    }
}

/// Which links make two partners neighbours, for [`degrees`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Via {
    pub network: bool,
    pub action: bool,
    pub relation: bool,
}

/// For each partner of `ids`, how many distinct other partners it shares a
/// network, an action or a declared relation with (as `via` says), in one
/// statement for all of them.
pub async fn degrees<C: ConnectionTrait>(db: &C, scope: &Scope, ids: &[i64], via: Via) -> Result<HashMap<i64, i64>> {
    let mut parts: Vec<SelectStatement> = vec![];
    let pair = |table: &str, group: &str, member: &str| {
        let (x, y) = (Alias::new("x"), Alias::new("y"));
        Query::select()
            .expr_as(Expr::col((x.clone(), Alias::new(member))), Alias::new("p"))
            .expr_as(Expr::col((y.clone(), Alias::new(member))), Alias::new("o"))
            .from_as(Alias::new(table), x.clone())
            .join_as(
                JoinType::InnerJoin,
                Alias::new(table),
                y.clone(),
                Expr::col((y.clone(), Alias::new(group))).equals((x.clone(), Alias::new(group))),
            )
            .and_where(Expr::col((x.clone(), Alias::new(member))).is_in(ids.iter().copied()))
            .and_where(Expr::col((y, Alias::new(member))).ne(Expr::col((x.clone(), Alias::new(member)))))
            // A restricted viewer counts only the links it sees (the
            // co-members of a network it sees are partners it sees).
            .and_where(match (scope, table) {
                (Scope::All, _) => Expr::cust("1 = 1"),
                (_, "memberships") => Expr::cust(format!(
                    "\"x\".\"network_id\" IN ({})",
                    super::read::visible_networks(scope)
                )),
                _ => Expr::cust(format!(
                    "\"x\".\"action_id\" IN ({})",
                    super::read::visible_actions(scope)
                )),
            })
            .to_owned()
    };
    if via.network {
        parts.push(pair("memberships", "network_id", "partner_id"));
    }
    if via.action {
        parts.push(pair("action_partners", "action_id", "partner_id"));
    }
    if via.relation {
        for (a, b) in [
            ("from_partner_id", "to_partner_id"),
            ("to_partner_id", "from_partner_id"),
        ] {
            parts.push(
                Query::select()
                    .expr_as(Expr::col(Alias::new(a)), Alias::new("p"))
                    .expr_as(Expr::col(Alias::new(b)), Alias::new("o"))
                    .from(relation::Entity)
                    .and_where(Expr::col(Alias::new(a)).is_in(ids.iter().copied()))
                    .cond_where(relation::Entity::visible(scope))
                    .to_owned(),
            );
        }
    }
    let Some(mut union) = parts.first().cloned() else {
        return Ok(HashMap::new());
    };
    for p in parts.into_iter().skip(1) {
        union.union(sea_orm::sea_query::UnionType::All, p);
    }
    let x = Alias::new("u");
    let q = Query::select()
        .expr_as(Expr::col((x.clone(), Alias::new("p"))), Alias::new("p"))
        .expr_as(Expr::cust("COUNT(DISTINCT \"u\".\"o\")"), Alias::new("n"))
        .from_subquery(union, x.clone())
        .group_by_col((x, Alias::new("p")))
        .to_owned();
    let mut out = HashMap::new();
    for r in db.query_all(&q).await? {
        let p: i64 = r.try_get("", "p")?;
        out.insert(p, get_int(&r, "n")?.unwrap_or(0));
    }
    Ok(out)
}
