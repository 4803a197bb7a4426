//! Which columns a page reads: those the fields its client selected need.
//!
//! A page of partners that shows their names has no use for their
//! descriptions, e-mails and timestamps, and reading every column of every
//! row was most of what PostgreSQL sent and the server decoded for a page
//! (operation (b) of the load benchmark: 2 500 rows, each partner's and
//! action's description among them). Each node type over a table lists, per
//! field, the columns its resolver reads ([`NodeColumns`]); a page reads the
//! union over its selection (`storage::decode::Projection`), and the fields
//! of the columns it leaves hold placeholders no selected field reads.
//!
//! A field missing from its type's list reads whole rows (a new field is
//! right before it is listed, only slower); a field listed with too few
//! columns would answer a placeholder, which
//! `tests/api.rs::every_field_answers_as_from_whole_rows` catches: it asks
//! every field of every node type alone, through root, nested and link
//! pages, and compares the answers with whole-row reads.
//!
//! Only pages are narrowed (and the seats a page of partners joins, kept
//! with their partners). Lookups by id fill the loaders' caches, which any
//! later selection reads, so they read whole rows.

use std::sync::OnceLock;

use async_graphql::{Context, SelectionField};
use sea_orm::EntityTrait;

use crate::storage::decode::Projection;
use crate::storage::entity::*;

/// A table whose rows a GraphQL node type shows, with what each of that
/// type's fields reads.
pub trait NodeColumns: EntityTrait {
    /// Each field (its GraphQL name) and the columns it reads besides the id.
    fn fields() -> &'static [(&'static str, Projection)];
}

/// The columns a page of `E` read for the connection being resolved needs:
/// the union over the fields selected under `nodes` and `edges { node }`
/// (fragments included). Whole rows unless `narrows` (a query's loaders,
/// not a mutation's: `Loaders::caching`).
pub fn of_page<E: NodeColumns>(ctx: &Context<'_>, narrows: bool) -> Projection {
    // A table whose type lists no field is read whole: link records, also
    // read by resolvers that are not connections (`Action.lead`).
    if !narrows || E::fields().is_empty() {
        return Projection::ALL;
    }
    let mut p = Projection::ID;
    for_each_node(ctx, |node| p = p.union(of_node::<E>(node)));
    p
}

/// The columns of `E` that the connection being resolved needs for the
/// reference `field` of its nodes (a page of partners and the `seat` it
/// joins): the union over every selection of `field` under `nodes` and
/// `edges { node }`. Whole rows unless `narrows`.
pub fn of_reference<E: NodeColumns>(ctx: &Context<'_>, field: &str, narrows: bool) -> Projection {
    if !narrows {
        return Projection::ALL;
    }
    let mut p = Projection::ID;
    for_each_node(ctx, |node| {
        for r in node.selection_set().filter(|r| r.name() == field) {
            p = p.union(of_node::<E>(r));
        }
    });
    p
}

/// Calls `f` with each selection of the nodes of the connection being
/// resolved: `nodes` and `edges { node }`, under every alias.
fn for_each_node<'a>(ctx: &'a Context<'_>, mut f: impl FnMut(SelectionField<'a>)) {
    for s in ctx.field().selection_set() {
        match s.name() {
            "nodes" => f(s),
            "edges" => s.selection_set().filter(|e| e.name() == "node").for_each(&mut f),
            _ => {}
        }
    }
}

/// The columns the selection of one node field needs.
fn of_node<E: NodeColumns>(node: SelectionField<'_>) -> Projection {
    of_selection(E::fields(), node, &["__typename"])
}

/// The columns the fields selected under `selection` need, by `fields`;
/// those named in `free` need none, any other unlisted one whole rows.
fn of_selection(fields: &[(&str, Projection)], selection: SelectionField<'_>, free: &[&str]) -> Projection {
    let mut p = Projection::ID;
    for f in selection.selection_set() {
        match fields.iter().find(|(name, _)| *name == f.name()) {
            Some((_, needs)) => p = p.union(*needs),
            None if free.contains(&f.name()) => {}
            // Not listed: read whole rows.
            None => return Projection::ALL,
        }
    }
    p
}

/// Implements `$tr::$f` (the fields of a node or an edge type and the
/// columns each reads: `[…]`, or `all`) for each table listed.
macro_rules! field_columns {
    ($tr:ident :: $f:ident { $($e:ident { $($field:literal: $cols:tt),* $(,)? })* }) => {$(
        impl $tr for $e::Entity {
            fn $f() -> &'static [(&'static str, Projection)] {
                static FIELDS: OnceLock<Vec<(&'static str, Projection)>> = OnceLock::new();
                FIELDS.get_or_init(|| vec![$(($field, field_columns!(@cols $e $cols))),*])
            }
        }
    )*};
    (@cols $e:ident all) => { Projection::ALL };
    (@cols $e:ident [$($c:ident),*]) => { Projection::of::<$e::Entity>(&[$($e::Column::$c),*]) };
}

