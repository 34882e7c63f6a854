use super::*;
use crate::schema::AttributeType;

fn id(raw: &str) -> CustomerId {
    CustomerId::parse(raw).unwrap()
}

fn text(name: &str, value: &str) -> RawAttribute {
    (name.to_owned(), AttributeValue::Text(value.to_owned()))
}

fn definition(id: i64, name: &str, attribute_type: AttributeType) -> AttributeDefinition {
    AttributeDefinition::new(id, name, attribute_type)
}

fn schema() -> Schema {
    Schema::new([
        definition(1001, "city", AttributeType::String),
        definition(1002, "balance", AttributeType::Decimal),
        definition(1003, "date_of_birth", AttributeType::Date),
    ])
}

fn patch(customer: &str, raw: Vec<RawAttribute>) -> CustomerPatch {
    CustomerPatch::parse(id(customer), raw, &schema()).unwrap()
}

#[test]
fn default_names_are_canonicalised_and_flags_normalised() {
    let patch = patch(
        "C-1",
        vec![text("Email", "a@example.org"), text("sms", "true")],
    );
    let (profile, event) = create(None, &patch, &schema(), Utc::now()).unwrap();
    assert_eq!(profile.email(), Some("a@example.org"));
    assert_eq!(profile.attributes["sms"], "1");
    assert_eq!(event.event_type, EventType::CustomerCreated);
    assert_eq!(event.changes.len(), 2);
}

#[test]
fn typed_attributes_are_stored_canonically_and_unknown_ones_refused() {
    let patch = patch(
        "C-1",
        vec![
            text("balance", "12.50"),
            text("date_of_birth", "1990-04-01"),
        ],
    );
    let (profile, _) = create(None, &patch, &schema(), Utc::now()).unwrap();
    assert_eq!(profile.attributes["balance"], "12.5");
    let refused = CustomerPatch::parse(id("C-1"), vec![text("favourite", "x")], &schema());
    assert!(
        matches!(refused, Err(DomainError::InvalidAttribute { attribute, .. }) if attribute == "favourite")
    );
    let mistyped = CustomerPatch::parse(id("C-1"), vec![text("balance", "lots")], &schema());
    assert!(
        matches!(mistyped, Err(DomainError::InvalidAttribute { reason, .. }) if reason.contains("decimal"))
    );
}

#[test]
fn required_attributes_and_defaults_apply_on_create() {
    let mut tier = definition(1004, "tier", AttributeType::Enum);
    tier.values = vec!["gold".into(), "basic".into()];
    tier.default = Some("basic".into());
    let mut country = definition(1005, "country", AttributeType::String);
    country.required = true;
    let schema = Schema::new([tier, country]);
    let missing = CustomerPatch::parse(id("C-1"), vec![], &schema).unwrap();
    assert!(create(None, &missing, &schema, Utc::now()).is_err());
    let given = CustomerPatch::parse(id("C-1"), vec![text("country", "UK")], &schema).unwrap();
    let (profile, _) = create(None, &given, &schema, Utc::now()).unwrap();
    assert_eq!(profile.attributes["tier"], "basic");
    let cleared = CustomerPatch::parse(
        id("C-1"),
        vec![("country".into(), AttributeValue::Clear)],
        &schema,
    );
    assert!(cleared.is_err());
}

#[test]
fn stored_value_changes_are_the_difference_of_the_full_entries() {
    let before = patch(
        "C-1",
        vec![
            text("city", "Paris"),
            text("balance", "9.99"),
            text("date_of_birth", "1990-01-01"),
            text("name", "Ann"),
        ],
    );
    let (before, _) = create(None, &before, &schema(), Utc::now()).unwrap();
    let change = patch(
        "C-1",
        vec![
            text("balance", "10"),
            ("date_of_birth".into(), AttributeValue::Clear),
            text("name", "Bea"),
        ],
    );
    let update = update(Some(&before), &change).unwrap().unwrap();
    let (removed, written) = update.stored_value_changes(&schema());
    let mut after = before.clone();
    update.apply(&mut after, Utc::now());
    let (old, new) = (
        stored_values(&before, &schema()),
        stored_values(&after, &schema()),
    );
    let full_written: Vec<_> = new.iter().filter(|v| !old.contains(v)).cloned().collect();
    assert_eq!(written, full_written);
    assert_eq!(removed, vec![1003], "the date of birth's entry goes");
    assert_eq!(
        written.iter().map(|v| v.attribute_id).collect::<Vec<_>>(),
        vec![1002],
        "only the balance moved: the city kept its text, the name has no entry"
    );
}

