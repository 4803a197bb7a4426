//! The floor under operation (b) of `benches/api-load.sh`: what async-graphql
//! alone costs to execute and serialize an answer of (b)'s shape, with no
//! database, no HTTP and resolvers that only read memory.
//!
//! (b) asks 20 networks → their members (role) → each member's first 5
//! actions (title, theme): 20 networks, 573 member edges, 1 963 action
//! edges, about 13 000 resolved fields. The schema here has the same shape
//! and the same counts (the department bundle's), built the way the
//! server's is (`#[Object(serial)]` objects, `SimpleObject` edges, a
//! cursor per edge), and answers from data prepared beforehand. Its time
//! per request is a lower bound for the server's on the same core: what is
//! left to the database, the decoding of rows and the HTTP layer comes on
//! top.
//!
//! ```text
//! cargo bench --bench graphql_floor
//! ```
//!
//! It prints the median CPU time of one request on one thread, and the
//! rate two threads sustain (the benchmark machine has two cores), in three
//! modes of fetching each member's actions:
//!
//! - `in memory`: the partner holds them (async-graphql alone);
//! - `loader per node`: each partner's `actions` asks a DataLoader (from
//!   memory), as the server's nested pages did: 573 resolvers queue a key
//!   and wait for the batch;
//! - `prefetched per page`: each page of members asks the loader once for
//!   all its partners, and hands them their actions, as the server's pages
//!   do now (`api/graphql/types.rs`, `prefetch_pages`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, EmptyMutation, EmptySubscription, Enum, ID, Object, Request, Schema, SimpleObject};

