//! `integ jobs list|show`: read synced Jobber jobs back from the local database (no network).

use comfy_table::Table;

use crate::cli::{JobsCommand, JobsListArgs, JobsShowArgs};
use crate::context::Context;
use crate::error::{Done, Error, Result};
use crate::provider::Provider;
use crate::store::jobs::{self, JobView};
use crate::ui::{Listing, Ui};

pub fn run(ctx: &mut Context, cmd: JobsCommand) -> Result<Done> {
    match cmd {
        JobsCommand::List(a) => list(ctx, a),
        JobsCommand::Show(a) => show(ctx, a),
    }
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct Jobs(Vec<JobView>);

fn money(v: Option<f64>) -> String {
    v.map(|t| format!("{t:.2}")).unwrap_or_default()
}

impl Listing for Jobs {
    fn table(&self) -> Table {
        let mut t = Ui::table(&["#", "TITLE", "STATUS", "CLIENT", "START", "TOTAL", "UPDATED"]);
        for j in &self.0 {
            t.add_row(vec![
                j.job_number.map(|n| n.to_string()).unwrap_or_default(),
                j.title.clone().unwrap_or_default(),
                j.status.clone().unwrap_or_default(),
                j.client_name.clone().unwrap_or_default(),
                j.start_at.clone().unwrap_or_default(),
                money(j.total),
                j.updated_at.clone().unwrap_or_default(),
            ]);
        }
        t
    }

    fn empty_message(&self) -> Option<String> {
        self.0.is_empty().then(|| "No jobs match. Run `integ sync jobs` to fetch them from Jobber.".to_string())
    }
}

fn connection_filter(ctx: &mut Context, account: Option<&str>) -> Result<Option<i64>> {
    match account {
        None => Ok(None),
        Some(name) => Ok(Some(super::select::one(ctx.db()?, Provider::Jobber, Some(name))?.id)),
    }
}

fn list(ctx: &mut Context, a: JobsListArgs) -> Result<Done> {
    let since = match &a.since {
        None => None,
        Some(d) => {
            let date = jiff::civil::Date::strptime("%Y-%m-%d", d)
                .map_err(|_| Error::config(format!("--since '{d}' is not a date")).hint("use the form 2026-05-01"))?;
            Some(format!("{date}T00:00:00Z"))
        }
    };
    let cid = connection_filter(ctx, a.account.as_deref())?;
    let found = match ctx.existing_db()? {
        Some(db) => jobs::list(db, cid, a.status.as_deref(), since.as_deref())?,
        None => Vec::new(),
    };
    if a.csv {
        let mut out = String::from(
            "account,id,job_number,title,status,job_type,client,start_at,end_at,completed_at,total,updated_at,web_url\n",
        );
        for j in &found {
            let fields = [
                j.account.clone(),
                j.id.clone(),
                j.job_number.map(|n| n.to_string()).unwrap_or_default(),
                j.title.clone().unwrap_or_default(),
                j.status.clone().unwrap_or_default(),
                j.job_type.clone().unwrap_or_default(),
                j.client_name.clone().unwrap_or_default(),
                j.start_at.clone().unwrap_or_default(),
                j.end_at.clone().unwrap_or_default(),
                j.completed_at.clone().unwrap_or_default(),
                money(j.total),
                j.updated_at.clone().unwrap_or_default(),
                j.web_url.clone().unwrap_or_default(),
            ];
            out.push_str(&crate::ui::csv_row(&fields));
            out.push('\n');
        }
        ctx.ui.line(out.trim_end())?;
        return Ok(Done::Ok);
    }
    ctx.ui.data(&Jobs(found))?;
    Ok(Done::Ok)
}

#[derive(serde::Serialize)]
struct Shown {
    #[serde(flatten)]
    job: JobView,
    #[serde(flatten)]
    extra: serde_json::Value,
}

impl Listing for Shown {
    fn table(&self) -> Table {
        let mut t = Ui::table(&["FIELD", "VALUE"]);
        let j = &self.job;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let field = |k: &str| self.extra.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let address = [
            field("street1"),
            field("street2"),
            j.city.clone(),
            field("province"),
            field("postal_code"),
            field("country"),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
        let mut rows = vec![
            ("job", format!("#{} {}", j.job_number.unwrap_or_default(), opt(&j.title))),
            ("id", j.id.clone()),
            ("status", opt(&j.status)),
            ("type", opt(&j.job_type)),
            ("client", opt(&j.client_name)),
            ("address", address),
            ("start", opt(&j.start_at)),
            ("end", opt(&j.end_at)),
            ("completed", opt(&j.completed_at)),
            ("total", money(j.total)),
            ("updated", opt(&j.updated_at)),
            ("web", opt(&j.web_url)),
            ("instructions", self.extra.get("instructions").and_then(|v| v.as_str()).unwrap_or("").to_string()),
        ];
        if let Some(d) = &j.deleted_at {
            rows.push(("deleted", d.clone()));
        }
        for (k, v) in rows {
            t.add_row(vec![k.to_string(), v]);
        }
        let items = self.extra.get("line_items").and_then(|v| v.as_array()).cloned().unwrap_or_default();
        for i in items {
            let s = |k: &str| {
                i.get(k)
                    .map(|v| if v.is_string() { v.as_str().unwrap_or("").to_string() } else { v.to_string() })
                    .unwrap_or_default()
            };
            t.add_row(vec![
                "line item".to_string(),
                format!("{} × {} @ {} = {}", s("name"), s("quantity"), s("unit_price"), s("total_price")),
            ]);
        }
        let visits = self.extra.get("visits").and_then(|v| v.as_array()).cloned().unwrap_or_default();
        for v in visits {
            let s = |k: &str| v.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            t.add_row(vec![
                "visit".to_string(),
                format!("{} {} → {} ({}) crew: {}", s("title"), s("start_at"), s("end_at"), s("status"), s("crew")),
            ]);
        }
        t
    }
}

fn show(ctx: &mut Context, a: JobsShowArgs) -> Result<Done> {
    let cid = connection_filter(ctx, a.account.as_deref())?;
    let found = match ctx.existing_db()? {
        Some(db) => jobs::show(db, cid, &a.job)?,
        None => None,
    };
    let (job, extra) = found.ok_or_else(|| {
        Error::failure(format!("no job '{}' in the local database", a.job))
            .hint("check the id or number with `integ jobs list`, or run `integ sync jobs`")
    })?;
    ctx.ui.data(&Shown { job, extra })?;
    Ok(Done::Ok)
}
