//! The partner graph as one viewer sees it: edges derived from the
//! projection's rows under a scope and a filter, each with its provenance.
//!
//! An edge between two partners exists when something the viewer may see
//! links them: a relation, a network both sit in, an action both take part
//! in (`via` chooses which count; `asOf` keeps what was running that day).
//!
//! The walks run on the projection's compact form ([`Compiled`]) and go
//! through networks and actions as *hubs*: a network of 300 members is a
//! clique of 44 850 partner pairs, but a breadth-first search needs to open
//! it only once (every member is one link from whoever entered it first),
//! so a neighbourhood or a path costs the incidences it crosses, not the
//! cliques. Whether a link exists decomposes into tests on each side
//! (the hub is seen and running; each membership is active that day; the
//! partner passes the filter), which is what makes opening a hub once
//! exact. Everything walks in id order, so answers are deterministic.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet, VecDeque};

use chrono::{Datelike, NaiveDate};

use super::compiled::{Compiled, Day, day};
use super::projection::Projection;
use super::vis::Vis;
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

/// An edge of the partner graph (`a < b`), with what makes it: the links,
/// by reference. The reasons are spelled out only when asked (a map of a
/// department has hundreds of thousands of edges, and most answers never
/// read their sentences).
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub a: i64,
    pub b: i64,
    pub weight: f64,
    /// Sorted, each once.
    pub links: Vec<Link>,
}

impl Edge {
    /// Each link spelled out.
    pub fn reasons(&self, p: &Projection) -> Vec<Reason> {
        self.links.iter().map(|l| reason(p, *l)).collect()
    }

    /// The kinds of links it has, strongest first (the first is "its kind").
    pub fn kinds(&self, p: &Projection) -> Vec<Via> {
        let mut w: BTreeMap<Via, f64> = BTreeMap::new();
        for l in &self.links {
            let (via, weight) = match l {
                Link::Relation(r) => (Via::Relation, p.relations.get(r).map_or(1.0, |r| r.weight)),
                Link::Network { .. } => (Via::Network, 1.0),
                Link::Action(_) => (Via::Action, 1.0),
            };
            *w.entry(via).or_default() += weight;
        }
        let mut v: Vec<(Via, f64)> = w.into_iter().collect();
        v.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        v.into_iter().map(|x| x.0).collect()
    }

    /// Sentences saying why the two are linked: one per relation, one per
    /// network, one per theme of shared actions.
    pub fn why(&self, p: &Projection) -> Vec<String> {
        why(&self.reasons(p))
    }
}

