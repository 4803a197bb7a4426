//! The partner graph as one viewer sees it: edges derived from the
//! projection's rows under a scope and a filter, each with its provenance.
//!
//! An edge between two partners exists when something the viewer may see
//! links them: a relation, a network both sit in, an action both take part
//! in (`via` chooses which count; `asOf` keeps what was running that day).
//! Everything here walks the projection in id order, so answers are
//! deterministic.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use chrono::{Datelike, NaiveDate};

use super::projection::{Projection, within};
use crate::model::*;
use crate::storage::Scope;

/// What links count as edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, async_graphql::Enum)]
#[graphql(name = "LinkVia")]
pub enum Via {
    /// An explicit relation between the two partners (convention, funding, referral…).
    Relation,
    /// Co-membership: both sit in the same network.
    Network,
    /// Co-participation: both take part in the same action (cancelled actions link nobody).
    Action,
}

/// Which partners and links a question is about.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The kinds of links that count; empty: all.
    pub via: Vec<Via>,
    /// Only what was running that day: memberships and relations by their
    /// dates, networks and actions by their start and end.
    pub as_of: Option<NaiveDate>,
    /// Partners of these kinds only.
    pub partner_kinds: Option<HashSet<PartnerKind>>,
    /// Partners based in or serving one of these territories only.
    pub territories: Option<HashSet<i64>>,
    /// Co-participation in actions of these themes only (and, for a map,
    /// partners taking part in one).
    pub themes: Option<HashSet<Theme>>,
    /// Co-membership in these networks only (and, for a map, their members).
    pub networks: Option<HashSet<i64>>,
}

impl Filter {
    pub fn counts(&self, via: Via) -> bool {
        self.via.is_empty() || self.via.contains(&via)
    }
}

/// One thing that links two partners, by reference (cheap to collect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Link {
    Relation(i64),
    /// A network and the two membership rows.
    Network {
        network: i64,
        a: i64,
        b: i64,
    },
    Action(i64),
}

/// Why two partners are linked, spelled out.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub via: Via,
    /// The relation, network or action id.
    pub record: i64,
    /// Its name (a relation: its kind).
    pub label: String,
    /// A relation's kind, a network's kind, an action's theme.
    pub detail: String,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// What it adds to the edge's weight.
    pub weight: f64,
}

/// An edge of the partner graph (`a < b`), with what makes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub a: i64,
    pub b: i64,
    pub weight: f64,
    pub reasons: Vec<Reason>,
}

impl Edge {
    /// The kinds of links it has, strongest first (the first is "its kind").
    pub fn kinds(&self) -> Vec<Via> {
        let mut w: BTreeMap<Via, f64> = BTreeMap::new();
        for r in &self.reasons {
            *w.entry(r.via).or_default() += r.weight;
        }
        let mut v: Vec<(Via, f64)> = w.into_iter().collect();
        v.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        v.into_iter().map(|x| x.0).collect()
    }

    /// Sentences saying why the two are linked: one per relation, one per
    /// network, one per theme of shared actions.
    pub fn why(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut actions: BTreeMap<&str, Vec<&Reason>> = BTreeMap::new();
        for r in &self.reasons {
            match r.via {
                Via::Relation => out.push(format!(
                    "{} relation{}{}",
                    r.detail,
                    period(r.since, r.until),
                    if r.weight != 1.0 {
                        format!(" (weight {})", r.weight)
                    } else {
                        String::new()
                    }
                )),
                Via::Network => out.push(match (r.since, r.until) {
                    (_, Some(_)) => format!("both sat in {}{}", r.label, period(r.since, r.until)),
                    (Some(_), None) => format!("both sit in {}{}", r.label, period(r.since, None)),
                    (None, None) => format!("both sit in {}", r.label),
                }),
                Via::Action => actions.entry(r.detail.as_str()).or_default().push(r),
            }
        }
        for (theme, rs) in actions {
            let theme = theme.replace('_', " ");
            out.push(if rs.len() == 1 {
                format!("co-run 1 action on {theme}: {}", rs[0].label)
            } else {
                format!("co-run {} actions on {theme}", rs.len())
            });
        }
        out
    }
}

fn period(since: Option<NaiveDate>, until: Option<NaiveDate>) -> String {
    match (since, until) {
        (Some(s), Some(u)) => format!(" from {} to {}", s.year(), u.year()),
        (Some(s), None) => format!(" since {}", s.year()),
        (None, Some(u)) => format!(" until {}", u.year()),
        (None, None) => String::new(),
    }
}

