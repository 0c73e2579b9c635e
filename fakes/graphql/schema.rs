//! A schema built from SDL text, plus value coercion (literals and JSON variables) against it.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::syntax::{AstValue, SdlDef, SdlField, SdlInputValue, TypeRef, parse_sdl};

/// Checks a custom scalar's input value (a JSON value already converted from a literal).
pub type ScalarCheck = fn(&Value) -> bool;

#[derive(Debug, Clone)]
pub enum TypeDef {
    Scalar,
    Enum(Vec<String>),
    Input(Vec<SdlInputValue>),
    Object(Vec<SdlField>),
}

pub struct Schema {
    types: HashMap<String, TypeDef>,
    scalar_checks: HashMap<String, ScalarCheck>,
}

impl Schema {
    /// Build from SDL. Fails when the text does not parse or names an undefined type.
    pub fn from_sdl(sdl: &str) -> Result<Schema, String> {
        let defs = parse_sdl(sdl).map_err(|e| format!("{} at {:?}", e.message, e.pos))?;
        let mut types = HashMap::new();
        for builtin in ["Int", "Float", "String", "Boolean", "ID"] {
            types.insert(builtin.to_string(), TypeDef::Scalar);
        }
        for d in defs {
            let (name, def) = match d {
                SdlDef::Scalar(n) => (n, TypeDef::Scalar),
                SdlDef::Enum(n, v) => (n, TypeDef::Enum(v)),
                SdlDef::Input(n, f) => (n, TypeDef::Input(f)),
                SdlDef::Object(n, f) => (n, TypeDef::Object(f)),
            };
            if types.insert(name.clone(), def).is_some() {
                return Err(format!("type {name} defined twice"));
            }
        }
        let schema = Schema { types, scalar_checks: HashMap::new() };
        schema.check_references()?;
        Ok(schema)
    }

    /// Register a validity check for a custom scalar's input values.
    pub fn with_scalar_check(mut self, name: &str, check: ScalarCheck) -> Schema {
        self.scalar_checks.insert(name.to_string(), check);
        self
    }

