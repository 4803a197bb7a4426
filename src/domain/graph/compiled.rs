//! A compact copy of the projection's incidences, for the walks.
//!
//! The projection's B-trees are right for applying one changed row, wrong
//! for walking millions of incidences: every step is a tree lookup by id.
//! This is the same bipartite graph (partners ↔ networks and actions, plus
//! partner–partner relations) as flat arrays indexed by position
//! (compressed sparse rows), with the few columns a walk tests (dates,
//! visibility, weight) inline. It is derived from a projection when first
//! needed and dropped when the projection changes (see
//! `Projection::compiled`), so it never disagrees with it. It is built
//! from the rows ([`Rows`]) and the visibility rules ([`super::vis`]),
//! not from the projection itself.
//!
//! Positions are in id order (partners by id; hubs: networks by id, then
//! actions by id) and every list is sorted, so walks stay deterministic.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::vis::{self, Vis};
use crate::model::*;
use crate::storage::graph::{ActionRow, MembershipRow, NetworkRow, ParticipationRow, PartnerRow, RelationRow};

/// A day as a number (days since the common era); open ends are the
/// extremes, so "within" is two comparisons.
pub type Day = i32;
pub const OPEN_START: Day = Day::MIN;
pub const OPEN_END: Day = Day::MAX;

pub fn day(d: NaiveDate) -> Day {
    d.num_days_from_ce()
}

fn start(d: Option<NaiveDate>) -> Day {
    d.map_or(OPEN_START, day)
}

fn end(d: Option<NaiveDate>) -> Day {
    d.map_or(OPEN_END, day)
}

/// One end of a membership or a participation: the partner (seen from a
/// hub) or the hub (seen from a partner), the row, and its period.
#[derive(Debug, Clone, Copy)]
pub struct Inc {
    /// A partner position (in a hub's list) or a hub position (in a partner's).
    pub at: u32,
    pub since: Day,
    pub until: Day,
    /// The membership or participation id.
    pub row: i64,
}

impl Inc {
    pub fn active(&self, d: Day) -> bool {
        self.since <= d && d <= self.until
    }
}

/// A relation seen from one of its partners.
#[derive(Debug, Clone, Copy)]
pub struct Rel {
    pub other: u32,
    pub since: Day,
    pub until: Day,
    pub vis: Vis,
    pub weight: f64,
    /// The relation id.
    pub row: i64,
}

/// A network or an action, with what decides whether it links anybody.
#[derive(Debug, Clone, Copy)]
pub struct Hub {
    pub id: i64,
    /// An action's theme and status; `None` for a network.
    pub action: Option<(Theme, ActionStatus)>,
    pub started: Day,
    pub ended: Day,
    pub vis: Vis,
}

/// The rows a compact form is built from (a projection's), by id.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    pub partners: &'a BTreeMap<i64, PartnerRow>,
    pub networks: &'a BTreeMap<i64, NetworkRow>,
    pub memberships: &'a BTreeMap<i64, MembershipRow>,
    pub actions: &'a BTreeMap<i64, ActionRow>,
    pub participations: &'a BTreeMap<i64, ParticipationRow>,
    pub relations: &'a BTreeMap<i64, RelationRow>,
}

#[derive(Debug, Default)]
pub struct Compiled {
    /// Partner ids, ascending: a partner's position is its index here.
    pub ids: Vec<i64>,
    /// Networks, then actions, each by id.
    pub hubs: Vec<Hub>,
    pub networks: usize,
    p_off: Vec<u32>,
    p_inc: Vec<Inc>,
    h_off: Vec<u32>,
    h_inc: Vec<Inc>,
    r_off: Vec<u32>,
    r_inc: Vec<Rel>,
}

/// Compressed sparse rows from `(row, item)` pairs, items kept in the
/// order given within a row.
fn csr<T: Copy>(rows: usize, pairs: &[(u32, T)]) -> (Vec<u32>, Vec<T>) {
    let mut off = vec![0u32; rows + 1];
    for (r, _) in pairs {
        off[*r as usize + 1] += 1;
    }
    for i in 0..rows {
        off[i + 1] += off[i];
    }
    let mut fill = off.clone();
    let mut items: Vec<Option<T>> = vec![None; pairs.len()];
    for (r, t) in pairs {
        let at = &mut fill[*r as usize];
        items[*at as usize] = Some(*t);
        *at += 1;
    }
    (off, items.into_iter().map(|t| t.expect("every slot filled")).collect())
}

