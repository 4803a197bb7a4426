//! Mutations: one per edit of one record, `input` → payload `{ record
//! userErrors }` (the Shopify/GitHub shape). The rules are the domain's
//! (`domain::edit`, the import's rules); this module only decodes global
//! ids, checks the principal may write, and shapes the answer.
//!
//! A mistake in the input is a *user error* in the payload (the record is
//! null and nothing was written); only authorization (`FORBIDDEN`) and our
//! own failures (`INTERNAL`) are top-level errors — plus what the schema
//! itself refuses before any resolver runs (a value that is not of its
//! type, such as an unknown enum value or a date that does not exist:
//! `BAD_USER_INPUT`).
//!
//! Updates change only the fields given. A nullable field given as `null`
//! is cleared; a required field given as `null` is left as it is. An empty
//! string clears an optional text, as an empty field does in a bundle.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use super::error::{forbidden, internal};
use super::ids::{self, Kind};
use super::scalars::Date;
use super::types::*;
use crate::domain::access::Principal;
use crate::domain::edit::{self, *};
use crate::model::*;

/// A mistake in a mutation's input: nothing was written.
#[derive(SimpleObject, Debug, Clone)]
pub struct UserError {
    /// The path of the input field at fault, from the argument: `["input", "parentId"]`.
    field: Vec<String>,
    /// What is wrong, in words (the same words as the bundle import's for the same rule).
    message: String,
    /// What kind of mistake, for programs.
    code: ErrorCode,
}

impl From<edit::UserError> for UserError {
    fn from(e: edit::UserError) -> Self {
        UserError {
            field: vec!["input".into(), e.field.into()],
            message: e.message,
            code: e.code,
        }
    }
}

/// Decodes the global ids of an input, collecting the mistakes.
#[derive(Default)]
pub struct Decoder {
    errors: Vec<edit::UserError>,
}

impl Decoder {
    fn id(&mut self, kind: Kind, field: &'static str, id: &ID) -> i64 {
        match ids::decode(id) {
            Some((k, n)) if k == kind => n,
            Some((k, _)) => {
                self.errors.push(edit::UserError {
                    field,
                    message: format!(
                        "{:?} is the id of a {}, not of a {}",
                        id.as_str(),
                        k.prefix(),
                        kind.prefix()
                    ),
                    code: ErrorCode::NotFound,
                });
                0
            }
            None => {
                self.errors.push(edit::UserError {
                    field,
                    message: format!("{:?} is not a global id", id.as_str()),
                    code: ErrorCode::BadUserInput,
                });
                0
            }
        }
    }
    fn opt(&mut self, kind: Kind, field: &'static str, id: &Option<ID>) -> Option<i64> {
        id.as_ref().map(|id| self.id(kind, field, id))
    }
    fn nullable(&mut self, kind: Kind, field: &'static str, id: &MaybeUndefined<ID>) -> Nullable<i64> {
        match id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(id) => Some(Some(self.id(kind, field, id))),
        }
    }
}

fn nullable<T>(v: MaybeUndefined<T>) -> Nullable<T> {
    v.into()
}

fn nullable_date(v: MaybeUndefined<Date>) -> Nullable<chrono::NaiveDate> {
    nullable(v).map(|d| d.map(|d| d.0))
}

/// An input that becomes an [`Edit`].
pub trait IntoEdit {
    fn edit(self, d: &mut Decoder) -> Edit;
}

/// Checks the principal, decodes, runs the edit in the domain: the change
/// made, or the user errors.
async fn run(ctx: &Context<'_>, operation: &str, input: impl IntoEdit) -> Result<Result<Change, Vec<UserError>>> {
    let principal = match ctx.data_opt::<Principal>() {
        // A portal may edit its own public contact details: the domain
        // decides on the edit itself.
        Some(p) if p.can_write() || p.role == crate::domain::access::Role::Partner => p,
        Some(p) => {
            return Err(forbidden(format!(
                "`{operation}`: the role {} may not change data",
                p.role.as_str()
            )));
        }
        None => return Err(forbidden(format!("`{operation}`: changing data needs a credential"))),
    };
    let mut d = Decoder::default();
    let edit = input.edit(&mut d);
    if !d.errors.is_empty() {
        return Ok(Err(d.errors.into_iter().map(Into::into).collect()));
    }
    let db = ctx
        .data::<sea_orm::DatabaseConnection>()
        .map_err(|e| internal(e.message))?;
    match edit::apply(db, principal, operation, edit).await {
        Ok(Outcome::Done(change)) => {
            // Read-your-writes for graph questions: this instance applies
            // its own change now rather than when the notification arrives.
            // The change is committed: a failure here (the database went
            // away just after) must not answer it as failed, or the client
            // would make it twice. The follower applies it later.
            if let Ok(g) = ctx.data::<crate::domain::graph::Graph>()
                && let Err(e) = g.catch_up().await
            {
                tracing::warn!(error = %e, "graph: catching up after an edit failed; the follower will");
            }
            Ok(Ok(*change))
        }
        Ok(Outcome::Refused(errors)) => Ok(Err(errors.into_iter().map(Into::into).collect())),
        Err(EditError::Forbidden(who)) => Err(forbidden(format!("`{operation}`: {who} may not change data"))),
        Err(EditError::Storage(e)) => Err(internal(e)),
    }
}

