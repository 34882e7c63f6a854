//! `profilestore schema ...` mirrors /v1/customer-attributes for scripts.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_profilestore");

fn run(data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("PROFILESTORE_DATA_DIR", data_dir)
        .env_remove("PROFILESTORE_SECRET")
        .env_remove("PROFILESTORE_DATABASE_URL")
        .env_remove("PROFILESTORE_CONFIG")
        .output()
        .expect("the binary runs")
}

fn json(output: std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON document")
}

#[test]
fn schema_commands_add_list_show_and_retire() {
    let dir = tempfile::tempdir().unwrap();
    json(run(dir.path(), &["tenant", "create", "acme", "--json"]));

    let balance = json(run(
        dir.path(),
        &[
            "schema",
            "add",
            "--tenant",
            "acme",
            "--name",
            "balance",
            "--type",
            "decimal",
            "--min",
            "-10",
            "--default",
            "0.50",
        ],
    ));
    let tier = json(run(
        dir.path(),
        &[
            "schema",
            "add",
            "--tenant",
            "acme",
            "--name",
            "tier",
            "--type",
            "enum",
            "--values",
            "gold,silver",
        ],
    ));
    let listed = json(run(
        dir.path(),
        &["schema", "list", "--tenant", "acme", "--json"],
    ));
    let shown = json(run(
        dir.path(),
        &["schema", "show", "--tenant", "acme", "tier"],
    ));
    let retired = json(run(
        dir.path(),
        &["schema", "retire", "--tenant", "acme", "tier"],
    ));

    assert_eq!(balance["id"], 1001);
    assert_eq!(balance["default"], "0.5", "defaults are stored canonically");
    assert_eq!(tier["values"], serde_json::json!(["gold", "silver"]));
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(shown, tier);
    assert_eq!(retired["retired"], true);
}

#[test]
fn schema_refusals_name_the_field_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    json(run(dir.path(), &["tenant", "create", "acme", "--json"]));

    let misplaced = run(
        dir.path(),
        &[
            "schema",
            "add",
            "--tenant",
            "acme",
            "--name",
            "x",
            "--type",
            "decimal",
            "--pattern",
            "a",
        ],
    );
    let unknown_type = run(
        dir.path(),
        &[
            "schema", "add", "--tenant", "acme", "--name", "x", "--type", "float",
        ],
    );
    let missing = run(
        dir.path(),
        &["schema", "show", "--tenant", "acme", "nothing"],
    );

    assert!(!misplaced.status.success());
    assert!(String::from_utf8_lossy(&misplaced.stderr).contains("pattern: applies to string"));
    assert!(!unknown_type.status.success());
    assert!(!missing.status.success());
}
