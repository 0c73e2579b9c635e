//! Deterministic generation of Jobber data: seeding an account with a realistic spread of
//! jobs, clients, line items, visits and staff, and random edits/adds/deletes for tests.
//!
//! Same (seed, job count, account, anchor time) → same data, on every platform: the random
//! numbers come from a local SplitMix64, not from a library whose stream may change.

use crate::jobber::data::{AccountData, Client, Counters, Job, LineItem, Property, Staff, Visit};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// SplitMix64: tiny, fast and stable forever.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Uniform in `lo..hi` (`lo` when empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo { lo } else { lo + self.below((hi - lo) as u64) as i64 }
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// 1..=max, roughly exponential with the given mean above 1 (long tail to `max`).
    pub fn skewed(&mut self, max: usize, mean: f64) -> usize {
        let u = ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        (1 + (-u.ln() * mean) as usize).min(max)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A stable 64-bit hash (FNV-1a) of an account id, to keep accounts' ids apart.
pub fn salt(account: &str) -> u64 {
    account.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)) % 900
}

const TITLES: &[&str] = &[
    "Gutter cleaning",
    "Lawn mowing – weekly",
    "Spring cleanup",
    "\"Premium\" hedge trimming",
    "Snow removal ❄️",
    "Élagage d'arbres",
    "Drain repair (urgent!)",
    "Fence painting — O'Neil's",
    "Window washing 🪟 3 floors",
    "日本庭園の手入れ",
    "Façade pressure wash",
    "Irrigation start-up",
    "Aeration & overseeding",
    "Back\\slash test",
    "Mulch delivery <10 yards>",
    "Pool opening",
    "Deck staining",
    "Tree removal – 40' oak",
    "Gärtnerarbeiten",
    "Holiday lights install 🎄",
    "Roof moss treatment",
    "Interlock repair",
];

const INSTRUCTIONS: &[&str] = &[
    "Gate code is 4521#. Dog is friendly.",
    "Call on arrival: \"don't ring the bell\" — baby sleeping.",
    "Park on the street.\nBack gate sticks; lift and push.",
    "Use the side entrance 🚪; key under the mat.",
    "Client prefers mornings. Ne pas marcher sur les plates-bandes.",
    "Bring the 24' ladder\tand tarps.",
    "Invoice to head office, attn: Zoë Ångström.",
    "Customer said: 'same as last year'.",
    "¡Cuidado con el perro!",
    "Measure twice; the 2\" pipe is fragile.",
];

const FIRST: &[&str] = &[
    "Alice", "José", "Zoë", "Łukasz", "Søren", "Siobhán", "Amélie", "Chen", "Noah", "Fatima", "Olivia", "Liam",
    "Ngozi", "Björn", "Priya", "Mateo", "Hana", "Kwame", "Émile", "Ava",
];
const LAST: &[&str] = &[
    "Smith",
    "O'Brien",
    "Núñez",
    "Müller",
    "D'Angelo",
    "Ng",
    "Kowalski",
    "Tremblay",
    "Ångström",
    "Nakamura",
    "Okafor",
    "García",
    "Brown",
    "Singh",
    "Dubois",
    "Van der Berg",
    "Lefèvre",
    "Wong",
];
const COMPANIES: &[&str] = &[
    "Smith & Sons Landscaping",
    "Café Olé Ltd.",
    "\"Quoted\" Holdings Inc.",
    "Nørrebro Gardens ApS",
    "株式会社テスト",
    "Maple Leaf Property Mgmt",
    "O'Reilly Facilities",
    "Acme Condos <Tower B>",
    "Les Jardins de l'Île",
    "Zürich Hausverwaltung AG",
];
const STREETS: &[&str] = &[
    "Main St",
    "Rue Sainte-Catherine",
    "King St W",
    "Elm Ave",
    "Chemin du Lac",
    "Bahnhofstraße",
    "Oak Crescent",
    "Harbour Rd",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Montréal", "QC", "Canada"),
    ("Calgary", "AB", "Canada"),
    ("Saskatoon", "SK", "Canada"),
    ("Toronto", "ON", "Canada"),
    ("Austin", "TX", "United States"),
    ("Portland", "OR", "United States"),
    ("St. John's", "NL", "Canada"),
];
const ITEMS: &[&str] = &[
    "Labour",
    "Mulch (cubic yard)",
    "Fertilizer – 20kg",
    "Disposal fee",
    "Hedge trimming",
    "Gutter guard 6\"",
    "Débroussaillage",
    "Travel charge",
    "Plants & shrubs 🌿",
    "Salt (bag)",
    "Mowing",
    "Service call",
];
const ITEM_DESCRIPTIONS: &[&str] = &[
    "Per hour, per crew member",
    "Includes delivery",
    "Premium \"black\" mulch",
    "Ligne de taille: 2 m",
    "Charged at cost\nplus 10%",
];

