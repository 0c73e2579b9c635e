//! How much of `integ sync jobs`'s CPU is storing the rows, and what the floor of storing them
//! in SQLite at all is. Not a test: run `cargo bench --bench store [-- JOBS]` and compare the
//! lines of one run (the machine is shared and noisy).
//!
//! Two ways of writing the same synthetic jobs, shaped like the fake's (a ~700-byte raw job,
//! about 4.7 line items, 2.1 visits and 4 crew rows each):
//! - `integ`: the real write path (`Db::open`, `JobWriter`, schema 4, 500 jobs a transaction,
//!   WAL, as `sync jobs` does it);
//! - `floor`: the least SQLite can do with the same rows: plain rowid tables without keys or
//!   indexes, one transaction, no journal, no fsync. Nothing real can be cheaper.
//!
//! CPU time is this process's user + system time from `/proc/self/stat` (10 ms ticks), over a
//! run of several seconds.

use std::time::Instant;

use integ::store::db::Db;
use integ::store::jobs::{JobRow, JobWriter, LineItemRow, VisitRow};
use rusqlite::params;

/// A job and its children, owned (rows borrow from it).
struct Job {
    id: String,
    number: i64,
    title: String,
    updated: String,
    raw: String,
    items: Vec<(String, String, f64)>,
    visits: Vec<Visit>,
}

/// A visit's id, title and crew (user id, name).
type Visit = (String, String, Vec<(String, String)>);

/// One way of writing the jobs into a folder.
type WritePath = fn(&std::path::Path, &[Job]);

/// Deterministic jobs with the fake's spread of children.
fn jobs(n: usize) -> Vec<Job> {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    (0..n)
        .map(|i| {
            let id = format!("Z2lkOi8vSm9iYmVyL0pvYi8{:08}", i * 7919 % 99_999_989);
            let updated = format!("2026-{:02}-{:02}T{:02}:00:00Z", 1 + next(12), 1 + next(28), next(24));
            let items = if next(100) == 0 { 51 + next(30) } else { next(10) };
            let visits = next(5);
            let raw = format!(
                r#"{{"id":"{id}","jobNumber":{i},"title":"Weekly lawn care {i}","jobStatus":"active","jobType":"RECURRING","instructions":"Gate code 4411. Dog in the back yard; close the gate behind you.","total":{}.5,"startAt":"2026-03-01T14:00:00Z","endAt":"2026-11-30T15:00:00Z","completedAt":null,"createdAt":"2026-02-11T09:12:44Z","updatedAt":"{updated}","jobberWebUri":"https://secure.getjobber.com/work_orders/{i}","client":{{"id":"Z2lkOi8vSm9iYmVyL0NsaWVudC8{}","name":"Client {}"}},"property":{{"id":"Z2lkOi8vSm9iYmVyL1Byb3BlcnR5Lz{i}","address":{{"street1":"{} Maple Street","street2":null,"city":"Springfield","province":"IL","postalCode":"62704","country":"US"}}}}}}"#,
                next(5000),
                next(5000),
                next(5000),
                next(900)
            );
            Job {
                id,
                number: i as i64,
                title: format!("Weekly lawn care {i}"),
                updated,
                raw,
                items: (0..items)
                    .map(|k| (format!("Z2lkOi8vSm9iYmVyL0xpbmVJdGVtLz{i}x{k}"), "Mulch, per yard".into(), 2.5))
                    .collect(),
                visits: (0..visits)
                    .map(|k| {
                        let crew = (0..next(4)).map(|u| (format!("Z2lkOi8vSm9iYmVyL1VzZXIv{u}"), "Ana Lopez".into())).collect();
                        (format!("Z2lkOi8vSm9iYmVyL1Zpc2l0Lz{i}x{k}"), "Visit".into(), crew)
                    })
                    .collect(),
            }
        })
        .collect()
}

/// User + system CPU seconds of this process so far.
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat (Linux only)");
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn integ_path(dir: &std::path::Path, jobs: &[Job]) {
    let mut db = Db::open(&dir.join("integ.db")).unwrap();
    db.conn()
        .execute(
            "INSERT INTO connections (id, provider, account_id, account_name, label, state, created_at, updated_at)
             VALUES (1, 'jobber', 'a', 'A', 'A', 'connected', 'now', 'now')",
            integ::store::sql::params![],
        )
        .unwrap();
    let now = "2026-11-21T00:00:00Z".to_string();
    for chunk in jobs.chunks(500) {
        db.write(|tx| -> Result<(), integ::store::db::DbError> {
            let mut w = JobWriter::new(tx, 1, &now, 1)?;
            for j in chunk {
                let row = JobRow {
                    id: &j.id,
                    job_number: Some(j.number),
                    title: Some(&j.title),
                    status: Some("active"),
                    job_type: Some("RECURRING"),
                    instructions: Some("Gate code 4411. Dog in the back yard; close the gate behind you."),
                    total: Some(120.5),
                    start_at: Some("2026-03-01T14:00:00Z"),
                    end_at: Some("2026-11-30T15:00:00Z"),
                    created_at: Some("2026-02-11T09:12:44Z"),
                    updated_at: Some(&j.updated),
                    client_id: Some("Z2lkOi8vSm9iYmVyL0NsaWVudC8xMjM0"),
                    client_name: Some("Client 1234"),
                    property_id: Some("Z2lkOi8vSm9iYmVyL1Byb3BlcnR5LzEyMzQ"),
                    street1: Some("12 Maple Street"),
                    city: Some("Springfield"),
                    province: Some("IL"),
                    postal_code: Some("62704"),
                    country: Some("US"),
                    web_url: Some("https://secure.getjobber.com/work_orders/1"),
                    raw_json: &j.raw,
                    ..JobRow::default()
                };
                let (_, key) = w.job(&row, None)?;
                let items: Vec<LineItemRow<'_>> = j
                    .items
                    .iter()
                    .map(|(id, name, q)| LineItemRow {
                        id,
                        name: Some(name),
                        description: Some("Includes delivery"),
                        quantity: Some(*q),
                        unit_price: Some(40.0),
                        total_price: Some(q * 40.0),
                        taxable: Some(true),
                    })
                    .collect();
                let visits: Vec<VisitRow<'_>> = j
                    .visits
                    .iter()
                    .map(|(id, title, crew)| VisitRow {
                        id,
                        title: Some(title),
                        start_at: Some("2026-03-01T14:00:00Z"),
                        end_at: Some("2026-03-01T15:00:00Z"),
                        completed_at: None,
                        is_complete: Some(false),
                        status: Some("upcoming"),
                        assignees: crew.iter().map(|(u, n)| (u.as_str(), Some(n.as_str()))).collect(),
                    })
                    .collect();
                w.details(key, true, &items, &visits)?;
            }
            w.finish()
        })
        .unwrap();
    }
}

