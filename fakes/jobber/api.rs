//! The Jobber GraphQL schema the fake serves and its resolvers over [`AccountData`].
//!
//! Root `jobs` and `clients` page the ordered indexes of `jobber_data` through
//! `jobber_page` (key cursors, filters, sorts); nested `lineItems`, `visits` and
//! `assignedUsers` page small lists with [`connection`] (position cursors). Job nodes carry
//! hidden `_id`/`_client`/`_property` keys for the nested resolvers; the executor only
//! outputs selected schema fields, so they never leak. Costs need no code: any `*Connection`
//! type is priced `first` (or `last`, else 100) × its `nodes`/`edges`.
//!
//! To add a field: put it in [`SDL`] with Jobber's exact name, in the row type and its
//! serde view in `jobber_data` (which the ground truth shares), and a resolver here only if
//! it is a connection or an object behind an id.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::graphql::{Out, Resolvers, Schema};
use crate::jobber::data::{Key, client_field, job_field, line_item_field, property_field, user_field, visit_field};
use crate::jobber::page::{
    ClientFilter, CursorMode, DEFAULT_PAGE, JobFilter, Order, Range, Window, page, parse_time, sort_arg,
};

/// The part of Jobber's schema the fake knows. Anything else fails validation with
/// "Field 'x' doesn't exist on type 'Y'", like a field removed from a served version.
pub const SDL: &str = r#"
"Base64 of a global id such as gid://Jobber/Job/142669522"
scalar EncodedId
"An ISO 8601 instant, e.g. 2026-04-28T15:00:00Z"
scalar ISO8601DateTime

type Query {
  "The account the access token belongs to (allowed whatever the app's scopes)"
  account: Account!
  jobs(first: Int, last: Int, after: String, before: String, offset: Int, filter: JobFilterAttributes, sort: [JobsSortInput!], searchTerm: String): JobConnection!
  "null for a missing or deleted job"
  job(id: EncodedId!): Job
  clients(first: Int, last: Int, after: String, before: String, filter: ClientFilterAttributes, sort: [ClientsSortInput!]): ClientConnection!
  client(id: EncodedId!): Client
}

type Mutation {
  "Disconnect the app from the account; kills its access and refresh tokens"
  appDisconnect: AppDisconnectPayload!
}

type Account {
  id: EncodedId!
  name: String!
}

type Application {
  id: EncodedId!
  name: String!
  author: String!
}

type AppDisconnectPayload {
  app: Application
  userErrors: [MutationErrors!]!
}

type MutationErrors {
  message: String!
  path: [String!]
}

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

enum JobStatusTypeEnum { requires_invoicing archived late today upcoming action_required on_hold unscheduled active expiring_within_30_days }
enum JobTypeTypeEnum { ONE_OFF RECURRING }
enum SortDirectionEnum { ASCENDING DESCENDING }
enum JobsSortableFields { CLIENT_FIRST_NAME CLIENT_PRIMARY_NAME UPDATED_AT JOB_NUMBER TOTAL_COST JOB_STATUS SCHEDULE VISIT_START_DATE }
enum ClientsSortableFields { CREATED_AT UPDATED_AT }

"Both ends inclusive"
input Iso8601DateTimeRangeInput {
  after: ISO8601DateTime
  before: ISO8601DateTime
}

input JobFilterAttributes {
  ids: [EncodedId!]
  status: JobStatusTypeEnum
  jobType: JobTypeTypeEnum
  createdAt: Iso8601DateTimeRangeInput
  startAt: Iso8601DateTimeRangeInput
  endAt: Iso8601DateTimeRangeInput
  completedAt: Iso8601DateTimeRangeInput
}

input ClientFilterAttributes {
  updatedAt: Iso8601DateTimeRangeInput
  createdAt: Iso8601DateTimeRangeInput
  isCompany: Boolean
  isLead: Boolean
  isArchived: Boolean
}