/// Job statuses with weights (lower case, as Jobber answers).
const STATUSES: &[(&str, u64)] = &[
    ("active", 15),
    ("upcoming", 15),
    ("today", 3),
    ("late", 7),
    ("action_required", 8),
    ("on_hold", 4),
    ("unscheduled", 10),
    ("requires_invoicing", 15),
    ("archived", 22),
    ("expiring_within_30_days", 1),
];

fn cents(c: i64) -> f64 {
    c as f64 / 100.0
}

fn status(rng: &mut Rng) -> &'static str {
    let total: u64 = STATUSES.iter().map(|(_, w)| w).sum();
    let mut r = rng.below(total);
    for (s, w) in STATUSES {
        if r < *w {
            return s;
        }
        r -= w;
    }
    "active"
}

/// Ids per kind start at a base that depends on the account, so two seeded accounts do not
/// share ids.
fn bases(salt: u64) -> [u64; 6] {
    let s = salt * 10_000_000;
    [
        100_000_000 + s,         // job
        20_000_000_000 + s * 10, // line item
        30_000_000_000 + s * 10, // visit
        40_000_000 + s,          // client
        60_000_000 + s,          // property
        3_000_000 + salt * 1000, // user
    ]
}

fn person(rng: &mut Rng) -> (String, String) {
    (rng.pick(FIRST).to_string(), rng.pick(LAST).to_string())
}

pub fn new_client(rng: &mut Rng, id: u64, created: i64, updated: i64) -> Client {
    let is_company = rng.chance(0.3);
    let (first, last) = person(rng);
    Client {
        id,
        first_name: (!is_company || rng.chance(0.5)).then_some(first),
        last_name: (!is_company || rng.chance(0.5)).then_some(last),
        company_name: is_company.then(|| rng.pick(COMPANIES).to_string()),
        is_company,
        is_archived: rng.chance(0.05),
        is_lead: rng.chance(0.1),
        created_at: created,
        updated_at: updated.max(created),
    }
}

fn new_property(rng: &mut Rng, id: u64, client: u64) -> Property {
    let (city, prov, country) = *rng.pick(CITIES);
    Property {
        id,
        client,
        street1: Some(format!("{} {}", rng.range(1, 9999), rng.pick(STREETS))),
        street2: rng.chance(0.25).then(|| format!("Unit {}", rng.range(1, 40))),
        city: Some(city.to_string()),
        province: rng.chance(0.95).then(|| prov.to_string()),
        postal_code: rng.chance(0.9).then(|| {
            if country == "Canada" {
                format!("H{}X {}B{}", rng.below(10), rng.below(10), rng.below(10))
            } else {
                format!("{:05}", rng.below(100_000))
            }
        }),
        country: rng.chance(0.9).then(|| country.to_string()),
    }
}

