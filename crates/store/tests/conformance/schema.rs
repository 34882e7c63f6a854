//! The schema registry: definitions, their evolution rules against stored values, and their
//! enforcement on every customer write.

use crate::support::*;
use profilestore_core::DomainError;
use profilestore_core::attribute::AttributeValue;
use profilestore_core::ids::CustomerId;
use profilestore_core::schema::evolution::DefinitionPatch;
use profilestore_core::schema::{AttributeDefinition, AttributeType, TypedValue};
use profilestore_store::Store;
use profilestore_store::model::{Tenant, WriteMode};
use std::collections::HashMap;
use std::sync::Arc;

fn definition(name: &str, attribute_type: AttributeType) -> AttributeDefinition {
    AttributeDefinition::new(0, name, attribute_type)
}

async fn define(
    store: &dyn Store,
    tenant: &str,
    definition: AttributeDefinition,
) -> AttributeDefinition {
    store
        .create_definition(tenant, definition)
        .await
        .unwrap()
        .expect("definition accepted")
}

/// Tenant "acme" with the string attribute `name` defined, and customer C-1 holding `value`.
async fn acme_with_one_value(
    store: &dyn Store,
    name: &str,
    value: &str,
) -> (Tenant, AttributeDefinition) {
    let acme = tenant(store, "acme").await;
    let defined = define(
        store,
        &acme.tenant_id,
        definition(name, AttributeType::String),
    )
    .await;
    create_customers(
        store,
        &acme.tenant_id,
        vec![customer("C-1", &[(name, value)])],
    )
    .await;
    (acme, defined)
}

fn conflict_count(result: Result<AttributeDefinition, DomainError>) -> (u64, Vec<String>) {
    match result {
        Err(DomainError::SchemaConflict {
            offending: Some(count),
            sample,
            ..
        }) => (count, sample),
        other => panic!("expected a conflict with stored values, got {other:?}"),
    }
}

pub async fn definitions_get_ids_from_1001_and_read_back(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;

    let balance = define(
        &*store,
        &acme.tenant_id,
        definition("balance", AttributeType::Decimal),
    )
    .await;
    let birthday = define(
        &*store,
        &acme.tenant_id,
        definition("date_of_birth", AttributeType::Date),
    )
    .await;
    let schema = store.schema(&acme.tenant_id).await.unwrap();

    assert_eq!((balance.id, birthday.id), (1001, 1002));
    assert_eq!(schema.get("balance"), Some(&balance));
    assert!(schema.is_closed());
    assert_eq!(
        store
            .create_definition(
                &acme.tenant_id,
                definition("balance", AttributeType::String)
            )
            .await
            .unwrap(),
        Err(DomainError::AlreadyExists {
            kind: profilestore_core::error::ProfileKind::Attribute
        })
    );
}

pub async fn a_closed_schema_refuses_unknown_and_mistyped_values_and_stores_canonical_forms(
    store: Arc<dyn Store>,
) {
    let acme = tenant(&*store, "acme").await;
    define(
        &*store,
        &acme.tenant_id,
        definition("balance", AttributeType::Decimal),
    )
    .await;

    let outcome = create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("balance", "12.50")]),
            customer("C-2", &[("balance", "lots")]),
            customer("C-3", &[("nickname", "Bo")]),
        ],
    )
    .await;

    let refused = errors(&outcome);
    assert!(refused[0].is_none());
    assert!(
        matches!(&refused[1], Some(DomainError::InvalidAttribute { attribute, .. }) if attribute == "balance")
    );
    assert!(
        matches!(&refused[2], Some(DomainError::InvalidAttribute { attribute, .. }) if attribute == "nickname")
    );
    assert_eq!(
        get_customer(&*store, &acme.tenant_id, "C-1")
            .await
            .unwrap()
            .attributes["balance"],
        "12.5"
    );
    assert!(
        get_customer(&*store, &acme.tenant_id, "C-2")
            .await
            .is_none()
    );
}

pub async fn an_open_schema_registers_written_attributes_implicitly(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;

    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("nickname", "Bo")])],
    )
    .await;
    let schema = store.schema(&acme.tenant_id).await.unwrap();

    let nickname = schema.get("nickname").expect("registered");
    assert!(nickname.implicit && !schema.is_closed());
    assert_eq!(nickname.attribute_type, AttributeType::String);
}

