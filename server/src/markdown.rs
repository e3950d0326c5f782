//! User-written Markdown rendered to sanitised HTML (no scripts, no styles, safe links).

use std::sync::{Arc, LazyLock};

use pulldown_cmark::{Options, Parser, html};

/// One sanitiser for the process: building its tag and attribute tables costs more than
/// cleaning a short post.
static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect());
    builder
});

/// Recently rendered Markdown by its text: feeds show the same posts to many people, and the
/// HTML is a function of the text alone. Bounded by the bytes it holds.
static RENDERED: LazyLock<quick_cache::sync::Cache<String, Arc<str>, TextWeight>> =
    LazyLock::new(|| {
        quick_cache::sync::Cache::with_weighter(RENDERED_ITEMS, RENDERED_BYTES, TextWeight)
    });
const RENDERED_ITEMS: usize = 20_000;
const RENDERED_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Clone)]
struct TextWeight;

impl quick_cache::Weighter<String, Arc<str>> for TextWeight {
    fn weight(&self, markdown: &String, html: &Arc<str>) -> u64 {
        u64::try_from(markdown.len() + html.len()).unwrap_or(u64::MAX)
    }
}

/// Renders Markdown and strips everything unsafe; raw HTML in the input is escaped by the
/// sanitiser, links get `rel="noopener noreferrer"`.
pub fn render(markdown: &str) -> String {
    if let Some(html) = RENDERED.get(markdown) {
        return html.to_string();
    }
    let html = render_uncached(markdown);
    RENDERED.insert(markdown.to_owned(), Arc::from(html.as_str()));
    html
}

fn render_uncached(markdown: &str) -> String {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES,
    );
    let mut unsafe_html = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut unsafe_html, parser);
    SANITISER.clean(&unsafe_html).to_string()
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
    fn a_second_rendering_is_the_first() {
        let text = "Zie **dit** <script>x</script> [link](https://plein.example)";
        assert_eq!(render(text), render(text));
        assert_eq!(render(text), super::render_uncached(text));
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
