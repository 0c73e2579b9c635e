//! The rows one fake Jobber account serves: jobs (with their line items and visits), clients
//! and their properties, and the staff users visits are assigned to.
//!
//! Jobs and clients sit in ordered indexes keyed by `(sort value, id)`, so a page is a range
//! scan of the index, never a sort of the whole table. Every change goes through
//! [`AccountData::insert_job`] / [`AccountData::remove_job`] (and the client equivalents) so
//! the indexes cannot drift from the rows.
//!
//! JSON renderings live here too, in one place, so the GraphQL answers and the ground truth
//! (`GET /_fake/jobber/truth`) cannot disagree about a field's representation.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::graphql::Out;

use crate::jobber::api::encode_id;

/// A position in an index: the sort value (a timestamp or a job number) and the row id.
pub type Key = (i64, u64);

#[derive(Debug, Clone, PartialEq)]
pub struct LineItem {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
    pub quantity: f64,
    pub unit_price: f64,
    pub total_price: f64,
    pub taxable: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub id: u64,
    pub title: Option<String>,
    pub start_at: Option<i64>,
    pub end_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub is_complete: bool,
    pub visit_status: String,
    /// Staff user ids.
    pub assigned: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: u64,
    pub job_number: i64,
    pub title: Option<String>,
    pub job_status: String,
    pub job_type: String,
    pub billing_type: Option<String>,
    pub instructions: Option<String>,
    pub total: f64,
    pub invoiced_total: Option<f64>,
    pub uninvoiced_total: Option<f64>,
    pub start_at: Option<i64>,
    pub end_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub client: u64,
    pub property: Option<u64>,
    pub line_items: Vec<LineItem>,
    pub visits: Vec<Visit>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub id: u64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub is_company: bool,
    pub is_archived: bool,
    pub is_lead: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Client {
    /// Jobber's `name`: the company name for a company, else "First Last".
    pub fn name(&self) -> String {
        if self.is_company
            && let Some(c) = &self.company_name
        {
            return c.clone();
        }
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .filter_map(|p| p.as_deref())
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() { self.company_name.clone().unwrap_or_default() } else { parts.join(" ") }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub id: u64,
    pub client: u64,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// A member of the account's staff (visits are assigned to them).
#[derive(Debug, Clone, PartialEq)]
pub struct Staff {
    pub id: u64,
    pub first: Option<String>,
    pub last: Option<String>,
}

impl Staff {
    pub fn full(&self) -> String {
        [&self.first, &self.last].into_iter().filter_map(|p| p.as_deref()).collect::<Vec<_>>().join(" ")
    }
}

/// Next ids to hand out, per kind.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub job: u64,
    pub job_number: i64,
    pub line_item: u64,
    pub visit: u64,
    pub client: u64,
    pub property: u64,
    pub user: u64,
}

/// Rows the fake serves for one account.
#[derive(Debug, Default, Clone)]
pub struct AccountData {
    pub jobs: BTreeMap<u64, Job>,
    pub jobs_by_updated: BTreeSet<Key>,
    pub jobs_by_number: BTreeSet<Key>,
    pub clients: BTreeMap<u64, Client>,
    pub clients_by_updated: BTreeSet<Key>,
    pub clients_by_created: BTreeSet<Key>,
    pub properties: BTreeMap<u64, Property>,
    pub users: BTreeMap<u64, Staff>,
    pub next: Counters,
}

impl AccountData {
    pub fn insert_job(&mut self, job: Job) {
        self.remove_job(job.id);
        self.jobs_by_updated.insert((job.updated_at, job.id));
        self.jobs_by_number.insert((job.job_number, job.id));
        self.next.job = self.next.job.max(job.id + 1);
        self.next.job_number = self.next.job_number.max(job.job_number + 1);
        for li in &job.line_items {
            self.next.line_item = self.next.line_item.max(li.id + 1);
        }
        for v in &job.visits {
            self.next.visit = self.next.visit.max(v.id + 1);
        }
        self.jobs.insert(job.id, job);
    }

    pub fn remove_job(&mut self, id: u64) -> Option<Job> {
        let job = self.jobs.remove(&id)?;
        self.jobs_by_updated.remove(&(job.updated_at, id));
        self.jobs_by_number.remove(&(job.job_number, id));
        Some(job)
    }

    pub fn insert_client(&mut self, c: Client) {
        self.remove_client(c.id);
        self.clients_by_updated.insert((c.updated_at, c.id));
        self.clients_by_created.insert((c.created_at, c.id));
        self.next.client = self.next.client.max(c.id + 1);
        self.clients.insert(c.id, c);
    }

    fn remove_client(&mut self, id: u64) -> Option<Client> {
        let c = self.clients.remove(&id)?;
        self.clients_by_updated.remove(&(c.updated_at, id));
        self.clients_by_created.remove(&(c.created_at, id));
        Some(c)
    }

    /// Change a client through `f`, keeping the indexes right. `None` if it does not exist.
    pub fn update_client(&mut self, id: u64, f: impl FnOnce(&mut Client)) -> Option<&Client> {
        let mut c = self.remove_client(id)?;
        f(&mut c);
        self.insert_client(c);
        self.clients.get(&id)
    }

    pub fn insert_property(&mut self, p: Property) {
        self.next.property = self.next.property.max(p.id + 1);
        self.properties.insert(p.id, p);
    }

    pub fn insert_user(&mut self, u: Staff) {
        self.next.user = self.next.user.max(u.id + 1);
        self.users.insert(u.id, u);
    }

    pub fn line_item_count(&self) -> usize {
        self.jobs.values().map(|j| j.line_items.len()).sum()
    }

    pub fn visit_count(&self) -> usize {
        self.jobs.values().map(|j| j.visits.len()).sum()
    }

    // ---------- JSON ----------

    /// A job as the ground truth shows it: every field the GraphQL API has, with the
    /// connections as plain arrays.
    pub fn truth_job(&self, j: &Job) -> Value {
        to_value(JobTruth::new(self, j))
    }

    /// The ground truth as a value (tests); the control endpoint streams [`Truth`] instead.
    #[cfg(test)]
    pub fn truth(&self) -> Value {
        to_value(Truth { account: "", data: self })
    }
}

fn to_value<T: Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// RFC 3339 UTC with whole seconds (`2026-03-26T22:46:40Z`), without a calendar library:
/// the truth of 20,000 jobs formats half a million of these.
pub fn iso(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn ts(v: Option<i64>) -> Option<String> {
    v.map(iso)
}

/// The scalar fields of a job, named as in the schema.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobOut<'a> {
    id: String,
    job_number: i64,
    title: Option<&'a str>,
    job_status: &'a str,
    job_type: &'a str,
    billing_type: Option<&'a str>,
    instructions: Option<&'a str>,
    total: f64,
    invoiced_total: Option<f64>,
    uninvoiced_total: Option<f64>,
    start_at: Option<String>,
    end_at: Option<String>,
    completed_at: Option<String>,
    created_at: String,
    updated_at: String,
    jobber_web_uri: String,
}

impl<'a> JobOut<'a> {
    pub fn new(j: &'a Job) -> JobOut<'a> {
        JobOut {
            id: encode_id("Job", j.id),
            job_number: j.job_number,
            title: j.title.as_deref(),
            job_status: &j.job_status,
            job_type: &j.job_type,
            billing_type: j.billing_type.as_deref(),
            instructions: j.instructions.as_deref(),
            total: j.total,
            invoiced_total: j.invoiced_total,
            uninvoiced_total: j.uninvoiced_total,
            start_at: ts(j.start_at),
            end_at: ts(j.end_at),
            completed_at: ts(j.completed_at),
            created_at: iso(j.created_at),
            updated_at: iso(j.updated_at),
            jobber_web_uri: format!("https://secure.getjobber.com/work_orders/{}", j.id),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobTruth<'a> {
    #[serde(flatten)]
    job: JobOut<'a>,
    client: Option<ClientOut<'a>>,
    property: Option<PropertyOut<'a>>,
    line_items: Vec<LineItemOut<'a>>,
    visits: Vec<VisitTruth<'a>>,
}

impl<'a> JobTruth<'a> {
    fn new(d: &'a AccountData, j: &'a Job) -> JobTruth<'a> {
        JobTruth {
            job: JobOut::new(j),
            client: d.clients.get(&j.client).map(ClientOut::new),
            property: j.property.and_then(|p| d.properties.get(&p)).map(PropertyOut::new),
            line_items: j.line_items.iter().map(LineItemOut::new).collect(),
            visits: j
                .visits
                .iter()
                .map(|v| VisitTruth {
                    visit: VisitOut::new(v),
                    assigned_users: v.assigned.iter().map(|u| UserOut::new(d, *u)).collect(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientOut<'a> {
    id: String,
    name: String,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    company_name: Option<&'a str>,
    is_company: bool,
    is_archived: bool,
    is_lead: bool,
    created_at: String,
    updated_at: String,
    jobber_web_uri: String,
}

impl<'a> ClientOut<'a> {
    pub fn new(c: &'a Client) -> ClientOut<'a> {
        ClientOut {
            id: encode_id("Client", c.id),
            name: c.name(),
            first_name: c.first_name.as_deref(),
            last_name: c.last_name.as_deref(),
            company_name: c.company_name.as_deref(),
            is_company: c.is_company,
            is_archived: c.is_archived,
            is_lead: c.is_lead,
            created_at: iso(c.created_at),
            updated_at: iso(c.updated_at),
            jobber_web_uri: format!("https://secure.getjobber.com/clients/{}", c.id),
        }
    }
}

pub fn client_json(c: &Client) -> Value {
    to_value(ClientOut::new(c))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddressOut<'a> {
    street1: Option<&'a str>,
    street2: Option<&'a str>,
    city: Option<&'a str>,
    province: Option<&'a str>,
    postal_code: Option<&'a str>,
    country: Option<&'a str>,
}

#[derive(Serialize)]
pub struct PropertyOut<'a> {
    id: String,
    address: AddressOut<'a>,
}

impl<'a> PropertyOut<'a> {
    fn new(p: &'a Property) -> PropertyOut<'a> {
        PropertyOut {
            id: encode_id("Property", p.id),
            address: AddressOut {
                street1: p.street1.as_deref(),
                street2: p.street2.as_deref(),
                city: p.city.as_deref(),
                province: p.province.as_deref(),
                postal_code: p.postal_code.as_deref(),
                country: p.country.as_deref(),
            },
        }
    }
}

/// A line item; the deprecated `qty`/`unitCost`/`cost` mirror `quantity`/`unitPrice`/
/// `totalPrice`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LineItemOut<'a> {
    id: String,
    name: &'a str,
    description: Option<&'a str>,
    quantity: f64,
    unit_price: f64,
    total_price: f64,
    taxable: bool,
    qty: f64,
    unit_cost: f64,
    cost: f64,
}

impl<'a> LineItemOut<'a> {
    fn new(l: &'a LineItem) -> LineItemOut<'a> {
        LineItemOut {
            id: encode_id("LineItem", l.id),
            name: &l.name,
            description: l.description.as_deref(),
            quantity: l.quantity,
            unit_price: l.unit_price,
            total_price: l.total_price,
            taxable: l.taxable,
            qty: l.quantity,
            unit_cost: l.unit_price,
            cost: l.total_price,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitOut<'a> {
    id: String,
    title: Option<&'a str>,
    start_at: Option<String>,
    end_at: Option<String>,
    completed_at: Option<String>,
    is_complete: bool,
    visit_status: &'a str,
}

impl<'a> VisitOut<'a> {
    pub fn new(v: &'a Visit) -> VisitOut<'a> {
        VisitOut {
            id: encode_id("Visit", v.id),
            title: v.title.as_deref(),
            start_at: ts(v.start_at),
            end_at: ts(v.end_at),
            completed_at: ts(v.completed_at),
            is_complete: v.is_complete,
            visit_status: &v.visit_status,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VisitTruth<'a> {
    #[serde(flatten)]
    visit: VisitOut<'a>,
    assigned_users: Vec<UserOut<'a>>,
}

#[derive(Serialize)]
struct UserNameOut<'a> {
    first: Option<&'a str>,
    last: Option<&'a str>,
    full: String,
}

#[derive(Serialize)]
struct UserOut<'a> {
    id: String,
    name: UserNameOut<'a>,
}

impl<'a> UserOut<'a> {
    /// A user removed from the pool still shows on old visits, nameless.
    fn new(d: &'a AccountData, id: u64) -> UserOut<'a> {
        let u = d.users.get(&id);
        UserOut {
            id: encode_id("User", id),
            name: UserNameOut {
                first: u.and_then(|u| u.first.as_deref()),
                last: u.and_then(|u| u.last.as_deref()),
                full: u.map(Staff::full).unwrap_or_default(),
            },
        }
    }
}

// ---------- GraphQL field getters ----------
//
// One field of a row, named as in the schema (`None` for a name the type does not have), so
// that an answer builds only the selected fields. They must agree with the serde views
// above, which the ground truth uses: the API tests compare every field of several jobs.

fn opt_str(v: &Option<String>) -> Out<'_> {
    v.as_deref().map_or(Out::Null, Out::Str)
}

fn opt_num(v: Option<f64>) -> Out<'static> {
    v.map_or(Out::Null, Out::Float)
}

fn opt_time(v: Option<i64>) -> Out<'static> {
    v.map_or(Out::Null, |t| Out::String(iso(t)))
}

pub fn job_field<'r>(j: &'r Job, name: &str) -> Option<Out<'r>> {
    Some(match name {
        "id" => Out::String(encode_id("Job", j.id)),
        "jobNumber" => Out::Int(j.job_number),
        "title" => opt_str(&j.title),
        "jobStatus" => Out::Str(&j.job_status),
        "jobType" => Out::Str(&j.job_type),
        "billingType" => opt_str(&j.billing_type),
        "instructions" => opt_str(&j.instructions),
        "total" => Out::Float(j.total),
        "invoicedTotal" => opt_num(j.invoiced_total),
        "uninvoicedTotal" => opt_num(j.uninvoiced_total),
        "startAt" => opt_time(j.start_at),
        "endAt" => opt_time(j.end_at),
        "completedAt" => opt_time(j.completed_at),
        "createdAt" => Out::String(iso(j.created_at)),
        "updatedAt" => Out::String(iso(j.updated_at)),
        "jobberWebUri" => Out::String(format!("https://secure.getjobber.com/work_orders/{}", j.id)),
        _ => return None,
    })
}

pub fn client_field<'r>(c: &'r Client, name: &str) -> Option<Out<'r>> {
    Some(match name {
        "id" => Out::String(encode_id("Client", c.id)),
        "name" => Out::String(c.name()),
        "firstName" => opt_str(&c.first_name),
        "lastName" => opt_str(&c.last_name),
        "companyName" => opt_str(&c.company_name),
        "isCompany" => Out::Bool(c.is_company),
        "isArchived" => Out::Bool(c.is_archived),
        "isLead" => Out::Bool(c.is_lead),
        "createdAt" => Out::String(iso(c.created_at)),
        "updatedAt" => Out::String(iso(c.updated_at)),
        "jobberWebUri" => Out::String(format!("https://secure.getjobber.com/clients/{}", c.id)),
        _ => return None,
    })
}

/// `address` comes back whole (a small object the executor reads from).
pub fn property_field<'r>(p: &'r Property, name: &str) -> Option<Out<'r>> {
    match name {
        "id" => Some(Out::String(encode_id("Property", p.id))),
        "address" => Some(Out::Value(to_value(PropertyOut::new(p).address))),
        _ => None,
    }
}

pub fn line_item_field<'r>(l: &'r LineItem, name: &str) -> Option<Out<'r>> {
    Some(match name {
        "id" => Out::String(encode_id("LineItem", l.id)),
        "name" => Out::Str(&l.name),
        "description" => opt_str(&l.description),
        "quantity" | "qty" => Out::Float(l.quantity),
        "unitPrice" | "unitCost" => Out::Float(l.unit_price),
        "totalPrice" | "cost" => Out::Float(l.total_price),
        "taxable" => Out::Bool(l.taxable),
        _ => return None,
    })
}

pub fn visit_field<'r>(v: &'r Visit, name: &str) -> Option<Out<'r>> {
    Some(match name {
        "id" => Out::String(encode_id("Visit", v.id)),
        "title" => opt_str(&v.title),
        "startAt" => opt_time(v.start_at),
        "endAt" => opt_time(v.end_at),
        "completedAt" => opt_time(v.completed_at),
        "isComplete" => Out::Bool(v.is_complete),
        "visitStatus" => Out::Str(&v.visit_status),
        _ => return None,
    })
}

/// `name` comes back whole (`{first, last, full}`).
pub fn user_field(d: &AccountData, id: u64, name: &str) -> Option<Out<'static>> {
    let u = UserOut::new(d, id);
    match name {
        "id" => Some(Out::String(u.id)),
        "name" => Some(Out::Value(to_value(u.name))),
        _ => None,
    }
}

