//! Whole-graph analytics over the partner graph a viewer sees:
//! centralities, communities, brokers and a layout.
//!
//! The graph structure and the textbook algorithms petgraph gets right
//! (articulation points, bridges) come from petgraph. PageRank, betweenness,
//! Louvain and the force layout are written here: petgraph's `page_rank` is
//! unweighted and quadratic per iteration (it scans every pair of nodes),
//! which is hopeless on 100 000 partners; it has no betweenness nor
//! community detection; rustworkx-core's betweenness is exact only (no
//! sampling) and it has no Louvain either, for a heavier dependency set
//! (rayon, ndarray) that two cores gain little from.

use std::collections::HashMap;

use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;

use super::view::{Ctx, Link};

/// The graph of a question, indexed `0..n` (partners in id order).
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Partner ids, in index order.
    pub nodes: Vec<i64>,
    pub index: HashMap<i64, usize>,
    /// `(a, b, weight)` with `a < b`.
    pub edges: Vec<(usize, usize, f64)>,
    /// Neighbours and edge weights.
    pub adj: Vec<Vec<(usize, f64)>>,
}

impl Analysis {
    /// The edges among `nodes` (their weight only: reasons are spelled out
    /// for the edges an answer returns).
    pub fn build(ctx: &Ctx<'_>, nodes: Vec<i64>) -> Analysis {
        let index: HashMap<i64, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let mut edges = Vec::new();
        let mut acc: HashMap<usize, f64> = HashMap::new();
        for (i, &u) in nodes.iter().enumerate() {
            acc.clear();
            ctx.for_each_link(u, |q, l| {
                if let Some(&j) = index.get(&q)
                    && j > i
                {
                    let w = match l {
                        Link::Relation(r) => ctx.p.relations[&r].weight,
                        _ => 1.0,
                    };
                    *acc.entry(j).or_default() += w;
                }
            });
            let mut row: Vec<(usize, f64)> = acc.iter().map(|(j, w)| (*j, *w)).collect();
            row.sort_by_key(|x| x.0);
            edges.extend(row.into_iter().map(|(j, w)| (i, j, w)));
        }
        let mut adj = vec![Vec::new(); nodes.len()];
        for &(a, b, w) in &edges {
            adj[a].push((b, w));
            adj[b].push((a, w));
        }
        Analysis {
            nodes,
            index,
            edges,
            adj,
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn petgraph(&self) -> UnGraph<(), f64> {
        let mut g = UnGraph::with_capacity(self.len(), self.edges.len());
        for _ in 0..self.len() {
            g.add_node(());
        }
        for &(a, b, w) in &self.edges {
            g.add_edge(NodeIndex::new(a), NodeIndex::new(b), w);
        }
        g
    }

    pub fn degree(&self) -> Vec<f64> {
        self.adj.iter().map(|a| a.len() as f64).collect()
    }

    pub fn weighted_degree(&self) -> Vec<f64> {
        self.adj.iter().map(|a| a.iter().map(|x| x.1).sum()).collect()
    }

    /// Weighted PageRank (damping 0.85) by power iteration, until the
    /// ranks move less than 1e-10 in total or 100 rounds. A partner with no
    /// link hands its rank to everyone. Ranks sum to 1.
    pub fn pagerank(&self) -> Vec<f64> {
        let n = self.len();
        if n == 0 {
            return vec![];
        }
        let d = 0.85;
        let strength = self.weighted_degree();
        let mut rank = vec![1.0 / n as f64; n];
        for _ in 0..100 {
            let dangling: f64 = (0..n).filter(|&i| strength[i] == 0.0).map(|i| rank[i]).sum();
            let base = (1.0 - d) / n as f64 + d * dangling / n as f64;
            let mut next = vec![base; n];
            for (i, row) in self.adj.iter().enumerate() {
                if strength[i] == 0.0 {
                    continue;
                }
                let share = d * rank[i] / strength[i];
                for &(j, w) in row {
                    next[j] += share * w;
                }
            }
            let delta: f64 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
            rank = next;
            if delta < 1e-10 {
                break;
            }
        }
        rank
    }

    /// Betweenness (Brandes, paths counted in links), normalised to
    /// `[0, 1]` for an undirected graph. Exact when the graph has at most
    /// `exact_limit` partners; otherwise from `samples` source partners
    /// drawn with `seed`, scaled up (an unbiased estimate). Returns the
    /// values and the number of sources used.
    pub fn betweenness(&self, exact_limit: usize, samples: usize, seed: u64) -> (Vec<f64>, usize) {
        let n = self.len();
        let mut sources: Vec<usize> = (0..n).collect();
        if n > exact_limit && samples < n {
            let mut rng = SplitMix(seed);
            for i in (1..n).rev() {
                sources.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
            }
            sources.truncate(samples.max(1));
            sources.sort_unstable();
        }
        let mut cb = vec![0.0; n];
        let mut sigma = vec![0.0f64; n];
        let mut dist = vec![-1i64; n];
        let mut delta = vec![0.0f64; n];
        let mut preds: Vec<Vec<usize>> = vec![Vec::<usize>::new(); n];
        let mut stack: Vec<usize> = Vec::with_capacity(n);
        let mut queue = std::collections::VecDeque::with_capacity(n);
        for &s in &sources {
            for &v in stack.iter() {
                let v: usize = v;
                sigma[v] = 0.0;
                dist[v] = -1;
                delta[v] = 0.0;
                preds[v].clear();
            }
            stack.clear();
            sigma[s] = 1.0;
            dist[s] = 0;
            queue.push_back(s);
            while let Some(v) = queue.pop_front() {
                stack.push(v);
                for &(w, _) in &self.adj[v] {
                    if dist[w] < 0 {
                        dist[w] = dist[v] + 1;
                        queue.push_back(w);
                    }
                    if dist[w] == dist[v] + 1 {
                        sigma[w] += sigma[v];
                        preds[w].push(v);
                    }
                }
            }
            for &w in stack.iter().rev() {
                for &v in &preds[w] {
                    delta[v] += sigma[v] / sigma[w] * (1.0 + delta[w]);
                }
                if w != s {
                    cb[w] += delta[w];
                }
            }
        }
        let scale = n as f64 / sources.len().max(1) as f64;
        // Each pair is seen from both ends in an undirected graph: halve,
        // then divide by the number of pairs not involving the node.
        let norm = if n > 2 { ((n - 1) * (n - 2)) as f64 / 2.0 } else { 1.0 };
        (cb.iter().map(|c| c * scale / 2.0 / norm).collect(), sources.len())
    }

    /// Communities by the Louvain method (weighted modularity, nodes moved
    /// in index order, so the result is deterministic). Communities are
    /// numbered from 0 by decreasing size. Returns them and the modularity.
    pub fn louvain(&self) -> (Vec<usize>, f64) {
        let n = self.len();
        let mut member: Vec<usize> = (0..n).collect();
        // The graph of the current level: adjacency with self-loops.
        let mut adj: Vec<Vec<(usize, f64)>> = self.adj.clone();
        let mut self_w = vec![0.0; n];
        for _level in 0..20 {
            let m = adj.len();
            let k: Vec<f64> = (0..m)
                .map(|i| adj[i].iter().map(|x| x.1).sum::<f64>() + 2.0 * self_w[i])
                .collect();
            let m2: f64 = k.iter().sum();
            if m2 == 0.0 {
                break;
            }
            let mut comm: Vec<usize> = (0..m).collect();
            let mut tot = k.clone();
            let mut moved_any = false;
            let mut w_to = vec![0.0; m];
            let mut touched: Vec<usize> = Vec::new();
            for _pass in 0..50 {
                let mut moved = false;
                for i in 0..m {
                    let ci = comm[i];
                    for &c in &touched {
                        w_to[c] = 0.0;
                    }
                    touched.clear();
                    for &(j, w) in &adj[i] {
                        let cj = comm[j];
                        if w_to[cj] == 0.0 {
                            touched.push(cj);
                        }
                        w_to[cj] += w;
                    }
                    tot[ci] -= k[i];
                    let gain = |c: usize, w: f64| w - tot[c] * k[i] / m2;
                    let mut best = (gain(ci, w_to[ci]), ci);
                    touched.sort_unstable();
                    for &c in &touched {
                        let g = gain(c, w_to[c]);
                        if g > best.0 + 1e-12 {
                            best = (g, c);
                        }
                    }
                    tot[best.1] += k[i];
                    if best.1 != ci {
                        comm[i] = best.1;
                        moved = true;
                        moved_any = true;
                    }
                }
                if !moved {
                    break;
                }
            }
            if !moved_any {
                break;
            }
            // Aggregate: one node per community.
            let mut renum: HashMap<usize, usize> = HashMap::new();
            for &c in &comm {
                let next = renum.len();
                renum.entry(c).or_insert(next);
            }
            let cm = renum.len();
            for x in member.iter_mut() {
                *x = renum[&comm[*x]];
            }
            let mut next_adj: Vec<HashMap<usize, f64>> = vec![HashMap::new(); cm];
            let mut next_self = vec![0.0; cm];
            for i in 0..m {
                let ci = renum[&comm[i]];
                next_self[ci] += self_w[i];
                for &(j, w) in &adj[i] {
                    let cj = renum[&comm[j]];
                    if ci == cj {
                        // Each internal edge is seen from both ends.
                        next_self[ci] += w / 2.0;
                    } else {
                        *next_adj[ci].entry(cj).or_default() += w;
                    }
                }
            }
            adj = next_adj
                .into_iter()
                .map(|m| {
                    let mut v: Vec<(usize, f64)> = m.into_iter().collect();
                    v.sort_by_key(|x| x.0);
                    v
                })
                .collect();
            self_w = next_self;
        }
        // Number by decreasing size, then by smallest member.
        let mut groups: HashMap<usize, (usize, usize)> = HashMap::new();
        for (i, &c) in member.iter().enumerate() {
            let e = groups.entry(c).or_insert((0, i));
            e.0 += 1;
        }
        let mut order: Vec<(usize, usize, usize)> = groups.into_iter().map(|(c, (s, f))| (c, s, f)).collect();
        order.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        let rank: HashMap<usize, usize> = order.iter().enumerate().map(|(r, x)| (x.0, r)).collect();
        let member: Vec<usize> = member.iter().map(|c| rank[c]).collect();
        let q = self.modularity(&member);
        (member, q)
    }

    /// Weighted modularity of a partition.
    pub fn modularity(&self, member: &[usize]) -> f64 {
        let k = self.weighted_degree();
        let m2: f64 = k.iter().sum();
        if m2 == 0.0 {
            return 0.0;
        }
        let mut inside = HashMap::<usize, f64>::new();
        let mut tot = HashMap::<usize, f64>::new();
        for &(a, b, w) in &self.edges {
            if member[a] == member[b] {
                *inside.entry(member[a]).or_default() += 2.0 * w;
            }
        }
        for (i, &c) in member.iter().enumerate() {
            *tot.entry(c).or_default() += k[i];
        }
        tot.iter()
            .map(|(c, t)| inside.get(c).copied().unwrap_or(0.0) / m2 - (t / m2).powi(2))
            .sum()
    }

    /// Partners whose removal splits their part of the network (petgraph).
    pub fn articulation_points(&self) -> Vec<usize> {
        let g = self.petgraph();
        let mut v: Vec<usize> = petgraph::algo::articulation_points::articulation_points(&g)
            .into_iter()
            .map(|n| n.index())
            .collect();
        v.sort_unstable();
        v
    }

    /// Links whose removal splits the network (petgraph), as `(a, b)`, `a < b`.
    pub fn bridges(&self) -> Vec<(usize, usize)> {
        let g = self.petgraph();
        let mut v: Vec<(usize, usize)> = petgraph::algo::bridges::bridges(&g)
            .map(|e| {
                let (a, b) = (e.source().index(), e.target().index());
                (a.min(b), a.max(b))
            })
            .collect();
        v.sort_unstable();
        v
    }

    /// How many connected pieces the rest of `i`'s component falls into
    /// without `i`.
    pub fn split_count(&self, i: usize) -> usize {
        let n = self.len();
        let mut seen = vec![false; n];
        seen[i] = true;
        let mut pieces = 0;
        for &(start, _) in &self.adj[i] {
            if seen[start] {
                continue;
            }
            pieces += 1;
            let mut stack = vec![start];
            seen[start] = true;
            while let Some(u) = stack.pop() {
                for &(v, _) in &self.adj[u] {
                    if !seen[v] {
                        seen[v] = true;
                        stack.push(v);
                    }
                }
            }
        }
        pieces
    }

    /// Node positions in `[0, 1000]²`: a Fruchterman–Reingold force layout
    /// (repulsion between nearby nodes through a grid of cells, so a round
    /// costs about O(n + m) rather than O(n²); a weak pull to the centre
    /// keeps components together), from random starting points drawn with
    /// `seed`. The same graph and seed give the same picture.
    pub fn force_layout(&self, seed: u64, iterations: Option<usize>) -> Vec<(f64, f64)> {
        let n = self.len();
        if n == 0 {
            return vec![];
        }
        let side = (n as f64).sqrt() * 100.0;
        let k = side / (n as f64).sqrt();
        let mut rng = SplitMix(seed);
        let mut pos: Vec<(f64, f64)> = (0..n).map(|_| (rng.unit() * side, rng.unit() * side)).collect();
        let iters = iterations.unwrap_or(if n < 500 {
            300
        } else if n < 5000 {
            120
        } else {
            60
        });
        let cell = 2.0 * k;
        let mut disp = vec![(0.0f64, 0.0f64); n];
        let mut t = side / 10.0;
        let cool = t / iters as f64;
        let centre = side / 2.0;
        for _ in 0..iters {
            disp.iter_mut().for_each(|d| *d = (0.0, 0.0));
            let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
            for (i, p) in pos.iter().enumerate() {
                grid.entry(((p.0 / cell).floor() as i64, (p.1 / cell).floor() as i64))
                    .or_default()
                    .push(i);
            }
            for (i, p) in pos.iter().enumerate() {
                let (cx, cy) = ((p.0 / cell).floor() as i64, (p.1 / cell).floor() as i64);
                for dx in -1..=1 {
                    for dy in -1..=1 {
                        let Some(cellv) = grid.get(&(cx + dx, cy + dy)) else {
                            continue;
                        };
                        for &j in cellv {
                            if j == i {
                                continue;
                            }
                            let (mut ddx, mut ddy) = (p.0 - pos[j].0, p.1 - pos[j].1);
                            let mut d2 = ddx * ddx + ddy * ddy;
                            if d2 < 1e-6 {
                                // Coincident: push apart along a fixed direction.
                                ddx = 0.01 * (1 + i % 7) as f64;
                                ddy = 0.01 * (1 + j % 5) as f64;
                                d2 = ddx * ddx + ddy * ddy;
                            }
                            if d2 > cell * cell {
                                continue;
                            }
                            let f = k * k / d2;
                            disp[i].0 += ddx * f;
                            disp[i].1 += ddy * f;
                        }
                    }
                }
                // Gravity.
                disp[i].0 += (centre - p.0) * 0.01 * k / side * 10.0;
                disp[i].1 += (centre - p.1) * 0.01 * k / side * 10.0;
            }
            for &(a, b, w) in &self.edges {
                let (dx, dy) = (pos[a].0 - pos[b].0, pos[a].1 - pos[b].1);
                let d = (dx * dx + dy * dy).sqrt().max(1e-3);
                let f = d / k * w.sqrt();
                disp[a].0 -= dx * f;
                disp[a].1 -= dy * f;
                disp[b].0 += dx * f;
                disp[b].1 += dy * f;
            }
            for (p, d) in pos.iter_mut().zip(&disp) {
                let len = (d.0 * d.0 + d.1 * d.1).sqrt();
                if len > 0.0 {
                    let s = len.min(t) / len;
                    p.0 += d.0 * s;
                    p.1 += d.1 * s;
                }
            }
            t = (t - cool).max(k * 0.01);
        }
        normalise(pos)
    }

    /// Nodes on a circle, in the given order (e.g. by community).
    pub fn circle_layout(&self, order: &[usize]) -> Vec<(f64, f64)> {
        let n = self.len();
        let mut pos = vec![(500.0, 500.0); n];
        for (r, &i) in order.iter().enumerate() {
            let a = std::f64::consts::TAU * r as f64 / n.max(1) as f64;
            pos[i] = (500.0 + 480.0 * a.cos(), 500.0 + 480.0 * a.sin());
        }
        pos
    }
}

/// Scales positions into `[20, 980]²`, keeping the aspect ratio.
fn normalise(pos: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &pos {
        x0 = x0.min(p.0);
        y0 = y0.min(p.1);
        x1 = x1.max(p.0);
        y1 = y1.max(p.1);
    }
    let span = (x1 - x0).max(y1 - y0).max(1e-9);
    pos.into_iter()
        .map(|p| {
            (
                round2(20.0 + (p.0 - x0) / span * 960.0),
                round2(20.0 + (p.1 - y0) / span * 960.0),
            )
        })
        .collect()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A small seeded generator (SplitMix64): the same numbers on every
/// platform and version, which a library generator does not promise.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
