//! The updates waiting to be delivered, oldest first: what makes readings survive being
//! offline. Pure data; `persist` writes it to disk after every change.
//!
//! Only changes are queued: a reading equal to what the server will hold once the update in
//! flight (if any) is acknowledged is dropped. A newer reading of an attribute removes the
//! older, not yet sent reading of it from the queue (coalescing), so the queue holds at most
//! one pending value per attribute; the update in flight is never touched, so what is
//! acknowledged is exactly what was sent.

use crate::readings::Readings;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// One update waiting for delivery: one request, one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingUpdate {
    /// Unique within the queue.
    pub id: u64,
    /// The `event` it is sent with.
    pub event: String,
    /// The attribute values.
    pub update: Readings,
    /// When the readings were taken.
    pub captured_at: DateTime<Utc>,
    /// A heartbeat: sent even though nothing changed.
    #[serde(default)]
    pub heartbeat: bool,
}

/// The queue, as kept on disk.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct UpdateQueue {
    entries: VecDeque<PendingUpdate>,
    next_id: u64,
    /// The update being sent; not saved (after a restart nothing is in flight).
    #[serde(skip)]
    in_flight: Option<u64>,
}

impl UpdateQueue {
    /// Queues the readings that change what the server holds (`acknowledged`, then the update
    /// in flight); returns whether anything was queued. When more than `capacity` updates
    /// wait, the oldest is dropped.
    pub fn push_readings(
        &mut self,
        event: &str,
        readings: Readings,
        acknowledged: &Readings,
        now: DateTime<Utc>,
        capacity: usize,
    ) -> bool {
        let mut changed = Readings::new();
        for (attribute, value) in readings {
            self.forget_pending(&attribute);
            let in_flight = self
                .in_flight_entry()
                .and_then(|e| e.update.get(&attribute));
            if in_flight.or_else(|| acknowledged.get(&attribute)) != Some(&value) {
                changed.insert(attribute, value);
            }
        }
        self.drop_empty();
        if changed.is_empty() {
            return false;
        }
        self.push(event, changed, now, false, capacity);
        true
    }

    /// Queues a heartbeat, replacing any that waits.
    pub fn push_heartbeat(
        &mut self,
        event: &str,
        update: Readings,
        now: DateTime<Utc>,
        capacity: usize,
    ) {
        for attribute in update.keys() {
            self.forget_pending(attribute);
        }
        self.drop_empty();
        self.push(event, update, now, true, capacity);
    }

    /// Whether a heartbeat waits or is being sent.
    pub fn has_heartbeat(&self) -> bool {
        self.entries.iter().any(|entry| entry.heartbeat)
    }

    /// The oldest update, now marked in flight.
    pub fn start_next(&mut self) -> Option<PendingUpdate> {
        let next = self.entries.front()?.clone();
        self.in_flight = Some(next.id);
        Some(next)
    }

    /// The update in flight was delivered (or refused for good): it leaves the queue.
    pub fn finish(&mut self, id: u64) {
        self.entries.retain(|entry| entry.id != id);
        if self.in_flight == Some(id) {
            self.in_flight = None;
        }
    }

    /// The update in flight was not delivered; it stays first, open to coalescing again.
    pub fn release(&mut self) {
        self.in_flight = None;
    }

