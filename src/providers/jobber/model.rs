//! The shapes of Jobber's GraphQL answers that integ reads. Unknown fields are ignored, every
//! nullable field is an `Option`; the raw JSON of each node travels beside it as text.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Connection<T> {
    pub nodes: Vec<T>,
    #[serde(rename = "pageInfo")]
    pub page_info: Option<PageInfo>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientRef {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Property {
    pub id: String,
    pub address: Option<Address>,
}

/// A job as the page query selects it (without line items and visits).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    pub job_number: Option<i64>,
    pub title: Option<String>,
    pub job_status: Option<String>,
    pub job_type: Option<String>,
    pub instructions: Option<String>,
    pub total: Option<f64>,
    pub start_at: Option<String>,
    pub end_at: Option<String>,
    pub completed_at: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub jobber_web_uri: Option<String>,
    pub client: Option<ClientRef>,
    pub property: Option<Property>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub quantity: Option<f64>,
    pub unit_price: Option<f64>,
    pub total_price: Option<f64>,
    pub taxable: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UserName {
    pub full: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: String,
    pub name: Option<UserName>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Visit {
    pub id: String,
    pub title: Option<String>,
    pub start_at: Option<String>,
    pub end_at: Option<String>,
    pub completed_at: Option<String>,
    pub is_complete: Option<bool>,
    pub visit_status: Option<String>,
    pub assigned_users: Option<Connection<User>>,
}

/// Line items and visits of one job, gathered over as many queries as they need.
#[derive(Debug, Clone, Default)]
pub struct JobDetails {
    pub line_items: Vec<LineItem>,
    pub visits: Vec<Visit>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    pub id: String,
    pub name: Option<String>,
    pub company_name: Option<String>,
    pub is_company: Option<bool>,
    pub is_archived: Option<bool>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub jobber_web_uri: Option<String>,
}