/// A payload carrying the record written.
macro_rules! record_payload {
    ($(#[doc = $doc:literal])* $name:ident, $field:ident: $ty:ident <- $variant:ident) => {
        $(#[doc = $doc])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// The record as written (its new `version` included); null when the mutation was refused.
            $field: Option<$ty>,
            /// The mistakes in the input; empty when the mutation succeeded.
            user_errors: Vec<UserError>,
        }

        impl From<Result<Change, Vec<UserError>>> for $name {
            fn from(r: Result<Change, Vec<UserError>>) -> Self {
                match r {
                    Ok(c) => match c.record() {
                        Record::$variant(m) => $name { $field: Some($ty::from(m.clone())), user_errors: vec![] },
                        other => unreachable!("{} got {other:?}", stringify!($name)),
                    },
                    Err(user_errors) => $name { $field: None, user_errors },
                }
            }
        }
    };
}

/// A payload carrying the global id of the record deleted.
macro_rules! deleted_payload {
    ($(#[doc = $doc:literal])* $name:ident, $field:ident, $kind:ident) => {
        $(#[doc = $doc])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// The global id the deleted record had; null when the mutation was refused.
            $field: Option<ID>,
            /// The mistakes in the input (or why the deletion was refused); empty when it succeeded.
            user_errors: Vec<UserError>,
        }

        impl From<Result<Change, Vec<UserError>>> for $name {
            fn from(r: Result<Change, Vec<UserError>>) -> Self {
                match r {
                    Ok(c) => $name {
                        $field: Some(ids::encode(Kind::$kind, record_id(c.record()))),
                        user_errors: vec![],
                    },
                    Err(user_errors) => $name { $field: None, user_errors },
                }
            }
        }
    };
}

fn record_id(r: &Record) -> i64 {
    match r {
        Record::Territory(m) => m.id,
        Record::Partner(m) => m.id,
        Record::Contact(m) => m.id,
        Record::Network(m) => m.id,
        Record::Membership(m) => m.id,
        Record::Action(m) => m.id,
        Record::Participation(m) => m.id,
        Record::Relation(m) => m.id,
        Record::ServedTerritory(m) => m.id,
        Record::ActionTerritory(m) => m.id,
    }
}

/// A link without data of its own (served territory, action territory):
/// the two records it joins.
macro_rules! link_payload {
    ($(#[doc = $doc:literal])* $name:ident, $a:ident: $aty:ident, $a_loader:ident, $variant:ident . $a_col:ident) => {
        $(#[doc = $doc])*
        #[derive(SimpleObject)]
        pub struct $name {
            #[doc = concat!("The ", stringify!($a), " of the link; null when the mutation was refused.")]
            $a: Option<$aty>,
            /// The territory of the link; null when the mutation was refused.
            territory: Option<Territory>,
            /// The mistakes in the input; empty when the mutation succeeded.
            user_errors: Vec<UserError>,
        }

        impl $name {
            async fn build(ctx: &Context<'_>, r: Result<Change, Vec<UserError>>) -> Result<Self> {
                let (a, t) = match r {
                    Ok(c) => match c.record() {
                        Record::$variant(m) => (m.$a_col, m.territory_id),
                        other => unreachable!("{} got {other:?}", stringify!($name)),
                    },
                    Err(user_errors) => return Ok($name { $a: None, territory: None, user_errors }),
                };
                let l = loaders(ctx);
                Ok($name {
                    $a: l.$a_loader.load_one(a).await.map_err(internal)?.map($aty::from),
                    territory: l.territory.load_one(t).await.map_err(internal)?.map(Territory),
                    user_errors: vec![],
                })
            }
        }
    };
}

// ---------------------------------------------------------------- territory

/// A new territory.
#[derive(InputObject)]
pub struct CreateTerritoryInput {
    /// Its external id (as in bundles): 1–64 characters of `A-Za-z0-9._:-`, unique among territories.
    #[graphql(name = "ref")]
    r#ref: String,
    /// Its rank in the tree.
    kind: TerritoryKind,
    /// Official code (INSEE, SIREN or QPV code), unique among territories of its kind.
    code: Option<String>,
    /// Its name (not empty).
    name: String,
    /// The enclosing territory, of a higher rank.
    parent_id: Option<ID>,
    /// Inhabitants (not negative).
    population: Option<i64>,
    /// Latitude of its centroid (WGS84, at most 90 degrees either way).
    lat: Option<f64>,
    /// Longitude of its centroid (WGS84, at most 180 degrees either way).
    lon: Option<f64>,
}

impl IntoEdit for CreateTerritoryInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Territory(TerritoryPatch {
            r#ref: Some(self.r#ref),
            kind: Some(self.kind),
            code: Some(self.code),
            name: Some(self.name),
            parent_id: Some(d.opt(Kind::Territory, "parentId", &self.parent_id)),
            population: Some(self.population),
            lat: Some(self.lat),
            lon: Some(self.lon),
        }))
    }
}

/// Changes to a territory: only the fields given change; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdateTerritoryInput {
    /// The territory.
    id: ID,
    /// The `version` the change was made from; if the territory has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new external id.
    #[graphql(name = "ref")]
    r#ref: Option<String>,
    /// A new rank (still below its parent's and above its children's).
    kind: Option<TerritoryKind>,
    /// A new official code; `null` clears it.
    code: MaybeUndefined<String>,
    /// A new name.
    name: Option<String>,
    /// A new enclosing territory (moving it, and all it contains); `null` makes it a root.
    parent_id: MaybeUndefined<ID>,
    /// A new population; `null` clears it.
    population: MaybeUndefined<i64>,
    /// A new latitude; `null` clears it.
    lat: MaybeUndefined<f64>,
    /// A new longitude; `null` clears it.
    lon: MaybeUndefined<f64>,
}

