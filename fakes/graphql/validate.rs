//! Static validation of a request against the schema, variable coercion and the query's
//! requested cost. Nothing here runs a resolver: an invalid query has no side effects.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::exec::collect_fields;
use super::schema::{Schema, TypeDef};
use super::syntax::{AstValue, Directive, Document, OpKind, Operation, Pos, Selection, TypeRef, parse_document};

/// A request that passed parsing, validation and variable coercion.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub doc: Arc<Document>,
    pub op_index: usize,
    pub vars: Map<String, Value>,
    pub requested_cost: u64,
}

impl Prepared {
    pub fn op(&self) -> &Operation {
        &self.doc.operations[self.op_index]
    }
}

/// A GraphQL error object with `locations` (and `path`/`extensions` when given).
pub fn error_at(message: &str, pos: Option<Pos>, path: Option<&[String]>, ext: Option<Value>) -> Value {
    let mut e = Map::new();
    e.insert("message".into(), json!(message));
    if let Some(p) = pos {
        e.insert("locations".into(), json!([{ "line": p.line, "column": p.col }]));
    }
    if let Some(p) = path {
        e.insert("path".into(), json!(p));
    }
    if let Some(x) = ext {
        e.insert("extensions".into(), x);
    }
    Value::Object(e)
}

/// How much a connection costs when neither `first` nor `last` is given.
pub const DEFAULT_CONNECTION_SIZE: u64 = 100;

/// Parse, validate and coerce variables. Errors are GraphQL error objects; the response
/// then has `errors` and no `data`.
#[cfg(test)]
pub fn prepare(
    schema: &Schema,
    query: &str,
    variables: Option<&Value>,
    operation_name: Option<&str>,
) -> Result<Prepared, Vec<Value>> {
    prepare_cached(schema, &mut QueryCache::default(), query, variables, operation_name)
}

/// Documents that passed validation, by query text and operation name: a client sends the
/// same few queries over and over, so only variables and cost are worked out per request.
#[derive(Debug, Default)]
pub struct QueryCache {
    docs: HashMap<(String, Option<String>), (Arc<Document>, usize)>,
}

/// Entries kept before the cache starts over (a client sends a handful of distinct queries).
const CACHE_MAX: usize = 256;

/// [`prepare`], reusing the parsed and validated document of a query seen before.
pub fn prepare_cached(
    schema: &Schema,
    cache: &mut QueryCache,
    query: &str,
    variables: Option<&Value>,
    operation_name: Option<&str>,
) -> Result<Prepared, Vec<Value>> {
    let key = (query.to_string(), operation_name.map(String::from));
    let (doc, op_index) = match cache.docs.get(&key) {
        Some((doc, i)) => (Arc::clone(doc), *i),
        None => {
            let (doc, i) = parse_and_validate(schema, query, operation_name)?;
            if cache.docs.len() >= CACHE_MAX {
                cache.docs.clear();
            }
            cache.docs.insert(key, (Arc::clone(&doc), i));
            (doc, i)
        }
    };
    let op = &doc.operations[op_index];
    let vars = coerce_variables(schema, op, variables)?;
    let requested_cost = selection_cost(schema, &doc, op.kind.root(), &op.selection, &vars);
    Ok(Prepared { doc, op_index, vars, requested_cost })
}

fn parse_and_validate(
    schema: &Schema,
    query: &str,
    operation_name: Option<&str>,
) -> Result<(Arc<Document>, usize), Vec<Value>> {
    let doc = parse_document(query).map_err(|e| vec![error_at(&e.message, Some(e.pos), None, None)])?;
    let op_index = pick_operation(&doc, operation_name)?;
    let op = &doc.operations[op_index];

    let root = match op.kind {
        OpKind::Query => "Query",
        OpKind::Mutation => "Mutation",
        OpKind::Subscription => "Subscription",
    };
    if !schema.has_object(root) {
        return Err(vec![error_at(
            &format!("Schema is not configured for {}s", op.kind.keyword()),
            Some(op.pos),
            None,
            None,
        )]);
    }

    let mut v = Validator { schema, doc: &doc, op, errors: Vec::new(), used: BTreeSet::new(), frag_stack: Vec::new() };
    v.var_defs();
    v.directives(&op.directives, &[op.path_name()]);
    v.selections(root, &op.selection, &mut vec![op.path_name()]);
    v.unused_vars();
    let errors = v.errors;
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((Arc::new(doc), op_index))
}

