//! The graph walks (neighbourhood, shortest path, edges among a set, the
//! weighted graph of an analysis) run on the projection's compact form and
//! open each network or action once per search. This test checks them
//! against a reference written the plain way — every partner pair, read
//! from the projection's B-trees — on random projections with dated
//! memberships, cancelled actions, visibilities, and random scopes and
//! filters: the answers must be identical, tie-breaks included.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use chrono::NaiveDate;
use maillage::domain::graph::algo::Analysis;
use maillage::domain::graph::projection::within;
use maillage::domain::graph::view::{Ctx, Link};
use maillage::domain::graph::{Filter, Projection, Via};
use maillage::model::*;
use maillage::storage::Scope;
use maillage::storage::graph::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    fn year(&mut self) -> Option<NaiveDate> {
        self.chance(40)
            .then(|| NaiveDate::from_ymd_opt(2015 + self.below(10) as i32, 1, 1).unwrap())
    }
    fn vis(&mut self) -> Option<String> {
        match self.below(4) {
            0 => Some("public".into()),
            1 => Some("members".into()),
            2 => Some("internal".into()),
            _ => None,
        }
    }
}

const KINDS: [PartnerKind; 3] = [PartnerKind::Asso, PartnerKind::Ccas, PartnerKind::Ml];
const NET_KINDS: [NetworkKind; 4] = [
    NetworkKind::Cispd,
    NetworkKind::Gltd,
    NetworkKind::Youth,
    NetworkKind::ContratDeVille,
];
const THEMES: [Theme; 3] = [Theme::Youth, Theme::Housing, Theme::Health];
const STATUSES: [ActionStatus; 3] = [ActionStatus::Active, ActionStatus::Done, ActionStatus::Cancelled];

/// Partner ids are spread (not 1..n) so positions and ids differ.
fn random_projection(rng: &mut Rng, partners: i64, networks: i64, actions: i64) -> Projection {
    let mut p = Projection::default();
    let pid = |i: i64| i * 7 + 3;
    for i in 0..partners {
        p.insert(GraphRow::Partner(PartnerRow {
            id: pid(i),
            r#ref: format!("p{i}"),
            name: format!("Partner {i}"),
            kind: KINDS[rng.below(3) as usize],
            territory_id: None,
        }));
    }
    let mut row = 1;
    for n in 0..networks {
        let since = rng.year();
        p.insert(GraphRow::Network(NetworkRow {
            id: 1000 + n,
            r#ref: format!("n{n}"),
            name: format!("Network {n}"),
            kind: NET_KINDS[rng.below(4) as usize],
            visibility: rng.vis(),
            started_on: since,
            ended_on: rng.year().filter(|e| since.is_none_or(|s| *e >= s)),
        }));
        let size = 1 + rng.below(partners.min(12) as u64) as i64;
        let mut taken = HashSet::new();
        for _ in 0..size {
            let who = rng.below(partners as u64) as i64;
            if !taken.insert(who) {
                continue;
            }
            let since = rng.year();
            p.insert(GraphRow::Membership(MembershipRow {
                id: row,
                network_id: 1000 + n,
                partner_id: pid(who),
                role: MembershipRole::Member,
                since,
                until: rng.year().filter(|e| since.is_none_or(|s| *e >= s)),
            }));
            row += 1;
        }
    }
    for a in 0..actions {
        p.insert(GraphRow::Action(ActionRow {
            id: 5000 + a,
            r#ref: format!("a{a}"),
            title: format!("Action {a}"),
            theme: THEMES[rng.below(3) as usize],
            status: STATUSES[rng.below(3) as usize],
            network_id: rng.chance(50).then(|| 1000 + rng.below(networks as u64) as i64),
            visibility: rng.vis(),
            started_on: rng.year(),
            ended_on: None,
        }));
        let mut taken = HashSet::new();
        for _ in 0..1 + rng.below(5) {
            let who = rng.below(partners as u64) as i64;
            if taken.insert(who) {
                p.insert(GraphRow::Participation(ParticipationRow {
                    id: row,
                    action_id: 5000 + a,
                    partner_id: pid(who),
                    role: ParticipationRole::Contributor,
                }));
                row += 1;
            }
        }
    }
    for r in 0..partners {
        let (a, b) = (rng.below(partners as u64) as i64, rng.below(partners as u64) as i64);
        if a == b {
            continue;
        }
        let since = rng.year();
        p.insert(GraphRow::Relation(RelationRow {
            id: 9000 + r,
            from_partner_id: pid(a),
            to_partner_id: pid(b),
            kind: RelationKind::Convention,
            since,
            until: rng.year().filter(|e| since.is_none_or(|s| *e >= s)),
            weight: [0.5, 1.0, 2.0][rng.below(3) as usize],
            visibility: rng.vis(),
        }));
    }
    p
}