impl IntoEdit for UpdateTerritoryInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Territory, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Territory(TerritoryPatch {
                r#ref: self.r#ref,
                kind: self.kind,
                code: nullable(self.code),
                name: self.name,
                parent_id: d.nullable(Kind::Territory, "parentId", &self.parent_id),
                population: nullable(self.population),
                lat: nullable(self.lat),
                lon: nullable(self.lon),
            }),
        }
    }
}

/// The territory to delete.
#[derive(InputObject)]
pub struct DeleteTerritoryInput {
    /// The territory.
    id: ID,
    /// When given, delete only if the territory is still at this version (else `CONFLICT`).
    expected_version: Option<i32>,
}

impl IntoEdit for DeleteTerritoryInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Delete {
            record: RecordType::Territory,
            id: d.id(Kind::Territory, "id", &self.id),
            expected_version: self.expected_version,
        }
    }
}

record_payload!(
    /// The result of `createTerritory`.
    CreateTerritoryPayload, territory: Territory <- Territory);
record_payload!(
    /// The result of `updateTerritory`.
    UpdateTerritoryPayload, territory: Territory <- Territory);
deleted_payload!(
    /// The result of `deleteTerritory`.
    DeleteTerritoryPayload, deleted_territory_id, Territory);

// ---------------------------------------------------------------- partner

/// A new partner organisation.
#[derive(InputObject)]
pub struct CreatePartnerInput {
    /// Its external id (as in bundles): 1–64 characters of `A-Za-z0-9._:-`, unique among partners.
    #[graphql(name = "ref")]
    r#ref: String,
    /// Its name (not empty).
    name: String,
    /// The type of structure.
    kind: PartnerKind,
    /// Its SIRET: 14 digits.
    siret: Option<String>,
    /// Its parent organisation (no cycles).
    parent_id: Option<ID>,
    /// Where it is based.
    territory_id: Option<ID>,
    /// Its website.
    website: Option<String>,
    /// Its public e-mail address.
    email: Option<String>,
    /// Its public phone number.
    phone: Option<String>,
    /// Free text.
    description: Option<String>,
}

impl IntoEdit for CreatePartnerInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Partner(PartnerPatch {
            r#ref: Some(self.r#ref),
            name: Some(self.name),
            kind: Some(self.kind),
            siret: Some(self.siret),
            parent_id: Some(d.opt(Kind::Partner, "parentId", &self.parent_id)),
            territory_id: Some(d.opt(Kind::Territory, "territoryId", &self.territory_id)),
            website: Some(self.website),
            email: Some(self.email),
            phone: Some(self.phone),
            description: Some(self.description),
        }))
    }
}

/// Changes to a partner: only the fields given change; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdatePartnerInput {
    /// The partner.
    id: ID,
    /// The `version` the change was made from; if the partner has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new external id.
    #[graphql(name = "ref")]
    r#ref: Option<String>,
    /// A new name.
    name: Option<String>,
    /// A new type of structure.
    kind: Option<PartnerKind>,
    /// A new SIRET; `null` clears it.
    siret: MaybeUndefined<String>,
    /// A new parent organisation; `null` clears it.
    parent_id: MaybeUndefined<ID>,
    /// Where it is now based; `null` clears it.
    territory_id: MaybeUndefined<ID>,
    /// A new website; `null` clears it.
    website: MaybeUndefined<String>,
    /// A new public e-mail address; `null` clears it.
    email: MaybeUndefined<String>,
    /// A new public phone number; `null` clears it.
    phone: MaybeUndefined<String>,
    /// A new description; `null` clears it.
    description: MaybeUndefined<String>,
}

impl IntoEdit for UpdatePartnerInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Partner, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Partner(PartnerPatch {
                r#ref: self.r#ref,
                name: self.name,
                kind: self.kind,
                siret: nullable(self.siret),
                parent_id: d.nullable(Kind::Partner, "parentId", &self.parent_id),
                territory_id: d.nullable(Kind::Territory, "territoryId", &self.territory_id),
                website: nullable(self.website),
                email: nullable(self.email),
                phone: nullable(self.phone),
                description: nullable(self.description),
            }),
        }
    }
}

/// The partner to delete.
#[derive(InputObject)]
pub struct DeletePartnerInput {
    /// The partner.
    id: ID,
    /// When given, delete only if the partner is still at this version (else `CONFLICT`).
    expected_version: Option<i32>,
}

impl IntoEdit for DeletePartnerInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Delete {
            record: RecordType::Partner,
            id: d.id(Kind::Partner, "id", &self.id),
            expected_version: self.expected_version,
        }
    }
}

record_payload!(
    /// The result of `createPartner`.
    CreatePartnerPayload, partner: Partner <- Partner);
record_payload!(
    /// The result of `updatePartner`.
    UpdatePartnerPayload, partner: Partner <- Partner);
deleted_payload!(
    /// The result of `deletePartner`.
    DeletePartnerPayload, deleted_partner_id, Partner);

// ---------------------------------------------------------------- contact

/// A new contact person at a partner (personal data).
#[derive(InputObject)]
pub struct CreateContactInput {
    /// Its external id (as in bundles): 1–64 characters of `A-Za-z0-9._:-`, unique among contacts.
    #[graphql(name = "ref")]
    r#ref: String,
    /// The partner the person works at.
    partner_id: ID,
    /// The person's full name (not empty).
    full_name: String,
    /// Their position.
    role_title: Option<String>,
    /// Their e-mail address.
    email: Option<String>,
    /// Their phone number.
    phone: Option<String>,
}

impl IntoEdit for CreateContactInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Contact(ContactPatch {
            r#ref: Some(self.r#ref),
            partner_id: Some(d.id(Kind::Partner, "partnerId", &self.partner_id)),
            full_name: Some(self.full_name),
            role_title: Some(self.role_title),
            email: Some(self.email),
            phone: Some(self.phone),
        }))
    }
}