#[test]
fn unique_values_are_the_unique_attributes_entries_only() {
    let mut loyalty = definition(1004, "loyalty_id", AttributeType::String);
    loyalty.unique = true;
    let mut definitions: Vec<_> = schema().definitions().cloned().collect();
    definitions.push(loyalty);
    let schema = Schema::new(definitions);
    let raw = vec![
        text("city", "Paris"),
        text("balance", "9.99"),
        text("loyalty_id", "L-7"),
    ];
    let patch = CustomerPatch::parse(id("C-1"), raw, &schema).unwrap();
    let (profile, _) = create(None, &patch, &schema, Utc::now()).unwrap();
    let unique = unique_values(&profile, &schema);
    assert_eq!(
        unique.iter().map(|v| v.attribute_id).collect::<Vec<_>>(),
        vec![1004]
    );
    let from_all: Vec<_> = stored_values(&profile, &schema)
        .into_iter()
        .filter(|v| v.unique)
        .collect();
    assert_eq!(unique, from_all);
}

#[test]
fn an_implicit_attribute_has_no_entry_until_a_definition_adopts_it() {
    let mut definitions: Vec<_> = schema().definitions().cloned().collect();
    definitions.push(AttributeDefinition::implicit_string(1004, "nickname"));
    let open = Schema::new(definitions);
    let raw = vec![text("city", "Paris"), text("nickname", "Nan")];
    let patch = CustomerPatch::parse(id("C-1"), raw, &open).unwrap();
    let (before, _) = create(None, &patch, &open, Utc::now()).unwrap();
    let entries = |p: &CustomerProfile, schema: &Schema| -> Vec<i64> {
        stored_values(p, schema)
            .iter()
            .map(|v| v.attribute_id)
            .collect()
    };
    assert_eq!(entries(&before, &open), vec![1001]);
    let renamed = CustomerPatch::parse(id("C-1"), vec![text("nickname", "Bea")], &open).unwrap();
    let update = update(Some(&before), &renamed).unwrap().unwrap();
    let mut after = before.clone();
    update.clone().apply(&mut after, Utc::now());
    assert_eq!(
        update.stored_value_changes(&open),
        (vec![], vec![]),
        "changing an implicit value moves no entry"
    );

    let mut adopted: Vec<_> = schema().definitions().cloned().collect();
    adopted.push(definition(1004, "nickname", AttributeType::String));
    assert_eq!(entries(&after, &Schema::new(adopted)), vec![1001, 1004]);
}

#[test]
fn stored_values_carry_the_typed_order() {
    let low = patch("C-1", vec![text("balance", "9.99")]);
    let high = patch("C-2", vec![text("balance", "10")]);
    let (low, _) = create(None, &low, &schema(), Utc::now()).unwrap();
    let (high, _) = create(None, &high, &schema(), Utc::now()).unwrap();
    let key = |p: &CustomerProfile| stored_values(p, &schema())[0].sort_key.clone();
    assert!(
        key(&low) < key(&high),
        "9.99 sorts before 10 as numbers, not as text"
    );
}

#[test]
fn an_open_schema_accepts_any_well_named_attribute_as_text() {
    let open = Schema::default();
    let patch = CustomerPatch::parse(id("C-1"), vec![text("favourite", "blue")], &open).unwrap();
    assert_eq!(
        patch.unregistered_names(&open).collect::<Vec<_>>(),
        ["favourite"]
    );
    assert!(CustomerPatch::parse(id("C-1"), vec![text("1bad", "x")], &open).is_err());
    let implicit = Schema::new([AttributeDefinition::implicit_string(1001, "favourite")]);
    assert!(!implicit.is_closed());
    assert!(CustomerPatch::parse(id("C-1"), vec![text("other", "x")], &implicit).is_ok());
}

#[test]
fn lookup_keys_ignore_email_case_and_msisdn_formatting() {
    assert_eq!(email_key("Ann@Example.org"), "ann@example.org");
    assert_eq!(
        msisdn_key("44 7700 900001").as_deref(),
        Some("+447700900001")
    );
    assert_eq!(msisdn_key("nope"), None);
}

#[test]
fn malformed_email_is_refused() {
    let result = CustomerPatch::parse(id("C-1"), vec![text("email", "nope")], &schema());
    assert!(
        matches!(result, Err(DomainError::InvalidAttribute { attribute, .. }) if attribute == "email")
    );
}

