//! Cursor paging over the ordered indexes of [`crate::jobber::data`], plus the filter and sort
//! arguments of `jobs` and `clients`.
//!
//! A page is a range scan from the cursor's position, so it costs O(log N + page) whatever
//! the table size (filters only add the rows they skip). Two cursor modes:
//!
//! - `key` (default): the cursor encodes the sort key of the row it points at,
//!   base64 of `"{tag}|{value}|{id}"` (tag `u` updatedAt, `n` job number, `c` createdAt).
//!   Paging continues strictly after that key, so a cursor stays meaningful when rows are
//!   edited or deleted: if its own row was edited (moved) or deleted, paging still resumes
//!   from the position the row *had*. Rows edited mid-scan move to their new `updatedAt`
//!   position: under `UPDATED_AT DESCENDING` they jump to the top, ahead of the cursor, and
//!   this scan does not return them again; rows deleted mid-scan simply never show up.
//! - `offset`: Jobber's own style, base64 of the 1-based position (`MjU` = 25). An edit or
//!   delete ahead of the cursor shifts every later row by one, so a scan may return a row
//!   twice or skip one it never saw. Useful to test a client against the real API's trap.

use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Unbounded};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jobber::data::{AccountData, Client, Job, Key};

/// Rows returned when neither `first` nor `last` is given (the cost model assumes 100 too).
pub const DEFAULT_PAGE: usize = 100;

/// How cursors encode a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CursorMode {
    /// The row's sort key: stable across edits and deletes.
    Key,
    /// The row's 1-based position, like Jobber: edits and deletes shift later rows.
    Offset,
}

/// The Relay paging arguments of one connection field.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub first: Option<usize>,
    pub last: Option<usize>,
    pub after: Option<String>,
    pub before: Option<String>,
    pub offset: Option<usize>,
}

impl Window {
    pub fn from_args(args: &Map<String, Value>) -> Result<Window, String> {
        let count = |k: &str| -> Result<Option<usize>, String> {
            match args.get(k).and_then(Value::as_i64) {
                None => Ok(None),
                Some(n) if n < 0 => Err(format!("Argument '{k}' must be non-negative")),
                Some(n) => Ok(Some(n as usize)),
            }
        };
        let text = |k: &str| args.get(k).and_then(Value::as_str).map(String::from);
        Ok(Window {
            first: count("first")?,
            last: count("last")?,
            after: text("after"),
            before: text("before"),
            offset: count("offset")?,
        })
    }
}

/// One page of keys with their cursors.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub keys: Vec<Key>,
    pub cursors: Vec<String>,
    pub has_next: bool,
    pub has_prev: bool,
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(s)
}

fn unb64(c: &str) -> Option<String> {
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(c.trim_end_matches('='))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
}

pub fn key_cursor(tag: char, k: Key) -> String {
    b64(&format!("{tag}|{}|{}", k.0, k.1))
}

fn decode_key(tag: char, c: &str) -> Option<Key> {
    let s = unb64(c)?;
    let mut parts = s.split('|');
    let t = parts.next()?;
    let v = parts.next()?.parse().ok()?;
    let id = parts.next()?.parse().ok()?;
    (t.len() == 1 && t.starts_with(tag) && parts.next().is_none()).then_some((v, id))
}

fn decode_pos(c: &str) -> Option<usize> {
    unb64(c)?.parse().ok()
}

/// Rows strictly after `from` in the logical order (all rows when `None`).
fn forward<'a>(index: &'a BTreeSet<Key>, desc: bool, from: Option<Key>) -> Box<dyn Iterator<Item = Key> + 'a> {
    match (desc, from) {
        (false, None) => Box::new(index.iter().copied()),
        (false, Some(k)) => Box::new(index.range((Excluded(k), Unbounded)).copied()),
        (true, None) => Box::new(index.iter().rev().copied()),
        (true, Some(k)) => Box::new(index.range((Unbounded, Excluded(k))).rev().copied()),
    }
}