impl Compiled {
    pub fn build(p: Rows<'_>) -> Compiled {
        let ids: Vec<i64> = p.partners.keys().copied().collect();
        let pos = |id: i64| ids.binary_search(&id).ok().map(|i| i as u32);
        let mut hubs = Vec::with_capacity(p.networks.len() + p.actions.len());
        for n in p.networks.values() {
            hubs.push(Hub {
                id: n.id,
                action: None,
                started: start(n.started_on),
                ended: end(n.ended_on),
                vis: vis::network(n),
            });
        }
        let networks = hubs.len();
        for a in p.actions.values() {
            hubs.push(Hub {
                id: a.id,
                action: Some((a.theme, a.status)),
                started: start(a.started_on),
                ended: end(a.ended_on),
                vis: vis::action(a, p.networks),
            });
        }
        let hub_of = |network: Option<i64>, action: Option<i64>| -> Option<u32> {
            match (network, action) {
                (Some(n), _) => hubs[..networks].binary_search_by_key(&n, |h| h.id).ok(),
                (_, Some(a)) => hubs[networks..]
                    .binary_search_by_key(&a, |h| h.id)
                    .ok()
                    .map(|i| i + networks),
                _ => None,
            }
            .map(|i| i as u32)
        };
        // (partner, hub, since, until, row), from both kinds of link rows.
        let mut links: Vec<(u32, u32, Day, Day, i64)> =
            Vec::with_capacity(p.memberships.len() + p.participations.len());
        for m in p.memberships.values() {
            if let (Some(a), Some(h)) = (pos(m.partner_id), hub_of(Some(m.network_id), None)) {
                links.push((a, h, start(m.since), end(m.until), m.id));
            }
        }
        for x in p.participations.values() {
            if let (Some(a), Some(h)) = (pos(x.partner_id), hub_of(None, Some(x.action_id))) {
                links.push((a, h, OPEN_START, OPEN_END, x.id));
            }
        }
        let inc = |at: u32, l: &(u32, u32, Day, Day, i64)| Inc {
            at,
            since: l.2,
            until: l.3,
            row: l.4,
        };
        links.sort_unstable_by_key(|l| (l.0, l.1));
        let by_partner: Vec<(u32, Inc)> = links.iter().map(|l| (l.0, inc(l.1, l))).collect();
        let (p_off, p_inc) = csr(ids.len(), &by_partner);
        links.sort_unstable_by_key(|l| (l.1, l.0));
        let by_hub: Vec<(u32, Inc)> = links.iter().map(|l| (l.1, inc(l.0, l))).collect();
        let (h_off, h_inc) = csr(hubs.len(), &by_hub);
        drop(links);
        let mut rels: Vec<(u32, Rel)> = Vec::with_capacity(2 * p.relations.len());
        for r in p.relations.values() {
            if let (Some(a), Some(b)) = (pos(r.from_partner_id), pos(r.to_partner_id)) {
                let rel = |other| Rel {
                    other,
                    since: start(r.since),
                    until: end(r.until),
                    vis: vis::relation(r),
                    weight: r.weight,
                    row: r.id,
                };
                rels.push((a, rel(b)));
                rels.push((b, rel(a)));
            }
        }
        // Relation ids ascending within each partner (stable: they are).
        rels.sort_by_key(|x| x.0);
        let (r_off, r_inc) = csr(ids.len(), &rels);
        Compiled {
            ids,
            hubs,
            networks,
            p_off,
            p_inc,
            h_off,
            h_inc,
            r_off,
            r_inc,
        }
    }

    /// The position of a partner id.
    pub fn pos(&self, id: i64) -> Option<u32> {
        self.ids.binary_search(&id).ok().map(|i| i as u32)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// A partner's memberships and participations, by hub position.
    pub fn hubs_of(&self, u: u32) -> &[Inc] {
        &self.p_inc[self.p_off[u as usize] as usize..self.p_off[u as usize + 1] as usize]
    }

    /// A hub's members, by partner position.
    pub fn members(&self, h: u32) -> &[Inc] {
        &self.h_inc[self.h_off[h as usize] as usize..self.h_off[h as usize + 1] as usize]
    }

    /// A partner's relations, by relation id.
    pub fn relations(&self, u: u32) -> &[Rel] {
        &self.r_inc[self.r_off[u as usize] as usize..self.r_off[u as usize + 1] as usize]
    }

    pub fn is_network(&self, h: u32) -> bool {
        (h as usize) < self.networks
    }
}