input VisitFilterAttributes {
  startAt: Iso8601DateTimeRangeInput
  endAt: Iso8601DateTimeRangeInput
  completedAt: Iso8601DateTimeRangeInput
}

input JobsSortInput {
  key: JobsSortableFields!
  direction: SortDirectionEnum!
}

input ClientsSortInput {
  key: ClientsSortableFields!
  direction: SortDirectionEnum!
}

type JobConnection { nodes: [Job!]! edges: [JobEdge!]! pageInfo: PageInfo! totalCount: Int }
type JobEdge { cursor: String! node: Job! }
type ClientConnection { nodes: [Client!]! edges: [ClientEdge!]! pageInfo: PageInfo! totalCount: Int }
type ClientEdge { cursor: String! node: Client! }
type JobLineItemConnection { nodes: [JobLineItem!]! edges: [JobLineItemEdge!]! pageInfo: PageInfo! totalCount: Int }
type JobLineItemEdge { cursor: String! node: JobLineItem! }
type VisitConnection { nodes: [Visit!]! edges: [VisitEdge!]! pageInfo: PageInfo! totalCount: Int }
type VisitEdge { cursor: String! node: Visit! }
type UserConnection { nodes: [User!]! edges: [UserEdge!]! pageInfo: PageInfo! totalCount: Int }
type UserEdge { cursor: String! node: User! }

type Job {
  id: EncodedId!
  jobNumber: Int!
  title: String
  jobStatus: JobStatusTypeEnum!
  jobType: JobTypeTypeEnum!
  billingType: String
  instructions: String
  total: Float!
  invoicedTotal: Float
  uninvoicedTotal: Float
  startAt: ISO8601DateTime
  endAt: ISO8601DateTime
  completedAt: ISO8601DateTime
  createdAt: ISO8601DateTime!
  updatedAt: ISO8601DateTime!
  jobberWebUri: String!
  client: Client!
  property: Property
  lineItems(first: Int, after: String, last: Int, before: String): JobLineItemConnection!
  visits(first: Int, after: String, last: Int, before: String, filter: VisitFilterAttributes): VisitConnection!
}

type Client {
  id: EncodedId!
  name: String!
  firstName: String
  lastName: String
  companyName: String
  isCompany: Boolean!
  isArchived: Boolean!
  isLead: Boolean!
  createdAt: ISO8601DateTime!
  updatedAt: ISO8601DateTime!
  jobberWebUri: String!
}

type Property {
  id: EncodedId!
  address: PropertyAddress!
}

type PropertyAddress {
  street1: String
  street2: String
  city: String
  province: String
  postalCode: String
  country: String
}

type JobLineItem {
  id: EncodedId!
  name: String!
  description: String
  quantity: Float!
  unitPrice: Float!
  totalPrice: Float!
  taxable: Boolean!
  qty: Float @deprecated(reason: "Use quantity")
  unitCost: Float @deprecated(reason: "Use unitPrice")
  cost: Float @deprecated(reason: "Use totalPrice")
}

type Visit {
  id: EncodedId!
  title: String
  startAt: ISO8601DateTime
  endAt: ISO8601DateTime
  completedAt: ISO8601DateTime
  isComplete: Boolean!
  visitStatus: String!
  assignedUsers(first: Int, after: String): UserConnection!
}

type User {
  id: EncodedId!
  name: UserName!
}

type UserName {
  first: String
  last: String
  full: String!
}
"#;

/// `EncodedId` inputs must be base64 of a `gid://Jobber/...` id.
pub fn encoded_id_ok(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|g| g.starts_with("gid://Jobber/"))
}

