//! `viewer`: who the client is, and what that lets it do.

use async_graphql::{Context, Object, Result};

use super::error::internal;
use super::request::loaders;
use super::types::Partner;
use crate::domain::access::{Principal, Role};

/// The `viewer` root field.
#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// Who is asking: the role and partner the request's credential stands
    /// for (anonymous without one), and what it may do.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        Viewer(
            ctx.data_opt::<Principal>()
                .cloned()
                .unwrap_or_else(Principal::anonymous),
        )
    }
}

pub struct Viewer(Principal);

/// Who the request speaks for: its role, its partner (for a portal) and what it may do.
#[Object]
impl Viewer {
    /// The role the credential grants.
    async fn role(&self) -> Role {
        self.0.role
    }

    /// The API key's name or the token's subject (what the audit log records).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The partner a portal speaks for (null for other roles).
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        let Some(id) = self.0.partner_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .partner
            .load_one(id)
            .await
            .map_err(internal)?
            .map(Partner::from))
    }

    /// Whether it may run mutations (create, update, delete records).
    async fn can_write(&self) -> bool {
        self.0.can_write()
    }

    /// Whether it reads contacts' names, e-mails and phone numbers (personal data).
    async fn sees_contact_details(&self) -> bool {
        self.0.sees_contact_details()
    }

    /// Whether it may manage API keys and read the audit log.
    async fn is_admin(&self) -> bool {
        self.0.role == Role::Admin
    }
}
