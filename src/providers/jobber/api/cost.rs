//! The model of Jobber's query-cost bucket, and the pacing decisions made from it.
//!
//! Every answer reports `extensions.cost`: the query's requested cost and the bucket's
//! `throttleStatus` (maximum, currently available, restore rate). integ keeps the latest as a
//! [`Bucket`] and, before each query, waits until the bucket can afford it; each figure is
//! clamped to what a real account can have, and every wait is capped, so a wild answer can
//! neither panic the run nor park it for years.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::query::{ASSIGNEES_FIRST, LINE_ITEMS_FIRST, VISITS_FIRST};

/// Target requested cost of one details query, as a share of the bucket. Larger shares mean
/// fewer requests but worse pacing: waiting until the bucket holds 80% of its size wastes the
/// restore rate near the cap (measured: wall/minimum 1.17 at 0.8 against 1.006 at 0.5).
pub(super) const DETAILS_SHARE: f64 = 0.5;

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