/// `gid://Jobber/{kind}/{n}` as an EncodedId.
pub fn encode_id(kind: &str, n: u64) -> String {
    // Built on the stack: answers encode several ids per row.
    let mut digits = [0u8; 20];
    let mut d = digits.len();
    let mut v = n;
    loop {
        d -= 1;
        digits[d] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let mut buf = [0u8; 64];
    let mut at = 0;
    for part in [&b"gid://Jobber/"[..], kind.as_bytes(), b"/", &digits[d..]] {
        if at + part.len() > buf.len() {
            return base64::engine::general_purpose::STANDARD.encode(format!("gid://Jobber/{kind}/{n}"));
        }
        buf[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    base64::engine::general_purpose::STANDARD.encode(&buf[..at])
}

/// The number of a `gid://Jobber/{kind}/{n}` EncodedId, if it is one of that kind.
pub fn decode_id(s: &str, kind: &str) -> Option<u64> {
    let b = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    let g = String::from_utf8(b).ok()?;
    g.strip_prefix("gid://Jobber/")?.strip_prefix(kind)?.strip_prefix('/')?.parse().ok()
}

/// `ISO8601DateTime` inputs must be ISO 8601 instants with a zone (`Z` or an offset).
pub fn iso_ok(v: &Value) -> bool {
    v.as_str().and_then(parse_time).is_some()
}

pub fn schema() -> Result<Schema, String> {
    Ok(Schema::from_sdl(SDL)?
        .with_scalar_check("EncodedId", encoded_id_ok)
        .with_scalar_check("ISO8601DateTime", iso_ok))
}

pub use crate::jobber::data::AccountData;

/// What resolvers see: the account behind the access token, and effects to apply afterwards.
pub struct ApiCtx<'a> {
    pub account_id: &'a str,
    pub account_name: &'a str,
    pub data: &'a mut AccountData,
    pub cursors: CursorMode,
    pub app_id: String,
    pub app_name: &'a str,
    pub app_author: &'a str,
    /// Set by `appDisconnect`; the transport kills the tokens once the response is built.
    pub disconnect: bool,
}

pub fn resolvers<'a>() -> Resolvers<ApiCtx<'a>> {
    Resolvers::default()
        .on("Query", "account", |c: &mut ApiCtx<'a>, _: &Value, _: &Map<String, Value>| {
            Ok(json!({ "id": c.account_id, "name": c.account_name }))
        })
        .on("Mutation", "appDisconnect", |c: &mut ApiCtx<'a>, _: &Value, _: &Map<String, Value>| {
            c.disconnect = true;
            Ok(json!({
                "app": { "id": c.app_id, "name": c.app_name, "author": c.app_author },
                "userErrors": [],
            }))
        })
        .on("Query", "jobs", jobs)
        .on("Query", "job", job)
        .on("Query", "clients", clients)
        .on("Query", "client", client)
        .on("JobConnection", "totalCount", jobs_total)
        .on("ClientConnection", "totalCount", clients_total)
        .on("Job", "client", job_client)
        .on("Job", "property", job_property)
        .on("Job", "lineItems", job_line_items)
        .on("Job", "visits", job_visits)
        .on("Visit", "assignedUsers", visit_users)
        .fields("Job", job_get)
        .fields("Client", client_get)
        .fields("Property", property_get)
        .fields("JobLineItem", line_item_get)
        .fields("Visit", visit_get)
        .fields("User", user_get)
        .on("JobConnection", "edges", edges)
        .on("ClientConnection", "edges", edges)
        .on("JobLineItemConnection", "edges", edges)
        .on("VisitConnection", "edges", edges)
        .on("UserConnection", "edges", edges)
}

/// `edges { cursor node }` of any connection value built here: its nodes with `_cursors`.
fn edges(_: &mut ApiCtx<'_>, parent: &Value, _: &Args) -> Result<Value, String> {
    let nodes = parent.get("nodes").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let cursors = parent.get("_cursors").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    Ok(Value::Array(nodes.iter().zip(cursors).map(|(n, c)| json!({ "cursor": c, "node": n })).collect()))
}

type Args = Map<String, Value>;

/// Objects travel through the executor as handles, not JSON objects: a job, client,
/// property or user is its numeric id; a line item or visit is `job id << 16 | position`.
/// The `fields` getters below produce the selected fields from the row.
fn child(job: u64, i: usize) -> Value {
    Value::from(job << 16 | i as u64)
}

