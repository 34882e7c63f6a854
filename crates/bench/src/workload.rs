//! The workloads, and the runner that drives one for a fixed time at a fixed concurrency.

use crate::client::Connection;
use crate::cpu::{CpuClock, CpuTime};
use crate::report::WorkloadResult;
use crate::sdk_update;
use crate::seed::{Target, customer_id};
use anyhow::Context;
use bytes::Bytes;
use hdrhistogram::Histogram;
use hyper::Method;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// GET /healthz: the HTTP limit of this machine for this server.
    Ceiling,
    /// Compatible-API GET of one customer by a random id.
    ReadCustomer,
    /// Compatible-API GET of the app profiles of a random userId.
    ReadDevices,
    /// Compatible-API PUT of one record (a partial update).
    WriteCustomer,
    /// Compatible-API PUT of 100 records.
    WriteBatch,
    /// SDK `profileupdate` of one monitored attribute (location) of a registered install.
    SdkUpdate,
}

const BATCH_RECORDS: u64 = 100;

impl Workload {
    pub const ALL: [Workload; 6] = [
        Workload::Ceiling,
        Workload::ReadCustomer,
        Workload::ReadDevices,
        Workload::WriteCustomer,
        Workload::WriteBatch,
        Workload::SdkUpdate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Ceiling => "ceiling",
            Workload::ReadCustomer => "read_customer",
            Workload::ReadDevices => "read_devices",
            Workload::WriteCustomer => "write_customer",
            Workload::WriteBatch => "write_batch",
            Workload::SdkUpdate => "sdk_update",
        }
    }

    /// Whether each request is one durable update, whose rate group commit raises with the
    /// writes in flight: these also run at the harness's `--saturation`.
    pub fn is_durable_update(self) -> bool {
        matches!(self, Workload::WriteCustomer | Workload::SdkUpdate)
    }

    fn records_per_request(self) -> u64 {
        match self {
            Workload::WriteBatch => BATCH_RECORDS,
            _ => 1,
        }
    }

    /// The authentication header every request of this workload carries (name, value).
    fn auth(self, target: &Target) -> anyhow::Result<Option<(&'static str, &str)>> {
        Ok(match self {
            Workload::Ceiling => None,
            Workload::SdkUpdate => Some((
                "secretkey",
                target
                    .client_key
                    .as_deref()
                    .context("sdk_update needs the app's client key")?,
            )),
            _ => Some(("key", target.key.as_str())),
        })
    }

    /// The next request of this workload: method, path and body. `profiles`: how many
    /// profiles (for sdk_update: how many registered installs) its random ids are drawn from.
    fn request(
        self,
        target: &Target,
        profiles: u64,
        sequence: u64,
        rng: &mut impl Rng,
    ) -> (Method, String, Option<Bytes>) {
        let random = |rng: &mut dyn rand::RngCore| rng.random_range(0..profiles.max(1));
        match self {
            Workload::Ceiling => (Method::GET, "/healthz".to_owned(), None),
            Workload::ReadCustomer => (
                Method::GET,
                format!("/resources/v2/customerprofile/{}", customer_id(random(rng))),
                None,
            ),
            Workload::ReadDevices => (
                Method::GET,
                format!(
                    "/resources/v2/customerappprofile/{}?identifier=u{}",
                    target.app_id,
                    random(rng)
                ),
                None,
            ),
            Workload::WriteCustomer => {
                let body = json!({"customerId": customer_id(random(rng)), "attributes": {"name": format!("Renamed {sequence}")}});
                (
                    Method::PUT,
                    "/resources/v2/customerprofile".to_owned(),
                    Some(Bytes::from(body.to_string())),
                )
            }
            Workload::WriteBatch => {
                let start = random(rng);
                let records: Vec<_> = (0..BATCH_RECORDS)
                    .map(|offset| {
                        let id = (start + offset) % profiles.max(1);
                        json!({"customerId": customer_id(id), "Attributes": {"balance": format!("{}.{:02}", sequence % 1000, offset)}})
                    })
                    .collect();
                let body = json!({ "Records": records }).to_string();
                (
                    Method::PUT,
                    "/resources/v2/customerprofile".to_owned(),
                    Some(Bytes::from(body)),
                )
            }
            Workload::SdkUpdate => (
                Method::POST,
                format!("/api/v3/{}/profileupdate", target.app_id),
                Some(sdk_update::body(&target.app_id, random(rng), sequence)),
            ),
        }
    }

    fn succeeded(self, status: u16, body: &[u8]) -> bool {
        match self {
            Workload::Ceiling => status == 200,
            Workload::SdkUpdate => status == 200 && contains(body, br#""code":"0""#),
            _ => status == 200 && contains(body, br#""code":"1000""#),
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// What the connections of one stretch of a workload measured.
struct Tally {
    latencies: Histogram<u64>,
    requests: u64,
    errors: u64,
    seconds: f64,
    cpu: CpuTime,
}

impl Tally {
    fn new() -> anyhow::Result<Self> {
        Ok(Tally {
            latencies: Histogram::new_with_bounds(1, 60_000_000, 3)?,
            requests: 0,
            errors: 0,
            seconds: 0.0,
            cpu: CpuTime::ZERO,
        })
    }

    fn add(&mut self, other: &Tally) -> anyhow::Result<()> {
        self.latencies.add(&other.latencies)?;
        self.requests += other.requests;
        self.errors += other.errors;
        self.seconds += other.seconds;
        self.cpu = self.cpu + other.cpu;
        Ok(())
    }

    fn requests_per_sec(&self) -> f64 {
        self.requests as f64 / self.seconds.max(f64::EPSILON)
    }

    fn result(&self, workload: Workload, concurrency: usize) -> WorkloadResult {
        let millis = |quantile: f64| self.latencies.value_at_quantile(quantile) as f64 / 1000.0;
        let records = self.requests * workload.records_per_request();
        let (server_cpu, machine_cpu) = self.cpu.per_request_micros(self.requests);
        WorkloadResult {
            name: workload.name().to_owned(),
            concurrency,
            requests: self.requests,
            records,
            errors: self.errors,
            seconds: self.seconds,
            requests_per_sec: self.requests_per_sec(),
            records_per_sec: records as f64 / self.seconds.max(f64::EPSILON),
            p50_ms: millis(0.50),
            p99_ms: millis(0.99),
            p999_ms: millis(0.999),
            ratio_to_ceiling: None,
            ceiling_beside_rps: None,
            server_cpu_us_per_request: server_cpu,
            machine_cpu_us_per_request: machine_cpu,
        }
    }
}

/// How a workload is driven: the shared target, the profiles its ids are drawn from, the
/// connections and the time.
pub struct Drive<'a> {
    pub target: &'a Target,
    pub profiles: u64,
    pub concurrency: usize,
    pub duration: Duration,
    /// Where the CPU time of each stretch is read.
    pub cpu: CpuClock,
}

/// Runs one workload for the whole duration: `concurrency` connections, each sending requests
/// back to back until it has passed.
pub async fn run(workload: Workload, drive: &Drive<'_>) -> anyhow::Result<WorkloadResult> {
    let tally = run_stretch(workload, drive, drive.duration, 0).await?;
    Ok(tally.result(workload, drive.concurrency))
}

/// Runs `workload` in `slices` stretches, each right after a stretch of `ceiling` as long, for
/// the duration in all: its ratio is then to the ceiling measured beside it, not minutes
/// earlier, and a machine whose speed drifts during a run (a shared one does) moves both.
pub async fn run_beside_ceiling(
    workload: Workload,
    drive: &Drive<'_>,
    slices: u32,
) -> anyhow::Result<WorkloadResult> {
    let slices = slices.max(1);
    let slice = drive.duration / slices;
    let (mut measured, mut ceiling) = (Tally::new()?, Tally::new()?);
    for index in 0..slices {
        ceiling.add(&run_stretch(Workload::Ceiling, drive, slice, index).await?)?;
        measured.add(&run_stretch(workload, drive, slice, index).await?)?;
    }
    let mut result = measured.result(workload, drive.concurrency);
    result.ceiling_beside_rps = Some(ceiling.requests_per_sec());
    anyhow::ensure!(
        ceiling.errors == 0,
        "{} ceiling requests beside {} failed",
        ceiling.errors,
        workload.name()
    );
    Ok(result)
}

/// One stretch of `length`; `stretch` numbers it within its workload, so that no two stretches
/// send the same requests (a repeated write would change nothing, and cost less).
async fn run_stretch(
    workload: Workload,
    drive: &Drive<'_>,
    length: Duration,
    stretch: u32,
) -> anyhow::Result<Tally> {
    let started = Instant::now();
    let cpu_before = drive.cpu.now();
    let deadline = started + length;
    let connections = drive.concurrency.max(1);
    let mut workers = Vec::new();
    for worker in 0..connections {
        let target = drive.target.clone();
        let profiles = drive.profiles;
        let id = (stretch as usize * connections + worker) as u64;
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(&target.endpoint).await?;
            // Seeded per worker and stretch: a run is repeatable, and the RNG can move between
            // threads.
            let mut rng = rand::rngs::StdRng::seed_from_u64(id);
            let mut tally = Tally::new()?;
            let auth = workload.auth(&target)?;
            let mut sequence = id * 1_000_000_000;
            while Instant::now() < deadline {
                sequence += 1;
                let (method, path, body) = workload.request(&target, profiles, sequence, &mut rng);
                let sent = Instant::now();
                let ok = match connection.send_with(method, &path, auth, body).await {
                    Ok(reply) => workload.succeeded(reply.status.as_u16(), &reply.body),
                    Err(_) => {
                        connection = Connection::open(&target.endpoint).await?;
                        false
                    }
                };
                tally
                    .latencies
                    .saturating_record(sent.elapsed().as_micros() as u64);
                tally.requests += 1;
                if !ok {
                    tally.errors += 1;
                }
            }
            anyhow::Ok(tally)
        }));
    }
    let mut total = Tally::new()?;
    for worker in workers {
        total.add(&worker.await??)?;
    }
    // The connections ran side by side: the stretch lasted its wall time, not their sum.
    total.seconds = started.elapsed().as_secs_f64();
    total.cpu = drive.cpu.now() - cpu_before;
    Ok(total)
}