/// Changes to a contact: only the fields given change; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdateContactInput {
    /// The contact.
    id: ID,
    /// The `version` the change was made from; if the contact has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new external id.
    #[graphql(name = "ref")]
    r#ref: Option<String>,
    /// The partner the person now works at.
    partner_id: Option<ID>,
    /// A new full name.
    full_name: Option<String>,
    /// A new position; `null` clears it.
    role_title: MaybeUndefined<String>,
    /// A new e-mail address; `null` clears it.
    email: MaybeUndefined<String>,
    /// A new phone number; `null` clears it.
    phone: MaybeUndefined<String>,
}

impl IntoEdit for UpdateContactInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Contact, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Contact(ContactPatch {
                r#ref: self.r#ref,
                partner_id: d.opt(Kind::Partner, "partnerId", &self.partner_id),
                full_name: self.full_name,
                role_title: nullable(self.role_title),
                email: nullable(self.email),
                phone: nullable(self.phone),
            }),
        }
    }
}

/// The contact to delete.
#[derive(InputObject)]
pub struct DeleteContactInput {
    /// The contact.
    id: ID,
    /// When given, delete only if the contact is still at this version (else `CONFLICT`).
    expected_version: Option<i32>,
}

impl IntoEdit for DeleteContactInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Delete {
            record: RecordType::Contact,
            id: d.id(Kind::Contact, "id", &self.id),
            expected_version: self.expected_version,
        }
    }
}

record_payload!(
    /// The result of `createContact`.
    CreateContactPayload, contact: Contact <- Contact);
record_payload!(
    /// The result of `updateContact`.
    UpdateContactPayload, contact: Contact <- Contact);
deleted_payload!(
    /// The result of `deleteContact`.
    DeleteContactPayload, deleted_contact_id, Contact);

// ---------------------------------------------------------------- network

/// A new network (an instance or dispositif partners sit in).
#[derive(InputObject)]
pub struct CreateNetworkInput {
    /// Its external id (as in bundles): 1–64 characters of `A-Za-z0-9._:-`, unique among networks.
    #[graphql(name = "ref")]
    r#ref: String,
    /// Its name (not empty).
    name: String,
    /// What kind of instance it is.
    kind: NetworkKind,
    /// The territory it covers.
    territory_id: Option<ID>,
    /// The network it is part of (no cycles).
    parent_id: Option<ID>,
    /// When it started.
    started_on: Option<Date>,
    /// When it ended (not before it started).
    ended_on: Option<Date>,
    /// Free text.
    description: Option<String>,
    /// Who may read it; without one, the default of its kind (networks: GLTD and CDDF internal, CISPD and CLSPD members, others public; actions: their network's, else public; relations: members).
    visibility: Option<Visibility>,
}

impl IntoEdit for CreateNetworkInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Network(NetworkPatch {
            r#ref: Some(self.r#ref),
            name: Some(self.name),
            kind: Some(self.kind),
            territory_id: Some(d.opt(Kind::Territory, "territoryId", &self.territory_id)),
            parent_id: Some(d.opt(Kind::Network, "parentId", &self.parent_id)),
            started_on: Some(self.started_on.map(|d| d.0)),
            ended_on: Some(self.ended_on.map(|d| d.0)),
            description: Some(self.description),
            visibility: Some(self.visibility),
        }))
    }
}

/// Changes to a network: only the fields given change; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdateNetworkInput {
    /// The network.
    id: ID,
    /// The `version` the change was made from; if the network has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new external id.
    #[graphql(name = "ref")]
    r#ref: Option<String>,
    /// A new name.
    name: Option<String>,
    /// A new kind.
    kind: Option<NetworkKind>,
    /// The territory it now covers; `null` clears it.
    territory_id: MaybeUndefined<ID>,
    /// The network it is now part of; `null` clears it.
    parent_id: MaybeUndefined<ID>,
    /// A new start date; `null` clears it.
    started_on: MaybeUndefined<Date>,
    /// A new end date; `null` clears it.
    ended_on: MaybeUndefined<Date>,
    /// A new description; `null` clears it.
    description: MaybeUndefined<String>,
    /// Who may read it; `null` puts back the default of its kind.
    visibility: MaybeUndefined<Visibility>,
}

impl IntoEdit for UpdateNetworkInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Network, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Network(NetworkPatch {
                r#ref: self.r#ref,
                name: self.name,
                kind: self.kind,
                territory_id: d.nullable(Kind::Territory, "territoryId", &self.territory_id),
                parent_id: d.nullable(Kind::Network, "parentId", &self.parent_id),
                started_on: nullable_date(self.started_on),
                ended_on: nullable_date(self.ended_on),
                description: nullable(self.description),
                visibility: nullable(self.visibility),
            }),
        }
    }
}

/// The network to delete.
#[derive(InputObject)]
pub struct DeleteNetworkInput {
    /// The network.
    id: ID,
    /// When given, delete only if the network is still at this version (else `CONFLICT`).
    expected_version: Option<i32>,
}

impl IntoEdit for DeleteNetworkInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Delete {
            record: RecordType::Network,
            id: d.id(Kind::Network, "id", &self.id),
            expected_version: self.expected_version,
        }
    }
}

record_payload!(
    /// The result of `createNetwork`.
    CreateNetworkPayload, network: Network <- Network);
record_payload!(
    /// The result of `updateNetwork`.
    UpdateNetworkPayload, network: Network <- Network);
deleted_payload!(
    /// The result of `deleteNetwork`.
    DeleteNetworkPayload, deleted_network_id, Network);