const NETWORKS: usize = 20;
const MEMBERS: usize = 573;
const ACTION_EDGES: usize = 1_963;

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
enum Role {
    Lead,
    Member,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
enum Theme {
    Youth,
    Employment,
}

#[derive(Clone)]
struct Action {
    id: i64,
    title: String,
    theme: Theme,
}

#[Object(serial)]
impl Action {
    async fn id(&self) -> ID {
        ID(format!("QWN0aW9uOj{}", self.id))
    }
    async fn title(&self) -> &str {
        &self.title
    }
    async fn theme(&self) -> Theme {
        self.theme
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(serial)]
struct ActionEdge {
    cursor: String,
    role: Role,
    node: Action,
}

#[derive(SimpleObject, Clone)]
#[graphql(serial)]
struct ActionConnection {
    edges: Vec<ActionEdge>,
    total_count: u64,
}

/// The first `first` items as edges, each with an encoded cursor (as the
/// server built them before cursors were encoded on demand: the dearer way).
fn page<T: Clone, E>(items: &[T], first: Option<i32>, edge: impl Fn(String, usize, T) -> E) -> Vec<E> {
    let first = first.unwrap_or(100) as usize;
    items
        .iter()
        .take(first)
        .enumerate()
        .map(|(i, t)| edge(format!("Y3Vyc29yOj{i}"), i, t.clone()))
        .collect()
}

#[derive(Clone)]
struct Partner {
    id: i64,
    name: String,
    actions: Arc<Vec<Action>>,
}

#[Object(serial)]
impl Partner {
    async fn id(&self) -> ID {
        ID(format!("UGFydG5lcjo{}", self.id))
    }
    async fn name(&self) -> &str {
        &self.name
    }
    async fn actions(&self, ctx: &Context<'_>, first: Option<i32>) -> ActionConnection {
        let actions = match ctx.data_opt::<DataLoader<ActionsLoader>>() {
            Some(l) if *ctx.data_unchecked::<Mode>() == Mode::LoaderPerNode => {
                l.load_one(self.id).await.expect("in memory").expect("every partner")
            }
            _ => self.actions.clone(),
        };
        ActionConnection {
            edges: page(&actions, first, |cursor, _, node| ActionEdge {
                cursor,
                role: Role::Member,
                node,
            }),
            total_count: actions.len() as u64,
        }
    }
}

/// How the members' actions are fetched (see the module's comment).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    InMemory,
    LoaderPerNode,
    PrefetchedPerPage,
}

/// Each partner's actions, from memory.
struct ActionsLoader(Arc<HashMap<i64, Arc<Vec<Action>>>>);

impl Loader<i64> for ActionsLoader {
    type Value = Arc<Vec<Action>>;
    type Error = String;
    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, String> {
        Ok(keys.iter().map(|k| (*k, self.0[k].clone())).collect())
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(serial)]
struct MemberEdge {
    cursor: String,
    role: Role,
    node: Partner,
}

#[derive(SimpleObject, Clone)]
#[graphql(serial)]
struct MemberConnection {
    edges: Vec<MemberEdge>,
    total_count: u64,
}

#[derive(Clone)]
struct Network {
    id: i64,
    name: String,
    members: Arc<Vec<Partner>>,
}

#[Object(serial)]
impl Network {
    async fn id(&self) -> ID {
        ID(format!("TmV0d29yazo{}", self.id))
    }
    async fn name(&self) -> &str {
        &self.name
    }
    async fn members(&self, ctx: &Context<'_>, first: Option<i32>) -> MemberConnection {
        let mut members = self.members.clone();
        if *ctx.data_unchecked::<Mode>() == Mode::PrefetchedPerPage {
            let l = ctx.data_unchecked::<DataLoader<ActionsLoader>>();
            let mut actions = l.load_many(self.members.iter().map(|p| p.id)).await.expect("in memory");
            members = Arc::new(
                self.members
                    .iter()
                    .map(|p| Partner {
                        actions: actions.remove(&p.id).expect("every partner"),
                        ..p.clone()
                    })
                    .collect(),
            );
        }
        MemberConnection {
            edges: page(&members, first, |cursor, i, node| MemberEdge {
                cursor,
                role: if i == 0 { Role::Lead } else { Role::Member },
                node,
            }),
            total_count: self.members.len() as u64,
        }
    }
}

#[derive(SimpleObject)]
#[graphql(serial)]
struct NetworkConnection {
    nodes: Vec<Network>,
}

struct Query {
    networks: Vec<Network>,
}

#[Object]
impl Query {
    async fn networks(&self, first: Option<i32>) -> NetworkConnection {
        NetworkConnection {
            nodes: self
                .networks
                .iter()
                .take(first.unwrap_or(100) as usize)
                .cloned()
                .collect(),
        }
    }
}

/// (b)'s counts, spread evenly: 573 members over 20 networks, 1 963 action
/// edges over the members (0 to 5 each), names and titles of the bundle's
/// lengths.
fn data() -> Vec<Network> {
    let mut action_id = 0;
    let mut left = ACTION_EDGES;
    (0..NETWORKS)
        .map(|n| {
            let count = MEMBERS / NETWORKS + usize::from(n < MEMBERS % NETWORKS);
            let members = (0..count)
                .map(|m| {
                    let k = Ord::min(left, if (n + m) % 7 == 0 { 1 } else { 4 });
                    left -= k;
                    let actions = (0..k)
                        .map(|_| {
                            action_id += 1;
                            Action {
                                id: action_id,
                                title: format!("Accompagnement à la parentalité, groupe {action_id}"),
                                theme: if action_id % 2 == 0 {
                                    Theme::Youth
                                } else {
                                    Theme::Employment
                                },
                            }
                        })
                        .collect();
                    Partner {
                        id: (n * 100 + m) as i64,
                        name: format!("Association de prévention spécialisée du quartier {m}"),
                        actions: Arc::new(actions),
                    }
                })
                .collect();
            Network {
                id: n as i64,
                name: format!("CLSPD de la commune {n}"),
                members: Arc::new(members),
            }
        })
        .collect()
}

const QUERY: &str = "{ networks(first: 20) { nodes { id name members(first: 100) { totalCount edges { role node { id name actions(first: 5) { edges { role node { id title theme } } } } } } } } }";

fn main() {
    let networks = data();
    let actions: Arc<HashMap<i64, Arc<Vec<Action>>>> = Arc::new(
        networks
            .iter()
            .flat_map(|n| n.members.iter().map(|p| (p.id, p.actions.clone())))
            .collect(),
    );
    let schema = Schema::build(Query { networks }, EmptyMutation, EmptySubscription).finish();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    for mode in [Mode::InMemory, Mode::LoaderPerNode, Mode::PrefetchedPerPage] {
        // A request, with its own loader (as the server's are per request).
        let request = {
            let actions = actions.clone();
            move || {
                Request::new(QUERY)
                    .data(mode)
                    .data(DataLoader::new(ActionsLoader(actions.clone()), tokio::spawn).delay(Duration::ZERO))
            }
        };
        let bytes = rt.block_on(async {
            let r = schema.execute(request()).await;
            assert!(r.errors.is_empty(), "{:?}", r.errors);
            serde_json::to_vec(&r).expect("json").len()
        });
        // One thread, one request at a time: the CPU time of a request.
        let one = rt.block_on(async {
            let mut times = vec![];
            for _ in 0..200 {
                let t = Instant::now();
                let r = schema.execute(request()).await;
                std::hint::black_box(serde_json::to_vec(&r).expect("json"));
                times.push(t.elapsed());
            }
            times.sort();
            times[times.len() / 2]
        });
        // Both cores busy: requests per second.
        let window = Duration::from_secs(5);
        let done = rt.block_on(async {
            let start = Instant::now();
            let tasks: Vec<_> = (0..32)
                .map(|_| {
                    let schema = schema.clone();
                    let request = request.clone();
                    tokio::spawn(async move {
                        let mut n = 0u64;
                        while start.elapsed() < window {
                            let r = schema.execute(request()).await;
                            std::hint::black_box(serde_json::to_vec(&r).expect("json"));
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            let mut n = 0;
            for t in tasks {
                n += t.await.expect("a task");
            }
            n as f64 / start.elapsed().as_secs_f64()
        });
        println!(
            "{mode:?}: answer of {bytes} bytes ({NETWORKS} networks, {MEMBERS} members, {ACTION_EDGES} action edges)"
        );
        println!("  one request, median of 200: {:.2} ms", one.as_secs_f64() * 1e3);
        println!("  two threads, 32 at a time: {done:.0} req/s");
    }
}
