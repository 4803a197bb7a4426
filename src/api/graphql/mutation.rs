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

use async_graphql::{Context, Object, Result};

use super::types::*;
use super::write::run;

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
