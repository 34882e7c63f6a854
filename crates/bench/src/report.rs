//! The figures of one run: a table for people and the same figures as JSON.

use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadResult {
    pub name: String,
    /// Connections it ran on (the lags: their writers).
    pub concurrency: usize,
    pub requests: u64,
    pub records: u64,
    pub errors: u64,
    pub seconds: f64,
    pub requests_per_sec: f64,
    pub records_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    /// requests/s of this workload divided by requests/s of `ceiling` beside it: in the
    /// stretches alternating with its own (`ceiling_beside_rps`) or, without those, the
    /// `ceiling` workload of the same run.
    pub ratio_to_ceiling: Option<f64>,
    /// requests/s of `ceiling` in the stretches run alternately with this workload's.
    pub ceiling_beside_rps: Option<f64>,
    /// CPU microseconds per request in this workload's own stretches: the server process's
    /// (user and kernel, every thread), when the harness started it.
    pub server_cpu_us_per_request: Option<f64>,
    /// The same for the whole machine: the server, the harness's client, the kernel, and
    /// whatever else runs there.
    pub machine_cpu_us_per_request: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    /// `sqlite` or `postgres`: the database of the server the harness started.
    pub backend: String,
    pub profiles: u64,
    pub concurrency: usize,
    pub duration_secs: u64,
    pub seed_secs: f64,
    pub server_rss_bytes: Option<u64>,
    pub database_bytes_per_profile: Option<f64>,
    /// From spawning the server on the seeded database to its first ready answer.
    pub start_secs: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotMeasured {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub facts: Facts,
    pub workloads: Vec<WorkloadResult>,
    pub not_measured: Vec<NotMeasured>,
}

impl Report {
    pub fn new(
        facts: Facts,
        mut workloads: Vec<WorkloadResult>,
        not_measured: Vec<NotMeasured>,
    ) -> Self {
        let ceiling_row = workloads
            .iter()
            .find(|w| w.name == "ceiling")
            .map(|w| w.requests_per_sec);
        for workload in &mut workloads {
            workload.ratio_to_ceiling = workload
                .ceiling_beside_rps
                .or(ceiling_row)
                .filter(|rps| *rps > 0.0)
                .map(|ceiling| workload.requests_per_sec / ceiling);
        }
        Report {
            facts,
            workloads,
            not_measured,
        }
    }

    pub fn total_errors(&self) -> u64 {
        self.workloads.iter().map(|w| w.errors).sum()
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let facts = &self.facts;
        let _ = writeln!(
            out,
            "backend {}, profiles {}, concurrency {}, {} s per workload",
            facts.backend, facts.profiles, facts.concurrency, facts.duration_secs
        );
        let _ = writeln!(
            out,
            "{:<20} {:>10} {:>12} {:>8} {:>8} {:>9} {:>7} {:>9} {:>10} {:>8} {:>8}",
            "workload",
            "req/s",
            "records/s",
            "p50 ms",
            "p99 ms",
            "p99.9 ms",
            "errors",
            "×ceiling",
            "ceiling/s",
            "srv µs",
            "all µs"
        );
        for w in &self.workloads {
            // A workload also run on another number of connections than the run's is named
            // with it: `write_customer @256`.
            let label = if w.concurrency == facts.concurrency {
                w.name.clone()
            } else {
                format!("{} @{}", w.name, w.concurrency)
            };
            let _ = writeln!(
                out,
                "{:<20} {:>10.0} {:>12.0} {:>8.2} {:>8.2} {:>9.2} {:>7} {:>9} {:>10} {:>8} {:>8}",
                label,
                w.requests_per_sec,
                w.records_per_sec,
                w.p50_ms,
                w.p99_ms,
                w.p999_ms,
                w.errors,
                cell(w.ratio_to_ceiling, 2),
                cell(w.ceiling_beside_rps, 0),
                cell(w.server_cpu_us_per_request, 1),
                cell(w.machine_cpu_us_per_request, 1)
            );
        }
        let _ = writeln!(
            out,
            "(×ceiling: to the ceiling/s measured in stretches alternating with the workload's; \
             without them, to the ceiling row. srv µs, all µs: CPU time per request of the \
             server process and of the whole machine, client included, in the workload's own \
             stretches)"
        );
        for skipped in &self.not_measured {
            let _ = writeln!(out, "{:<20} not measured: {}", skipped.name, skipped.reason);
        }
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        if let Some(rss) = facts.server_rss_bytes {
            let _ = writeln!(out, "server RSS after the run: {:.1} MiB", mib(rss));
        }
        if let Some(per_profile) = facts.database_bytes_per_profile {
            let _ = writeln!(
                out,
                "database bytes per profile (customer + device): {per_profile:.0}"
            );
        }
        if let Some(start) = facts.start_secs {
            let _ = writeln!(out, "start on the seeded database: {:.3} s", start);
        }
        let _ = writeln!(out, "seeding took {:.1} s", facts.seed_secs);
        out
    }
}

/// A table cell of a figure a workload may not have: `-` without one.
fn cell(figure: Option<f64>, decimals: usize) -> String {
    figure.map_or_else(|| "-".into(), |figure| format!("{figure:.decimals$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(name: &str, requests_per_sec: f64, beside: Option<f64>) -> WorkloadResult {
        WorkloadResult {
            name: name.to_owned(),
            concurrency: 1,
            requests: 0,
            records: 0,
            errors: 0,
            seconds: 1.0,
            requests_per_sec,
            records_per_sec: requests_per_sec,
            p50_ms: 0.0,
            p99_ms: 0.0,
            p999_ms: 0.0,
            ratio_to_ceiling: None,
            ceiling_beside_rps: beside,
            server_cpu_us_per_request: None,
            machine_cpu_us_per_request: None,
        }
    }

    fn facts() -> Facts {
        Facts {
            backend: "sqlite".into(),
            profiles: 1,
            concurrency: 1,
            duration_secs: 1,
            seed_secs: 0.0,
            server_rss_bytes: None,
            database_bytes_per_profile: None,
            start_secs: None,
        }
    }

    #[test]
    fn a_ratio_is_to_the_ceiling_beside_the_workload_else_to_the_ceiling_row() {
        let workloads = vec![
            measured("ceiling", 1000.0, None),
            measured("read_customer", 300.0, Some(500.0)),
            measured("event_lag", 100.0, None),
        ];
        let ratios: Vec<_> = Report::new(facts(), workloads, Vec::new())
            .workloads
            .iter()
            .map(|w| w.ratio_to_ceiling)
            .collect();
        assert_eq!(ratios, [Some(1.0), Some(0.6), Some(0.1)]);
    }

    #[test]
    fn a_workload_run_on_other_connections_than_the_run_is_named_with_them() {
        let mut saturated = measured("write_customer", 300.0, None);
        saturated.concurrency = 256;
        let workloads = vec![measured("write_customer", 100.0, None), saturated];
        let table = Report::new(facts(), workloads, Vec::new()).table();
        let labels: Vec<&str> = table
            .lines()
            .filter(|line| line.starts_with("write_customer"))
            .map(|line| line.split("  ").next().unwrap())
            .collect();
        assert_eq!(labels, ["write_customer", "write_customer @256"]);
    }

    #[test]
    fn without_a_ceiling_there_is_no_ratio() {
        let workloads = vec![measured("write_customer", 300.0, None)];
        let report = Report::new(facts(), workloads, Vec::new());
        assert_eq!(report.workloads[0].ratio_to_ceiling, None);
    }
}