fn random_filter(rng: &mut Rng, p: &Projection) -> Filter {
    let mut via = vec![];
    for v in [Via::Relation, Via::Network, Via::Action] {
        if rng.chance(40) {
            via.push(v);
        }
    }
    Filter {
        via,
        as_of: rng
            .chance(40)
            .then(|| NaiveDate::from_ymd_opt(2016 + rng.below(9) as i32, 6, 1).unwrap()),
        partner_kinds: rng.chance(25).then(|| KINDS[..2].iter().copied().collect()),
        themes: rng.chance(20).then(|| [Theme::Youth].into_iter().collect()),
        networks: rng
            .chance(20)
            .then(|| p.networks.keys().copied().filter(|_| rng.chance(50)).collect()),
        territories: None,
    }
}

// ------------------------------------------------- the reference, plainly

/// Every link of `id`, pair by pair, straight from the B-trees.
fn ref_links(p: &Projection, scope: &Scope, fl: &Filter, id: i64) -> Vec<(i64, Link)> {
    let keeps = |q: i64| {
        p.partners
            .get(&q)
            .is_some_and(|r| fl.partner_kinds.as_ref().is_none_or(|k| k.contains(&r.kind)))
    };
    let mut out = vec![];
    let Some(inc) = p.by_partner.get(&id) else {
        return out;
    };
    let day = fl.as_of;
    if fl.counts(Via::Relation) {
        for rid in &inc.relations {
            let r = &p.relations[rid];
            if !p.sees_relation(scope, r) || day.is_some_and(|d| !within(r.since, r.until, d)) {
                continue;
            }
            let q = if r.from_partner_id == id {
                r.to_partner_id
            } else {
                r.from_partner_id
            };
            if keeps(q) {
                out.push((q, Link::Relation(*rid)));
            }
        }
    }
    if fl.counts(Via::Network) {
        for mid in &inc.memberships {
            let m = &p.memberships[mid];
            let n = &p.networks[&m.network_id];
            if fl.networks.as_ref().is_some_and(|s| !s.contains(&n.id))
                || !p.sees_network(scope, n)
                || day.is_some_and(|d| !within(n.started_on, n.ended_on, d) || !within(m.since, m.until, d))
            {
                continue;
            }
            for other in &p.network_members[&n.id] {
                let o = &p.memberships[other];
                if o.partner_id != id && day.is_none_or(|d| within(o.since, o.until, d)) && keeps(o.partner_id) {
                    out.push((
                        o.partner_id,
                        Link::Network {
                            network: n.id,
                            a: *mid,
                            b: *other,
                        },
                    ));
                }
            }
        }
    }
    if fl.counts(Via::Action) {
        for x in &inc.participations {
            let a = &p.actions[&p.participations[x].action_id];
            if !p.sees_action(scope, a)
                || a.status == ActionStatus::Cancelled
                || fl.themes.as_ref().is_some_and(|t| !t.contains(&a.theme))
                || day.is_some_and(|d| !within(a.started_on, a.ended_on, d))
            {
                continue;
            }
            for other in &p.action_members[&a.id] {
                let q = p.participations[other].partner_id;
                if q != id && keeps(q) {
                    out.push((q, Link::Action(a.id)));
                }
            }
        }
    }
    out
}

