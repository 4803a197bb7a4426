//! DataLoaders: every relation is fetched for all the parents of a level in
//! one SQL statement, through the scoped reads of the storage layer.
//!
//! Loaders are built per request (they cache, and they carry the viewer's
//! scope), and handed to the resolvers through the request data.
//!
//! - [`ById`]: records by id (object references: a partner's seat, a
//!   network's territory).
//! - [`NestedLoader`]: one page of a nested connection for every parent at
//!   once (`storage::list::nested`). Its key carries the page request (the
//!   filter, order and slice); requests that are the same for all parents of
//!   a level, as they are when they come from one field of the query, are
//!   answered together by one statement.
//! - [`LinkLoader`]: the same over a link table (memberships,
//!   participations, relations), each link with the record it points at,
//!   joined in the same statement (an edge and its node).

use std::any::Any;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::time::Duration;

use async_graphql::futures_util::future::BoxFuture;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::{DatabaseConnection, EntityTrait, Select};

use super::columns::{EdgeColumns, NodeColumns};
use crate::storage::StorageError;
use crate::storage::decode::{Positional, Projection};
use crate::storage::entity::*;
use crate::storage::list::{self, Group, Parent, Slice, Sort};
use crate::storage::read::{self, HasId, Scope, Scoped};

/// Loader errors are shared between the waiting resolvers.
pub type LoadError = Arc<StorageError>;

/// Rows of one table by id.
pub struct ById<E: EntityTrait> {
    db: DatabaseConnection,
    scope: Scope,
    column: E::Column,
    _e: PhantomData<E>,
}

impl<E> Loader<i64> for ById<E>
where
    E: Scoped + Send + Sync + 'static,
    E::Model: HasId + Positional + Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, E::Model>, LoadError> {
        read::by_ids::<E, _>(&self.db, &self.scope, self.column, keys)
            .await
            .map_err(Arc::new)
    }
}

/// Builds, for a set of parent ids, the rows of a nested list (already
/// restricted to those parents, to the viewer's scope and to the filter) and
/// where each row's parent comes from.
pub type BuildNested<E> = Box<dyn Fn(&[i64]) -> (Select<E>, Parent) + Send + Sync>;

/// One page request of a nested connection, shared by the parents of a level.
pub struct NestedQuery<E: EntityTrait> {
    /// Identity of the request: the field and the node of the query it
    /// comes from (which fixes its arguments). Two requests with the same
    /// signature are answered by the same statement.
    pub sig: String,
    pub build: BuildNested<E>,
    pub sort: Vec<Sort>,
    pub slice: Slice,
    /// The columns read of each listed row (of each link's target, for a
    /// `LinkLoader`): what the field's selection needs.
    pub projection: Projection,
    /// The columns read of each link, for a `LinkLoader`: what its edges'
    /// selection needs (unused by a `NestedLoader`).
    pub links: Projection,
}

/// A parent and the page request it wants.
pub struct NestedKey<E: EntityTrait> {
    pub parent: i64,
    pub query: Arc<NestedQuery<E>>,
}

impl<E: EntityTrait> Clone for NestedKey<E> {
    fn clone(&self) -> Self {
        NestedKey {
            parent: self.parent,
            query: self.query.clone(),
        }
    }
}

impl<E: EntityTrait> PartialEq for NestedKey<E> {
    fn eq(&self, o: &Self) -> bool {
        self.parent == o.parent && self.query.sig == o.query.sig
    }
}

impl<E: EntityTrait> Eq for NestedKey<E> {}

impl<E: EntityTrait> Hash for NestedKey<E> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.parent.hash(h);
        self.query.sig.hash(h);
    }
}

/// A loader of pages, and the table its nodes come from (what a page's
/// selection narrows: `columns::of_page`).
pub trait Pages {
    type Node: NodeColumns;

    /// The columns of the links a page's edges need (`columns::of_edges`);
    /// pages without links read none.
    fn links(_ctx: &async_graphql::Context<'_>) -> Projection {
        Projection::ALL
    }
}

impl<E: NodeColumns> Pages for NestedLoader<E> {
    type Node = E;
}

impl<L: EdgeColumns, T: NodeColumns> Pages for LinkLoader<L, T> {
    type Node = T;

    fn links(ctx: &async_graphql::Context<'_>) -> Projection {
        super::columns::of_edges::<L>(ctx, ctx.data_unchecked::<Loaders>().caching)
    }
}

/// Pages of nested connections over one table.
pub struct NestedLoader<E: EntityTrait> {
    db: DatabaseConnection,
    _e: PhantomData<E>,
}

impl<E> Loader<NestedKey<E>> for NestedLoader<E>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: Clone + Send + Sync + Positional,
{
    type Value = Arc<Group<E::Model>>;
    type Error = LoadError;

