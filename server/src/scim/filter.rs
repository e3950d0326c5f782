//! SCIM filters (RFC 7644 §3.4.2.2), the whole grammar: comparisons (`eq`, `ne`, `co`, `sw`,
//! `ew`, `gt`, `ge`, `lt`, `le`, `pr`), `and`, `or`, `not ( … )`, parentheses, and value paths
//! such as `emails[type eq "work" and primary eq true]`, also followed by a sub-attribute
//! comparison (`emails[type eq "work"].value eq "anne@example.nl"`, the form PATCH paths use).
//! A filter is parsed once into a [`Filter`] tree; `query` turns the tree into SQL.
//!
//! Precedence, as the RFC gives it: `not` and parentheses bind tightest, then `and`, then `or`.
//! Attribute names and operators are matched without regard to case.

use super::error::{ScimError, ScimResult};

/// Filters longer than this are refused before parsing.
pub const MAX_FILTER_CHARS: usize = 4_096;
/// Deeper nesting than this (parentheses, `not`, value paths) is refused.
const MAX_DEPTH: usize = 32;

/// An attribute as a filter names it: an optional schema URN, a name and a sub-attribute, all
/// lower-cased (`urn:…:enterprise:2.0:user` / `manager` / `value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub schema: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl std::fmt::Display for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        write!(f, "{}", self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Operator {
    fn parse(word: &str) -> Option<Operator> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Operator::Eq,
            "ne" => Operator::Ne,
            "co" => Operator::Co,
            "sw" => Operator::Sw,
            "ew" => Operator::Ew,
            "gt" => Operator::Gt,
            "ge" => Operator::Ge,
            "lt" => Operator::Lt,
            "le" => Operator::Le,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::Ne => "ne",
            Operator::Co => "co",
            Operator::Sw => "sw",
            Operator::Ew => "ew",
            Operator::Gt => "gt",
            Operator::Ge => "ge",
            Operator::Lt => "lt",
            Operator::Le => "le",
        }
    }
}