/// An implicit attribute's values have no typed entries; adopting it writes them, for every
/// holder (here as a unique attribute, whose entries a lookup finds).
pub async fn adopting_an_implicit_attribute_types_every_holders_value(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("member", "M-1")]),
            customer("C-2", &[("member", "M-2")]),
        ],
    )
    .await;
    // Written again while implicit: still no entry to move.
    update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-2", &[("member", "M-3")])],
    )
    .await;

    let mut member = definition("member", AttributeType::String);
    member.unique = true;
    let member = define(&*store, &acme.tenant_id, member).await;

    for (value, holder) in [("M-1", "C-1"), ("M-3", "C-2")] {
        let key = TypedValue::String(value.into()).sort_key();
        let found = store
            .find_customers_by_value(&acme.tenant_id, member.id, &key)
            .await
            .unwrap();
        let ids: Vec<&str> = found.iter().map(|c| c.customer_id.as_str()).collect();
        assert_eq!(ids, [holder]);
    }
}

pub async fn defining_an_implicit_attribute_adopts_it_and_canonicalises_stored_values(
    store: Arc<dyn Store>,
) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("score", "+007")])],
    )
    .await;
    let implicit_id = store
        .schema(&acme.tenant_id)
        .await
        .unwrap()
        .get("score")
        .unwrap()
        .id;

    let adopted = define(
        &*store,
        &acme.tenant_id,
        definition("score", AttributeType::Integer),
    )
    .await;

    assert_eq!(adopted.id, implicit_id);
    assert_eq!(
        get_customer(&*store, &acme.tenant_id, "C-1")
            .await
            .unwrap()
            .attributes["score"],
        "7"
    );
    let events = all_events(&*store, &acme.tenant_id).await;
    assert_eq!(events.last().unwrap().event_type, "customer.updated");
}

pub async fn a_definition_that_stored_values_break_is_refused_with_count_and_sample(
    store: Arc<dyn Store>,
) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("score", "7")]),
            customer("C-2", &[("score", "many")]),
        ],
    )
    .await;

    let result = store
        .create_definition(&acme.tenant_id, definition("score", AttributeType::Integer))
        .await
        .unwrap();

    assert_eq!(conflict_count(result), (1, vec!["C-2".to_owned()]));
}

pub async fn unique_values_are_refused_on_write_and_found_by_value(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let mut account = definition("account", AttributeType::String);
    account.unique = true;
    let account = define(&*store, &acme.tenant_id, account).await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("account", "A-1")])],
    )
    .await;

    let duplicate = create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-2", &[("account", "A-1")])],
    )
    .await;
    let same_customer = update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("account", "A-1")])],
    )
    .await;
    // An update is checked on the unique values it gives, kept ones or not.
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-3", &[("account", "A-3")])],
    )
    .await;
    let taken_by_update = update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-3", &[("account", "A-1"), ("name", "Cy")])],
    )
    .await;
    let c3 = get_customer(&*store, &acme.tenant_id, "C-3").await.unwrap();
    let key = TypedValue::String("A-1".into()).sort_key();
    let found = store
        .find_customers_by_value(&acme.tenant_id, account.id, &key)
        .await
        .unwrap();

    assert_eq!(
        errors(&duplicate),
        [Some(DomainError::DuplicateValue {
            attribute: "account".into()
        })]
    );
    assert_eq!(errors(&same_customer), [None]);
    assert_eq!(
        errors(&taken_by_update),
        [Some(DomainError::DuplicateValue {
            attribute: "account".into()
        })]
    );
    assert_eq!(
        c3.attributes["account"], "A-3",
        "the refused update changed nothing"
    );
    assert_eq!(c3.attributes.get("name"), None);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].customer_id.as_str(), "C-1");
}

pub async fn a_customers_typed_entry_follows_its_value_through_updates_and_clears(
    store: Arc<dyn Store>,
) {
    let acme = tenant(&*store, "acme").await;
    // Lookups by value are for unique attributes: two of them, one moving, one staying.
    let mut account = definition("account", AttributeType::String);
    account.unique = true;
    let account = define(&*store, &acme.tenant_id, account).await;
    let mut tier = definition("tier", AttributeType::String);
    tier.unique = true;
    let tier = define(&*store, &acme.tenant_id, tier).await;
    let holders = |value: &str| {
        let (store, tenant) = (store.clone(), acme.tenant_id.clone());
        let key = TypedValue::String(value.into()).sort_key();
        async move {
            let mut ids: Vec<String> = Vec::new();
            for id in [account.id, tier.id] {
                let found = store.find_customers_by_value(&tenant, id, &key).await;
                ids.extend(
                    found
                        .unwrap()
                        .into_iter()
                        .map(|c| c.customer_id.to_string()),
                );
            }
            ids
        }
    };
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("account", "A-1"), ("tier", "gold")])],
    )
    .await;

    // The account moves; the tier stays: only the moved entry may change.
    let moved = update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("account", "A-2")])],
    )
    .await;
    assert_eq!(errors(&moved), [None]);
    assert!(
        holders("A-1").await.is_empty(),
        "the old value no longer finds it"
    );
    assert_eq!(holders("A-2").await, ["C-1"]);
    assert_eq!(holders("gold").await, ["C-1"]);
    // The unique value it left is free for another customer.
    let taken = create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-2", &[("account", "A-1")])],
    )
    .await;
    assert_eq!(errors(&taken), [None]);

    let cleared = update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer_raw(
            "C-1",
            vec![("tier".to_owned(), AttributeValue::Clear)],
        )],
    )
    .await;
    assert_eq!(errors(&cleared), [None]);
    assert!(
        holders("gold").await.is_empty(),
        "a cleared value leaves no entry"
    );
    assert_eq!(holders("A-2").await, ["C-1"]);
}

