//! The compatible API's envelopes: §3.1 for writes and deletes, §3.3 for reads.
//!
//! Each envelope is a struct written straight into the response body, borrowing the
//! profiles it shows: building a `serde_json::Value` tree first (an owned copy of every name
//! and value) and serializing that was ~15 % of the server's CPU in a read, measured. Both
//! are written through core's `json_writer` (which says why).

use super::codes::{Code, describe};
use crate::api::json_text;
use axum::http::StatusCode;
use axum::response::Response;
use profilestore_core::DomainError;
use profilestore_core::app_profile::AppProfile;
use profilestore_core::app_profile::catalogue::{CATALOGUE, IDENTITY_ATTRIBUTES};
use profilestore_core::batch::BatchOutcome;
use profilestore_core::customer::{CustomerProfile, DEFAULT_ATTRIBUTES};
use profilestore_core::json_writer::JsonWriter;
use profilestore_store::model::Tenant;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

pub type CompatResponse = Response;

/// How an operation names a record that was not found: 7203 for customer deletes (§4.4).
#[derive(Clone, Copy)]
pub enum NotFoundCode {
    Standard,
    CustomerDelete,
}

fn record_code(error: &DomainError, not_found: NotFoundCode) -> (Code, String) {
    match (error, not_found) {
        (DomainError::NotFound { .. }, NotFoundCode::CustomerDelete) => (
            Code::CustomerNotFoundOnDelete,
            "Customer not found".to_owned(),
        ),
        _ => describe(error),
    }
}

/// §3.1's per-record result.
struct RecordResult<'a> {
    code: &'static str,
    description: Cow<'static, str>,
    customer_id: Option<&'a str>,
    user_id: Option<&'a str>,
    device_id: Option<&'a str>,
}

impl RecordResult<'_> {
    /// `{"code","description"}` and whichever of the record's ids it has.
    fn render(&self, json: &mut JsonWriter) {
        json.raw("{\"code\":");
        json.string(self.code);
        json.raw(",\"description\":");
        json.string(&self.description);
        for (key, id) in [
            (",\"customerId\":", self.customer_id),
            (",\"userId\":", self.user_id),
            (",\"deviceId\":", self.device_id),
        ] {
            if let Some(id) = id {
                json.raw(key);
                json.string(id);
            }
        }
        json.raw("}");
    }
}

/// §3.1's envelope.
struct WriteEnvelope<'a> {
    code: Code,
    description: Cow<'static, str>,
    transid: &'a str,
    total_count: usize,
    success_count: usize,
    failure_count: usize,
    results: Vec<RecordResult<'a>>,
}

impl WriteEnvelope<'_> {
    /// The envelope as JSON text, through `json_writer` as the read envelope: every write
    /// answers with one, and through serde it was ~3 % of a one-record write's instructions.
    fn render(&self) -> Vec<u8> {
        let mut json = JsonWriter::with_capacity(256 + 96 * self.results.len());
        json.raw("{\"code\":");
        json.string(self.code.as_str());
        json.raw(",\"description\":");
        json.string(&self.description);
        json.raw(",\"transid\":");
        json.string(self.transid);
        json.raw(",\"TotalCount\":");
        json.int(self.total_count);
        json.raw(",\"SuccessCount\":");
        json.int(self.success_count);
        json.raw(",\"FailureCount\":");
        json.int(self.failure_count);
        json.raw(",\"Results\":");
        json.array(&self.results, |json, result| result.render(json));
        json.raw("}");
        json.into_bytes()
    }
}

