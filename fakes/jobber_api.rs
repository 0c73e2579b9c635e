//! The Jobber GraphQL schema the fake serves, its per-account data, and the resolvers.
//!
//! Extension point: to serve jobs, clients, visits or line items, add their types to [`SDL`]
//! (copying Jobber's names: `JobConnection`, `JobFilterAttributes`, lower-case `jobStatus`
//! values, ...), the rows to [`AccountData`], and a resolver per root or nested connection in
//! [`resolvers`]. Costs need no code: any `*Connection` type is priced `first` × its
//! `nodes`/`edges`. [`connection`] already implements cursor paging over a slice.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::graphql::{Resolvers, Schema};

/// The part of Jobber's schema the fake knows. Anything else fails validation with
/// "Field 'x' doesn't exist on type 'Y'", like a field removed from a served version.
pub const SDL: &str = r#"
"Base64 of a global id such as gid://Jobber/Job/142669522"
scalar EncodedId
scalar ISO8601DateTime

type Query {
  "The account the access token belongs to (allowed whatever the app's scopes)"
  account: Account!
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
    base64::engine::general_purpose::STANDARD.encode(format!("gid://Jobber/{kind}/{n}"))
}

pub fn schema() -> Result<Schema, String> {
    Ok(Schema::from_sdl(SDL)?.with_scalar_check("EncodedId", encoded_id_ok))
}

pub use crate::jobber_data::AccountData;

/// What resolvers see: the account behind the access token, and effects to apply afterwards.
pub struct ApiCtx<'a> {
    pub account_id: &'a str,
    pub account_name: &'a str,
    #[allow(dead_code)] // read by the resolvers of the next task (jobs, clients, visits)
    pub data: &'a mut AccountData,
    pub app_id: String,
    pub app_name: &'a str,
    pub app_author: &'a str,
    /// Set by `appDisconnect`; the transport kills the tokens once the response is built.
    pub disconnect: bool,
}

pub fn resolvers<'a>() -> Resolvers<ApiCtx<'a>> {
    Resolvers::default()
        .on(
            "Query",
            "account",
            |c: &mut ApiCtx<'a>, _: &Value, _: &Map<String, Value>| {
                Ok(json!({ "id": c.account_id, "name": c.account_name }))
            },
        )
        .on(
            "Mutation",
            "appDisconnect",
            |c: &mut ApiCtx<'a>, _: &Value, _: &Map<String, Value>| {
                c.disconnect = true;
                Ok(json!({
                    "app": { "id": c.app_id, "name": c.app_name, "author": c.app_author },
                    "userErrors": [],
                }))
            },
        )
}

/// Relay-style paging over `items` for a connection field's `first`/`after`/`last`/`before`
/// arguments. Cursors are base64 of the position, like Jobber's (`MjU` = "25").
/// Returns `{nodes, edges, pageInfo, totalCount}`; the executor picks what was selected.
#[allow(dead_code)] // used by the connections the next task adds; tested below
pub fn connection(items: &[Value], args: &Map<String, Value>) -> Result<Value, String> {
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
    let mut start = decode("after")?.unwrap_or(0).min(items.len());
    let mut end = decode("before")?.map_or(items.len(), |b| b.saturating_sub(1).min(items.len()));
    if end < start {
        end = start;
    }
    if let Some(f) = count("first")? {
        end = end.min(start + f);
    }
    if let Some(l) = count("last")? {
        start = start.max(end.saturating_sub(l));
    }
    let cursor =
        |i: usize| base64::engine::general_purpose::STANDARD_NO_PAD.encode((i + 1).to_string());
    let page = &items[start..end];
    let edges: Vec<Value> = page
        .iter()
        .enumerate()
        .map(|(i, n)| json!({ "cursor": cursor(start + i), "node": n }))
        .collect();
    Ok(json!({
        "nodes": page,
        "edges": edges,
        "pageInfo": {
            "hasNextPage": end < items.len(),
            "hasPreviousPage": start > 0,
            "startCursor": if page.is_empty() { Value::Null } else { json!(cursor(start)) },
            "endCursor": if page.is_empty() { Value::Null } else { json!(cursor(end - 1)) },
        },
        "totalCount": items.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::{execute, prepare};

    fn ctx<'a>(data: &'a mut AccountData) -> ApiCtx<'a> {
        ApiCtx {
            account_id: "Z2lkOi8vSm9iYmVyL0FjY291bnQvMQ==",
            account_name: "Acme",
            data,
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
        assert_eq!(
            r.data,
            json!({"account": {"id": "Z2lkOi8vSm9iYmVyL0FjY291bnQvMQ==", "name": "Acme"}})
        );
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
            r.data,
            json!({"appDisconnect": {"app": {"name": "integ", "author": "integ authors"}, "userErrors": []}})
        );
        assert!(c.disconnect);
    }

    #[test]
    fn unknown_fields_fail_like_jobber() {
        let s = schema().unwrap();
        let e = prepare(
            &s,
            "{ account { id name industry } jobs { nodes { id } } }",
            None,
            None,
        )
        .unwrap_err();
        let msgs: Vec<&str> = e.iter().filter_map(|e| e["message"].as_str()).collect();
        assert_eq!(
            msgs,
            [
                "Field 'industry' doesn't exist on type 'Account'",
                "Field 'jobs' doesn't exist on type 'Query'"
            ]
        );
    }

    #[test]
    fn encoded_ids() {
        assert_eq!(
            encode_id("Job", 142669522),
            "Z2lkOi8vSm9iYmVyL0pvYi8xNDI2Njk1MjI="
        );
        assert!(encoded_id_ok(&json!(
            "Z2lkOi8vSm9iYmVyL0pvYi8xNDI2Njk1MjI="
        )));
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
        let p3 = connection(
            &items,
            &args(json!({"first": 2, "after": p2["pageInfo"]["endCursor"]})),
        )
        .unwrap();
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