    async fn load(&self, keys: &[NestedKey<E>]) -> Result<HashMap<NestedKey<E>, Self::Value>, LoadError> {
        let db = &self.db;
        load_pages(keys, |q, parents| async move {
            let (select, parent) = (q.build)(&parents);
            list::nested(db, select, parent, &parents, &q.sort, q.slice, q.projection).await
        })
        .await
    }
}

/// Pages of nested connections over a link table, each link with the
/// record it points at (`storage::list::nested_linked`): the edges of a
/// partner's networks, a network's members, a partner's actions…
pub struct LinkLoader<L: EntityTrait, T> {
    db: DatabaseConnection,
    /// The link's foreign key to `T`.
    target: L::Column,
    _t: PhantomData<T>,
}

impl<L, T> Loader<NestedKey<L>> for LinkLoader<L, T>
where
    L: EntityTrait + Send + Sync + 'static,
    T: EntityTrait + Send + Sync + 'static,
    L::Model: Clone + Send + Sync + Positional,
    T::Model: Clone + Send + Sync + Positional,
{
    type Value = Arc<Group<(L::Model, T::Model)>>;
    type Error = LoadError;

    async fn load(&self, keys: &[NestedKey<L>]) -> Result<HashMap<NestedKey<L>, Self::Value>, LoadError> {
        let (db, target) = (&self.db, self.target);
        load_pages(keys, |q, parents| async move {
            let (select, parent) = (q.build)(&parents);
            list::nested_linked::<L, T, _>(
                db,
                select,
                target,
                parent,
                &parents,
                &q.sort,
                q.slice,
                q.links,
                q.projection,
            )
            .await
        })
        .await
    }
}

/// Answers a batch of page requests: `read` once per distinct request, for
/// all its parents; a parent without rows gets an empty page. Pages are
/// shared, not copied: the DataLoader hands each waiting resolver a clone
/// of its value, which for a page of rows was a copy of every row.
async fn load_pages<E, V, R, F>(
    keys: &[NestedKey<E>],
    read: R,
) -> Result<HashMap<NestedKey<E>, Arc<Group<V>>>, LoadError>
where
    E: EntityTrait,
    R: Fn(Arc<NestedQuery<E>>, Vec<i64>) -> F,
    F: Future<Output = crate::storage::Result<HashMap<i64, Group<V>>>>,
{
    let mut out = HashMap::with_capacity(keys.len());
    for (q, parents) in by_request(keys) {
        let mut groups = read(q.clone(), parents.clone()).await.map_err(Arc::new)?;
        for p in parents {
            let g = groups.remove(&p).unwrap_or_else(|| list::empty_group(q.slice));
            out.insert(
                NestedKey {
                    parent: p,
                    query: q.clone(),
                },
                Arc::new(g),
            );
        }
    }
    Ok(out)
}

/// The keys of a batch grouped by page request, each with its parents.
fn by_request<E: EntityTrait>(keys: &[NestedKey<E>]) -> Vec<(Arc<NestedQuery<E>>, Vec<i64>)> {
    let mut requests: HashMap<&str, (&Arc<NestedQuery<E>>, Vec<i64>)> = HashMap::new();
    for k in keys {
        requests
            .entry(k.query.sig.as_str())
            .or_insert_with(|| (&k.query, vec![]))
            .1
            .push(k.parent);
    }
    requests.into_values().map(|(q, p)| (q.clone(), p)).collect()
}

/// Keys per statement. A level of a query holds at most the product of its
/// page sizes; each key is one bind parameter, and PostgreSQL takes at most
/// 65 535 of them per statement (SQLite 32 766), so batches stay well below.
const MAX_BATCH: usize = 10_000;

