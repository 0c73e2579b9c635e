//! The model of Jobber's query-cost bucket, and the pacing decisions made from it.
//!
//! Every answer reports `extensions.cost`: the query's requested cost and the bucket's
//! `throttleStatus` (maximum, currently available, restore rate). integ keeps the latest as a
//! [`Bucket`] and, before each query, waits until the bucket can afford it; each figure is
//! clamped to what a real account can have, and every wait is capped, so a wild answer can
//! neither panic the run nor park it for years.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::query::{ASSIGNEES_FIRST, JOBS_PAGE, LINE_ITEMS_FIRST, VISITS_FIRST};

/// Target requested cost of one details query, as a share of the bucket. Larger shares mean
/// fewer requests but worse pacing: waiting until the bucket holds 80% of its size wastes the
/// restore rate near the cap (measured: wall/minimum 1.17 at 0.8 against 1.006 at 0.5).
const DETAILS_SHARE: f64 = 0.5;

/// Cost estimates before the first answer tells the real figure: one point per field, objects
/// included, connections multiplied by `first`.
pub(super) fn estimate_jobs_page(first: u32) -> f64 {
    first as f64 * 25.0 + 3.0
}

pub(super) fn estimate_details_per_job() -> f64 {
    let line_items = LINE_ITEMS_FIRST as f64 * 8.0 + 3.0;
    let assignees = ASSIGNEES_FIRST as f64 * 3.0 + 3.0;
    let visits = VISITS_FIRST as f64 * (8.0 + assignees) + 3.0;
    1.0 + line_items + visits
}

/// The model of Jobber's leaky bucket.
#[derive(Debug, Clone)]
pub(super) struct Bucket {
    pub(super) max: f64,
    pub(super) available: f64,
    pub(super) restore_rate: f64,
    pub(super) at: Instant,
}

impl Bucket {
    fn available_now(&self) -> f64 {
        (self.available + self.restore_rate * self.at.elapsed().as_secs_f64()).min(self.max)
    }
    /// How long until `cost` points are available (a little slack for clock skew), at most
    /// [`crate::http::MAX_WAIT`] whatever the figures say.
    pub(super) fn wait_for(&self, cost: f64) -> Duration {
        let short = cost - self.available_now();
        // Written so that NaN (from a figure no clamp caught) means no wait, never a panic.
        let positive = |x: f64| x > 0.0;
        if !positive(short) || !positive(self.restore_rate) {
            return Duration::ZERO;
        }
        crate::http::bounded_secs(short / self.restore_rate + 0.05, crate::http::MAX_WAIT).unwrap_or(Duration::ZERO)
    }
}

/// Jobber's bucket holds 10,000 points restoring 500 a second; a figure far outside what any
/// account has (negative, NaN, infinite, a bucket of 10^300 points) is not trusted.
const MAX_POINTS: f64 = 1e9;
/// The slowest restore rate believed, in points a second; slower ones are read as this, which
/// with the wait cap keeps any pacing wait within minutes.
const MIN_RESTORE_RATE: f64 = 1.0;

/// A number from a cost envelope, if it is one integ can compute with.
pub(super) fn points(v: Option<&Value>) -> Option<f64> {
    v?.as_f64().filter(|f| f.is_finite()).map(|f| f.clamp(0.0, MAX_POINTS))
}
/// Read `extensions.cost` of an answer, each figure clamped to what a real account can have.
pub(super) fn cost_of(body: &Value) -> Option<(f64, Bucket)> {
    let cost = body.pointer("/extensions/cost")?;
    let requested = points(cost.get("requestedQueryCost"))?;
    let ts = cost.get("throttleStatus")?;
    let max = points(ts.get("maximumAvailable"))?.max(1.0);
    Some((
        requested,
        Bucket {
            max,
            available: points(ts.get("currentlyAvailable"))?.min(max),
            restore_rate: points(ts.get("restoreRate"))?.max(MIN_RESTORE_RATE),
            at: Instant::now(),
        },
    ))
}

/// Jobs per details query, so its requested cost (`per_job` each, as last learned) stays within
/// a share of the bucket: at least one, at most 50.
pub(super) fn details_batch(bucket_max: f64, per_job: f64) -> usize {
    ((bucket_max * DETAILS_SHARE) / per_job.max(1.0)).floor().clamp(1.0, 50.0) as usize
}

/// Jobs per page, so one page's requested cost fits comfortably (half the bucket) in it.
pub(super) fn jobs_page_size(bucket_max: f64, per_job: f64) -> u32 {
    (((bucket_max * 0.5) / per_job.max(1.0)).floor() as u32).clamp(1, JOBS_PAGE)
}

/// How long to wait after a THROTTLED answer, and the requested cost it reported: until the
/// bucket it reported holds the requested cost, or 1 s when the answer gives nothing to go by.
pub(super) fn throttled_wait(body: &Value) -> (f64, Duration) {
    let requested = points(body.pointer("/extensions/cost/requestedQueryCost")).unwrap_or(0.0);
    let wait =
        cost_of(body).map(|(_, b)| b.wait_for(requested)).filter(|w| !w.is_zero()).unwrap_or(Duration::from_secs(1));
    (requested, wait)
}