pub async fn making_an_attribute_unique_checks_for_repeats(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    define(
        &*store,
        &acme.tenant_id,
        definition("account", AttributeType::String),
    )
    .await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("account", "A")]),
            customer("C-2", &[("account", "A")]),
        ],
    )
    .await;

    let patch = DefinitionPatch {
        unique: Some(true),
        ..Default::default()
    };
    let result = store
        .update_definition(&acme.tenant_id, "account", patch)
        .await
        .unwrap();

    assert_eq!(conflict_count(result).0, 1);
}

/// Only unique attributes are indexed by value: a lookup of another attribute finds nothing,
/// and finds its holder once the attribute is made unique.
pub async fn lookups_by_value_find_the_values_of_unique_attributes(store: Arc<dyn Store>) {
    let (acme, account) = acme_with_one_value(&*store, "account", "A").await;
    let key = TypedValue::String("A".into()).sort_key();
    let lookup = || store.find_customers_by_value(&acme.tenant_id, account.id, &key);
    assert!(lookup().await.unwrap().is_empty());

    let patch = DefinitionPatch {
        unique: Some(true),
        ..Default::default()
    };
    store
        .update_definition(&acme.tenant_id, "account", patch)
        .await
        .unwrap()
        .unwrap();

    let found = lookup().await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].customer_id.as_str(), "C-1");
}

pub async fn tightening_a_constraint_is_checked_against_stored_values(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    define(
        &*store,
        &acme.tenant_id,
        definition("balance", AttributeType::Decimal),
    )
    .await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("balance", "5")]),
            customer("C-2", &[("balance", "-3")]),
            customer("C-3", &[("balance", "-1")]),
        ],
    )
    .await;

    let too_tight = DefinitionPatch {
        min: Some(Some("0".into())),
        ..Default::default()
    };
    let loose_enough = DefinitionPatch {
        min: Some(Some("-10".into())),
        ..Default::default()
    };
    let refused = store
        .update_definition(&acme.tenant_id, "balance", too_tight)
        .await
        .unwrap();
    let accepted = store
        .update_definition(&acme.tenant_id, "balance", loose_enough)
        .await
        .unwrap();

    assert_eq!(
        conflict_count(refused),
        (2, vec!["C-2".to_owned(), "C-3".to_owned()])
    );
    assert_eq!(accepted.unwrap().constraints.min.as_deref(), Some("-10"));
}

pub async fn the_type_never_changes(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    define(
        &*store,
        &acme.tenant_id,
        definition("balance", AttributeType::Decimal),
    )
    .await;

    let patch = DefinitionPatch {
        attribute_type: Some(AttributeType::String),
        ..Default::default()
    };
    let result = store
        .update_definition(&acme.tenant_id, "balance", patch)
        .await
        .unwrap();

    assert!(matches!(
        result,
        Err(DomainError::SchemaConflict {
            offending: None,
            ..
        })
    ));
}

pub async fn a_required_attribute_needs_a_default_while_profiles_lack_it(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(&*store, &acme.tenant_id, vec![customer("C-1", &[])]).await;
    let mut country = definition("country", AttributeType::String);
    country.required = true;

    let without_default = store
        .create_definition(&acme.tenant_id, country.clone())
        .await
        .unwrap();
    country.default = Some("GB".into());
    define(&*store, &acme.tenant_id, country).await;
    let refused_create =
        create_customers(&*store, &acme.tenant_id, vec![customer("C-2", &[])]).await;

    assert_eq!(conflict_count(without_default), (1, vec!["C-1".to_owned()]));
    assert_eq!(
        get_customer(&*store, &acme.tenant_id, "C-1")
            .await
            .unwrap()
            .attributes["country"],
        "GB"
    );
    assert_eq!(
        errors(&refused_create),
        [None],
        "the default fills a new customer in"
    );
    assert_eq!(
        get_customer(&*store, &acme.tenant_id, "C-2")
            .await
            .unwrap()
            .attributes["country"],
        "GB"
    );
}