/// A question over the projection: who asks, and what counts.
pub struct Ctx<'a> {
    pub p: &'a Projection,
    pub scope: &'a Scope,
    pub filter: &'a Filter,
    // Visibility of networks and actions for a restricted scope, computed
    // once per question (it walks their members).
    networks_seen: RefCell<HashMap<i64, bool>>,
    actions_seen: RefCell<HashMap<i64, bool>>,
}

impl<'a> Ctx<'a> {
    pub fn new(p: &'a Projection, scope: &'a Scope, filter: &'a Filter) -> Self {
        Ctx {
            p,
            scope,
            filter,
            networks_seen: RefCell::default(),
            actions_seen: RefCell::default(),
        }
    }

    fn sees_network(&self, id: i64) -> bool {
        if matches!(self.scope, Scope::All) {
            return self.p.networks.contains_key(&id);
        }
        *self.networks_seen.borrow_mut().entry(id).or_insert_with(|| {
            self.p
                .networks
                .get(&id)
                .is_some_and(|n| self.p.sees_network(self.scope, n))
        })
    }

    fn sees_action(&self, id: i64) -> bool {
        if matches!(self.scope, Scope::All) {
            return self.p.actions.contains_key(&id);
        }
        *self.actions_seen.borrow_mut().entry(id).or_insert_with(|| {
            self.p
                .actions
                .get(&id)
                .is_some_and(|a| self.p.sees_action(self.scope, a))
        })
    }

    /// Whether the viewer sees this partner at all.
    pub fn sees_partner(&self, id: i64) -> bool {
        self.p.sees_partner(self.scope, id)
    }

    /// Whether a partner passes the filter's kinds and territories.
    pub fn keeps(&self, id: i64) -> bool {
        let Some(p) = self.p.partners.get(&id) else {
            return false;
        };
        if let Some(k) = &self.filter.partner_kinds
            && !k.contains(&p.kind)
        {
            return false;
        }
        if let Some(t) = &self.filter.territories {
            let served = self
                .p
                .by_partner
                .get(&id)
                .is_some_and(|i| i.served.iter().any(|s| t.contains(&self.p.served[s].territory_id)));
            if !served && !p.territory_id.is_some_and(|x| t.contains(&x)) {
                return false;
            }
        }
        true
    }

    /// Calls `f(other, link)` for every link of `id` that counts, to a
    /// partner the filter keeps (in id order of the rows).
    pub fn for_each_link(&self, id: i64, mut f: impl FnMut(i64, Link)) {
        let (p, fl) = (self.p, self.filter);
        let Some(inc) = p.by_partner.get(&id) else {
            return;
        };
        let day = fl.as_of;
        if fl.counts(Via::Relation) {
            for rid in &inc.relations {
                let r = &p.relations[rid];
                if !p.sees_relation(self.scope, r) || day.is_some_and(|d| !within(r.since, r.until, d)) {
                    continue;
                }
                let q = if r.from_partner_id == id {
                    r.to_partner_id
                } else {
                    r.from_partner_id
                };
                if self.keeps(q) {
                    f(q, Link::Relation(*rid));
                }
            }
        }
        if fl.counts(Via::Network) {
            for mid in &inc.memberships {
                let m = &p.memberships[mid];
                if fl.networks.as_ref().is_some_and(|s| !s.contains(&m.network_id)) || !self.sees_network(m.network_id)
                {
                    continue;
                }
                let n = &p.networks[&m.network_id];
                if day.is_some_and(|d| !within(n.started_on, n.ended_on, d) || !within(m.since, m.until, d)) {
                    continue;
                }
                for other in &p.network_members[&n.id] {
                    let o = &p.memberships[other];
                    if o.partner_id == id
                        || day.is_some_and(|d| !within(o.since, o.until, d))
                        || !self.keeps(o.partner_id)
                    {
                        continue;
                    }
                    f(
                        o.partner_id,
                        Link::Network {
                            network: n.id,
                            a: *mid,
                            b: *other,
                        },
                    );
                }
            }
        }
        if fl.counts(Via::Action) {
            for pid in &inc.participations {
                let aid = p.participations[pid].action_id;
                if !self.sees_action(aid) {
                    continue;
                }
                let a = &p.actions[&aid];
                if a.status == ActionStatus::Cancelled
                    || fl.themes.as_ref().is_some_and(|t| !t.contains(&a.theme))
                    || day.is_some_and(|d| !within(a.started_on, a.ended_on, d))
                {
                    continue;
                }
                for other in &p.action_members[&aid] {
                    let q = p.participations[other].partner_id;
                    if q != id && self.keeps(q) {
                        f(q, Link::Action(aid));
                    }
                }
            }
        }
    }