fn pick_operation(doc: &Document, name: Option<&str>) -> Result<usize, Vec<Value>> {
    let fail = |m: String| Err(vec![error_at(&m, None, None, None)]);
    match name {
        Some(n) => match doc.operations.iter().position(|o| o.name.as_deref() == Some(n)) {
            Some(i) => Ok(i),
            None => fail(format!("No operation named \"{n}\"")),
        },
        None if doc.operations.len() == 1 => Ok(0),
        None if doc.operations.is_empty() => fail("No operations in this document".into()),
        None => fail("An operation name is required".into()),
    }
}

struct Validator<'a> {
    schema: &'a Schema,
    doc: &'a Document,
    op: &'a Operation,
    errors: Vec<Value>,
    used: BTreeSet<String>,
    frag_stack: Vec<String>,
}

impl Validator<'_> {
    fn err(&mut self, msg: String, pos: Pos, path: &[String], ext: Value) {
        self.errors.push(error_at(&msg, Some(pos), Some(path), Some(ext)));
    }

    fn op_label(&self) -> String {
        match &self.op.name {
            Some(n) => n.clone(),
            None => format!("anonymous {}", self.op.kind.keyword()),
        }
    }

    fn var_defs(&mut self) {
        let path = [self.op.path_name()];
        let mut seen = BTreeSet::new();
        for d in &self.op.vars {
            if !seen.insert(d.name.clone()) {
                self.err(
                    format!("There can only be one variable named \"{}\"", d.name),
                    d.pos,
                    &path,
                    json!({"code": "variableNotUnique", "variableName": d.name}),
                );
            }
            if !self.schema.is_input_type(&d.ty) {
                self.err(
                    format!("{} isn't a defined input type (on ${})", d.ty.named(), d.name),
                    d.pos,
                    &path,
                    json!({"code": "variableRequiresValidType", "typeName": d.ty.named(), "variableName": d.name}),
                );
                continue;
            }
            if let Some(def) = &d.default {
                let mut no_vars = |n: &str, _: &TypeRef| Err(format!("Variable ${n} can't be used in a default value"));
                if self.schema.check_literal(def, &d.ty, &mut no_vars).is_err() {
                    self.err(
                        format!(
                            "Default value for ${} doesn't match type {}",
                            d.name, d.ty
                        ),
                        d.pos,
                        &path,
                        json!({"code": "defaultValueInvalidType", "variableName": d.name, "typeName": d.ty.to_string()}),
                    );
                }
            }
        }
    }

    fn unused_vars(&mut self) {
        let path = [self.op.path_name()];
        let label = self.op_label();
        for d in &self.op.vars {
            if !self.used.contains(&d.name) {
                self.err(
                    format!("Variable ${} is declared by {label} but not used", d.name),
                    d.pos,
                    &path,
                    json!({"code": "variableNotUsed", "variableName": d.name}),
                );
            }
        }
    }

    /// Check one argument value, recording any error. `site` is (owner, owner kind, argument).
    fn arg_value(&mut self, site: (&str, &str, &str), v: &AstValue, ty: &TypeRef, pos: Pos, path: &[String]) {
        let (owner, owner_kind, arg) = site;
        let op = self.op;
        let label = self.op_label();
        let used = &mut self.used;
        let mut var_errors: Vec<(String, &'static str)> = Vec::new();
        let mut var_ok = |name: &str, loc: &TypeRef| -> Result<(), String> {
            used.insert(name.to_string());
            let Some(d) = op.vars.iter().find(|d| d.name == name) else {
                var_errors
                    .push((format!("Variable ${name} is used by {label} but not declared"), "variableNotDefined"));
                return Ok(());
            };
            match usage_allowed(&d.ty, loc, d.default.as_ref().is_some_and(|v| *v != AstValue::Null)) {
                Ok(()) => Ok(()),
                Err(kind) => {
                    var_errors.push((
                        format!("{kind} on variable ${name} and argument {arg} ({} / {loc})", d.ty),
                        "variableMismatch",
                    ));
                    Ok(())
                }
            }
        };
        let res = self.schema.check_literal(v, ty, &mut var_ok);
        for (m, code) in var_errors {
            self.err(m, pos, path, json!({"code": code}));
        }
        match res {
            Ok(()) => {}
            Err(Some(m)) => self.err(
                m,
                pos,
                path,
                json!({"code": "argumentLiteralsIncompatible", "typeName": owner_kind, "argumentName": arg}),
            ),
            Err(None) => self.err(
                format!(
                    "Argument '{arg}' on {owner_kind} '{owner}' has an invalid value ({}). Expected type '{ty}'.",
                    v.to_source()
                ),
                pos,
                path,
                json!({"code": "argumentLiteralsIncompatible", "typeName": owner_kind, "argumentName": arg}),
            ),
        }
    }

    fn directives(&mut self, dirs: &[Directive], path: &[String]) {
        for d in dirs {
            if d.name != "include" && d.name != "skip" {
                self.err(
                    format!("Directive @{} is not defined", d.name),
                    d.pos,
                    path,
                    json!({"code": "undefinedDirective", "directiveName": d.name}),
                );
                continue;
            }
            let bool_ty = TypeRef::NonNull(Box::new(TypeRef::Named("Boolean".into())));
            let mut has_if = false;
            for (k, v) in &d.args {
                if k == "if" {
                    has_if = true;
                    self.arg_value((&d.name, "Directive", k), v, &bool_ty, d.pos, path);
                } else {
                    self.err(
                        format!("Directive '{}' doesn't accept argument '{k}'", d.name),
                        d.pos,
                        path,
                        json!({"code": "argumentNotAccepted", "name": d.name, "typeName": "Directive", "argumentName": k}),
                    );
                }
            }
            if !has_if {
                self.err(
                    format!("Directive '{}' is missing required arguments: if", d.name),
                    d.pos,
                    path,
                    json!({"code": "missingRequiredArguments", "className": "Directive", "name": d.name, "arguments": "if"}),
                );
            }
        }
    }

    fn selections(&mut self, type_name: &str, sels: &[Selection], path: &mut Vec<String>) {
        for sel in sels {
            match sel {
                Selection::Field(f) => {
                    self.directives(&f.directives, path);
                    path.push(f.response_key().to_string());
                    self.field(type_name, f, path);
                    path.pop();
                }
                Selection::Spread { name, directives, pos } => {
                    self.directives(directives, path);
                    let doc = self.doc;
                    let Some(frag) = doc.fragments.get(name) else {
                        self.err(
                            format!("Fragment {name} was used, but not defined"),
                            *pos,
                            path,
                            json!({"code": "useAndDefineFragment", "fragmentName": name}),
                        );
                        continue;
                    };
                    if self.frag_stack.contains(name) {
                        self.err(
                            format!("Fragment {name} contains an infinite loop"),
                            *pos,
                            path,
                            json!({"code": "infiniteLoop", "fragmentName": name}),
                        );
                        continue;
                    }
                    if !self.type_condition(&frag.type_condition, type_name, Some(name), *pos, path) {
                        continue;
                    }
                    self.directives(&frag.directives, path);
                    self.frag_stack.push(name.clone());
                    self.selections(type_name, &frag.selection, path);
                    self.frag_stack.pop();
                }
                Selection::Inline { type_condition, directives, selection, pos } => {
                    self.directives(directives, path);
                    if let Some(tc) = type_condition
                        && !self.type_condition(tc, type_name, None, *pos, path)
                    {
                        continue;
                    }
                    self.selections(type_name, selection, path);
                }
            }
        }
    }

    fn type_condition(&mut self, tc: &str, parent: &str, frag: Option<&str>, pos: Pos, path: &[String]) -> bool {
        if !self.schema.has_object(tc) {
            self.err(
                format!("No such type {tc}, so it can't be a fragment condition"),
                pos,
                path,
                json!({"code": "undefinedType", "typeName": tc}),
            );
            return false;
        }
        if tc != parent {
            let what = frag.map_or("Fragment on".to_string(), |n| format!("Fragment {n} on"));
            self.err(
                format!("{what} {tc} can't be spread inside {parent}"),
                pos,
                path,
                json!({"code": "cannotSpreadFragment", "typeName": tc, "parentName": parent}),
            );
            return false;
        }
        true
    }

    fn field(&mut self, type_name: &str, f: &super::syntax::Field, path: &mut Vec<String>) {
        if f.name == "__typename" {
            for (k, _) in &f.args {
                self.err(
                    format!("Field '__typename' doesn't accept argument '{k}'"),
                    f.pos,
                    path,
                    json!({"code": "argumentNotAccepted", "name": "__typename", "typeName": "Field", "argumentName": k}),
                );
            }
            if !f.selection.is_empty() {
                self.selection_on_leaf(f, "String", path);
            }
            return;
        }
        let schema = self.schema;
        let Some(def) = schema.field(type_name, &f.name) else {
            self.err(
                format!("Field '{}' doesn't exist on type '{type_name}'", f.name),
                f.pos,
                path,
                json!({"code": "undefinedField", "typeName": type_name, "fieldName": f.name}),
            );
            return;
        };
        let mut seen = BTreeSet::new();
        for (k, v) in &f.args {
            if !seen.insert(k.as_str()) {
                self.err(
                    format!("There can be only one argument named \"{k}\""),
                    f.pos,
                    path,
                    json!({"code": "argumentNotUnique", "name": k}),
                );
                continue;
            }
            match def.args.iter().find(|a| &a.name == k) {
                None => self.err(
                    format!("Field '{}' doesn't accept argument '{k}'", f.name),
                    f.pos,
                    path,
                    json!({"code": "argumentNotAccepted", "name": f.name, "typeName": "Field", "argumentName": k}),
                ),
                Some(a) => self.arg_value((&f.name, "Field", k), v, &a.ty, f.pos, path),
            }
        }
        let missing: Vec<&str> = def
            .args
            .iter()
            .filter(|a| a.ty.is_non_null() && a.default.is_none() && f.arg(&a.name).is_none())
            .map(|a| a.name.as_str())
            .collect();
        if !missing.is_empty() {
            self.err(
                format!("Field '{}' is missing required arguments: {}", f.name, missing.join(", ")),
                f.pos,
                path,
                json!({"code": "missingRequiredArguments", "className": "Field", "name": f.name, "arguments": missing.join(", ")}),
            );
        }
        let named = def.ty.named();
        if schema.is_leaf(named) {
            if !f.selection.is_empty() {
                self.selection_on_leaf(f, named, path);
            }
        } else if f.selection.is_empty() {
            self.err(
                format!(
                    "Field must have selections (field '{}' returns {named} but has no selections. Did you mean '{} {{ ... }}'?)",
                    f.name, f.name
                ),
                f.pos,
                path,
                json!({"code": "selectionMismatch", "nodeName": f.name, "typeName": named}),
            );
        } else {
            self.selections(named, &f.selection, path);
        }
    }

    fn selection_on_leaf(&mut self, f: &super::syntax::Field, named: &str, path: &[String]) {
        let kind = if matches!(self.schema.get(named), Some(TypeDef::Enum(_))) { "enums" } else { "scalars" };
        let names: Vec<String> = f
            .selection
            .iter()
            .filter_map(|s| match s {
                Selection::Field(c) => Some(format!("\"{}\"", c.name)),
                _ => None,
            })
            .collect();
        self.err(
            format!(
                "Selections can't be made on {kind} (field '{}' returns {named} but has selections [{}])",
                f.name,
                names.join(", ")
            ),
            f.pos,
            path,
            json!({"code": "selectionMismatch", "nodeName": f.name, "typeName": named}),
        );
    }
}