fn split(v: &Value) -> Option<(u64, usize)> {
    let n = v.as_u64()?;
    Some((n >> 16, (n & 0xffff) as usize))
}

fn job_of<'d>(d: &'d AccountData, parent: &Value) -> Option<&'d crate::jobber::data::Job> {
    d.jobs.get(&parent.as_u64()?)
}

fn job_get<'r>(c: &'r ApiCtx<'_>, parent: &Value, name: &str) -> Option<Out<'r>> {
    job_field(job_of(c.data, parent)?, name)
}

fn client_get<'r>(c: &'r ApiCtx<'_>, parent: &Value, name: &str) -> Option<Out<'r>> {
    client_field(c.data.clients.get(&parent.as_u64()?)?, name)
}

fn property_get<'r>(c: &'r ApiCtx<'_>, parent: &Value, name: &str) -> Option<Out<'r>> {
    property_field(c.data.properties.get(&parent.as_u64()?)?, name)
}

fn line_item_get<'r>(c: &'r ApiCtx<'_>, parent: &Value, name: &str) -> Option<Out<'r>> {
    let (job, i) = split(parent)?;
    line_item_field(c.data.jobs.get(&job)?.line_items.get(i)?, name)
}

fn visit_get<'r>(c: &'r ApiCtx<'_>, parent: &Value, name: &str) -> Option<Out<'r>> {
    let (job, i) = split(parent)?;
    visit_field(c.data.jobs.get(&job)?.visits.get(i)?, name)
}

fn user_get<'r>(c: &'r ApiCtx<'_>, parent: &Value, name: &str) -> Option<Out<'r>> {
    user_field(c.data, parent.as_u64()?, name)
}

/// A connection value from a page of nodes. `_args` lets the lazy `totalCount` resolver
/// count with the same filter, and `_cursors` the lazy `edges` resolver pair cursors with
/// nodes, only when they are selected.
fn page_value(nodes: Vec<Value>, p: &crate::jobber::page::Page, args: &Args) -> Value {
    let mut m = conn_value(nodes, &p.cursors, p.has_next, p.has_prev);
    m.insert("_args".into(), Value::Object(args.clone()));
    Value::Object(m)
}

fn job_order_index(d: &AccountData, order: Order) -> &std::collections::BTreeSet<Key> {
    match order {
        Order::Updated => &d.jobs_by_updated,
        _ => &d.jobs_by_number,
    }
}

fn job_key(j: &crate::jobber::data::Job, order: Order) -> Key {
    match order {
        Order::Updated => (j.updated_at, j.id),
        _ => (j.job_number, j.id),
    }
}

/// Default order when no `sort` is given (undocumented at Jobber: always pass one).
const JOBS_DEFAULT: (Order, bool) = (Order::Number, false);
const CLIENTS_DEFAULT: (Order, bool) = (Order::Created, false);

fn jobs(c: &mut ApiCtx<'_>, _: &Value, args: &Args) -> Result<Value, String> {
    let d: &AccountData = c.data;
    let filter = JobFilter::from_args(args);
    let (order, desc) = sort_arg(args, JOBS_DEFAULT);
    let open = filter.is_open();
    let keep = |id: u64| open || d.jobs.get(&id).is_some_and(|j| filter.matches(j, d));
    let listed: std::collections::BTreeSet<Key>;
    let index = match &filter.ids {
        Some(ids) => {
            listed = ids.iter().filter_map(|id| d.jobs.get(id)).map(|j| job_key(j, order)).collect();
            &listed
        }
        None => job_order_index(d, order),
    };
    let p = page(index, order.tag(), desc, &keep, &Window::from_args(args)?, c.cursors)?;
    let nodes = p.keys.iter().map(|k| Value::from(k.1)).collect();
    Ok(page_value(nodes, &p, args))
}