/// §3.1: every record's result and the counters, with the code they add up to: 1000 when
/// every record succeeded, 1002 when some did, and the first failure's own code when none did.
fn write_body<'a>(
    transid: &'a str,
    outcome: &'a BatchOutcome,
    not_found: NotFoundCode,
) -> WriteEnvelope<'a> {
    const SUCCESS: Cow<'static, str> = Cow::Borrowed("SUCCESS");
    let mut first_failure: Option<(Code, Cow<'static, str>)> = None;
    let results: Vec<RecordResult<'_>> = outcome
        .records
        .iter()
        .map(|record| {
            let (code, description) = match &record.error {
                None => (Code::Success, SUCCESS),
                Some(error) => {
                    let (code, description) = record_code(error, not_found);
                    (code, Cow::Owned(description))
                }
            };
            if record.error.is_some() && first_failure.is_none() {
                first_failure = Some((code, description.clone()));
            }
            RecordResult {
                code: code.as_str(),
                description,
                customer_id: record.record.customer_id.as_deref(),
                user_id: record.record.user_id.as_deref(),
                device_id: record.record.device_id.as_deref(),
            }
        })
        .collect();
    let successes = outcome.success_count();
    let (code, description) = match first_failure {
        None => (Code::Success, SUCCESS),
        Some(_) if successes > 0 => (Code::PartialSuccess, Cow::Borrowed("Partial success")),
        Some(failure) => failure,
    };
    WriteEnvelope {
        code,
        description,
        transid,
        total_count: outcome.records.len(),
        success_count: successes,
        failure_count: outcome.failure_count(),
        results,
    }
}

/// The answer to a write or delete: §3.1's envelope, with the HTTP status of its code.
pub fn write_envelope(transid: &str, outcome: &BatchOutcome, not_found: NotFoundCode) -> Response {
    let body = write_body(transid, outcome, not_found);
    json_text(body.code.status(), body.render())
}

/// The answer to a status lookup (§4.5) that found the write: its envelope again, with 200
/// whatever the write's own code was (the lookup itself succeeded).
pub fn write_status(transid: &str, outcome: &BatchOutcome) -> Response {
    let body = write_body(transid, outcome, NotFoundCode::Standard);
    json_text(StatusCode::OK, body.render())
}

/// §3.3's envelope around the records of a successful read.
pub struct ReadEnvelope<'a> {
    transid: &'a str,
    records: Vec<ReadRecord<'a>>,
}

impl<'a> ReadEnvelope<'a> {
    pub fn new(transid: &'a str, records: Vec<ReadRecord<'a>>) -> Self {
        ReadEnvelope { transid, records }
    }

    /// The envelope as JSON text (`json_writer` says why not through serde).
    pub fn render(&self) -> Vec<u8> {
        let mut json = JsonWriter::with_capacity(1024);
        json.raw("{\"Status\":0,\"Description\":\"success\",\"code\":");
        json.string(Code::Success.as_str());
        json.raw(",\"transid\":");
        json.string(self.transid);
        json.raw(",\"Records\":");
        json.array(&self.records, |json, record| record.render(json));
        json.raw("}");
        json.into_bytes()
    }
}

/// §3.3: a successful read of `records`.
pub fn read_envelope(transid: &str, records: Vec<ReadRecord<'_>>) -> Response {
    json_text(StatusCode::OK, ReadEnvelope::new(transid, records).render())
}

/// One record of a read: a profile's attributes and its links.
pub struct ReadRecord<'a> {
    pub attributes: Vec<Attribute<'a>>,
    pub inward_links: Vec<InwardLink<'a>>,
    pub outward_links: Vec<OutwardLink<'a>>,
}

impl ReadRecord<'_> {
    fn render(&self, json: &mut JsonWriter) {
        json.raw("{\"Attributes\":");
        render_attributes(json, &self.attributes);
        json.raw(",\"InwardLinks\":");
        json.array(&self.inward_links, |json, link| link.render(json));
        json.raw(",\"OutwardLinks\":");
        json.array(&self.outward_links, |json, link| link.render(json));
        json.raw("}");
    }
}

/// `{ "Name", "Value", "ID" }`, the order of §3.3's example.
pub struct Attribute<'a> {
    name: AttributeName<'a>,
    value: &'a str,
}