fn ref_neighbours(p: &Projection, s: &Scope, f: &Filter, id: i64) -> Vec<i64> {
    let mut v: Vec<i64> = ref_links(p, s, f, id).into_iter().map(|x| x.0).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn ref_neighbourhood(
    p: &Projection,
    s: &Scope,
    f: &Filter,
    c: i64,
    depth: u32,
    limit: usize,
) -> (Vec<(i64, u32)>, bool) {
    let mut seen = HashMap::from([(c, 0)]);
    let mut out = vec![(c, 0)];
    let mut queue = VecDeque::from([c]);
    while let Some(u) = queue.pop_front() {
        let d = seen[&u];
        if d == depth {
            continue;
        }
        for q in ref_neighbours(p, s, f, u) {
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

/// The bidirectional search on pairs, smaller side first, ties to the smallest ids.
fn ref_shortest(p: &Projection, s: &Scope, f: &Filter, from: i64, to: i64) -> Option<Vec<i64>> {
    if from == to {
        return Some(vec![from]);
    }
    let mut side: [HashMap<i64, (i64, u32)>; 2] = [HashMap::from([(from, (from, 0))]), HashMap::from([(to, (to, 0))])];
    let mut frontier = [vec![from], vec![to]];
    loop {
        if frontier[0].is_empty() || frontier[1].is_empty() {
            return None;
        }
        let k = if frontier[0].len() <= frontier[1].len() { 0 } else { 1 };
        let mut next = vec![];
        let mut meet: Option<(u32, i64)> = None;
        for &u in &frontier[k] {
            let du = side[k][&u].1;
            for v in ref_neighbours(p, s, f, u) {
                if side[k].contains_key(&v) {
                    continue;
                }
                side[k].insert(v, (u, du + 1));
                next.push(v);
                if let Some(&(_, dv)) = side[1 - k].get(&v)
                    && meet.is_none_or(|m| (du + 1 + dv, v) < m)
                {
                    meet = Some((du + 1 + dv, v));
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
        frontier[k] = next;
    }
}

/// The links between two partners, sorted, each once.
fn ref_between(p: &Projection, s: &Scope, f: &Filter, a: i64, b: i64) -> Vec<Link> {
    let mut v: Vec<Link> = ref_links(p, s, f, a)
        .into_iter()
        .filter(|x| x.0 == b)
        .map(|x| x.1)
        .collect();
    v.sort();
    v.dedup();
    v
}

fn weight(p: &Projection, links: &[Link]) -> f64 {
    links
        .iter()
        .map(|l| match l {
            Link::Relation(r) => p.relations[r].weight,
            _ => 1.0,
        })
        .sum()
}

#[test]
fn compiled_walks_agree_with_the_pairwise_reference() {
    let mut rng = Rng(20261201);
    let mut checked = (0, 0, 0);
    for round in 0..120 {
        let n = 5 + rng.below(40) as i64;
        let (nets, acts) = (1 + rng.below(10) as i64, rng.below(12) as i64);
        let p = random_projection(&mut rng, n, nets, acts);
        let ids: Vec<i64> = p.partners.keys().copied().collect();
        let scope = match rng.below(3) {
            0 => Scope::All,
            1 => Scope::Public,
            _ => Scope::Partner(ids[rng.below(ids.len() as u64) as usize]),
        };
        let f = random_filter(&mut rng, &p);
        let ctx = Ctx::new(&p, &scope, &f);
        let what = format!("round {round}, scope {scope:?}, filter {f:?}");

        for &a in &ids {
            assert_eq!(
                ctx.neighbours(a),
                ref_neighbours(&p, &scope, &f, a),
                "neighbours of {a}, {what}"
            );
        }
        for _ in 0..6 {
            let c = ids[rng.below(ids.len() as u64) as usize];
            let depth = 1 + rng.below(3) as u32;
            let limit = if rng.chance(30) {
                1 + rng.below(8) as usize
            } else {
                usize::MAX
            };
            let got = ctx.neighbourhood(c, depth, limit);
            assert_eq!(
                got,
                ref_neighbourhood(&p, &scope, &f, c, depth, limit),
                "neighbourhood of {c} depth {depth} limit {limit}, {what}"
            );
            if got.0.len() > 1 {
                checked.0 += 1;
            }
        }
        for _ in 0..6 {
            let (a, b) = (
                ids[rng.below(ids.len() as u64) as usize],
                ids[rng.below(ids.len() as u64) as usize],
            );
            let got = ctx.shortest_path(a, b, &HashSet::new(), &HashSet::new());
            assert_eq!(got, ref_shortest(&p, &scope, &f, a, b), "path {a} → {b}, {what}");
            if got.as_ref().is_some_and(|x| x.len() > 2) {
                checked.1 += 1;
            }
            // Alternatives: simple, each step an edge, shortest first.
            let alts = ctx.k_paths(a, b, 3);
            assert_eq!(alts.first(), got.as_ref(), "{what}");
            for w in alts.windows(2) {
                assert!(w[0].len() <= w[1].len(), "{alts:?}, {what}");
            }
            for path in &alts {
                let distinct: HashSet<_> = path.iter().collect();
                assert_eq!(distinct.len(), path.len(), "simple: {path:?}, {what}");
                for s in path.windows(2) {
                    // (Each side of the search reads links from its own end.)
                    assert!(
                        !ref_between(&p, &scope, &f, s[0], s[1]).is_empty()
                            || !ref_between(&p, &scope, &f, s[1], s[0]).is_empty(),
                        "{path:?}, {what}"
                    );
                }
            }
        }
        // Every pair: the edge, and the edges among a random subset.
        let subset: Vec<i64> = ids.iter().copied().filter(|_| rng.chance(60)).collect();
        let mut want = BTreeMap::new();
        for (i, &a) in subset.iter().enumerate() {
            for &b in &subset[i + 1..] {
                let links = ref_between(&p, &scope, &f, a, b);
                let e = ctx.edge_between(a, b);
                assert_eq!(
                    e.as_ref().map(|e| e.links.clone()).unwrap_or_default(),
                    links,
                    "edge {a}–{b}, {what}"
                );
                // (With a kind filter an edge is asked of the kept end.)
                if !links.is_empty() && f.partner_kinds.is_none() {
                    assert_eq!(
                        ctx.edge_between(b, a).map(|e| (e.a, e.b, e.weight)),
                        e.as_ref().map(|e| (e.a, e.b, e.weight))
                    );
                }
                if !links.is_empty() {
                    want.insert((a, b), (weight(&p, &links), links));
                }
            }
        }
        let got: BTreeMap<(i64, i64), (f64, Vec<Link>)> = ctx
            .edges_among(&subset)
            .into_iter()
            .map(|e| ((e.a, e.b), (e.weight, e.links)))
            .collect();
        assert_eq!(got, want, "edges among {subset:?}, {what}");
        checked.2 += want.len();
        let an = Analysis::build(&ctx, subset.clone());
        let weights: BTreeMap<(i64, i64), f64> = an
            .edges
            .iter()
            .map(|&(i, j, w)| ((an.nodes[i], an.nodes[j]), w))
            .collect();
        let want_w: BTreeMap<(i64, i64), f64> = want.iter().map(|(k, v)| (*k, v.0)).collect();
        assert_eq!(weights, want_w, "analysis weights, {what}");
    }
    // The random graphs did exercise the walks.
    assert!(checked.0 > 100 && checked.1 > 50 && checked.2 > 500, "{checked:?}");
}
