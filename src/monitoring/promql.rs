//! The metric names a PromQL expression reads, so that every rule and panel can be checked against the
//! metrics that exist. A small lexer, not a parser (promtool parses in the tests): it skips strings, label
//! matchers `{…}`, ranges `[…]`, the label lists of `by`/`without`/`on`/`ignoring`/`group_left`/
//! `group_right`, function names (an identifier before `(`), keywords and numbers.

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
    "atan2",
    // Aggregation operators: `sum by (…) (…)` puts a modifier, not `(`, after the name.
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
];
const LABEL_LIST_KEYWORDS: &[&str] = &["by", "without", "on", "ignoring", "group_left", "group_right"];

/// Metric names in `expr`, in order of first use, without repeats.
pub fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names: Vec<String> = Vec::new();
    let mut i = 0;
    // After a label-list keyword, the next `( … )` holds label names, not metrics.
    let mut label_list_next = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(&chars, i);
        } else if c == '{' {
            i = skip_to(&chars, i, '}');
        } else if c == '[' {
            i = skip_to(&chars, i, ']');
        } else if c == '(' && label_list_next {
            i = skip_to(&chars, i, ')');
            label_list_next = false;
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            // A number, possibly in exponent form (1e7) or a duration after `offset` (5m).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            let lower = word.to_ascii_lowercase();
            if LABEL_LIST_KEYWORDS.contains(&lower.as_str()) {
                label_list_next = true;
            } else if KEYWORDS.contains(&lower.as_str()) || next == Some(&'(') {
                // A keyword or a function (or aggregation) name.
            } else if !names.contains(&word) {
                names.push(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() && chars[i] != quote {
        if chars[i] == '\\' && quote != '`' {
            i += 1;
        }
        i += 1;
    }
    i + 1
}

/// Skips to just past `close`, stepping over strings inside (a label value may hold `}`).
fn skip_to(chars: &[char], start: usize, close: char) -> usize {
    let mut i = start + 1;
    while i < chars.len() && chars[i] != close {
        if chars[i] == '"' || chars[i] == '\'' || chars[i] == '`' {
            i = skip_string(chars, i);
        } else {
            i += 1;
        }
    }
    i + 1
}

#[cfg(test)]
mod tests {
    use super::metric_names;

    #[test]
    fn finds_metrics_and_skips_functions_labels_ranges_strings_and_numbers() {
        let expr = r#"sum by (instance, datname) (rate(pg_stat_database_blks_hit{datname!~"template.*", x="}"}[10m]))
            / on (instance) group_left (job) max without (server) (pg_settings_max_connections) * 100 > 1e7
            and glctl:pg_connections:ratio offset 5m unless absent(pg_up) > bool 0.5"#;
        assert_eq!(
            metric_names(expr),
            ["pg_stat_database_blks_hit", "pg_settings_max_connections", "glctl:pg_connections:ratio", "pg_up"]
        );
    }

    #[test]
    fn grafana_variables_in_ranges_and_matchers_are_not_metrics() {
        assert_eq!(
            metric_names(r#"rate(pg_stat_database_xact_commit{instance=~"$instance"}[$__rate_interval])"#),
            ["pg_stat_database_xact_commit"]
        );
    }
}
