//! App profiles on the compatible API (§4.6–§4.13).

use super::auth::app_scope;
use super::body::{JsonBody, RawRecord, check_batch_size, raw_text, records};
use super::codes::{Code, CompatError};
use super::customers::new_transid;
use super::envelope::{
    CompatResponse, NotFoundCode, ReadRecord, app_profile_attributes, outward_links, read_envelope,
    write_envelope,
};
use super::query::QueryParams;
use crate::access::Principal;
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use profilestore_core::DomainError;
use profilestore_core::app_profile::AppProfileWrite;
use profilestore_core::batch::RecordRef;
use profilestore_core::ids::{AppId, CustomerId, DeviceId, UserId};
use profilestore_store::model::{AppProfileCommand, AppProfileSelector, BatchRecord, WriteMode};
use std::collections::HashMap;

/// One record of an app-profile write. The install is named by `userId` and `deviceId` among
/// the attributes; `userId` defaults to the record's customerId and `deviceId` to its `channel`
/// (social-channel profiles have neither). The record's customerId links the install.
fn command(app_id: &AppId, raw: RawRecord, mode: WriteMode) -> BatchRecord<AppProfileCommand> {
    let attributes_ref = raw.attributes.as_deref().unwrap_or_default();
    let record = RecordRef {
        customer_id: raw.customer_id.clone().ok().flatten(),
        user_id: raw_text(attributes_ref, "userId").map(str::to_owned),
        device_id: raw_text(attributes_ref, "deviceId").map(str::to_owned),
    };
    let parsed = (|| {
        let attributes = raw.attributes?;
        let record_customer = raw.customer_id?.filter(|id| !id.is_empty());
        let channel = raw_text(&attributes, "channel").map(str::to_owned);
        let write = AppProfileWrite::parse(app_id, attributes)?;
        let link = match &record_customer {
            Some(id) => Some(CustomerId::parse(id.clone())?),
            None => write.customer_id.clone(),
        };
        Ok(match mode {
            WriteMode::Create => {
                let user_id = match (write.user_id, &record_customer) {
                    (Some(user_id), _) => user_id,
                    (None, Some(customer)) => UserId::parse(customer.clone())?,
                    (None, None) => return Err(DomainError::missing("userId")),
                };
                let device_id = match (write.device_id, channel) {
                    (Some(device_id), _) => device_id,
                    (None, Some(channel)) => DeviceId::parse(channel)?,
                    (None, None) => return Err(DomainError::missing("deviceId")),
                };
                AppProfileCommand::Create {
                    user_id,
                    device_id,
                    link,
                    patch: write.patch,
                }
            }
            WriteMode::Update => {
                let (selector, link) = match (write.user_id, write.device_id, link) {
                    (Some(user_id), Some(device_id), link) => {
                        (AppProfileSelector::Device { user_id, device_id }, link)
                    }
                    (Some(user_id), None, link) => (AppProfileSelector::User(user_id), link),
                    (None, Some(device_id), Some(customer_id)) => (
                        AppProfileSelector::DeviceOfCustomer {
                            device_id,
                            customer_id,
                        },
                        None,
                    ),
                    (None, None, Some(customer_id)) => {
                        (AppProfileSelector::Customer(customer_id), None)
                    }
                    (None, _, None) => return Err(DomainError::missing("userId or customerId")),
                };
                AppProfileCommand::Update {
                    selector,
                    link,
                    patch: write.patch,
                }
            }
        })
    })();
    (record, parsed)
}

async fn write(
    state: AppState,
    principal: Principal,
    app_id: String,
    body: Result<JsonBody, CompatError>,
    mode: WriteMode,
) -> Result<CompatResponse, CompatError> {
    let tenant = app_scope(&state, &principal, &app_id)?;
    let JsonBody(body) = body?;
    let app_id = AppId::parse(app_id)?;
    let commands = records(&body)?
        .into_iter()
        .map(|raw| command(&app_id, raw, mode))
        .collect();
    let transid = new_transid();
    let outcome = state
        .store
        .write_app_profiles(&tenant.tenant.tenant_id, &transid, &app_id, commands)
        .await?;
    Ok(write_envelope(&transid, &outcome, NotFoundCode::Standard))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(app_id): Path<String>,
    body: Result<JsonBody, CompatError>,
) -> Result<CompatResponse, CompatError> {
    write(state, principal, app_id, body, WriteMode::Create).await
}

pub async fn update(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(app_id): Path<String>,
    body: Result<JsonBody, CompatError>,
) -> Result<CompatResponse, CompatError> {
    write(state, principal, app_id, body, WriteMode::Update).await
}

/// Selectors parsed from the request, or why they could not be. Parsed before the app is known
/// to be the caller's, and refused only after: another tenant's app id answers 7018 whatever
/// else is wrong with the request.
type ParsedSelectors = Result<(Vec<AppProfileSelector>, bool), CompatError>;