/// The sentences of [`Edge::why`], from its reasons.
pub fn why(reasons: &[Reason]) -> Vec<String> {
    let mut out = Vec::new();
    let mut actions: BTreeMap<&str, Vec<&Reason>> = BTreeMap::new();
    for r in reasons {
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

fn period(since: Option<NaiveDate>, until: Option<NaiveDate>) -> String {
    match (since, until) {
        (Some(s), Some(u)) => format!(" from {} to {}", s.year(), u.year()),
        (Some(s), None) => format!(" since {}", s.year()),
        (None, Some(u)) => format!(" until {}", u.year()),
        (None, None) => String::new(),
    }
}

/// A link spelled out.
pub fn reason(p: &Projection, l: Link) -> Reason {
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

/// "No position": not reached yet, not among the nodes asked about.
const UNSEEN: u32 = u32::MAX;

/// An array over partner or hub positions that empties in constant time:
/// each slot remembers the round it was written in, and a slot written in
/// an earlier round reads as unset.
///
/// Why: a walk touches a few hundred partners, but an array over all of
/// France's is 400 KB to 1.6 MB. Allocating and zeroing those per call
/// was most of a small walk's time, and returning them to the system
/// (unmapping) stalled the other threads. Marks are kept per thread and
/// reused ([`with_marks`]), so a walk costs what it visits.
#[derive(Default)]
struct Marks {
    round: u32,
    stamp: Vec<u32>,
    val: Vec<(u32, u32)>,
}

impl Marks {
    /// Starts a round over `n` slots, all unset.
    fn begin(&mut self, n: usize) {
        if self.stamp.len() < n {
            self.stamp.resize(n, 0);
            self.val.resize(n, (UNSEEN, UNSEEN));
        }
        self.round = self.round.wrapping_add(1);
        if self.round == 0 {
            // Four billion rounds on one thread: start the stamps afresh.
            self.stamp.fill(0);
            self.round = 1;
        }
    }

    #[inline]
    fn get(&self, i: u32) -> Option<(u32, u32)> {
        (self.stamp[i as usize] == self.round).then(|| self.val[i as usize])
    }

    #[inline]
    fn is_set(&self, i: u32) -> bool {
        self.stamp[i as usize] == self.round
    }

    /// Sets slot `i` as a flag (seen, opened), with no value.
    #[inline]
    fn mark(&mut self, i: u32) {
        self.set(i, (0, 0));
    }

    #[inline]
    fn set(&mut self, i: u32, v: (u32, u32)) {
        self.stamp[i as usize] = self.round;
        self.val[i as usize] = v;
    }
}

thread_local! {
    /// This thread's idle marks.
    static MARKS: RefCell<Vec<Marks>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `N` marks of this thread, each begun over its size in
/// `sizes`. They are taken out of the thread's pool while `f` runs, so a
/// nested call gets its own.
fn with_marks<const N: usize, R>(sizes: [usize; N], f: impl FnOnce(&mut [Marks; N]) -> R) -> R {
    let mut m: [Marks; N] = MARKS.with_borrow_mut(|pool| std::array::from_fn(|_| pool.pop().unwrap_or_default()));
    for (m, &n) in m.iter_mut().zip(&sizes) {
        m.begin(n);
    }
    let r = f(&mut m);
    MARKS.with_borrow_mut(|pool| pool.extend(m));
    r
}

/// A question over the projection: who asks, and what counts.
pub struct Ctx<'a> {
    pub p: &'a Projection,
    pub c: &'a Compiled,
    pub scope: &'a Scope,
    pub filter: &'a Filter,
    day: Option<Day>,
    /// The viewer's own partner, as a position (a portal's scope).
    me: Option<u32>,
    /// No kind or territory filter: every partner is kept.
    keeps_all: bool,
    /// Per partner position: 0 not yet asked, 1 kept, 2 not.
    kept: RefCell<Vec<u8>>,
}

impl<'a> Ctx<'a> {
    pub fn new(p: &'a Projection, scope: &'a Scope, filter: &'a Filter) -> Self {
        let c = p.compiled();
        Ctx {
            p,
            c,
            scope,
            filter,
            day: filter.as_of.map(day),
            me: match scope {
                Scope::Partner(id) => c.pos(*id),
                _ => None,
            },
            keeps_all: filter.partner_kinds.is_none() && filter.territories.is_none(),
            kept: RefCell::default(),
        }
    }

    /// Whether the viewer may see a record of this visibility, given a test
    /// of whether its own partner is one of the record's.
    fn sees(&self, vis: Vis, involved: impl FnOnce(u32) -> bool) -> bool {
        match (self.scope, vis) {
            (Scope::All, _) | (_, Vis::Public) => true,
            (Scope::Partner(_), Vis::Members) => self.me.is_some_and(involved),
            _ => false,
        }
    }

    /// Whether hub `h` links its members for this question: the viewer sees
    /// it, the filter counts it, and it was running that day.
    fn hub_links(&self, h: u32) -> bool {
        let hub = &self.c.hubs[h as usize];
        let fl = self.filter;
        match hub.action {
            None => {
                if !fl.counts(Via::Network) || fl.networks.as_ref().is_some_and(|s| !s.contains(&hub.id)) {
                    return false;
                }
            }
            Some((theme, status)) => {
                if !fl.counts(Via::Action)
                    || status == ActionStatus::Cancelled
                    || fl.themes.as_ref().is_some_and(|t| !t.contains(&theme))
                {
                    return false;
                }
            }
        }
        if self.day.is_some_and(|d| d < hub.started || d > hub.ended) {
            return false;
        }
        self.sees(hub.vis, |me| {
            self.c.members(h).binary_search_by_key(&me, |m| m.at).is_ok()
        })
    }

    /// Whether an incidence (a membership, a participation) is active that day.
    fn active(&self, i: &super::compiled::Inc) -> bool {
        self.day.is_none_or(|d| i.active(d))
    }

    fn relation_links(&self, u: u32, r: &super::compiled::Rel) -> bool {
        self.filter.counts(Via::Relation)
            && self.day.is_none_or(|d| r.since <= d && d <= r.until)
            && self.sees(r.vis, |me| me == u || me == r.other)
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

    /// [`Self::keeps`] by position, remembered for the question.
    fn keeps_at(&self, u: u32) -> bool {
        if self.keeps_all {
            return true;
        }
        let mut k = self.kept.borrow_mut();
        if k.is_empty() {
            k.resize(self.c.len(), 0);
        }
        if k[u as usize] == 0 {
            k[u as usize] = if self.keeps(self.c.ids[u as usize]) { 1 } else { 2 };
        }
        k[u as usize] == 1
    }

    /// Calls `f(other, link, weight)` for every link of the partner at `u`
    /// that counts, to a partner the filter keeps, pair by pair (a network
    /// calls once per other member).
    fn links_at(&self, u: u32, mut f: impl FnMut(u32, Link, f64)) {
        let c = self.c;
        for r in c.relations(u) {
            if self.relation_links(u, r) && self.keeps_at(r.other) {
                f(r.other, Link::Relation(r.row), r.weight);
            }
        }
        for i in c.hubs_of(u) {
            if !self.active(i) || !self.hub_links(i.at) {
                continue;
            }
            let hub = c.hubs[i.at as usize].id;
            let net = c.is_network(i.at);
            for m in c.members(i.at) {
                if m.at == u || !self.active(m) || !self.keeps_at(m.at) {
                    continue;
                }
                let link = if net {
                    Link::Network {
                        network: hub,
                        a: i.row,
                        b: m.row,
                    }
                } else {
                    Link::Action(hub)
                };
                f(m.at, link, 1.0);
            }
        }
    }

    /// Calls `f(v)` for the partners one link from `u` (a partner may come
    /// more than once). With `opened`, a hub already opened (by this search)
    /// is skipped and the hubs opened now are marked: every member of a
    /// hub is one link from whoever opens it first.
    fn expand(&self, u: u32, mut opened: Option<&mut Marks>, mut f: impl FnMut(u32)) {
        let c = self.c;
        for r in c.relations(u) {
            if self.relation_links(u, r) && self.keeps_at(r.other) {
                f(r.other);
            }
        }
        for i in c.hubs_of(u) {
            if opened.as_ref().is_some_and(|o| o.is_set(i.at)) || !self.active(i) || !self.hub_links(i.at) {
                continue;
            }
            if let Some(o) = opened.as_mut() {
                o.mark(i.at);
            }
            for m in c.members(i.at) {
                if m.at != u && self.active(m) && self.keeps_at(m.at) {
                    f(m.at);
                }
            }
        }
    }

    /// Calls `f(other, link)` for every link of `id` that counts, to a
    /// partner the filter keeps.
    pub fn for_each_link(&self, id: i64, mut f: impl FnMut(i64, Link)) {
        if let Some(u) = self.c.pos(id) {
            self.links_at(u, |v, l, _| f(self.c.ids[v as usize], l));
        }
    }

    /// The neighbours of `id`, in id order.
    pub fn neighbours(&self, id: i64) -> Vec<i64> {
        let Some(u) = self.c.pos(id) else {
            return vec![];
        };
        let mut v = Vec::new();
        with_marks([self.c.hubs.len()], |[opened]| {
            self.expand(u, Some(opened), |x| v.push(x))
        });
        v.sort_unstable();
        v.dedup();
        v.into_iter().map(|x| self.c.ids[x as usize]).collect()
    }

    /// A link spelled out.
    pub fn reason(&self, l: Link) -> Reason {
        reason(self.p, l)
    }

    /// The edge `a`–`b` built from its links.
    pub fn edge(&self, a: i64, b: i64, links: &[Link]) -> Edge {
        let mut links = links.to_vec();
        links.sort();
        links.dedup();
        let weight = links
            .iter()
            .map(|l| match l {
                Link::Relation(r) => self.p.relations.get(r).map_or(1.0, |r| r.weight),
                _ => 1.0,
            })
            .sum();
        Edge {
            a: a.min(b),
            b: a.max(b),
            weight,
            links,
        }
    }

    /// The edge between two partners, if they are linked: the relations
    /// of one naming the other, and the hubs both sit in (the two lists of
    /// hubs are sorted, so this is a merge, not a walk of the cliques).
    pub fn edge_between(&self, a: i64, b: i64) -> Option<Edge> {
        let c = self.c;
        let (u, v) = (c.pos(a)?, c.pos(b)?);
        if u == v || !self.keeps_at(v) {
            return None;
        }
        let mut links = Vec::new();
        for r in c.relations(u) {
            if r.other == v && self.relation_links(u, r) {
                links.push(Link::Relation(r.row));
            }
        }
        let (hu, hv) = (c.hubs_of(u), c.hubs_of(v));
        let (mut i, mut j) = (0, 0);
        while i < hu.len() && j < hv.len() {
            let (x, y) = (&hu[i], &hv[j]);
            match x.at.cmp(&y.at) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    if self.active(x) && self.active(y) && self.hub_links(x.at) {
                        let hub = c.hubs[x.at as usize].id;
                        links.push(if c.is_network(x.at) {
                            Link::Network {
                                network: hub,
                                a: x.row,
                                b: y.row,
                            }
                        } else {
                            Link::Action(hub)
                        });
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        (!links.is_empty()).then(|| self.edge(a, b, &links))
    }

    /// For each of `nodes` (partner ids, in the order given), the links to
    /// the later ones in id order: `f(i, list)` gets the index of a node
    /// and its `(j, link, weight)` with `nodes[j] > nodes[i]`, unsorted. A
    /// hub's members among `nodes` are listed once, so this costs the pairs
    /// it finds plus one pass over each hub touched.
    pub fn pairs_among(&self, nodes: &[i64], mut f: impl FnMut(usize, &mut Vec<(usize, Link, f64)>)) {
        let c = self.c;
        with_marks([c.len(), c.hubs.len()], |[at, inside]| {
            self.pairs_marked(nodes, at, inside, &mut f)
        });
    }

    /// [`Self::pairs_among`] with its two arrays: position → index in
    /// `nodes`, hub → index of its member list in `lists`.
    fn pairs_marked(
        &self,
        nodes: &[i64],
        at: &mut Marks,
        inside: &mut Marks,
        f: &mut impl FnMut(usize, &mut Vec<(usize, Link, f64)>),
    ) {
        let c = self.c;
        for (k, id) in nodes.iter().enumerate() {
            if let Some(u) = c.pos(*id) {
                at.set(u, (k as u32, 0));
            }
        }
        let at = &*at;
        let index = |u: u32| at.get(u).map_or(UNSEEN, |x| x.0);
        // Per hub touched: its active, kept members among `nodes` (position, row), by position.
        let mut lists: Vec<Vec<(u32, i64)>> = Vec::new();
        let mut out: Vec<(usize, Link, f64)> = Vec::new();
        for (k, id) in nodes.iter().enumerate() {
            out.clear();
            let Some(u) = c.pos(*id) else {
                f(k, &mut out);
                continue;
            };
            for r in c.relations(u) {
                let j = index(r.other);
                if r.other > u && j != UNSEEN && self.relation_links(u, r) && self.keeps_at(r.other) {
                    out.push((j as usize, Link::Relation(r.row), r.weight));
                }
            }
            for i in c.hubs_of(u) {
                if !self.active(i) || !self.hub_links(i.at) {
                    continue;
                }
                let slot = match inside.get(i.at) {
                    Some((slot, _)) => slot,
                    None => {
                        lists.push(
                            c.members(i.at)
                                .iter()
                                .filter(|m| at.is_set(m.at) && self.active(m) && self.keeps_at(m.at))
                                .map(|m| (m.at, m.row))
                                .collect(),
                        );
                        let slot = lists.len() as u32 - 1;
                        inside.set(i.at, (slot, 0));
                        slot
                    }
                };
                let list = &lists[slot as usize];
                let hub = c.hubs[i.at as usize].id;
                let net = c.is_network(i.at);
                // Members after `u` only: each pair once.
                let from = list.partition_point(|m| m.0 <= u);
                for &(v, row) in &list[from..] {
                    let link = if net {
                        Link::Network {
                            network: hub,
                            a: i.row,
                            b: row,
                        }
                    } else {
                        Link::Action(hub)
                    };
                    out.push((index(v) as usize, link, 1.0));
                }
            }
            f(k, &mut out);
        }
    }

    /// Every edge among `nodes`, by `(a, b)`.
    pub fn edges_among(&self, nodes: &[i64]) -> Vec<Edge> {
        let mut sorted = nodes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut edges = Vec::new();
        self.pairs_among(&sorted, |i, list| {
            list.sort_unstable_by_key(|x| (x.0, x.1));
            for run in list.chunk_by(|x, y| x.0 == y.0) {
                let mut links: Vec<Link> = run.iter().map(|x| x.1).collect();
                links.dedup();
                edges.push(Edge {
                    a: sorted[i],
                    b: sorted[run[0].0],
                    weight: run.iter().map(|x| x.2).sum(),
                    links,
                });
            }
        });
        edges
    }

    /// The partners within `depth` links of `center`, with their distance,
    /// in BFS order (each partner's new neighbours in id order); at most
    /// `limit` (then `true`: cut short).
    pub fn neighbourhood(&self, center: i64, depth: u32, limit: usize) -> (Vec<(i64, u32)>, bool) {
        let c = self.c;
        let mut out = vec![(center, 0)];
        let Some(ci) = c.pos(center) else {
            return (out, false);
        };
        // The distance travels with each queued partner: the marks only
        // say who was reached.
        with_marks([c.len(), c.hubs.len()], |[seen, opened]| {
            seen.mark(ci);
            let mut queue = VecDeque::from([(ci, 0)]);
            let mut fresh = Vec::new();
            while let Some((u, d)) = queue.pop_front() {
                if d == depth {
                    continue;
                }
                fresh.clear();
                self.expand(u, Some(opened), |v| {
                    if !seen.is_set(v) {
                        seen.mark(v);
                        fresh.push(v);
                    }
                });
                fresh.sort_unstable();
                for &v in &fresh {
                    if out.len() >= limit {
                        return (out, true);
                    }
                    out.push((c.ids[v as usize], d + 1));
                    queue.push_back((v, d + 1));
                }
            }
            (out, false)
        })
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
        let c = self.c;
        let (f, t) = (c.pos(from)?, c.pos(to)?);
        let ids = &c.ids;
        let banned: HashSet<u32> = banned_nodes.iter().filter_map(|&x| c.pos(x)).collect();
        let ok = |u: u32, v: u32| {
            !banned.contains(&v) && {
                let (a, b) = (ids[u as usize], ids[v as usize]);
                !banned_edges.contains(&(a.min(b), a.max(b)))
            }
        };
        // Position → (parent, distance), one array per side; a hub opened by
        // a side is not opened again by it — unless some edges are banned,
        // when a member may be out of reach from one entrant but not another.
        let mark = banned_edges.is_empty();
        let hubs = if mark { c.hubs.len() } else { 0 };
        with_marks([c.len(), c.len(), hubs, hubs], |[s0, s1, o0, o1]| {
            s0.set(f, (f, 0));
            s1.set(t, (t, 0));
            let mut side = [s0, s1];
            let opened = [o0, o1];
            let mut frontier: [Vec<u32>; 2] = [vec![f], vec![t]];
            loop {
                if frontier[0].is_empty() || frontier[1].is_empty() {
                    return None;
                }
                let s = if frontier[0].len() <= frontier[1].len() { 0 } else { 1 };
                let mut next = Vec::new();
                let mut meet: Option<(u32, i64, u32)> = None;
                let [a, b] = &mut side;
                let (this, other) = if s == 0 { (a, b) } else { (b, a) };
                for &u in &frontier[s] {
                    let du = this.get(u).map_or(UNSEEN, |x| x.1);
                    let o = if mark { Some(&mut *opened[s]) } else { None };
                    self.expand(u, o, |v| {
                        if this.is_set(v) || !ok(u, v) {
                            return;
                        }
                        this.set(v, (u, du + 1));
                        next.push(v);
                        if let Some((_, dv)) = other.get(v) {
                            let total = du + 1 + dv;
                            let key = (total, ids[v as usize], v);
                            if meet.is_none_or(|m| (key.0, key.1) < (m.0, m.1)) {
                                meet = Some(key);
                            }
                        }
                    });
                }
                if let Some((_, _, m)) = meet {
                    let walk = |map: &Marks| {
                        let mut v = vec![m];
                        let mut x = m;
                        while let Some((parent, _)) = map.get(x)
                            && parent != x
                        {
                            x = parent;
                            v.push(x);
                        }
                        v
                    };
                    let (mut a, b) = (walk(side[0]), walk(side[1]));
                    a.reverse();
                    a.extend_from_slice(&b[1..]);
                    return Some(a.into_iter().map(|x| ids[x as usize]).collect());
                }
                next.sort_unstable();
                frontier[s] = next;
            }
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_empty_between_rounds_and_across_the_stamp_wrap() {
        let mut m = Marks::default();
        m.begin(4);
        m.set(2, (7, 1));
        assert_eq!(m.get(2), Some((7, 1)));
        assert!(!m.is_set(1));
        m.begin(4);
        assert_eq!(m.get(2), None, "a new round starts empty");
        // Just before the stamp wraps: a slot written at round u32::MAX
        // must not read as set after the wrap (round 1 again).
        m.round = u32::MAX - 1;
        m.begin(4);
        m.set(3, (1, 1));
        m.begin(6);
        assert_eq!(m.round, 1);
        assert!((0..6).all(|i| !m.is_set(i)), "stamps were reset at the wrap");
        m.set(5, (2, 2));
        assert_eq!(m.get(5), Some((2, 2)));
    }

    #[test]
    fn nested_walks_get_their_own_marks() {
        let outer = with_marks([3], |[a]| {
            a.set(0, (1, 0));
            // A walk inside a walk (an edge's reasons during a search, say)
            // must not see or clear the outer one's marks.
            with_marks([3], |[b]| {
                assert!(!b.is_set(0));
                b.set(1, (9, 9));
            });
            (a.get(0), a.is_set(1))
        });
        assert_eq!(outer, (Some((1, 0)), false));
    }
}
