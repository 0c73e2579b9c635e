//! GraphQL lexer and recursive-descent parser: executable documents (operations and
//! fragments) and the SDL subset the fake schema is written in (scalar, enum, input, type).
//! Errors follow graphql-ruby's wording, which is what Jobber runs.

use std::collections::HashMap;

/// Line and column, 1-based, as GraphQL error `locations` report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Punct(&'static str),
    Name(String),
    Int(String),
    Float(String),
    Str(String),
    Eof,
}

impl Tok {
    /// graphql-ruby's token names, used in parse errors.
    fn kind(&self) -> &'static str {
        match self {
            Tok::Punct(p) => match *p {
                "{" => "LCURLY",
                "}" => "RCURLY",
                "(" => "LPAREN",
                ")" => "RPAREN",
                "[" => "LBRACKET",
                "]" => "RBRACKET",
                ":" => "COLON",
                "$" => "VAR_SIGN",
                "!" => "BANG",
                "=" => "EQUALS",
                "@" => "DIR_SIGN",
                "..." => "ELLIPSIS",
                "&" => "AMP",
                "|" => "PIPE",
                _ => "PUNCT",
            },
            Tok::Name(_) => "IDENTIFIER",
            Tok::Int(_) => "INT",
            Tok::Float(_) => "FLOAT",
            Tok::Str(_) => "STRING",
            Tok::Eof => "EOF",
        }
    }

    fn text(&self) -> String {
        match self {
            Tok::Punct(p) => (*p).to_string(),
            Tok::Name(s) | Tok::Int(s) | Tok::Float(s) | Tok::Str(s) => s.clone(),
            Tok::Eof => String::new(),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: Pos,
}

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub message: String,
    pub pos: Pos,
}