/// Rows strictly before `to` in the logical order, nearest first.
fn backward<'a>(index: &'a BTreeSet<Key>, desc: bool, to: Option<Key>) -> Box<dyn Iterator<Item = Key> + 'a> {
    forward(index, !desc, to)
}

/// Whether `a` comes before `b` in the logical order.
fn precedes(a: Key, b: Key, desc: bool) -> bool {
    if desc { a > b } else { a < b }
}

/// One page of `index` (rows for which `keep` holds) in ascending or descending order.
pub fn page(
    index: &BTreeSet<Key>,
    tag: char,
    desc: bool,
    keep: &dyn Fn(u64) -> bool,
    w: &Window,
    mode: CursorMode,
) -> Result<Page, String> {
    let bad = |k: &str, c: &str| format!("Invalid cursor for `{k}`: {c:?}");
    // The n-th kept row (1-based) in the logical order, or the last one if there are fewer,
    // and how many rows were counted to get there.
    let nth = |n: usize| -> (Option<Key>, usize) {
        let mut last = (None, 0);
        if n == 0 {
            return last;
        }
        for (i, k) in forward(index, desc, None).filter(|k| keep(k.1)).enumerate() {
            last = (Some(k), i + 1);
            if i + 1 == n {
                break;
            }
        }
        last
    };
    // Start position (number of kept rows before the window) when known without counting.
    // An offset past the end leaves `after` on the last row, so nothing follows.
    let (after, mut start_pos): (Option<Key>, Option<usize>) = match (w.offset, &w.after, mode) {
        // With both offset and after, after is ignored.
        (Some(o), _, _) => (nth(o).0, Some(o)),
        (None, None, _) => (None, Some(0)),
        (None, Some(c), CursorMode::Key) => (Some(decode_key(tag, c).ok_or(bad("after", c))?), None),
        (None, Some(c), CursorMode::Offset) => {
            let p = decode_pos(c).ok_or(bad("after", c))?;
            (nth(p).0, Some(p))
        }
    };
    let before: Option<Key> = match (&w.before, mode) {
        (None, _) => None,
        (Some(c), CursorMode::Key) => Some(decode_key(tag, c).ok_or(bad("before", c))?),
        (Some(c), CursorMode::Offset) => {
            let p = decode_pos(c).ok_or(bad("before", c))?;
            // Rows before position p: bounded by the p-th row, if there is one.
            match nth(p.max(1)) {
                (Some(k), seen) if seen == p.max(1) && p > 0 => Some(k),
                (Some(k), _) if p == 0 => Some(k),
                _ => None,
            }
        }
    };
    let in_window = |k: &Key| before.is_none_or(|b| precedes(*k, b, desc));
    let keys: Vec<Key> = if w.first.is_some() || w.last.is_none() {
        let take = w.first.unwrap_or(DEFAULT_PAGE);
        let mut v: Vec<Key> =
            forward(index, desc, after).take_while(in_window).filter(|k| keep(k.1)).take(take).collect();
        if let Some(l) = w.last
            && v.len() > l
        {
            let cut = v.len() - l;
            v.drain(..cut);
            start_pos = start_pos.map(|p| p + cut);
        }
        v
    } else {
        start_pos = None;
        let l = w.last.unwrap_or(DEFAULT_PAGE);
        let mut v: Vec<Key> = backward(index, desc, before)
            .take_while(|k| after.is_none_or(|a| precedes(a, *k, desc)))
            .filter(|k| keep(k.1))
            .take(l)
            .collect();
        v.reverse();
        v
    };
    let has_next = match keys.last() {
        Some(k) => forward(index, desc, Some(*k)).any(|k| keep(k.1)),
        None => forward(index, desc, after).any(|k| keep(k.1)),
    };
    let has_prev = match keys.first() {
        Some(k) => backward(index, desc, Some(*k)).any(|k| keep(k.1)),
        None => after.is_some() || backward(index, desc, before).any(|k| keep(k.1)),
    };
    let cursors = match mode {
        CursorMode::Key => keys.iter().map(|k| key_cursor(tag, *k)).collect(),
        CursorMode::Offset => {
            let first_pos = match (start_pos, keys.first()) {
                (Some(p), _) => p,
                (None, Some(k)) => backward(index, desc, Some(*k)).filter(|k| keep(k.1)).count(),
                (None, None) => 0,
            };
            (0..keys.len()).map(|i| b64(&(first_pos + i + 1).to_string())).collect()
        }
    };
    Ok(Page { keys, cursors, has_next, has_prev })
}