/// An attribute's name and id: a tenant's own attribute, or one of the fixed ones (default,
/// identity, catalogue) whose JSON around the value is written once (see [`Frame`]).
enum AttributeName<'a> {
    Own { name: &'a str, id: i64 },
    Fixed(&'static Frame),
}

/// The JSON of an attribute around its value, `{"Name":"email","Value":` and `,"ID":103}`,
/// written once for the fixed attributes that every read shows (a customer's 14 default
/// attributes, empty or not): writing name and id again on each read was ~5 % of a
/// one-customer read's instructions (callgrind).
struct Frame {
    open: String,
    close: String,
}

impl Frame {
    fn new(name: &str, id: i64) -> Self {
        let mut open = JsonWriter::with_capacity(32);
        open_attribute(&mut open, name);
        let mut close = JsonWriter::with_capacity(16);
        close_attribute(&mut close, id);
        Frame {
            open: open.into_string(),
            close: close.into_string(),
        }
    }
}

/// Frames of the fixed attributes, in the order of their tables.
static DEFAULT_FRAMES: LazyLock<Vec<Frame>> =
    LazyLock::new(|| frames(DEFAULT_ATTRIBUTES.iter().map(|a| (a.name, a.id))));
static IDENTITY_FRAMES: LazyLock<Vec<Frame>> =
    LazyLock::new(|| frames(IDENTITY_ATTRIBUTES.iter().map(|a| (a.key, a.id))));
static CATALOGUE_FRAMES: LazyLock<Vec<Frame>> =
    LazyLock::new(|| frames(CATALOGUE.iter().map(|a| (a.key, a.id))));

fn frames<'a>(table: impl Iterator<Item = (&'a str, i64)>) -> Vec<Frame> {
    table.map(|(name, id)| Frame::new(name, id)).collect()
}

fn open_attribute(json: &mut JsonWriter, name: &str) {
    json.raw("{\"Name\":");
    json.string(name);
    json.raw(",\"Value\":");
}

fn close_attribute(json: &mut JsonWriter, id: i64) {
    json.raw(",\"ID\":");
    json.int(id);
    json.raw("}");
}

fn render_attributes(json: &mut JsonWriter, attributes: &[Attribute<'_>]) {
    json.array(attributes, |json, attribute| match attribute.name {
        AttributeName::Own { name, id } => {
            open_attribute(json, name);
            json.string(attribute.value);
            close_attribute(json, id);
        }
        AttributeName::Fixed(frame) => {
            json.raw(&frame.open);
            json.string(attribute.value);
            json.raw(&frame.close);
        }
    });
}

fn own_attribute<'a>(name: &'a str, value: &'a str, id: i64) -> Attribute<'a> {
    Attribute {
        name: AttributeName::Own { name, id },
        value,
    }
}

fn fixed_attribute<'a>(frame: &'static Frame, value: &'a str) -> Attribute<'a> {
    Attribute {
        name: AttributeName::Fixed(frame),
        value,
    }
}

/// A customer's attributes: every default column (empty when unset), then the tenant's own
/// attributes in column-id order. One pass over the profile's attributes: a lookup per
/// default attribute was ~6 % of a one-customer read's instructions (callgrind).
pub fn customer_attributes<'a>(
    profile: &'a CustomerProfile,
    custom_ids: &HashMap<String, i64>,
) -> Vec<Attribute<'a>> {
    let default_index = |name: &str| DEFAULT_ATTRIBUTES.iter().position(|a| a.name == name);
    let mut defaults = [""; DEFAULT_ATTRIBUTES.len()];
    // The map holds every attribute but the id, which the profile keeps apart.
    if let Some(index) = default_index("customerId") {
        defaults[index] = profile.customer_id.as_str();
    }
    let mut custom: Vec<(i64, &str, &str)> = Vec::new();
    for (name, value) in &profile.attributes {
        match default_index(name) {
            Some(index) => defaults[index] = value,
            None => {
                if let Some(id) = custom_ids.get(name) {
                    custom.push((*id, name, value));
                }
            }
        }
    }
    custom.sort_unstable();
    let mut attributes = Vec::with_capacity(DEFAULT_ATTRIBUTES.len() + custom.len());
    attributes.extend(
        DEFAULT_FRAMES
            .iter()
            .zip(defaults)
            .map(|(frame, value)| fixed_attribute(frame, value)),
    );
    attributes.extend(
        custom
            .into_iter()
            .map(|(id, name, value)| own_attribute(name, value, id)),
    );
    attributes
}

