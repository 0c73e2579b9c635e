//! The recipes in `deploy/` cannot rot silently: every `integ` command line in them (the
//! Kubernetes manifests, the Nomad jobs, deploy/README.md, and the README's "Running many
//! accounts") must parse with this integ, every environment variable they set must be one the
//! README's table documents, and the files must hold together (the kustomization names files
//! that exist, every image is the one the kustomization sets, HCL brackets balance, YAML parses).
//!
//! A command line is checked by running `integ ARGS... --help`: clap reads every argument
//! before it acts on `--help`, so an unknown subcommand or flag, or a bad value, fails (exit 2)
//! while a good line prints help and runs nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::INTEG;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Where a command line or a variable was found, for the failure message.
type Found = BTreeMap<String, BTreeSet<String>>;

fn deploy_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&Path::new(ROOT).join("deploy"), &mut files);
    files.sort();
    files
}

fn rel(path: &Path) -> String {
    path.strip_prefix(ROOT).unwrap_or(path).display().to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The line without a `#` comment (a `#` at the start, or after a space, outside quotes).
fn code(line: &str) -> &str {
    let (mut single, mut double, mut prev) = (false, false, ' ');
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single && prev != '\\' => double = !double,
            '#' if !single && !double && prev.is_whitespace() => return &line[..i],
            _ => {}
        }
        prev = c;
    }
    line
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// An environment variable a line of a manifest, job file or Dockerfile sets: `- name: X`
/// (Kubernetes env), `X: value` (a ConfigMap's data), `X = value` (a Nomad env block) or
/// `X=value` (a Nomad env template, a Dockerfile ENV).
fn env_name(line: &str) -> Option<&str> {
    let t = code(line).trim();
    let t = t.strip_prefix("ENV ").unwrap_or(t).trim_start();
    if let Some(name) = t.strip_prefix("- name:").map(str::trim) {
        return is_env_name(name).then_some(name);
    }
    let end = t.find([':', '=', ' '])?;
    let (name, rest) = t.split_at(end);
    let rest = rest.trim_start();
    (is_env_name(name) && (rest.starts_with('=') || rest.starts_with(": ") || rest == ":")).then_some(name)
}

/// Shell words of a line: quotes removed, `$VAR` and `${VAR}` replaced by 1 (a loop's shard
/// number, a path: any value that parses stands in).
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut cur, mut any) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    let (mut single, mut double) = (false, false);
    while let Some(c) = chars.next() {
        match c {
            '\'' if !double => (single, any) = (!single, true),
            '"' if !single => (double, any) = (!double, true),
            '\\' if !single => cur.extend(chars.next()),
            '$' if !single && chars.peek().is_some_and(|n| *n == '{' || n.is_ascii_alphabetic()) => {
                let braced = chars.next_if_eq(&'{').is_some();
                while chars.next_if(|n| n.is_ascii_alphanumeric() || *n == '_').is_some() {}
                if braced {
                    chars.next_if_eq(&'}');
                }
                cur.push('1');
            }
            c if c.is_whitespace() && !single && !double => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The argument lists of every `integ` command in a shell line (after the start, `--`, a
/// separator, or `VAR=value` assignments), and the variables assigned in front of them.
fn integ_commands(line: &str) -> (Vec<Vec<String>>, Vec<String>) {
    let words = shell_words(line);
    let (mut cmds, mut vars) = (Vec::new(), Vec::new());
    let mut start = true;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        if start && let Some((name, _)) = w.split_once('=').filter(|(n, _)| is_env_name(n)) {
            vars.push(name.to_string());
        } else if start && w == "integ" {
            let args: Vec<String> = words[i + 1..]
                .iter()
                .take_while(|a| !matches!(a.as_str(), "|" | "&" | "&&" | "||" | ";" | ">" | "2>&1" | "done"))
                .map(|a| a.trim_end_matches(';').to_string())
                .collect();
            i += args.len();
            cmds.push(args);
        } else {
            start = matches!(w.as_str(), "--" | "|" | "&" | "&&" | "||" | "do" | "then") || w.ends_with(';');
        }
        i += 1;
    }
    (cmds, vars)
}

/// The lines of the fenced code blocks of a Markdown text, continuation lines joined.
fn code_block_lines(md: &str) -> Vec<String> {
    let (mut out, mut inside, mut pending) = (Vec::new(), false, String::new());
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
            continue;
        }
        if !inside {
            continue;
        }
        let line = code(line);
        if let Some(head) = line.trim_end().strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
        } else {
            out.push(std::mem::take(&mut pending) + line);
        }
    }
    out
}