pub fn line_items(rng: &mut Rng, count: usize, next_id: &mut u64) -> Vec<LineItem> {
    (0..count)
        .map(|_| {
            let id = *next_id;
            *next_id += 1 + rng.below(3);
            let quantity = if rng.chance(0.7) { rng.range(1, 6) as f64 } else { rng.range(1, 40) as f64 * 0.25 };
            let unit = rng.range(500, 50_000);
            let total = (quantity * unit as f64).round() as i64;
            LineItem {
                id,
                name: rng.pick(ITEMS).to_string(),
                description: rng.chance(0.6).then(|| rng.pick(ITEM_DESCRIPTIONS).to_string()),
                quantity,
                unit_price: cents(unit),
                total_price: cents(total),
                taxable: rng.chance(0.7),
            }
        })
        .collect()
}

/// Visits for a job scheduled over `span` (none when unscheduled), complete up to `now`
/// when `done`.
pub fn visits(
    rng: &mut Rng,
    count: usize,
    span: Option<(i64, i64)>,
    done: bool,
    now: i64,
    users: &[u64],
    next_id: &mut u64,
) -> Vec<Visit> {
    (0..count)
        .map(|k| {
            let id = *next_id;
            *next_id += 1 + rng.below(3);
            let times = span.map(|(s, e)| {
                let step = ((e - s) / count.max(1) as i64).max(HOUR);
                let start = s + step * k as i64 + rng.range(0, HOUR);
                (start, start + rng.range(HOUR, 6 * HOUR))
            });
            let (start, end) = (times.map(|t| t.0), times.map(|t| t.1));
            let is_complete = end.is_some_and(|e| e < now && (done || rng.chance(0.8)));
            let completed_at = is_complete.then(|| end.unwrap_or(now) + rng.range(0, HOUR));
            let visit_status = match (start, end) {
                _ if is_complete => "completed",
                (None, _) => "unscheduled",
                (Some(s), _) if s > now + DAY => "upcoming",
                (Some(s), Some(e)) if s <= now + DAY && e >= now - DAY => "today",
                _ => "late",
            };
            let mut assigned = Vec::new();
            for _ in 0..rng.below(5) {
                let u = *rng.pick(users);
                if !assigned.contains(&u) {
                    assigned.push(u);
                }
            }
            Visit {
                id,
                title: rng.chance(0.8).then(|| format!("Visit {} of {}", k + 1, count)),
                start_at: start,
                end_at: end,
                completed_at,
                is_complete,
                visit_status: visit_status.to_string(),
                assigned,
            }
        })
        .collect()
}

/// Where a new job goes: everything the generator must not choose itself.
#[derive(Debug, Clone, Copy)]
pub struct JobSpec {
    pub id: u64,
    pub number: i64,
    pub created: i64,
    /// Last change (raised to `created` if earlier).
    pub updated: i64,
    pub now: i64,
    pub client: u64,
    pub property: Option<u64>,
    /// More than 50 line items, so that nested paging is needed.
    pub many_items: bool,
}