/// The wait after the `n`th HTTP 429 in a row (from 0) that came without `Retry-After`:
/// 1, 2, 4 ... 32 s, then 60 s.
pub(super) fn refusal_wait(n: u32) -> Duration {
    Duration::from_secs((1u64 << n.min(6)).min(60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::jobber::api::envelope::Answer;
    use serde_json::json;

    fn bucket(available: f64, restore_rate: f64) -> Bucket {
        Bucket { max: 10_000.0, available, restore_rate, at: Instant::now() }
    }

    #[test]
    fn absurd_costs_and_rates_neither_panic_nor_ask_for_long_waits() {
        let ceiling = Duration::from_secs(15 * 60);
        // A huge requested cost (THROTTLED's wait is computed from it).
        assert!(bucket(0.0, 500.0).wait_for(1e300) <= ceiling);
        assert!(bucket(0.0, 500.0).wait_for(f64::INFINITY) <= ceiling);
        assert!(bucket(0.0, 500.0).wait_for(f64::NAN) <= ceiling);
        // A tiny restore rate: (903 − 0) / 1e-6 s is about 29 years.
        assert!(bucket(0.0, 1e-6).wait_for(903.0) <= ceiling);
        assert!(bucket(f64::NEG_INFINITY, 500.0).wait_for(903.0) <= ceiling);
        assert!(bucket(-1e308, 1e-300).wait_for(1e308) <= ceiling);
        // cost_of keeps what it reads usable.
        let body = json!({"extensions": {"cost": {"requestedQueryCost": 1e300, "throttleStatus":
            {"maximumAvailable": -5, "currentlyAvailable": 1e300, "restoreRate": 0}}}});
        if let Some((requested, b)) = cost_of(&body) {
            assert!(requested.is_finite() && b.max.is_finite() && b.max > 0.0, "{requested} {b:?}");
            assert!(b.wait_for(requested) <= ceiling);
        }
    }

    /// A bucket last reported `ago` before now, as `cost_of` would build it.
    fn reported(max: f64, available: f64, restore_rate: f64, ago: Duration) -> Bucket {
        let at = Instant::now().checked_sub(ago).expect("a moment in the past");
        Bucket { max, available, restore_rate, at }
    }

    fn envelope(requested: f64, max: f64, available: f64, restore_rate: f64) -> Value {
        json!({"extensions": {"cost": {"requestedQueryCost": requested, "throttleStatus":
            {"maximumAvailable": max, "currentlyAvailable": available, "restoreRate": restore_rate}}}})
    }

    /// `d` is within 20 ms below `secs` (the bucket restores a little while a test runs).
    fn about(d: Duration, secs: f64) -> bool {
        let d = d.as_secs_f64();
        d <= secs + 1e-9 && d > secs - 0.02
    }

    #[test]
    fn a_query_the_bucket_can_afford_goes_at_once() {
        assert_eq!(bucket(10_000.0, 500.0).wait_for(903.0), Duration::ZERO);
        assert_eq!(bucket(903.0, 500.0).wait_for(903.0), Duration::ZERO);
        assert_eq!(bucket(0.0, 500.0).wait_for(0.0), Duration::ZERO);
        assert_eq!(bucket(0.0, 500.0).wait_for(-5.0), Duration::ZERO);
    }

    #[test]
    fn a_short_bucket_waits_for_the_shortfall_at_the_restore_rate_plus_slack() {
        // 1,000 points short at 500 a second: 2 s, and 50 ms for clock skew.
        assert!(about(bucket(0.0, 500.0).wait_for(1_000.0), 2.05));
        assert!(about(bucket(400.0, 500.0).wait_for(903.0), 503.0 / 500.0 + 0.05));
        // A slower restore rate makes the same shortfall a longer wait.
        assert!(about(bucket(0.0, 100.0).wait_for(1_000.0), 10.05));
    }

    #[test]
    fn the_bucket_refills_since_it_was_reported_but_never_past_its_maximum() {
        // Reported empty 2 s ago at 500 a second: 1,000 points are there now.
        let b = reported(10_000.0, 0.0, 500.0, Duration::from_secs(2));
        assert!(b.available_now() >= 1_000.0);
        assert_eq!(b.wait_for(903.0), Duration::ZERO);
        assert!(about(b.wait_for(1_500.0), 500.0 / 500.0 + 0.05));
        // Reported long ago: full, and a query over the maximum still waits for the rest.
        let b = reported(10_000.0, 0.0, 500.0, Duration::from_secs(60));
        assert_eq!(b.available_now(), 10_000.0);
        assert!(about(b.wait_for(10_500.0), 1.05));
    }

    #[test]
    fn cost_of_reads_the_throttle_status_and_clamps_each_figure() {
        let (requested, b) = cost_of(&envelope(903.0, 10_000.0, 7_500.0, 500.0)).expect("a cost");
        assert_eq!((requested, b.max, b.available, b.restore_rate), (903.0, 10_000.0, 7_500.0, 500.0));
        // More available than the maximum is read as full; a rate of 0 as the slowest believed.
        let (_, b) = cost_of(&envelope(10.0, 1_000.0, 5_000.0, 0.0)).expect("a cost");
        assert_eq!((b.available, b.restore_rate), (1_000.0, MIN_RESTORE_RATE));
        // A bucket of no size is read as one point; negative figures as zero.
        let (requested, b) = cost_of(&envelope(-3.0, 0.0, -1.0, 500.0)).expect("a cost");
        assert_eq!((requested, b.max, b.available), (0.0, 1.0, 0.0));
        // Without the figures there is nothing to model.
        assert!(cost_of(&json!({"data": {}})).is_none());
        assert!(cost_of(&json!({"extensions": {"cost": {"requestedQueryCost": 5}}})).is_none());
        assert!(
            cost_of(&json!({"extensions": {"cost": {"requestedQueryCost": "5", "throttleStatus":
            {"maximumAvailable": 1, "currentlyAvailable": 1, "restoreRate": 1}}}}))
            .is_none()
        );
    }

    #[test]
    fn throttled_waits_until_the_reported_bucket_holds_the_requested_cost() {
        // Jobber's own example figures: 1,200 requested, 200 available, 500 a second.
        let (requested, wait) = throttled_wait(&envelope(1_200.0, 10_000.0, 200.0, 500.0));
        assert_eq!(requested, 1_200.0);
        assert!(about(wait, 2.05), "{wait:?}");
        // Throttled although the figures say it fits, or without figures: a second.
        assert_eq!(throttled_wait(&envelope(100.0, 10_000.0, 5_000.0, 500.0)).1, Duration::from_secs(1));
        assert_eq!(
            throttled_wait(&json!({"errors": [{"extensions": {"code": "THROTTLED"}}]})),
            (0.0, Duration::from_secs(1))
        );
        // However absurd the figures, the wait is capped.
        assert!(throttled_wait(&envelope(1e9, 1e9, 0.0, 0.0)).1 <= crate::http::MAX_WAIT);
    }

    #[test]
    fn refusals_without_retry_after_wait_longer_each_time_up_to_a_minute() {
        let waits: Vec<u64> = (0..9).map(|n| refusal_wait(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(refusal_wait(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn details_batches_take_half_the_bucket_within_1_to_50_jobs() {
        // Before any answer: the estimate per job against a 10,000-point bucket.
        assert_eq!(details_batch(10_000.0, estimate_details_per_job()), 6);
        assert_eq!(details_batch(10_000.0, 1_000.0), 5);
        assert_eq!(details_batch(10_000.0, 20_000.0), 1);
        assert_eq!(details_batch(10_000.0, 1.0), 50);
        // A learned cost of zero (or less) is read as one point a job.
        assert_eq!(details_batch(10_000.0, 0.0), 50);
        assert_eq!(details_batch(40.0, -5.0), 20);
    }

    #[test]
    fn jobs_pages_take_half_the_bucket_within_1_to_a_full_page() {
        assert_eq!(jobs_page_size(10_000.0, estimate_jobs_page(1) - 3.0), JOBS_PAGE);
        assert_eq!(jobs_page_size(2_000.0, 25.0), 40);
        assert_eq!(jobs_page_size(10_000.0, 1e6), 1);
        assert_eq!(jobs_page_size(1.0, 0.0), 1);
        assert_eq!(jobs_page_size(10_000.0, 0.0), JOBS_PAGE);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn figure() -> impl Strategy<Value = Value> {
            prop_oneof![
                any::<f64>().prop_map(|f| json!(f)),
                any::<i64>().prop_map(|i| json!(i)),
                any::<u64>().prop_map(|i| json!(i)),
                Just(Value::Null),
                "[ -~]{0,10}".prop_map(Value::String),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// Any cost envelope: no panic, and every wait it leads to stays within the cap.
            #[test]
            fn cost_envelopes_never_panic_nor_ask_for_long_waits(
                requested in figure(), max in figure(), available in figure(), rate in figure(),
                throttled in any::<bool>(), cost in any::<f64>(),
            ) {
                let body = json!({"data": null, "errors": if throttled { json!([{"extensions": {"code": "THROTTLED"}}]) } else { json!([]) },
                    "extensions": {"cost": {"requestedQueryCost": requested, "throttleStatus":
                        {"maximumAvailable": max, "currentlyAvailable": available, "restoreRate": rate}}}});
                let ceiling = crate::http::MAX_WAIT;
                if let Some((requested, b)) = cost_of(&body) {
                    prop_assert!(requested.is_finite() && b.max.is_finite() && b.available.is_finite());
                    prop_assert!(b.wait_for(requested) <= ceiling);
                    prop_assert!(b.wait_for(cost) <= ceiling);
                }
                let text = body.to_string();
                let parsed = Answer::<serde::de::IgnoredAny>::parse(text.as_bytes());
                prop_assert!(parsed.is_some());
            }
        }
    }
}