#[test]
fn customer_id_in_attributes_must_match() {
    assert!(CustomerPatch::parse(id("C-1"), vec![text("customerid", "C-1")], &schema()).is_ok());
    assert!(CustomerPatch::parse(id("C-1"), vec![text("customerId", "C-2")], &schema()).is_err());
}

#[test]
fn create_twice_is_already_exists() {
    let patch = patch("C-1", vec![]);
    let (profile, _) = create(None, &patch, &schema(), Utc::now()).unwrap();
    assert_eq!(
        create(Some(&profile), &patch, &schema(), Utc::now()).unwrap_err(),
        DomainError::AlreadyExists {
            kind: ProfileKind::Customer
        }
    );
}

#[test]
fn update_is_partial_and_silent_when_nothing_changes() {
    let created = patch("C-1", vec![text("name", "Ann"), text("city", "Leeds")]);
    let (profile, _) = create(None, &created, &schema(), Utc::now()).unwrap();
    let same = patch("C-1", vec![text("name", "Ann"), text("city", "Leeds")]);
    assert_eq!(update(Some(&profile), &same).unwrap(), None);

    // Out of name order, with one unchanged value and a new attribute.
    let rename = patch(
        "C-1",
        vec![
            text("name", "Bea"),
            text("balance", "12.50"),
            ("city".into(), AttributeValue::Clear),
            text("sms", "1"),
        ],
    );
    let mut updated = profile.clone();
    let now = Utc::now();
    let event = update(Some(&profile), &rename)
        .unwrap()
        .unwrap()
        .apply(&mut updated, now);
    assert_eq!(updated.version, 2);
    assert_eq!(updated.updated_at, now);
    assert_eq!(updated.attributes.get("city"), None);
    assert!(updated.attributes.contains_key("balance"));
    assert_eq!(updated.attributes["name"], "Bea");
    assert_eq!(event.profile_version, 2);
    // The event is what a comparison of the two profiles finds, in name order.
    assert_eq!(
        event.changes,
        crate::change::diff(&profile.attributes, &updated.attributes)
    );
    assert_eq!(
        event
            .changes
            .iter()
            .map(|c| c.attribute.as_str())
            .collect::<Vec<_>>(),
        ["balance", "city", "name", "sms"]
    );
}

#[test]
fn an_update_is_held_to_the_limit_of_custom_attributes() {
    let full: Vec<_> = (0..MAX_CUSTOM_ATTRIBUTES)
        .map(|n| text(&format!("own{n}"), "v"))
        .collect();
    let open = Schema::new(Vec::new());
    let created = CustomerPatch::parse(id("C-1"), full, &open).unwrap();
    let (profile, _) = create(None, &created, &open, Utc::now()).unwrap();
    // A default attribute does not count; one more custom attribute does, unless another goes.
    let named = patch("C-1", vec![text("name", "Ann")]);
    assert!(update(Some(&profile), &named).unwrap().is_some());
    let one_more = CustomerPatch::parse(id("C-1"), vec![text("extra", "v")], &open).unwrap();
    assert!(update(Some(&profile), &one_more).is_err());
    let swapped = CustomerPatch::parse(
        id("C-1"),
        vec![text("extra", "v"), ("own0".into(), AttributeValue::Clear)],
        &open,
    )
    .unwrap();
    assert!(update(Some(&profile), &swapped).unwrap().is_some());
}

#[test]
fn update_of_missing_customer_is_not_found() {
    let patch = patch("C-9", vec![]);
    assert!(matches!(
        update(None, &patch),
        Err(DomainError::NotFound { .. })
    ));
}

#[test]
fn a_profile_holds_at_most_the_limit_of_custom_attributes_whatever_its_defaults() {
    let custom = |count: usize| (0..count).map(|n| (format!("own{n}"), "v".to_owned()));
    let defaults = DEFAULT_ATTRIBUTES
        .iter()
        .map(|attribute| (attribute.name.to_owned(), "v".to_owned()));
    let at_limit: BTreeMap<String, String> = custom(MAX_CUSTOM_ATTRIBUTES).collect();
    assert!(check_size(&at_limit).is_ok());
    // More attributes than the limit in all, but only the limit of them custom.
    let with_defaults: BTreeMap<String, String> =
        custom(MAX_CUSTOM_ATTRIBUTES).chain(defaults).collect();
    assert!(with_defaults.len() > MAX_CUSTOM_ATTRIBUTES);
    assert!(check_size(&with_defaults).is_ok());
    let over: BTreeMap<String, String> = custom(MAX_CUSTOM_ATTRIBUTES + 1).collect();
    assert!(check_size(&over).is_err());
}
