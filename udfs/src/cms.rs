//! Course type and id from an imooc URL: `http://www.imooc.com/<type>/<id>...`.
//!
//! The rules reproduce the original Spark job (verified against all rows of
//! `seed_cleaned_20161110.csv`), which split the path with Java's `String.split("/")`. That
//! drops trailing empty segments, so `article/` has one segment and no type.

const PREFIXES: [&str; 2] = ["http://www.imooc.com/", "https://www.imooc.com/"];

/// The first two path segments, present only when the URL has a type (see [`cms_type`]).
fn segments(url: &str) -> Option<(&str, &str)> {
    let rest = PREFIXES.iter().find_map(|p| url.strip_prefix(p))?;
    // Java's split ignores trailing empty segments: `video/` and `video//` are one segment.
    let rest = rest.trim_end_matches('/');
    let (first, after) = rest.split_once('/')?;
    let second = after.split_once('/').map_or(after, |(s, _)| s);
    Some((first, second))
}

/// `video`, `code`, `article`, ...; `""` for other hosts or a URL with a single segment.
pub fn cms_type(url: &str) -> &str {
    match segments(url) {
        Some((first, _)) => cms_type_of(first),
        None => "",
    }
}

/// The numeric id after the type; 0 when there is none, it is not numeric, or it overflows.
///
/// video/code/learn need an all-digit segment (`video/3069?t=1` is 0, as the old job did);
/// article takes the leading digits (`article/4779?from=itblog` is 4779).
pub fn cms_id(url: &str) -> i64 {
    let Some((first, second)) = segments(url) else {
        return 0;
    };
    let digits = match cms_type_of(first) {
        "video" | "code" | "learn" if is_all_digits(second) => second,
        "article" => leading_digits(second),
        _ => return 0,
    };
    digits.parse::<i64>().unwrap_or(0)
}

/// The type segment without a query or fragment: `search?x=1/y` → `search`.
fn cms_type_of(first: &str) -> &str {
    first.split(['?', '#']).next().unwrap_or("")
}

fn is_all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn leading_digits(s: &str) -> &str {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    #[test]
    fn documented_examples() {
        let cases = [
            ("http://www.imooc.com/video/5915/0", "video", 5915),
            ("http://www.imooc.com/video/3069?t=1478", "video", 0),
            ("http://www.imooc.com/learn/85/?src=x", "learn", 85),
            ("http://www.imooc.com/code/1852", "code", 1852),
            ("https://www.imooc.com/code/1852", "code", 1852),
            (
                "http://www.imooc.com/article/4779?from=itblog",
                "article",
                4779,
            ),
            ("http://www.imooc.com/article/publish", "article", 0),
            ("http://www.imooc.com/article", "", 0),
            ("http://www.imooc.com/article/", "", 0),
            ("http://www.imooc.com/", "", 0),
            ("http://www.imooc.com/search/?words=x", "search", 0),
            ("http://www.imooc.com/search?q=1/2", "search", 0),
            ("http://www.imooc.com/qa/96/t/1?page=1", "qa", 0),
            ("http://www.imooc.com/video//5", "video", 0),
            (
                "http://www.imooc.com/video/99999999999999999999",
                "video",
                0,
            ),
            ("http://coding.imooc.com/lesson/15.html", "", 0),
            ("http://m.imooc.com/video/2168", "", 0),
            ("http://www.baidu.com", "", 0),
            ("", "", 0),
            ("-", "", 0),
            ("http://www.imooc.com/vidéo/1", "vidéo", 0),
        ];
        for (url, ty, id) in cases {
            assert_eq!((cms_type(url), cms_id(url)), (ty, id), "{url}");
        }
    }

    /// Every row of the seed output of the original job: url,cmsType,cmsId,traffic,ip,city,time.
    #[test]
    fn matches_every_seed_row() {
        let path = testdata::imooc_dir().join("seed_cleaned_20161110.csv");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut rows = 0;
        for (n, line) in text.lines().enumerate() {
            let fields = split_csv_line(line);
            assert_eq!(fields.len(), 7, "line {}: {line}", n + 1);
            let (url, ty, id) = (&fields[0], &fields[1], &fields[2]);
            let id: i64 = id.parse().unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
            assert_eq!(cms_type(url), ty, "line {}: {url}", n + 1);
            assert_eq!(cms_id(url), id, "line {}: {url}", n + 1);
            rows += 1;
        }
        assert_eq!(rows, 3_341);
    }

    /// Minimal RFC 4180 field splitting; URLs with commas are quoted in the seed.
    fn split_csv_line(line: &str) -> Vec<String> {
        let mut fields = vec![String::new()];
        let mut in_quotes = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, in_quotes) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    fields.last_mut().expect("non-empty").push('"');
                }
                ('"', _) => in_quotes = !in_quotes,
                (',', false) => fields.push(String::new()),
                _ => fields.last_mut().expect("non-empty").push(c),
            }
        }
        fields
    }
}