// ---------- filters and sorts ----------

/// Parse an `ISO8601DateTime` input to Unix seconds (fractions dropped).
pub fn parse_time(s: &str) -> Option<i64> {
    s.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// An `Iso8601DateTimeRangeInput`; both ends inclusive, a null time never matches.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Range {
    pub after: Option<i64>,
    pub before: Option<i64>,
}

impl Range {
    fn from(v: Option<&Value>) -> Option<Range> {
        let v = v?.as_object()?;
        let t = |k: &str| v.get(k).and_then(Value::as_str).and_then(parse_time);
        Some(Range { after: t("after"), before: t("before") })
    }

    pub fn contains(&self, t: Option<i64>) -> bool {
        t.is_some_and(|t| self.after.is_none_or(|a| t >= a) && self.before.is_none_or(|b| t <= b))
    }
}

fn opt_range_ok(r: &Option<Range>, t: Option<i64>) -> bool {
    r.as_ref().is_none_or(|r| r.contains(t))
}

/// `JobFilterAttributes` plus `searchTerm`.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub ids: Option<Vec<u64>>,
    pub status: Option<String>,
    pub job_type: Option<String>,
    pub created: Option<Range>,
    pub start: Option<Range>,
    pub end: Option<Range>,
    pub completed: Option<Range>,
    pub search: Option<String>,
}

impl JobFilter {
    pub fn from_args(args: &Map<String, Value>) -> JobFilter {
        let f = args.get("filter").and_then(Value::as_object);
        let get = |k: &str| f.and_then(|f| f.get(k)).filter(|v| !v.is_null());
        JobFilter {
            ids: get("ids").and_then(Value::as_array).map(|a| {
                a.iter().filter_map(Value::as_str).filter_map(|s| crate::jobber::api::decode_id(s, "Job")).collect()
            }),
            status: get("status").and_then(Value::as_str).map(String::from),
            job_type: get("jobType").and_then(Value::as_str).map(String::from),
            created: Range::from(get("createdAt")),
            start: Range::from(get("startAt")),
            end: Range::from(get("endAt")),
            completed: Range::from(get("completedAt")),
            search: args
                .get("searchTerm")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_lowercase),
        }
    }

    /// No condition beyond `ids`: every row of the index matches.
    pub fn is_open(&self) -> bool {
        self.status.is_none()
            && self.job_type.is_none()
            && self.created.is_none()
            && self.start.is_none()
            && self.end.is_none()
            && self.completed.is_none()
            && self.search.is_none()
    }

    pub fn matches(&self, j: &Job, d: &AccountData) -> bool {
        self.status.as_ref().is_none_or(|s| *s == j.job_status)
            && self.job_type.as_ref().is_none_or(|t| *t == j.job_type)
            && opt_range_ok(&self.created, Some(j.created_at))
            && opt_range_ok(&self.start, j.start_at)
            && opt_range_ok(&self.end, j.end_at)
            && opt_range_ok(&self.completed, j.completed_at)
            && self.search.as_ref().is_none_or(|s| {
                j.title.as_ref().is_some_and(|t| t.to_lowercase().contains(s))
                    || j.job_number.to_string() == *s
                    || d.clients.get(&j.client).is_some_and(|c| c.name().to_lowercase().contains(s))
            })
    }
}

/// `ClientFilterAttributes`.
#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    pub updated: Option<Range>,
    pub created: Option<Range>,
    pub is_company: Option<bool>,
    pub is_lead: Option<bool>,
    pub is_archived: Option<bool>,
}

