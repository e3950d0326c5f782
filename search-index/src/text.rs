//! Text folding shared by indexing and querying: case, accents (é→e, ü→u, ß→ss), IJ≈Y, and the
//! particles of Dutch surnames ("van", "de", "van der", "in 't").

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// Surname particles (tussenvoegsels) and their foreign cousins, folded.
const PARTICLES: &[&str] = &[
    "van", "de", "der", "den", "het", "t", "te", "ter", "ten", "in", "op", "onder", "aan", "bij",
    "uit", "voor", "over", "s", "d", "la", "le", "les", "du", "des", "von", "zu", "vom", "zum",
    "da", "di", "do", "dos", "das", "del", "della", "el", "al", "y",
];

/// Letters that do not decompose into a base letter and a combining mark.
fn fold_special(c: char, out: &mut String) {
    match c {
        'ß' => out.push_str("ss"),
        'æ' => out.push_str("ae"),
        'œ' => out.push_str("oe"),
        'ø' => out.push('o'),
        'ł' => out.push('l'),
        'đ' | 'ð' => out.push('d'),
        'þ' => out.push_str("th"),
        'ı' => out.push('i'),
        'ĳ' => out.push_str("ij"),
        other => out.push(other),
    }
}

/// Lower-cases, strips accents and splits on anything that is not a letter or digit, then folds
/// "ij" to "y" so Dijkstra and Dykstra meet.
pub fn tokens(text: &str) -> Vec<String> {
    let mut folded = String::with_capacity(text.len());
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        for lower in c.to_lowercase() {
            fold_special(lower, &mut folded);
        }
    }
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|token| !token.is_empty())
        .map(|token| token.replace("ij", "y"))
        .collect()
}

pub fn is_particle(token: &str) -> bool {
    PARTICLES.contains(&token)
}

/// The tokens under which a surname is found: every part, the surname without its particles,
/// and everything run together ("van Rijnsoever" → van, rijnsoever, vanrijnsoever).
pub fn surname_tokens(family_name: &str) -> Vec<String> {
    let parts = tokens(family_name);
    let mut all = parts.clone();
    if parts.len() > 1 {
        all.push(parts.concat());
        let core: Vec<&String> = parts.iter().skip_while(|part| is_particle(part)).collect();
        if core.len() > 1 {
            all.push(core.iter().map(|part| part.as_str()).collect::<String>());
        }
    }
    all
}

/// The surname without leading particles, for sorting the Dutch way ("van Rijnsoever" under R).
pub fn surname_sort_form(family_name: &str) -> String {
    let parts = tokens(family_name);
    let core: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .skip_while(|part| is_particle(part))
        .collect();
    if core.is_empty() {
        parts.join(" ")
    } else {
        core.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_special_letters() {
        assert_eq!(tokens("Zoë Müller-Weiß"), ["zoe", "muller", "weiss"]);
        assert_eq!(tokens("François Ørsted"), ["francois", "orsted"]);
    }

    #[test]
    fn ij_and_y_fold_together() {
        assert_eq!(tokens("Dijkstra"), tokens("Dykstra"));
        assert_eq!(tokens("IJsselmeer"), tokens("Ĳsselmeer"));
    }

    #[test]
    fn surnames_are_found_with_and_without_particles() {
        assert_eq!(
            surname_tokens("van Rijnsoever"),
            ["van", "rynsoever", "vanrynsoever"]
        );
        assert_eq!(surname_tokens("in 't Veld"), ["in", "t", "veld", "intveld"]);
        assert_eq!(
            surname_tokens("van der Berg"),
            ["van", "der", "berg", "vanderberg"]
        );
        assert_eq!(surname_tokens("Jansen"), ["jansen"]);
    }

    #[test]
    fn sorting_ignores_particles() {
        assert_eq!(surname_sort_form("van Rijnsoever"), "rynsoever");
        assert_eq!(surname_sort_form("de Vries"), "vries");
        assert_eq!(surname_sort_form("Van Dijk-de Boer"), "dyk de boer");
    }
}