/// One job with a status-consistent schedule, line items and visits.
pub fn new_job(rng: &mut Rng, next: &mut Counters, users: &[u64], s: JobSpec) -> Job {
    let (created, now) = (s.created, s.now);
    let st = status(rng);
    let recurring = rng.chance(0.2);
    let span = match st {
        "unscheduled" => None,
        "upcoming" => Some(now + rng.range(DAY, 60 * DAY)),
        "today" => Some(now - rng.range(0, 4 * HOUR)),
        "active" | "expiring_within_30_days" => Some(now - rng.range(DAY, 90 * DAY)),
        "on_hold" | "action_required" if rng.chance(0.3) => None,
        _ => Some((created + rng.range(HOUR, 30 * DAY)).min(now - 2 * DAY)),
    }
    .map(|start| {
        let len = if recurring || st == "active" { rng.range(30 * DAY, 365 * DAY) } else { rng.range(HOUR, 10 * HOUR) };
        (start, start + len)
    });
    let done = matches!(st, "requires_invoicing" | "archived");
    let completed_at = match span {
        Some((_, e)) if done => Some((e + rng.range(0, 3 * HOUR)).min(now - 60)),
        _ => None,
    };
    // Most jobs have a handful of line items, a few many (up to 30), some none; a few
    // more than 50 so that nested paging is needed.
    let n_items = if s.many_items {
        rng.range(51, 81) as usize
    } else if rng.chance(0.1) {
        0
    } else {
        rng.skewed(30, 4.0)
    };
    let items = line_items(rng, n_items, &mut next.line_item);
    // One-off jobs have a visit or two, recurring ones up to 12, unscheduled ones at most one.
    let n_visits = match span {
        None => rng.below(2) as usize,
        Some(_) if recurring => rng.range(3, 13) as usize,
        Some(_) => match rng.below(10) {
            0 => 0,
            1 | 2 => 2,
            _ => 1,
        },
    };
    let vs = if users.is_empty() { Vec::new() } else { visits(rng, n_visits, span, done, now, users, &mut next.visit) };
    let total_cents: i64 = items.iter().map(|l| (l.total_price * 100.0).round() as i64).sum();
    let invoiced = match st {
        "archived" => total_cents,
        "requires_invoicing" => total_cents / 2,
        _ => 0,
    };
    Job {
        id: s.id,
        job_number: s.number,
        title: rng.chance(0.95).then(|| rng.pick(TITLES).to_string()),
        job_status: st.to_string(),
        job_type: if recurring { "RECURRING" } else { "ONE_OFF" }.to_string(),
        billing_type: rng.chance(0.9).then(|| if recurring { "VISIT_BASED" } else { "FIXED_PRICE" }.to_string()),
        instructions: rng.chance(0.7).then(|| rng.pick(INSTRUCTIONS).to_string()),
        total: cents(total_cents),
        invoiced_total: rng.chance(0.95).then_some(cents(invoiced)),
        uninvoiced_total: rng.chance(0.95).then_some(cents(total_cents - invoiced)),
        start_at: span.map(|s| s.0),
        end_at: span.map(|s| s.1),
        completed_at,
        created_at: created,
        updated_at: s.updated.max(created),
        client: s.client,
        property: s.property,
        line_items: items,
        visits: vs,
    }
}

/// A random client, favouring the older ones (a few clients have many jobs).
fn pick(rng: &mut Rng, ids: &[u64]) -> Option<u64> {
    let r = rng.below(ids.len() as u64);
    let idx = if rng.chance(0.3) { r / 8 } else { r };
    ids.get(idx as usize).copied()
}

/// A fresh account with `jobs` jobs, about `jobs / 4` clients and 20 staff, all timestamps
/// before `now - 60` (so anything edited "now" sorts after every seeded row).
pub fn seed(jobs: usize, seed: u64, now: i64, account: &str) -> AccountData {
    let mut rng = Rng::new(seed);
    let mut d = AccountData::default();
    let [job_base, li_base, visit_base, client_base, prop_base, user_base] = bases(salt(account));
    d.next.line_item = li_base;
    d.next.visit = visit_base;
    for i in 0..20u64 {
        let (first, last) = person(&mut rng);
        d.insert_user(Staff { id: user_base + i, first: Some(first), last: (i != 7).then_some(last) });
    }
    let users: Vec<u64> = d.users.keys().copied().collect();
    let n_clients = if jobs == 0 { 0 } else { (jobs / 4).max(1) };
    let latest = now - 60;
    let (mut client_id, mut prop_id) = (client_base, prop_base);
    let mut clients: Vec<(u64, u64)> = Vec::with_capacity(n_clients);
    for k in 0..n_clients {
        let created = now - 3 * 365 * DAY + (k as i64 * 2 * 365 * DAY) / n_clients as i64;
        let updated = rng.range(created, latest);
        let c = new_client(&mut rng, client_id, created, updated);
        clients.push((client_id, prop_id));
        for _ in 0..(1 + rng.below(2)) {
            d.insert_property(new_property(&mut rng, prop_id, client_id));
            prop_id += 1 + rng.below(2);
        }
        d.insert_client(c);
        client_id += 1 + rng.below(3);
    }
    let client_ids: Vec<u64> = clients.iter().map(|c| c.0).collect();
    let mut job_id = job_base;
    let mut prev_updated: Option<i64> = None;
    let span = 400 * DAY;
    for i in 0..jobs {
        let created = now - span + (i as i64 * (span - 2 * DAY)) / jobs.max(1) as i64;
        let mut updated = rng.range(created.max(now - 365 * DAY), latest);
        // A few exact ties with the previous job.
        if let Some(p) = prev_updated
            && p >= created
            && rng.chance(0.03)
        {
            updated = p;
        }
        let k = pick(&mut rng, &client_ids).unwrap_or(0);
        let property =
            (!rng.chance(0.05)).then(|| clients.binary_search_by_key(&k, |c| c.0).ok().map(|i| clients[i].1)).flatten();
        let spec = JobSpec {
            id: job_id,
            number: i as i64 + 1,
            created,
            updated,
            now,
            client: k,
            property,
            many_items: i % 97 == 13,
        };
        let mut next = std::mem::take(&mut d.next);
        let job = new_job(&mut rng, &mut next, &users, spec);
        d.next = next;
        prev_updated = Some(job.updated_at);
        d.insert_job(job);
        job_id += 1 + rng.below(3);
    }
    d
}

