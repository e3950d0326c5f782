//! User-written Markdown rendered to sanitised HTML (no scripts, no styles, safe links).

use pulldown_cmark::{Options, Parser, html};

/// Renders Markdown and strips everything unsafe; raw HTML in the input is escaped by the
/// sanitiser, links get `rel="noopener noreferrer"`.
pub fn render(markdown: &str) -> String {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES,
    );
    let mut unsafe_html = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut unsafe_html, parser);
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_becomes_html() {
        assert_eq!(
            render("**Hoi** _allemaal_"),
            "<p><strong>Hoi</strong> <em>allemaal</em></p>\n"
        );
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let html = render(
            "<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n[klik](javascript:alert(1))",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(
            html.contains("klik") && !html.contains("javascript:"),
            "{html}"
        );
    }

    #[test]
    fn links_are_marked_noopener() {
        let html = render("[Plein](https://plein.example)");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
    }
}
