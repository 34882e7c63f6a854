//! Each tenant's custom attribute ids (name → id), kept in memory for the compatible reads,
//! which show every custom attribute with its id. Reading them with every customer was a
//! second lookup and a JSON object built and parsed per read (~8 % of a one-customer read's
//! instructions, callgrind); now the read's statement selects only the tenant's
//! `attribute_ids_version` (migration 10: triggers count every change to the tenant's ids),
//! and the map is read again only when that version is not the one kept.
//!
//! The version and the map it is kept under are read by one statement, so they come from
//! one snapshot, and a read uses a kept map only under the version its own statement saw.
//! When the map is read again, it may come from a later snapshot than the read's customers
//! (a connection that keeps no snapshot between statements): a later map names more
//! attributes and never gives an id to another name (see the conformance tests), so the
//! read's attributes keep their ids, except one purged and used again in between, which
//! shows its new id.

use super::raw::{Conn, Value};
use crate::error::StoreResult;
use crate::model::AttributeIds;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

#[derive(Default)]
pub(crate) struct AttributeIdCache {
    /// tenant id → (its `attribute_ids_version`, the ids as of that version).
    by_tenant: RwLock<HashMap<String, (i64, AttributeIds)>>,
}

impl AttributeIdCache {
    /// The tenant's ids as of `version` (read by the caller in its snapshot): the kept map if
    /// it is that version's, else read again on `conn` and kept.
    pub(crate) fn get(
        &self,
        conn: &mut Conn,
        tenant: &str,
        version: i64,
    ) -> StoreResult<AttributeIds> {
        if let Some((kept_version, ids)) = self
            .by_tenant
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(tenant)
            && *kept_version == version
        {
            return Ok(ids.clone());
        }
        let (version, ids) = read_ids(conn, tenant)?;
        let ids = Arc::new(ids);
        if let Some(version) = version {
            self.by_tenant
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(tenant.to_owned(), (version, ids.clone()));
        }
        Ok(ids)
    }
}

/// The tenant's version and ids, in one statement (one snapshot); no version when the tenant
/// is gone. Also what [`crate::Store::custom_attribute_ids`] answers.
pub(crate) fn read_ids(
    conn: &mut Conn,
    tenant: &str,
) -> StoreResult<(Option<i64>, HashMap<String, i64>)> {
    let rows = conn.query(
        "SELECT t.attribute_ids_version, a.name, a.id FROM tenants t \
         LEFT JOIN custom_attributes a ON a.tenant_id = t.tenant_id WHERE t.tenant_id = ?",
        &[Value::from(tenant)],
        |row| {
            let attribute = row.text_opt(1)?.map(|name| (name.to_owned(), row.int(2)));
            Ok((row.int(0), attribute))
        },
    )?;
    let version = rows.first().map(|(version, _)| *version);
    let ids = rows
        .into_iter()
        .filter_map(|(_, attribute)| attribute)
        .collect();
    Ok((version, ids))
}
