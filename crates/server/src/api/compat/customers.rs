//! Customer profiles on the compatible API (§4.1–§4.4).

use super::auth::tenant_scope;
use super::body::{JsonBody, check_batch_size, records};
use super::codes::{Code, CompatError};
use super::envelope::{
    CompatResponse, NotFoundCode, ReadRecord, customer_attributes, inward_links, read_envelope,
    write_envelope,
};
use super::query::QueryParams;
use crate::access::Principal;
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use profilestore_core::batch::RecordRef;
use profilestore_core::ids::CustomerId;
use profilestore_store::model::{BatchRecord, CustomerInput, WriteMode};

/// A new transaction id. Version 7 (time-ordered), not 4: write outcomes are kept by transid,
/// and ordered ids land on the index's last page instead of a random one per write.
pub fn new_transid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The records of a customer write; their attributes are checked against the tenant's schema
/// by the store, inside the write transaction.
fn parse_inputs(body: &serde_json::Value) -> Result<Vec<BatchRecord<CustomerInput>>, CompatError> {
    Ok(records(body)?
        .into_iter()
        .map(|raw| {
            let record = RecordRef {
                customer_id: raw.customer_id.clone().ok().flatten(),
                ..RecordRef::default()
            };
            let input = raw.customer_id.and_then(|id| {
                Ok(CustomerInput {
                    customer_id: CustomerId::parse(id.unwrap_or_default())?,
                    attributes: raw.attributes?,
                })
            });
            (record, input)
        })
        .collect())
}

async fn write(
    state: AppState,
    principal: Principal,
    body: serde_json::Value,
    mode: WriteMode,
) -> Result<CompatResponse, CompatError> {
    let tenant = tenant_scope(&principal)?;
    let records = parse_inputs(&body)?;
    let transid = new_transid();
    let outcome = state
        .store
        .write_customers(&tenant.tenant.tenant_id, &transid, mode, records)
        .await?;
    Ok(write_envelope(&transid, &outcome, NotFoundCode::Standard))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    JsonBody(body): JsonBody,
) -> Result<CompatResponse, CompatError> {
    write(state, principal, body, WriteMode::Create).await
}

pub async fn update(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    JsonBody(body): JsonBody,
) -> Result<CompatResponse, CompatError> {
    write(state, principal, body, WriteMode::Update).await
}

/// Reads customers; a single-id read of an unknown customer is 7014, a multi-id read
/// answers the ones it found.
async fn read(
    state: &AppState,
    principal: &Principal,
    ids: Vec<String>,
    single: bool,
    inward: u8,
) -> Result<CompatResponse, CompatError> {
    let tenant = tenant_scope(principal)?;
    let tenant_id = &tenant.tenant.tenant_id;
    if ids.is_empty() {
        return Err(CompatError::new(
            Code::MandatoryMissing,
            "Mandatory parameters missing: customerId",
        ));
    }
    check_batch_size(ids.len())?;
    let ids = ids
        .into_iter()
        .map(CustomerId::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let (customers, custom_ids) = state
        .store
        .get_customers_with_attribute_ids(tenant_id, &ids)
        .await?;
    if single && customers.is_empty() {
        return Err(CompatError::new(Code::NotFound, "Customer not found"));
    }
    let linked = if inward > 0 {
        let found: Vec<CustomerId> = customers.iter().map(|c| c.customer_id.clone()).collect();
        state.store.linked_app_profiles(tenant_id, &found).await?
    } else {
        Vec::new()
    };
    let records = customers
        .iter()
        .map(|customer| {
            let mine: Vec<_> = linked
                .iter()
                .filter(|profile| profile.customer_id.as_ref() == Some(&customer.customer_id))
                .collect();
            ReadRecord {
                attributes: customer_attributes(customer, &custom_ids),
                inward_links: inward_links(&mine, inward),
                outward_links: Vec::new(),
            }
        })
        .collect();
    Ok(read_envelope(&new_transid(), records))
}

pub async fn get_one(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(customer_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<CompatResponse, CompatError> {
    let inward = QueryParams::parse(query.as_deref()).show_inward_links()?;
    read(&state, &principal, vec![customer_id], true, inward).await
}

pub async fn get_many(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    RawQuery(query): RawQuery,
) -> Result<CompatResponse, CompatError> {
    let query = QueryParams::parse(query.as_deref());
    let inward = query.show_inward_links()?;
    read(&state, &principal, query.all("customerId"), false, inward).await
}

async fn delete(
    state: &AppState,
    principal: &Principal,
    ids: Vec<String>,
) -> Result<CompatResponse, CompatError> {
    let tenant = tenant_scope(principal)?;
    if ids.is_empty() {
        return Err(CompatError::new(
            Code::MandatoryMissing,
            "Mandatory parameters missing: customerId",
        ));
    }
    check_batch_size(ids.len())?;
    let records = ids
        .into_iter()
        .map(|id| {
            let record = RecordRef {
                customer_id: Some(id.clone()),
                ..RecordRef::default()
            };
            (record, CustomerId::parse(id))
        })
        .collect();
    let transid = new_transid();
    let outcome = state
        .store
        .delete_customers(&tenant.tenant.tenant_id, &transid, records)
        .await?;
    Ok(write_envelope(
        &transid,
        &outcome,
        NotFoundCode::CustomerDelete,
    ))
}

pub async fn delete_one(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(customer_id): Path<String>,
) -> Result<CompatResponse, CompatError> {
    delete(&state, &principal, vec![customer_id]).await
}

pub async fn delete_many(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    RawQuery(query): RawQuery,
) -> Result<CompatResponse, CompatError> {
    delete(
        &state,
        &principal,
        QueryParams::parse(query.as_deref()).all("customerId"),
    )
    .await
}