fn lex(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut line_start) = (0usize, 1usize, 0usize);
    let err = |msg: String, line: usize, col: usize| SyntaxError { message: msg, pos: Pos { line, col } };
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos { line, col: i - line_start + 1 };
        match c {
            '\n' => {
                i += 1;
                line += 1;
                line_start = i;
            }
            '\r' => {
                i += 1;
                if chars.get(i) != Some(&'\n') {
                    line += 1;
                    line_start = i;
                }
            }
            ' ' | '\t' | ',' | '\u{feff}' => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' && chars[i] != '\r' {
                    i += 1;
                }
            }
            '!' | '$' | '&' | '(' | ')' | ':' | '=' | '@' | '[' | ']' | '{' | '|' | '}' => {
                let p = match c {
                    '!' => "!",
                    '$' => "$",
                    '&' => "&",
                    '(' => "(",
                    ')' => ")",
                    ':' => ":",
                    '=' => "=",
                    '@' => "@",
                    '[' => "[",
                    ']' => "]",
                    '{' => "{",
                    '|' => "|",
                    _ => "}",
                };
                out.push(Token { tok: Tok::Punct(p), pos });
                i += 1;
            }
            '.' => {
                if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') {
                    out.push(Token { tok: Tok::Punct("..."), pos });
                    i += 3;
                } else {
                    return Err(err("Parse error on \".\"".into(), pos.line, pos.col));
                }
            }
            c if c == '_' || c.is_ascii_alphabetic() => {
                let start = i;
                while i < chars.len() && (chars[i] == '_' || chars[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                out.push(Token { tok: Tok::Name(chars[start..i].iter().collect()), pos });
            }
            c if c == '-' || c.is_ascii_digit() => {
                let start = i;
                if chars[i] == '-' {
                    i += 1;
                }
                let int_start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let digits = i - int_start;
                if digits == 0 || (digits > 1 && chars[int_start] == '0') {
                    return Err(err("Parse error: invalid number".into(), pos.line, pos.col));
                }
                let mut float = false;
                if chars.get(i) == Some(&'.') {
                    float = true;
                    i += 1;
                    let s = i;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                    if i == s {
                        return Err(err("Parse error: invalid number".into(), pos.line, pos.col));
                    }
                }
                if matches!(chars.get(i), Some('e' | 'E')) {
                    float = true;
                    i += 1;
                    if matches!(chars.get(i), Some('+' | '-')) {
                        i += 1;
                    }
                    let s = i;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                    if i == s {
                        return Err(err("Parse error: invalid number".into(), pos.line, pos.col));
                    }
                }
                if chars.get(i).is_some_and(|c| *c == '.' || *c == '_' || c.is_ascii_alphabetic()) {
                    return Err(err("Parse error: invalid number".into(), pos.line, pos.col));
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Token { tok: if float { Tok::Float(text) } else { Tok::Int(text) }, pos });
            }
            '"' => {
                if chars.get(i + 1) == Some(&'"') && chars.get(i + 2) == Some(&'"') {
                    i += 3;
                    let mut raw = String::new();
                    loop {
                        if i >= chars.len() {
                            return Err(err("Unterminated string".into(), pos.line, pos.col));
                        }
                        if chars[i] == '"' && chars.get(i + 1) == Some(&'"') && chars.get(i + 2) == Some(&'"') {
                            i += 3;
                            break;
                        }
                        if chars[i] == '\\'
                            && chars.get(i + 1) == Some(&'"')
                            && chars.get(i + 2) == Some(&'"')
                            && chars.get(i + 3) == Some(&'"')
                        {
                            raw.push_str("\"\"\"");
                            i += 4;
                            continue;
                        }
                        if chars[i] == '\n' {
                            line += 1;
                            line_start = i + 1;
                        }
                        raw.push(chars[i]);
                        i += 1;
                    }
                    out.push(Token { tok: Tok::Str(block_string(&raw)), pos });
                } else {
                    i += 1;
                    let mut s = String::new();
                    loop {
                        let Some(&c) = chars.get(i) else {
                            return Err(err("Unterminated string".into(), pos.line, pos.col));
                        };
                        match c {
                            '"' => {
                                i += 1;
                                break;
                            }
                            '\n' | '\r' => {
                                return Err(err("Unterminated string".into(), pos.line, pos.col));
                            }
                            '\\' => {
                                let e = chars.get(i + 1).copied();
                                i += 2;
                                match e {
                                    Some('"') => s.push('"'),
                                    Some('\\') => s.push('\\'),
                                    Some('/') => s.push('/'),
                                    Some('b') => s.push('\u{8}'),
                                    Some('f') => s.push('\u{c}'),
                                    Some('n') => s.push('\n'),
                                    Some('r') => s.push('\r'),
                                    Some('t') => s.push('\t'),
                                    Some('u') => {
                                        let hex: String = chars.get(i..i + 4).unwrap_or(&[]).iter().collect();
                                        let ch = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                                        match (hex.len(), ch) {
                                            (4, Some(ch)) => s.push(ch),
                                            _ => {
                                                return Err(err("Bad unicode escape".into(), pos.line, pos.col));
                                            }
                                        }
                                        i += 4;
                                    }
                                    _ => {
                                        return Err(err("Bad escape in string".into(), pos.line, pos.col));
                                    }
                                }
                            }
                            c => {
                                s.push(c);
                                i += 1;
                            }
                        }
                    }
                    out.push(Token { tok: Tok::Str(s), pos });
                }
            }
            other => {
                return Err(err(
                    format!("Parse error on \"{other}\" (UNKNOWN_CHAR) at [{}, {}]", pos.line, pos.col),
                    pos.line,
                    pos.col,
                ));
            }
        }
    }
    out.push(Token { tok: Tok::Eof, pos: Pos { line, col: chars.len().saturating_sub(line_start) + 1 } });
    Ok(out)
}

/// Block string value: common indentation removed, blank first/last lines dropped.
fn block_string(raw: &str) -> String {
    let lines: Vec<&str> = raw.lines().collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| if i == 0 { l.to_string() } else { l.get(indent..).unwrap_or("").to_string() })
        .collect();
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// A value as written in a document.
#[derive(Debug, Clone, PartialEq)]
pub enum AstValue {
    Var(String),
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
    Enum(String),
    List(Vec<AstValue>),
    Object(Vec<(String, AstValue)>),
}