fn floor_path(dir: &std::path::Path, jobs: &[Job]) {
    let mut c = rusqlite::Connection::open(dir.join("floor.db")).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA page_size = 16384;
         CREATE TABLE jobs (connection_id, id, job_number, title, status, job_type, instructions, total, start_at,
            end_at, completed_at, created_at, updated_at, client_id, client_name, property_id, street1, street2, city,
            province, postal_code, country, web_url, raw_json, first_seen_at, last_seen_at, sweep);
         CREATE TABLE items (job_key, id, connection_id, position, name, description, quantity, unit_price,
            total_price, taxable);
         CREATE TABLE visits (job_key, id, connection_id, title, start_at, end_at, completed_at, is_complete, status);
         CREATE TABLE crew (job_key, visit_id, user_id, connection_id, user_name);",
    )
    .unwrap();
    let tx = c.transaction().unwrap();
    {
        let mut job = tx.prepare("INSERT INTO jobs VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?25, ?26)").unwrap();
        let mut item = tx.prepare("INSERT INTO items VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)").unwrap();
        let mut visit = tx.prepare("INSERT INTO visits VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)").unwrap();
        let mut crew = tx.prepare("INSERT INTO crew VALUES (?1, ?2, ?3, ?4, ?5)").unwrap();
        for j in jobs {
            job.execute(params![
                1,
                j.id,
                j.number,
                j.title,
                "active",
                "RECURRING",
                "Gate code 4411. Dog in the back yard; close the gate behind you.",
                120.5,
                "2026-03-01T14:00:00Z",
                "2026-11-30T15:00:00Z",
                None::<&str>,
                "2026-02-11T09:12:44Z",
                j.updated,
                "Z2lkOi8vSm9iYmVyL0NsaWVudC8xMjM0",
                "Client 1234",
                "Z2lkOi8vSm9iYmVyL1Byb3BlcnR5LzEyMzQ",
                "12 Maple Street",
                None::<&str>,
                "Springfield",
                "IL",
                "62704",
                "US",
                "https://secure.getjobber.com/work_orders/1",
                j.raw,
                "2026-11-21T00:00:00Z",
                1
            ])
            .unwrap();
            let key = tx.last_insert_rowid();
            for (pos, (id, name, q)) in j.items.iter().enumerate() {
                item.execute(params![key, id, 1, pos as i64, name, "Includes delivery", q, 40.0, q * 40.0, true])
                    .unwrap();
            }
            for (id, title, members) in &j.visits {
                visit
                    .execute(params![
                        key,
                        id,
                        1,
                        title,
                        "2026-03-01T14:00:00Z",
                        "2026-03-01T15:00:00Z",
                        None::<&str>,
                        false,
                        "upcoming"
                    ])
                    .unwrap();
                for (u, n) in members {
                    crew.execute(params![key, id, u, 1, n]).unwrap();
                }
            }
        }
    }
    tx.commit().unwrap();
}

fn main() {
    let n: usize =
        std::env::args().skip(1).find(|a| !a.starts_with('-')).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let data = jobs(n);
    let rows: usize =
        data.iter().map(|j| 1 + j.items.len() + j.visits.iter().map(|v| 1 + v.2.len()).sum::<usize>()).sum();
    println!("{n} jobs, {:.1} rows per job", rows as f64 / n as f64);
    let paths: [(&str, WritePath); 2] = [("integ", integ_path), ("floor", floor_path)];
    for (name, path) in paths {
        let dir = tempfile::tempdir().unwrap();
        let (c0, t0) = (cpu(), Instant::now());
        path(dir.path(), &data);
        let (cpu, wall) = (cpu() - c0, t0.elapsed().as_secs_f64());
        println!(
            "{name:>5}: {:.1} µs CPU per job ({:.2} µs per row), {:.0} jobs/s wall",
            cpu / n as f64 * 1e6,
            cpu / rows as f64 * 1e6,
            n as f64 / wall
        );
    }
}