    /// Updates waiting, the one in flight included.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Every waiting update, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = &PendingUpdate> {
        self.entries.iter()
    }

    fn in_flight_entry(&self) -> Option<&PendingUpdate> {
        let id = self.in_flight?;
        self.entries.iter().find(|entry| entry.id == id)
    }

    fn forget_pending(&mut self, attribute: &str) {
        let in_flight = self.in_flight;
        for entry in &mut self.entries {
            if Some(entry.id) != in_flight {
                entry.update.remove(attribute);
            }
        }
    }

    fn drop_empty(&mut self) {
        let in_flight = self.in_flight;
        self.entries
            .retain(|entry| !entry.update.is_empty() || Some(entry.id) == in_flight);
    }

    fn push(
        &mut self,
        event: &str,
        update: Readings,
        now: DateTime<Utc>,
        heartbeat: bool,
        capacity: usize,
    ) {
        self.next_id += 1;
        self.entries.push_back(PendingUpdate {
            id: self.next_id,
            event: event.to_owned(),
            update,
            captured_at: now,
            heartbeat,
        });
        while self.entries.len() > capacity.max(1) {
            let in_flight = self.in_flight;
            let Some(oldest) = self.entries.iter().position(|e| Some(e.id) != in_flight) else {
                break;
            };
            if let Some(dropped) = self.entries.remove(oldest) {
                tracing::warn!(event = %dropped.event, "update queue full: dropped the oldest update");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn readings(value: Value) -> Readings {
        serde_json::from_value(value).unwrap()
    }

    fn queue_with(acknowledged: &Readings, pushes: &[(&str, Value)]) -> UpdateQueue {
        let mut queue = UpdateQueue::default();
        for (event, update) in pushes {
            queue.push_readings(
                event,
                readings(update.clone()),
                acknowledged,
                Utc::now(),
                100,
            );
        }
        queue
    }

    fn shape(queue: &UpdateQueue) -> Vec<(String, Value)> {
        queue
            .entries()
            .map(|e| (e.event.clone(), json!(e.update)))
            .collect()
    }

    #[test]
    fn unchanged_readings_are_not_queued() {
        let acknowledged = readings(json!({"timezone": "Europe/London"}));
        let queue = queue_with(
            &acknowledged,
            &[("TIMEZONECHANGE", json!({"timezone": "Europe/London"}))],
        );
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn a_newer_reading_replaces_the_waiting_one() {
        let queue = queue_with(
            &Readings::new(),
            &[
                ("TIMEZONECHANGE", json!({"timezone": "Europe/Paris"})),
                ("NETWORKCHANGE", json!({"connectType": "wifi"})),
                ("TIMEZONECHANGE", json!({"timezone": "Asia/Tokyo"})),
            ],
        );
        assert_eq!(
            shape(&queue),
            vec![
                ("NETWORKCHANGE".to_owned(), json!({"connectType": "wifi"})),
                (
                    "TIMEZONECHANGE".to_owned(),
                    json!({"timezone": "Asia/Tokyo"})
                ),
            ]
        );
    }

    #[test]
    fn going_back_to_the_acknowledged_value_cancels_the_waiting_change() {
        let acknowledged = readings(json!({"batterylevel": "50%"}));
        let queue = queue_with(
            &acknowledged,
            &[
                ("PERIODICUPDATE", json!({"batterylevel": "40%"})),
                ("PERIODICUPDATE", json!({"batterylevel": "50%"})),
            ],
        );
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn the_update_in_flight_is_never_changed() {
        let acknowledged = readings(json!({"timezone": "A"}));
        let mut queue = queue_with(
            &acknowledged,
            &[("TIMEZONECHANGE", json!({"timezone": "X"}))],
        );
        let sent = queue.start_next().unwrap();

        // Back to A while X is on its way: A must be sent after X.
        queue.push_readings(
            "TIMEZONECHANGE",
            readings(json!({"timezone": "A"})),
            &acknowledged,
            Utc::now(),
            100,
        );
        queue.finish(sent.id);

        assert_eq!(sent.update, readings(json!({"timezone": "X"})));
        assert_eq!(
            shape(&queue),
            vec![("TIMEZONECHANGE".to_owned(), json!({"timezone": "A"}))]
        );
    }

    #[test]
    fn heartbeats_are_sent_unchanged_and_only_one_waits() {
        let mut queue = UpdateQueue::default();
        let beat = readings(json!({"sdkheartbeat": 1, "sdkversion": "2.11.0"}));
        queue.push_heartbeat("ProfileUpdate", beat.clone(), Utc::now(), 100);
        queue.push_heartbeat("ProfileUpdate", beat, Utc::now(), 100);
        assert_eq!(queue.len(), 1);
        assert!(queue.has_heartbeat());
    }

    #[test]
    fn a_full_queue_drops_its_oldest_update() {
        let mut queue = UpdateQueue::default();
        for (i, attribute) in ["timezone", "language", "location"].iter().enumerate() {
            queue.push_readings(
                "E",
                readings(json!({ *attribute: i })),
                &Readings::new(),
                Utc::now(),
                2,
            );
        }
        let kept: Vec<_> = queue
            .entries()
            .flat_map(|e| e.update.keys().cloned())
            .collect();
        assert_eq!(kept, vec!["language", "location"]);
    }

    #[test]
    fn the_queue_survives_a_round_trip_through_json_without_its_flight() {
        let mut queue = queue_with(&Readings::new(), &[("E", json!({"timezone": "A"}))]);
        queue.start_next();
        let text = serde_json::to_string(&queue).unwrap();
        let mut back: UpdateQueue = serde_json::from_str(&text).unwrap();
        assert_eq!(back.in_flight, None);
        assert_eq!(
            back.start_next().unwrap().update,
            readings(json!({"timezone": "A"}))
        );
    }
}
