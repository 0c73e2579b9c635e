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

use serde_json::{Map, Value, json};

use crate::core::rfc3339;
use crate::jobber_api::encode_id;

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
        if parts.is_empty() {
            self.company_name.clone().unwrap_or_default()
        } else {
            parts.join(" ")
        }
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
        [&self.first, &self.last]
            .into_iter()
            .filter_map(|p| p.as_deref())
            .collect::<Vec<_>>()
            .join(" ")
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

    pub fn client_json(&self, id: u64) -> Value {
        self.clients.get(&id).map_or(Value::Null, client_json)
    }

    pub fn property_json(&self, id: Option<u64>) -> Value {
        id.and_then(|id| self.properties.get(&id))
            .map_or(Value::Null, property_json)
    }

    pub fn user_json(&self, id: u64) -> Value {
        match self.users.get(&id) {
            Some(u) => user_json(u),
            // A user removed from the pool still shows on old visits, nameless.
            None => {
                json!({ "id": encode_id("User", id), "name": { "first": null, "last": null, "full": "" } })
            }
        }
    }

    /// A job as the ground truth shows it: every field the GraphQL API has, with the
    /// connections as plain arrays.
    pub fn truth_job(&self, j: &Job) -> Value {
        let mut m = job_scalars(j);
        m.insert("client".into(), self.client_json(j.client));
        m.insert("property".into(), self.property_json(j.property));
        m.insert(
            "lineItems".into(),
            j.line_items.iter().map(line_item_json).collect(),
        );
        let visits: Vec<Value> = j
            .visits
            .iter()
            .map(|v| {
                let mut vm = visit_scalars(v);
                vm.insert(
                    "assignedUsers".into(),
                    v.assigned.iter().map(|u| self.user_json(*u)).collect(),
                );
                Value::Object(vm)
            })
            .collect();
        m.insert("visits".into(), Value::Array(visits));
        Value::Object(m)
    }

    /// Every live job (sorted by numeric id) and every client (same), in GraphQL's shape.
    pub fn truth(&self) -> Value {
        json!({
            "jobs": self.jobs.values().map(|j| self.truth_job(j)).collect::<Vec<_>>(),
            "clients": self.clients.values().map(client_json).collect::<Vec<_>>(),
            "users": self.users.values().map(user_json).collect::<Vec<_>>(),
        })
    }
}

fn ts(v: Option<i64>) -> Value {
    v.map_or(Value::Null, |s| json!(rfc3339(s)))
}

fn opt_str(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| json!(s))
}

fn opt_f64(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |f| json!(f))
}

/// The scalar fields of a job, named as in the schema.
pub fn job_scalars(j: &Job) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(encode_id("Job", j.id)));
    m.insert("jobNumber".into(), json!(j.job_number));
    m.insert("title".into(), opt_str(&j.title));
    m.insert("jobStatus".into(), json!(j.job_status));
    m.insert("jobType".into(), json!(j.job_type));
    m.insert("billingType".into(), opt_str(&j.billing_type));
    m.insert("instructions".into(), opt_str(&j.instructions));
    m.insert("total".into(), json!(j.total));
    m.insert("invoicedTotal".into(), opt_f64(j.invoiced_total));
    m.insert("uninvoicedTotal".into(), opt_f64(j.uninvoiced_total));
    m.insert("startAt".into(), ts(j.start_at));
    m.insert("endAt".into(), ts(j.end_at));
    m.insert("completedAt".into(), ts(j.completed_at));
    m.insert("createdAt".into(), json!(rfc3339(j.created_at)));
    m.insert("updatedAt".into(), json!(rfc3339(j.updated_at)));
    m.insert(
        "jobberWebUri".into(),
        json!(format!("https://secure.getjobber.com/work_orders/{}", j.id)),
    );
    m
}

pub fn client_json(c: &Client) -> Value {
    json!({
        "id": encode_id("Client", c.id),
        "name": c.name(),
        "firstName": c.first_name,
        "lastName": c.last_name,
        "companyName": c.company_name,
        "isCompany": c.is_company,
        "isArchived": c.is_archived,
        "isLead": c.is_lead,
        "createdAt": rfc3339(c.created_at),
        "updatedAt": rfc3339(c.updated_at),
        "jobberWebUri": format!("https://secure.getjobber.com/clients/{}", c.id),
    })
}

pub fn property_json(p: &Property) -> Value {
    json!({
        "id": encode_id("Property", p.id),
        "address": {
            "street1": p.street1,
            "street2": p.street2,
            "city": p.city,
            "province": p.province,
            "postalCode": p.postal_code,
            "country": p.country,
        },
    })
}

/// A line item; the deprecated `qty`/`unitCost`/`cost` mirror `quantity`/`unitPrice`/
/// `totalPrice`.
pub fn line_item_json(l: &LineItem) -> Value {
    json!({
        "id": encode_id("LineItem", l.id),
        "name": l.name,
        "description": l.description,
        "quantity": l.quantity,
        "unitPrice": l.unit_price,
        "totalPrice": l.total_price,
        "taxable": l.taxable,
        "qty": l.quantity,
        "unitCost": l.unit_price,
        "cost": l.total_price,
    })
}

pub fn visit_scalars(v: &Visit) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(encode_id("Visit", v.id)));
    m.insert("title".into(), opt_str(&v.title));
    m.insert("startAt".into(), ts(v.start_at));
    m.insert("endAt".into(), ts(v.end_at));
    m.insert("completedAt".into(), ts(v.completed_at));
    m.insert("isComplete".into(), json!(v.is_complete));
    m.insert("visitStatus".into(), json!(v.visit_status));
    m
}

pub fn user_json(u: &Staff) -> Value {
    json!({
        "id": encode_id("User", u.id),
        "name": { "first": u.first, "last": u.last, "full": u.full() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            d.jobs_by_updated.iter().copied().collect::<Vec<_>>(),
            [(100, 7), (300, 5)]
        );
        assert_eq!(d.next.job, 8);
        assert_eq!(d.next.job_number, 3);
        assert!(d.remove_job(7).is_some());
        assert!(d.remove_job(7).is_none());
        assert_eq!(d.jobs_by_number.len(), 1);
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
        assert_eq!(v["id"], encode_id("Client", 3));
        let j = job_scalars(&job(1, 1, 0));
        assert_eq!(j["total"], json!(1250.0));
        assert_eq!(j["startAt"], Value::Null);
        assert_eq!(serde_json::to_string(&j["total"]).unwrap(), "1250.0");
    }
}
