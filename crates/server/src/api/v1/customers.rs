//! `/v1/customers`: customer profiles as plain JSON with typed values, and lookups by email,
//! msisdn or a unique attribute.

use super::problem::{Problem, ProblemDocument, ProblemField};
use crate::access::TenantAccess;
use crate::api::json_value::typed_json;
use crate::state::AppState;
use axum::Extension;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use chrono::SecondsFormat;
use profilestore_core::DomainError;
use profilestore_core::attribute::AttributeValue;
use profilestore_core::customer::{CustomerProfile, default_attribute_named};
use profilestore_core::error::ProfileKind;
use profilestore_core::ids::CustomerId;
use profilestore_core::schema::{Schema, TypedValue};
use profilestore_store::model::CustomerLookup;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub customer_id: String,
    /// Default attributes (name, email, msisdn, channel flags) and the tenant's own, typed:
    /// integers and booleans as JSON, decimals as exact strings, lists as arrays.
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerList {
    pub customers: Vec<CustomerView>,
}

fn view(profile: &CustomerProfile, schema: &Schema) -> CustomerView {
    let attributes = profile
        .attributes
        .iter()
        .map(|(name, text)| {
            let value = if default_attribute_named(name).is_some_and(|d| d.is_flag()) {
                Value::from(text == "1")
            } else {
                schema
                    .get(name)
                    .and_then(|d| {
                        TypedValue::parse(
                            d.attribute_type,
                            name,
                            &AttributeValue::Text(text.clone()),
                        )
                        .ok()
                    })
                    .map(|typed| typed_json(&typed))
                    .unwrap_or_else(|| Value::from(text.clone()))
            };
            (name.clone(), value)
        })
        .collect();
    CustomerView {
        customer_id: profile.customer_id.to_string(),
        attributes,
        version: profile.version,
        created_at: profile
            .created_at
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        updated_at: profile
            .updated_at
            .to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

/// One customer profile.
#[utoipa::path(get, path = "/v1/customers/{customer_id}", tag = "customers",
    params(("customer_id" = String, Path, description = "The tenant's customerId")),
    responses((status = 200, body = CustomerView), (status = 404, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(customer_id): Path<String>,
) -> Result<Json<CustomerView>, Problem> {
    let tenant_id = &tenant.tenant.tenant_id;
    let id = CustomerId::parse(customer_id)?;
    let found = state.store.get_customers(tenant_id, &[id]).await?;
    let profile = found.first().ok_or(DomainError::NotFound {
        kind: ProfileKind::Customer,
    })?;
    let schema = state.store.schema(tenant_id).await?;
    Ok(Json(view(profile, &schema)))
}

/// Customers by exactly one of: `email` (without regard to case), `msisdn` (normalised to
/// E.164 first) or `<a unique attribute>=<value>`.
#[utoipa::path(get, path = "/v1/customers", tag = "customers",
    params(
        ("email" = Option<String>, Query, description = "Match the email, ignoring case"),
        ("msisdn" = Option<String>, Query, description = "Match the msisdn after normalising it to E.164"),
    ),
    responses((status = 200, body = CustomerList), (status = 422, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn find(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    RawQuery(query): RawQuery,
) -> Result<Json<CustomerList>, Problem> {
    let tenant_id = &tenant.tenant.tenant_id;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let [(name, value)] = pairs.as_slice() else {
        return Err(lookup_problem(
            "give exactly one lookup: email, msisdn or a unique attribute",
        ));
    };
    let schema = state.store.schema(tenant_id).await?;
    let customers = match name.as_str() {
        "email" => {
            state
                .store
                .find_customers(tenant_id, &CustomerLookup::Email(value.clone()))
                .await?
        }
        "msisdn" => {
            state
                .store
                .find_customers(tenant_id, &CustomerLookup::Msisdn(value.clone()))
                .await?
        }
        attribute => {
            let definition = schema.get(attribute).filter(|d| d.unique).ok_or_else(|| {
                lookup_problem(&format!(
                    "{attribute} is not email, msisdn or a unique attribute"
                ))
            })?;
            let typed = definition
                .check(&AttributeValue::Text(value.clone()))
                .or_else(|_| {
                    TypedValue::parse(
                        definition.attribute_type,
                        attribute,
                        &AttributeValue::Text(value.clone()),
                    )
                    .map_err(|reason| DomainError::invalid(attribute, reason))
                })?;
            state
                .store
                .find_customers_by_value(tenant_id, definition.id, &typed.sort_key())
                .await?
        }
    };
    Ok(Json(CustomerList {
        customers: customers.iter().map(|c| view(c, &schema)).collect(),
    }))
}

fn lookup_problem(message: &str) -> Problem {
    Problem::validation(vec![ProblemField {
        field: "query".into(),
        message: message.into(),
    }])
}