/// GraphQL's "IsVariableUsageAllowed": `Err` names the mismatch.
fn usage_allowed(var: &TypeRef, loc: &TypeRef, has_default: bool) -> Result<(), &'static str> {
    if let TypeRef::NonNull(loc_inner) = loc
        && !var.is_non_null()
    {
        if has_default {
            return compatible(var, loc_inner);
        }
        return Err("Nullability mismatch");
    }
    compatible(var, loc)
}

fn compatible(var: &TypeRef, loc: &TypeRef) -> Result<(), &'static str> {
    match (var, loc) {
        (TypeRef::NonNull(v), TypeRef::NonNull(l)) => compatible(v, l),
        (TypeRef::NonNull(v), l) => compatible(v, l),
        (_, TypeRef::NonNull(_)) => Err("Nullability mismatch"),
        (TypeRef::List(v), TypeRef::List(l)) => compatible(v, l),
        (TypeRef::List(_), _) | (_, TypeRef::List(_)) => Err("List dimension mismatch"),
        (TypeRef::Named(a), TypeRef::Named(b)) => {
            if a == b {
                Ok(())
            } else {
                Err("Type mismatch")
            }
        }
    }
}

fn coerce_variables(
    schema: &Schema,
    op: &Operation,
    variables: Option<&Value>,
) -> Result<Map<String, Value>, Vec<Value>> {
    let empty = Map::new();
    let given = match variables {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(vec![error_at("Variables must be a JSON object", None, None, None)]);
        }
    };
    let mut out = Map::new();
    let mut errors = Vec::new();
    for d in &op.vars {
        match given.get(&d.name) {
            None => {
                if let Some(def) = &d.default {
                    out.insert(d.name.clone(), schema.literal_to_json(def, &d.ty, &Map::new()));
                } else if d.ty.is_non_null() {
                    errors.push(invalid_variable(
                        d,
                        &Value::Null,
                        vec![json!({"path": [], "explanation": "Expected value to not be null"})],
                    ));
                }
            }
            Some(v) => {
                let mut problems = Vec::new();
                let c = schema.coerce_json(v, &d.ty, &mut Vec::new(), &mut problems);
                if problems.is_empty() {
                    out.insert(d.name.clone(), c);
                } else {
                    errors.push(invalid_variable(d, v, problems));
                }
            }
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn invalid_variable(d: &super::syntax::VarDef, value: &Value, problems: Vec<Value>) -> Value {
    error_at(
        &format!("Variable ${} of type {} was provided invalid value", d.name, d.ty),
        Some(d.pos),
        None,
        Some(json!({ "value": value, "problems": problems })),
    )
}

/// Requested cost of a selection on `type_name`: 1 per scalar or enum field, objects free,
/// connections (`*Connection` types) charge `first`/`last` (or 100) times the cost of their
/// `nodes`/`edges`, plus the rest (`pageInfo`, `totalCount`) once.
pub fn selection_cost<'d>(
    schema: &Schema,
    doc: &'d Document,
    type_name: &str,
    sels: impl IntoIterator<Item = &'d Selection>,
    vars: &Map<String, Value>,
) -> u64 {
    let mut total: u64 = 0;
    for (_, fields) in collect_fields(doc, type_name, sels, vars) {
        let Some(f) = fields.first() else { continue };
        total = total.saturating_add(field_cost(schema, doc, type_name, f, &fields, vars));
    }
    total
}

/// The sub-selections of every field with one response key, borrowed (no copies).
fn merged_selection<'d>(fields: &[&'d super::syntax::Field]) -> impl Iterator<Item = &'d Selection> + Clone {
    fields.iter().copied().flat_map(|f| f.selection.iter())
}

