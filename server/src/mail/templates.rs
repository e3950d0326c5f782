//! The mails Plein sends, in Dutch and English: plain text and a simple HTML part saying the
//! same. Names are text: control characters are removed and HTML is escaped.

use super::Outgoing;

/// The language of a person's mails: the one they chose for the screens, else English.
pub fn language(ui_language: Option<&str>) -> Language {
    match ui_language {
        Some("nl") => Language::Dutch,
        _ => Language::English,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Dutch,
    English,
}

/// A name or other text as it may appear in a subject or a line: no line breaks or other
/// control characters, at most 200 characters.
pub fn plain(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Text for an HTML element or a quoted attribute value.
fn html_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    // Writing to a String cannot fail.
    let _ = pulldown_cmark_escape::escape_html(&mut escaped, text);
    escaped
}

/// Where the mail came from: the intranet's address.
pub struct Site<'a> {
    pub public_url: &'a str,
}

struct Parts<'a> {
    subject: String,
    greeting: String,
    lines: Vec<String>,
    button: &'a str,
    link: &'a str,
    after: String,
}

fn render(to: &str, site: &Site<'_>, parts: Parts<'_>) -> Outgoing {
    let mut text = format!("{}\n\n", parts.greeting);
    for line in &parts.lines {
        text.push_str(line);
        text.push_str("\n\n");
    }
    text.push_str(parts.link);
    text.push_str("\n\n");
    text.push_str(&parts.after);
    text.push_str("\n\n-- \nPlein · ");
    text.push_str(site.public_url);
    text.push('\n');
    let mut html = String::from(
        "<!doctype html><html><body style=\"font-family: sans-serif; line-height: 1.5; color: #1f2328;\">",
    );
    html.push_str(&format!("<p>{}</p>", html_text(&parts.greeting)));
    for line in &parts.lines {
        html.push_str(&format!("<p>{}</p>", html_text(line)));
    }
    html.push_str(&format!(
        "<p><a href=\"{}\" style=\"display: inline-block; padding: 10px 16px; background: #0b5cad; color: #ffffff; text-decoration: none; border-radius: 6px;\">{}</a></p>",
        html_text(parts.link),
        html_text(parts.button)
    ));
    html.push_str(&format!(
        "<p style=\"font-size: 90%;\">{}<br>{}</p>",
        html_text(&parts.after),
        html_text(parts.link)
    ));
    html.push_str(&format!(
        "<p style=\"color: #59636e; font-size: 85%;\">Plein · <a href=\"{0}\">{0}</a></p></body></html>",
        html_text(site.public_url)
    ));
    Outgoing {
        to: to.to_owned(),
        subject: parts.subject,
        text,
        html,
    }
}

/// "Forgot password": a link valid for an hour.
pub fn password_reset(
    language: Language,
    to: &str,
    name: &str,
    link: &str,
    site: &Site<'_>,
) -> Outgoing {
    let name = plain(name);
    let parts = match language {
        Language::Dutch => Parts {
            subject: "Je wachtwoord voor Plein opnieuw instellen".to_owned(),
            greeting: format!("Hallo {name},"),
            lines: vec![
                "Iemand (hopelijk jij) heeft gevraagd om je wachtwoord voor Plein opnieuw in te stellen. Met de knop hieronder kies je een nieuw wachtwoord; de link werkt één keer en een uur lang.".to_owned(),
            ],
            button: "Nieuw wachtwoord kiezen",
            link,
            after: "Heb jij dit niet gevraagd? Dan kun je deze mail negeren: je wachtwoord blijft wat het was.".to_owned(),
        },
        Language::English => Parts {
            subject: "Reset your Plein password".to_owned(),
            greeting: format!("Hello {name},"),
            lines: vec![
                "Someone (hopefully you) asked to reset your Plein password. The button below lets you choose a new one; the link works once, for an hour.".to_owned(),
            ],
            button: "Choose a new password",
            link,
            after: "Didn't ask for this? Then ignore this mail: your password stays as it was.".to_owned(),
        },
    };
    render(to, site, parts)
}

/// An invitation: a link valid for seven days to choose a password.
pub fn invitation(
    language: Language,
    to: &str,
    name: &str,
    inviter: &str,
    link: &str,
    site: &Site<'_>,
) -> Outgoing {
    let name = plain(name);
    let inviter = plain(inviter);
    let parts = match language {
        Language::Dutch => Parts {
            subject: format!("{inviter} nodigt je uit voor Plein"),
            greeting: format!("Hallo {name},"),
            lines: vec![
                format!("{inviter} nodigt je uit voor Plein, het intranet van je collega's: vind elkaar, praat mee in groepen en chat."),
                "Met de knop hieronder kies je een wachtwoord en ben je binnen. De link werkt één keer en zeven dagen lang.".to_owned(),
            ],
            button: "Wachtwoord kiezen",
            link,
            after: "Verlopen? Vraag een nieuwe uitnodiging, of gebruik \"Wachtwoord vergeten\" op de inlogpagina.".to_owned(),
        },
        Language::English => Parts {
            subject: format!("{inviter} invites you to Plein"),
            greeting: format!("Hello {name},"),
            lines: vec![
                format!("{inviter} invites you to Plein, your colleagues' intranet: find each other, join the conversation in groups, and chat."),
                "The button below lets you choose a password and you're in. The link works once, for seven days.".to_owned(),
            ],
            button: "Choose a password",
            link,
            after: "Expired? Ask for a new invitation, or use \"Forgot password\" on the sign-in page.".to_owned(),
        },
    };
    render(to, site, parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_line_breaks_and_html_is_escaped() {
        let site = Site {
            public_url: "https://plein.example.nl",
        };
        let mail = invitation(
            Language::English,
            "an@example.nl",
            "An <b>\r\nBcc: evil@example.com",
            "Mallory\r\nBcc: evil@example.com",
            "https://plein.example.nl/welcome?token=abc",
            &site,
        );
        assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'));
        assert!(mail.html.contains("An &lt;b&gt;"), "{}", mail.html);
        assert!(!mail.html.contains("<b>"));
        assert!(
            mail.text
                .contains("https://plein.example.nl/welcome?token=abc")
        );
    }

    #[test]
    fn dutch_and_english_say_the_same_in_their_own_words() {
        let site = Site {
            public_url: "https://plein.example.nl",
        };
        let dutch = password_reset(
            Language::Dutch,
            "a@b.nl",
            "An",
            "https://x/reset?token=t",
            &site,
        );
        let english = password_reset(
            Language::English,
            "a@b.nl",
            "An",
            "https://x/reset?token=t",
            &site,
        );
        assert!(dutch.subject.contains("wachtwoord"));
        assert!(english.subject.contains("password"));
        assert!(dutch.html.contains("https://x/reset?token=t"));
        assert_eq!(language(Some("nl")), Language::Dutch);
        assert_eq!(language(None), Language::English);
    }
}
