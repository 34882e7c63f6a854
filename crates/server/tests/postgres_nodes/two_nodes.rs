//! Two real server processes on one PostgreSQL database, started together, with the same
//! server secret and nothing else in common: what one node writes the other reads at once,
//! admin changes reach both within 5 seconds, and concurrent writes through both leave the
//! tenant's event log gapless and in commit order.

use crate::support::{
    ServerProcess, TestDatabase, http_client, postgres_server, profilestore_command,
};
use crate::{code_for_key, on_every_node_within_five_seconds};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Command;
use tempfile::TempDir;

/// Two nodes on a fresh database. Fields drop in order: the nodes are killed before the
/// database is dropped.
pub struct Cluster {
    pub a: ServerProcess,
    pub b: ServerProcess,
    dir: TempDir,
    secret: String,
    database: TestDatabase,
}

pub struct CreatedTenant {
    pub tenant_id: String,
    pub key: String,
}

impl Cluster {
    /// `None` (the test returns) when PostgreSQL is not configured.
    pub async fn start() -> Option<Self> {
        Self::start_with(&[]).await
    }

    /// As [`Cluster::start`], with these environment variables on both nodes.
    pub async fn start_with(env: &[(&str, &str)]) -> Option<Self> {
        let database = TestDatabase::create(&postgres_server()?).await;
        let dir = tempfile::tempdir().expect("temp dir");
        // Any string of 32 or more characters; every node and admin command must share it.
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let command = |node: &str| {
            let mut command = base_command(&dir, node, &secret, &database);
            command.env("RUST_LOG", "info").envs(env.iter().copied());
            command
        };
        // Started at once, so both migrate the empty database at the same time.
        let (a, b) = std::thread::scope(|scope| {
            let a = scope.spawn(|| ServerProcess::start(command("a")));
            let b = scope.spawn(|| ServerProcess::start(command("b")));
            (a.join().unwrap(), b.join().unwrap())
        });
        Some(Cluster {
            a,
            b,
            dir,
            secret,
            database,
        })
    }

    pub fn urls(&self) -> [&str; 2] {
        [&self.a.base_url, &self.b.base_url]
    }

