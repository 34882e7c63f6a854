//! `profilestore-bench`: starts a profilestore on loopback with a fresh data dir, on SQLite or
//! on the PostgreSQL database `--database-url` names (or targets `--url`), seeds profiles, runs each workload for a fixed time at a fixed concurrency, and
//! prints requests/s, records/s, latency percentiles, errors, the ratio to `ceiling`
//! (GET /healthz) measured in the same run, and the CPU time a request cost.
//!
//! # Layout
//! - `client`: one HTTP/1.1 keep-alive connection per worker (hyper, no pool).
//! - `server_process`: the server under test as a child process: start, RSS, restart time.
//! - `seed`: tenants, apps, customers and devices through the compatible API.
//! - `workload`: the workloads and the timed runner.
//! - `sdk_update`: the device policy and SDK registrations the sdk_update workload needs.
//! - `lag`: write-to-event lag on the SSE stream and at a webhook receiver.
//! - `cpu`: the server's and the machine's CPU time, from /proc.
//! - `report`: the table and the JSON.

mod client;
mod cpu;
mod lag;
mod report;
mod sdk_update;
mod seed;
mod server_process;
mod workload;

use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "profilestore-bench",
    about = "Benchmark a profilestore on loopback, side by side with the HTTP ceiling."
)]
struct Args {
    /// Target a running server instead of starting one (loopback only). Needs --profile-key and --app-id.
    #[arg(long)]
    url: Option<String>,
    /// Profile key of the tenant to use with --url.
    #[arg(long, requires = "url")]
    profile_key: Option<String>,
    /// App id of the tenant's app to use with --url.
    #[arg(long, requires = "url")]
    app_id: Option<String>,
    /// Client key of that app, for the sdk_update workload with --url (skipped without it).
    #[arg(long, requires = "url")]
    client_key: Option<String>,
    /// The profilestore binary to start (default: next to this one).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Run the server it starts (and its admin commands) on this database instead of SQLite in
    /// a fresh data dir, e.g. postgres://postgres@127.0.0.1:5432/bench. Use an empty database:
    /// the harness creates its tenant there and leaves its data behind.
    #[arg(long, conflicts_with = "url")]
    database_url: Option<String>,
    /// Customer profiles to seed, each with one device.
    #[arg(long, default_value_t = 100_000)]
    profiles: u64,
    /// Seconds each workload runs.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Concurrent connections per workload.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// write_customer and sdk_update run a second time on this many connections (0: not):
    /// group commit's throughput, what durable updates a second the server takes, is reached
    /// only when enough writes are in flight to fill its groups; at --concurrency the writes
    /// move in lockstep with their group's sync (docs/benchmark.md).
    #[arg(long, default_value_t = 256)]
    saturation: usize,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// A run of seconds for CI: 1000 profiles, 1 s per workload.
    #[arg(long)]
    smoke: bool,
    /// Run only these workloads (comma-separated names, e.g. ceiling,write_customer), to
    /// profile one of them.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Each workload but the lags runs in this many stretches, each right after a stretch of
    /// `ceiling` as long (its ratio is to that ceiling: a machine whose speed drifts during a
    /// run moves both); 0 runs each workload at once and takes the ratio to the `ceiling` row.
    #[arg(long, default_value_t = 5)]
    slices: u32,
    /// Writes per second offered in webhook_lag (0: as fast as the writers go). A webhook
    /// receives one event per request, in order, so above what one receiver can take the
    /// figure is a growing backlog, not a lag; event_lag always writes as fast as it can.
    #[arg(long, default_value_t = 1000)]
    webhook_rate: u32,
}