    fn check_references(&self) -> Result<(), String> {
        let known = |t: &TypeRef| self.types.contains_key(t.named());
        for (name, def) in &self.types {
            match def {
                TypeDef::Object(fields) => {
                    for f in fields {
                        if !known(&f.ty) {
                            return Err(format!("{name}.{} has unknown type {}", f.name, f.ty));
                        }
                        for a in &f.args {
                            if !self.is_input_type(&a.ty) {
                                return Err(format!("{name}.{}({}) is not an input type", f.name, a.name));
                            }
                        }
                    }
                }
                TypeDef::Input(fields) => {
                    for f in fields {
                        if !self.is_input_type(&f.ty) {
                            return Err(format!("{name}.{} is not an input type", f.name));
                        }
                    }
                }
                TypeDef::Scalar | TypeDef::Enum(_) => {}
            }
        }
        if !matches!(self.types.get("Query"), Some(TypeDef::Object(_))) {
            return Err("the schema has no Query type".into());
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    pub fn field(&self, type_name: &str, field: &str) -> Option<&SdlField> {
        match self.types.get(type_name) {
            Some(TypeDef::Object(fields)) => fields.iter().find(|f| f.name == field),
            _ => None,
        }
    }

    pub fn is_leaf(&self, type_name: &str) -> bool {
        matches!(self.types.get(type_name), Some(TypeDef::Scalar | TypeDef::Enum(_)))
    }

    pub fn is_input_type(&self, t: &TypeRef) -> bool {
        matches!(self.types.get(t.named()), Some(TypeDef::Scalar | TypeDef::Enum(_) | TypeDef::Input(_)))
    }

    pub fn has_object(&self, name: &str) -> bool {
        matches!(self.types.get(name), Some(TypeDef::Object(_)))
    }

    /// Check a scalar input value (JSON form). `None` for a non-scalar.
    fn scalar_ok(&self, name: &str, v: &Value) -> bool {
        match name {
            "Int" => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            "Float" => v.is_number(),
            "String" => v.is_string(),
            "Boolean" => v.is_boolean(),
            "ID" => v.is_string() || v.is_i64() || v.is_u64(),
            other => match self.scalar_checks.get(other) {
                Some(check) => check(v),
                None => v.is_string(),
            },
        }
    }

    /// Coerce a JSON variable value to `ty` (GraphQL input coercion). Problems come back as
    /// graphql-ruby's `problems` entries (`{path, explanation}`).
    pub fn coerce_json(&self, v: &Value, ty: &TypeRef, path: &mut Vec<Value>, problems: &mut Vec<Value>) -> Value {
        match ty {
            TypeRef::NonNull(inner) => {
                if v.is_null() {
                    return push_problem(problems, path, "Expected value to not be null".into());
                }
                self.coerce_json(v, inner, path, problems)
            }
            _ if v.is_null() => Value::Null,
            TypeRef::List(inner) => match v {
                Value::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        path.push(json!(i));
                        out.push(self.coerce_json(item, inner, path, problems));
                        path.pop();
                    }
                    Value::Array(out)
                }
                single => Value::Array(vec![self.coerce_json(single, inner, path, problems)]),
            },
            TypeRef::Named(name) => match self.types.get(name) {
                Some(TypeDef::Scalar) => {
                    if self.scalar_ok(name, v) {
                        if name == "ID" {
                            return match v {
                                Value::String(_) => v.clone(),
                                other => Value::String(other.to_string()),
                            };
                        }
                        v.clone()
                    } else {
                        push_problem(problems, path, format!("Could not coerce value {v} to {name}"))
                    }
                }
                Some(TypeDef::Enum(values)) => match v.as_str() {
                    Some(s) if values.iter().any(|x| x == s) => v.clone(),
                    _ => push_problem(problems, path, format!("Expected {v} to be one of: {}", values.join(", "))),
                },
                Some(TypeDef::Input(fields)) => {
                    let Some(obj) = v.as_object() else {
                        return push_problem(problems, path, format!("Expected {v} to be a key-value object."));
                    };
                    let mut out = Map::new();
                    for k in obj.keys() {
                        if !fields.iter().any(|f| &f.name == k) {
                            path.push(json!(k));
                            push_problem(problems, path, format!("Field is not defined on {name}"));
                            path.pop();
                        }
                    }
                    for f in fields {
                        path.push(json!(f.name));
                        match obj.get(&f.name) {
                            Some(fv) => {
                                out.insert(f.name.clone(), self.coerce_json(fv, &f.ty, path, problems));
                            }
                            None => {
                                if let Some(d) = &f.default {
                                    out.insert(f.name.clone(), self.literal_to_json(d, &f.ty, &Map::new()));
                                } else if f.ty.is_non_null() {
                                    push_problem(problems, path, "Expected value to not be null".into());
                                }
                            }
                        }
                        path.pop();
                    }
                    Value::Object(out)
                }
                _ => push_problem(problems, path, format!("{name} isn't a defined input type")),
            },
        }
    }

