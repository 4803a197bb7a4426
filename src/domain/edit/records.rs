//! The rules of each record type: how a patch applies (value checks), what
//! the rows around it must satisfy (references, uniqueness, trees), what
//! refuses its deletion. Messages come from [`crate::bundle::rules`], the
//! import's, so both say the same thing about the same mistake.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::DatabaseTransaction;

use super::*;
use crate::bundle::rules;
use crate::model::text::search_key;
use crate::storage::{Result, ancestry};

type Db = DatabaseTransaction;
type Fut<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'a>>;

/// The user errors of one edit, in the order found.
#[derive(Default)]
pub struct Errors(Vec<UserError>);

impl Errors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_vec(self) -> Vec<UserError> {
        self.0
    }
    fn push(&mut self, field: &'static str, code: ErrorCode, message: impl Into<String>) {
        self.0.push(UserError {
            field,
            message: message.into(),
            code,
        });
    }
    fn bad(&mut self, field: &'static str, message: impl Into<String>) {
        self.push(field, ErrorCode::BadUserInput, message)
    }
    /// Keeps the value when it passes, else reports it.
    fn ok<T>(&mut self, field: &'static str, r: std::result::Result<T, String>) -> Option<T> {
        r.map_err(|m| self.bad(field, m)).ok()
    }
}

/// A record type: its rules and its storage.
#[async_trait::async_trait]
pub trait Rec: Clone + Default + Send + Sync + Sized + 'static {
    type Patch: Send + Sync;
    const TYPE: RecordType;

    /// An empty row a creation's patch is applied to (its required fields
    /// are the patch's to give).
    fn blank() -> Self {
        Self::default()
    }
    /// Applies a patch, checking each value given; on creation, the
    /// required fields must be there.
    fn apply(p: &Self::Patch, m: &mut Self, e: &mut Errors, creating: bool);
    /// The rules that involve other rows (`old` is the row before an update).
    async fn check(db: &Db, m: &Self, old: Option<&Self>, e: &mut Errors) -> Result<()>;
    /// What refuses the record's deletion.
    async fn check_delete(_db: &Db, _m: &Self, _e: &mut Errors) -> Result<()> {
        Ok(())
    }
    /// Derived data to keep right after a write (`None`: created / deleted).
    async fn after_write(_db: &Db, _old: Option<&Self>, _new: Option<&Self>) -> Result<()> {
        Ok(())
    }

    fn id(&self) -> i64;
    fn version(&self) -> i32;
    /// Sets the version and `updated_at`, and `created_at` when given.
    fn stamp(&mut self, version: i32, now: DateTime<Utc>, created: Option<DateTime<Utc>>);
    fn wrap(self) -> Record;

    // Storage (written by the `storage!` macro, which `async_trait` cannot
    // see into: hence the boxed futures spelled out).
    fn get(db: &Db, id: i64) -> Fut<'_, Option<Self>>;
    fn insert(db: &Db, m: Self) -> Fut<'_, Self>;
    fn update<'a>(db: &'a Db, m: &'a Self, expected: i32) -> Fut<'a, bool>;
    fn delete(db: &Db, id: i64, expected: Option<i32>) -> Fut<'_, bool>;
    fn json(db: &Db, id: i64) -> Fut<'_, Option<serde_json::Value>>;
    /// For a link row keyed by its two ends: the row joining them.
    fn pair(_db: &Db, _a: i64, _b: i64) -> Fut<'_, Option<Self>> {
        Box::pin(async { Ok(None) })
    }
}

/// A record others name by its external id, which messages quote.
pub trait Named: Rec {
    fn ext_ref(&self) -> &str;
}

macro_rules! named {
    ($($m:ident),*) => {$(
        impl Named for $m::Model {
            fn ext_ref(&self) -> &str {
                &self.r#ref
            }
        }
    )*};
}

named!(territory, partner, contact, network, action);

