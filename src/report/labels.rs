//! Labels a reader can tell apart: the shortest unique form of each value
//! of an axis, for legends, panel titles and table cells, with the full
//! values listed once in a footnote.
//!
//! Values that are paths (`../data/a_rather_long_folder/set1.csv`) lose the
//! folders they share, at a `/` boundary, so they read `set1.csv`,
//! `set2.csv`; a lone path keeps its file name. A real number with more
//! than [`DIGITS`] significant digits (a log grid's `0.0131607401295`) reads
//! `0.0132`, with as many more digits as two values need to differ. Other
//! values are kept as they are. A label longer than [`MAX_CHARS`] keeps its end (where paths
//! and names differ) behind a leading `…` (a list loses whole leading
//! elements: `[…, proline, color]`), unless that would make two labels
//! equal. Labels are always as many and as distinct as the values.

/// Longest label before it is shortened further.
pub const MAX_CHARS: usize = 28;

/// Significant digits a real number is shown to, at least.
pub const DIGITS: usize = 3;

/// The label of each of `values` (distinct values in, distinct labels out).
pub fn short_labels(values: &[String]) -> Vec<String> {
    let paths = values.iter().any(|v| v.contains('/') || v.contains('\\'));
    let mut labels: Vec<String> = if paths {
        let cut = common_folder_prefix(values);
        values.iter().map(|v| v[cut..].to_string()).collect()
    } else {
        rounded_numbers(values)
    };
    if !distinct(&labels) {
        labels = values.to_vec();
    }
    let tails: Vec<String> = labels.iter().map(|l| keep_end(l, MAX_CHARS)).collect();
    if distinct(&tails) { tails } else { labels }
}

/// Bytes of the longest prefix every value shares that ends with a path
/// separator; for a single value, its folders.
fn common_folder_prefix(values: &[String]) -> usize {
    let Some(first) = values.first() else { return 0 };
    let mut common = first.len();
    for v in &values[1..] {
        common = common.min(first.bytes().zip(v.bytes()).take_while(|(a, b)| a == b).count());
    }
    // Back to the last separator inside the shared part (char boundaries
    // are safe: separators are ASCII).
    first[..common].rfind(['/', '\\']).map_or(0, |i| i + 1)
}

/// `values`, each real number with more than [`DIGITS`] significant digits
/// rounded to the fewest digits from [`DIGITS`] on that keep every label
/// distinct, written as summary.csv writes reals (`0.0132`, `30.0`, `1e-7`).
/// Integers, shorter reals and other values stay as they are.
fn rounded_numbers(values: &[String]) -> Vec<String> {
    for digits in DIGITS..=17 {
        let labels: Vec<String> =
            values.iter().map(|v| rounded(v, digits).unwrap_or_else(|| v.clone())).collect();
        if distinct(&labels) {
            return labels;
        }
    }
    values.to_vec()
}

/// `value` to `digits` significant digits, when it is a real number that
/// has more.
fn rounded(value: &str, digits: usize) -> Option<String> {
    if !value.contains(['.', 'e']) {
        return None; // an integer (exact, and part of the job's name), or a word
    }
    let x: f64 = value.parse().ok().filter(|x: &f64| x.is_finite())?;
    let r: f64 = format!("{x:.*e}", digits - 1).parse().ok()?;
    (r != x).then(|| format!("{r:?}"))
}

fn distinct(labels: &[String]) -> bool {
    let mut seen: Vec<&String> = labels.iter().collect();
    seen.sort();
    seen.windows(2).all(|w| w[0] != w[1]) && labels.iter().all(|l| !l.is_empty())
}

/// `text` cut to its last `max` characters behind `…`; a list
/// (`[alcohol, malic_acid, …]`) is cut between whole elements instead
/// (`[…, proline, color]`, keeping at least its last element).
fn keep_end(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    if let Some(items) = crate::spec::list_elements(text).filter(|items| items.len() > 1) {
        let mut kept = items.len() - 1;
        let width = |from: usize| {
            "[…]".chars().count() + items[from..].iter().map(|i| i.chars().count() + 2).sum::<usize>()
        };
        while kept > 1 && width(kept - 1) <= max {
            kept -= 1;
        }
        return format!("[…, {}]", items[kept..].join(", "));
    }
    let tail: String = text.chars().skip(n - (max - 1)).collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn shared_folders_are_dropped_at_a_separator() {
        let v = strings(&["../data/a_rather_long_folder/set1.csv", "../data/a_rather_long_folder/set2.csv"]);
        assert_eq!(short_labels(&v), strings(&["set1.csv", "set2.csv"]));
        let v = strings(&["../data/x/a.csv", "../data/y/a.csv"]);
        assert_eq!(short_labels(&v), strings(&["x/a.csv", "y/a.csv"]));
        assert_eq!(short_labels(&strings(&["../../data/only.csv"])), strings(&["only.csv"]));
    }

    #[test]
    fn plain_values_stay_as_they_are() {
        let v = strings(&["xor", "xor-hard", "0.1", "[2, 2]"]);
        assert_eq!(short_labels(&v), v);
    }

    /// A log grid's values read to three significant digits, as the
    /// report's other numbers do; more only where two would look the same.
    #[test]
    fn real_numbers_read_to_three_significant_digits() {
        let v = strings(&["0.001", "0.0131607401295", "0.173205080757", "2.27950705695", "30.0"]);
        assert_eq!(short_labels(&v), strings(&["0.001", "0.0132", "0.173", "2.28", "30.0"]));
        let v = strings(&["0.1234", "0.1235", "1e-7", "1.23456e-7", "12345.678"]);
        assert_eq!(short_labels(&v), strings(&["0.1234", "0.1235", "1e-7", "1.235e-7", "12350.0"]));
        // Rounding that would make two labels one keeps as many digits as needed.
        let v = strings(&["0.1", "0.100000001"]);
        assert_eq!(short_labels(&v), v);
        // Integers and lists stay whole.
        let v = strings(&["12345", "[0.12345, 1]", "xor-hard", "1e3x"]);
        assert_eq!(short_labels(&v), v);
    }

    #[test]
    fn long_labels_keep_their_distinct_end() {
        let long = "a_very_long_data_set_name_that_goes_on_";
        let v = vec![format!("{long}one"), format!("{long}two")];
        let l = short_labels(&v);
        assert!(l.iter().all(|x| x.chars().count() <= MAX_CHARS && x.starts_with('…')), "{l:?}");
        assert_ne!(l[0], l[1]);
        // A list is cut between whole elements, never inside a name.
        let wine = "[alcohol, malic_acid, ash, magnesium, flavanoids, pH, proline, color]";
        let l = short_labels(&strings(&[wine]));
        assert_eq!(l, strings(&["[…, pH, proline, color]"]));
        let quoted = "[alpha_beta_gamma, \"a, b\", c]";
        assert_eq!(keep_end(quoted, 14), "[…, \"a, b\", c]");
        assert_eq!(
            keep_end("[a_very_long_first_name, a_very_long_last_name]", 10),
            "[…, a_very_long_last_name]"
        );
        // Equal ends: the full values are kept rather than two equal labels.
        let v = vec![format!("one_{long}"), format!("two_{long}")];
        assert_eq!(short_labels(&v), v);
    }
}