    /// Convert an already validated literal to JSON, filling input-object defaults.
    /// A variable that was not provided becomes `null`.
    pub fn literal_to_json(&self, v: &AstValue, ty: &TypeRef, vars: &Map<String, Value>) -> Value {
        if let TypeRef::List(inner) = ty.nullable() {
            match v {
                AstValue::List(items) => {
                    return Value::Array(items.iter().map(|i| self.literal_to_json(i, inner, vars)).collect());
                }
                AstValue::Var(_) | AstValue::Null => {}
                single => return Value::Array(vec![self.literal_to_json(single, inner, vars)]),
            }
        }
        match v {
            AstValue::Var(n) => vars.get(n).cloned().unwrap_or(Value::Null),
            AstValue::Null => Value::Null,
            AstValue::Int(i) => match ty.named() {
                "ID" => Value::String(i.to_string()),
                "Float" => json!(*i as f64),
                _ => json!(i),
            },
            AstValue::Float(f) => json!(f),
            AstValue::Str(s) => json!(s),
            AstValue::Bool(b) => json!(b),
            AstValue::Enum(e) => json!(e),
            // A list literal for a non-list type never passes validation.
            AstValue::List(_) => Value::Null,
            AstValue::Object(fields) => match self.types.get(ty.named()) {
                Some(TypeDef::Input(defs)) => {
                    let mut out = Map::new();
                    for d in defs {
                        match fields.iter().find(|(k, _)| *k == d.name) {
                            Some((_, AstValue::Var(n))) if !vars.contains_key(n) => {
                                if let Some(dv) = &d.default {
                                    out.insert(d.name.clone(), self.literal_to_json(dv, &d.ty, vars));
                                }
                            }
                            Some((_, fv)) => {
                                out.insert(d.name.clone(), self.literal_to_json(fv, &d.ty, vars));
                            }
                            None => {
                                if let Some(dv) = &d.default {
                                    out.insert(d.name.clone(), self.literal_to_json(dv, &d.ty, vars));
                                }
                            }
                        }
                    }
                    Value::Object(out)
                }
                _ => Value::Null,
            },
        }
    }

    /// Is this literal acceptable for `ty`? Variables are checked elsewhere (the caller
    /// supplies `var_ok`). The error, when any, is a graphql-ruby style message fragment for
    /// input-object problems; `Err(None)` means "generic invalid value".
    pub fn check_literal(
        &self,
        v: &AstValue,
        ty: &TypeRef,
        var_ok: &mut dyn FnMut(&str, &TypeRef) -> Result<(), String>,
    ) -> Result<(), Option<String>> {
        if let AstValue::Var(n) = v {
            return var_ok(n, ty).map_err(Some);
        }
        match ty {
            TypeRef::NonNull(inner) => {
                if *v == AstValue::Null {
                    return Err(None);
                }
                self.check_literal(v, inner, var_ok)
            }
            _ if *v == AstValue::Null => Ok(()),
            TypeRef::List(inner) => match v {
                AstValue::List(items) => {
                    for i in items {
                        self.check_literal(i, inner, var_ok)?;
                    }
                    Ok(())
                }
                single => self.check_literal(single, inner, var_ok),
            },
            TypeRef::Named(name) => match self.types.get(name) {
                Some(TypeDef::Scalar) => {
                    let as_json = match v {
                        AstValue::Int(i) => json!(i),
                        AstValue::Float(f) => json!(f),
                        AstValue::Str(s) => json!(s),
                        AstValue::Bool(b) => json!(b),
                        _ => return Err(None),
                    };
                    if self.scalar_ok(name, &as_json) { Ok(()) } else { Err(None) }
                }
                Some(TypeDef::Enum(values)) => match v {
                    AstValue::Enum(e) if values.contains(e) => Ok(()),
                    _ => Err(None),
                },
                Some(TypeDef::Input(defs)) => {
                    let AstValue::Object(fields) = v else {
                        return Err(None);
                    };
                    for (k, fv) in fields {
                        let Some(d) = defs.iter().find(|d| &d.name == k) else {
                            return Err(Some(format!("InputObject '{name}' doesn't accept argument '{k}'")));
                        };
                        if let Err(e) = self.check_literal(fv, &d.ty, var_ok) {
                            return Err(Some(e.unwrap_or_else(|| {
                                format!(
                                    "Argument '{k}' on InputObject '{name}' has an invalid value ({}). Expected type '{}'.",
                                    fv.to_source(),
                                    d.ty
                                )
                            })));
                        }
                    }
                    for d in defs {
                        let given = fields.iter().any(|(k, _)| *k == d.name);
                        if !given && d.ty.is_non_null() && d.default.is_none() {
                            return Err(Some(format!(
                                "Argument '{}' on InputObject '{name}' is required. Expected type {}",
                                d.name, d.ty
                            )));
                        }
                    }
                    Ok(())
                }
                _ => Err(None),
            },
        }
    }
}