fn jobs_total(c: &mut ApiCtx<'_>, parent: &Value, _: &Args) -> Result<Value, String> {
    let d: &AccountData = c.data;
    let args = parent.get("_args").and_then(Value::as_object).cloned().unwrap_or_default();
    let filter = JobFilter::from_args(&args);
    let n = match (&filter.ids, filter.is_open()) {
        (None, true) => d.jobs.len(),
        (Some(ids), _) => ids
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter_map(|id| d.jobs.get(id))
            .filter(|j| filter.matches(j, d))
            .count(),
        (None, false) => d.jobs.values().filter(|j| filter.matches(j, d)).count(),
    };
    Ok(json!(n))
}

fn job(c: &mut ApiCtx<'_>, _: &Value, args: &Args) -> Result<Value, String> {
    let id = args.get("id").and_then(Value::as_str).and_then(|s| decode_id(s, "Job"));
    Ok(id.filter(|id| c.data.jobs.contains_key(id)).map_or(Value::Null, Value::from))
}

fn clients(c: &mut ApiCtx<'_>, _: &Value, args: &Args) -> Result<Value, String> {
    let d: &AccountData = c.data;
    let filter = ClientFilter::from_args(args);
    let (order, desc) = sort_arg(args, CLIENTS_DEFAULT);
    let keep = |id: u64| d.clients.get(&id).is_some_and(|x| filter.matches(x));
    let index = match order {
        Order::Updated => &d.clients_by_updated,
        _ => &d.clients_by_created,
    };
    let p = page(index, order.tag(), desc, &keep, &Window::from_args(args)?, c.cursors)?;
    let nodes = p.keys.iter().map(|k| Value::from(k.1)).collect();
    Ok(page_value(nodes, &p, args))
}

fn clients_total(c: &mut ApiCtx<'_>, parent: &Value, _: &Args) -> Result<Value, String> {
    let args = parent.get("_args").and_then(Value::as_object).cloned().unwrap_or_default();
    let filter = ClientFilter::from_args(&args);
    Ok(json!(c.data.clients.values().filter(|x| filter.matches(x)).count()))
}

fn client(c: &mut ApiCtx<'_>, _: &Value, args: &Args) -> Result<Value, String> {
    let id = args.get("id").and_then(Value::as_str).and_then(|s| decode_id(s, "Client"));
    Ok(id.filter(|id| c.data.clients.contains_key(id)).map_or(Value::Null, Value::from))
}

fn job_client(c: &mut ApiCtx<'_>, parent: &Value, _: &Args) -> Result<Value, String> {
    Ok(job_of(c.data, parent).map_or(Value::Null, |j| Value::from(j.client)))
}

fn job_property(c: &mut ApiCtx<'_>, parent: &Value, _: &Args) -> Result<Value, String> {
    let p = job_of(c.data, parent).and_then(|j| j.property).filter(|p| c.data.properties.contains_key(p));
    Ok(p.map_or(Value::Null, Value::from))
}

fn job_line_items(c: &mut ApiCtx<'_>, parent: &Value, args: &Args) -> Result<Value, String> {
    let Some(j) = job_of(c.data, parent) else { return connection_of(0, args, |_| Value::Null) };
    connection_of(j.line_items.len(), args, |i| child(j.id, i))
}

fn job_visits(c: &mut ApiCtx<'_>, parent: &Value, args: &Args) -> Result<Value, String> {
    let f = args.get("filter").and_then(Value::as_object);
    let range = |k: &str| -> Range {
        let r = f.and_then(|f| f.get(k)).and_then(Value::as_object);
        let t = |e: &str| r.and_then(|r| r.get(e)).and_then(Value::as_str).and_then(parse_time);
        Range { after: t("after"), before: t("before") }
    };
    let has = |k: &str| f.is_some_and(|f| f.get(k).is_some_and(|v| !v.is_null()));
    let (start, end, done) = (range("startAt"), range("endAt"), range("completedAt"));
    let Some(j) = job_of(c.data, parent) else { return connection_of(0, args, |_| Value::Null) };
    // Positions of the visits that pass the filter.
    let kept: Vec<usize> = (0..j.visits.len())
        .filter(|i| {
            let v = &j.visits[*i];
            (!has("startAt") || start.contains(v.start_at))
                && (!has("endAt") || end.contains(v.end_at))
                && (!has("completedAt") || done.contains(v.completed_at))
        })
        .collect();
    connection_of(kept.len(), args, |i| child(j.id, kept[i]))
}

