//! Customer profiles: batch create, partial update, read, delete, and custom attribute ids.

use crate::support::{
    attributes, create_customers, customer, customer_id, customer_raw, customer_ref,
    delete_customers, errors, get_customer, refused, tenant, transid, update_customers,
};
use profilestore_core::DomainError;
use profilestore_core::attribute::AttributeValue;
use profilestore_core::error::ProfileKind;
use profilestore_core::ids::CustomerId;
use profilestore_store::Store;
use std::collections::HashMap;
use std::sync::Arc;

const CUSTOMER_EXISTS: DomainError = DomainError::AlreadyExists {
    kind: ProfileKind::Customer,
};
const NO_CUSTOMER: DomainError = DomainError::NotFound {
    kind: ProfileKind::Customer,
};

pub async fn create_customer_stores_its_attributes(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;

    let outcome = create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer(
            "C-1",
            &[
                ("name", "Ann"),
                ("email", "ann@example.org"),
                ("sms", "true"),
                ("city", "Leeds"),
            ],
        )],
    )
    .await;

    assert_eq!(errors(&outcome), [None]);
    assert_eq!(outcome.records[0].record, customer_ref("C-1"));
    let stored = get_customer(&*store, &acme.tenant_id, "C-1")
        .await
        .expect("created customer is found");
    assert_eq!(stored.customer_id, customer_id("C-1"));
    assert_eq!(
        stored.attributes,
        attributes(&[
            ("name", "Ann"),
            ("email", "ann@example.org"),
            ("sms", "1"),
            ("city", "Leeds"),
        ])
    );
    assert_eq!(stored.version, 1);
}

pub async fn create_twice_in_one_batch_refuses_only_the_second(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;

    let outcome = create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("name", "First")]),
            customer("C-1", &[("name", "Second")]),
        ],
    )
    .await;

    assert_eq!(errors(&outcome), [None, Some(CUSTOMER_EXISTS)]);
    let stored = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();
    assert_eq!(stored.attributes, attributes(&[("name", "First")]));
}

pub async fn create_existing_customer_is_already_exists_and_keeps_it(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann")])],
    )
    .await;

    let outcome = create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Bea")])],
    )
    .await;

    assert_eq!(errors(&outcome), [Some(CUSTOMER_EXISTS)]);
    let stored = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();
    assert_eq!(stored.attributes, attributes(&[("name", "Ann")]));
    assert_eq!(stored.version, 1);
}

pub async fn update_is_partial(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann"), ("city", "Leeds")])],
    )
    .await;

    let outcome = update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer(
            "C-1",
            &[("city", "York"), ("email", "ann@example.org")],
        )],
    )
    .await;

    assert_eq!(errors(&outcome), [None]);
    let stored = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();
    assert_eq!(
        stored.attributes,
        attributes(&[
            ("name", "Ann"),
            ("city", "York"),
            ("email", "ann@example.org")
        ])
    );
    assert_eq!(stored.version, 2);
}

pub async fn two_updates_in_one_batch_both_apply(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann")])],
    )
    .await;

    let outcome = update_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("name", "Bea")]),
            customer("C-1", &[("city", "York")]),
        ],
    )
    .await;

    assert_eq!(errors(&outcome), [None, None]);
    let stored = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();
    assert_eq!(
        stored.attributes,
        attributes(&[("name", "Bea"), ("city", "York")])
    );
    assert_eq!(stored.version, 3);
}

pub async fn update_keeps_created_at(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann")])],
    )
    .await;
    let created = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();

    update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Bea")])],
    )
    .await;

    let updated = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at >= created.updated_at);
}

pub async fn update_can_clear_an_attribute(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann"), ("city", "Leeds")])],
    )
    .await;

    update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer_raw(
            "C-1",
            vec![("city".to_owned(), AttributeValue::Clear)],
        )],
    )
    .await;

    let stored = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();
    assert_eq!(stored.attributes, attributes(&[("name", "Ann")]));
}

pub async fn update_of_missing_customer_is_not_found_and_creates_nothing(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;

    let outcome = update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-9", &[("name", "Zed")])],
    )
    .await;

    assert_eq!(errors(&outcome), [Some(NO_CUSTOMER)]);
    assert_eq!(get_customer(&*store, &acme.tenant_id, "C-9").await, None);
}

pub async fn get_customers_keeps_the_requested_order_and_skips_missing(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("name", "Ann")]),
            customer("C-2", &[("name", "Bea")]),
            customer("C-3", &[("name", "Cy")]),
        ],
    )
    .await;

    let found = store
        .get_customers(
            &acme.tenant_id,
            &[
                customer_id("C-3"),
                customer_id("missing"),
                customer_id("C-1"),
                customer_id("C-2"),
                customer_id("C-3"),
            ],
        )
        .await
        .unwrap();

    // An id asked twice is found twice.
    let ids: Vec<_> = found.iter().map(|c| c.customer_id.as_str()).collect();
    assert_eq!(ids, ["C-3", "C-1", "C-2", "C-3"]);
    assert_eq!(found[0].attributes, attributes(&[("name", "Cy")]));
}

pub async fn delete_then_get_finds_nothing(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("name", "Ann")]),
            customer("C-2", &[("name", "Bea")]),
        ],
    )
    .await;

    let outcome = delete_customers(&*store, &acme.tenant_id, &["C-1"]).await;

    assert_eq!(errors(&outcome), [None]);
    assert_eq!(get_customer(&*store, &acme.tenant_id, "C-1").await, None);
    assert!(
        get_customer(&*store, &acme.tenant_id, "C-2")
            .await
            .is_some(),
        "only the named customer is deleted"
    );
}

