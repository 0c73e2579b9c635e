//! Execution of a prepared operation, writing the answer's `data` as JSON text.
//!
//! Objects are `serde_json::Value`s or handles (a row id). A field is produced by its
//! registered resolver, else by its type's field getter ([`Resolvers::fields`]), else read
//! from the parent object under the field's name. Resolvers get the provider's context (`C`),
//! the parent value and the coerced arguments, so a nested connection such as
//! `job.lineItems(first: 5)` is just a resolver on `Job.lineItems` that reads its parent.
//! Null propagation and leaf checks follow the GraphQL spec (a field that must become null
//! is cut back out of the text); fields come out in query order; the actual cost is the
//! number of scalar and enum values produced.
//!
//! Speed matters here (benchmarks run the client against this): each selection set is
//! planned once per execution, not once per object, and no value tree is built for the
//! answer.

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Map, Value, json};

use super::schema::{Schema, TypeDef};
use super::syntax::{AstValue, Directive, Document, Field, SdlField, Selection, TypeRef};
use super::validate::{Prepared, error_at};

/// Produces one field's value. An `Err` becomes a GraphQL error at that path and a `null`.
pub type ResolveFn<C> = fn(&mut C, &Value, &Map<String, Value>) -> Result<Value, String>;

/// Produces a field of an object the resolvers represent by a handle (a row id, say), given
/// the field's name; `None` falls back to reading the parent. Only selected fields are ever
/// produced; scalars borrowed from the context are written out without a copy.
pub type FieldFn<C> = for<'r> fn(&'r C, &Value, &str) -> Option<Out<'r>>;

/// A value a field getter produces.
#[derive(Debug, Clone, PartialEq)]
pub enum Out<'r> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'r str),
    String(String),
    /// Anything else, objects included (completed against the selection like any value).
    Value(Value),
}

impl Out<'_> {
    pub fn into_value(self) -> Value {
        match self {
            Out::Null => Value::Null,
            Out::Bool(b) => Value::Bool(b),
            Out::Int(i) => Value::from(i),
            Out::Float(f) => Value::from(f),
            Out::Str(s) => Value::String(s.to_string()),
            Out::String(s) => Value::String(s),
            Out::Value(v) => v,
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        // Writing to a Vec cannot fail.
        let _ = match self {
            Out::Null => serde_json::to_writer(out, &()),
            Out::Bool(b) => serde_json::to_writer(out, b),
            Out::Int(i) => serde_json::to_writer(out, i),
            Out::Float(f) => serde_json::to_writer(out, &Value::from(*f)),
            Out::Str(s) => serde_json::to_writer(out, s),
            Out::String(s) => serde_json::to_writer(out, s),
            Out::Value(v) => serde_json::to_writer(out, v),
        };
    }
}

/// Field resolvers keyed by `(type, field)`, plus per-type field getters.
pub struct Resolvers<C> {
    /// type → field → resolver (looked up without allocating, once per produced field).
    map: HashMap<String, HashMap<String, ResolveFn<C>>>,
    getters: HashMap<String, FieldFn<C>>,
}

impl<C> Default for Resolvers<C> {
    fn default() -> Self {
        Resolvers { map: HashMap::new(), getters: HashMap::new() }
    }
}

impl<C> Resolvers<C> {
    pub fn on(mut self, type_name: &str, field: &str, f: ResolveFn<C>) -> Self {
        self.map.entry(type_name.to_string()).or_default().insert(field.to_string(), f);
        self
    }

    /// The field getter of every object of `type_name` (fields with their own resolver excepted).
    pub fn fields(mut self, type_name: &str, f: FieldFn<C>) -> Self {
        self.getters.insert(type_name.to_string(), f);
        self
    }

    fn get(&self, type_name: &str, field: &str) -> Option<&ResolveFn<C>> {
        self.map.get(type_name)?.get(field)
    }