    /// The neighbours of `id`, in id order.
    pub fn neighbours(&self, id: i64) -> Vec<i64> {
        let mut v = Vec::new();
        self.for_each_link(id, |q, _| v.push(q));
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The links of `id`, grouped by neighbour.
    pub fn links(&self, id: i64) -> BTreeMap<i64, Vec<Link>> {
        let mut m: BTreeMap<i64, Vec<Link>> = BTreeMap::new();
        self.for_each_link(id, |q, l| m.entry(q).or_default().push(l));
        m
    }

    pub fn reason(&self, l: Link) -> Reason {
        let p = self.p;
        match l {
            Link::Relation(id) => {
                let r = &p.relations[&id];
                Reason {
                    via: Via::Relation,
                    record: id,
                    label: r.kind.as_str().to_owned(),
                    detail: r.kind.as_str().to_owned(),
                    since: r.since,
                    until: r.until,
                    weight: r.weight,
                }
            }
            Link::Network { network, a, b } => {
                let n = &p.networks[&network];
                let (ma, mb) = (&p.memberships[&a], &p.memberships[&b]);
                // Together from the later start to the earlier end.
                let since = ma.since.max(mb.since).or(n.started_on);
                let until = match (ma.until, mb.until) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                }
                .or(n.ended_on);
                Reason {
                    via: Via::Network,
                    record: network,
                    label: n.name.clone(),
                    detail: n.kind.as_str().to_owned(),
                    since,
                    until,
                    weight: 1.0,
                }
            }
            Link::Action(id) => {
                let a = &p.actions[&id];
                Reason {
                    via: Via::Action,
                    record: id,
                    label: a.title.clone(),
                    detail: a.theme.as_str().to_owned(),
                    since: a.started_on,
                    until: a.ended_on,
                    weight: 1.0,
                }
            }
        }
    }

    /// The edge `a`–`b` built from its links.
    pub fn edge(&self, a: i64, b: i64, links: &[Link]) -> Edge {
        let mut links = links.to_vec();
        links.sort();
        links.dedup();
        let reasons: Vec<Reason> = links.into_iter().map(|l| self.reason(l)).collect();
        Edge {
            a: a.min(b),
            b: a.max(b),
            weight: reasons.iter().map(|r| r.weight).sum(),
            reasons,
        }
    }

    /// The edge between two partners, if they are linked.
    pub fn edge_between(&self, a: i64, b: i64) -> Option<Edge> {
        let mut links = Vec::new();
        self.for_each_link(a, |q, l| {
            if q == b {
                links.push(l)
            }
        });
        (!links.is_empty()).then(|| self.edge(a, b, &links))
    }

    /// Every edge among `nodes`.
    pub fn edges_among(&self, nodes: &[i64]) -> Vec<Edge> {
        let set: HashSet<i64> = nodes.iter().copied().collect();
        let mut out = Vec::new();
        let mut sorted = nodes.to_vec();
        sorted.sort_unstable();
        let mut m: BTreeMap<i64, Vec<Link>> = BTreeMap::new();
        for &u in &sorted {
            m.clear();
            // Only the links to a later member of the set (each edge once).
            self.for_each_link(u, |q, l| {
                if q > u && set.contains(&q) {
                    m.entry(q).or_default().push(l);
                }
            });
            for (q, links) in &m {
                out.push(self.edge(u, *q, links));
            }
        }
        out
    }

    /// The partners within `depth` links of `center`, with their distance,
    /// in BFS order; at most `limit` (then `true`: cut short).
    pub fn neighbourhood(&self, center: i64, depth: u32, limit: usize) -> (Vec<(i64, u32)>, bool) {
        let mut seen: HashMap<i64, u32> = HashMap::from([(center, 0)]);
        let mut out = vec![(center, 0)];
        let mut queue = VecDeque::from([center]);
        while let Some(u) = queue.pop_front() {
            let d = seen[&u];
            if d == depth {
                continue;
            }
            for q in self.neighbours(u) {
                if seen.contains_key(&q) {
                    continue;
                }
                if out.len() >= limit {
                    return (out, true);
                }
                seen.insert(q, d + 1);
                out.push((q, d + 1));
                queue.push_back(q);
            }
        }
        (out, false)
    }