// ---------------------------------------------------------------- action

/// A new shared action.
#[derive(InputObject)]
pub struct CreateActionInput {
    /// Its external id (as in bundles): 1–64 characters of `A-Za-z0-9._:-`, unique among actions.
    #[graphql(name = "ref")]
    r#ref: String,
    /// Its title (not empty).
    title: String,
    /// Its theme.
    theme: Theme,
    /// Where it stands.
    status: ActionStatus,
    /// The network it runs under.
    network_id: Option<ID>,
    /// When it started.
    started_on: Option<Date>,
    /// When it ended (not before it started).
    ended_on: Option<Date>,
    /// Total budget in euros (not negative; more than 2 decimals are rounded).
    budget: Option<f64>,
    /// People reached (not negative).
    beneficiaries: Option<i64>,
    /// Free text.
    description: Option<String>,
    /// Who may read it; without one, the default of its kind (networks: GLTD and CDDF internal, CISPD and CLSPD members, others public; actions: their network's, else public; relations: members).
    visibility: Option<Visibility>,
}

impl IntoEdit for CreateActionInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Action(ActionPatch {
            r#ref: Some(self.r#ref),
            title: Some(self.title),
            theme: Some(self.theme),
            status: Some(self.status),
            network_id: Some(d.opt(Kind::Network, "networkId", &self.network_id)),
            started_on: Some(self.started_on.map(|d| d.0)),
            ended_on: Some(self.ended_on.map(|d| d.0)),
            budget: Some(self.budget),
            beneficiaries: Some(self.beneficiaries),
            description: Some(self.description),
            visibility: Some(self.visibility),
        }))
    }
}

/// Changes to an action: only the fields given change; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdateActionInput {
    /// The action.
    id: ID,
    /// The `version` the change was made from; if the action has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new external id.
    #[graphql(name = "ref")]
    r#ref: Option<String>,
    /// A new title.
    title: Option<String>,
    /// A new theme.
    theme: Option<Theme>,
    /// A new status.
    status: Option<ActionStatus>,
    /// The network it now runs under; `null` clears it.
    network_id: MaybeUndefined<ID>,
    /// A new start date; `null` clears it.
    started_on: MaybeUndefined<Date>,
    /// A new end date; `null` clears it.
    ended_on: MaybeUndefined<Date>,
    /// A new budget in euros; `null` clears it.
    budget: MaybeUndefined<f64>,
    /// A new count of people reached; `null` clears it.
    beneficiaries: MaybeUndefined<i64>,
    /// A new description; `null` clears it.
    description: MaybeUndefined<String>,
    /// Who may read it; `null` puts back the default of its kind.
    visibility: MaybeUndefined<Visibility>,
}

impl IntoEdit for UpdateActionInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Action, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Action(ActionPatch {
                r#ref: self.r#ref,
                title: self.title,
                theme: self.theme,
                status: self.status,
                network_id: d.nullable(Kind::Network, "networkId", &self.network_id),
                started_on: nullable_date(self.started_on),
                ended_on: nullable_date(self.ended_on),
                budget: nullable(self.budget),
                beneficiaries: nullable(self.beneficiaries),
                description: nullable(self.description),
                visibility: nullable(self.visibility),
            }),
        }
    }
}

/// The action to delete.
#[derive(InputObject)]
pub struct DeleteActionInput {
    /// The action.
    id: ID,
    /// When given, delete only if the action is still at this version (else `CONFLICT`).
    expected_version: Option<i32>,
}

impl IntoEdit for DeleteActionInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Delete {
            record: RecordType::Action,
            id: d.id(Kind::Action, "id", &self.id),
            expected_version: self.expected_version,
        }
    }
}

record_payload!(
    /// The result of `createAction`.
    CreateActionPayload, action: Action <- Action);
record_payload!(
    /// The result of `updateAction`.
    UpdateActionPayload, action: Action <- Action);
deleted_payload!(
    /// The result of `deleteAction`.
    DeleteActionPayload, deleted_action_id, Action);

// ---------------------------------------------------------------- membership

/// A partner joining a network.
#[derive(InputObject)]
pub struct AddMembershipInput {
    /// The network.
    network_id: ID,
    /// The partner (one membership per partner and network).
    partner_id: ID,
    /// Its role there.
    role: MembershipRole,
    /// Since when.
    since: Option<Date>,
    /// Until when (not before `since`).
    until: Option<Date>,
}

impl IntoEdit for AddMembershipInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Membership(MembershipPatch {
            network_id: Some(d.id(Kind::Network, "networkId", &self.network_id)),
            partner_id: Some(d.id(Kind::Partner, "partnerId", &self.partner_id)),
            role: Some(self.role),
            since: Some(self.since.map(|d| d.0)),
            until: Some(self.until.map(|d| d.0)),
        }))
    }
}

/// Changes to a membership: only the fields given change; `null` clears a date.
#[derive(InputObject)]
pub struct UpdateMembershipInput {
    /// The membership.
    id: ID,
    /// The `version` the change was made from; if the membership has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new role.
    role: Option<MembershipRole>,
    /// A new start date; `null` clears it.
    since: MaybeUndefined<Date>,
    /// A new end date; `null` clears it.
    until: MaybeUndefined<Date>,
}

impl IntoEdit for UpdateMembershipInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Membership, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Membership(MembershipPatch {
                role: self.role,
                since: nullable_date(self.since),
                until: nullable_date(self.until),
                ..Default::default()
            }),
        }
    }
}

/// The membership to end.
#[derive(InputObject)]
pub struct RemoveMembershipInput {
    /// The membership.
    id: ID,
    /// When given, remove only if the membership is still at this version (else `CONFLICT`).
    expected_version: Option<i32>,
}

