//! DataLoaders: every relation is fetched for all the parents of a level in
//! one SQL statement, through the scoped reads of the storage layer.
//!
//! Loaders are built per request (they cache, and they carry the viewer's
//! scope), and handed to the resolvers through the request data.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::storage::StorageError;
use crate::storage::entity::*;
use crate::storage::read::{self, HasId, Scope, Scoped};

/// Loader errors are shared between the waiting resolvers.
pub type LoadError = Arc<StorageError>;

/// Rows of one table by id.
pub struct ById<E: EntityTrait> {
    db: DatabaseConnection,
    scope: Scope,
    column: E::Column,
    _e: PhantomData<E>,
}

impl<E> Loader<i64> for ById<E>
where
    E: Scoped + Send + Sync + 'static,
    E::Model: HasId + Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, E::Model>, LoadError> {
        read::by_ids::<E, _>(&self.db, &self.scope, self.column, keys)
            .await
            .map_err(Arc::new)
    }
}

/// Rows of one table grouped by one of their foreign keys.
pub struct ByKey<E: EntityTrait> {
    db: DatabaseConnection,
    scope: Scope,
    column: E::Column,
    key_of: fn(&E::Model) -> i64,
    order: E::Column,
}

impl<E> Loader<i64> for ByKey<E>
where
    E: Scoped + Send + Sync + 'static,
    E::Model: Clone + Send + Sync,
{
    type Value = Vec<E::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<E::Model>>, LoadError> {
        read::grouped::<E, _, i64>(&self.db, &self.scope, self.column, keys, self.key_of, self.order)
            .await
            .map_err(Arc::new)
    }
}

macro_rules! loaders {
    (
        by_id { $($bid:ident: $be:ident),* $(,)? }
        by_key { $($bk:ident: $ke:ident / $kcol:ident => $key:expr),* $(,)? }
    ) => {
        /// Every loader of one request.
        pub struct Loaders {
            $(pub $bid: DataLoader<ById<$be::Entity>>,)*
            $(pub $bk: DataLoader<ByKey<$ke::Entity>>,)*
        }

        impl Loaders {
            pub fn new(db: &DatabaseConnection, scope: &Scope) -> Self {
                Loaders {
                    $($bid: DataLoader::new(
                        ById { db: db.clone(), scope: scope.clone(), column: $be::Column::Id, _e: PhantomData },
                        tokio::spawn,
                    ),)*
                    $($bk: DataLoader::new(
                        ByKey {
                            db: db.clone(),
                            scope: scope.clone(),
                            column: $ke::Column::$kcol,
                            key_of: $key,
                            order: $ke::Column::Id,
                        },
                        tokio::spawn,
                    ),)*
                }
            }
        }
    };
}

loaders! {
    by_id {
        territory: territory,
        partner: partner,
        network: network,
        action: action,
    }
    by_key {
        territory_children: territory / ParentId => |m| m.parent_id.unwrap_or_default(),
        partner_children: partner / ParentId => |m| m.parent_id.unwrap_or_default(),
        partner_served: partner_territory / PartnerId => |m| m.partner_id,
        partner_contacts: contact / PartnerId => |m| m.partner_id,
        partner_memberships: membership / PartnerId => |m| m.partner_id,
        network_memberships: membership / NetworkId => |m| m.network_id,
        network_children: network / ParentId => |m| m.parent_id.unwrap_or_default(),
        network_actions: action / NetworkId => |m| m.network_id.unwrap_or_default(),
        partner_participations: action_partner / PartnerId => |m| m.partner_id,
        action_participations: action_partner / ActionId => |m| m.action_id,
        action_places: action_territory / ActionId => |m| m.action_id,
        relations_out: relation / FromPartnerId => |m| m.from_partner_id,
        relations_in: relation / ToPartnerId => |m| m.to_partner_id,
    }
}
