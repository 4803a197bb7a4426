//! GraphQL object types over the storage models. Relations resolve through
//! the request's [`Loaders`], so a list of N parents costs one statement per
//! relation, not N.

use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;

use super::error::internal;
use super::ids::{Kind, encode};
use super::loaders::Loaders;
use crate::model::*;
use crate::storage::entity::*;

fn loaders<'a>(ctx: &'a Context<'_>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}

fn euros(cents: Option<i64>) -> Option<f64> {
    cents.map(|c| c as f64 / 100.0)
}

macro_rules! one {
    ($ctx:expr, $loader:ident, $id:expr, $ty:ident) => {
        match $id {
            Some(id) => Ok(loaders($ctx).$loader.load_one(id).await.map_err(internal)?.map($ty)),
            None => Ok(None),
        }
    };
}

macro_rules! many {
    ($ctx:expr, $loader:ident, $id:expr, $ty:ident) => {
        Ok(loaders($ctx)
            .$loader
            .load_one($id)
            .await
            .map_err(internal)?
            .unwrap_or_default()
            .into_iter()
            .map($ty)
            .collect())
    };
}

/// A territory of the administrative tree: region › department › EPCI
/// (intercommunality) › commune › district or QPV (quartier prioritaire de
/// la politique de la ville).
pub struct Territory(pub territory::Model);

#[Object]
impl Territory {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Territory, self.0.id)
    }
    /// The external id the territory has in bundles.
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Its rank in the tree.
    async fn kind(&self) -> TerritoryKind {
        self.0.kind
    }
    /// Official code: INSEE COG for regions, departments and communes, SIREN for an EPCI, the QPV code for a QPV.
    async fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Inhabitants.
    async fn population(&self) -> Option<i64> {
        self.0.population
    }
    /// Latitude of its centroid (WGS84).
    async fn lat(&self) -> Option<f64> {
        self.0.lat
    }
    /// Longitude of its centroid (WGS84).
    async fn lon(&self) -> Option<f64> {
        self.0.lon
    }
    /// The enclosing territory.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        one!(ctx, territory, self.0.parent_id, Territory)
    }
    /// The territories directly inside this one.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Territory>> {
        many!(ctx, territory_children, self.0.id, Territory)
    }
}

/// A partner: an organisation that works with the directorate (Mission
/// Locale, CCAS, police, a school, an association…).
pub struct Partner(pub partner::Model);

#[Object]
impl Partner {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Partner, self.0.id)
    }
    /// The external id the partner has in bundles.
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The type of structure.
    async fn kind(&self) -> PartnerKind {
        self.0.kind
    }
    /// The data·inclusion `typologie` code matching its kind, where one exists.
    async fn data_inclusion_typology(&self) -> Option<&'static str> {
        self.0.kind.data_inclusion_typology()
    }
    /// SIRET: the 14-digit French establishment id.
    async fn siret(&self) -> Option<&str> {
        self.0.siret.as_deref()
    }
    /// Public website.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    /// The organisation's public e-mail address.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// The organisation's public phone number.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Free text.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The parent organisation (the national body of a local agency, say).
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        one!(ctx, partner, self.0.parent_id, Partner)
    }
    /// The organisations whose parent this one is.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Partner>> {
        many!(ctx, partner_children, self.0.id, Partner)
    }
    /// Where it is based.
    async fn seat(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        one!(ctx, territory, self.0.territory_id, Territory)
    }
    /// The territories it serves.
    async fn served_territories(&self, ctx: &Context<'_>) -> Result<Vec<Territory>> {
        let links = loaders(ctx)
            .partner_served
            .load_one(self.0.id)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        let ids: Vec<i64> = links.iter().map(|l| l.territory_id).collect();
        let found = loaders(ctx)
            .territory
            .load_many(ids.iter().copied())
            .await
            .map_err(internal)?;
        Ok(ids
            .iter()
            .filter_map(|i| found.get(i).cloned())
            .map(Territory)
            .collect())
    }
    /// Named people at the partner (personal data).
    async fn contacts(&self, ctx: &Context<'_>) -> Result<Vec<Contact>> {
        many!(ctx, partner_contacts, self.0.id, Contact)
    }
    /// The networks it sits in, with its role.
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        many!(ctx, partner_memberships, self.0.id, Membership)
    }
    /// The shared actions it takes part in, with its role.
    async fn participations(&self, ctx: &Context<'_>) -> Result<Vec<Participation>> {
        many!(ctx, partner_participations, self.0.id, Participation)
    }
    /// Direct relations from this partner to others.
    async fn relations_out(&self, ctx: &Context<'_>) -> Result<Vec<PartnerRelation>> {
        many!(ctx, relations_out, self.0.id, PartnerRelation)
    }
    /// Direct relations from others to this partner.
    async fn relations_in(&self, ctx: &Context<'_>) -> Result<Vec<PartnerRelation>> {
        many!(ctx, relations_in, self.0.id, PartnerRelation)
    }
}

/// A named person at a partner. Personal data (GDPR).
pub struct Contact(pub contact::Model);

#[Object]
impl Contact {
    /// The external id the contact has in bundles.
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Full name.
    async fn full_name(&self) -> &str {
        &self.0.full_name
    }
    /// Job title.
    async fn role_title(&self) -> Option<&str> {
        self.0.role_title.as_deref()
    }
    /// E-mail address.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Phone number.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// The partner the person works at.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        one!(ctx, partner, Some(self.0.partner_id), Partner)
    }
}

