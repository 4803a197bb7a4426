//! The projection: the link rows of the partner graph, held in memory with
//! the indexes the graph answers walk.
//!
//! It is kept *bipartite* (partners ↔ networks, partners ↔ actions, plus
//! partner–partner relations) rather than as the partner graph itself:
//! which partner–partner edges exist depends on the question (the viewer's
//! scope, `via`, `asOf`, the filters), so edges are derived when asked
//! ([`super::view`]), each carrying its provenance. A write changes one row
//! here, never a clique of derived edges.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;

use super::compiled::{Compiled, Rows};
use super::vis::{self, Vis};
use crate::storage::Scope;
use crate::storage::graph::*;

/// Whether the period `[from, to]` (open ends allowed) contains `day`.
pub fn within(from: Option<NaiveDate>, to: Option<NaiveDate>, day: NaiveDate) -> bool {
    from.is_none_or(|f| f <= day) && to.is_none_or(|t| t >= day)
}

#[derive(Debug, Clone, Default)]
pub struct Incidence {
    pub memberships: BTreeSet<i64>,
    pub participations: BTreeSet<i64>,
    pub relations: BTreeSet<i64>,
    pub served: BTreeSet<i64>,
}

/// The rows, by id, and who touches what. B-trees: every walk is in id
/// order, so answers (and layouts) are deterministic.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    pub partners: BTreeMap<i64, PartnerRow>,
    pub served: BTreeMap<i64, ServedRow>,
    pub networks: BTreeMap<i64, NetworkRow>,
    pub memberships: BTreeMap<i64, MembershipRow>,
    pub actions: BTreeMap<i64, ActionRow>,
    pub participations: BTreeMap<i64, ParticipationRow>,
    pub relations: BTreeMap<i64, RelationRow>,
    /// Partner id → the link rows that name it.
    pub by_partner: BTreeMap<i64, Incidence>,
    /// Network id → its membership rows.
    pub network_members: BTreeMap<i64, BTreeSet<i64>>,
    /// Action id → its participation rows.
    pub action_members: BTreeMap<i64, BTreeSet<i64>>,
    /// The compact form the walks use, derived on first use; every change
    /// drops it (a clone shares it until then).
    compiled: OnceLock<Arc<Compiled>>,
}