fn visit_users(c: &mut ApiCtx<'_>, parent: &Value, args: &Args) -> Result<Value, String> {
    let users: &[u64] =
        split(parent).and_then(|(job, i)| c.data.jobs.get(&job)?.visits.get(i)).map_or(&[], |v| &v.assigned[..]);
    connection_of(users.len(), args, |i| Value::from(users[i]))
}

/// Relay-style paging over `items` for a connection field's `first`/`after`/`last`/`before`
/// arguments. Cursors are base64 of the position, like Jobber's (`MjU` = "25").
/// Returns `{nodes, pageInfo, totalCount}` (plus `_cursors` for the lazy `edges`); the
/// executor picks what was selected. (Nested connections: line items, visits, assigned
/// users. With neither `first` nor `last`, at most [`DEFAULT_PAGE`] items.)
#[cfg(test)]
pub fn connection(items: &[Value], args: &Map<String, Value>) -> Result<Value, String> {
    connection_of(items.len(), args, |i| items[i].clone())
}

/// [`connection`] over `len` items, building the JSON (`node(i)`) of the page's items only.
pub fn connection_of(len: usize, args: &Map<String, Value>, node: impl Fn(usize) -> Value) -> Result<Value, String> {
    let decode = |k: &str| -> Result<Option<usize>, String> {
        match args.get(k).and_then(Value::as_str) {
            None => Ok(None),
            Some(c) => base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(c.trim_end_matches('='))
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.parse::<usize>().ok())
                .map(Some)
                .ok_or_else(|| format!("Invalid cursor for `{k}`: {c:?}")),
        }
    };
    let count = |k: &str| -> Result<Option<usize>, String> {
        match args.get(k).and_then(Value::as_i64) {
            None => Ok(None),
            Some(n) if n < 0 => Err(format!("Argument '{k}' must be non-negative")),
            Some(n) => Ok(Some(n as usize)),
        }
    };
    // Positions are 1-based, so cursor "25" is the 25th item.
    let mut start = decode("after")?.unwrap_or(0).min(len);
    let mut end = decode("before")?.map_or(len, |b| b.saturating_sub(1).min(len));
    if end < start {
        end = start;
    }
    let (first, last) = (count("first")?, count("last")?);
    if let Some(f) = first {
        end = end.min(start + f);
    }
    if first.is_none() && last.is_none() {
        end = end.min(start + DEFAULT_PAGE);
    }
    if let Some(l) = last {
        start = start.max(end.saturating_sub(l));
    }
    let cursor = |i: usize| base64::engine::general_purpose::STANDARD_NO_PAD.encode((i + 1).to_string());
    let nodes: Vec<Value> = (start..end).map(node).collect();
    let cursors: Vec<String> = (start..end).map(cursor).collect();
    let mut m = conn_value(nodes, &cursors, end < len, start > 0);
    m.insert("totalCount".into(), json!(len));
    Ok(Value::Object(m))
}