/// An app profile's identity attributes (appId, userId, deviceId, customerId — "" if unlinked).
fn app_identity(profile: &AppProfile) -> Vec<Attribute<'_>> {
    let values = [
        profile.key.app_id.as_str(),
        profile.key.user_id.as_str(),
        profile.key.device_id.as_str(),
        profile
            .customer_id
            .as_ref()
            .map(|id| id.as_str())
            .unwrap_or_default(),
    ];
    IDENTITY_FRAMES
        .iter()
        .zip(values)
        .map(|(frame, value)| fixed_attribute(frame, value))
        .collect()
}

/// Identity, then every catalogue attribute that has a value, in catalogue order.
pub fn app_profile_attributes(profile: &AppProfile) -> Vec<Attribute<'_>> {
    let mut attributes = app_identity(profile);
    attributes.extend(CATALOGUE.iter().zip(CATALOGUE_FRAMES.iter()).filter_map(
        |(entry, frame)| {
            profile
                .attributes
                .get(entry.key)
                .map(|value| fixed_attribute(frame, value))
        },
    ));
    attributes
}

/// One OutwardLinks entry: the linked customer profile (§3.3: its Records is an array of
/// arrays).
pub struct OutwardLink<'a> {
    profile_id: i64,
    profile_name: String,
    records: [Vec<Attribute<'a>>; 1],
}

impl OutwardLink<'_> {
    fn render(&self, json: &mut JsonWriter) {
        json.raw("{\"ProfileID\":");
        json.int(self.profile_id);
        json.raw(",\"ProfileName\":");
        json.string(&self.profile_name);
        json.raw(",\"Records\":");
        json.array(&self.records, |json, record| {
            render_attributes(json, record)
        });
        json.raw("}");
    }
}

/// OutwardLinks of an app profile: the linked customer profile, if it exists.
pub fn outward_links<'a>(
    tenant: &Tenant,
    customer: Option<&'a CustomerProfile>,
    custom_ids: &HashMap<String, i64>,
) -> Vec<OutwardLink<'a>> {
    customer
        .map(|customer| OutwardLink {
            profile_id: tenant.store_number,
            profile_name: format!("{}_cpms_1", tenant.name),
            records: [customer_attributes(customer, custom_ids)],
        })
        .into_iter()
        .collect()
}

/// One InwardLinks entry: a customer's app profiles in one app.
pub struct InwardLink<'a> {
    app_id: &'a str,
    records: Vec<Vec<Attribute<'a>>>,
}

impl InwardLink<'_> {
    fn render(&self, json: &mut JsonWriter) {
        json.raw("{\"AppId\":");
        json.string(self.app_id);
        json.raw(",\"Records\":");
        json.array(&self.records, |json, record| {
            render_attributes(json, record)
        });
        json.raw("}");
    }
}

