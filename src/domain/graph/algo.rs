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

use super::view::Ctx;

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
        // `pairs_among` lists each pair from the end with the smaller id;
        // the edges are kept as (smaller index, larger index).
        let mut edges = Vec::new();
        let mut acc: Vec<Option<f64>> = vec![None; nodes.len()];
        let mut touched: Vec<usize> = Vec::new();
        ctx.pairs_among(&nodes, |i, list| {
            touched.clear();
            for &(j, _, w) in list.iter() {
                let a = acc[j].get_or_insert_with(|| {
                    touched.push(j);
                    0.0
                });
                *a += w;
            }
            for &j in &touched {
                edges.push((i.min(j), i.max(j), acc[j].take().unwrap_or_default()));
            }
        });
        edges.sort_unstable_by_key(|e| (e.0, e.1));
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
    ///
    /// Each round *pulls* (a partner's new rank is the sum of its
    /// neighbours' shares: the graph is undirected, so its own adjacency
    /// lists them) over a flat copy of the adjacency, split across the
    /// machine's cores by ranges of partners: every range writes only its
    /// own ranks, so the threads share nothing but what they read, and the
    /// sums are the same whatever the split.
    pub fn pagerank(&self) -> Vec<f64> {
        self.pagerank_rounds().0
    }

    /// [`Self::pagerank`], and how many rounds it took.
    pub fn pagerank_rounds(&self) -> (Vec<f64>, usize) {
        let n = self.len();
        if n == 0 {
            return (vec![], 0);
        }
        let d = 0.85;
        let strength = self.weighted_degree();
        let mut off = Vec::with_capacity(n + 1);
        // 8 bytes an entry (weights are counts and relation weights: f32
        // holds them exactly enough; the sums stay f64).
        let mut nbr: Vec<(u32, f32)> = Vec::with_capacity(2 * self.edges.len());
        off.push(0usize);
        for row in &self.adj {
            nbr.extend(row.iter().map(|&(j, w)| (j as u32, w as f32)));
            off.push(nbr.len());
        }
        // Ranges of partners with about as many adjacency entries each.
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).min(8);
        let threads = if nbr.len() < 200_000 { 1 } else { threads };
        let mut cuts = vec![0usize];
        for t in 1..threads {
            let target = nbr.len() * t / threads;
            cuts.push(off.partition_point(|&o| o < target).min(n));
        }
        cuts.push(n);
        let mut rank = vec![1.0 / n as f64; n];
        let mut share = vec![0.0; n];
        let mut next = vec![0.0; n];
        let mut rounds = 0;
        for _ in 0..100 {
            rounds += 1;
            let mut dangling = 0.0;
            for i in 0..n {
                if strength[i] == 0.0 {
                    dangling += rank[i];
                    share[i] = 0.0;
                } else {
                    share[i] = d * rank[i] / strength[i];
                }
            }
            let base = (1.0 - d) / n as f64 + d * dangling / n as f64;
            let pull = |from: usize, out: &mut [f64]| {
                for (k, x) in out.iter_mut().enumerate() {
                    let j = from + k;
                    *x = base
                        + nbr[off[j]..off[j + 1]]
                            .iter()
                            .map(|&(i, w)| share[i as usize] * w as f64)
                            .sum::<f64>();
                }
            };
            if cuts.len() <= 2 {
                pull(0, &mut next);
            } else {
                std::thread::scope(|sc| {
                    let mut rest: &mut [f64] = &mut next;
                    for w in cuts.windows(2) {
                        let (mine, tail) = rest.split_at_mut(w[1] - w[0]);
                        rest = tail;
                        let pull = &pull;
                        sc.spawn(move || pull(w[0], mine));
                    }
                });
            }
            let delta: f64 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
            std::mem::swap(&mut rank, &mut next);
            if delta < 1e-10 {
                break;
            }
        }
        (rank, rounds)
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
    /// from random starting points drawn with `seed` (a weak pull to the
    /// centre keeps components together). Repulsion between all pairs goes
    /// through a Barnes–Hut quadtree (a far cluster of partners pushes as
    /// one body at its centre of mass), so a round costs O(n log n + m)
    /// rather than O(n²); below 1 000 partners it is exact. The same graph
    /// and seed give the same picture.
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
        // Opening angle: 0 is exact (every cell is opened).
        let theta = if n < 1000 { 0.0 } else { 0.9 };
        let mut disp = vec![(0.0f64, 0.0f64); n];
        let mut t = side / 10.0;
        let cool = t / iters as f64;
        let centre = side / 2.0;
        let mut tree = QuadTree::default();
        let mut stack = Vec::new();
        for _ in 0..iters {
            tree.build(&pos);
            for (i, p) in pos.iter().enumerate() {
                let (rx, ry) = tree.repulsion(&pos, i, k * k, theta, &mut stack);
                disp[i] = (
                    rx + (centre - p.0) * 0.01 * k / side * 10.0,
                    ry + (centre - p.1) * 0.01 * k / side * 10.0,
                );
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
/// A Barnes–Hut quadtree over positions: each cell knows how many
/// partners it holds and their centre of mass; leaves hold a few partners
/// (a range of `order`).
#[derive(Default)]
struct QuadTree {
    order: Vec<usize>,
    cells: Vec<Cell>,
}

struct Cell {
    start: usize,
    end: usize,
    /// Side of the square.
    size: f64,
    cx: f64,
    cy: f64,
    /// Child cells (`usize::MAX`: none); all none for a leaf.
    children: [usize; 4],
}

/// Partners per leaf; and a depth past which coincident partners stay in
/// one leaf.
const LEAF: usize = 8;
const MAX_DEPTH: usize = 32;

/// Moves the items for which `f` holds to the front; returns how many.
fn partition(v: &mut [usize], f: impl Fn(usize) -> bool) -> usize {
    let mut k = 0;
    for i in 0..v.len() {
        if f(v[i]) {
            v.swap(i, k);
            k += 1;
        }
    }
    k
}

impl QuadTree {
    fn build(&mut self, pos: &[(f64, f64)]) {
        self.order.clear();
        self.order.extend(0..pos.len());
        self.cells.clear();
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in pos {
            x0 = x0.min(p.0);
            y0 = y0.min(p.1);
            x1 = x1.max(p.0);
            y1 = y1.max(p.1);
        }
        let size = (x1 - x0).max(y1 - y0).max(1e-9) * (1.0 + 1e-9);
        self.cell(pos, 0, pos.len(), x0, y0, size, 0);
    }

    #[allow(clippy::too_many_arguments)]
    fn cell(
        &mut self,
        pos: &[(f64, f64)],
        start: usize,
        end: usize,
        x0: f64,
        y0: f64,
        size: f64,
        depth: usize,
    ) -> usize {
        let id = self.cells.len();
        let (mut sx, mut sy) = (0.0, 0.0);
        for &i in &self.order[start..end] {
            sx += pos[i].0;
            sy += pos[i].1;
        }
        let m = (end - start) as f64;
        self.cells.push(Cell {
            start,
            end,
            size,
            cx: sx / m,
            cy: sy / m,
            children: [usize::MAX; 4],
        });
        if end - start <= LEAF || depth >= MAX_DEPTH {
            return id;
        }
        let h = size / 2.0;
        let (mx, my) = (x0 + h, y0 + h);
        let v = &mut self.order[start..end];
        let left = partition(v, |i| pos[i].0 < mx);
        let low_left = partition(&mut v[..left], |i| pos[i].1 < my);
        let low_right = partition(&mut v[left..], |i| pos[i].1 < my);
        let bounds = [
            (start, start + low_left, x0, y0),
            (start + low_left, start + left, x0, my),
            (start + left, start + left + low_right, mx, y0),
            (start + left + low_right, end, mx, my),
        ];
        for (q, (a, b, qx, qy)) in bounds.into_iter().enumerate() {
            if b > a {
                let c = self.cell(pos, a, b, qx, qy, h, depth + 1);
                self.cells[id].children[q] = c;
            }
        }
        id
    }

    /// The repulsion on partner `i` (force `k2 / d` away from each other
    /// partner), far cells taken as one body when `size / d < theta`.
    fn repulsion(&self, pos: &[(f64, f64)], i: usize, k2: f64, theta: f64, stack: &mut Vec<usize>) -> (f64, f64) {
        let p = pos[i];
        let (mut fx, mut fy) = (0.0, 0.0);
        stack.clear();
        stack.push(0);
        while let Some(c) = stack.pop() {
            let cell = &self.cells[c];
            let leaf = cell.children.iter().all(|&x| x == usize::MAX);
            if !leaf {
                let (dx, dy) = (p.0 - cell.cx, p.1 - cell.cy);
                let d2 = dx * dx + dy * dy;
                if cell.size * cell.size < theta * theta * d2 {
                    let f = (cell.end - cell.start) as f64 * k2 / d2;
                    fx += dx * f;
                    fy += dy * f;
                } else {
                    stack.extend(cell.children.iter().copied().filter(|&x| x != usize::MAX));
                }
                continue;
            }
            for &j in &self.order[cell.start..cell.end] {
                if j == i {
                    continue;
                }
                let (mut dx, mut dy) = (p.0 - pos[j].0, p.1 - pos[j].1);
                let mut d2 = dx * dx + dy * dy;
                if d2 < 1e-6 {
                    // Coincident: push apart along a fixed direction.
                    dx = 0.01 * (1 + i % 7) as f64;
                    dy = 0.01 * (1 + j % 5) as f64;
                    d2 = dx * dx + dy * dy;
                }
                let f = k2 / d2;
                fx += dx * f;
                fy += dy * f;
            }
        }
        (fx, fy)
    }
}

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
