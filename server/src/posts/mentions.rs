//! @mentions in posts and comments: written as `<@person-id>` (the web composer inserts them
//! from people search), stored as ids, shown as links to the person's profile.

use std::collections::HashMap;

use uuid::Uuid;

/// More mentions than this in one text are refused.
pub const MAX_MENTIONS: usize = 50;
const ID_CHARS: usize = 36;

/// The people a text mentions, each once, in order of first mention.
pub fn parse(body: &str) -> Vec<Uuid> {
    let mut found = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("<@") {
        let after = &rest[start + 2..];
        if let Some(candidate) = after.get(..ID_CHARS)
            && after[ID_CHARS..].starts_with('>')
            && let Ok(id) = candidate.parse::<Uuid>()
        {
            if !found.contains(&id) {
                found.push(id);
            }
            rest = &after[ID_CHARS + 1..];
        } else {
            rest = after;
        }
    }
    found
}

/// Characters that mean something in Markdown link text.
fn escape(name: &str) -> String {
    let mut escaped = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(
            c,
            '\\' | '[' | ']' | '(' | ')' | '*' | '_' | '`' | '<' | '>' | '!' | '#'
        ) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The text with each mention of a known person as a Markdown link to their profile; a mention
/// of someone unknown stays as written.
pub fn to_markdown(body: &str, names: &HashMap<Uuid, String>) -> String {
    rewrite(body, names, |id, name| {
        format!("[@{}](/people/{id})", escape(name))
    })
}

/// The text with each mention of a known person as "@Name", for search.
pub fn to_plain(body: &str, names: &HashMap<Uuid, String>) -> String {
    rewrite(body, names, |_, name| format!("@{name}"))
}

fn rewrite(
    body: &str,
    names: &HashMap<Uuid, String>,
    shown: impl Fn(Uuid, &str) -> String,
) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("<@") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let mention = after
            .get(..ID_CHARS)
            .filter(|_| after[ID_CHARS..].starts_with('>'))
            .and_then(|candidate| candidate.parse::<Uuid>().ok());
        match mention.and_then(|id| names.get(&id).map(|name| (id, name))) {
            Some((id, name)) => {
                out.push_str(&shown(id, name));
                rest = &after[ID_CHARS + 1..];
            }
            None => {
                out.push_str("<@");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_found_once_and_become_profile_links() {
        let anne = Uuid::now_v7();
        let piet = Uuid::now_v7();
        let body = format!("Hoi <@{anne}> en <@{piet}>, <@{anne}>! <@niet-een-id> <@");
        assert_eq!(parse(&body), [anne, piet]);
        let names = HashMap::from([(anne, "Anne [de] Vries".to_owned())]);
        let markdown = to_markdown(&body, &names);
        assert!(
            markdown.starts_with(&format!(
                "Hoi [@Anne \\[de\\] Vries](/people/{anne}) en <@{piet}>"
            )),
            "{markdown}"
        );
        let html = crate::markdown::render(&markdown);
        assert!(
            html.contains(&format!("<a href=\"/people/{anne}\"")),
            "{html}"
        );
        assert!(html.contains("@Anne [de] Vries</a>"), "{html}");
        assert!(
            to_plain(&body, &names).starts_with(&format!("Hoi @Anne [de] Vries en <@{piet}>")),
            "plain"
        );
    }
}