fn push_problem(problems: &mut Vec<Value>, path: &[Value], msg: String) -> Value {
    problems.push(json!({ "path": path, "explanation": msg }));
    Value::Null
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::syntax::parse_document;

    const SDL: &str = "enum Dir { ASC DESC }\ninput S { key: String!, dir: Dir = ASC }\n\
                       type Query { a(x: Int, s: [S!]): Int }";

    fn ty(s: &str) -> TypeRef {
        let d = parse_document(&format!("query($v: {s}) {{ a }}")).unwrap();
        d.operations[0].vars[0].ty.clone()
    }

    #[test]
    fn schema_rejects_dangling_types() {
        assert!(Schema::from_sdl(SDL).is_ok());
        assert!(Schema::from_sdl("type Query { a: Nope }").is_err());
        assert!(Schema::from_sdl("type Foo { a: Int }").is_err());
        assert!(Schema::from_sdl("type Query { a(x: Query): Int }").is_err());
    }

    #[test]
    fn json_coercion_reports_problems() {
        let s = Schema::from_sdl(SDL).unwrap();
        let mut probs = vec![];
        let v = s.coerce_json(&json!(5), &ty("[Int!]"), &mut vec![], &mut probs);
        assert_eq!(v, json!([5]));
        assert!(probs.is_empty());
        s.coerce_json(&Value::Null, &ty("Int!"), &mut vec![], &mut probs);
        s.coerce_json(&json!("x"), &ty("Int"), &mut vec![], &mut probs);
        s.coerce_json(&json!(3_000_000_000i64), &ty("Int"), &mut vec![], &mut probs);
        assert_eq!(probs.len(), 3);
        let mut probs = vec![];
        let v = s.coerce_json(&json!({"key": "k"}), &ty("S"), &mut vec![], &mut probs);
        assert_eq!(v, json!({"key": "k", "dir": "ASC"}));
        s.coerce_json(&json!({"key": "k", "bad": 1, "dir": "UP"}), &ty("S"), &mut vec![], &mut probs);
        assert_eq!(probs.len(), 2);
        assert_eq!(probs[0]["path"], json!(["bad"]));
    }

    #[test]
    fn literal_checks() {
        let s = Schema::from_sdl(SDL).unwrap();
        let mut no_vars = |_: &str, _: &TypeRef| Ok(());
        let obj = AstValue::Object(vec![("key".into(), AstValue::Str("k".into()))]);
        assert!(s.check_literal(&obj, &ty("[S!]"), &mut no_vars).is_ok());
        let bad = AstValue::Object(vec![("updatedAt".into(), AstValue::Str("k".into()))]);
        assert_eq!(
            s.check_literal(&bad, &ty("S"), &mut no_vars),
            Err(Some("InputObject 'S' doesn't accept argument 'updatedAt'".into()))
        );
        let missing = AstValue::Object(vec![]);
        assert!(s.check_literal(&missing, &ty("S"), &mut no_vars).is_err());
        assert_eq!(s.check_literal(&AstValue::Str("1".into()), &ty("Int"), &mut no_vars), Err(None));
        assert!(s.check_literal(&AstValue::Enum("ASC".into()), &ty("Dir"), &mut no_vars).is_ok());
        assert!(s.check_literal(&AstValue::Str("ASC".into()), &ty("Dir"), &mut no_vars).is_err());
        assert_eq!(s.literal_to_json(&obj, &ty("[S!]"), &Map::new()), json!([{"key": "k", "dir": "ASC"}]));
    }
}
