//! The partner degree: which links count (`LinkKind`), and the loader that
//! counts them for all the partners of a level in one statement per `via`.

use std::collections::HashMap;

use async_graphql::Enum;
use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;

use crate::storage::StorageError;
use crate::storage::stats::{self, Via};

/// What links two partners in the partner graph.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// A declared relation between them (either direction).
    Relation,
    /// Sitting in the same network or instance.
    Network,
    /// Taking part in the same shared action.
    Action,
}

pub fn via(kinds: &[LinkKind]) -> Via {
    Via {
        network: kinds.contains(&LinkKind::Network),
        action: kinds.contains(&LinkKind::Action),
        relation: kinds.contains(&LinkKind::Relation),
    }
}

/// Partner degrees, for all the partners of a level in one statement per `via`.
pub struct DegreeLoader {
    pub db: DatabaseConnection,
    /// Only the links the viewer sees count (a portal must not learn of the others from a number).
    pub scope: crate::storage::Scope,
}

impl Loader<(i64, Via)> for DegreeLoader {
    type Value = i64;
    type Error = std::sync::Arc<StorageError>;

    async fn load(&self, keys: &[(i64, Via)]) -> Result<HashMap<(i64, Via), i64>, Self::Error> {
        let mut by_via: HashMap<Via, Vec<i64>> = HashMap::new();
        for (id, v) in keys {
            by_via.entry(*v).or_default().push(*id);
        }
        let mut out = HashMap::new();
        for (v, ids) in by_via {
            let d = stats::degrees(&self.db, &self.scope, &ids, v)
                .await
                .map_err(std::sync::Arc::new)?;
            for id in ids {
                out.insert((id, v), d.get(&id).copied().unwrap_or(0));
            }
        }
        Ok(out)
    }
}
