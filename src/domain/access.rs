//! Who is asking, and what that lets them see and do.
//!
//! A [`Principal`] is what authentication (an API key or a JWT, see the
//! interfaces) resolves to: a [`Role`] and, for a partner portal, the
//! partner it speaks for. [`Principal::scope`] turns it into the storage
//! [`Scope`], the one place rows are filtered (in SQL) for every entry point.

use crate::domain::patch::{Edit, PartnerPatch, Patch};
use crate::storage::Scope;

/// What a principal may do. Ordered from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
pub enum Role {
    /// Everything, including API keys and the audit log.
    Admin,
    /// The directorate (Direction de la Cohésion Sociale): reads and writes all data.
    Coordinator,
    /// Reads all data; contacts' personal fields (name, e-mail, phone) only when granted.
    Analyst,
    /// A partner portal: its own record and contacts, the networks it sits in and their members, the actions it takes part in, the territories, and what is public.
    Partner,
    /// No credential: public data only (or nothing, as the server is configured).
    Anonymous,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Coordinator,
        Role::Analyst,
        Role::Partner,
        Role::Anonymous,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Analyst => "analyst",
            Role::Partner => "partner",
            Role::Anonymous => "anonymous",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    /// The partner a portal speaks for (role `Partner` only).
    pub partner_id: Option<i64>,
    /// The API key's name or the token's subject, for the audit log.
    pub name: String,
    /// Whether contacts' personal fields are shown to an analyst.
    pub contact_details: bool,
    /// Who this is for rate limiting, once the credential is verified: an
    /// API key by its prefix (`key:…`), a token by issuer and subject
    /// (`jwt:iss:sub`); empty for the server itself and anonymous readers
    /// (limited by their address).
    pub identity: String,
}

impl Principal {
    /// The server itself (CLI imports, tests): everything.
    pub fn system() -> Principal {
        Principal {
            role: Role::Admin,
            partner_id: None,
            name: "system".into(),
            contact_details: true,
            identity: String::new(),
        }
    }

    pub fn anonymous() -> Principal {
        Principal {
            role: Role::Anonymous,
            partner_id: None,
            name: "anonymous".into(),
            contact_details: false,
            identity: String::new(),
        }
    }

    /// The rows this principal may read.
    pub fn scope(&self) -> Scope {
        match (self.role, self.partner_id) {
            (Role::Admin | Role::Coordinator | Role::Analyst, _) => Scope::All,
            (Role::Partner, Some(p)) => Scope::Partner(p),
            (Role::Partner, None) | (Role::Anonymous, _) => Scope::Public,
        }
    }

    /// Whether it may change data (mutations).
    pub fn can_write(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Coordinator)
    }

    /// Whether it may make this edit: writers anything; a partner portal
    /// only its own organisation's public contact details (website, e-mail,
    /// phone).
    pub fn may_apply(&self, edit: &Edit) -> bool {
        if self.can_write() {
            return true;
        }
        match (self.role, self.partner_id, edit) {
            (
                Role::Partner,
                Some(me),
                Edit::Update {
                    id,
                    patch: Patch::Partner(p),
                    ..
                },
            ) if *id == me => {
                let PartnerPatch {
                    r#ref,
                    name,
                    kind,
                    siret,
                    parent_id,
                    territory_id,
                    website: _,
                    email: _,
                    phone: _,
                    description,
                } = p;
                r#ref.is_none()
                    && name.is_none()
                    && kind.is_none()
                    && siret.is_none()
                    && parent_id.is_none()
                    && territory_id.is_none()
                    && description.is_none()
            }
            _ => false,
        }
    }

    /// Whether it may read contacts' names, e-mails and phones.
    pub fn sees_contact_details(&self) -> bool {
        match self.role {
            Role::Admin | Role::Coordinator | Role::Partner => true,
            Role::Analyst => self.contact_details,
            Role::Anonymous => false,
        }
    }
}