    /// Every registered resolver names a field the schema has (checked by tests).
    #[cfg(test)]
    pub fn check_against(&self, schema: &Schema) -> Result<(), String> {
        for (t, f) in self.map.iter().flat_map(|(t, m)| m.keys().map(move |f| (t, f))) {
            if schema.field(t, f).is_none() {
                return Err(format!("resolver for unknown field {t}.{f}"));
            }
        }
        for t in self.getters.keys() {
            if !schema.has_object(t) {
                return Err(format!("field getter for unknown type {t}"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExecResult {
    /// The `data` object as JSON text (fields in query order), or `null` when a non-null
    /// root field failed.
    pub data_json: String,
    pub errors: Vec<Value>,
    pub actual_cost: u64,
}

impl ExecResult {
    /// `data` as a value (tests).
    #[cfg(test)]
    pub fn data(&self) -> Value {
        serde_json::from_str(&self.data_json).unwrap_or(Value::Null)
    }
}

/// Whether `@skip` / `@include` leave this selection in.
fn included(dirs: &[Directive], vars: &Map<String, Value>) -> bool {
    for d in dirs {
        let val = d.args.iter().find(|(k, _)| k == "if").map(|(_, v)| match v {
            AstValue::Bool(b) => *b,
            AstValue::Var(n) => vars.get(n).and_then(Value::as_bool).unwrap_or(false),
            _ => false,
        });
        match (d.name.as_str(), val) {
            ("skip", Some(true)) => return false,
            ("include", Some(false)) => return false,
            _ => {}
        }
    }
    true
}

/// The spec's CollectFields: flatten fragments, apply `@skip`/`@include`, group by response
/// key in first-seen order.
pub fn collect_fields<'d>(
    doc: &'d Document,
    type_name: &str,
    sels: impl IntoIterator<Item = &'d Selection>,
    vars: &Map<String, Value>,
) -> Vec<(String, Vec<&'d Field>)> {
    let mut out: Vec<(String, Vec<&'d Field>)> = Vec::new();
    let mut visited = Vec::new();
    collect_into(doc, type_name, sels, vars, &mut out, &mut visited);
    out
}

fn collect_into<'d>(
    doc: &'d Document,
    type_name: &str,
    sels: impl IntoIterator<Item = &'d Selection>,
    vars: &Map<String, Value>,
    out: &mut Vec<(String, Vec<&'d Field>)>,
    visited: &mut Vec<String>,
) {
    for sel in sels {
        match sel {
            Selection::Field(f) => {
                if !included(&f.directives, vars) {
                    continue;
                }
                let key = f.response_key();
                match out.iter_mut().find(|(k, _)| k == key) {
                    Some((_, list)) => list.push(f),
                    None => out.push((key.to_string(), vec![f])),
                }
            }
            Selection::Spread { name, directives, .. } => {
                if !included(directives, vars) || visited.contains(name) {
                    continue;
                }
                let Some(frag) = doc.fragments.get(name) else {
                    continue;
                };
                if frag.type_condition != type_name || !included(&frag.directives, vars) {
                    continue;
                }
                visited.push(name.clone());
                collect_into(doc, type_name, &frag.selection, vars, out, visited);
            }
            Selection::Inline { type_condition, directives, selection, .. } => {
                if !included(directives, vars) {
                    continue;
                }
                if type_condition.as_deref().is_some_and(|tc| tc != type_name) {
                    continue;
                }
                collect_into(doc, type_name, selection, vars, out, visited);
            }
        }
    }
}

/// What a field's named type is, looked up once per plan instead of once per value.
enum Kind<'a> {
    Object,
    Enum(&'a [String]),
    Leaf,
}

/// One response key of a selection set on one type, resolved against the schema once per
/// execution and reused for every object of that selection (a page of 100 jobs plans its
/// fields once, not 100 times).
struct Planned<'a, C> {
    key: Rc<str>,
    /// `None` for `__typename`.
    def: Option<&'a SdlField>,
    name: &'a str,
    pos: super::syntax::Pos,
    resolver: Option<ResolveFn<C>>,
    getter: Option<FieldFn<C>>,
    args: Map<String, Value>,
    /// The merged sub-selection of every field with this response key.
    sub: Vec<&'a Selection>,
    kind: Kind<'a>,
    /// The field's type has a field getter, so its objects may be handles of any shape
    /// (a row id as a number, say) rather than JSON objects.
    handles: bool,
    owner: &'a str,
}

/// A response path segment; converted to JSON only when an error needs it.
#[derive(Clone, PartialEq)]
enum Seg {
    Key(Rc<str>),
    Index(usize),
}

fn path_json(path: &[Seg]) -> Vec<Value> {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => Value::String(k.to_string()),
            Seg::Index(i) => json!(i),
        })
        .collect()
}

type Plan<'a, C> = Rc<Vec<Planned<'a, C>>>;

struct Exec<'a, C> {
    schema: &'a Schema,
    resolvers: &'a Resolvers<C>,
    ctx: &'a mut C,
    doc: &'a Document,
    vars: &'a Map<String, Value>,
    errors: Vec<Value>,
    cost: u64,
    /// Plans by (selection list address, its length, type name address).
    plans: HashMap<(usize, usize, usize), Plan<'a, C>>,
    /// The answer's `data`, written as JSON while executing: no value tree is built. A
    /// field that must become null (a non-null child failed) is cut back to its start.
    out: Vec<u8>,
}

/// A non-null position received null: the error is recorded, the parent must become null.
struct Bubble;

static NULL: Value = Value::Null;

/// Run a prepared operation. Root fields of a mutation run in order, like every field here.
pub fn execute<C>(schema: &Schema, resolvers: &Resolvers<C>, ctx: &mut C, prepared: &Prepared) -> ExecResult {
    let op = prepared.op();
    let root = match op.kind {
        super::syntax::OpKind::Query => "Query",
        super::syntax::OpKind::Mutation => "Mutation",
        super::syntax::OpKind::Subscription => "Subscription",
    };
    let mut ex = Exec {
        schema,
        resolvers,
        ctx,
        doc: &prepared.doc,
        vars: &prepared.vars,
        errors: Vec::new(),
        cost: 0,
        plans: HashMap::new(),
        out: Vec::with_capacity(4096),
    };
    let mut path = Vec::new();
    let top: Vec<&Selection> = op.selection.iter().collect();
    if ex.object(root, &top, &Value::Object(Map::new()), &mut path).is_err() {
        ex.out.clear();
        ex.out.extend_from_slice(b"null");
    }
    // Only valid UTF-8 was written (JSON punctuation, names, serde_json output).
    let data_json = String::from_utf8(ex.out).unwrap_or_else(|_| "null".into());
    ExecResult { data_json, errors: ex.errors, actual_cost: ex.cost }
}

impl<'a, C> Exec<'a, C> {
    /// The plan of `sels` on `type_name`, built on first use. `sels` always lives as long as
    /// the execution (the root list, or a plan's `sub`), so its address identifies it.
    fn plan(&mut self, type_name: &'a str, sels: &[&'a Selection]) -> Plan<'a, C> {
        let k = (sels.as_ptr() as usize, sels.len(), type_name.as_ptr() as usize);
        if let Some(p) = self.plans.get(&k) {
            return Rc::clone(p);
        }
        let schema = self.schema;
        let mut fields = Vec::new();
        collect_into(self.doc, type_name, sels.iter().copied(), self.vars, &mut fields, &mut Vec::new());
        let mut plan = Vec::with_capacity(fields.len());
        for (key, group) in fields {
            let Some(first) = group.first().copied() else {
                continue;
            };
            let def = if first.name == "__typename" {
                None
            } else {
                match schema.field(type_name, &first.name) {
                    Some(d) => Some(d),
                    None => continue,
                }
            };
            let mut args = Map::new();
            for a in def.map_or(&[][..], |d| &d.args[..]) {
                match first.arg(&a.name) {
                    Some(AstValue::Var(n)) if !self.vars.contains_key(n) => {
                        if let Some(d) = &a.default {
                            args.insert(a.name.clone(), schema.literal_to_json(d, &a.ty, self.vars));
                        }
                    }
                    Some(v) => {
                        args.insert(a.name.clone(), schema.literal_to_json(v, &a.ty, self.vars));
                    }
                    None => {
                        if let Some(d) = &a.default {
                            args.insert(a.name.clone(), schema.literal_to_json(d, &a.ty, self.vars));
                        }
                    }
                }
            }
            let kind = match def.map(|d| schema.get(d.ty.named())) {
                Some(Some(TypeDef::Object(_))) => Kind::Object,
                Some(Some(TypeDef::Enum(values))) => Kind::Enum(values),
                _ => Kind::Leaf,
            };
            plan.push(Planned {
                key: key.into(),
                def,
                name: &first.name,
                pos: first.pos,
                resolver: self.resolvers.get(type_name, &first.name).copied(),
                getter: self.resolvers.getters.get(type_name).copied(),
                args,
                sub: group.iter().flat_map(|f| f.selection.iter()).collect(),
                kind,
                handles: def.is_some_and(|d| self.resolvers.getters.contains_key(d.ty.named())),
                owner: type_name,
            });
        }
        let plan = Rc::new(plan);
        self.plans.insert(k, Rc::clone(&plan));
        plan
    }

