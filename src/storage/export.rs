//! Reading the whole partner graph back as a bundle.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use super::entity::*;
use super::{Result, StorageError};
use crate::bundle::*;

fn refs<M>(rows: &[M], f: impl Fn(&M) -> (i64, &str)) -> HashMap<i64, String> {
    rows.iter().map(f).map(|(id, r)| (id, r.to_owned())).collect()
}

fn look(map: &HashMap<i64, String>, id: i64) -> Result<String> {
    map.get(&id)
        .cloned()
        .ok_or_else(|| StorageError::Integrity(format!("row {id} is referenced but missing")))
}

fn look_opt(map: &HashMap<i64, String>, id: Option<i64>) -> Result<Option<String>> {
    id.map(|id| look(map, id)).transpose()
}

/// Every record, in the order of their database ids (the order they were
/// first imported or created). Run it inside a transaction for a consistent
/// snapshot.
pub async fn read_all<C: ConnectionTrait>(db: &C) -> Result<Bundle> {
    let ts = territory::Entity::find()
        .order_by_asc(territory::Column::Id)
        .all(db)
        .await?;
    let t_ref = refs(&ts, |m| (m.id, &m.r#ref));
    let ps = partner::Entity::find()
        .order_by_asc(partner::Column::Id)
        .all(db)
        .await?;
    let p_ref = refs(&ps, |m| (m.id, &m.r#ref));
    let ns = network::Entity::find()
        .order_by_asc(network::Column::Id)
        .all(db)
        .await?;
    let n_ref = refs(&ns, |m| (m.id, &m.r#ref));
    let acts = action::Entity::find().order_by_asc(action::Column::Id).all(db).await?;
    let a_ref = refs(&acts, |m| (m.id, &m.r#ref));

    let mut b = Bundle {
        present: Present::ALL,
        ..Default::default()
    };
    for m in &ts {
        b.territories.push(Territory {
            id: m.r#ref.clone(),
            kind: m.kind,
            code: m.code.clone(),
            name: m.name.clone(),
            parent_ref: look_opt(&t_ref, m.parent_id)?,
            population: m.population,
            lat: m.lat,
            lon: m.lon,
        });
    }
    for m in ps {
        b.partners.push(Partner {
            parent_ref: look_opt(&p_ref, m.parent_id)?,
            territory_ref: look_opt(&t_ref, m.territory_id)?,
            id: m.r#ref,
            name: m.name,
            kind: m.kind,
            siret: m.siret,
            website: m.website,
            email: m.email,
            phone: m.phone,
            description: m.description,
        });
    }
    for m in partner_territory::Entity::find()
        .order_by_asc(partner_territory::Column::Id)
        .all(db)
        .await?
    {
        b.partner_territories.push(PartnerTerritory {
            partner_ref: look(&p_ref, m.partner_id)?,
            territory_ref: look(&t_ref, m.territory_id)?,
        });
    }
    for m in contact::Entity::find()
        .order_by_asc(contact::Column::Id)
        .all(db)
        .await?
    {
        b.contacts.push(Contact {
            partner_ref: look(&p_ref, m.partner_id)?,
            id: m.r#ref,
            full_name: m.full_name,
            role_title: m.role_title,
            email: m.email,
            phone: m.phone,
        });
    }
    for m in ns {
        b.networks.push(Network {
            territory_ref: look_opt(&t_ref, m.territory_id)?,
            parent_ref: look_opt(&n_ref, m.parent_id)?,
            id: m.r#ref,
            name: m.name,
            kind: m.kind,
            started_on: m.started_on,
            ended_on: m.ended_on,
            description: m.description,
            visibility: m.visibility,
        });
    }
    for m in membership::Entity::find()
        .order_by_asc(membership::Column::Id)
        .all(db)
        .await?
    {
        b.memberships.push(Membership {
            network_ref: look(&n_ref, m.network_id)?,
            partner_ref: look(&p_ref, m.partner_id)?,
            role: m.role,
            since: m.since,
            until: m.until,
        });
    }
    for m in acts {
        b.actions.push(Action {
            network_ref: look_opt(&n_ref, m.network_id)?,
            id: m.r#ref,
            title: m.title,
            theme: m.theme,
            status: m.status,
            started_on: m.started_on,
            ended_on: m.ended_on,
            budget_cents: m.budget_cents,
            beneficiaries: m.beneficiaries,
            description: m.description,
            visibility: m.visibility,
        });
    }
    for m in action_partner::Entity::find()
        .order_by_asc(action_partner::Column::Id)
        .all(db)
        .await?
    {
        b.action_partners.push(ActionPartner {
            action_ref: look(&a_ref, m.action_id)?,
            partner_ref: look(&p_ref, m.partner_id)?,
            role: m.role,
            contribution_cents: m.contribution_cents,
        });
    }
    for m in action_territory::Entity::find()
        .order_by_asc(action_territory::Column::Id)
        .all(db)
        .await?
    {
        b.action_territories.push(ActionTerritory {
            action_ref: look(&a_ref, m.action_id)?,
            territory_ref: look(&t_ref, m.territory_id)?,
        });
    }
    for m in relation::Entity::find()
        .order_by_asc(relation::Column::Id)
        .all(db)
        .await?
    {
        b.relations.push(Relation {
            from_ref: look(&p_ref, m.from_partner_id)?,
            to_ref: look(&p_ref, m.to_partner_id)?,
            kind: m.kind,
            since: m.since,
            until: m.until,
            weight: m.weight,
            note: m.note,
            visibility: m.visibility,
        });
    }
    Ok(b)
}