macro_rules! loaders {
    (
        $($e:ident: $by_id:ident, $nested:ident;)*
        @links $($link:ident: $l:ident -> $t:ident by $col:ident;)*
    ) => {
        /// Every loader of one request.
        pub struct Loaders {
            /// What the request's resolvers and batches are doing (see [`settle`]).
            activity: Arc<Activity>,
            /// Whether the by-id and page loaders keep what they loaded, so
            /// that a page can fetch its references and its nodes' nested
            /// pages in one call, and pages read only the columns their
            /// selection needs ([`Loaders::caching`]).
            pub caching: bool,
            /// What the resolvers of one field of the query work out alike
            /// for every parent they resolve it for ([`Loaders::memo`]).
            memo: std::sync::Mutex<HashMap<MemoKey, Arc<dyn Any + Send + Sync>>>,
            /// Partner degrees (`Partner.degree`).
            pub degree: DataLoader<super::degree::DegreeLoader>,
            $(
                pub $by_id: DataLoader<ById<$e::Entity>, HashMapCache>,
                pub $nested: DataLoader<NestedLoader<$e::Entity>, HashMapCache>,
            )*
            $(
                pub $link: DataLoader<LinkLoader<$l::Entity, $t::Entity>, HashMapCache>,
            )*
        }

        impl Loaders {
            /// Loaders that keep nothing between calls: what a mutation
            /// gets, whose later fields must see its own writes.
            pub fn new(db: &DatabaseConnection, scope: &Scope) -> Self {
                Self::build(db, scope, false)
            }

            /// Loaders whose lookups by id and pages are kept for the
            /// request (a query's: it sees one state of the data anyway),
            /// and whose
            /// pages read the columns their selection needs
            /// (`columns::of_page`; a mutation's read whole rows, as
            /// written).
            pub fn caching(db: &DatabaseConnection, scope: &Scope) -> Self {
                Self::build(db, scope, true)
            }

            fn build(db: &DatabaseConnection, scope: &Scope, caching: bool) -> Self {
                let activity = Arc::new(Activity::default());
                let spawn = {
                    let activity = activity.clone();
                    move |batch: BoxFuture<'static, ()>| {
                        // Begun when its first key is queued, by the field
                        // that last touched the loaders.
                        let pending = Activity::begin(&activity);
                        // The batch counts in its request's statements and
                        // traces under its request's span.
                        let counter = crate::api::metrics::current_counter().unwrap_or_default();
                        let span = tracing::Span::current();
                        tokio::spawn(tracing::Instrument::instrument(
                            crate::api::metrics::counting(counter, async move {
                                settle(&pending).await;
                                crate::api::traces::child("dataloader.batch", batch).await;
                                drop(pending);
                            }),
                            span,
                        ))
                    }
                };
                let loaders = Loaders {
                    activity,
                    caching,
                    memo: Default::default(),
                    degree: DataLoader::new(super::degree::DegreeLoader { db: db.clone(), scope: scope.clone() }, spawn.clone())
                        .max_batch_size(MAX_BATCH)
                        .delay(Duration::ZERO),
                    $(
                        $by_id: DataLoader::with_cache(
                            ById { db: db.clone(), scope: scope.clone(), column: $e::Column::Id, _e: PhantomData },
                            spawn.clone(),
                            HashMapCache::default(),
                        )
                        .max_batch_size(MAX_BATCH)
                        .delay(Duration::ZERO),
                        $nested: DataLoader::with_cache(NestedLoader { db: db.clone(), _e: PhantomData }, spawn.clone(), HashMapCache::default())
                            .max_batch_size(MAX_BATCH)
                            .delay(Duration::ZERO),
                    )*
                    $(
                        $link: DataLoader::with_cache(
                            LinkLoader { db: db.clone(), target: $l::Column::$col, _t: PhantomData },
                            spawn.clone(),
                            HashMapCache::default(),
                        )
                        .max_batch_size(MAX_BATCH)
                        .delay(Duration::ZERO),
                    )*
                };
                if !caching {
                    $(
                        loaders.$by_id.enable_all_cache(false);
                        loaders.$nested.enable_all_cache(false);
                    )*
                    $( loaders.$link.enable_all_cache(false); )*
                }
                loaders
            }

            /// What `make` works out for the field `ctx` resolves, made by
            /// the first of its resolvers and shared by the others: a
            /// field's arguments and selection are the same for every
            /// parent it is resolved for (they come from its node of the
            /// query's document), so its page request (the filter, the
            /// slice, the columns its selection needs) and whether it
            /// selects a reference are too. `what` names what is
            /// remembered (with its type).
            ///
            /// Why: the 573 members of (b) in the load benchmark each built
            /// the same request for their actions, walking the same
            /// selection three times over.
            pub fn memo<T: Any + Send + Sync, E>(
                &self,
                what: &'static str,
                ctx: &async_graphql::Context<'_>,
                make: impl FnOnce() -> Result<Arc<T>, E>,
            ) -> Result<Arc<T>, E> {
                let key = MemoKey { what, node: std::ptr::from_ref(ctx.item) as usize };
                if let Some(v) = self.memo.lock().expect("memo").get(&key).cloned()
                    && let Ok(v) = v.downcast::<T>()
                {
                    return Ok(v);
                }
                // Not under the lock: `make` may itself remember something.
                let v = make()?;
                self.memo.lock().expect("memo").insert(key, v.clone());
                Ok(v)
            }

            /// The loaders, noting that a resolver is about to queue keys,
            /// and the depth of its field in the query (`settle`).
            pub fn touch(&self, depth: usize) -> &Self {
                self.activity.touches.fetch_add(1, AtomicOrdering::Relaxed);
                self.activity.depth.store(depth, AtomicOrdering::Relaxed);
                self
            }
        }
    };
}