/// The storage half of [`Rec`], alike for every table (`pair`: a link row
/// keyed by its two ends).
macro_rules! storage {
    ($m:ident, $variant:ident, pair) => {
        storage!($m, $variant);
        fn pair(db: &Db, a: i64, b: i64) -> Fut<'_, Option<Self>> {
            Box::pin(write::$m::pair(db, a, b))
        }
    };
    ($m:ident, $variant:ident) => {
        fn id(&self) -> i64 {
            self.id
        }
        fn version(&self) -> i32 {
            self.version
        }
        fn stamp(&mut self, version: i32, now: DateTime<Utc>, created: Option<DateTime<Utc>>) {
            self.version = version;
            self.updated_at = now;
            if let Some(c) = created {
                self.created_at = c;
            }
        }
        fn wrap(self) -> Record {
            Record::$variant(self)
        }
        fn get(db: &Db, id: i64) -> Fut<'_, Option<Self>> {
            Box::pin(write::$m::get(db, id))
        }
        fn insert(db: &Db, m: Self) -> Fut<'_, Self> {
            Box::pin(write::$m::insert(db, m))
        }
        fn update<'a>(db: &'a Db, m: &'a Self, expected: i32) -> Fut<'a, bool> {
            Box::pin(write::$m::update(db, m, expected))
        }
        fn delete(db: &Db, id: i64, expected: Option<i32>) -> Fut<'_, bool> {
            Box::pin(write::$m::delete(db, id, expected))
        }
        fn json(db: &Db, id: i64) -> Fut<'_, Option<serde_json::Value>> {
            Box::pin(write::$m::json(db, id))
        }
    };
}

// ------------------------------------------------------------ value helpers

/// A required field given on creation (or, on update, left alone).
fn required<T>(e: &mut Errors, field: &'static str, v: &Field<T>, creating: bool) -> bool {
    if creating && v.is_none() {
        e.bad(field, rules::REQUIRED);
    }
    v.is_some()
}

/// The external id.
fn set_ref(e: &mut Errors, v: &Field<String>, slot: &mut String, creating: bool) {
    if required(e, "ref", v, creating)
        && let Some(v) = v
        && e.ok("ref", rules::id(v)).is_some()
    {
        slot.clone_from(v);
    }
}

/// A required text: not empty.
fn set_text(e: &mut Errors, field: &'static str, v: &Field<String>, slot: &mut String, creating: bool) {
    if required(e, field, v, creating)
        && let Some(v) = v
    {
        if v.is_empty() {
            e.bad(field, rules::REQUIRED);
        } else if e.ok(field, rules::text(v)).is_some() {
            slot.clone_from(v);
        }
    }
}

/// An optional text: empty is absent, as in a bundle; `rule` checks the rest.
fn set_opt_text_with(
    e: &mut Errors,
    field: &'static str,
    v: &Nullable<String>,
    slot: &mut Option<String>,
    rule: impl Fn(&str) -> std::result::Result<(), String>,
) {
    let Some(v) = v else { return };
    let v = v.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = v
        && e.ok(field, rule(s)).is_none()
    {
        return;
    }
    *slot = v.map(str::to_owned);
}

fn set_opt_text(e: &mut Errors, field: &'static str, v: &Nullable<String>, slot: &mut Option<String>) {
    set_opt_text_with(e, field, v, slot, rules::text)
}

fn set<T: Clone>(e: &mut Errors, field: &'static str, v: &Field<T>, slot: &mut T, creating: bool) {
    if required(e, field, v, creating)
        && let Some(v) = v
    {
        *slot = v.clone();
    }
}

fn set_opt<T: Clone>(v: &Nullable<T>, slot: &mut Option<T>) {
    if let Some(v) = v {
        *slot = v.clone();
    }
}

/// A nullable value checked by a rule of the format, which reads the value
/// as a bundle field would hold it.
fn set_checked<T: ToString, U>(
    e: &mut Errors,
    field: &'static str,
    v: &Nullable<T>,
    slot: &mut Option<U>,
    rule: impl Fn(&str) -> std::result::Result<U, String>,
) {
    match v {
        None => {}
        Some(None) => *slot = None,
        Some(Some(x)) => {
            if let Some(u) = e.ok(field, rule(&x.to_string())) {
                *slot = Some(u);
            }
        }
    }
}

fn cents(v: &str) -> std::result::Result<Cents, String> {
    rules::money(v).map(|(c, _rounded)| c)
}