/// A read's attribute ids are the tenant's current ones after every change to them (a backend
/// may keep them between reads): an attribute's first use, a purge, a new id for an old name.
pub async fn read_attribute_ids_follow_every_change_of_the_tenants_ids(store: Arc<dyn Store>) {
    async fn write(store: &dyn Store, tenant_id: &str, mode: WriteMode, id: &str, name: &str) {
        let outcome =
            write_customers(store, tenant_id, mode, vec![customer(id, &[(name, "x")])]).await;
        assert_eq!(errors(&outcome), [None], "{id} {name}");
    }
    async fn ids_read_with(store: &dyn Store, tenant_id: &str, id: &str) -> HashMap<String, i64> {
        let ids = [CustomerId::parse(id).unwrap()];
        let (_, attribute_ids) = store
            .get_customers_with_attribute_ids(tenant_id, &ids)
            .await
            .unwrap();
        (*attribute_ids).clone()
    }
    let acme = tenant(&*store, "acme").await;
    let (store, tenant_id) = (&*store, acme.tenant_id.as_str());

    write(store, tenant_id, WriteMode::Create, "C-1", "legacy").await;
    let first = ids_read_with(store, tenant_id, "C-1").await;
    write(store, tenant_id, WriteMode::Create, "C-2", "tier").await;
    let after_first_use = ids_read_with(store, tenant_id, "C-1").await;
    store
        .retire_definition(tenant_id, "legacy", true)
        .await
        .unwrap()
        .unwrap();
    let after_purge = ids_read_with(store, tenant_id, "C-2").await;
    write(store, tenant_id, WriteMode::Update, "C-1", "legacy").await;
    let after_reuse = ids_read_with(store, tenant_id, "C-1").await;

    assert_eq!(first, HashMap::from([("legacy".to_owned(), 1001)]));
    assert_eq!(
        after_first_use,
        HashMap::from([("legacy".to_owned(), 1001), ("tier".to_owned(), 1002)])
    );
    assert_eq!(after_purge, HashMap::from([("tier".to_owned(), 1002)]));
    assert_eq!(
        after_reuse,
        HashMap::from([("tier".to_owned(), 1002), ("legacy".to_owned(), 1003)]),
        "a name used again after a purge has a new id"
    );
}

pub async fn retiring_refuses_writes_keeps_values_and_purging_removes_them(store: Arc<dyn Store>) {
    let (acme, _) = acme_with_one_value(&*store, "legacy", "x").await;

    store
        .retire_definition(&acme.tenant_id, "legacy", false)
        .await
        .unwrap()
        .unwrap();
    let write = update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("legacy", "y")])],
    )
    .await;
    let kept = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();
    store
        .retire_definition(&acme.tenant_id, "legacy", true)
        .await
        .unwrap()
        .unwrap();
    let purged = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();

    assert!(matches!(
        &errors(&write)[0],
        Some(DomainError::InvalidAttribute { .. })
    ));
    assert_eq!(kept.attributes["legacy"], "x");
    assert!(!purged.attributes.contains_key("legacy"));
    assert!(
        store
            .schema(&acme.tenant_id)
            .await
            .unwrap()
            .get("legacy")
            .is_none()
    );
    assert_eq!(
        store
            .retire_definition(&acme.tenant_id, "legacy", false)
            .await
            .unwrap(),
        Err(DomainError::NotFound {
            kind: profilestore_core::error::ProfileKind::Attribute
        })
    );
}

pub async fn schemas_belong_to_their_tenant(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let other = tenant(&*store, "other").await;
    define(
        &*store,
        &acme.tenant_id,
        definition("balance", AttributeType::Decimal),
    )
    .await;

    let elsewhere = create_customers(
        &*store,
        &other.tenant_id,
        vec![customer("C-1", &[("balance", "lots")])],
    )
    .await;

    assert_eq!(
        errors(&elsewhere),
        [None],
        "the other tenant's schema is still open"
    );
    assert!(
        store
            .schema(&other.tenant_id)
            .await
            .unwrap()
            .get("balance")
            .unwrap()
            .implicit
    );
}