impl IntoEdit for RemoveMembershipInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Delete {
            record: RecordType::Membership,
            id: d.id(Kind::Membership, "id", &self.id),
            expected_version: self.expected_version,
        }
    }
}

record_payload!(
    /// The result of `addMembership`.
    AddMembershipPayload, membership: Membership <- Membership);
record_payload!(
    /// The result of `updateMembership`.
    UpdateMembershipPayload, membership: Membership <- Membership);
deleted_payload!(
    /// The result of `removeMembership`.
    RemoveMembershipPayload, removed_membership_id, Membership);

// ---------------------------------------------------------------- participation

/// A partner taking part in an action.
#[derive(InputObject)]
pub struct AddParticipationInput {
    /// The action.
    action_id: ID,
    /// The partner (one participation per partner and action).
    partner_id: ID,
    /// Its role (an action has at most one `LEAD`).
    role: ParticipationRole,
    /// What it puts in, in euros (not negative).
    contribution: Option<f64>,
}

impl IntoEdit for AddParticipationInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Participation(ParticipationPatch {
            action_id: Some(d.id(Kind::Action, "actionId", &self.action_id)),
            partner_id: Some(d.id(Kind::Partner, "partnerId", &self.partner_id)),
            role: Some(self.role),
            contribution: Some(self.contribution),
        }))
    }
}

/// Changes to a participation: only the fields given change; `null` clears the contribution.
#[derive(InputObject)]
pub struct UpdateParticipationInput {
    /// The participation.
    id: ID,
    /// The `version` the change was made from; if the participation has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new role (an action has at most one `LEAD`: demote the current one first).
    role: Option<ParticipationRole>,
    /// A new contribution in euros; `null` clears it.
    contribution: MaybeUndefined<f64>,
}

impl IntoEdit for UpdateParticipationInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Participation, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Participation(ParticipationPatch {
                role: self.role,
                contribution: nullable(self.contribution),
                ..Default::default()
            }),
        }
    }
}

/// The participation to end.
#[derive(InputObject)]
pub struct RemoveParticipationInput {
    /// The participation.
    id: ID,
    /// When given, remove only if the participation is still at this version (else `CONFLICT`).
    expected_version: Option<i32>,
}

impl IntoEdit for RemoveParticipationInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Delete {
            record: RecordType::Participation,
            id: d.id(Kind::Participation, "id", &self.id),
            expected_version: self.expected_version,
        }
    }
}

record_payload!(
    /// The result of `addParticipation`.
    AddParticipationPayload, participation: Participation <- Participation);
record_payload!(
    /// The result of `updateParticipation`.
    UpdateParticipationPayload, participation: Participation <- Participation);
deleted_payload!(
    /// The result of `removeParticipation`.
    RemoveParticipationPayload, removed_participation_id, Participation);

// ---------------------------------------------------------------- relation

/// A direct link from one partner to another.
#[derive(InputObject)]
pub struct AddRelationInput {
    /// The partner the relation goes from.
    from_partner_id: ID,
    /// The partner it goes to (another one).
    to_partner_id: ID,
    /// What kind of link (one relation per pair and kind).
    kind: RelationKind,
    /// Since when.
    since: Option<Date>,
    /// Until when (not before `since`).
    until: Option<Date>,
    /// How strong, > 0 (1 when not given).
    weight: Option<f64>,
    /// Free text.
    note: Option<String>,
    /// Who may read it; without one, the default of its kind (networks: GLTD and CDDF internal, CISPD and CLSPD members, others public; actions: their network's, else public; relations: members).
    visibility: Option<Visibility>,
}

impl IntoEdit for AddRelationInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Relation(RelationPatch {
            from_partner_id: Some(d.id(Kind::Partner, "fromPartnerId", &self.from_partner_id)),
            to_partner_id: Some(d.id(Kind::Partner, "toPartnerId", &self.to_partner_id)),
            kind: Some(self.kind),
            since: Some(self.since.map(|d| d.0)),
            until: Some(self.until.map(|d| d.0)),
            weight: self.weight,
            note: Some(self.note),
            visibility: Some(self.visibility),
        }))
    }
}

/// Changes to a relation: only the fields given change; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdateRelationInput {
    /// The relation.
    id: ID,
    /// The `version` the change was made from; if the relation has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new kind (one relation per pair and kind).
    kind: Option<RelationKind>,
    /// A new start date; `null` clears it.
    since: MaybeUndefined<Date>,
    /// A new end date; `null` clears it.
    until: MaybeUndefined<Date>,
    /// A new weight, > 0.
    weight: Option<f64>,
    /// A new note; `null` clears it.
    note: MaybeUndefined<String>,
    /// Who may read it; `null` puts back the default of its kind.
    visibility: MaybeUndefined<Visibility>,
}

impl IntoEdit for UpdateRelationInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Relation, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Relation(RelationPatch {
                kind: self.kind,
                since: nullable_date(self.since),
                until: nullable_date(self.until),
                weight: self.weight,
                note: nullable(self.note),
                visibility: nullable(self.visibility),
                ..Default::default()
            }),
        }
    }
}

/// The relation to end.
#[derive(InputObject)]
pub struct RemoveRelationInput {
    /// The relation.
    id: ID,
    /// When given, remove only if the relation is still at this version (else `CONFLICT`).
    expected_version: Option<i32>,
}

impl IntoEdit for RemoveRelationInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Delete {
            record: RecordType::Relation,
            id: d.id(Kind::Relation, "id", &self.id),
            expected_version: self.expected_version,
        }
    }
}