    fn object(
        &mut self,
        type_name: &'a str,
        sels: &[&'a Selection],
        parent: &Value,
        path: &mut Vec<Seg>,
    ) -> Result<(), Bubble> {
        let plan = self.plan(type_name, sels);
        self.out.push(b'{');
        for (n, p) in plan.iter().enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            // Response keys are GraphQL names: nothing to escape.
            self.out.push(b'"');
            self.out.extend_from_slice(p.key.as_bytes());
            self.out.extend_from_slice(b"\":");
            let Some(def) = p.def else {
                self.write(&json!(type_name));
                continue;
            };
            path.push(Seg::Key(Rc::clone(&p.key)));
            // Produced values are used where they are; fields read from the parent too.
            let raw: Result<Cow<'_, Value>, String> = match (p.resolver, p.getter) {
                (Some(f), _) => f(self.ctx, parent, &p.args).map(Cow::Owned),
                (None, Some(g)) => match g(&*self.ctx, parent, p.name) {
                    None => Ok(Cow::Borrowed(parent.get(p.name).unwrap_or(&NULL))),
                    Some(Out::Null) => Ok(Cow::Borrowed(&NULL)),
                    Some(Out::Value(v)) => Ok(Cow::Owned(v)),
                    Some(leaf) => {
                        // A scalar or enum straight from the row: written, never copied.
                        let fits = match (&p.kind, &leaf) {
                            (Kind::Enum(values), Out::Str(s)) => values.iter().any(|x| x == s),
                            (Kind::Enum(_) | Kind::Object, _) => false,
                            (Kind::Leaf, _) => !matches!(def.ty.nullable(), TypeRef::List(_)),
                        };
                        if fits {
                            self.cost += 1;
                            leaf.write(&mut self.out);
                            path.pop();
                            continue;
                        }
                        Ok(Cow::Owned(leaf.into_value()))
                    }
                },
                (None, None) => Ok(Cow::Borrowed(parent.get(p.name).unwrap_or(&NULL))),
            };
            let res = match raw {
                Ok(v) => self.complete(p, &def.ty, &v, path),
                Err(msg) => {
                    self.errors.push(error_at(&msg, Some(p.pos), None, None));
                    self.set_last_path(path);
                    self.complete(p, &def.ty, &NULL, path)
                }
            };
            path.pop();
            res?;
        }
        self.out.push(b'}');
        Ok(())
    }

    fn write(&mut self, v: &Value) {
        // Writing a Value to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.out, v);
    }

    fn set_last_path(&mut self, path: &[Seg]) {
        if let Some(Value::Object(e)) = self.errors.last_mut() {
            e.insert("path".into(), Value::Array(path_json(path)));
        }
    }

    /// Write the value of a field of type `ty`. `Err(Bubble)`: a non-null position got
    /// null; the nearest nullable ancestor cuts its output back and writes `null`.
    fn complete(&mut self, p: &Planned<'a, C>, ty: &'a TypeRef, v: &Value, path: &mut Vec<Seg>) -> Result<(), Bubble> {
        let mark = self.out.len();
        match ty {
            TypeRef::NonNull(inner) => {
                let wrote_null = self.complete_inner(p, inner, v, path)?;
                if wrote_null {
                    self.out.truncate(mark);
                    let already = self
                        .errors
                        .last()
                        .and_then(|e| e.get("path"))
                        .is_some_and(|x| x.as_array().is_some_and(|x| *x == path_json(path)));
                    if !already {
                        self.errors.push(error_at(
                            &format!("Cannot return null for non-nullable field {}.{}", p.owner, p.name),
                            Some(p.pos),
                            None,
                            None,
                        ));
                        self.set_last_path(path);
                    }
                    return Err(Bubble);
                }
                Ok(())
            }
            other => {
                if self.complete_inner(p, other, v, path).is_err() {
                    self.out.truncate(mark);
                    self.out.extend_from_slice(b"null");
                }
                Ok(())
            }
        }
    }

    /// Write the value; `Ok(true)` when that was `null`.
    fn complete_inner(
        &mut self,
        p: &Planned<'a, C>,
        ty: &'a TypeRef,
        v: &Value,
        path: &mut Vec<Seg>,
    ) -> Result<bool, Bubble> {
        if v.is_null() {
            self.out.extend_from_slice(b"null");
            return Ok(true);
        }
        match ty {
            TypeRef::NonNull(_) => self.complete(p, ty, v, path).map(|()| false),
            TypeRef::List(inner) => {
                let Some(items) = v.as_array() else {
                    self.internal(path, p.pos, &format!("{}.{} expected a list", p.owner, p.name));
                    self.out.extend_from_slice(b"null");
                    return Ok(true);
                };
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    path.push(Seg::Index(i));
                    let r = self.complete(p, inner, item, path);
                    path.pop();
                    r?;
                }
                self.out.push(b']');
                Ok(false)
            }
            TypeRef::Named(name) => match p.kind {
                Kind::Object => {
                    if !v.is_object() && !p.handles {
                        self.internal(path, p.pos, &format!("{}.{} expected an object", p.owner, p.name));
                        self.out.extend_from_slice(b"null");
                        return Ok(true);
                    }
                    self.object(name, &p.sub, v, path).map(|()| false)
                }
                Kind::Enum(values) => match v.as_str() {
                    Some(s) if values.iter().any(|x| x == s) => {
                        self.cost += 1;
                        self.write(v);
                        Ok(false)
                    }
                    _ => {
                        self.internal(path, p.pos, &format!("{}.{}: {v} is not a valid {name}", p.owner, p.name));
                        self.out.extend_from_slice(b"null");
                        Ok(true)
                    }
                },
                Kind::Leaf => {
                    self.cost += 1;
                    self.write(v);
                    Ok(false)
                }
            },
        }
    }

    /// A resolver returned the wrong shape: a bug in the fake, reported as a GraphQL error.
    fn internal(&mut self, path: &[Seg], pos: super::syntax::Pos, msg: &str) {
        self.errors.push(error_at(&format!("Internal error: {msg}"), Some(pos), None, None));
        self.set_last_path(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::validate::prepare;

    const SDL: &str = "
        enum Status { active archived }
        type Query { account: Account! maybe: Account items(first: Int): [Item!] strict: Item! }
        type Mutation { bump: Int! }
        type Account { id: ID! name: String status: Status! }
        type Item { id: ID! title: String! }
    ";

    struct Ctx {
        bumps: i64,
    }

    fn resolvers() -> Resolvers<Ctx> {
        Resolvers::default()
            .on("Query", "account", |_, _, _| Ok(json!({"id": "A1", "name": "Acme", "status": "active"})))
            .on("Query", "maybe", |_, _, _| Err("Not allowed".into()))
            .on("Query", "items", |_, _, args| {
                let n = args.get("first").and_then(Value::as_i64).unwrap_or(3);
                Ok(Value::Array(
                    (0..n)
                        .map(|i| json!({"id": i.to_string(), "title": if i == 1 { Value::Null } else { json!("t") }}))
                        .collect(),
                ))
            })
            .on("Query", "strict", |_, _, _| Ok(Value::Null))
            .on("Mutation", "bump", |c, _, _| {
                c.bumps += 1;
                Ok(json!(c.bumps))
            })
    }

    fn run(q: &str) -> (ExecResult, Ctx) {
        let s = Schema::from_sdl(SDL).unwrap();
        let r = resolvers();
        r.check_against(&s).unwrap();
        let p = prepare(&s, q, None, None).unwrap();
        let mut ctx = Ctx { bumps: 0 };
        (execute(&s, &r, &mut ctx, &p), ctx)
    }

    #[test]
    fn executes_with_aliases_fragments_and_typename() {
        let (r, _) = run("{ a: account { id ...F __typename } } fragment F on Account { name status }");
        assert_eq!(r.data(), json!({"a": {"id": "A1", "name": "Acme", "status": "active", "__typename": "Account"}}));
        assert!(r.errors.is_empty());
        assert_eq!(r.actual_cost, 3);
    }

    #[test]
    fn resolver_errors_null_the_field() {
        let (r, _) = run("{ account { id } maybe { id } }");
        assert_eq!(r.data(), json!({"account": {"id": "A1"}, "maybe": null}));
        assert_eq!(r.errors[0]["message"], "Not allowed");
        assert_eq!(r.errors[0]["path"], json!(["maybe"]));
    }

    #[test]
    fn null_in_non_null_position_bubbles_to_the_nearest_nullable() {
        // items[1].title is null but String!: the Item! fails, so the nullable list is null.
        let (r, _) = run("{ items(first: 2) { id title } }");
        assert_eq!(r.data(), json!({"items": null}));
        assert_eq!(r.errors[0]["message"], "Cannot return null for non-nullable field Item.title");
        assert_eq!(r.errors[0]["path"], json!(["items", 1, "title"]));
        // A non-null root field nulls all of data.
        let (r, _) = run("{ account { id } strict { id } }");
        assert_eq!(r.data(), Value::Null);
    }

    #[test]
    fn mutations_run_against_the_context() {
        let (r, ctx) = run("mutation { a: bump b: bump }");
        assert_eq!(r.data(), json!({"a": 1, "b": 2}));
        assert_eq!(ctx.bumps, 2);
    }
}