/// Reads the app profiles the selectors match, each with its linked customer as OutwardLinks.
/// A lookup by one identifier that matches nothing is 7014.
async fn read(
    state: &AppState,
    principal: &Principal,
    app_id: String,
    parsed: ParsedSelectors,
) -> Result<CompatResponse, CompatError> {
    let tenant = app_scope(state, principal, &app_id)?;
    let (selectors, single) = parsed?;
    let tenant_id = &tenant.tenant.tenant_id;
    let app_id = AppId::parse(app_id)?;
    let mut profiles = Vec::new();
    for selector in &selectors {
        profiles.extend(
            state
                .store
                .find_app_profiles(tenant_id, &app_id, selector)
                .await?,
        );
    }
    if single && profiles.is_empty() {
        return Err(CompatError::new(Code::NotFound, "App profile not found"));
    }
    let mut linked_ids: Vec<CustomerId> = profiles
        .iter()
        .filter_map(|p| p.customer_id.clone())
        .collect();
    linked_ids.sort();
    linked_ids.dedup();
    let (linked, custom_ids) = state
        .store
        .get_customers_with_attribute_ids(tenant_id, &linked_ids)
        .await?;
    let customers: HashMap<CustomerId, _> = linked
        .into_iter()
        .map(|customer| (customer.customer_id.clone(), customer))
        .collect();
    let records = profiles
        .iter()
        .map(|profile| {
            let customer = profile
                .customer_id
                .as_ref()
                .and_then(|id| customers.get(id));
            ReadRecord {
                attributes: app_profile_attributes(profile),
                inward_links: Vec::new(),
                outward_links: outward_links(&tenant.tenant, customer, &custom_ids),
            }
        })
        .collect();
    Ok(read_envelope(&new_transid(), records))
}

/// `?identifier=<userId>` or `?customerId=a&customerId=b`.
fn query_selectors(query: &QueryParams) -> ParsedSelectors {
    let users = query.all("identifier");
    let customers = query.all("customerId");
    check_batch_size(users.len() + customers.len())?;
    let mut selectors = Vec::new();
    for user in &users {
        selectors.push(AppProfileSelector::User(UserId::parse(user.clone())?));
    }
    for customer in &customers {
        selectors.push(AppProfileSelector::Customer(CustomerId::parse(
            customer.clone(),
        )?));
    }
    if selectors.is_empty() {
        return Err(CompatError::new(
            Code::MandatoryMissing,
            "Mandatory parameters missing: identifier or customerId",
        ));
    }
    let single = users.len() == 1 && customers.is_empty();
    Ok((selectors, single))
}

pub async fn get_by_query(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<CompatResponse, CompatError> {
    let parsed = query_selectors(&QueryParams::parse(query.as_deref()));
    read(&state, &principal, app_id, parsed).await
}

pub async fn get_by_customer(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((app_id, customer_id)): Path<(String, String)>,
) -> Result<CompatResponse, CompatError> {
    let parsed = CustomerId::parse(customer_id)
        .map(|id| (vec![AppProfileSelector::Customer(id)], true))
        .map_err(CompatError::from);
    read(&state, &principal, app_id, parsed).await
}

fn selector_ref(selector: &AppProfileSelector) -> RecordRef {
    let text = |value: &dyn ToString| Some(value.to_string());
    match selector {
        AppProfileSelector::Device { user_id, device_id } => RecordRef {
            user_id: text(user_id),
            device_id: text(device_id),
            ..RecordRef::default()
        },
        AppProfileSelector::User(user_id) => RecordRef {
            user_id: text(user_id),
            ..RecordRef::default()
        },
        AppProfileSelector::Customer(customer_id) => RecordRef {
            customer_id: text(customer_id),
            ..RecordRef::default()
        },
        AppProfileSelector::DeviceOfCustomer {
            device_id,
            customer_id,
        } => RecordRef {
            customer_id: text(customer_id),
            device_id: text(device_id),
            ..RecordRef::default()
        },
    }
}

async fn delete(
    state: &AppState,
    principal: &Principal,
    app_id: String,
    parsed: ParsedSelectors,
) -> Result<CompatResponse, CompatError> {
    let tenant = app_scope(state, principal, &app_id)?;
    let (selectors, _) = parsed?;
    let app_id = AppId::parse(app_id)?;
    let records = selectors
        .into_iter()
        .map(|selector| (selector_ref(&selector), Ok(selector)))
        .collect();
    let transid = new_transid();
    let outcome = state
        .store
        .delete_app_profiles(&tenant.tenant.tenant_id, &transid, &app_id, records)
        .await?;
    Ok(write_envelope(&transid, &outcome, NotFoundCode::Standard))
}

pub async fn delete_by_query(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<CompatResponse, CompatError> {
    let parsed = query_selectors(&QueryParams::parse(query.as_deref()));
    delete(&state, &principal, app_id, parsed).await
}

pub async fn delete_by_customer(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((app_id, customer_id)): Path<(String, String)>,
) -> Result<CompatResponse, CompatError> {
    let parsed = CustomerId::parse(customer_id)
        .map(|id| (vec![AppProfileSelector::Customer(id)], true))
        .map_err(CompatError::from);
    delete(&state, &principal, app_id, parsed).await
}

pub async fn delete_device(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((app_id, user_id, device_id)): Path<(String, String, String)>,
) -> Result<CompatResponse, CompatError> {
    let parsed = (|| {
        let selector = AppProfileSelector::Device {
            user_id: UserId::parse(user_id)?,
            device_id: DeviceId::parse(device_id)?,
        };
        Ok((vec![selector], true))
    })();
    delete(&state, &principal, app_id, parsed).await
}

/// §4.13: one device id among the installs linked to `?customerId=`.
pub async fn delete_device_of_customer(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((app_id, device_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<CompatResponse, CompatError> {
    let parsed = (|| {
        let customer_id = QueryParams::parse(query.as_deref())
            .first("customerId")
            .ok_or_else(|| {
                CompatError::new(
                    Code::MandatoryMissing,
                    "Mandatory parameters missing: customerId",
                )
            })?;
        let selector = AppProfileSelector::DeviceOfCustomer {
            device_id: DeviceId::parse(device_id)?,
            customer_id: CustomerId::parse(customer_id)?,
        };
        Ok((vec![selector], true))
    })();
    delete(&state, &principal, app_id, parsed).await
}