impl Projection {
    /// The compact form of the current rows (built now if it is not yet).
    pub fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| {
            Arc::new(Compiled::build(Rows {
                partners: &self.partners,
                networks: &self.networks,
                memberships: &self.memberships,
                actions: &self.actions,
                participations: &self.participations,
                relations: &self.relations,
            }))
        })
    }

    pub fn insert(&mut self, row: GraphRow) {
        self.compiled = OnceLock::new();
        match row {
            GraphRow::Partner(r) => {
                self.by_partner.entry(r.id).or_default();
                self.partners.insert(r.id, r);
            }
            GraphRow::Served(r) => {
                self.remove_served(r.id);
                self.by_partner.entry(r.partner_id).or_default().served.insert(r.id);
                self.served.insert(r.id, r);
            }
            GraphRow::Network(r) => {
                self.network_members.entry(r.id).or_default();
                self.networks.insert(r.id, r);
            }
            GraphRow::Membership(r) => {
                self.remove_membership(r.id);
                self.by_partner
                    .entry(r.partner_id)
                    .or_default()
                    .memberships
                    .insert(r.id);
                self.network_members.entry(r.network_id).or_default().insert(r.id);
                self.memberships.insert(r.id, r);
            }
            GraphRow::Action(r) => {
                self.action_members.entry(r.id).or_default();
                self.actions.insert(r.id, r);
            }
            GraphRow::Participation(r) => {
                self.remove_participation(r.id);
                self.by_partner
                    .entry(r.partner_id)
                    .or_default()
                    .participations
                    .insert(r.id);
                self.action_members.entry(r.action_id).or_default().insert(r.id);
                self.participations.insert(r.id, r);
            }
            GraphRow::Relation(r) => {
                self.remove_relation(r.id);
                for p in [r.from_partner_id, r.to_partner_id] {
                    self.by_partner.entry(p).or_default().relations.insert(r.id);
                }
                self.relations.insert(r.id, r);
            }
        }
    }

    /// Removes a row of `table`, and what the database cascades with it.
    pub fn remove(&mut self, table: &str, id: i64) {
        self.compiled = OnceLock::new();
        match table {
            "partners" => {
                self.partners.remove(&id);
                if let Some(inc) = self.by_partner.remove(&id) {
                    inc.memberships.iter().for_each(|m| self.remove_membership(*m));
                    inc.participations.iter().for_each(|m| self.remove_participation(*m));
                    inc.relations.iter().for_each(|m| self.remove_relation(*m));
                    inc.served.iter().for_each(|m| self.remove_served(*m));
                }
            }
            "partner_territories" => self.remove_served(id),
            "networks" => {
                self.networks.remove(&id);
                for m in self.network_members.remove(&id).unwrap_or_default() {
                    self.remove_membership(m);
                }
            }
            "memberships" => self.remove_membership(id),
            "actions" => {
                self.actions.remove(&id);
                for m in self.action_members.remove(&id).unwrap_or_default() {
                    self.remove_participation(m);
                }
            }
            "action_partners" => self.remove_participation(id),
            "relations" => self.remove_relation(id),
            _ => {}
        }
    }

    fn remove_served(&mut self, id: i64) {
        if let Some(r) = self.served.remove(&id)
            && let Some(i) = self.by_partner.get_mut(&r.partner_id)
        {
            i.served.remove(&id);
        }
    }

    fn remove_membership(&mut self, id: i64) {
        if let Some(r) = self.memberships.remove(&id) {
            if let Some(i) = self.by_partner.get_mut(&r.partner_id) {
                i.memberships.remove(&id);
            }
            if let Some(s) = self.network_members.get_mut(&r.network_id) {
                s.remove(&id);
            }
        }
    }

    fn remove_participation(&mut self, id: i64) {
        if let Some(r) = self.participations.remove(&id) {
            if let Some(i) = self.by_partner.get_mut(&r.partner_id) {
                i.participations.remove(&id);
            }
            if let Some(s) = self.action_members.get_mut(&r.action_id) {
                s.remove(&id);
            }
        }
    }

    fn remove_relation(&mut self, id: i64) {
        if let Some(r) = self.relations.remove(&id) {
            for p in [r.from_partner_id, r.to_partner_id] {
                if let Some(i) = self.by_partner.get_mut(&p) {
                    i.relations.remove(&id);
                }
            }
        }
    }

    // Effective visibility (see `vis`).

    pub fn network_vis(&self, n: &NetworkRow) -> Vis {
        vis::network(n)
    }

    pub fn action_vis(&self, a: &ActionRow) -> Vis {
        vis::action(a, &self.networks)
    }

    pub fn relation_vis(&self, r: &RelationRow) -> Vis {
        vis::relation(r)
    }

    pub fn sees_network(&self, scope: &Scope, n: &NetworkRow) -> bool {
        self.network_vis(n).seen_by(scope, |p| {
            self.network_members
                .get(&n.id)
                .is_some_and(|ms| ms.iter().any(|m| self.memberships[m].partner_id == p))
        })
    }

    pub fn sees_action(&self, scope: &Scope, a: &ActionRow) -> bool {
        self.action_vis(a).seen_by(scope, |p| {
            self.action_members
                .get(&a.id)
                .is_some_and(|ms| ms.iter().any(|m| self.participations[m].partner_id == p))
        })
    }

    pub fn sees_relation(&self, scope: &Scope, r: &RelationRow) -> bool {
        self.relation_vis(r)
            .seen_by(scope, |p| p == r.from_partner_id || p == r.to_partner_id)
    }

    /// Whether a scope sees a partner: the portal's own record, and every
    /// partner in a network, action or relation the scope sees (as
    /// `storage::read::partner_visible`; dates play no part in it).
    pub fn sees_partner(&self, scope: &Scope, id: i64) -> bool {
        if !self.partners.contains_key(&id) {
            return false;
        }
        if matches!(scope, Scope::All) || *scope == Scope::Partner(id) {
            return true;
        }
        let Some(inc) = self.by_partner.get(&id) else {
            return false;
        };
        inc.memberships.iter().any(|m| {
            self.networks
                .get(&self.memberships[m].network_id)
                .is_some_and(|n| self.sees_network(scope, n))
        }) || inc.participations.iter().any(|m| {
            self.actions
                .get(&self.participations[m].action_id)
                .is_some_and(|a| self.sees_action(scope, a))
        }) || inc
            .relations
            .iter()
            .any(|r| self.sees_relation(scope, &self.relations[r]))
    }
}