/// The README's section that starts with `heading`, up to the next section of its level.
fn readme_section(readme: &str, heading: &str) -> String {
    let start = readme.find(&format!("\n{heading}\n")).unwrap_or_else(|| panic!("README.md has no {heading:?}"));
    let rest = &readme[start + 1..];
    let end = rest[heading.len()..].find("\n## ").map_or(rest.len(), |e| e + heading.len());
    rest[..end].to_string()
}

/// The variables in the first column of README's "Environment variables" table.
fn documented_vars(readme: &str) -> BTreeSet<String> {
    let table = readme_section(readme, "### Environment variables");
    let mut vars = BTreeSet::new();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let first = line.split('|').nth(1).unwrap_or("");
        vars.extend(first.split('`').skip(1).step_by(2).filter(|v| is_env_name(v)).map(String::from));
    }
    vars
}

/// A one-line JSON array after `key:` (YAML) or `key =` (HCL), as the recipes write `args`
/// and `command`, so that this test can read them without a YAML or HCL parser.
fn array_after(line: &str, key: &str) -> Option<Result<Vec<String>, String>> {
    let t = code(line).trim();
    let t = t.strip_prefix("- ").unwrap_or(t);
    let rest = t.strip_prefix(key)?.trim_start();
    let rest = rest.strip_prefix(':').or_else(|| rest.strip_prefix('='))?.trim();
    Some(serde_json::from_str(rest).map_err(|e| format!("`{key}` is not a one-line JSON array ({e}): {t}")))
}

/// `${var.NAME}` in an HCL file replaced by that variable's default.
fn hcl_defaults(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut current = None;
    for line in text.lines().map(|l| code(l).trim()) {
        if let Some(name) = line.strip_prefix("variable \"").and_then(|r| r.split('"').next()) {
            current = Some(name.to_string());
        } else if let (Some(name), Some(value)) = (&current, line.strip_prefix("default")) {
            let value = value.trim_start().trim_start_matches('=').trim().trim_matches('"');
            out.insert(name.clone(), value.to_string());
            current = None;
        }
    }
    out
}

/// Brackets balance outside strings and heredocs.
fn hcl_balanced(text: &str) -> Result<(), String> {
    let mut stack = Vec::new();
    let mut heredoc: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        if let Some(tag) = &heredoc {
            if line.trim() == tag {
                heredoc = None;
            }
            continue;
        }
        let line = code(line);
        let mut in_str = false;
        let mut prev = ' ';
        for c in line.chars() {
            match c {
                '"' if prev != '\\' => in_str = !in_str,
                '{' | '[' | '(' if !in_str => stack.push((c, n + 1)),
                '}' | ']' | ')' if !in_str => {
                    let open = stack.pop().map(|(o, _)| o);
                    let want = match c {
                        '}' => '{',
                        ']' => '[',
                        _ => '(',
                    };
                    if open != Some(want) {
                        return Err(format!("line {}: unexpected {c}", n + 1));
                    }
                }
                _ => {}
            }
            prev = c;
        }
        if in_str {
            return Err(format!("line {}: unterminated string", n + 1));
        }
        if let Some(tag) = line.split("<<-").nth(1).or_else(|| line.split("<<").nth(1)) {
            heredoc = Some(tag.trim().to_string());
        }
    }
    match (stack.last(), heredoc) {
        (Some((c, n)), _) => Err(format!("line {n}: {c} never closed")),
        (_, Some(tag)) => Err(format!("heredoc {tag} never closed")),
        _ => Ok(()),
    }
}