record_payload!(
    /// The result of `addRelation`.
    AddRelationPayload, relation: PartnerRelation <- Relation);
record_payload!(
    /// The result of `updateRelation`.
    UpdateRelationPayload, relation: PartnerRelation <- Relation);
deleted_payload!(
    /// The result of `removeRelation`.
    RemoveRelationPayload, removed_relation_id, Relation);

// ---------------------------------------------------------------- served territories

/// A territory a partner serves.
#[derive(InputObject)]
pub struct ServedTerritoryInput {
    /// The partner.
    partner_id: ID,
    /// The territory it serves.
    territory_id: ID,
}

/// Adds a served territory.
pub struct AddServed(ServedTerritoryInput);
/// Removes a served territory.
pub struct RemoveServed(ServedTerritoryInput);

impl IntoEdit for AddServed {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::ServedTerritory(ServedTerritoryPatch {
            partner_id: Some(d.id(Kind::Partner, "partnerId", &self.0.partner_id)),
            territory_id: Some(d.id(Kind::Territory, "territoryId", &self.0.territory_id)),
        }))
    }
}

impl IntoEdit for RemoveServed {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Unlink {
            record: RecordType::ServedTerritory,
            a: d.id(Kind::Partner, "partnerId", &self.0.partner_id),
            b: d.id(Kind::Territory, "territoryId", &self.0.territory_id),
        }
    }
}

link_payload!(
    /// The result of `addServedTerritory` / `removeServedTerritory`.
    ServedTerritoryPayload, partner: Partner, partner, ServedTerritory.partner_id);

// ---------------------------------------------------------------- action territories

/// A territory an action takes place in.
#[derive(InputObject)]
pub struct ActionTerritoryInput {
    /// The action.
    action_id: ID,
    /// The territory.
    territory_id: ID,
}

/// Adds an action territory.
pub struct AddActionTerritory(ActionTerritoryInput);
/// Removes an action territory.
pub struct RemoveActionTerritory(ActionTerritoryInput);

impl IntoEdit for AddActionTerritory {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::ActionTerritory(ActionTerritoryPatch {
            action_id: Some(d.id(Kind::Action, "actionId", &self.0.action_id)),
            territory_id: Some(d.id(Kind::Territory, "territoryId", &self.0.territory_id)),
        }))
    }
}

impl IntoEdit for RemoveActionTerritory {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Unlink {
            record: RecordType::ActionTerritory,
            a: d.id(Kind::Action, "actionId", &self.0.action_id),
            b: d.id(Kind::Territory, "territoryId", &self.0.territory_id),
        }
    }
}

link_payload!(
    /// The result of `addActionTerritory` / `removeActionTerritory`.
    ActionTerritoryPayload, action: Action, action, ActionTerritory.action_id);

// ---------------------------------------------------------------- root

/// Every change to the data, one record at a time. Each mutation runs in
/// one transaction and is written to the audit log; it needs a principal
/// allowed to write (admin or coordinator), else a `FORBIDDEN` error.
#[derive(Default)]
pub struct MutationRoot;

/// Every change to the data, one record at a time. Each mutation runs in
/// one transaction and is written to the audit log; it needs a principal
/// allowed to write (admin or coordinator), else a `FORBIDDEN` error.
#[Object]
impl MutationRoot {
    /// Creates a territory. Its place in the tree (and so what lies within what) is updated at once.
    async fn create_territory(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new territory.")] input: CreateTerritoryInput,
    ) -> Result<CreateTerritoryPayload> {
        run(ctx, "createTerritory", input).await.map(Into::into)
    }
    /// Changes a territory. Moving it (`parentId`) moves everything inside it: queries by territory with descendants follow at once.
    async fn update_territory(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The territory and the changes.")] input: UpdateTerritoryInput,
    ) -> Result<UpdateTerritoryPayload> {
        run(ctx, "updateTerritory", input).await.map(Into::into)
    }
    /// Deletes a territory. Refused (`IN_USE`) while territories sit inside it, partners are based there or networks cover it. The partners serving it and the actions taking place there lose it (those links are deleted with it).
    async fn delete_territory(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The territory.")] input: DeleteTerritoryInput,
    ) -> Result<DeleteTerritoryPayload> {
        run(ctx, "deleteTerritory", input).await.map(Into::into)
    }