/// InwardLinks of a customer: its app profiles grouped by app; level 1 shows their
/// identities, level 2 every attribute.
pub fn inward_links<'a>(linked: &[&'a AppProfile], level: u8) -> Vec<InwardLink<'a>> {
    let mut by_app: Vec<InwardLink<'a>> = Vec::new();
    if level == 0 {
        return by_app;
    }
    for profile in linked {
        let attributes = if level >= 2 {
            app_profile_attributes(profile)
        } else {
            app_identity(profile)
        };
        let app = profile.key.app_id.as_str();
        match by_app.iter_mut().find(|link| link.app_id == app) {
            Some(link) => link.records.push(attributes),
            None => by_app.push(InwardLink {
                app_id: app,
                records: vec![attributes],
            }),
        }
    }
    by_app
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(attributes: &[Attribute<'_>]) -> Vec<u8> {
        let mut json = JsonWriter::with_capacity(0);
        render_attributes(&mut json, attributes);
        json.into_bytes()
    }

    #[test]
    fn a_fixed_attribute_renders_as_the_same_attribute_written_out() {
        let tables = [
            (
                DEFAULT_ATTRIBUTES
                    .iter()
                    .map(|a| (a.name, a.id))
                    .collect::<Vec<_>>(),
                &*DEFAULT_FRAMES,
            ),
            (
                IDENTITY_ATTRIBUTES.iter().map(|a| (a.key, a.id)).collect(),
                &*IDENTITY_FRAMES,
            ),
            (
                CATALOGUE.iter().map(|a| (a.key, a.id)).collect(),
                &*CATALOGUE_FRAMES,
            ),
        ];
        for (names, frames) in tables {
            assert_eq!(names.len(), frames.len());
            for ((name, id), frame) in names.into_iter().zip(frames) {
                let value = "a \"quoted\" value";
                assert_eq!(
                    rendered(&[fixed_attribute(frame, value)]),
                    rendered(&[own_attribute(name, value, id)]),
                    "{name}"
                );
            }
        }
        let read: serde_json::Value =
            serde_json::from_slice(&rendered(&[fixed_attribute(&DEFAULT_FRAMES[2], "a@b.c")]))
                .unwrap();
        assert_eq!(
            read,
            serde_json::json!([{"Name": "email", "Value": "a@b.c", "ID": 103}])
        );
    }

    /// §3.1's shape, key for key: a batch with a success, a refusal with a quote in its id,
    /// and a record naming an install.
    #[test]
    fn a_write_envelope_renders_every_result_with_its_ids_and_the_counts() {
        use profilestore_core::batch::RecordRef;
        use profilestore_core::error::ProfileKind;
        let record = |customer: Option<&str>, user: Option<&str>| RecordRef {
            customer_id: customer.map(str::to_owned),
            user_id: user.map(str::to_owned),
            device_id: user.map(|_| "d1".to_owned()),
        };
        let mut outcome = BatchOutcome::default();
        outcome.push(record(Some("C-1"), None), Ok(()));
        let not_found = DomainError::NotFound {
            kind: ProfileKind::Customer,
        };
        outcome.push(record(Some("C-\"2\""), None), Err(not_found.clone()));
        outcome.push(record(None, Some("u1")), Ok(()));
        let body = write_body("t-1", &outcome, NotFoundCode::CustomerDelete);
        assert_eq!(body.code, Code::PartialSuccess);
        let (refused, description) = record_code(&not_found, NotFoundCode::CustomerDelete);
        let expected = format!(
            concat!(
                r#"{{"code":"1002","description":"Partial success","transid":"t-1","#,
                r#""TotalCount":3,"SuccessCount":2,"FailureCount":1,"Results":["#,
                r#"{{"code":"1000","description":"SUCCESS","customerId":"C-1"}},"#,
                r#"{{"code":"{}","description":"{}","customerId":"C-\"2\""}},"#,
                r#"{{"code":"1000","description":"SUCCESS","userId":"u1","deviceId":"d1"}}]}}"#
            ),
            refused.as_str(),
            description
        );
        assert_eq!(String::from_utf8(body.render()).unwrap(), expected);
    }

    #[test]
    fn a_write_envelope_without_successes_carries_its_first_failure() {
        let mut outcome = BatchOutcome::default();
        outcome.push(
            Default::default(),
            Err(DomainError::BatchTooLarge { max: 100 }),
        );
        let body = write_body("t-2", &outcome, NotFoundCode::Standard);
        let (code, description) = describe(&DomainError::BatchTooLarge { max: 100 });
        assert_eq!(body.code, code);
        let read: serde_json::Value = serde_json::from_slice(&body.render()).unwrap();
        assert_eq!(read["code"], code.as_str());
        assert_eq!(read["description"], description.as_str());
        assert_eq!(read["FailureCount"], 1);
        assert_eq!(
            read["Results"][0],
            serde_json::json!({"code": code.as_str(), "description": description})
        );
    }
}