/// A network or instance partners sit in: CISPD/CLSPD, GLTD, CDDF, contrat
/// de ville and its thematic groups, youth networks…
pub struct Network(pub network::Model);

#[Object]
impl Network {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Network, self.0.id)
    }
    /// The external id the network has in bundles.
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its kind.
    async fn kind(&self) -> NetworkKind {
        self.0.kind
    }
    /// When it started.
    async fn started_on(&self) -> Option<NaiveDate> {
        self.0.started_on
    }
    /// When it ended.
    async fn ended_on(&self) -> Option<NaiveDate> {
        self.0.ended_on
    }
    /// Free text.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The territory it covers.
    async fn territory(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        one!(ctx, territory, self.0.territory_id, Territory)
    }
    /// The enclosing network (the contrat de ville of a thematic group, say).
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        one!(ctx, network, self.0.parent_id, Network)
    }
    /// Networks inside this one.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Network>> {
        many!(ctx, network_children, self.0.id, Network)
    }
    /// Who sits in it, with their role.
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        many!(ctx, network_memberships, self.0.id, Membership)
    }
    /// The shared actions run under it.
    async fn actions(&self, ctx: &Context<'_>) -> Result<Vec<Action>> {
        many!(ctx, network_actions, self.0.id, Action)
    }
}

/// A partner's seat in a network.
pub struct Membership(pub membership::Model);

#[Object]
impl Membership {
    /// The partner's role in the network.
    async fn role(&self) -> MembershipRole {
        self.0.role
    }
    /// Since when.
    async fn since(&self) -> Option<NaiveDate> {
        self.0.since
    }
    /// Until when.
    async fn until(&self) -> Option<NaiveDate> {
        self.0.until
    }
    /// The partner.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        one!(ctx, partner, Some(self.0.partner_id), Partner)
    }
    /// The network.
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        one!(ctx, network, Some(self.0.network_id), Network)
    }
}

/// A shared action run by several partners.
pub struct Action(pub action::Model);

#[Object]
impl Action {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Action, self.0.id)
    }
    /// The external id the action has in bundles.
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Its title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Its theme.
    async fn theme(&self) -> Theme {
        self.0.theme
    }
    /// Where it stands.
    async fn status(&self) -> ActionStatus {
        self.0.status
    }
    /// When it started.
    async fn started_on(&self) -> Option<NaiveDate> {
        self.0.started_on
    }
    /// When it ended.
    async fn ended_on(&self) -> Option<NaiveDate> {
        self.0.ended_on
    }
    /// Total budget in euros.
    async fn budget(&self) -> Option<f64> {
        euros(self.0.budget_cents)
    }
    /// People reached.
    async fn beneficiaries(&self) -> Option<i64> {
        self.0.beneficiaries
    }
    /// Free text.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The network it runs under.
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        one!(ctx, network, self.0.network_id, Network)
    }
    /// The partners taking part, with their role.
    async fn participants(&self, ctx: &Context<'_>) -> Result<Vec<Participation>> {
        many!(ctx, action_participations, self.0.id, Participation)
    }
    /// Where it takes place.
    async fn territories(&self, ctx: &Context<'_>) -> Result<Vec<Territory>> {
        let links = loaders(ctx)
            .action_places
            .load_one(self.0.id)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        let ids: Vec<i64> = links.iter().map(|l| l.territory_id).collect();
        let found = loaders(ctx)
            .territory
            .load_many(ids.iter().copied())
            .await
            .map_err(internal)?;
        Ok(ids
            .iter()
            .filter_map(|i| found.get(i).cloned())
            .map(Territory)
            .collect())
    }
}

/// A partner's part in a shared action.
pub struct Participation(pub action_partner::Model);

#[Object]
impl Participation {
    /// The partner's role in the action.
    async fn role(&self) -> ParticipationRole {
        self.0.role
    }
    /// What the partner contributes, in euros.
    async fn contribution(&self) -> Option<f64> {
        euros(self.0.contribution_cents)
    }
    /// The partner.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        one!(ctx, partner, Some(self.0.partner_id), Partner)
    }
    /// The action.
    async fn action(&self, ctx: &Context<'_>) -> Result<Option<Action>> {
        one!(ctx, action, Some(self.0.action_id), Action)
    }
}

/// A direct, directed relation between two partners.
pub struct PartnerRelation(pub relation::Model);

#[Object]
impl PartnerRelation {
    /// What links them.
    async fn kind(&self) -> RelationKind {
        self.0.kind
    }
    /// Since when.
    async fn since(&self) -> Option<NaiveDate> {
        self.0.since
    }
    /// Until when.
    async fn until(&self) -> Option<NaiveDate> {
        self.0.until
    }
    /// Its strength (> 0, 1 by default).
    async fn weight(&self) -> f64 {
        self.0.weight
    }
    /// Free text.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// The partner the relation starts from.
    async fn from(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        one!(ctx, partner, Some(self.0.from_partner_id), Partner)
    }
    /// The partner the relation goes to.
    async fn to(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        one!(ctx, partner, Some(self.0.to_partner_id), Partner)
    }
}
