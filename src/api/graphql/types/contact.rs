//! `Contact`: a person at a partner (personal data).

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use super::Partner;
use super::Stamps;
use crate::api::graphql::connection::node_connection;
use crate::api::graphql::error::internal;
use crate::api::graphql::filters::*;
use crate::api::graphql::ids::{self, Kind, encode};
use crate::api::graphql::nested::{listed, reference};
use crate::api::graphql::prefetch::prefetch;
use crate::api::graphql::request::loaders;
use crate::api::graphql::write::{Decoder, IntoEdit, UserError, delete_input, nullable, payloads, record_id};
use crate::domain::edit::*;
use crate::storage::entity::*;

// ---------------------------------------------------------------- contact

/// A contact person at a partner. Personal data (GDPR): who may read the
/// name, e-mail and phone is decided by the viewer's role.
#[derive(Clone)]
pub struct Contact(pub contact::Model);

node_connection!(ContactConnection, ContactEdge, Contact, "contact");
listed!(Contact: contact, ContactFilter, ContactOrder, ContactConnection, contact_lists, prefetch_contacts;);

/// A contact person at a partner. Personal data (GDPR): who may read the
/// name, e-mail and phone is decided by the viewer's role.
#[Object(serial)]
impl Contact {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Contact, self.0.id)
    }
    /// The external id the contact has in bundles.
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Full name. Personal data: null for a viewer not granted contacts'
    /// details (an analyst key without them, see `viewer.seesContactDetails`).
    async fn full_name(&self, ctx: &Context<'_>) -> Option<&str> {
        personal(ctx, Some(&self.0.full_name))
    }
    /// Job title.
    async fn role_title(&self) -> Option<&str> {
        self.0.role_title.as_deref()
    }
    /// Professional e-mail address. Personal data: null unless the viewer is granted contacts' details.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        personal(ctx, self.0.email.as_deref())
    }
    /// Professional phone number. Personal data: null unless the viewer is granted contacts' details.
    async fn phone(&self, ctx: &Context<'_>) -> Option<&str> {
        personal(ctx, self.0.phone.as_deref())
    }
    /// `createdAt`, `updatedAt` and `version`, alike on every record.
    #[graphql(flatten)]
    async fn stamps(&self) -> Stamps {
        Stamps::new(self.0.created_at, self.0.updated_at, self.0.version)
    }
    /// The partner this person works for.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        reference!(ctx, partner, Some(self.0.partner_id), Partner::from)
    }
}

/// A contact's personal field, for a viewer allowed to read it (a request
/// without a principal is the server's own, as in tests and the CLI).
fn personal<'a>(ctx: &Context<'_>, value: Option<&'a str>) -> Option<&'a str> {
    value.filter(|_| sees_personal(ctx))
}

/// The references of a page of contacts: their partners.
pub async fn prefetch_contacts<'m>(
    ctx: &Context<'_>,
    rows: impl Iterator<Item = &'m contact::Model> + Clone,
) -> Result<()> {
    prefetch(ctx, "partner", &loaders(ctx).partner, rows.map(|c| Some(c.partner_id))).await
}

// ---------------------------------------------------------------- mutations

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

delete_input!(
    /// The contact to delete.
    DeleteContactInput, "delete" "contact": Contact, Contact);

payloads!(contact: Contact <- Contact;
    CreateContactPayload "createContact", UpdateContactPayload "updateContact", DeleteContactPayload "deleteContact" -> deleted_contact_id);
