//! The text of the queries integ sends Jobber: lean selections, an explicit `first` on every
//! connection and no `totalCount`, because Jobber charges every field and every connection's
//! `first` against the account's cost bucket before it runs a query.

/// Jobs per page; the cost of one page is about 25 points per job.
pub const JOBS_PAGE: u32 = 100;
pub const CLIENTS_PAGE: u32 = 100;
/// Nested page sizes in the details query.
pub(super) const LINE_ITEMS_FIRST: u32 = 30;
pub(super) const VISITS_FIRST: u32 = 12;
pub(super) const ASSIGNEES_FIRST: u32 = 10;

const JOB_FIELDS: &str = "id jobNumber title jobStatus jobType instructions total startAt endAt completedAt \
     createdAt updatedAt jobberWebUri client { id name } \
     property { id address { street1 street2 city province postalCode country } }";

const LINE_ITEM_FIELDS: &str = "id name description quantity unitPrice totalPrice taxable";
const VISIT_FIELDS: &str = "id title startAt endAt completedAt isComplete visitStatus";
const CLIENT_FIELDS: &str = "id name companyName isCompany isArchived createdAt updatedAt jobberWebUri";

/// The order a scan pages jobs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOrder {
    /// Newest change first: the only incremental handle Jobber has (no `updatedAt` filter).
    Changed,
    /// By job number: edits don't move a job, so a full sweep sees every job that lives
    /// through it exactly once, and can tell which ones vanished.
    Number,
}

/// The jobs page query.
pub fn jobs_query(order: JobOrder) -> String {
    let sort = match order {
        JobOrder::Changed => "{key: UPDATED_AT, direction: DESCENDING}",
        JobOrder::Number => "{key: JOB_NUMBER, direction: ASCENDING}",
    };
    format!(
        "query JobsPage($first: Int!, $after: String) {{ jobs(first: $first, after: $after, sort: [{sort}]) \
         {{ nodes {{ {JOB_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
}

fn visits_selection(first: u32, after: bool) -> String {
    let after = if after { ", after: $after" } else { "" };
    format!(
        "visits(first: {first}{after}) {{ nodes {{ {VISIT_FIELDS} assignedUsers(first: {ASSIGNEES_FIRST}) \
         {{ nodes {{ id name {{ full }} }} pageInfo {{ hasNextPage endCursor }} }} }} pageInfo {{ hasNextPage endCursor }} }}"
    )
}

fn line_items_selection(first: u32, after: bool) -> String {
    let after = if after { ", after: $after" } else { "" };
    format!(
        "lineItems(first: {first}{after}) {{ nodes {{ {LINE_ITEM_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}"
    )
}

/// Line items and visits of a batch of jobs.
pub fn details_query() -> String {
    format!(
        "query JobDetails($ids: [EncodedId!], $first: Int!) {{ jobs(first: $first, filter: {{ids: $ids}}) \
         {{ nodes {{ id {} {} }} pageInfo {{ hasNextPage endCursor }} }} }}",
        line_items_selection(LINE_ITEMS_FIRST, false),
        visits_selection(VISITS_FIRST, false)
    )
}

pub(super) fn more_line_items_query() -> String {
    format!(
        "query MoreLineItems($id: EncodedId!, $after: String) {{ job(id: $id) {{ id {} }} }}",
        line_items_selection(50, true)
    )
}

pub(super) fn more_visits_query() -> String {
    format!(
        "query MoreVisits($id: EncodedId!, $after: String) {{ job(id: $id) {{ id {} }} }}",
        visits_selection(20, true)
    )
}

pub fn clients_query(filtered: bool) -> String {
    let (vars, filter) =
        if filtered { (", $since: ISO8601DateTime", ", filter: {updatedAt: {after: $since}}") } else { ("", "") };
    format!(
        "query ClientsPage($first: Int!, $after: String{vars}) {{ clients(first: $first, after: $after{filter}) \
         {{ nodes {{ {CLIENT_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
}
