//! `/v1/customer-attributes`: the tenant's schema registry of typed customer attributes.

use super::body::{ProblemJson, present};
use super::problem::invalid;
use super::problem::{Problem, ProblemDocument};
use crate::access::TenantAccess;
use crate::api::json_value::{attribute_value, typed_json};
use crate::state::AppState;
use axum::Extension;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use profilestore_core::attribute::AttributeValue;
use profilestore_core::schema::evolution::DefinitionPatch;
use profilestore_core::schema::{AttributeDefinition, AttributeType, Constraints, TypedValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// A new attribute definition.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttribute {
    /// Identifier-like, unique per tenant, not a default attribute (name, email, msisdn...).
    #[schema(example = "balance")]
    pub name: String,
    /// string, integer, decimal, boolean, date, datetime, email, msisdn, enum or list.
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "decimal")]
    pub attribute_type: AttributeType,
    #[serde(default)]
    pub required: bool,
    /// Indexed, usable for lookups, duplicates refused.
    #[serde(default)]
    pub unique: bool,
    pub description: Option<String>,
    /// The allowed values of an enum.
    #[serde(default)]
    pub values: Vec<String>,
    /// Lower bound (numbers, dates, datetimes).
    #[schema(value_type = Option<Object>)]
    pub min: Option<Value>,
    /// Upper bound (numbers, dates, datetimes).
    #[schema(value_type = Option<Object>)]
    pub max: Option<Value>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    /// A regular expression the whole string must match.
    pub pattern: Option<String>,
    pub max_items: Option<u32>,
    /// Given to new customers that lack the attribute (and to existing ones when it becomes required).
    #[schema(value_type = Option<Object>)]
    pub default: Option<Value>,
}

/// A change to a definition: fields present are changed, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeChange {
    /// The type never changes; sending another type is refused (409).
    #[serde(rename = "type", default)]
    #[schema(value_type = Option<String>)]
    pub attribute_type: Option<AttributeType>,
    pub required: Option<bool>,
    pub unique: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub values: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub min: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub max: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub min_length: Option<Option<u32>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub max_length: Option<Option<u32>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub pattern: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub max_items: Option<Option<u32>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub default: Option<Option<Value>>,
}

/// A definition as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttributeView {
    /// Stable numeric id: the `ID` the compatible API's reads show.
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub attribute_type: String,
    pub required: bool,
    pub unique: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub min: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub max: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub default: Option<Value>,
    /// Retired: writes refused, stored values still readable until purged.
    pub retired: bool,
    /// Registered by a write before the tenant defined any attribute (a string).
    pub implicit: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttributeList {
    pub attributes: Vec<AttributeView>,
}

fn typed_text(attribute_type: AttributeType, text: &Option<String>) -> Option<Value> {
    text.as_ref().map(|text| {
        TypedValue::parse(attribute_type, "value", &AttributeValue::Text(text.clone()))
            .map(|value| typed_json(&value))
            .unwrap_or_else(|_| Value::from(text.clone()))
    })
}

impl From<AttributeDefinition> for AttributeView {
    fn from(d: AttributeDefinition) -> Self {
        AttributeView {
            id: d.id,
            min: typed_text(d.attribute_type, &d.constraints.min),
            max: typed_text(d.attribute_type, &d.constraints.max),
            default: typed_text(d.attribute_type, &d.default),
            name: d.name,
            attribute_type: d.attribute_type.as_str().to_owned(),
            required: d.required,
            unique: d.unique,
            description: d.description,
            values: d.values,
            min_length: d.constraints.min_length,
            max_length: d.constraints.max_length,
            pattern: d.constraints.pattern,
            max_items: d.constraints.max_items,
            retired: d.retired,
            implicit: d.implicit,
        }
    }
}

/// A bound or default as canonical-to-be text (the core normalises and checks it).
fn value_text(field: &str, value: &Value) -> Result<String, Problem> {
    match attribute_value(field, value) {
        Ok(AttributeValue::Text(text)) => Ok(text),
        Ok(AttributeValue::List(items)) => {
            Ok(serde_json::to_string(&items).expect("strings serialise"))
        }
        Ok(AttributeValue::Clear) => Err(invalid(field, "must not be null here")),
        Err(error) => Err(error.into()),
    }
}

fn optional_text(field: &str, value: Option<Value>) -> Result<Option<String>, Problem> {
    value
        .filter(|v| !v.is_null())
        .map(|v| value_text(field, &v))
        .transpose()
}

fn tenant_id(tenant: &TenantAccess) -> &str {
    &tenant.tenant.tenant_id
}