pub async fn delete_twice_in_one_batch_refuses_only_the_second(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(&*store, &acme.tenant_id, vec![customer("C-1", &[])]).await;

    let outcome = delete_customers(&*store, &acme.tenant_id, &["C-1", "C-1"]).await;

    assert_eq!(errors(&outcome), [None, Some(NO_CUSTOMER)]);
    assert_eq!(get_customer(&*store, &acme.tenant_id, "C-1").await, None);
}

pub async fn delete_of_missing_customer_is_not_found(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(&*store, &acme.tenant_id, vec![customer("C-1", &[])]).await;

    let outcome = delete_customers(&*store, &acme.tenant_id, &["C-9", "C-1"]).await;

    assert_eq!(errors(&outcome), [Some(NO_CUSTOMER), None]);
}

pub async fn refused_records_are_kept_in_the_outcome_and_change_nothing(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann")])],
    )
    .await;
    let invalid_email = DomainError::invalid("email", "not an e-mail address");

    let outcome = update_customers(
        &*store,
        &acme.tenant_id,
        vec![
            refused(customer_ref("C-1"), invalid_email.clone()),
            customer("C-1", &[("city", "Leeds")]),
            refused(customer_ref("C-2"), DomainError::missing("customerId")),
        ],
    )
    .await;

    assert_eq!(
        errors(&outcome),
        [
            Some(invalid_email),
            None,
            Some(DomainError::missing("customerId"))
        ]
    );
    let records: Vec<_> = outcome.records.iter().map(|r| r.record.clone()).collect();
    assert_eq!(
        records,
        [
            customer_ref("C-1"),
            customer_ref("C-1"),
            customer_ref("C-2")
        ]
    );
    let stored = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();
    assert_eq!(
        stored.attributes,
        attributes(&[("name", "Ann"), ("city", "Leeds")])
    );
    assert_eq!(stored.version, 2, "only the valid record changed it");
    assert_eq!(get_customer(&*store, &acme.tenant_id, "C-2").await, None);
}

pub async fn refused_delete_records_are_kept_in_the_outcome_and_delete_nothing(
    store: Arc<dyn Store>,
) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann")])],
    )
    .await;
    let refusal = DomainError::invalid("customerId", "contains control characters");

    let outcome = store
        .delete_customers(
            &acme.tenant_id,
            &transid(),
            vec![refused(customer_ref("C-1"), refusal.clone())],
        )
        .await
        .unwrap();

    assert_eq!(errors(&outcome), [Some(refusal)]);
    assert!(
        get_customer(&*store, &acme.tenant_id, "C-1")
            .await
            .is_some()
    );
}

pub async fn custom_attribute_ids_start_at_1001_in_first_use_order(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;

    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer(
            "C-1",
            &[("tier", "gold"), ("name", "Ann"), ("city", "Leeds")],
        )],
    )
    .await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer(
            "C-2",
            &[("city", "York"), ("date_of_birth", "1990-01-01")],
        )],
    )
    .await;

    let ids = store.custom_attribute_ids(&acme.tenant_id).await.unwrap();
    assert_eq!(
        ids,
        HashMap::from([
            ("tier".to_owned(), 1001),
            ("city".to_owned(), 1002),
            ("date_of_birth".to_owned(), 1003),
        ]),
        "default attributes (name) get no custom id"
    );
}

pub async fn customers_come_with_their_tenants_attribute_ids(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("tier", "gold")]),
            customer("C-2", &[("city", "York")]),
        ],
    )
    .await;
    create_customers(
        &*store,
        &globex.tenant_id,
        vec![customer("C-1", &[("shoe_size", "42")])],
    )
    .await;
    let ids: Vec<CustomerId> = ["C-2", "C-9", "C-1"]
        .into_iter()
        .map(|id| CustomerId::parse(id).unwrap())
        .collect();

    let (customers, attribute_ids) = store
        .get_customers_with_attribute_ids(&acme.tenant_id, &ids)
        .await
        .unwrap();
    let found: Vec<&str> = customers.iter().map(|c| c.customer_id.as_str()).collect();
    assert_eq!(
        found,
        ["C-2", "C-1"],
        "the customers found, in the order asked"
    );
    assert_eq!(
        customers,
        store.get_customers(&acme.tenant_id, &ids).await.unwrap()
    );
    assert_eq!(
        *attribute_ids,
        HashMap::from([("tier".to_owned(), 1001), ("city".to_owned(), 1002)]),
        "the tenant's own ids, not another tenant's"
    );

    let missing = [CustomerId::parse("C-9").unwrap()];
    let (customers, _) = store
        .get_customers_with_attribute_ids(&acme.tenant_id, &missing)
        .await
        .unwrap();
    assert!(customers.is_empty());
}

pub async fn custom_attribute_ids_are_never_reassigned(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("tier", "gold")])],
    )
    .await;
    delete_customers(&*store, &acme.tenant_id, &["C-1"]).await;

    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-2", &[("zone", "north"), ("tier", "silver")])],
    )
    .await;

    let ids = store.custom_attribute_ids(&acme.tenant_id).await.unwrap();
    assert_eq!(
        ids,
        HashMap::from([("tier".to_owned(), 1001), ("zone".to_owned(), 1002)])
    );
}

pub async fn custom_attribute_ids_are_per_tenant(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("tier", "gold")])],
    )
    .await;

    create_customers(
        &*store,
        &globex.tenant_id,
        vec![customer("C-1", &[("city", "Leeds")])],
    )
    .await;

    let acme_ids = store.custom_attribute_ids(&acme.tenant_id).await.unwrap();
    let globex_ids = store.custom_attribute_ids(&globex.tenant_id).await.unwrap();
    assert_eq!(acme_ids, HashMap::from([("tier".to_owned(), 1001)]));
    assert_eq!(globex_ids, HashMap::from([("city".to_owned(), 1001)]));
}