    /// Creates a partner organisation.
    async fn create_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new partner.")] input: CreatePartnerInput,
    ) -> Result<CreatePartnerPayload> {
        run(ctx, "createPartner", input).await.map(Into::into)
    }
    /// Changes a partner.
    async fn update_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner and the changes.")] input: UpdatePartnerInput,
    ) -> Result<UpdatePartnerPayload> {
        run(ctx, "updatePartner", input).await.map(Into::into)
    }
    /// Deletes a partner, and with it its contacts, memberships, participations, relations and served territories. Refused (`IN_USE`) while other partners have it as their parent organisation.
    async fn delete_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner.")] input: DeletePartnerInput,
    ) -> Result<DeletePartnerPayload> {
        run(ctx, "deletePartner", input).await.map(Into::into)
    }

    /// Creates a contact person at a partner.
    async fn create_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new contact.")] input: CreateContactInput,
    ) -> Result<CreateContactPayload> {
        run(ctx, "createContact", input).await.map(Into::into)
    }
    /// Changes a contact.
    async fn update_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contact and the changes.")] input: UpdateContactInput,
    ) -> Result<UpdateContactPayload> {
        run(ctx, "updateContact", input).await.map(Into::into)
    }
    /// Deletes a contact (nothing points at a contact).
    async fn delete_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contact.")] input: DeleteContactInput,
    ) -> Result<DeleteContactPayload> {
        run(ctx, "deleteContact", input).await.map(Into::into)
    }

    /// Creates a network.
    async fn create_network(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new network.")] input: CreateNetworkInput,
    ) -> Result<CreateNetworkPayload> {
        run(ctx, "createNetwork", input).await.map(Into::into)
    }
    /// Changes a network.
    async fn update_network(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The network and the changes.")] input: UpdateNetworkInput,
    ) -> Result<UpdateNetworkPayload> {
        run(ctx, "updateNetwork", input).await.map(Into::into)
    }
    /// Deletes a network, and with it its memberships. Refused (`IN_USE`) while sub-networks are part of it or actions run under it.
    async fn delete_network(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The network.")] input: DeleteNetworkInput,
    ) -> Result<DeleteNetworkPayload> {
        run(ctx, "deleteNetwork", input).await.map(Into::into)
    }

    /// Creates a shared action.
    async fn create_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new action.")] input: CreateActionInput,
    ) -> Result<CreateActionPayload> {
        run(ctx, "createAction", input).await.map(Into::into)
    }
    /// Changes an action.
    async fn update_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The action and the changes.")] input: UpdateActionInput,
    ) -> Result<UpdateActionPayload> {
        run(ctx, "updateAction", input).await.map(Into::into)
    }
    /// Deletes an action, and with it its participations and the territories it takes place in.
    async fn delete_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The action.")] input: DeleteActionInput,
    ) -> Result<DeleteActionPayload> {
        run(ctx, "deleteAction", input).await.map(Into::into)
    }

    /// Makes a partner a member of a network (`TAKEN` if it already is: update that membership instead).
    async fn add_membership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The network, the partner and the role.")] input: AddMembershipInput,
    ) -> Result<AddMembershipPayload> {
        run(ctx, "addMembership", input).await.map(Into::into)
    }
    /// Changes a membership's role or dates.
    async fn update_membership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The membership and the changes.")] input: UpdateMembershipInput,
    ) -> Result<UpdateMembershipPayload> {
        run(ctx, "updateMembership", input).await.map(Into::into)
    }
    /// Removes a membership (the partner and the network stay). A membership also goes when its partner or network is deleted.
    async fn remove_membership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The membership.")] input: RemoveMembershipInput,
    ) -> Result<RemoveMembershipPayload> {
        run(ctx, "removeMembership", input).await.map(Into::into)
    }

    /// Makes a partner take part in an action. A second `LEAD` is refused (`TAKEN`).
    async fn add_participation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The action, the partner and the role.")] input: AddParticipationInput,
    ) -> Result<AddParticipationPayload> {
        run(ctx, "addParticipation", input).await.map(Into::into)
    }
    /// Changes a participation's role or contribution. Making it the `LEAD` of an action that has another lead is refused (`TAKEN`).
    async fn update_participation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The participation and the changes.")] input: UpdateParticipationInput,
    ) -> Result<UpdateParticipationPayload> {
        run(ctx, "updateParticipation", input).await.map(Into::into)
    }
    /// Removes a participation (the partner and the action stay). A participation also goes when its partner or action is deleted.
    async fn remove_participation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The participation.")] input: RemoveParticipationInput,
    ) -> Result<RemoveParticipationPayload> {
        run(ctx, "removeParticipation", input).await.map(Into::into)
    }

    /// Links a partner to another. A relation from a partner to itself is refused.
    async fn add_relation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The two partners and the kind of link.")] input: AddRelationInput,
    ) -> Result<AddRelationPayload> {
        run(ctx, "addRelation", input).await.map(Into::into)
    }
    /// Changes a relation's kind, dates, weight or note.
    async fn update_relation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The relation and the changes.")] input: UpdateRelationInput,
    ) -> Result<UpdateRelationPayload> {
        run(ctx, "updateRelation", input).await.map(Into::into)
    }
    /// Removes a relation. A relation also goes when either partner is deleted.
    async fn remove_relation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The relation.")] input: RemoveRelationInput,
    ) -> Result<RemoveRelationPayload> {
        run(ctx, "removeRelation", input).await.map(Into::into)
    }

    /// Records that a partner serves a territory (`TAKEN` if it already does).
    async fn add_served_territory(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner and the territory.")] input: ServedTerritoryInput,
    ) -> Result<ServedTerritoryPayload> {
        let r = run(ctx, "addServedTerritory", AddServed(input)).await?;
        ServedTerritoryPayload::build(ctx, r).await
    }
    /// Records that a partner no longer serves a territory (`NOT_FOUND` if it did not). Also happens when the partner or the territory is deleted.
    async fn remove_served_territory(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner and the territory.")] input: ServedTerritoryInput,
    ) -> Result<ServedTerritoryPayload> {
        let r = run(ctx, "removeServedTerritory", RemoveServed(input)).await?;
        ServedTerritoryPayload::build(ctx, r).await
    }

    /// Records that an action takes place in a territory (`TAKEN` if it already does).
    async fn add_action_territory(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The action and the territory.")] input: ActionTerritoryInput,
    ) -> Result<ActionTerritoryPayload> {
        let r = run(ctx, "addActionTerritory", AddActionTerritory(input)).await?;
        ActionTerritoryPayload::build(ctx, r).await
    }
    /// Records that an action no longer takes place in a territory (`NOT_FOUND` if it did not). Also happens when the action or the territory is deleted.
    async fn remove_action_territory(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The action and the territory.")] input: ActionTerritoryInput,
    ) -> Result<ActionTerritoryPayload> {
        let r = run(ctx, "removeActionTerritory", RemoveActionTerritory(input)).await?;
        ActionTerritoryPayload::build(ctx, r).await
    }
}