    /// Runs an admin command against the shared database and returns its stdout.
    fn admin(&self, args: &[&str]) -> String {
        let output = base_command(&self.dir, "admin", &self.secret, &self.database)
            .args(args)
            .output()
            .expect("the binary runs");
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// A tenant created with the CLI, once both nodes accept its key.
    pub async fn tenant(&self, name: &str) -> CreatedTenant {
        let created: Value =
            serde_json::from_str(&self.admin(&["tenant", "create", name, "--json"])).unwrap();
        let tenant = CreatedTenant {
            tenant_id: created["tenant_id"].as_str().unwrap().to_owned(),
            key: created["profile_key"].as_str().unwrap().to_owned(),
        };
        on_every_node_within_five_seconds(&self.urls(), &tenant.key, "7014").await;
        tenant
    }
}

/// `profilestore --database-url <db>` with the shared secret and a data dir of its own.
fn base_command(dir: &TempDir, node: &str, secret: &str, database: &TestDatabase) -> Command {
    let mut command = profilestore_command();
    command
        .env("PROFILESTORE_SECRET", secret)
        .env("PROFILESTORE_DATA_DIR", dir.path().join(node))
        .args(["--database-url", &database.url()]);
    command
}

async fn send(request: reqwest::RequestBuilder) -> Value {
    let response = request.send().await.expect("request sent");
    response.json().await.expect("a JSON answer")
}

fn names(record: &Value) -> BTreeMap<String, String> {
    crate::support::attributes(record)
}

#[tokio::test]
async fn a_write_through_one_node_is_read_through_the_other_at_once() {
    let Some(cluster) = Cluster::start().await else {
        return;
    };
    let acme = cluster.tenant("acme").await;
    let client = http_client();
    let [a, b] = cluster.urls();

    let created = send(
        client
            .post(format!("{a}/resources/v2/customerprofile"))
            .header("key", &acme.key)
            .json(&json!({"customerId": "C-1", "Attributes": {"name": "Ann", "email": "ann@example.org"}})),
    )
    .await;
    let read_on_b = send(
        client
            .get(format!("{b}/resources/v2/customerprofile/C-1"))
            .header("key", &acme.key),
    )
    .await;
    let updated_on_b = send(
        client
            .put(format!("{b}/resources/v2/customerprofile"))
            .header("key", &acme.key)
            .json(&json!({"customerId": "C-1", "Attributes": {"name": "Bea"}})),
    )
    .await;
    let read_on_a = send(
        client
            .get(format!("{a}/resources/v2/customerprofile/C-1"))
            .header("key", &acme.key),
    )
    .await;

    assert_eq!(created["code"], "1000", "{created}");
    assert_eq!(read_on_b["code"], "1000", "{read_on_b}");
    let on_b = names(&read_on_b["Records"][0]);
    assert_eq!(on_b["name"], "Ann");
    assert_eq!(on_b["email"], "ann@example.org");
    assert_eq!(updated_on_b["code"], "1000", "{updated_on_b}");
    assert_eq!(names(&read_on_a["Records"][0])["name"], "Bea");
}

#[tokio::test]
async fn a_new_tenant_a_rotated_key_and_an_ip_allow_list_apply_on_both_nodes_within_five_seconds() {
    let Some(cluster) = Cluster::start().await else {
        return;
    };
    let urls = cluster.urls();
    let [a, b] = urls;
    assert_eq!(code_for_key(a, "psk_not-yet-a-key").await, "7001");
    assert_eq!(code_for_key(b, "psk_not-yet-a-key").await, "7001");

    // Created: both nodes accept the key (`tenant` waits for it).
    let acme = cluster.tenant("acme").await;

    let new_key = cluster.admin(&["tenant", "rotate-key", "acme", "--grace-seconds", "0"]);
    assert!(new_key.starts_with("psk_") && new_key != acme.key);
    on_every_node_within_five_seconds(&urls, &acme.key, "7001").await;
    on_every_node_within_five_seconds(&urls, &new_key, "7014").await;

    cluster.admin(&["tenant", "allow-ip", "acme", "10.0.0.0/8"]);
    on_every_node_within_five_seconds(&urls, &new_key, "7010").await;
    cluster.admin(&["tenant", "allow-ip", "acme", "--clear"]);
    on_every_node_within_five_seconds(&urls, &new_key, "7014").await;
}

#[tokio::test]
async fn concurrent_writes_through_both_nodes_keep_the_event_log_gapless_and_in_commit_order() {
    let Some(cluster) = Cluster::start().await else {
        return;
    };
    let acme = cluster.tenant("acme").await;
    const WRITERS: usize = 8;
    const REQUESTS: usize = 8;
    const RECORDS: usize = 3;

    // Writers 0, 2, 4... write through node A, the others through node B, all at once; each
    // sends its requests one after another.
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let base_url = cluster.urls()[writer % 2].to_owned();
        let key = acme.key.clone();
        writers.spawn(async move {
            let client = http_client();
            for request in 0..REQUESTS {
                let records: Vec<Value> = (0..RECORDS)
                    .map(|record| json!({"customerId": format!("C-{writer}-{request}-{record}")}))
                    .collect();
                let reply = send(
                    client
                        .post(format!("{base_url}/resources/v2/customerprofile"))
                        .header("key", &key)
                        .json(&json!({ "Records": records })),
                )
                .await;
                assert_eq!(reply["code"], "1000", "{reply}");
            }
        });
    }
    while let Some(joined) = writers.join_next().await {
        joined.expect("writer");
    }

    let store = profilestore_store::open(&cluster.database.url())
        .await
        .expect("open the store");
    let events = store
        .events_after(&acme.tenant_id, 0, 10_000)
        .await
        .expect("read the events");
    store.close().await;

    let total = WRITERS * REQUESTS * RECORDS;
    let seqs: Vec<i64> = events.iter().map(|event| event.seq).collect();
    assert_eq!(seqs, (1..=total as i64).collect::<Vec<_>>(), "gapless");
    // Which (writer, request) each event came from, in seq order.
    let origins: Vec<(usize, usize)> = events
        .iter()
        .map(|event| {
            let id = event.payload["subject"]["customer_id"].as_str().unwrap();
            let parts: Vec<usize> = id[2..].split('-').map(|p| p.parse().unwrap()).collect();
            (parts[0], parts[1])
        })
        .collect();
    for batch in origins.chunks(RECORDS) {
        assert!(
            batch.iter().all(|origin| *origin == batch[0]),
            "one request's events are consecutive: {batch:?}"
        );
    }
    // A writer's next request starts after its previous one was answered, so it commits later:
    // in seq order, each writer's requests appear in the order it sent them.
    for writer in 0..WRITERS {
        let order: Vec<usize> = origins
            .chunks(RECORDS)
            .filter(|batch| batch[0].0 == writer)
            .map(|batch| batch[0].1)
            .collect();
        assert_eq!(order, (0..REQUESTS).collect::<Vec<_>>(), "writer {writer}");
    }
}
