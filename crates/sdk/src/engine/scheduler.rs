//! The monitors' schedule: the policy decides what runs, the clock decides when.

use crate::engine::backoff;
use crate::error::SdkError;
use crate::policy::{MonitorCategory, Policy};
use crate::readings::{DeviceEvent, INTERVAL_EVENT, ONE_TIME_EVENT};
use crate::shared::Shared;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long to wait after a failed policy fetch at most: the product's polling interval.
const POLICY_RETRY_MAX: Duration = Duration::from_secs(30 * 60);

pub(crate) async fn run(shared: Arc<Shared>) {
    let mut plan = Plan::new(shared.provider.watch_interval());
    let Some(saved) = shared.registration() else {
        return;
    };
    // The policy is fetched at every start, except right after `register` fetched it.
    let fresh = shared.fresh_policy.swap(false, Ordering::SeqCst);
    let mut next_poll = shared.clock.now();
    if let (Some(policy), Some(fetched)) = (saved.policy, saved.policy_fetched_at) {
        if fresh {
            next_poll = fetched + chrono_duration(policy.polling_interval());
        }
        // Monitors run on the saved policy meanwhile, even when the server is out of reach.
        plan.apply(&shared, policy);
    }
    let mut poll_failures = 0;
    loop {
        if shared.clock.now() >= next_poll {
            next_poll = match fetch_policy(&shared).await {
                Ok(policy) => {
                    poll_failures = 0;
                    let every = policy.polling_interval();
                    plan.apply(&shared, policy);
                    shared.clock.now() + chrono_duration(every)
                }
                Err(error) => {
                    poll_failures += 1;
                    let wait = backoff(poll_failures, Duration::from_secs(5), POLICY_RETRY_MAX);
                    tracing::warn!(%error, retry_in = ?wait, "could not fetch the device policy");
                    shared.clock.now() + chrono_duration(wait)
                }
            };
        }
        let heartbeat_due = match shared.heartbeat_if_due() {
            Ok(due) => due,
            Err(SdkError::NotRegistered) => return,
            Err(error) => {
                tracing::warn!(%error, "could not queue the heartbeat");
                shared.clock.now() + chrono_duration(POLICY_RETRY_MAX)
            }
        };
        plan.run_due(&shared);
        let deadline = [Some(next_poll), Some(heartbeat_due), plan.next_deadline()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(next_poll);
        tokio::select! {
            _ = shared.clock.sleep_until(deadline) => {}
            _ = shared.refresh.notified() => next_poll = shared.clock.now(),
        }
    }
}

async fn fetch_policy(shared: &Shared) -> Result<Policy, SdkError> {
    let device = shared.install()?;
    let policy = shared
        .api
        .verify_policy(device.platform, Some(&device.user_id))
        .await?;
    let now = shared.clock.now();
    let stored = policy.clone();
    shared.update_registration(move |registration| {
        registration.policy = Some(stored);
        registration.policy_fetched_at = Some(now);
    })?;
    Ok(policy)
}

fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// The timers of the policy in force.
struct Plan {
    policy: Option<Policy>,
    /// Interval monitors by period: when the next tick is due, and what it reads.
    intervals: BTreeMap<Duration, (DateTime<Utc>, Vec<String>)>,
    /// How often the provider wants event monitors read; the next such read.
    watch_every: Option<Duration>,
    watch_due: Option<DateTime<Utc>>,
}

impl Plan {
    fn new(watch_every: Option<Duration>) -> Self {
        Plan {
            policy: None,
            intervals: BTreeMap::new(),
            watch_every: watch_every.map(|every| every.max(Duration::from_secs(1))),
            watch_due: None,
        }
    }

    /// Puts `policy` in force: one-time monitors not yet captured run now, newly enabled
    /// event monitors take a first reading, interval monitors keep their phase when their
    /// period is unchanged and tick at once when new.
    fn apply(&mut self, shared: &Shared, policy: Policy) {
        let now = shared.clock.now();
        let done = shared
            .registration()
            .map(|registration| registration.one_time_done)
            .unwrap_or_default();
        let one_time: Vec<String> = policy
            .attributes(MonitorCategory::OneTime)
            .into_iter()
            .filter(|attribute| !done.contains(attribute))
            .collect();
        if !one_time.is_empty() {
            report(shared.capture(ONE_TIME_EVENT, &one_time));
            // Captured once per registration: a value the provider did not know is not
            // asked again either.
            report(shared.update_registration(|registration| {
                registration.one_time_done.extend(one_time);
            }));
        }

        let before = self
            .policy
            .as_ref()
            .map(|old| old.attributes(MonitorCategory::Event))
            .unwrap_or_default();
        let added: Vec<String> = policy
            .attributes(MonitorCategory::Event)
            .into_iter()
            .filter(|attribute| !before.contains(attribute))
            .collect();
        capture_events(shared, &added);

        let old = std::mem::take(&mut self.intervals);
        for (period, attributes) in policy.interval_groups() {
            let due = old.get(&period).map_or(now, |(due, _)| *due);
            self.intervals.insert(period, (due, attributes));
        }

        let watching = !policy.attributes(MonitorCategory::Event).is_empty();
        self.watch_due = match (self.watch_every, watching) {
            (Some(every), true) => Some(self.watch_due.unwrap_or(now + chrono_duration(every))),
            _ => None,
        };
        self.policy = Some(policy);
    }

    /// Runs the ticks that are due and sets their next ones.
    fn run_due(&mut self, shared: &Shared) {
        let now = shared.clock.now();
        for (period, (due, attributes)) in &mut self.intervals {
            if *due <= now {
                *due = now + chrono_duration(*period);
                report(shared.capture(INTERVAL_EVENT, attributes));
            }
        }
        if let (Some(due), Some(every), Some(policy)) =
            (self.watch_due, self.watch_every, &self.policy)
            && due <= now
        {
            self.watch_due = Some(now + chrono_duration(every));
            capture_events(shared, &policy.attributes(MonitorCategory::Event));
        }
    }

    fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.intervals
            .values()
            .map(|(due, _)| *due)
            .chain(self.watch_due)
            .min()
    }
}

/// Reads event monitors, one update per device event.
pub(crate) fn capture_events(shared: &Shared, attributes: &[String]) {
    let mut by_event = BTreeMap::<DeviceEvent, Vec<String>>::new();
    for attribute in attributes {
        if let Some(event) = DeviceEvent::of_attribute(attribute) {
            by_event.entry(event).or_default().push(attribute.clone());
        }
    }
    for (event, attributes) in by_event {
        report(shared.capture(event.name(), &attributes));
    }
}

/// A capture that failed is logged: the schedule goes on (the next tick tries again).
fn report<T>(result: Result<T, SdkError>) {
    if let Err(error) = result {
        tracing::warn!(%error, "could not capture monitor readings");
    }
}