/// A field of the query's document (its node's address) and what is
/// remembered of it ([`Loaders::memo`]). The document outlives the request's
/// loaders, so an address names one node for their whole life.
#[derive(PartialEq, Eq, Hash)]
struct MemoKey {
    what: &'static str,
    node: usize,
}

/// What a request's resolvers and loader batches are doing.
#[derive(Default)]
struct Activity {
    /// Bumped each time a resolver reaches for a loader.
    touches: AtomicU64,
    /// The depth of the field that last reached for a loader: a batch
    /// begins within the resolver that queues its first key.
    depth: std::sync::atomic::AtomicUsize,
    /// How many batches were begun.
    begun: AtomicU64,
    /// The batches begun and not through: their numbers and depths.
    pending: std::sync::Mutex<Vec<(u64, usize)>>,
    /// Told each time a batch is through.
    done: tokio::sync::Notify,
}

impl Activity {
    /// Numbers a new batch, pending until the guard is dropped (its
    /// statement through, or the request dropped).
    fn begin(this: &Arc<Activity>) -> Pending {
        let n = this.begun.fetch_add(1, AtomicOrdering::SeqCst);
        let depth = this.depth.load(AtomicOrdering::Relaxed);
        this.pending.lock().expect("pending batches").push((n, depth));
        Pending {
            activity: this.clone(),
            number: n,
            depth,
        }
    }

    /// Whether a batch begun by a shallower field than `depth` is pending.
    fn waits_for(&self, depth: usize) -> bool {
        self.pending
            .lock()
            .expect("pending batches")
            .iter()
            .any(|&(_, d)| d < depth)
    }
}

/// A batch begun, pending until dropped.
struct Pending {
    activity: Arc<Activity>,
    number: u64,
    /// The depth of the field that queued its first key.
    depth: usize,
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.activity
            .pending
            .lock()
            .expect("pending batches")
            .retain(|&(n, _)| n != self.number);
        self.activity.done.notify_waiters();
    }
}

/// Waits until the request stops reaching for loaders, and until the
/// batches begun by shallower fields are through, before a batch takes its
/// keys. This is what batches a level: the
/// loaders' own timer (1 ms by default) is set to zero, since it only added
/// a sleep of one to two milliseconds to every level of every request (a
/// tenth of the latency of a small query under load).
///
/// A DataLoader batches the keys queued within a short delay of the first
/// one. On a large level (thousands of parents) the resolvers take longer
/// than that to queue theirs, so one level would cost several statements,
/// more as the data grows. Waiting until the resolvers have been quiet for a
/// few scheduler turns makes a level one statement whatever its size. And
/// some parents of a level may be held by a batch of a shallower field (a
/// page's references, fetched before its rows resolve further, for the
/// pages that point at any; the others run ahead): their keys come when it
/// is through, so a batch waits for the shallower batches pending, never
/// for deeper ones or ones as deep (no cycle; the lists of a level stay
/// side by side). The cap keeps a busy server from holding a batch back
/// for long.
async fn settle(batch: &Pending) {
    let (activity, depth) = (&*batch.activity, batch.depth);
    let deadline = tokio::time::Instant::now() + Duration::from_millis(100);
    let mut seen = activity.touches.load(AtomicOrdering::Relaxed);
    loop {
        let done = activity.done.notified();
        tokio::pin!(done);
        // Registered before looking, so that no batch ends unseen.
        done.as_mut().enable();
        if activity.waits_for(depth) {
            if tokio::time::timeout_at(deadline, done).await.is_err() {
                return;
            }
            seen = activity.touches.load(AtomicOrdering::Relaxed);
            continue;
        }
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        let now = activity.touches.load(AtomicOrdering::Relaxed);
        if (now == seen && !activity.waits_for(depth)) || tokio::time::Instant::now() > deadline {
            return;
        }
        seen = now;
    }
}

loaders! {
    territory: territory, territory_lists;
    partner: partner, partner_lists;
    contact: contact, contact_lists;
    network: network, network_lists;
    membership: membership, membership_lists;
    action: action, action_lists;
    action_partner: participation, participation_lists;
    relation: relation, relation_lists;
    @links
    partner_networks: membership -> network by NetworkId;
    network_members: membership -> partner by PartnerId;
    partner_actions: action_partner -> action by ActionId;
    action_participants: action_partner -> partner by PartnerId;
    relations_out: relation -> partner by ToPartnerId;
    relations_in: relation -> partner by FromPartnerId;
}