/// What [`mutate`] did, as row ids.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Mutation {
    pub edited: Vec<u64>,
    pub added: Vec<u64>,
    pub deleted: Vec<u64>,
    pub clients_edited: Vec<u64>,
}

/// How many random changes [`mutate`] makes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Changes {
    pub edit: usize,
    pub add: usize,
    pub delete: usize,
    pub clients: usize,
    /// Whether edits bump `updatedAt` to `now`.
    pub touch: bool,
}

/// `n` distinct random picks from `ids` (all of them if fewer).
fn sample(rng: &mut Rng, mut ids: Vec<u64>, n: usize) -> Vec<u64> {
    let n = n.min(ids.len());
    for i in 0..n {
        let j = i + rng.below((ids.len() - i) as u64) as usize;
        ids.swap(i, j);
    }
    ids.truncate(n);
    ids
}

/// Random edits, additions and deletions at time `now`: deletions first, then edits of
/// surviving jobs, then new jobs, then client edits.
pub fn mutate(d: &mut AccountData, ch: Changes, seed: u64, now: i64) -> Mutation {
    let mut rng = Rng::new(seed ^ 0xA11CE);
    let mut out = Mutation::default();
    let ids: Vec<u64> = d.jobs.keys().copied().collect();
    let picked = sample(&mut rng, ids, ch.delete + ch.edit);
    let (del, edit) = picked.split_at(ch.delete.min(picked.len()));
    for id in del {
        if d.remove_job(*id).is_some() {
            out.deleted.push(*id);
        }
    }
    for id in edit {
        let Some(mut job) = d.remove_job(*id) else {
            continue;
        };
        edit_job(&mut rng, &mut job, &mut d.next, now);
        if ch.touch {
            job.updated_at = now;
        }
        d.insert_job(job);
        out.edited.push(*id);
    }
    let users: Vec<u64> = d.users.keys().copied().collect();
    let clients: Vec<u64> = d.clients_by_created.iter().map(|k| k.1).collect();
    for _ in 0..ch.add {
        let client = match pick(&mut rng, &clients) {
            Some(c) => c,
            None => {
                let id = d.next.client.max(1);
                d.insert_client(new_client(&mut rng, id, now, now));
                id
            }
        };
        let property = d.properties.values().find(|p| p.client == client).map(|p| p.id);
        let spec = JobSpec {
            id: d.next.job.max(1) + rng.below(3),
            number: d.next.job_number.max(1),
            created: now,
            updated: now,
            now,
            client,
            property,
            many_items: rng.chance(0.02),
        };
        let mut next = std::mem::take(&mut d.next);
        let job = new_job(&mut rng, &mut next, &users, spec);
        d.next = next;
        out.added.push(job.id);
        d.insert_job(job);
    }
    let cids: Vec<u64> = d.clients.keys().copied().collect();
    for id in sample(&mut rng, cids, ch.clients) {
        let flip = rng.below(4);
        let (first, last) = person(&mut rng);
        d.update_client(id, |c| {
            match flip {
                0 => c.first_name = Some(first),
                1 => c.last_name = Some(last),
                2 => c.is_lead = !c.is_lead,
                _ => c.is_archived = !c.is_archived,
            }
            c.updated_at = now;
        });
        out.clients_edited.push(id);
    }
    out
}

