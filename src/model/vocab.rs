//! Closed vocabularies of the partner graph (see `shared/bundle-format.md`).

use sea_orm::entity::prelude::*;

/// Declares a vocabulary enum: its Rust variants, the exact string used in
/// bundles and in the database, and a description that ends up in the
/// GraphQL schema. Generates `as_str`, `parse` and `ALL`.
macro_rules! vocab {
    (
        $(#[doc = $doc:literal])*
        $name:ident $(: default $default:ident)? {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $s:literal ),+ $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            EnumIter, DeriveActiveEnum, async_graphql::Enum,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
        pub enum $name {
            $( $(#[doc = $vdoc])* #[sea_orm(string_value = $s)] $variant, )+
        }

        impl $name {
            /// Every value, in the order of the bundle format.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as written in bundles and stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            /// Exact, case-sensitive match (the bundle format does not trim enum values).
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }

            /// The accepted strings, for error messages and `CHECK` constraints.
            pub fn strings() -> Vec<&'static str> {
                vec![$($s),+]
            }
        }

        $(
        /// What a record being created holds until its patch sets it (a
        /// creation must give it: see `domain::edit`).
        impl Default for $name {
            fn default() -> Self {
                $name::$default
            }
        }
        )?

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocab! {
    /// The rank of a territory in the French administrative tree.
    TerritoryKind: default Commune {
        /// Région.
        Region = "region",
        /// Département.
        Department = "department",
        /// EPCI: établissement public de coopération intercommunale (an intercommunality: métropole, communauté urbaine, d'agglomération or de communes); its code is its SIREN.
        Epci = "epci",
        /// Commune; its code is the INSEE COG code.
        Commune = "commune",
        /// A district (quartier) of a commune.
        District = "district",
        /// QPV: quartier prioritaire de la politique de la ville, a deprived neighbourhood targeted by the contrat de ville; its code looks like `QN07501M`.
        Qpv = "qpv",
    }
}

impl TerritoryKind {
    /// 0 for a region, down to 4 for districts and QPVs. A territory's parent
    /// always has a strictly smaller rank.
    pub fn rank(self) -> u8 {
        match self {
            TerritoryKind::Region => 0,
            TerritoryKind::Department => 1,
            TerritoryKind::Epci => 2,
            TerritoryKind::Commune => 3,
            TerritoryKind::District | TerritoryKind::Qpv => 4,
        }
    }
}

vocab! {
    /// The type of structure a partner is, aligned on the data·inclusion typology where one exists.
    PartnerKind: default Other {
        /// CCAS: centre communal d'action sociale (a town's social welfare office).
        Ccas = "ccas",
        /// Mission Locale: guidance and employment for 16–25 year-olds.
        Ml = "ml",
        /// France Travail (formerly Pôle emploi), the public employment service.
        Ft = "ft",
        /// CAF: caisse d'allocations familiales (family benefits).
        Caf = "caf",
        /// A service of the conseil départemental (child welfare, social action).
        Cd = "cd",
        /// A service of the conseil régional, including the regional guidance service (SPO).
        Cr = "cr",
        /// A State service: préfecture, délégué du préfet, DDETS…
        Etat = "etat",
        /// A municipal service.
        Mairie = "mairie",
        /// An intercommunal service.
        Epci = "epci",
        /// Police nationale or municipale, gendarmerie.
        Police = "police",
        /// Justice: parquet, PJJ (youth protection), SPIP (probation).
        Justice = "justice",
        /// Éducation nationale: a school, a collège, a lycée, the academy.
        Education = "education",
        /// A social landlord (bailleur social).
        Bailleur = "bailleur",
        /// A club de prévention spécialisée (street youth work).
        Prevention = "prevention",
        /// A médiation sociale operator.
        Mediation = "mediation",
        /// An association.
        Asso = "asso",
        /// A centre social.
        CentreSocial = "centre_social",
        /// PLIE: plan local pour l'insertion et l'emploi.
        Plie = "plie",
        /// E2C: école de la deuxième chance.
        E2c = "e2c",
        /// SIAE: structure d'insertion par l'activité économique.
        Siae = "siae",
        /// A health structure.
        Sante = "sante",
        /// Any other structure.
        Other = "other",
    }
}

impl PartnerKind {
    /// The data·inclusion `typologie` code, where one exists (for exchange with that schema).
    pub fn data_inclusion_typology(self) -> Option<&'static str> {
        use PartnerKind::*;
        Some(match self {
            Ccas => "CCAS",
            Ml => "ML",
            Ft => "FT",
            Caf => "CAF",
            Cd => "CD",
            Cr => "REG",
            Etat => "ETAT",
            Mairie => "MUNI",
            Epci => "EPCI",
            Justice => "PJJ",
            Prevention => "PREVENTION",
            Mediation => "PIMMS",
            Asso => "ASSO",
            CentreSocial => "CS",
            Plie => "PLIE",
            E2c => "E2C",
            Siae => "ACI",
            Other => "Autre",
            Police | Education | Bailleur | Sante => return None,
        })
    }
}

vocab! {
    /// The kind of network or instance partners sit in.
    NetworkKind: default Other {
        /// CISPD: conseil intercommunal de sécurité et de prévention de la délinquance, the intercommunal crime-prevention council.
        Cispd = "cispd",
        /// CLSPD: conseil local de sécurité et de prévention de la délinquance, the same at the level of one commune.
        Clspd = "clspd",
        /// GLTD: groupe local de traitement de la délinquance, a restricted group led by the prosecutor on one neighbourhood (its work is confidential).
        Gltd = "gltd",
        /// CDDF: conseil des droits et devoirs des familles, chaired by the mayor to support parents.
        Cddf = "cddf",
        /// A médiation sociale scheme.
        Mediation = "mediation",
        /// The contrat de ville: the State–local contract of the politique de la ville for the QPVs of an intercommunality.
        ContratDeVille = "contrat_de_ville",
        /// A thematic working group (of the contrat de ville, say).
        ThematicGroup = "thematic_group",
        /// A youth network.
        Youth = "youth",
        /// Any other network.
        Other = "other",
    }
}

vocab! {
    /// A partner's role in a network.
    MembershipRole: default Member {
        /// Leads the network.
        Pilot = "pilot",
        /// An ordinary member.
        Member = "member",
        /// Funds the network.
        Funder = "funder",
        /// Runs the network's operations.
        Operator = "operator",
        /// Attends without a vote.
        Observer = "observer",
    }
}

vocab! {
    /// The theme of a shared action.
    Theme: default Other {
        /// Youth.
        Youth = "youth",
        /// Delinquency prevention.
        DelinquencyPrevention = "delinquency_prevention",
        /// Social mediation.
        Mediation = "mediation",
        /// Parenting support.
        Parenting = "parenting",
        /// Employment.
        Employment = "employment",
        /// Training.
        Training = "training",
        /// Social inclusion.
        SocialInclusion = "social_inclusion",
        /// Housing.
        Housing = "housing",
        /// Health.
        Health = "health",
        /// Education.
        Education = "education",
        /// Culture and sport.
        CultureSport = "culture_sport",
        /// Urban renewal (renouvellement urbain).
        UrbanRenewal = "urban_renewal",
        /// Access to rights.
        AccessToRights = "access_to_rights",
        /// Any other theme.
        Other = "other",
    }
}

vocab! {
    /// Where a shared action stands.
    ActionStatus: default Planned {
        /// Not started yet.
        Planned = "planned",
        /// Running.
        Active = "active",
        /// Finished.
        Done = "done",
        /// Abandoned.
        Cancelled = "cancelled",
    }
}

vocab! {
    /// A partner's role in a shared action.
    ParticipationRole: default Contributor {
        /// Leads the action (at most one per action).
        Lead = "lead",
        /// Co-leads the action.
        CoLead = "co_lead",
        /// Carries out the action.
        Operator = "operator",
        /// Funds the action.
        Funder = "funder",
        /// Contributes to the action.
        Contributor = "contributor",
    }
}

vocab! {
    /// The kind of a direct relation between two partners.
    RelationKind: default Coordination {
        /// A signed convention between the two.
        Convention = "convention",
        /// The first funds the second.
        Funding = "funding",
        /// The first refers (orients) people to the second.
        Referral = "referral",
        /// The two coordinate their work.
        Coordination = "coordination",
        /// The first is a member of the second.
        Membership = "membership",
    }
}

vocab! {
    /// Who may read a network, an action or a relation through the API.
    Visibility {
        /// Anyone, portals and anonymous readers included.
        Public = "public",
        /// The partners involved (the network's members, the action's participants, the relation's two partners) and the directorate.
        Members = "members",
        /// The directorate only (admin, coordinator and analyst keys).
        Internal = "internal",
    }
}

impl NetworkKind {
    /// The visibility of a network that sets none: a GLTD's or a CDDF's work
    /// (named cases, families) is internal, a CISPD's or CLSPD's is for its
    /// members, the rest is public. Actions without one follow their network.
    pub fn default_visibility(self) -> Visibility {
        match self {
            NetworkKind::Gltd | NetworkKind::Cddf => Visibility::Internal,
            NetworkKind::Cispd | NetworkKind::Clspd => Visibility::Members,
            _ => Visibility::Public,
        }
    }
}

/// The visibility of a relation that sets none: the two partners'.
pub const RELATION_DEFAULT_VISIBILITY: Visibility = Visibility::Members;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_exact_and_round_trips() {
        for k in PartnerKind::ALL {
            assert_eq!(PartnerKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(PartnerKind::parse("association"), None);
        assert_eq!(PartnerKind::parse("Asso"), None);
        assert_eq!(PartnerKind::parse(" asso"), None);
        assert_eq!(Theme::ALL.len(), 14);
    }

    #[test]
    fn ranks_order_the_tree() {
        assert!(TerritoryKind::Region.rank() < TerritoryKind::Commune.rank());
        assert_eq!(TerritoryKind::Qpv.rank(), TerritoryKind::District.rank());
    }
}