/// Every attribute of the tenant's schema, in id order.
#[utoipa::path(get, path = "/v1/customer-attributes", tag = "customer attributes",
    responses((status = 200, body = AttributeList), (status = 401, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
) -> Result<Json<AttributeList>, Problem> {
    let schema = state.store.schema(tenant_id(&tenant)).await?;
    let mut attributes: Vec<AttributeDefinition> = schema.definitions().cloned().collect();
    attributes.sort_by_key(|d| d.id);
    Ok(Json(AttributeList {
        attributes: attributes.into_iter().map(Into::into).collect(),
    }))
}

/// Defines an attribute. Defining one that profiles already hold (written before the tenant
/// had a schema) checks every stored value first.
#[utoipa::path(post, path = "/v1/customer-attributes", tag = "customer attributes", request_body = NewAttribute,
    responses((status = 201, body = AttributeView), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    ProblemJson(new): ProblemJson<NewAttribute>,
) -> Result<impl IntoResponse, Problem> {
    let definition = AttributeDefinition {
        id: 0,
        name: new.name,
        attribute_type: new.attribute_type,
        required: new.required,
        unique: new.unique,
        description: new.description,
        values: new.values,
        constraints: Constraints {
            min: optional_text("min", new.min)?,
            max: optional_text("max", new.max)?,
            min_length: new.min_length,
            max_length: new.max_length,
            pattern: new.pattern,
            max_items: new.max_items,
        },
        default: optional_text("default", new.default)?,
        retired: false,
        implicit: false,
    };
    let created = state
        .store
        .create_definition(tenant_id(&tenant), definition)
        .await??;
    let location = format!("/v1/customer-attributes/{}", created.name);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(AttributeView::from(created)),
    ))
}

#[utoipa::path(get, path = "/v1/customer-attributes/{name}", tag = "customer attributes",
    params(("name" = String, Path, description = "The attribute's name")),
    responses((status = 200, body = AttributeView), (status = 404, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(name): Path<String>,
) -> Result<Json<AttributeView>, Problem> {
    let schema = state.store.schema(tenant_id(&tenant)).await?;
    let definition = schema.get(&name).cloned().ok_or_else(|| {
        Problem::from(profilestore_core::DomainError::NotFound {
            kind: profilestore_core::error::ProfileKind::Attribute,
        })
    })?;
    Ok(Json(definition.into()))
}

/// Changes a definition. The type never changes; a tightened constraint, or making the
/// attribute unique or required, is checked against every stored value first.
#[utoipa::path(patch, path = "/v1/customer-attributes/{name}", tag = "customer attributes", request_body = AttributeChange,
    params(("name" = String, Path, description = "The attribute's name")),
    responses((status = 200, body = AttributeView), (status = 404, body = ProblemDocument), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(name): Path<String>,
    ProblemJson(change): ProblemJson<AttributeChange>,
) -> Result<Json<AttributeView>, Problem> {
    let optional =
        |field: &str, value: Option<Option<Value>>| -> Result<Option<Option<String>>, Problem> {
            value.map(|inner| optional_text(field, inner)).transpose()
        };
    let patch = DefinitionPatch {
        attribute_type: change.attribute_type,
        required: change.required,
        unique: change.unique,
        description: change.description,
        values: change.values,
        min: optional("min", change.min)?,
        max: optional("max", change.max)?,
        min_length: change.min_length,
        max_length: change.max_length,
        pattern: change.pattern,
        max_items: change.max_items,
        default: optional("default", change.default)?,
    };
    let updated = state
        .store
        .update_definition(tenant_id(&tenant), &name, patch)
        .await??;
    Ok(Json(updated.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RetireQuery {
    /// Also remove the attribute's values from every profile, and the definition itself.
    #[serde(default)]
    pub purge: bool,
}

/// `?purge=true|false` (absent: false); anything else is a problem naming `purge`.
fn purge_flag(query: Option<&str>) -> Result<bool, Problem> {
    let mut purge = false;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match (key.as_ref(), value.as_ref()) {
            ("purge", "true") => purge = true,
            ("purge", "false") => purge = false,
            ("purge", _) => return Err(invalid("purge", "is true or false")),
            _ => {}
        }
    }
    Ok(purge)
}

/// Retires an attribute: writes are refused, stored values stay readable. With `?purge=true`
/// its values are removed from every profile and the definition is deleted.
#[utoipa::path(delete, path = "/v1/customer-attributes/{name}", tag = "customer attributes",
    params(("name" = String, Path, description = "The attribute's name"), RetireQuery),
    responses((status = 200, body = AttributeView), (status = 404, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn retire(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<AttributeView>, Problem> {
    let purge = purge_flag(query.as_deref())?;
    let retired = state
        .store
        .retire_definition(tenant_id(&tenant), &name, purge)
        .await??;
    Ok(Json(retired.into()))
}