/// `{nodes, pageInfo, _cursors}`, moving the nodes in (`json!` would deep-copy them).
fn conn_value(nodes: Vec<Value>, cursors: &[String], has_next: bool, has_prev: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("nodes".into(), Value::Array(nodes));
    m.insert(
        "pageInfo".into(),
        json!({
            "hasNextPage": has_next,
            "hasPreviousPage": has_prev,
            "startCursor": cursors.first(),
            "endCursor": cursors.last(),
        }),
    );
    m.insert("_cursors".into(), json!(cursors));
    m
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod api_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::{execute, prepare};

    fn ctx<'a>(data: &'a mut AccountData) -> ApiCtx<'a> {
        ApiCtx {
            account_id: "Z2lkOi8vSm9iYmVyL0FjY291bnQvMQ==",
            account_name: "Acme",
            data,
            cursors: CursorMode::Key,
            app_id: encode_id("Application", 7),
            app_name: "integ",
            app_author: "integ authors",
            disconnect: false,
        }
    }

    #[test]
    fn schema_and_resolvers_agree() {
        let s = schema().unwrap();
        resolvers().check_against(&s).unwrap();
    }

    #[test]
    fn account_query_and_disconnect_mutation() {
        let s = schema().unwrap();
        let mut data = AccountData::default();
        let mut c = ctx(&mut data);
        let p = prepare(&s, "query { account { id name } }", None, None).unwrap();
        assert_eq!(p.requested_cost, 2);
        let r = execute(&s, &resolvers(), &mut c, &p);
        assert_eq!(r.data(), json!({"account": {"id": "Z2lkOi8vSm9iYmVyL0FjY291bnQvMQ==", "name": "Acme"}}));
        assert!(!c.disconnect);
        let p = prepare(
            &s,
            "mutation Disconnect { appDisconnect { app { name author } userErrors { message } } }",
            None,
            None,
        )
        .unwrap();
        let r = execute(&s, &resolvers(), &mut c, &p);
        assert_eq!(
            r.data(),
            json!({"appDisconnect": {"app": {"name": "integ", "author": "integ authors"}, "userErrors": []}})
        );
        assert!(c.disconnect);
    }

    #[test]
    fn unknown_fields_fail_like_jobber() {
        let s = schema().unwrap();
        let e = prepare(&s, "{ account { id name industry } quotes { nodes { id } } }", None, None).unwrap_err();
        let msgs: Vec<&str> = e.iter().filter_map(|e| e["message"].as_str()).collect();
        assert_eq!(
            msgs,
            ["Field 'industry' doesn't exist on type 'Account'", "Field 'quotes' doesn't exist on type 'Query'"]
        );
    }

    #[test]
    fn encoded_ids() {
        assert_eq!(encode_id("Job", 142669522), "Z2lkOi8vSm9iYmVyL0pvYi8xNDI2Njk1MjI=");
        assert!(encoded_id_ok(&json!("Z2lkOi8vSm9iYmVyL0pvYi8xNDI2Njk1MjI=")));
        assert!(!encoded_id_ok(&json!("142669522")));
        assert!(!encoded_id_ok(&json!(5)));
    }

    #[test]
    fn connection_pages_with_cursors() {
        let items: Vec<Value> = (1..=5).map(|i| json!({ "id": i })).collect();
        let args = |v: Value| v.as_object().cloned().unwrap_or_default();
        let p1 = connection(&items, &args(json!({"first": 2}))).unwrap();
        assert_eq!(p1["nodes"], json!([{"id": 1}, {"id": 2}]));
        assert_eq!(p1["pageInfo"]["hasNextPage"], true);
        let after = p1["pageInfo"]["endCursor"].clone();
        assert_eq!(after, "Mg");
        let p2 = connection(&items, &args(json!({"first": 2, "after": after}))).unwrap();
        assert_eq!(p2["nodes"], json!([{"id": 3}, {"id": 4}]));
        let p3 = connection(&items, &args(json!({"first": 2, "after": p2["pageInfo"]["endCursor"]}))).unwrap();
        assert_eq!(p3["nodes"], json!([{"id": 5}]));
        assert_eq!(p3["pageInfo"]["hasNextPage"], false);
        let last = connection(&items, &args(json!({"last": 2}))).unwrap();
        assert_eq!(last["nodes"], json!([{"id": 4}, {"id": 5}]));
        assert_eq!(last["pageInfo"]["hasPreviousPage"], true);
        assert!(connection(&items, &args(json!({"after": "!!"}))).is_err());
        assert!(connection(&items, &args(json!({"first": -1}))).is_err());
        let empty = connection(&[], &args(json!({"first": 2}))).unwrap();
        assert_eq!(empty["pageInfo"]["endCursor"], Value::Null);
    }
}