fn check_range(e: &mut Errors, names: [(&str, &'static str); 2], start: Option<NaiveDate>, end: Option<NaiveDate>) {
    if let (Some(s), Some(t)) = (start, end)
        && let Err(m) = rules::date_range(names[0].0, s, names[1].0, t)
    {
        e.bad(names[1].1, m);
    }
}

// ------------------------------------------------------------ row helpers

fn dangling(e: &mut Errors, field: &'static str, label: &str) {
    e.push(
        field,
        ErrorCode::NotFound,
        format!("unknown {label} (dangling reference): no {label} has this id"),
    );
}

/// The row a reference names, or a `NOT_FOUND` on its field.
async fn referenced<R: Rec>(db: &Db, e: &mut Errors, field: &'static str, id: Option<i64>) -> Result<Option<R>> {
    let Some(id) = id else { return Ok(None) };
    let row = R::get(db, id).await?;
    if row.is_none() {
        dangling(e, field, R::TYPE.label());
    }
    Ok(row)
}

/// An external id held by another row of the same type.
fn ref_taken(e: &mut Errors, holder: Option<i64>, me: i64, r: &str) {
    if holder.is_some_and(|h| h != me) {
        e.push("ref", ErrorCode::Taken, rules::duplicate_id(r));
    }
}

/// A `parent_id` link: not the record itself, and the chain from the
/// parent up must not come back to it (only possible for an existing
/// record). `up` reads a row's external id and parent.
async fn check_parent<R: Rec>(
    db: &Db,
    e: &mut Errors,
    m: &R,
    me_ref: &str,
    parent: Option<i64>,
    up: fn(&R) -> (String, Option<i64>),
) -> Result<Option<R>> {
    let Some(pid) = parent else { return Ok(None) };
    if pid == m.id() {
        e.bad("parentId", rules::OWN_PARENT);
        return Ok(None);
    }
    let Some(p) = referenced::<R>(db, e, "parentId", Some(pid)).await? else {
        return Ok(None);
    };
    let mut chain = vec![me_ref.to_owned()];
    let mut cur = p.clone();
    // A chain is as long as the tree is deep; the bound only stops a walk
    // through data that is already broken.
    for _ in 0..10_000 {
        let (r, next) = up(&cur);
        chain.push(r);
        match next {
            Some(n) if n == m.id() => {
                chain.push(me_ref.to_owned());
                let chain: Vec<&str> = chain.iter().map(String::as_str).collect();
                e.bad("parentId", rules::cycle(&chain));
                break;
            }
            Some(n) => match R::get(db, n).await? {
                Some(row) => cur = row,
                None => break,
            },
            None => break,
        }
    }
    Ok(Some(p))
}

/// The two records a link row joins, each given as (input field, id): each
/// must exist (`NOT_FOUND` on its field), and when `L` is keyed by the pair,
/// no other row may join them already (`TAKEN` on the second field). The
/// ends, when both exist.
async fn link_ends<L: Rec, A: Named, B: Named>(
    db: &Db,
    e: &mut Errors,
    me: &L,
    (af, a): (&'static str, i64),
    (bf, b): (&'static str, i64),
) -> Result<Option<(A, B)>> {
    let a = referenced::<A>(db, e, af, Some(a)).await?;
    let b = referenced::<B>(db, e, bf, Some(b)).await?;
    let (Some(a), Some(b)) = (a, b) else { return Ok(None) };
    if let Some(h) = L::pair(db, a.id(), b.id()).await?
        && h.id() != me.id()
    {
        let msg = rules::duplicate_key(&[(&column(af), a.ext_ref()), (&column(bf), b.ext_ref())]);
        e.push(bf, ErrorCode::Taken, msg);
    }
    Ok(Some((a, b)))
}

/// The bundle column of an input field (`partnerId` → `partner_id`), as the
/// import's messages name it.
fn column(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + 2);
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Refuses a deletion while rows still point at the record: `what` counts
/// them, each with what they are ("3 territories inside it").
fn in_use(e: &mut Errors, label: &str, r: &str, what: &[(u64, &str)]) {
    let what: Vec<String> = what
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
    if !what.is_empty() {
        e.push(
            "id",
            ErrorCode::InUse,
            format!(
                "{label} '{r}' cannot be deleted: {} still point at it; move or delete them first",
                what.join(", ")
            ),
        );
    }
}

// ------------------------------------------------------------ territory

#[async_trait::async_trait]
impl Rec for territory::Model {
    type Patch = TerritoryPatch;
    const TYPE: RecordType = RecordType::Territory;

    fn apply(p: &TerritoryPatch, m: &mut Self, e: &mut Errors, creating: bool) {
        set_ref(e, &p.r#ref, &mut m.r#ref, creating);
        set(e, "kind", &p.kind, &mut m.kind, creating);
        set_opt_text(e, "code", &p.code, &mut m.code);
        set_text(e, "name", &p.name, &mut m.name, creating);
        m.name_search = search_key(&m.name);
        set_opt(&p.parent_id, &mut m.parent_id);
        set_checked(e, "population", &p.population, &mut m.population, rules::count);
        set_checked(e, "lat", &p.lat, &mut m.lat, |v| {
            rules::coordinate("lat", v, rules::LAT_LIMIT)
        });
        set_checked(e, "lon", &p.lon, &mut m.lon, |v| {
            rules::coordinate("lon", v, rules::LON_LIMIT)
        });
    }

    async fn check(db: &Db, m: &Self, old: Option<&Self>, e: &mut Errors) -> Result<()> {
        write::lock_tree(db, write::Tree::Territories).await?;
        let holder = write::by_ref::territory(db, &m.r#ref).await?;
        ref_taken(e, holder.map(|h| h.id), m.id, &m.r#ref);
        if let Some(code) = &m.code
            && let Some(h) = write::territory_with_code(db, m.kind, code).await?
            && h.id != m.id
        {
            e.push("code", ErrorCode::Taken, rules::code_taken(code, &h.r#ref));
        }
        let up = |t: &Self| (t.r#ref.clone(), t.parent_id);
        if let Some(parent) = check_parent(db, e, m, &m.r#ref, m.parent_id, up).await?
            && let Err(msg) = rules::territory_rank(m.kind, parent.kind, &parent.r#ref)
        {
            e.bad("parentId", msg);
        }
        if let Some(old) = old
            && old.kind != m.kind
        {
            for child in write::territory_children(db, m.id).await? {
                if m.kind.rank() >= child.kind.rank() {
                    let msg = rules::territory_rank_changed(&m.r#ref, m.kind, child.kind, &child.r#ref);
                    e.bad("kind", msg);
                }
            }
        }
        Ok(())
    }

    async fn check_delete(db: &Db, m: &Self, e: &mut Errors) -> Result<()> {
        let (children, partners, networks) = write::territory_dependents(db, m.id).await?;
        let what = [
            (children, "territories inside it"),
            (partners, "partners based there"),
            (networks, "networks covering it"),
        ];
        in_use(e, "territory", &m.r#ref, &what);
        Ok(())
    }

    async fn after_write(db: &Db, old: Option<&Self>, new: Option<&Self>) -> Result<()> {
        // The closure only depends on the tree: a rename leaves it alone.
        let moved = match (old, new) {
            (Some(o), Some(n)) => o.parent_id != n.parent_id,
            _ => true,
        };
        if moved {
            ancestry::rebuild(db).await?;
        }
        Ok(())
    }

    storage!(territory, Territory);
}

// ------------------------------------------------------------ partner

#[async_trait::async_trait]
impl Rec for partner::Model {
    type Patch = PartnerPatch;
    const TYPE: RecordType = RecordType::Partner;

    fn apply(p: &PartnerPatch, m: &mut Self, e: &mut Errors, creating: bool) {
        set_ref(e, &p.r#ref, &mut m.r#ref, creating);
        set_text(e, "name", &p.name, &mut m.name, creating);
        m.name_search = search_key(&m.name);
        set(e, "kind", &p.kind, &mut m.kind, creating);
        // A failing Luhn check is only a warning in the format.
        set_opt_text_with(e, "siret", &p.siret, &mut m.siret, |v| rules::siret(v).map(|_luhn| ()));
        set_opt(&p.parent_id, &mut m.parent_id);
        set_opt(&p.territory_id, &mut m.territory_id);
        set_opt_text(e, "website", &p.website, &mut m.website);
        set_opt_text(e, "email", &p.email, &mut m.email);
        set_opt_text(e, "phone", &p.phone, &mut m.phone);
        set_opt_text(e, "description", &p.description, &mut m.description);
    }

    async fn check(db: &Db, m: &Self, _old: Option<&Self>, e: &mut Errors) -> Result<()> {
        write::lock_tree(db, write::Tree::Partners).await?;
        let holder = write::by_ref::partner(db, &m.r#ref).await?;
        ref_taken(e, holder.map(|h| h.id), m.id, &m.r#ref);
        let up = |t: &Self| (t.r#ref.clone(), t.parent_id);
        check_parent(db, e, m, &m.r#ref, m.parent_id, up).await?;
        referenced::<territory::Model>(db, e, "territoryId", m.territory_id).await?;
        Ok(())
    }

    async fn check_delete(db: &Db, m: &Self, e: &mut Errors) -> Result<()> {
        let children = write::partner_children(db, m.id).await?;
        if children > 0 {
            e.push(
                "id",
                ErrorCode::InUse,
                format!(
                    "partner '{}' cannot be deleted: {children} partners still have it as their parent organisation; move or delete them first",
                    m.r#ref
                ),
            );
        }
        Ok(())
    }

    storage!(partner, Partner);
}

// ------------------------------------------------------------ contact

#[async_trait::async_trait]
impl Rec for contact::Model {
    type Patch = ContactPatch;
    const TYPE: RecordType = RecordType::Contact;

    fn apply(p: &ContactPatch, m: &mut Self, e: &mut Errors, creating: bool) {
        set_ref(e, &p.r#ref, &mut m.r#ref, creating);
        set(e, "partnerId", &p.partner_id, &mut m.partner_id, creating);
        set_text(e, "fullName", &p.full_name, &mut m.full_name, creating);
        m.name_search = search_key(&m.full_name);
        set_opt_text(e, "roleTitle", &p.role_title, &mut m.role_title);
        set_opt_text(e, "email", &p.email, &mut m.email);
        set_opt_text(e, "phone", &p.phone, &mut m.phone);
    }

    async fn check(db: &Db, m: &Self, _old: Option<&Self>, e: &mut Errors) -> Result<()> {
        let holder = write::by_ref::contact(db, &m.r#ref).await?;
        ref_taken(e, holder.map(|h| h.id), m.id, &m.r#ref);
        referenced::<partner::Model>(db, e, "partnerId", Some(m.partner_id)).await?;
        Ok(())
    }

    storage!(contact, Contact);
}

// ------------------------------------------------------------ network

#[async_trait::async_trait]
impl Rec for network::Model {
    type Patch = NetworkPatch;
    const TYPE: RecordType = RecordType::Network;

    fn apply(p: &NetworkPatch, m: &mut Self, e: &mut Errors, creating: bool) {
        set_ref(e, &p.r#ref, &mut m.r#ref, creating);
        set_text(e, "name", &p.name, &mut m.name, creating);
        m.name_search = search_key(&m.name);
        set(e, "kind", &p.kind, &mut m.kind, creating);
        set_opt(&p.territory_id, &mut m.territory_id);
        set_opt(&p.parent_id, &mut m.parent_id);
        set_opt(&p.started_on, &mut m.started_on);
        set_opt(&p.ended_on, &mut m.ended_on);
        set_opt_text(e, "description", &p.description, &mut m.description);
        set_opt(&p.visibility, &mut m.visibility);
        check_range(
            e,
            [("started_on", "startedOn"), ("ended_on", "endedOn")],
            m.started_on,
            m.ended_on,
        );
    }

    async fn check(db: &Db, m: &Self, _old: Option<&Self>, e: &mut Errors) -> Result<()> {
        write::lock_tree(db, write::Tree::Networks).await?;
        let holder = write::by_ref::network(db, &m.r#ref).await?;
        ref_taken(e, holder.map(|h| h.id), m.id, &m.r#ref);
        referenced::<territory::Model>(db, e, "territoryId", m.territory_id).await?;
        let up = |t: &Self| (t.r#ref.clone(), t.parent_id);
        check_parent(db, e, m, &m.r#ref, m.parent_id, up).await?;
        Ok(())
    }

    async fn check_delete(db: &Db, m: &Self, e: &mut Errors) -> Result<()> {
        let (children, actions) = write::network_dependents(db, m.id).await?;
        let what = [(children, "sub-networks"), (actions, "actions run under it")];
        in_use(e, "network", &m.r#ref, &what);
        Ok(())
    }

    storage!(network, Network);
}

// ------------------------------------------------------------ action

#[async_trait::async_trait]
impl Rec for action::Model {
    type Patch = ActionPatch;
    const TYPE: RecordType = RecordType::Action;

    fn apply(p: &ActionPatch, m: &mut Self, e: &mut Errors, creating: bool) {
        set_ref(e, &p.r#ref, &mut m.r#ref, creating);
        set_text(e, "title", &p.title, &mut m.title, creating);
        m.title_search = search_key(&m.title);
        set(e, "theme", &p.theme, &mut m.theme, creating);
        set(e, "status", &p.status, &mut m.status, creating);
        set_opt(&p.network_id, &mut m.network_id);
        set_opt(&p.started_on, &mut m.started_on);
        set_opt(&p.ended_on, &mut m.ended_on);
        set_checked(e, "budget", &p.budget, &mut m.budget_cents, cents);
        set_checked(e, "beneficiaries", &p.beneficiaries, &mut m.beneficiaries, rules::count);
        set_opt_text(e, "description", &p.description, &mut m.description);
        set_opt(&p.visibility, &mut m.visibility);
        check_range(
            e,
            [("started_on", "startedOn"), ("ended_on", "endedOn")],
            m.started_on,
            m.ended_on,
        );
    }

    async fn check(db: &Db, m: &Self, _old: Option<&Self>, e: &mut Errors) -> Result<()> {
        let holder = write::by_ref::action(db, &m.r#ref).await?;
        ref_taken(e, holder.map(|h| h.id), m.id, &m.r#ref);
        referenced::<network::Model>(db, e, "networkId", m.network_id).await?;
        Ok(())
    }

    storage!(action, Action);
}

// ------------------------------------------------------------ membership

#[async_trait::async_trait]
impl Rec for membership::Model {
    type Patch = MembershipPatch;
    const TYPE: RecordType = RecordType::Membership;

    fn apply(p: &MembershipPatch, m: &mut Self, e: &mut Errors, creating: bool) {
        set(e, "networkId", &p.network_id, &mut m.network_id, creating);
        set(e, "partnerId", &p.partner_id, &mut m.partner_id, creating);
        set(e, "role", &p.role, &mut m.role, creating);
        set_opt(&p.since, &mut m.since);
        set_opt(&p.until, &mut m.until);
        check_range(e, [("since", "since"), ("until", "until")], m.since, m.until);
    }

    async fn check(db: &Db, m: &Self, _old: Option<&Self>, e: &mut Errors) -> Result<()> {
        let ends = (("networkId", m.network_id), ("partnerId", m.partner_id));
        link_ends::<_, network::Model, partner::Model>(db, e, m, ends.0, ends.1).await?;
        Ok(())
    }

    storage!(membership, Membership, pair);
}

// ------------------------------------------------------------ participation

#[async_trait::async_trait]
impl Rec for action_partner::Model {
    type Patch = ParticipationPatch;
    const TYPE: RecordType = RecordType::Participation;

    fn apply(p: &ParticipationPatch, m: &mut Self, e: &mut Errors, creating: bool) {
        set(e, "actionId", &p.action_id, &mut m.action_id, creating);
        set(e, "partnerId", &p.partner_id, &mut m.partner_id, creating);
        set(e, "role", &p.role, &mut m.role, creating);
        set_checked(e, "contribution", &p.contribution, &mut m.contribution_cents, cents);
    }

    async fn check(db: &Db, m: &Self, _old: Option<&Self>, e: &mut Errors) -> Result<()> {
        let ends = (("actionId", m.action_id), ("partnerId", m.partner_id));
        let ends = link_ends::<_, action::Model, partner::Model>(db, e, m, ends.0, ends.1).await?;
        let Some((a, p)) = ends else { return Ok(()) };
        if m.role == ParticipationRole::Lead
            && let Some(lead) = write::lead_of(db, a.id).await?
            && lead.id != m.id
        {
            let old = write::partner::get(db, lead.partner_id).await?;
            let old = old.map(|o| o.r#ref).unwrap_or_default();
            e.push("role", ErrorCode::Taken, rules::lead_taken(&a.r#ref, &p.r#ref, &old));
        }
        Ok(())
    }

    storage!(action_partner, Participation, pair);
}

// ------------------------------------------------------------ relation

#[async_trait::async_trait]
impl Rec for relation::Model {
    type Patch = RelationPatch;
    const TYPE: RecordType = RecordType::Relation;

    /// A relation's weight is 1 unless told.
    fn blank() -> Self {
        relation::Model {
            weight: 1.0,
            ..Default::default()
        }
    }

    fn apply(p: &RelationPatch, m: &mut Self, e: &mut Errors, creating: bool) {
        set(e, "fromPartnerId", &p.from_partner_id, &mut m.from_partner_id, creating);
        set(e, "toPartnerId", &p.to_partner_id, &mut m.to_partner_id, creating);
        set(e, "kind", &p.kind, &mut m.kind, creating);
        set_opt(&p.since, &mut m.since);
        set_opt(&p.until, &mut m.until);
        if let Some(w) = p.weight
            && let Some(w) = e.ok("weight", rules::positive("weight", &w.to_string()))
        {
            m.weight = w;
        }
        set_opt_text(e, "note", &p.note, &mut m.note);
        set_opt(&p.visibility, &mut m.visibility);
        check_range(e, [("since", "since"), ("until", "until")], m.since, m.until);
    }

    async fn check(db: &Db, m: &Self, _old: Option<&Self>, e: &mut Errors) -> Result<()> {
        // Keyed by its two ends and its kind: checked below, not by `pair`.
        let ends = (("fromPartnerId", m.from_partner_id), ("toPartnerId", m.to_partner_id));
        let ends = link_ends::<_, partner::Model, partner::Model>(db, e, m, ends.0, ends.1).await?;
        let Some((from, to)) = ends else { return Ok(()) };
        if from.id == to.id {
            e.bad("toPartnerId", rules::self_relation(&to.r#ref));
        } else if let Some(h) = write::relation_of(db, from.id, to.id, m.kind).await?
            && h.id != m.id
        {
            let msg = rules::duplicate_key(&[
                ("from_partner_id", &from.r#ref),
                ("to_partner_id", &to.r#ref),
                ("kind", m.kind.as_str()),
            ]);
            e.push("kind", ErrorCode::Taken, msg);
        }
        Ok(())
    }

    storage!(relation, Relation);
}

// ------------------------------------------------------------ pure links

/// A row that only joins two records (a territory a partner serves, one an
/// action takes place in): its rules are its two ends and their pair.
macro_rules! pure_link {
    ($m:ident: $patch:ident, $variant:ident, $a:ident: $am:ident = $af:literal, $b:ident: $bm:ident = $bf:literal) => {
        #[async_trait::async_trait]
        impl Rec for $m::Model {
            type Patch = $patch;
            const TYPE: RecordType = RecordType::$variant;

            fn apply(p: &$patch, m: &mut Self, e: &mut Errors, creating: bool) {
                set(e, $af, &p.$a, &mut m.$a, creating);
                set(e, $bf, &p.$b, &mut m.$b, creating);
            }

            async fn check(db: &Db, m: &Self, _old: Option<&Self>, e: &mut Errors) -> Result<()> {
                link_ends::<_, $am::Model, $bm::Model>(db, e, m, ($af, m.$a), ($bf, m.$b)).await?;
                Ok(())
            }

            storage!($m, $variant, pair);
        }
    };
}

pure_link!(partner_territory: ServedTerritoryPatch, ServedTerritory,
    partner_id: partner = "partnerId", territory_id: territory = "territoryId");
pure_link!(action_territory: ActionTerritoryPatch, ActionTerritory,
    action_id: action = "actionId", territory_id: territory = "territoryId");