fn field_cost<'d>(
    schema: &Schema,
    doc: &'d Document,
    type_name: &str,
    f: &super::syntax::Field,
    all: &[&'d super::syntax::Field],
    vars: &Map<String, Value>,
) -> u64 {
    if f.name == "__typename" {
        return 0;
    }
    let Some(def) = schema.field(type_name, &f.name) else {
        return 0;
    };
    let named = def.ty.named();
    if schema.is_leaf(named) {
        return 1;
    }
    let sels = merged_selection(all);
    if !named.ends_with("Connection") {
        return selection_cost(schema, doc, named, sels, vars);
    }
    let size = ["first", "last"]
        .iter()
        .find_map(|k| {
            let v = f.arg(k)?;
            let a = def.args.iter().find(|a| a.name == *k)?;
            schema.literal_to_json(v, &a.ty, vars).as_i64()
        })
        .map(|n| n.max(0) as u64)
        .unwrap_or(DEFAULT_CONNECTION_SIZE);
    let (mut per_node, mut once) = (0u64, 0u64);
    for (_, children) in collect_fields(doc, named, sels, vars) {
        let Some(c) = children.first() else { continue };
        let cost = field_cost(schema, doc, named, c, &children, vars);
        if c.name == "nodes" || c.name == "edges" {
            per_node = per_node.saturating_add(cost);
        } else {
            once = once.saturating_add(cost);
        }
    }
    size.saturating_mul(per_node).saturating_add(once)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "
        scalar EncodedId
        enum SortDirection { ASCENDING DESCENDING }
        enum JobsSortKey { UPDATED_AT JOB_NUMBER }
        input JobsSortInput { key: JobsSortKey!, direction: SortDirection! }
        input JobFilterAttributes { ids: [EncodedId!], status: String }
        type Query {
          account: Account!
          job(id: EncodedId!): Job
          jobs(first: Int, last: Int, after: String, sort: [JobsSortInput!], filter: JobFilterAttributes): JobConnection!
        }
        type Account { id: EncodedId! name: String! }
        type Job { id: EncodedId! title: String lineItems(first: Int): LineItemConnection! }
        type LineItem { id: EncodedId! name: String! }
        type LineItemConnection { nodes: [LineItem!]! pageInfo: PageInfo! totalCount: Int! }
        type JobConnection { nodes: [Job!]! edges: [JobEdge!]! pageInfo: PageInfo! }
        type JobEdge { cursor: String! node: Job! }
        type PageInfo { hasNextPage: Boolean! endCursor: String }
    ";

    fn schema() -> Schema {
        Schema::from_sdl(SDL).unwrap()
    }

    fn cost(q: &str, vars: Value) -> u64 {
        prepare(&schema(), q, Some(&vars), None).unwrap().requested_cost
    }

    fn errors(q: &str, vars: Value) -> Vec<String> {
        prepare(&schema(), q, Some(&vars), None)
            .unwrap_err()
            .iter()
            .map(|e| e["message"].as_str().unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn costs_follow_jobbers_rules() {
        assert_eq!(cost("{ account { id name } }", json!({})), 2);
        assert_eq!(cost("{ __typename account { id } }", json!({})), 1);
        // 100 assumed without first/last; pageInfo charged once.
        assert_eq!(cost("{ jobs { nodes { id title } pageInfo { hasNextPage endCursor } } }", json!({})), 202);
        assert_eq!(cost("query($n: Int) { jobs(first: $n) { nodes { id } } }", json!({"n": 10})), 10);
        assert_eq!(cost("{ jobs(last: 7) { edges { cursor node { id } } } }", json!({})), 14);
        // Nesting multiplies.
        assert_eq!(
            cost(
                "{ jobs(first: 10) { nodes { id lineItems(first: 5) { nodes { id name } totalCount } } } }",
                json!({})
            ),
            10 * (1 + 5 * 2 + 1)
        );
        // Fragments count like inline fields; duplicates merge.
        assert_eq!(cost("{ account { ...A id } } fragment A on Account { id name }", json!({})), 2);
        // Skipped fields are free.
        assert_eq!(cost("{ account { id name @skip(if: true) } }", json!({})), 1);
    }

    #[test]
    fn unknown_fields_and_arguments_fail_the_query() {
        assert_eq!(errors("{ account { id x } }", json!({})), ["Field 'x' doesn't exist on type 'Account'"]);
        assert_eq!(
            errors("{ jobs(foo: 1) { nodes { id } } }", json!({})),
            ["Field 'jobs' doesn't accept argument 'foo'"]
        );
        assert_eq!(
            errors("{ jobs(filter: {updatedAt: {after: \"x\"}}) { nodes { id } } }", json!({})),
            ["InputObject 'JobFilterAttributes' doesn't accept argument 'updatedAt'"]
        );
        assert_eq!(
            errors("{ jobs(sort: [{key: UPDATED_AT, direction: DOWN}]) { nodes { id } } }", json!({})),
            [
                "Argument 'direction' on InputObject 'JobsSortInput' has an invalid value (DOWN). Expected type 'SortDirection!'."
            ]
        );
        assert_eq!(errors("{ job { id } }", json!({})), ["Field 'job' is missing required arguments: id"]);
        assert_eq!(
            errors("{ account }", json!({})),
            [
                "Field must have selections (field 'account' returns Account but has no selections. Did you mean 'account { ... }'?)"
            ]
        );
        assert_eq!(
            errors("{ account { id { x } } }", json!({})),
            ["Selections can't be made on scalars (field 'id' returns EncodedId but has selections [\"x\"])"]
        );
        assert_eq!(
            errors("{ jobs(first: \"ten\") { nodes { id } } }", json!({})),
            ["Argument 'first' on Field 'jobs' has an invalid value (\"ten\"). Expected type 'Int'."]
        );
        let e = prepare(&schema(), "query Q { account { nope } }", None, None).unwrap_err();
        assert_eq!(e[0]["path"], json!(["query Q", "account", "nope"]));
        assert_eq!(e[0]["locations"], json!([{"line": 1, "column": 21}]));
        assert_eq!(e[0]["extensions"]["code"], "undefinedField");
    }

    #[test]
    fn variables_are_declared_used_and_coerced() {
        assert_eq!(
            errors("query Q { jobs(first: $n) { nodes { id } } }", json!({})),
            ["Variable $n is used by Q but not declared"]
        );
        assert_eq!(
            errors("query Q($n: Int) { account { id } }", json!({})),
            ["Variable $n is declared by Q but not used"]
        );
        assert_eq!(
            errors("query($id: String!) { job(id: $id) { id } }", json!({"id": "x"})),
            ["Type mismatch on variable $id and argument id (String! / EncodedId!)"]
        );
        assert_eq!(
            errors("query($id: EncodedId) { job(id: $id) { id } }", json!({"id": "x"})),
            ["Nullability mismatch on variable $id and argument id (EncodedId / EncodedId!)"]
        );
        assert_eq!(
            errors("query($id: EncodedId!) { job(id: $id) { id } }", json!({})),
            ["Variable $id of type EncodedId! was provided invalid value"]
        );
        assert_eq!(
            errors("query($n: Int) { jobs(first: $n) { nodes { id } } }", json!({"n": "x"})),
            ["Variable $n of type Int was provided invalid value"]
        );
        assert_eq!(errors("query($n: Nope) { account { id } }", json!({})).len(), 2);
        let p = prepare(&schema(), "query($n: Int = 3) { jobs(first: $n) { nodes { id } } }", None, None).unwrap();
        assert_eq!(p.vars["n"], 3);
        assert_eq!(p.requested_cost, 3);
    }

    #[test]
    fn operation_selection() {
        let s = schema();
        let two = "query A { account { id } } query B { account { name } }";
        assert!(prepare(&s, two, None, None).is_err());
        assert_eq!(prepare(&s, two, None, Some("B")).unwrap().op_index, 1);
        assert!(prepare(&s, two, None, Some("C")).is_err());
        assert_eq!(errors("mutation { x }", json!({})), ["Schema is not configured for mutations"]);
        assert_eq!(errors("{ account { id } ", json!({})), ["Unexpected end of document"]);
        assert_eq!(errors("{ account { ...Nope } }", json!({})), ["Fragment Nope was used, but not defined"]);
        assert_eq!(
            errors("{ account { ...J } } fragment J on Job { id }", json!({})),
            ["Fragment J on Job can't be spread inside Account"]
        );
        assert_eq!(
            errors("{ account { ...A } } fragment A on Account { ...A }", json!({})),
            ["Fragment A contains an infinite loop"]
        );
        assert_eq!(errors("{ account @foo { id } }", json!({})), ["Directive @foo is not defined"]);
    }
}
