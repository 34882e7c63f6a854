//! The store conformance suite: what every [`Store`](profilestore_store::Store) backend must do,
//! written once and run against each backend.
//!
//! # Layout
//! - `harness`: one function per backend that opens a fresh, empty store (or skips).
//! - `support`: builders for tenants, records, selectors and batch writes.
//! - `tenants`, `apps`, `customers`, `app_profiles`, `app_profile_deletes`, `events`,
//!   `delivery`, `outcomes`, `lookups`, `schema`, `sdk`, `isolation`: the
//!   behaviours, each an `async fn name(store: Arc<dyn Store>)` that arranges, acts and asserts
//!   on a store it alone uses.
//!
//! The `conformance_suite!` invocation at the bottom lists every test once; it becomes one
//! `#[tokio::test]` per backend, named `<backend>::<module>::<test>` (so
//! `cargo test -p profilestore-store --test conformance sqlite::customers` runs one group).
//! A behaviour not listed there is dead code, which `clippy -D warnings` refuses.

mod harness;
mod support;

mod app_profile_deletes;
mod app_profiles;
mod apps;
mod customers;
mod delivery;
mod events;
mod isolation;
mod lookups;
mod outcomes;
mod schema;
mod sdk;
mod tenants;

/// Instantiates every listed test for one backend: a module named after the backend whose tests
/// open a store with `harness::<backend>()`, run the behaviour, and close the store. Attributes
/// written before a test's name (`#[ignore = "why"]`) are put on each of its instances.
macro_rules! backend_tests {
    ($backend:ident { $($module:ident { $($(#[$attr:meta])* $test:ident),* $(,)? })* }) => {
        mod $backend {
            $(
                mod $module {
                    $(
                        #[tokio::test]
                        $(#[$attr])*
                        async fn $test() {
                            let Some(opened) = crate::harness::$backend().await else {
                                return;
                            };
                            crate::$module::$test(opened.store.clone()).await;
                            opened.close().await;
                        }
                    )*
                }
            )*
        }
    }
}

/// The whole suite, once per backend named in `backends`.
macro_rules! conformance_suite {
    (backends: [$($backend:ident),* $(,)?]; tests: $tests:tt) => {
        $( backend_tests!($backend $tests); )*
    };
}

conformance_suite! {
    backends: [sqlite, postgres];
    tests: {
        tenants {
            create_tenant_returns_it_with_default_settings,
            duplicate_tenant_name_is_a_conflict,
            find_tenant_by_id,
            find_tenant_by_name,
            find_unknown_tenant_is_none,
            created_tenant_reads_back_identically,
            list_tenants_returns_every_tenant,
            store_numbers_are_distinct_per_tenant,
            new_tenant_has_its_first_profile_key_current,
            settings_version_increases_on_each_admin_change,
            settings_version_is_the_snapshot_version,
            set_allowed_ips_is_visible_in_access_snapshot,
            set_rate_limit_is_visible_in_access_snapshot,
            settings_of_an_unknown_tenant_are_not_found,
            rotate_profile_key_makes_the_new_key_current,
            rotate_profile_key_retires_the_old_key_at_the_retire_time,
            rotate_profile_key_does_not_extend_an_earlier_expiry,
            rotate_profile_key_can_shorten_a_later_expiry,
            rotate_profile_key_of_an_unknown_tenant_is_not_found,
            access_snapshot_excludes_expired_keys,
            access_snapshot_holds_tenants_and_apps,
            ping_answers,
        }
        apps {
            create_app_returns_it_and_lists_it,
            created_app_reads_back_identically,
            same_app_id_again_is_a_conflict,
            same_app_id_from_another_tenant_is_a_conflict,
            create_app_for_an_unknown_tenant_is_not_found,
            list_apps_is_scoped_to_the_tenant,
        }
        customers {
            create_customer_stores_its_attributes,
            create_twice_in_one_batch_refuses_only_the_second,
            create_existing_customer_is_already_exists_and_keeps_it,
            update_is_partial,
            two_updates_in_one_batch_both_apply,
            update_keeps_created_at,
            update_can_clear_an_attribute,
            update_of_missing_customer_is_not_found_and_creates_nothing,
            get_customers_keeps_the_requested_order_and_skips_missing,
            delete_then_get_finds_nothing,
            delete_twice_in_one_batch_refuses_only_the_second,
            delete_of_missing_customer_is_not_found,
            refused_records_are_kept_in_the_outcome_and_change_nothing,
            refused_delete_records_are_kept_in_the_outcome_and_delete_nothing,
            custom_attribute_ids_start_at_1001_in_first_use_order,
            custom_attribute_ids_are_never_reassigned,
            customers_come_with_their_tenants_attribute_ids,
            custom_attribute_ids_are_per_tenant,
        }
        app_profiles {
            register_creates_an_app_profile,
            register_twice_is_already_exists,
            register_then_update_in_one_batch_both_apply,
            refused_records_are_kept_in_the_outcome_and_change_nothing,
            register_with_link_to_unknown_customer_creates_the_customer,
            register_with_link_to_existing_customer_keeps_the_customer,
            update_by_device_changes_only_that_install,
            update_by_user_changes_every_device_of_the_user,
            update_by_customer_changes_every_linked_install,
            update_by_device_of_customer_changes_only_that_install,
            update_with_no_match_is_not_found,
            update_with_link_moves_the_link,
            find_by_each_selector,
            find_is_scoped_to_the_app,
            linked_app_profiles_span_every_app,
        }
        app_profile_deletes {
            delete_by_device_removes_only_that_install,
            delete_by_user_removes_every_device_of_the_user,
            delete_by_customer_removes_linked_installs_and_keeps_the_customer,
            delete_by_device_of_customer_removes_only_that_install,
            delete_with_no_match_is_not_found,
            deleting_a_customer_unlinks_its_app_profiles,
        }
        delivery {
            a_webhook_starts_after_the_events_written_before_it,
            a_claim_is_exclusive_and_only_its_holder_saves,
            a_change_takes_the_lease_and_replay_moves_the_cursor,
            webhooks_are_per_tenant,
            any_webhook_enabled_looks_at_every_tenant_and_only_enabled_webhooks,
            relay_cursors_are_leased_per_tenant,
            retention_keeps_what_an_enabled_webhook_has_not_passed,
            a_commit_with_events_rings_its_tenants_bell,
        }
        events {
            create_customer_writes_a_created_event,
            each_customer_mutation_writes_its_event,
            each_app_profile_mutation_writes_its_event,
            deleting_a_customer_writes_unlink_events,
            seqs_start_at_1_and_are_gapless_across_writes,
            concurrent_writes_keep_seqs_gapless,
            tenants_have_independent_sequences,
            payload_carries_the_event_document,
            stored_event_columns_match_the_payload,
            update_that_changes_nothing_writes_no_event,
            refused_records_write_no_event,
            events_after_pages_through_the_log,
        }
        outcomes {
            write_outcome_is_the_outcome_the_customer_write_returned,
            write_outcome_is_kept_for_each_kind_of_write,
            unknown_transid_has_no_outcome,
            another_tenant_cannot_read_an_outcome,
            same_transid_in_two_tenants_keeps_both_outcomes,
            prune_keeps_outcomes_younger_than_a_day,
            prune_after_a_day_removes_the_outcome,
        }
        lookups {
            customers_are_found_by_email,
            customers_are_found_by_msisdn_and_an_old_value_no_longer_matches,
            customer_lookups_stay_within_the_tenant,
            app_profiles_are_found_by_push_id,
        }
        schema {
            definitions_get_ids_from_1001_and_read_back,
            a_closed_schema_refuses_unknown_and_mistyped_values_and_stores_canonical_forms,
            an_open_schema_registers_written_attributes_implicitly,
            adopting_an_implicit_attribute_types_every_holders_value,
            defining_an_implicit_attribute_adopts_it_and_canonicalises_stored_values,
            a_definition_that_stored_values_break_is_refused_with_count_and_sample,
            unique_values_are_refused_on_write_and_found_by_value,
            a_customers_typed_entry_follows_its_value_through_updates_and_clears,
            making_an_attribute_unique_checks_for_repeats,
            lookups_by_value_find_the_values_of_unique_attributes,
            tightening_a_constraint_is_checked_against_stored_values,
            the_type_never_changes,
            a_required_attribute_needs_a_default_while_profiles_lack_it,
            retiring_refuses_writes_keeps_values_and_purging_removes_them,
            read_attribute_ids_follow_every_change_of_the_tenants_ids,
            schemas_belong_to_their_tenant,
        }
        sdk {
            app_settings_round_trip_and_show_in_the_snapshot,
            updating_another_tenants_app_is_not_found,
            register_is_idempotent_and_another_user_replaces_the_old,
            multi_user_devices_keep_every_user,
            set_customer_id_creates_the_customer_and_links,
            set_user_id_moves_the_install,
            expiry_deletes_installs_without_recent_contact,
            writes_through_the_compatible_api_are_no_contact_and_keep_the_last,
            a_contact_within_the_resolution_keeps_the_stored_one,
            expiry_waits_out_the_contacts_resolution,
            readings_the_policy_does_not_enable_are_ignored,
            single_device_per_user_unregisters_the_users_other_devices,
        }
        isolation {
            customers_are_invisible_to_another_tenant,
            same_customer_id_in_two_tenants_is_two_customers,
            another_tenant_cannot_update_or_delete_a_customer,
            app_profiles_are_invisible_to_another_tenant,
            another_tenant_cannot_update_or_delete_app_profiles,
            linked_app_profiles_are_invisible_to_another_tenant,
            events_are_invisible_to_another_tenant,
        }
    }
}
