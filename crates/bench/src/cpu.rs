//! The CPU time a stretch of a workload took, read from /proc: the server's (its process, every
//! thread, user and kernel) and the whole machine's (every process and the kernel, the
//! harness's own client included). Divided by the stretch's requests they say what a request
//! costs, how busy the machine was, and, the two side by side, whether a change saved work or
//! only moved it (to the client, to the kernel). They move with a shared machine's speed as
//! the rates do: compare builds side by side.

use std::ops::{Add, Sub};

/// The unit of /proc's CPU times (USER_HZ): 100 on Linux whatever the kernel's own tick.
const TICKS_PER_SEC: f64 = 100.0;

/// CPU seconds used so far, or used between two readings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTime {
    /// None when the harness did not start the server (`--url`), or /proc has no such process.
    pub server_secs: Option<f64>,
    /// None where there is no /proc/stat.
    pub machine_secs: Option<f64>,
}

impl CpuTime {
    /// None used yet: what the times of stretches are added to.
    pub const ZERO: CpuTime = CpuTime {
        server_secs: Some(0.0),
        machine_secs: Some(0.0),
    };

    /// Microseconds per request of the server's and the machine's CPU.
    pub fn per_request_micros(&self, requests: u64) -> (Option<f64>, Option<f64>) {
        let per = |secs: Option<f64>| {
            secs.filter(|_| requests > 0)
                .map(|secs| secs * 1e6 / requests as f64)
        };
        (per(self.server_secs), per(self.machine_secs))
    }
}

fn both(a: Option<f64>, b: Option<f64>, f: impl Fn(f64, f64) -> f64) -> Option<f64> {
    Some(f(a?, b?))
}

impl Sub for CpuTime {
    type Output = CpuTime;
    fn sub(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            server_secs: both(self.server_secs, earlier.server_secs, |a, b| a - b),
            machine_secs: both(self.machine_secs, earlier.machine_secs, |a, b| a - b),
        }
    }
}

impl Add for CpuTime {
    type Output = CpuTime;
    fn add(self, other: CpuTime) -> CpuTime {
        CpuTime {
            server_secs: both(self.server_secs, other.server_secs, |a, b| a + b),
            machine_secs: both(self.machine_secs, other.machine_secs, |a, b| a + b),
        }
    }
}

/// Reads the CPU time of the server process `server_pid` (if any) and of the machine.
#[derive(Debug, Clone, Copy)]
pub struct CpuClock {
    pub server_pid: Option<u32>,
}

impl CpuClock {
    pub fn now(&self) -> CpuTime {
        let server = self.server_pid.and_then(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            process_ticks(&stat)
        });
        let machine = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|stat| machine_busy_ticks(&stat));
        CpuTime {
            server_secs: server.map(|ticks| ticks as f64 / TICKS_PER_SEC),
            machine_secs: machine.map(|ticks| ticks as f64 / TICKS_PER_SEC),
        }
    }
}

/// utime + stime of a /proc/PID/stat line (the 14th and 15th fields; the 2nd, the command,
/// is in parentheses and may hold spaces, so fields are counted from its closing one).
fn process_ticks(stat: &str) -> Option<u64> {
    let after_command = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_command.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Every CPU's busy time from /proc/stat's first line: user, nice, system, irq, softirq and
/// steal; not idle or iowait (a CPU waiting on the disk runs nothing).
fn machine_busy_ticks(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    let [user, nice, system, _idle, _iowait, irq, softirq, steal, ..] = ticks[..] else {
        return None;
    };
    Some(user + nice + system + irq + softirq + steal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_time_is_counted_after_its_command_whatever_that_holds() {
        let stat = "4242 (tokio (rt) w) S 1 4242 4242 0 -1 4194304 1000 0 0 0 150 30 0 0 20 0 9";
        assert_eq!(process_ticks(stat), Some(180));
        assert_eq!(process_ticks("4242 (x) S 1"), None);
    }

    #[test]
    fn the_machine_is_busy_in_everything_but_idle_and_iowait() {
        let stat = "cpu  100 5 40 9000 300 2 3 7 0 0\ncpu0 50 2 20 4500 150 1 1 3 0 0\n";
        assert_eq!(machine_busy_ticks(stat), Some(100 + 5 + 40 + 2 + 3 + 7));
    }

    #[test]
    fn a_request_costs_the_time_used_over_the_requests() {
        let before = CpuTime {
            server_secs: Some(1.0),
            machine_secs: Some(10.0),
        };
        let after = CpuTime {
            server_secs: Some(1.5),
            machine_secs: Some(11.0),
        };
        let used = after - before;
        assert_eq!(used.per_request_micros(10_000), (Some(50.0), Some(100.0)));
        assert_eq!(used.per_request_micros(0), (None, None));
        let without_server = CpuTime {
            server_secs: None,
            ..used
        };
        assert_eq!((without_server + used).server_secs, None);
    }
}