/// Run `integ ARGS --help` for each command line; the ones that do not parse, with why.
fn unparsed(commands: &Found) -> Vec<String> {
    let home = tempfile::tempdir().unwrap();
    let mut bad = Vec::new();
    for (cmd, wheres) in commands {
        let args: Vec<String> = serde_json::from_str(cmd).unwrap();
        let out = Command::new(INTEG)
            .args(&args)
            .arg("--help")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("INTEG_HOME", home.path().join("home"))
            .stdin(Stdio::null())
            .output()
            .expect("run integ");
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            bad.push(format!(
                "`integ {}` ({}): {first}",
                args.join(" "),
                wheres.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    bad
}

#[test]
fn deploy_recipes_use_only_commands_and_variables_that_exist() {
    let readme = read(&Path::new(ROOT).join("README.md"));
    let documented = documented_vars(&readme);
    assert!(documented.contains("INTEG_HOME"), "the README's environment table was not found: {documented:?}");
    let (mut commands, mut vars, mut problems) = (Found::new(), Found::new(), Vec::new());
    let add = |map: &mut Found, key: String, at: String| {
        map.entry(key).or_default().insert(at);
    };

    let files = deploy_files();
    for path in &files {
        let name = rel(path);
        let text = read(path);
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let is_dockerfile = path.file_name().is_some_and(|f| f == "Dockerfile");
        if ext == "md" {
            for line in code_block_lines(&text) {
                let (cmds, vs) = integ_commands(&line);
                cmds.into_iter().for_each(|c| add(&mut commands, serde_json::to_string(&c).unwrap(), name.clone()));
                vs.into_iter().for_each(|v| add(&mut vars, v, name.clone()));
            }
            continue;
        }
        if !(matches!(ext, "yaml" | "yml" | "hcl") || is_dockerfile) {
            continue;
        }
        let text = if ext == "hcl" {
            if let Err(e) = hcl_balanced(&text) {
                problems.push(format!("{name}: {e}"));
            }
            let mut t = text.clone();
            for (var, default) in hcl_defaults(&text) {
                t = t.replace(&format!("${{var.{var}}}"), &default);
            }
            t
        } else {
            text
        };
        for (n, line) in text.lines().enumerate() {
            let at = format!("{name}:{}", n + 1);
            if let Some(v) = env_name(line) {
                add(&mut vars, v.to_string(), at.clone());
            }
            // `args` are integ's arguments (the image's entrypoint is integ); a `command` is
            // integ's only when it starts with integ.
            for key in ["args", "command"] {
                match array_after(line, key) {
                    None => {}
                    Some(Err(e)) => problems.push(format!("{at}: {e}")),
                    Some(Ok(argv)) if key == "args" => {
                        add(&mut commands, serde_json::to_string(&argv).unwrap(), at.clone())
                    }
                    Some(Ok(argv)) if argv.first().is_some_and(|c| c == "integ" || c.ends_with("/integ")) => {
                        add(&mut commands, serde_json::to_string(&argv[1..]).unwrap(), at.clone())
                    }
                    Some(Ok(_)) => {}
                }
            }
        }
    }
    for line in code_block_lines(&readme_section(&readme, "## Running many accounts")) {
        let (cmds, vs) = integ_commands(&line);
        cmds.into_iter().for_each(|c| add(&mut commands, serde_json::to_string(&c).unwrap(), "README.md".into()));
        vs.into_iter().for_each(|v| add(&mut vars, v, "README.md".into()));
    }

    // What the recipes must contain, so that a reader who breaks the extraction hears of it.
    for needed in [r#"["db","migrate"]"#, r#"["sync","--shard","1/4","--quiet","--max-duration","720s"]"#] {
        assert!(commands.contains_key(needed), "no {needed} found in deploy/; found: {:?}", commands.keys());
    }
    for needed in ["INTEG_DATABASE_URL", "INTEG_DATABASE_PASSWORD", "INTEG_SECRET_STORE", "INTEG_SECRET_KEY_FILE"] {
        assert!(vars.contains_key(needed), "{needed} is set nowhere in deploy/; found: {:?}", vars.keys());
    }

    // HOME is the system's, not integ's.
    for (var, wheres) in &vars {
        if var != "HOME" && !documented.contains(var) {
            problems.push(format!(
                "{var} ({}) is not in README.md's \"Environment variables\" table: document it, or fix the name",
                wheres.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    problems.extend(unparsed(&commands).into_iter().map(|b| format!("does not parse with this integ: {b}")));
    problems.extend(kustomization_problems(&files));
    problems.extend(yaml_problems(&files));
    assert!(problems.is_empty(), "deploy/ is out of step with integ:\n  {}", problems.join("\n  "));
}

/// The kustomization names files that exist, mentions every manifest in its folder (as a
/// resource, a patch, or a one-off in a comment), and every image in deploy/ is the one it sets.
fn kustomization_problems(files: &[PathBuf]) -> Vec<String> {
    let dir = Path::new(ROOT).join("deploy/kubernetes");
    let kust = read(&dir.join("kustomization.yaml"));
    let mut problems = Vec::new();
    for line in kust.lines().map(|l| code(l).trim()) {
        let file = line.strip_prefix("- path:").or_else(|| line.strip_prefix("- ")).map(str::trim);
        if let Some(file) = file.filter(|f| f.ends_with(".yaml"))
            && !dir.join(file).is_file()
        {
            problems.push(format!("deploy/kubernetes/kustomization.yaml names {file}, which does not exist"));
        }
    }
    let field = |key: &str| {
        kust.lines().find_map(|l| code(l).trim().strip_prefix(key).map(|v| v.trim().to_string())).unwrap_or_default()
    };
    let image = format!("{}:{}", field("- name:"), field("newTag:"));
    for path in files {
        let name = rel(path);
        let file = path.file_name().unwrap().to_string_lossy();
        if path.parent() == Some(dir.as_path())
            && file.ends_with(".yaml")
            && file != "kustomization.yaml"
            && !kust.contains(file.as_ref())
        {
            problems.push(format!("{name} is not mentioned in deploy/kubernetes/kustomization.yaml"));
        }
        let text = read(path);
        if file.ends_with(".hcl") {
            match hcl_defaults(&text).get("image") {
                Some(used) if *used == image => {}
                used => problems.push(format!("{name}: image variable {used:?}, but kustomization.yaml sets {image}")),
            }
        }
        for (n, line) in text.lines().enumerate() {
            if let Some(used) = code(line).trim().strip_prefix("image:").map(|u| u.trim().trim_matches('"'))
                && used != image
            {
                problems.push(format!("{name}:{}: image {used}, but kustomization.yaml sets {image}", n + 1));
            }
        }
    }
    problems
}

/// Every YAML file parses, when python3 with PyYAML is there to say so (it is not a test
/// dependency; the other checks do not need it).
fn yaml_problems(files: &[PathBuf]) -> Vec<String> {
    let yaml: Vec<&PathBuf> = files.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")).collect();
    let script = "import sys, yaml\nfor f in sys.argv[1:]:\n    try:\n        list(yaml.safe_load_all(open(f)))\n    except Exception as e:\n        print(f'{f}: {e}')\n";
    let out = Command::new("python3").arg("-c").arg("import yaml").stderr(Stdio::null()).status();
    if !out.is_ok_and(|s| s.success()) {
        eprintln!("note: python3 with PyYAML is missing; deploy/*.yaml was not parsed as YAML (the other checks ran)");
        return Vec::new();
    }
    let out = Command::new("python3").arg("-c").arg(script).args(yaml).output().expect("run python3");
    String::from_utf8_lossy(&out.stdout).lines().map(|l| format!("YAML does not parse: {l}")).collect()
}

#[test]
fn the_deploy_test_reads_shell_lines_as_a_shell_would() {
    let (cmds, vars) = integ_commands(
        "kubectl -n integ exec -it integ-connect -- integ connect jobber --no-browser --account 'Acme Lawn'",
    );
    assert_eq!(cmds, vec![vec!["connect", "jobber", "--no-browser", "--account", "Acme Lawn"]]);
    assert!(vars.is_empty());
    let (cmds, vars) = integ_commands("INTEG_DATABASE_URL=\"postgres://x/y\" INTEG_SECRET_STORE=database integ status");
    assert_eq!(cmds, vec![vec!["status"]]);
    assert_eq!(vars, vec!["INTEG_DATABASE_URL", "INTEG_SECRET_STORE"]);
    let (cmds, _) =
        integ_commands("for i in 1 2; do integ sync --shard \"$i/2\" & done; printf x | integ config set a");
    assert_eq!(cmds, vec![vec!["sync", "--shard", "1/2"], vec!["config", "set", "a"]]);
    assert_eq!(env_name("  - name: INTEG_DATABASE_PASSWORD"), Some("INTEG_DATABASE_PASSWORD"));
    assert_eq!(env_name("  INTEG_HOME: \"/var/lib/integ/home\""), Some("INTEG_HOME"));
    assert_eq!(env_name("        INTEG_SECRET_STORE    = \"database\""), Some("INTEG_SECRET_STORE"));
    assert_eq!(env_name("ENV INTEG_HOME=/var/lib/integ/home \\"), Some("INTEG_HOME"));
    assert_eq!(env_name("USER 10001:10001"), None);
    assert_eq!(env_name("  # INTEG_X: a comment"), None);
    assert_eq!(hcl_balanced("a {\n  b = [\"}\"]\n  c = <<-EOT\n  {{ x\n  EOT\n}\n"), Ok(()));
    assert!(hcl_balanced("a {\n  b = [1\n}\n").is_err());
}
