//! Evolution of a definition: what a change may touch, and what the store must check against
//! stored values before the change holds (tightened constraints, newly unique or required, an
//! implicit attribute adopted).

use super::definition::AttributeDefinition;
use super::types::AttributeType;
use crate::DomainError;

/// A change to a definition: `None` keeps a field; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefinitionPatch {
    pub attribute_type: Option<AttributeType>,
    pub required: Option<bool>,
    pub unique: Option<bool>,
    pub description: Option<Option<String>>,
    pub values: Option<Vec<String>>,
    pub min: Option<Option<String>>,
    pub max: Option<Option<String>>,
    pub min_length: Option<Option<u32>>,
    pub max_length: Option<Option<u32>>,
    pub pattern: Option<Option<String>>,
    pub max_items: Option<Option<u32>>,
    pub default: Option<Option<String>>,
}

/// The changed definition and the checks the store must run on stored values first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evolution {
    pub updated: AttributeDefinition,
    /// Constraints or enum values changed: every stored value must still satisfy them.
    pub recheck_values: bool,
    /// The attribute became unique: stored values must not repeat.
    pub became_unique: bool,
    /// The attribute became required: profiles without it get the default (there must be one
    /// if any profile lacks it).
    pub became_required: bool,
    /// The attribute was implicit (written before any definition): the change adopts it, so
    /// every stored value must fit the definition and gets typed.
    pub adopted: bool,
}

fn set<T>(target: &mut T, change: Option<T>) {
    if let Some(value) = change {
        *target = value;
    }
}

pub fn evolve(
    current: &AttributeDefinition,
    patch: DefinitionPatch,
) -> Result<Evolution, DomainError> {
    if current.retired {
        return Err(DomainError::SchemaConflict {
            reason: format!(
                "{} is retired; purge it before defining it again",
                current.name
            ),
            offending: None,
            sample: Vec::new(),
        });
    }
    if let Some(new_type) = patch.attribute_type
        && new_type != current.attribute_type
    {
        return Err(DomainError::SchemaConflict {
            reason: format!(
                "the type of {} never changes ({} → {}); add a new attribute instead",
                current.name,
                current.attribute_type.as_str(),
                new_type.as_str()
            ),
            offending: None,
            sample: Vec::new(),
        });
    }
    let mut updated = current.clone();
    set(&mut updated.required, patch.required);
    set(&mut updated.unique, patch.unique);
    set(&mut updated.description, patch.description);
    set(&mut updated.values, patch.values);
    let c = &mut updated.constraints;
    set(&mut c.min, patch.min);
    set(&mut c.max, patch.max);
    set(&mut c.min_length, patch.min_length);
    set(&mut c.max_length, patch.max_length);
    set(&mut c.pattern, patch.pattern);
    set(&mut c.max_items, patch.max_items);
    set(&mut updated.default, patch.default);
    updated.implicit = false;
    updated.validate()?;
    Ok(Evolution {
        recheck_values: updated.constraints != current.constraints
            || updated.values != current.values,
        became_unique: updated.unique && !current.unique,
        became_required: updated.required && !current.required,
        adopted: current.implicit,
        updated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn balance() -> AttributeDefinition {
        AttributeDefinition::new(1001, "balance", AttributeType::Decimal)
    }

    #[test]
    fn the_type_never_changes() {
        let patch = DefinitionPatch {
            attribute_type: Some(AttributeType::Integer),
            ..Default::default()
        };
        assert!(matches!(
            evolve(&balance(), patch),
            Err(DomainError::SchemaConflict { .. })
        ));
        let same = DefinitionPatch {
            attribute_type: Some(AttributeType::Decimal),
            ..Default::default()
        };
        assert!(evolve(&balance(), same).is_ok());
    }

    #[test]
    fn a_change_to_an_implicit_attribute_adopts_it() {
        let describe = || DefinitionPatch {
            description: Some(Some("nickname".into())),
            ..Default::default()
        };
        let implicit = AttributeDefinition::implicit_string(1002, "nickname");
        let adopted = evolve(&implicit, describe()).unwrap();
        assert!(adopted.adopted && !adopted.updated.implicit);
        let explicit = evolve(&balance(), describe()).unwrap();
        assert!(!explicit.adopted && !explicit.updated.implicit);
    }

    #[test]
    fn tightening_asks_for_a_recheck_and_description_does_not() {
        let tighter = DefinitionPatch {
            min: Some(Some("0".into())),
            ..Default::default()
        };
        assert!(evolve(&balance(), tighter).unwrap().recheck_values);
        let described = DefinitionPatch {
            description: Some(Some("money".into())),
            ..Default::default()
        };
        let evolution = evolve(&balance(), described).unwrap();
        assert!(
            !evolution.recheck_values && !evolution.became_unique && !evolution.became_required
        );
        assert_eq!(evolution.updated.description.as_deref(), Some("money"));
    }

    #[test]
    fn unique_and_required_transitions_are_reported() {
        let patch = DefinitionPatch {
            unique: Some(true),
            required: Some(true),
            default: Some(Some("0".into())),
            ..Default::default()
        };
        let evolution = evolve(&balance(), patch).unwrap();
        assert!(evolution.became_unique && evolution.became_required);
    }

    #[test]
    fn incoherent_changes_are_field_errors_and_retired_attributes_do_not_change() {
        let bad = DefinitionPatch {
            pattern: Some(Some("x".into())),
            ..Default::default()
        };
        assert!(matches!(
            evolve(&balance(), bad),
            Err(DomainError::InvalidDefinition { .. })
        ));
        let mut retired = balance();
        retired.retired = true;
        assert!(evolve(&retired, DefinitionPatch::default()).is_err());
    }
}