/// The ground truth of one account, serialized straight from the rows:
/// `{"account", "jobs": [...], "clients": [...], "users": [...]}`, each list sorted by
/// numeric id. Jobs have the GraphQL shape with connections as plain arrays.
pub struct Truth<'a> {
    pub account: &'a str,
    pub data: &'a AccountData,
}

impl Serialize for Truth<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        struct Seq<F>(F);
        impl<I: Iterator<Item = T>, T: Serialize, F: Fn() -> I> Serialize for Seq<F> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq((self.0)())
            }
        }
        let d = self.data;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("account", self.account)?;
        m.serialize_entry("jobs", &Seq(|| d.jobs.values().map(|j| JobTruth::new(d, j))))?;
        m.serialize_entry("clients", &Seq(|| d.clients.values().map(ClientOut::new)))?;
        m.serialize_entry("users", &Seq(|| d.users.keys().map(|u| UserOut::new(d, *u))))?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(id: u64, n: i64, updated: i64) -> Job {
        Job {
            id,
            job_number: n,
            title: Some("t".into()),
            job_status: "active".into(),
            job_type: "ONE_OFF".into(),
            billing_type: None,
            instructions: None,
            total: 1250.0,
            invoiced_total: None,
            uninvoiced_total: Some(0.5),
            start_at: None,
            end_at: None,
            completed_at: None,
            created_at: 0,
            updated_at: updated,
            client: 1,
            property: None,
            line_items: vec![],
            visits: vec![],
        }
    }

    #[test]
    fn indexes_follow_inserts_and_removals() {
        let mut d = AccountData::default();
        d.insert_job(job(5, 1, 100));
        d.insert_job(job(7, 2, 100));
        d.insert_job(job(5, 1, 300)); // replaces
        assert_eq!(d.jobs_by_updated.iter().copied().collect::<Vec<_>>(), [(100, 7), (300, 5)]);
        assert_eq!(d.next.job, 8);
        assert_eq!(d.next.job_number, 3);
        assert!(d.remove_job(7).is_some());
        assert!(d.remove_job(7).is_none());
        assert_eq!(d.jobs_by_number.len(), 1);
    }

    #[test]
    fn iso_matches_the_calendar() {
        let mut t = -2_208_988_800i64; // 1900-01-01
        while t < 4_102_444_800 {
            assert_eq!(iso(t), crate::core::rfc3339(t), "{t}");
            t += 86_399 * 7 + 3_607;
        }
        for t in [0, 951_782_400, 951_868_800, 1_709_164_800, 4_107_542_400] {
            assert_eq!(iso(t), crate::core::rfc3339(t), "{t}");
        }
    }

    #[test]
    fn client_names_and_json_shapes() {
        let c = Client {
            id: 3,
            first_name: Some("Zoë".into()),
            last_name: Some("O'Brien".into()),
            company_name: None,
            is_company: false,
            is_archived: false,
            is_lead: true,
            created_at: 0,
            updated_at: 60,
        };
        assert_eq!(c.name(), "Zoë O'Brien");
        let v = client_json(&c);
        assert_eq!(v["updatedAt"], "1970-01-01T00:01:00Z");
        assert_eq!(v["lastName"], "O'Brien");
        assert_eq!(v["companyName"], Value::Null);
        assert_eq!(v["id"], encode_id("Client", 3));
        let j = to_value(JobOut::new(&job(1, 1, 0)));
        assert_eq!(j["total"], json!(1250.0));
        assert_eq!(j["startAt"], Value::Null);
        assert_eq!(serde_json::to_string(&j["total"]).unwrap(), "1250.0");
    }

    /// The GraphQL getters and the truth's serde views agree on every field.
    #[test]
    fn getters_agree_with_the_truth_views() {
        let d = crate::jobber::generate::seed(60, 4, 1_780_000_000, "acc");
        let same = |view: Value, get: &dyn Fn(&str) -> Option<Value>| {
            for (k, v) in view.as_object().unwrap() {
                assert_eq!(get(k).as_ref(), Some(v), "{k}");
            }
        };
        for j in d.jobs.values() {
            same(to_value(JobOut::new(j)), &|k| job_field(j, k).map(Out::into_value));
            for l in &j.line_items {
                same(to_value(LineItemOut::new(l)), &|k| line_item_field(l, k).map(Out::into_value));
            }
            for v in &j.visits {
                same(to_value(VisitOut::new(v)), &|k| visit_field(v, k).map(Out::into_value));
                for u in &v.assigned {
                    same(to_value(UserOut::new(&d, *u)), &|k| user_field(&d, *u, k).map(Out::into_value));
                }
            }
        }
        for c in d.clients.values() {
            same(to_value(ClientOut::new(c)), &|k| client_field(c, k).map(Out::into_value));
        }
        for p in d.properties.values() {
            same(to_value(PropertyOut::new(p)), &|k| property_field(p, k).map(Out::into_value));
        }
        assert_eq!(job_field(&job(1, 1, 0), "lineItems"), None);
    }
}