/// A comparison value (`compValue`): a JSON string, number, `true`, `false` or `null`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(serde_json::Number),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attr op value`.
    Compare {
        path: AttrPath,
        operator: Operator,
        value: Value,
    },
    /// `attr pr`: the attribute has a non-empty value.
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attr[filter]`: some value of the multi-valued `attr` satisfies `filter`, whose paths
    /// name its sub-attributes (`type`, `value`, `primary`).
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    /// A sub-attribute right after `]`: `.value`.
    SubAttribute(String),
    Word(String),
    Text(String),
}

fn invalid(message: impl Into<String>) -> ScimError {
    ScimError::invalid_filter(message)
}

fn tokens(text: &str) -> ScimResult<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '[' => {
                chars.next();
                tokens.push(Token::OpenBracket);
            }
            ']' => {
                chars.next();
                tokens.push(Token::CloseBracket);
                if let Some(&(_, '.')) = chars.peek() {
                    chars.next();
                    let mut name = String::new();
                    while let Some(&(_, c)) = chars.peek() {
                        if c.is_alphanumeric() || c == '_' || c == '-' || c == '$' {
                            name.push(c);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    if name.is_empty() {
                        return Err(invalid("a sub-attribute name must follow `].`"));
                    }
                    tokens.push(Token::SubAttribute(name.to_ascii_lowercase()));
                }
            }
            '"' => {
                // A JSON string: find its end, honouring escapes, and let serde decode it.
                chars.next();
                let mut end = None;
                let mut escaped = false;
                for (index, c) in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        end = Some(index);
                        break;
                    }
                }
                let end = end.ok_or_else(|| invalid("a string is not closed with \""))?;
                let decoded: String = serde_json::from_str(&text[start..=end]).map_err(|_| {
                    invalid(format!("{} is not a valid string", &text[start..=end]))
                })?;
                tokens.push(Token::Text(decoded));
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

/// Splits `urn:…:User:manager.value` into schema, name and sub-attribute.
fn attr_path(word: &str) -> ScimResult<AttrPath> {
    let lower = word.to_ascii_lowercase();
    let (schema, rest) = match lower.rfind(':') {
        Some(colon) => (Some(lower[..colon].to_owned()), &lower[colon + 1..]),
        None => (None, lower.as_str()),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    let valid_name = |name: &str| {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
    };
    if !valid_name(name) || sub.is_some_and(|sub| !valid_name(sub)) {
        return Err(invalid(format!("{word} is not an attribute name")));
    }
    Ok(AttrPath {
        schema,
        name: name.to_owned(),
        sub: sub.map(str::to_owned),
    })
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn take(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    fn keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(word)) if word.eq_ignore_ascii_case(keyword))
    }

    fn deeper(&mut self) -> ScimResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(invalid(format!(
                "the filter nests deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(())
    }

    /// `or` of `and`s.
    fn filter(&mut self, inside_value_path: bool) -> ScimResult<Filter> {
        let mut left = self.conjunction(inside_value_path)?;
        while self.keyword("or") {
            self.next += 1;
            let right = self.conjunction(inside_value_path)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn conjunction(&mut self, inside_value_path: bool) -> ScimResult<Filter> {
        let mut left = self.unary(inside_value_path)?;
        while self.keyword("and") {
            self.next += 1;
            let right = self.unary(inside_value_path)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, inside_value_path: bool) -> ScimResult<Filter> {
        if self.keyword("not") {
            self.next += 1;
            if self.peek() != Some(&Token::Open) {
                return Err(invalid("`not` must be followed by a filter in parentheses"));
            }
            return Ok(Filter::Not(Box::new(self.group(inside_value_path)?)));
        }
        if self.peek() == Some(&Token::Open) {
            return self.group(inside_value_path);
        }
        self.attribute_expression(inside_value_path)
    }

    fn group(&mut self, inside_value_path: bool) -> ScimResult<Filter> {
        self.deeper()?;
        self.next += 1; // (
        let inner = self.filter(inside_value_path)?;
        match self.take() {
            Some(Token::Close) => {}
            Some(other) => return Err(invalid(format!("expected `)`, found {}", shown(&other)))),
            None => return Err(invalid("a `(` is not closed")),
        }
        self.depth -= 1;
        Ok(inner)
    }

    fn attribute_expression(&mut self, inside_value_path: bool) -> ScimResult<Filter> {
        let word = match self.take() {
            Some(Token::Word(word)) => word,
            Some(other) => {
                return Err(invalid(format!(
                    "expected an attribute, found {}",
                    shown(&other)
                )));
            }
            None => return Err(invalid("the filter ends where an attribute should be")),
        };
        let path = attr_path(&word)?;
        if self.peek() == Some(&Token::OpenBracket) {
            if inside_value_path {
                return Err(invalid("value paths cannot be nested"));
            }
            if path.sub.is_some() {
                return Err(invalid(format!(
                    "{word}[…]: a value path filters a multi-valued attribute, not a sub-attribute"
                )));
            }
            self.deeper()?;
            self.next += 1; // [
            let inner = self.filter(true)?;
            match self.take() {
                Some(Token::CloseBracket) => {}
                Some(other) => {
                    return Err(invalid(format!("expected `]`, found {}", shown(&other))));
                }
                None => return Err(invalid("a `[` is not closed")),
            }
            self.depth -= 1;
            let filter = match self.peek() {
                Some(Token::SubAttribute(sub)) => {
                    let sub_path = AttrPath {
                        schema: None,
                        name: sub.clone(),
                        sub: None,
                    };
                    self.next += 1;
                    let comparison = self.comparison(sub_path)?;
                    Filter::And(Box::new(inner), Box::new(comparison))
                }
                _ => inner,
            };
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(filter),
            });
        }
        self.comparison(path)
    }

    /// `pr`, or an operator and a value, after an attribute.
    fn comparison(&mut self, path: AttrPath) -> ScimResult<Filter> {
        let operator = match self.take() {
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("pr") => {
                return Ok(Filter::Present(path));
            }
            Some(Token::Word(word)) => Operator::parse(&word).ok_or_else(|| {
                invalid(format!(
                    "{word} is not an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)"
                ))
            })?,
            Some(other) => {
                return Err(invalid(format!(
                    "expected an operator after {path}, found {}",
                    shown(&other)
                )));
            }
            None => return Err(invalid(format!("{path} needs an operator"))),
        };
        let value = match self.take() {
            Some(Token::Text(text)) => Value::Text(text),
            Some(Token::Word(word)) => match word.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => match serde_json::from_str::<serde_json::Number>(&word) {
                    Ok(number) => Value::Number(number),
                    Err(_) => {
                        return Err(invalid(format!(
                            "{word} is not a value: quote strings, as in {path} {} \"{word}\"",
                            operator.name()
                        )));
                    }
                },
            },
            Some(other) => {
                return Err(invalid(format!(
                    "expected a value after {path} {}, found {}",
                    operator.name(),
                    shown(&other)
                )));
            }
            None => {
                return Err(invalid(format!("{path} {} needs a value", operator.name())));
            }
        };
        Ok(Filter::Compare {
            path,
            operator,
            value,
        })
    }
}

fn shown(token: &Token) -> String {
    match token {
        Token::Open => "`(`".to_owned(),
        Token::Close => "`)`".to_owned(),
        Token::OpenBracket => "`[`".to_owned(),
        Token::CloseBracket => "`]`".to_owned(),
        Token::SubAttribute(name) => format!("`.{name}`"),
        Token::Word(word) => format!("`{word}`"),
        Token::Text(text) => format!("{text:?}"),
    }
}

/// Parses a filter; `None` for an empty one (everyone matches).
pub fn parse(text: &str) -> ScimResult<Option<Filter>> {
    if text.chars().count() > MAX_FILTER_CHARS {
        return Err(invalid(format!(
            "a filter may be at most {MAX_FILTER_CHARS} characters"
        )));
    }
    let tokens = tokens(text)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut parser = Parser {
        tokens,
        next: 0,
        depth: 0,
    };
    let filter = parser.filter(false)?;
    if let Some(extra) = parser.peek() {
        return Err(invalid(format!(
            "unexpected {} after a complete filter; join comparisons with `and` or `or`",
            shown(extra)
        )));
    }
    Ok(Some(filter))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(name: &str) -> AttrPath {
        attr_path(name).expect("a path")
    }

    fn compare(name: &str, operator: Operator, value: &str) -> Filter {
        Filter::Compare {
            path: path(name),
            operator,
            value: Value::Text(value.to_owned()),
        }
    }

    fn parsed(text: &str) -> Filter {
        parse(text)
            .unwrap_or_else(|error| panic!("{text}: {}", error.detail))
            .expect("not empty")
    }

    #[test]
    fn comparisons_keep_their_attribute_operator_and_value() {
        assert_eq!(
            parsed(r#"userName Eq "Anne.de.Vries@example.nl""#),
            compare("username", Operator::Eq, "Anne.de.Vries@example.nl")
        );
        assert_eq!(
            parsed(r#"externalId eq "a8f0-\"x\"\u00e9""#),
            compare("externalid", Operator::Eq, "a8f0-\"x\"é")
        );
        assert_eq!(
            parsed("title pr"),
            Filter::Present(path("title")),
            "pr takes no value"
        );
        assert_eq!(
            parsed("active eq TRUE"),
            Filter::Compare {
                path: path("active"),
                operator: Operator::Eq,
                value: Value::Bool(true)
            }
        );
        let enterprise = parsed(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"x\"",
        );
        let Filter::Compare { path, .. } = enterprise else {
            panic!("a comparison");
        };
        assert_eq!(
            path.schema.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user")
        );
        assert_eq!(path.name, "manager");
        assert_eq!(path.sub.as_deref(), Some("value"));
        for operator in ["gt", "ge", "lt", "le"] {
            let text = format!(r#"meta.lastModified {operator} "2026-11-30T12:00:00Z""#);
            assert!(matches!(parsed(&text), Filter::Compare { .. }), "{text}");
        }
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_and_not_regroup() {
        let a = || compare("a", Operator::Eq, "1");
        let b = || compare("b", Operator::Eq, "2");
        let c = || compare("c", Operator::Eq, "3");
        let and = |x: Filter, y: Filter| Filter::And(Box::new(x), Box::new(y));
        let or = |x: Filter, y: Filter| Filter::Or(Box::new(x), Box::new(y));
        assert_eq!(
            parsed(r#"a eq "1" or b eq "2" and c eq "3""#),
            or(a(), and(b(), c()))
        );
        assert_eq!(
            parsed(r#"(a eq "1" or b eq "2") and c eq "3""#),
            and(or(a(), b()), c())
        );
        assert_eq!(
            parsed(r#"a eq "1" AND b eq "2" OR c eq "3""#),
            or(and(a(), b()), c())
        );
        assert_eq!(
            parsed(r#"not (a eq "1") and not(b eq "2" or c eq "3")"#),
            and(
                Filter::Not(Box::new(a())),
                Filter::Not(Box::new(or(b(), c())))
            )
        );
        assert_eq!(parsed(r#"((a eq "1"))"#), a(), "redundant parentheses");
    }

    #[test]
    fn value_paths_with_any_spacing_and_a_trailing_sub_attribute() {
        let expected = Filter::ValuePath {
            path: path("emails"),
            filter: Box::new(Filter::And(
                Box::new(Filter::And(
                    Box::new(compare("type", Operator::Eq, "work")),
                    Box::new(Filter::Compare {
                        path: path("primary"),
                        operator: Operator::Eq,
                        value: Value::Bool(true),
                    }),
                )),
                Box::new(compare("value", Operator::Eq, "a@b.nl")),
            )),
        };
        for text in [
            r#"emails[type eq "work" and primary eq true].value eq "a@b.nl""#,
            r#"emails[ type eq "work"  and primary eq true ].value   eq  "a@b.nl""#,
            "emails[type eq \"work\"\tand primary eq true].value eq \"a@b.nl\"",
        ] {
            assert_eq!(parsed(text), expected, "{text}");
        }
        let Filter::ValuePath { filter, .. } = parsed(r#"emails[type eq "work"]"#) else {
            panic!("a value path");
        };
        assert_eq!(*filter, compare("type", Operator::Eq, "work"));
    }

    #[test]
    fn malformed_filters_are_refused_as_invalid_filter() {
        let deep = format!("{}a eq \"1\"{}", "(".repeat(40), ")".repeat(40));
        let long = format!("userName eq \"{}\"", "x".repeat(MAX_FILTER_CHARS));
        for bad in [
            r#"userName eq "a"#,
            "userName eq anne",
            "userName",
            r#"userName eq"#,
            r#"userName is "a""#,
            r#"(userName eq "a""#,
            r#"userName eq "a")"#,
            r#"userName eq "a" userName eq "b""#,
            r#"not userName eq "a""#,
            r#"emails[type eq "work""#,
            r#"emails[type eq "work"]."#,
            r#"emails[addresses[type eq "work"]]"#,
            r#"name.givenName[type eq "work"]"#,
            r#"1abc eq "a""#,
            r#"userName eq "\q""#,
            "",
            deep.as_str(),
            long.as_str(),
        ] {
            match parse(bad) {
                Ok(None) if bad.is_empty() => {}
                Ok(filter) => panic!("{bad} parsed as {filter:?}"),
                Err(error) => assert_eq!(error.scim_type, Some("invalidFilter"), "{bad}"),
            }
        }
    }
}
