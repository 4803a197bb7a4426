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

/// Declares the mutation root: each mutation runs its input's edit
/// ([`run`]) and shapes the payload: from the change (`Into`), or, for a
/// link (`as` a wrapper naming the edit), from the two records it joins.
macro_rules! mutations {
    (
        $(#[doc = $doc:literal])*
        impl $root:ident {
            $(
                $(#[doc = $fdoc:literal])*
                $name:ident($op:literal, $desc:literal): $input:ident $(as $wrap:ident)? -> $payload:ident;
            )*
        }
    ) => {
        $(#[doc = $doc])*
        #[Object]
        impl $root {
            $(
                $(#[doc = $fdoc])*
                async fn $name(
                    &self,
                    ctx: &Context<'_>,
                    #[graphql(desc = $desc)] input: $input,
                ) -> Result<$payload> {
                    mutations!(@run ctx, $op, input, $payload $(, $wrap)?)
                }
            )*
        }
    };
    (@run $ctx:ident, $op:literal, $input:ident, $payload:ident) => {
        run($ctx, $op, $input).await.map(Into::into)
    };
    (@run $ctx:ident, $op:literal, $input:ident, $payload:ident, $wrap:ident) => {{
        let r = run($ctx, $op, $wrap($input)).await?;
        $payload::build($ctx, r).await
    }};
}

mutations! {
    /// Every change to the data, one record at a time. Each mutation runs in
    /// one transaction and is written to the audit log; it needs a principal
    /// allowed to write (admin or coordinator), else a `FORBIDDEN` error.
    impl MutationRoot {
        /// Creates a territory. Its place in the tree (and so what lies within what) is updated at once.
        create_territory("createTerritory", "The new territory."): CreateTerritoryInput -> CreateTerritoryPayload;
        /// Changes a territory. Moving it (`parentId`) moves everything inside it: queries by territory with descendants follow at once.
        update_territory("updateTerritory", "The territory and the changes."): UpdateTerritoryInput -> UpdateTerritoryPayload;
        /// Deletes a territory. Refused (`IN_USE`) while territories sit inside it, partners are based there or networks cover it. The partners serving it and the actions taking place there lose it (those links are deleted with it).
        delete_territory("deleteTerritory", "The territory."): DeleteTerritoryInput -> DeleteTerritoryPayload;

        /// Creates a partner organisation.
        create_partner("createPartner", "The new partner."): CreatePartnerInput -> CreatePartnerPayload;
        /// Changes a partner.
        update_partner("updatePartner", "The partner and the changes."): UpdatePartnerInput -> UpdatePartnerPayload;
        /// Deletes a partner, and with it its contacts, memberships, participations, relations and served territories. Refused (`IN_USE`) while other partners have it as their parent organisation.
        delete_partner("deletePartner", "The partner."): DeletePartnerInput -> DeletePartnerPayload;

        /// Creates a contact person at a partner.
        create_contact("createContact", "The new contact."): CreateContactInput -> CreateContactPayload;
        /// Changes a contact.
        update_contact("updateContact", "The contact and the changes."): UpdateContactInput -> UpdateContactPayload;
        /// Deletes a contact (nothing points at a contact).
        delete_contact("deleteContact", "The contact."): DeleteContactInput -> DeleteContactPayload;

        /// Creates a network.
        create_network("createNetwork", "The new network."): CreateNetworkInput -> CreateNetworkPayload;
        /// Changes a network.
        update_network("updateNetwork", "The network and the changes."): UpdateNetworkInput -> UpdateNetworkPayload;
        /// Deletes a network, and with it its memberships. Refused (`IN_USE`) while sub-networks are part of it or actions run under it.
        delete_network("deleteNetwork", "The network."): DeleteNetworkInput -> DeleteNetworkPayload;

        /// Creates a shared action.
        create_action("createAction", "The new action."): CreateActionInput -> CreateActionPayload;
        /// Changes an action.
        update_action("updateAction", "The action and the changes."): UpdateActionInput -> UpdateActionPayload;
        /// Deletes an action, and with it its participations and the territories it takes place in.
        delete_action("deleteAction", "The action."): DeleteActionInput -> DeleteActionPayload;

        /// Makes a partner a member of a network (`TAKEN` if it already is: update that membership instead).
        add_membership("addMembership", "The network, the partner and the role."): AddMembershipInput -> AddMembershipPayload;
        /// Changes a membership's role or dates.
        update_membership("updateMembership", "The membership and the changes."): UpdateMembershipInput -> UpdateMembershipPayload;
        /// Removes a membership (the partner and the network stay). A membership also goes when its partner or network is deleted.
        remove_membership("removeMembership", "The membership."): RemoveMembershipInput -> RemoveMembershipPayload;

        /// Makes a partner take part in an action. A second `LEAD` is refused (`TAKEN`).
        add_participation("addParticipation", "The action, the partner and the role."): AddParticipationInput -> AddParticipationPayload;
        /// Changes a participation's role or contribution. Making it the `LEAD` of an action that has another lead is refused (`TAKEN`).
        update_participation("updateParticipation", "The participation and the changes."): UpdateParticipationInput -> UpdateParticipationPayload;
        /// Removes a participation (the partner and the action stay). A participation also goes when its partner or action is deleted.
        remove_participation("removeParticipation", "The participation."): RemoveParticipationInput -> RemoveParticipationPayload;

        /// Links a partner to another. A relation from a partner to itself is refused.
        add_relation("addRelation", "The two partners and the kind of link."): AddRelationInput -> AddRelationPayload;
        /// Changes a relation's kind, dates, weight or note.
        update_relation("updateRelation", "The relation and the changes."): UpdateRelationInput -> UpdateRelationPayload;
        /// Removes a relation. A relation also goes when either partner is deleted.
        remove_relation("removeRelation", "The relation."): RemoveRelationInput -> RemoveRelationPayload;

        /// Records that a partner serves a territory (`TAKEN` if it already does).
        add_served_territory("addServedTerritory", "The partner and the territory."): ServedTerritoryInput as AddServed -> ServedTerritoryPayload;
        /// Records that a partner no longer serves a territory (`NOT_FOUND` if it did not). Also happens when the partner or the territory is deleted.
        remove_served_territory("removeServedTerritory", "The partner and the territory."): ServedTerritoryInput as RemoveServed -> ServedTerritoryPayload;

        /// Records that an action takes place in a territory (`TAKEN` if it already does).
        add_action_territory("addActionTerritory", "The action and the territory."): ActionTerritoryInput as AddActionTerritory -> ActionTerritoryPayload;
        /// Records that an action no longer takes place in a territory (`NOT_FOUND` if it did not). Also happens when the action or the territory is deleted.
        remove_action_territory("removeActionTerritory", "The action and the territory."): ActionTerritoryInput as RemoveActionTerritory -> ActionTerritoryPayload;
    }
}