impl ClientFilter {
    pub fn from_args(args: &Map<String, Value>) -> ClientFilter {
        let f = args.get("filter").and_then(Value::as_object);
        let get = |k: &str| f.and_then(|f| f.get(k)).filter(|v| !v.is_null());
        ClientFilter {
            updated: Range::from(get("updatedAt")),
            created: Range::from(get("createdAt")),
            is_company: get("isCompany").and_then(Value::as_bool),
            is_lead: get("isLead").and_then(Value::as_bool),
            is_archived: get("isArchived").and_then(Value::as_bool),
        }
    }

    pub fn matches(&self, c: &Client) -> bool {
        opt_range_ok(&self.updated, Some(c.updated_at))
            && opt_range_ok(&self.created, Some(c.created_at))
            && self.is_company.is_none_or(|b| b == c.is_company)
            && self.is_lead.is_none_or(|b| b == c.is_lead)
            && self.is_archived.is_none_or(|b| b == c.is_archived)
    }
}

/// Which index a sort uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `(updatedAt, id)`, cursor tag `u`.
    Updated,
    /// `(jobNumber, id)`, cursor tag `n`.
    Number,
    /// `(createdAt, id)`, cursor tag `c`.
    Created,
}

impl Order {
    pub fn tag(self) -> char {
        match self {
            Order::Updated => 'u',
            Order::Number => 'n',
            Order::Created => 'c',
        }
    }
}