impl Args {
    fn runs(&self, workload: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|name| name == workload)
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    let known: Vec<&str> = workload::Workload::ALL
        .iter()
        .map(|w| w.name())
        .chain([lag::Sink::Stream.name(), lag::Sink::Webhook.name()])
        .collect();
    if let Some(unknown) = args
        .only
        .iter()
        .find(|name| !known.contains(&name.as_str()))
    {
        anyhow::bail!(
            "--only: no workload {unknown:?}; the workloads are {}",
            known.join(", ")
        );
    }
    if args.smoke {
        args.profiles = args.profiles.min(1000);
        args.duration = 1;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let duration = Duration::from_secs(args.duration.max(1));
    let (mut server, target) = match &args.url {
        Some(url) => {
            let target = seed::Target::existing(
                url,
                args.profile_key.clone(),
                args.app_id.clone(),
                args.client_key.clone(),
            )?;
            (None, target)
        }
        None => {
            let server = server_process::ServerProcess::start(
                args.server_bin.clone(),
                args.database_url.clone(),
            )
            .await?;
            let target = seed::Target::create(&server).await?;
            (Some(server), target)
        }
    };
    eprintln!("seeding {} profiles with one device each...", args.profiles);
    let seeded = seed::seed(&target, args.profiles, args.concurrency).await?;
    eprintln!("seeded in {:.1} s", seeded.elapsed.as_secs_f64());
    if let Some(server) = &server
        && server.analyze().await?
    {
        eprintln!("analyzed the database (autovacuum would within a minute or so)");
    }

    let mut results = Vec::new();
    let mut not_measured = Vec::new();
    for workload in workload::Workload::ALL {
        if !args.runs(workload.name()) {
            continue;
        }
        let mut drawn_from = args.profiles;
        if workload == workload::Workload::SdkUpdate {
            if target.client_key.is_none() {
                not_measured.push(report::NotMeasured {
                    name: workload.name().to_owned(),
                    reason: "--url without --client-key".to_owned(),
                });
                continue;
            }
            eprintln!("registering installs through the SDK API for sdk_update...");
            drawn_from = sdk_update::prepare(&target, args.profiles, args.concurrency).await?;
        }
        let cpu = cpu::CpuClock {
            server_pid: server.as_ref().map(|server| server.pid()),
        };
        let mut drive = workload::Drive {
            target: &target,
            profiles: drawn_from,
            concurrency: args.concurrency,
            duration,
            cpu,
        };
        results.push(measure(workload, &drive, args.slices).await?);
        if workload.is_durable_update()
            && args.saturation > 0
            && args.saturation != args.concurrency
        {
            drive.concurrency = args.saturation;
            results.push(measure(workload, &drive, args.slices).await?);
        }
    }

    for sink in [lag::Sink::Stream, lag::Sink::Webhook] {
        if !args.runs(sink.name()) {
            continue;
        }
        let rate = match sink {
            lag::Sink::Stream => None,
            lag::Sink::Webhook => Some(args.webhook_rate).filter(|rate| *rate > 0),
        };
        eprintln!(
            "running {} for {} s at concurrency {}{}...",
            sink.name(),
            duration.as_secs(),
            args.concurrency,
            rate.map(|r| format!(", {r} writes/s")).unwrap_or_default()
        );
        let load = lag::Load {
            profiles: args.profiles,
            concurrency: args.concurrency,
            duration,
            rate,
        };
        results.push(lag::run(sink, &target, &load).await?);
    }

    let mut facts = report::Facts {
        backend: backend_name(&args).to_owned(),
        profiles: args.profiles,
        concurrency: args.concurrency,
        duration_secs: duration.as_secs(),
        seed_secs: seeded.elapsed.as_secs_f64(),
        server_rss_bytes: None,
        database_bytes_per_profile: None,
        start_secs: None,
    };
    if let Some(server) = server.as_mut() {
        facts.server_rss_bytes = server.rss_bytes();
        facts.database_bytes_per_profile =
            Some(server.database_bytes().await? as f64 / args.profiles.max(1) as f64);
        facts.start_secs = Some(server.restart().await?.as_secs_f64());
    }
    let report = report::Report::new(facts, results, not_measured);
    print!("{}", report.table());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    if let Some(server) = server {
        server.stop().await;
    }
    anyhow::ensure!(
        report.total_errors() == 0,
        "{} requests failed",
        report.total_errors()
    );
    Ok(())
}

/// Runs `workload` as `drive` says, in `slices` stretches beside as many of `ceiling` (none for
/// `ceiling` itself, or with 0 slices).
async fn measure(
    workload: workload::Workload,
    drive: &workload::Drive<'_>,
    slices: u32,
) -> anyhow::Result<report::WorkloadResult> {
    let beside_ceiling = slices > 0 && workload != workload::Workload::Ceiling;
    eprintln!(
        "running {} for {} s at concurrency {}{}...",
        workload.name(),
        drive.duration.as_secs(),
        drive.concurrency,
        if beside_ceiling {
            format!(", in {slices} stretches after as many of ceiling")
        } else {
            String::new()
        }
    );
    if beside_ceiling {
        workload::run_beside_ceiling(workload, drive, slices).await
    } else {
        workload::run(workload, drive).await
    }
}

/// What the measured server runs on, for the report.
fn backend_name(args: &Args) -> &'static str {
    match (&args.url, &args.database_url) {
        (Some(_), _) => "unknown (--url)",
        (None, Some(_)) => "postgres",
        (None, None) => "sqlite",
    }
}