impl AstValue {
    /// GraphQL source form, for error messages.
    pub fn to_source(&self) -> String {
        match self {
            AstValue::Var(v) => format!("${v}"),
            AstValue::Int(i) => i.to_string(),
            AstValue::Float(f) => f.to_string(),
            AstValue::Str(s) => serde_json::Value::String(s.clone()).to_string(),
            AstValue::Bool(b) => b.to_string(),
            AstValue::Null => "null".into(),
            AstValue::Enum(e) => e.clone(),
            AstValue::List(l) => format!("[{}]", l.iter().map(AstValue::to_source).collect::<Vec<_>>().join(", ")),
            AstValue::Object(o) => format!(
                "{{{}}}",
                o.iter().map(|(k, v)| format!("{k}: {}", v.to_source())).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// A type reference such as `[Job!]!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    pub fn named(&self) -> &str {
        match self {
            TypeRef::Named(n) => n,
            TypeRef::List(t) | TypeRef::NonNull(t) => t.named(),
        }
    }

    pub fn is_non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }

    /// Strip one outer `!`.
    pub fn nullable(&self) -> &TypeRef {
        match self {
            TypeRef::NonNull(t) => t,
            t => t,
        }
    }
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeRef::Named(n) => write!(f, "{n}"),
            TypeRef::List(t) => write!(f, "[{t}]"),
            TypeRef::NonNull(t) => write!(f, "{t}!"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<(String, AstValue)>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub alias: Option<String>,
    pub name: String,
    pub args: Vec<(String, AstValue)>,
    pub directives: Vec<Directive>,
    pub selection: Vec<Selection>,
    pub pos: Pos,
}

impl Field {
    pub fn response_key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    pub fn arg(&self, name: &str) -> Option<&AstValue> {
        self.args.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    Field(Field),
    Spread { name: String, directives: Vec<Directive>, pos: Pos },
    Inline { type_condition: Option<String>, directives: Vec<Directive>, selection: Vec<Selection>, pos: Pos },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Query,
    Mutation,
    Subscription,
}

impl OpKind {
    pub fn keyword(self) -> &'static str {
        match self {
            OpKind::Query => "query",
            OpKind::Mutation => "mutation",
            OpKind::Subscription => "subscription",
        }
    }

    /// The schema type an operation of this kind starts from.
    pub fn root(self) -> &'static str {
        match self {
            OpKind::Query => "Query",
            OpKind::Mutation => "Mutation",
            OpKind::Subscription => "Subscription",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VarDef {
    pub name: String,
    pub ty: TypeRef,
    pub default: Option<AstValue>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub kind: OpKind,
    pub name: Option<String>,
    pub vars: Vec<VarDef>,
    pub directives: Vec<Directive>,
    pub selection: Vec<Selection>,
    pub pos: Pos,
}

impl Operation {
    /// graphql-ruby's first `path` element: `"query"` or `"query Name"`.
    pub fn path_name(&self) -> String {
        match &self.name {
            Some(n) => format!("{} {n}", self.kind.keyword()),
            None => self.kind.keyword().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fragment {
    pub name: String,
    pub type_condition: String,
    pub directives: Vec<Directive>,
    pub selection: Vec<Selection>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    pub operations: Vec<Operation>,
    pub fragments: HashMap<String, Fragment>,
}

/// One SDL definition.
#[derive(Debug, Clone, PartialEq)]
pub enum SdlDef {
    Scalar(String),
    Enum(String, Vec<String>),
    Input(String, Vec<SdlInputValue>),
    Object(String, Vec<SdlField>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SdlInputValue {
    pub name: String,
    pub ty: TypeRef,
    pub default: Option<AstValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SdlField {
    pub name: String,
    pub args: Vec<SdlInputValue>,
    pub ty: TypeRef,
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
}

type PResult<T> = Result<T, SyntaxError>;

impl Parser {
    fn new(src: &str) -> PResult<Parser> {
        Ok(Parser { toks: lex(src)?, i: 0 })
    }

    fn peek(&self) -> &Token {
        // lex() always ends with Eof, and `i` never passes it.
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.i + n).min(self.toks.len() - 1)].tok
    }

    fn unexpected<T>(&self) -> PResult<T> {
        let t = self.peek();
        let message = if t.tok == Tok::Eof {
            "Unexpected end of document".to_string()
        } else {
            format!(
                "Parse error on {} ({}) at [{}, {}]",
                serde_json::Value::String(t.tok.text()),
                t.tok.kind(),
                t.pos.line,
                t.pos.col
            )
        };
        Err(SyntaxError { message, pos: t.pos })
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(&self.peek().tok, Tok::Punct(x) if *x == p)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, p: &str) -> PResult<()> {
        if self.eat_punct(p) { Ok(()) } else { self.unexpected() }
    }

    fn is_name(&self, n: &str) -> bool {
        matches!(&self.peek().tok, Tok::Name(x) if x == n)
    }

    fn name(&mut self) -> PResult<String> {
        match &self.peek().tok {
            Tok::Name(n) => {
                let n = n.clone();
                self.i += 1;
                Ok(n)
            }
            _ => self.unexpected(),
        }
    }

    // ---- executable documents ----

    fn document(&mut self) -> PResult<Document> {
        let mut doc = Document::default();
        if self.peek().tok == Tok::Eof {
            return self.unexpected();
        }
        while self.peek().tok != Tok::Eof {
            let pos = self.peek().pos;
            if self.is_punct("{") {
                let selection = self.selection_set()?;
                doc.operations.push(Operation {
                    kind: OpKind::Query,
                    name: None,
                    vars: vec![],
                    directives: vec![],
                    selection,
                    pos,
                });
                continue;
            }
            let kw = match &self.peek().tok {
                Tok::Name(n) => n.clone(),
                _ => return self.unexpected(),
            };
            match kw.as_str() {
                "query" | "mutation" | "subscription" => {
                    self.i += 1;
                    let kind = match kw.as_str() {
                        "query" => OpKind::Query,
                        "mutation" => OpKind::Mutation,
                        _ => OpKind::Subscription,
                    };
                    let name = match self.peek().tok {
                        Tok::Name(_) => Some(self.name()?),
                        _ => None,
                    };
                    let vars = if self.is_punct("(") { self.var_defs()? } else { vec![] };
                    let directives = self.directives(false)?;
                    let selection = self.selection_set()?;
                    doc.operations.push(Operation { kind, name, vars, directives, selection, pos });
                }
                "fragment" => {
                    self.i += 1;
                    if self.is_name("on") {
                        return self.unexpected();
                    }
                    let name = self.name()?;
                    if !self.is_name("on") {
                        return self.unexpected();
                    }
                    self.i += 1;
                    let type_condition = self.name()?;
                    let directives = self.directives(false)?;
                    let selection = self.selection_set()?;
                    doc.fragments.insert(name.clone(), Fragment { name, type_condition, directives, selection, pos });
                }
                _ => return self.unexpected(),
            }
        }
        Ok(doc)
    }

    fn var_defs(&mut self) -> PResult<Vec<VarDef>> {
        self.expect_punct("(")?;
        if self.is_punct(")") {
            return self.unexpected();
        }
        let mut out = Vec::new();
        while !self.eat_punct(")") {
            let pos = self.peek().pos;
            self.expect_punct("$")?;
            let name = self.name()?;
            self.expect_punct(":")?;
            let ty = self.type_ref()?;
            let default = if self.eat_punct("=") { Some(self.value(true)?) } else { None };
            self.directives(true)?;
            out.push(VarDef { name, ty, default, pos });
        }
        if out.is_empty() {
            return self.unexpected();
        }
        Ok(out)
    }

    fn type_ref(&mut self) -> PResult<TypeRef> {
        let t = if self.eat_punct("[") {
            let inner = self.type_ref()?;
            self.expect_punct("]")?;
            TypeRef::List(Box::new(inner))
        } else {
            TypeRef::Named(self.name()?)
        };
        Ok(if self.eat_punct("!") { TypeRef::NonNull(Box::new(t)) } else { t })
    }

    fn directives(&mut self, constant: bool) -> PResult<Vec<Directive>> {
        let mut out = Vec::new();
        while self.is_punct("@") {
            let pos = self.peek().pos;
            self.i += 1;
            let name = self.name()?;
            let args = if self.is_punct("(") { self.arguments(constant)? } else { vec![] };
            out.push(Directive { name, args, pos });
        }
        Ok(out)
    }

    fn arguments(&mut self, constant: bool) -> PResult<Vec<(String, AstValue)>> {
        self.expect_punct("(")?;
        if self.is_punct(")") {
            return self.unexpected();
        }
        let mut out = Vec::new();
        while !self.eat_punct(")") {
            let name = self.name()?;
            self.expect_punct(":")?;
            out.push((name, self.value(constant)?));
        }
        if out.is_empty() {
            return self.unexpected();
        }
        Ok(out)
    }

    fn value(&mut self, constant: bool) -> PResult<AstValue> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Punct("$") if !constant => {
                self.i += 1;
                Ok(AstValue::Var(self.name()?))
            }
            Tok::Int(s) => {
                self.i += 1;
                match s.parse::<i64>() {
                    Ok(n) => Ok(AstValue::Int(n)),
                    // Too large for i64: keep it as a float so validation reports it.
                    Err(_) => Ok(AstValue::Float(s.parse::<f64>().unwrap_or(f64::MAX))),
                }
            }
            Tok::Float(s) => {
                self.i += 1;
                Ok(AstValue::Float(s.parse::<f64>().unwrap_or(f64::NAN)))
            }
            Tok::Str(s) => {
                self.i += 1;
                Ok(AstValue::Str(s))
            }
            Tok::Name(n) => {
                self.i += 1;
                Ok(match n.as_str() {
                    "true" => AstValue::Bool(true),
                    "false" => AstValue::Bool(false),
                    "null" => AstValue::Null,
                    _ => AstValue::Enum(n),
                })
            }
            Tok::Punct("[") => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat_punct("]") {
                    if self.peek().tok == Tok::Eof {
                        return self.unexpected();
                    }
                    items.push(self.value(constant)?);
                }
                Ok(AstValue::List(items))
            }
            Tok::Punct("{") => {
                self.i += 1;
                let mut fields: Vec<(String, AstValue)> = Vec::new();
                while !self.eat_punct("}") {
                    let name = self.name()?;
                    self.expect_punct(":")?;
                    let v = self.value(constant)?;
                    fields.push((name, v));
                }
                Ok(AstValue::Object(fields))
            }
            _ => self.unexpected(),
        }
    }

    fn selection_set(&mut self) -> PResult<Vec<Selection>> {
        self.expect_punct("{")?;
        if self.is_punct("}") {
            return self.unexpected();
        }
        let mut out = Vec::new();
        while !self.eat_punct("}") {
            out.push(self.selection()?);
        }
        if out.is_empty() {
            return self.unexpected();
        }
        Ok(out)
    }

    fn selection(&mut self) -> PResult<Selection> {
        let pos = self.peek().pos;
        if self.eat_punct("...") {
            if self.is_name("on") {
                self.i += 1;
                let tc = self.name()?;
                let directives = self.directives(false)?;
                let selection = self.selection_set()?;
                return Ok(Selection::Inline { type_condition: Some(tc), directives, selection, pos });
            }
            if let Tok::Name(_) = self.peek().tok {
                let name = self.name()?;
                let directives = self.directives(false)?;
                return Ok(Selection::Spread { name, directives, pos });
            }
            let directives = self.directives(false)?;
            let selection = self.selection_set()?;
            return Ok(Selection::Inline { type_condition: None, directives, selection, pos });
        }
        let first = self.name()?;
        let (alias, name) = if self.eat_punct(":") { (Some(first), self.name()?) } else { (None, first) };
        let args = if self.is_punct("(") { self.arguments(false)? } else { vec![] };
        let directives = self.directives(false)?;
        let selection = if self.is_punct("{") { self.selection_set()? } else { vec![] };
        Ok(Selection::Field(Field { alias, name, args, directives, selection, pos }))
    }

    // ---- SDL ----

    fn skip_description(&mut self) {
        if let Tok::Str(_) = self.peek().tok {
            self.i += 1;
        }
    }

    fn sdl(&mut self) -> PResult<Vec<SdlDef>> {
        let mut out = Vec::new();
        loop {
            self.skip_description();
            if self.peek().tok == Tok::Eof {
                return Ok(out);
            }
            let kw = self.name()?;
            match kw.as_str() {
                "scalar" => {
                    let n = self.name()?;
                    self.directives(true)?;
                    out.push(SdlDef::Scalar(n));
                }
                "enum" => {
                    let n = self.name()?;
                    self.directives(true)?;
                    self.expect_punct("{")?;
                    let mut values = Vec::new();
                    while !self.eat_punct("}") {
                        self.skip_description();
                        values.push(self.name()?);
                        self.directives(true)?;
                    }
                    out.push(SdlDef::Enum(n, values));
                }
                "input" => {
                    let n = self.name()?;
                    self.directives(true)?;
                    self.expect_punct("{")?;
                    let mut fields = Vec::new();
                    while !self.eat_punct("}") {
                        fields.push(self.input_value()?);
                    }
                    out.push(SdlDef::Input(n, fields));
                }
                "type" => {
                    let n = self.name()?;
                    if self.is_name("implements") {
                        self.i += 1;
                        self.eat_punct("&");
                        self.name()?;
                        while self.eat_punct("&") {
                            self.name()?;
                        }
                    }
                    self.directives(true)?;
                    self.expect_punct("{")?;
                    let mut fields = Vec::new();
                    while !self.eat_punct("}") {
                        self.skip_description();
                        let name = self.name()?;
                        let mut args = Vec::new();
                        if self.eat_punct("(") {
                            while !self.eat_punct(")") {
                                args.push(self.input_value()?);
                            }
                        }
                        self.expect_punct(":")?;
                        let ty = self.type_ref()?;
                        self.directives(true)?;
                        fields.push(SdlField { name, args, ty });
                    }
                    out.push(SdlDef::Object(n, fields));
                }
                _ => {
                    self.i -= 1;
                    return self.unexpected();
                }
            }
        }
    }

    fn input_value(&mut self) -> PResult<SdlInputValue> {
        self.skip_description();
        let name = self.name()?;
        self.expect_punct(":")?;
        let ty = self.type_ref()?;
        let default = if self.eat_punct("=") { Some(self.value(true)?) } else { None };
        self.directives(true)?;
        Ok(SdlInputValue { name, ty, default })
    }
}

/// Parse an executable document (queries, mutations, fragments).
pub fn parse_document(src: &str) -> Result<Document, SyntaxError> {
    let mut p = Parser::new(src)?;
    let doc = p.document()?;
    // A trailing `}` or similar after the last definition.
    if p.peek_at(0) != &Tok::Eof {
        return p.unexpected();
    }
    Ok(doc)
}

/// Parse schema definition language (the subset the fake's schemas use).
pub fn parse_sdl(src: &str) -> Result<Vec<SdlDef>, SyntaxError> {
    Parser::new(src)?.sdl()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_shorthand_and_named_operations() {
        let d = parse_document("{ account { id name } }").unwrap();
        assert_eq!(d.operations.len(), 1);
        assert_eq!(d.operations[0].kind, OpKind::Query);
        let d = parse_document(
            "query Jobs($first: Int! = 10, $after: String) {\n  jobs(first: $first, after: $after, \
             sort: [{key: UPDATED_AT, direction: DESCENDING}], filter: {ids: [\"a\", \"b\"]}) \
             { nodes { id ...F } pageInfo { hasNextPage } } }\nfragment F on Job { title }",
        )
        .unwrap();
        let op = &d.operations[0];
        assert_eq!(op.name.as_deref(), Some("Jobs"));
        assert_eq!(op.vars[0].ty.to_string(), "Int!");
        assert_eq!(op.vars[0].default, Some(AstValue::Int(10)));
        let Selection::Field(jobs) = &op.selection[0] else { panic!() };
        assert_eq!(jobs.arg("first"), Some(&AstValue::Var("first".into())));
        assert_eq!(
            jobs.arg("sort"),
            Some(&AstValue::List(vec![AstValue::Object(vec![
                ("key".into(), AstValue::Enum("UPDATED_AT".into())),
                ("direction".into(), AstValue::Enum("DESCENDING".into())),
            ])]))
        );
        assert_eq!(jobs.pos, Pos { line: 2, col: 3 });
        assert!(d.fragments.contains_key("F"));
    }

    #[test]
    fn parses_mutation_alias_directives_and_strings() {
        let d =
            parse_document("mutation { a: appDisconnect @include(if: true) { app { name author } } } # c\n").unwrap();
        let Selection::Field(f) = &d.operations[0].selection[0] else { panic!() };
        assert_eq!(f.alias.as_deref(), Some("a"));
        assert_eq!(f.response_key(), "a");
        assert_eq!(f.directives[0].name, "include");
        let d = parse_document("{ f(s: \"a\\\"\\u00e9\\n\", b: \"\"\"\n    x\n    y\n  \"\"\", n: -1.5e3) }").unwrap();
        let Selection::Field(f) = &d.operations[0].selection[0] else { panic!() };
        assert_eq!(f.arg("s"), Some(&AstValue::Str("a\"é\n".into())));
        assert_eq!(f.arg("b"), Some(&AstValue::Str("x\ny".into())));
        assert_eq!(f.arg("n"), Some(&AstValue::Float(-1500.0)));
    }

    #[test]
    fn reports_syntax_errors_with_positions() {
        let e = parse_document("{ account { id }").unwrap_err();
        assert_eq!(e.message, "Unexpected end of document");
        let e = parse_document("query { account { } }").unwrap_err();
        assert_eq!(e.message, "Parse error on \"}\" (RCURLY) at [1, 19]");
        assert_eq!(e.pos, Pos { line: 1, col: 19 });
        assert!(parse_document("").is_err());
        assert!(parse_document("{ a(x: 01) }").is_err());
        assert!(parse_document("{ a(x: \"open) }").is_err());
        assert!(parse_document("{ a } }").is_err());
        assert!(parse_document("{ a(x: \"\\q\") }").is_err());
        assert!(parse_document("{ a(x: \"\\u12\") }").is_err());
        assert!(parse_document("{ a ^ }").is_err());
        assert!(parse_document("query ($a: Int) { a }").is_ok());
        assert!(parse_document("query () { a }").is_err());
    }

    #[test]
    fn parses_sdl() {
        let defs = parse_sdl(
            "\"doc\" scalar EncodedId\nenum Dir { ASC DESC }\ninput S { key: Dir!, direction: Dir = ASC }\n\
             type Query { \"d\" jobs(first: Int, sort: [S!]): JobConnection! account: Account! }",
        )
        .unwrap();
        assert_eq!(defs.len(), 4);
        let SdlDef::Object(n, fields) = &defs[3] else { panic!() };
        assert_eq!(n, "Query");
        assert_eq!(fields[0].args[1].ty.to_string(), "[S!]");
        assert_eq!(fields[1].ty.named(), "Account");
        assert!(parse_sdl("blah X").is_err());
    }
}