/// The first element of a `sort` list: (order, descending). Later elements are ignored;
/// ties are always broken by id in the same direction.
pub fn sort_arg(args: &Map<String, Value>, default: (Order, bool)) -> (Order, bool) {
    let Some(first) = args.get("sort").and_then(Value::as_array).and_then(|a| a.first()) else {
        return default;
    };
    let desc = first.get("direction").and_then(Value::as_str) == Some("DESCENDING");
    let order = match first.get("key").and_then(Value::as_str) {
        Some("UPDATED_AT") => Order::Updated,
        Some("CREATED_AT") => Order::Created,
        // JOB_NUMBER; the other job keys (client names, totals, status, schedule) are
        // served in job-number order.
        _ => Order::Number,
    };
    (order, desc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(n: u64) -> BTreeSet<Key> {
        (1..=n).map(|i| ((i as i64) * 10, i)).collect()
    }

    fn win(first: Option<usize>, last: Option<usize>, after: Option<&str>, before: Option<&str>) -> Window {
        Window { first, last, after: after.map(String::from), before: before.map(String::from), offset: None }
    }

    fn ids(p: &Page) -> Vec<u64> {
        p.keys.iter().map(|k| k.1).collect()
    }

    #[test]
    fn key_cursors_page_both_ways() {
        let ix = index(7);
        let all = |_: u64| true;
        for mode in [CursorMode::Key, CursorMode::Offset] {
            let p1 = page(&ix, 'u', true, &all, &win(Some(3), None, None, None), mode).unwrap();
            assert_eq!(ids(&p1), [7, 6, 5]);
            assert!(p1.has_next && !p1.has_prev);
            let c = p1.cursors[2].clone();
            let p2 = page(&ix, 'u', true, &all, &win(Some(3), None, Some(&c), None), mode).unwrap();
            assert_eq!(ids(&p2), [4, 3, 2]);
            assert!(p2.has_next && p2.has_prev);
            let p3 = page(&ix, 'u', true, &all, &win(Some(3), None, Some(&p2.cursors[2]), None), mode).unwrap();
            assert_eq!(ids(&p3), [1]);
            assert!(!p3.has_next);
            // Backwards from p2's first row.
            let back = page(&ix, 'u', true, &all, &win(None, Some(2), None, Some(&p2.cursors[0])), mode).unwrap();
            assert_eq!(ids(&back), [6, 5]);
            assert!(back.has_next && back.has_prev);
            assert_eq!(back.cursors, p1.cursors[1..]);
            let asc = page(&ix, 'u', false, &all, &win(Some(2), Some(1), None, None), mode).unwrap();
            assert_eq!(ids(&asc), [2]);
        }
        assert!(page(&ix, 'u', true, &all, &win(Some(1), None, Some("!!"), None), CursorMode::Key).is_err());
        let other_tag = key_cursor('n', (10, 1));
        assert!(page(&ix, 'u', true, &all, &win(Some(1), None, Some(&other_tag), None), CursorMode::Key).is_err());
    }

    #[test]
    fn key_cursors_survive_edits_and_deletes() {
        let mut ix = index(6);
        let all = |_: u64| true;
        let p1 = page(&ix, 'u', true, &all, &win(Some(2), None, None, None), CursorMode::Key).unwrap();
        assert_eq!(ids(&p1), [6, 5]);
        // Row 5 (the cursor's row) is edited and moves to the top; row 3 is deleted.
        ix.remove(&(50, 5));
        ix.insert((100, 5));
        ix.remove(&(30, 3));
        let p2 = page(&ix, 'u', true, &all, &win(Some(2), None, Some(&p1.cursors[1]), None), CursorMode::Key).unwrap();
        assert_eq!(ids(&p2), [4, 2]);
        assert!(p2.has_next);
        // The same in offset mode: the edit shifts everything by one, row 5 comes back.
        let mut ix = index(6);
        let p1 = page(&ix, 'u', true, &all, &win(Some(2), None, None, None), CursorMode::Offset).unwrap();
        ix.remove(&(40, 4));
        ix.insert((100, 4));
        let p2 =
            page(&ix, 'u', true, &all, &win(Some(2), None, Some(&p1.cursors[1]), None), CursorMode::Offset).unwrap();
        assert_eq!(ids(&p2), [5, 3], "offset cursors repeat a row after an edit ahead");
    }

    #[test]
    fn filters_offsets_and_empty_pages() {
        let ix = index(10);
        let even = |id: u64| id.is_multiple_of(2);
        let p = page(&ix, 'n', false, &even, &win(Some(2), None, None, None), CursorMode::Key).unwrap();
        assert_eq!(ids(&p), [2, 4]);
        let p = page(&ix, 'n', false, &even, &win(Some(10), None, Some(&p.cursors[1]), None), CursorMode::Key).unwrap();
        assert_eq!(ids(&p), [6, 8, 10]);
        assert!(!p.has_next && p.has_prev);
        let mut w = win(Some(2), None, Some("garbage-ignored"), None);
        w.offset = Some(3);
        let p = page(&ix, 'n', false, &even, &w, CursorMode::Key).unwrap();
        assert_eq!(ids(&p), [8, 10], "offset wins over after");
        w.offset = Some(5);
        assert!(page(&ix, 'n', false, &even, &w, CursorMode::Key).unwrap().keys.is_empty());
        w.offset = Some(50);
        let p = page(&ix, 'n', false, &even, &w, CursorMode::Key).unwrap();
        assert!(p.keys.is_empty() && !p.has_next);
        let none = page(&ix, 'n', false, &|_| false, &win(Some(5), None, None, None), CursorMode::Key).unwrap();
        assert!(none.keys.is_empty() && !none.has_next && !none.has_prev);
        let zero = page(&ix, 'n', false, &even, &win(Some(0), None, None, None), CursorMode::Key).unwrap();
        assert!(zero.keys.is_empty() && zero.has_next);
        let dflt = page(&index(150), 'n', false, &|_| true, &Window::default(), CursorMode::Key).unwrap();
        assert_eq!(dflt.keys.len(), DEFAULT_PAGE);
    }

    #[test]
    fn ranges_are_inclusive_and_skip_nulls() {
        let r = Range { after: parse_time("2026-01-01T00:00:00Z"), before: parse_time("2026-01-02T00:00:00+00:00") };
        assert!(r.contains(parse_time("2026-01-01T00:00:00Z")));
        assert!(r.contains(parse_time("2026-01-02T00:00:00Z")));
        assert!(!r.contains(parse_time("2026-01-02T00:00:01Z")));
        assert!(!r.contains(None));
        assert_eq!(parse_time("2026-01-01T00:00:00.9Z"), parse_time("2026-01-01T00:00:00Z"));
        assert!(parse_time("2026-01-01").is_none());
    }
}