/// One to three random changes to a job's fields, line items or visits.
fn edit_job(rng: &mut Rng, job: &mut Job, next: &mut Counters, now: i64) {
    for _ in 0..1 + rng.below(3) {
        match rng.below(7) {
            0 => job.title = Some(format!("{} (rev. {})", rng.pick(TITLES), rng.below(100))),
            1 => job.job_status = status(rng).to_string(),
            2 => job.instructions = if rng.chance(0.2) { None } else { Some(rng.pick(INSTRUCTIONS).to_string()) },
            3 => job.total = cents(rng.range(1000, 500_000)),
            4 => {
                let start = now + rng.range(-10 * DAY, 30 * DAY);
                job.start_at = Some(start);
                job.end_at = Some(start + rng.range(HOUR, 8 * HOUR));
            }
            5 => {
                // Line items: add one, drop one or change a quantity; the total follows.
                match rng.below(3) {
                    0 => job.line_items.extend(line_items(rng, 1, &mut next.line_item)),
                    1 if !job.line_items.is_empty() => {
                        let i = rng.below(job.line_items.len() as u64) as usize;
                        job.line_items.remove(i);
                    }
                    _ => {
                        if let Some(l) = job.line_items.first_mut() {
                            l.quantity += 1.0;
                            l.total_price = cents((l.quantity * l.unit_price * 100.0).round() as i64);
                        }
                    }
                }
                let sum: i64 = job.line_items.iter().map(|l| (l.total_price * 100.0).round() as i64).sum();
                job.total = cents(sum);
            }
            _ => {
                // Visits: complete the first open one, or add an unscheduled one.
                match job.visits.iter_mut().find(|v| !v.is_complete) {
                    Some(v) => {
                        v.is_complete = true;
                        v.completed_at = Some(now);
                        v.visit_status = "completed".into();
                    }
                    None => {
                        let id = next.visit;
                        next.visit += 1;
                        job.visits.push(Visit {
                            id,
                            title: Some("Follow-up".into()),
                            start_at: None,
                            end_at: None,
                            completed_at: None,
                            is_complete: false,
                            visit_status: "unscheduled".into(),
                            assigned: vec![],
                        });
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    #[test]
    fn seeding_is_deterministic_and_realistic() {
        let a = seed(2000, 7, NOW, "acc");
        let b = seed(2000, 7, NOW, "acc");
        assert_eq!(a.truth(), b.truth());
        assert_ne!(seed(2000, 8, NOW, "acc").truth(), a.truth());
        assert_eq!(a.jobs.len(), 2000);
        assert_eq!(a.clients.len(), 500);
        assert_eq!(a.users.len(), 20);
        let jobs: Vec<&Job> = a.jobs.values().collect();
        assert!(jobs.iter().any(|j| j.line_items.len() > 50));
        assert!(jobs.iter().all(|j| j.line_items.len() <= 30 || j.line_items.len() > 50));
        assert!(jobs.iter().any(|j| j.line_items.is_empty()));
        assert!(jobs.iter().all(|j| j.visits.len() <= 12));
        assert!(jobs.iter().any(|j| j.visits.len() >= 10));
        // Skewed: most jobs have a handful of line items.
        let small = jobs.iter().filter(|j| j.line_items.len() <= 10).count();
        assert!(small > jobs.len() * 3 / 4, "{small}");
        assert!(jobs.iter().any(|j| (21..=30).contains(&j.line_items.len())));
        assert!(jobs.iter().any(|j| j.start_at.is_none()));
        assert!(jobs.iter().any(|j| j.completed_at.is_some()));
        assert!(jobs.iter().any(|j| j.instructions.is_none()));
        assert!(jobs.iter().any(|j| j.title.as_deref().is_some_and(|t| t.contains('"'))));
        assert!(jobs.iter().any(|j| j.title.as_deref().is_some_and(|t| !t.is_ascii())));
        assert!(jobs.iter().flat_map(|j| &j.visits).all(|v| v.assigned.len() <= 4));
        // Distinct updatedAt values over the past year, with some exact ties.
        let mut times: Vec<i64> = jobs.iter().map(|j| j.updated_at).collect();
        assert!(times.iter().all(|t| *t <= NOW - 60 && *t >= NOW - 366 * DAY));
        times.sort_unstable();
        let before = times.len();
        times.dedup();
        assert!(before - times.len() >= 10, "ties: {}", before - times.len());
        assert!(times.len() > 1900);
        // Job numbers follow creation; every job has a live client.
        assert!(jobs.iter().all(|j| a.clients.contains_key(&j.client)));
        assert!(jobs.windows(2).all(|w| w[0].job_number < w[1].job_number));
        // Another account gets other ids.
        let other = seed(10, 7, NOW, "other");
        assert!(other.jobs.keys().all(|k| !a.jobs.contains_key(k)));
    }

    #[test]
    fn seeding_twenty_thousand_jobs_is_fast() {
        let t = std::time::Instant::now();
        let d = seed(20_000, 1, NOW, "acc");
        let took = t.elapsed();
        assert_eq!(d.jobs.len(), 20_000);
        assert_eq!(d.jobs_by_updated.len(), 20_000);
        // Debug builds are ~10x slower than release; release seeds in well under a second.
        assert!(took.as_secs_f64() < 6.0, "took {took:?}");
        eprintln!("seeded 20,000 jobs in {took:?}");
    }

    #[test]
    fn mutate_edits_adds_and_deletes() {
        let mut d = seed(200, 3, NOW, "acc");
        let before = d.clone();
        let ch = Changes { edit: 10, add: 5, delete: 4, clients: 3, touch: true };
        let m = mutate(&mut d, ch, 9, NOW + 100);
        assert_eq!(m.deleted.len(), 4);
        assert_eq!(m.edited.len(), 10);
        assert_eq!(m.added.len(), 5);
        assert_eq!(d.jobs.len(), 201);
        for id in &m.deleted {
            assert!(!d.jobs.contains_key(id));
        }
        for id in &m.edited {
            assert_eq!(d.jobs[id].updated_at, NOW + 100);
            assert_ne!(d.jobs[id], before.jobs[id]);
        }
        for id in &m.added {
            assert!(!before.jobs.contains_key(id));
            assert_eq!(d.jobs[id].created_at, NOW + 100);
        }
        for id in &m.clients_edited {
            assert_eq!(d.clients[id].updated_at, NOW + 100);
        }
        assert_eq!(d.jobs_by_updated.len(), d.jobs.len());
        assert_eq!(d.jobs_by_number.len(), d.jobs.len());
        let mut again = before.clone();
        assert_eq!(mutate(&mut again, ch, 9, NOW + 100), m, "deterministic");
        // Without touch, updatedAt stays.
        let mut quiet = before.clone();
        let m = mutate(&mut quiet, Changes { edit: 5, touch: false, ..Changes::default() }, 1, NOW + 100);
        for id in &m.edited {
            assert_eq!(quiet.jobs[id].updated_at, before.jobs[id].updated_at);
        }
    }
}