    /// A shortest path (fewest links) from `from` to `to`, avoiding the
    /// banned nodes and edges: a bidirectional breadth-first search, which
    /// expands the smaller side each round (so a pair in two components
    /// costs the smaller one, not the larger). Ties go to the smallest ids.
    pub fn shortest_path(
        &self,
        from: i64,
        to: i64,
        banned_nodes: &HashSet<i64>,
        banned_edges: &HashSet<(i64, i64)>,
    ) -> Option<Vec<i64>> {
        if from == to {
            return Some(vec![from]);
        }
        let ok = |u: i64, v: i64| !banned_nodes.contains(&v) && !banned_edges.contains(&(u.min(v), u.max(v)));
        // node → (parent, distance), one map per side.
        let mut side: [HashMap<i64, (i64, u32)>; 2] =
            [HashMap::from([(from, (from, 0))]), HashMap::from([(to, (to, 0))])];
        let mut frontier: [Vec<i64>; 2] = [vec![from], vec![to]];
        loop {
            if frontier[0].is_empty() || frontier[1].is_empty() {
                return None;
            }
            let s = if frontier[0].len() <= frontier[1].len() { 0 } else { 1 };
            let mut next = Vec::new();
            let mut meet: Option<(u32, i64)> = None;
            for &u in &frontier[s] {
                let du = side[s][&u].1;
                for v in self.neighbours(u) {
                    if !ok(u, v) || side[s].contains_key(&v) {
                        continue;
                    }
                    side[s].insert(v, (u, du + 1));
                    next.push(v);
                    if let Some(&(_, dv)) = side[1 - s].get(&v) {
                        let total = du + 1 + dv;
                        if meet.is_none_or(|m| (total, v) < m) {
                            meet = Some((total, v));
                        }
                    }
                }
            }
            if let Some((_, m)) = meet {
                let walk = |map: &HashMap<i64, (i64, u32)>| {
                    let mut v = vec![m];
                    let mut x = m;
                    while map[&x].0 != x {
                        x = map[&x].0;
                        v.push(x);
                    }
                    v
                };
                let (mut a, b) = (walk(&side[0]), walk(&side[1]));
                a.reverse();
                a.extend_from_slice(&b[1..]);
                return Some(a);
            }
            next.sort_unstable();
            frontier[s] = next;
        }
    }

    /// Up to `k` shortest simple paths, shortest first (Yen's algorithm
    /// over [`Self::shortest_path`]).
    pub fn k_paths(&self, from: i64, to: i64, k: usize) -> Vec<Vec<i64>> {
        let none = HashSet::new();
        let Some(first) = self.shortest_path(from, to, &none, &HashSet::new()) else {
            return vec![];
        };
        let mut found = vec![first];
        let mut candidates: Vec<Vec<i64>> = Vec::new();
        while found.len() < k {
            let last = found.last().expect("one found").clone();
            for i in 0..last.len().saturating_sub(1) {
                let root = &last[..=i];
                let mut banned_edges = HashSet::new();
                for p in &found {
                    if p.len() > i + 1 && &p[..=i] == root {
                        banned_edges.insert((p[i].min(p[i + 1]), p[i].max(p[i + 1])));
                    }
                }
                let banned_nodes: HashSet<i64> = root[..i].iter().copied().collect();
                if let Some(spur) = self.shortest_path(last[i], to, &banned_nodes, &banned_edges) {
                    let mut path = root[..i].to_vec();
                    path.extend(spur);
                    if !found.contains(&path) && !candidates.contains(&path) {
                        candidates.push(path);
                    }
                }
            }
            if candidates.is_empty() {
                break;
            }
            candidates.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            found.push(candidates.remove(0));
        }
        found
    }

    /// The partners a map or an analysis is drawn on: those the viewer
    /// sees and the filter keeps; with a theme or network filter, only
    /// those with a link that passes it.
    pub fn nodes(&self) -> Vec<i64> {
        let linked_only = self.filter.themes.is_some() || self.filter.networks.is_some();
        self.p
            .partners
            .keys()
            .copied()
            .filter(|&id| self.keeps(id) && self.sees_partner(id))
            .filter(|&id| {
                if !linked_only {
                    return true;
                }
                let mut any = false;
                self.for_each_link(id, |_, l| any |= !matches!(l, Link::Relation(_)));
                any
            })
            .collect()
    }
}