// What each resolver of `types/` reads of `self.0`. Fields that read the
// id alone (nested connections, degrees) list no column.
field_columns! { NodeColumns::fields {
    territory {
        "id": [], "ref": [Ref], "kind": [Kind], "code": [Code], "name": [Name],
        "population": [Population], "lat": [Lat], "lon": [Lon],
        "createdAt": [CreatedAt], "updatedAt": [UpdatedAt], "version": [Version],
        "parent": [ParentId], "ancestors": [], "children": [], "descendants": [],
        "partnersBased": [], "partnersServing": [], "actions": [], "networks": [],
    }
    partner {
        "id": [], "ref": [Ref], "name": [Name], "kind": [Kind], "dataInclusionTypology": [Kind],
        "siret": [Siret], "website": [Website], "email": [Email], "phone": [Phone],
        "description": [Description], "createdAt": [CreatedAt], "updatedAt": [UpdatedAt],
        "version": [Version], "degree": [], "seat": [TerritoryId], "parent": [ParentId],
        "children": [], "territoriesServed": [], "contacts": [], "networks": [], "actions": [],
        "relationsOut": [], "relationsIn": [],
    }
    contact {
        "id": [], "ref": [Ref], "fullName": [FullName], "roleTitle": [RoleTitle],
        "email": [Email], "phone": [Phone], "createdAt": [CreatedAt], "updatedAt": [UpdatedAt],
        "version": [Version], "partner": [PartnerId],
    }
    network {
        "id": [], "ref": [Ref], "name": [Name], "kind": [Kind], "visibility": [Visibility, Kind],
        "startedOn": [StartedOn], "endedOn": [EndedOn], "description": [Description],
        "createdAt": [CreatedAt], "updatedAt": [UpdatedAt], "version": [Version],
        "territory": [TerritoryId], "parent": [ParentId], "children": [], "members": [],
        "actions": [],
    }
    action {
        "id": [], "ref": [Ref], "title": [Title], "theme": [Theme], "status": [Status],
        "visibility": [Visibility, NetworkId], "startedOn": [StartedOn], "endedOn": [EndedOn],
        "budget": [BudgetCents], "beneficiaries": [Beneficiaries], "description": [Description],
        "createdAt": [CreatedAt], "updatedAt": [UpdatedAt], "version": [Version],
        "network": [NetworkId], "lead": [], "participants": [], "territories": [],
    }
}}

/// A link table whose rows the edges of a connection show (a membership on
/// the edges of a network's members), with what each edge field reads.
pub trait EdgeColumns: EntityTrait {
    /// Each field of its edges (GraphQL name) and the link columns it reads
    /// besides the id; the link record itself (`membership`…) reads them all.
    fn edge_fields() -> &'static [(&'static str, Projection)];
}

/// The columns of the links of `L` that the edges of the connection being
/// resolved need: the union over its `edges` selections (`node` and
/// `cursor` read none). Whole rows unless `narrows` (not for a mutation's
/// loaders).
///
/// Why: the edges of (b) in the load benchmark show a role, and the
/// memberships and participations they came from were read whole (dates,
/// timestamps, version): a third of the values PostgreSQL sent for them.
pub fn of_edges<L: EdgeColumns>(ctx: &Context<'_>, narrows: bool) -> Projection {
    if !narrows {
        return Projection::ALL;
    }
    ctx.field()
        .selection_set()
        .filter(|s| s.name() == "edges")
        .fold(Projection::ID, |p, edges| {
            p.union(of_selection(L::edge_fields(), edges, &["node", "cursor", "__typename"]))
        })
}

// What each edge type of `types/` reads of its link (`link_page`'s
// closures): the edges of memberships, participations and relations.
field_columns! { EdgeColumns::edge_fields {
    membership { "role": [Role], "since": [Since], "until": [Until], "membership": all }
    action_partner { "role": [Role], "contribution": [ContributionCents], "participation": all }
    relation {
        "kind": [Kind], "since": [Since], "until": [Until], "weight": [Weight], "relation": all,
    }
}}

// Link records as nodes (`Action.lead`, pages of memberships) are read
// whole: they are narrow.
macro_rules! whole_rows {
    ($($e:ident),*) => {$(
        impl NodeColumns for $e::Entity {
            fn fields() -> &'static [(&'static str, Projection)] {
                &[]
            }
        }
    )*};
}

whole_rows!(membership, action_partner, relation);
