//! Installing like a CLI: the bash completion script loads in bash and completes every
//! subcommand's options; the zsh, fish, PowerShell and elvish scripts offer every subcommand;
//! an unknown shell is refused on one line; the man page renders with `man` (or `groff`, or
//! is at least roff) and lists every subcommand, one page each with `--out`; `--version`
//! names the Kthena revision behind each engine version. The subcommands are read from
//! `--help`, so that a new one is checked without editing this file.

use std::path::Path;
use std::process::Command as Process;

use super::support::{kthena_sim, temp_dir};

fn stdout(args: &[&str]) -> String {
    let out = kthena_sim().args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "kthena-sim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The subcommands `kthena-sim --help` lists, without clap's `help`.
fn subcommands() -> Vec<String> {
    let help = stdout(&["--help"]);
    let list: Vec<String> = help
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands: section")
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|name| name != "help")
        .collect();
    for expected in ["run", "completions", "manpage"] {
        assert!(list.iter().any(|s| s == expected), "{list:?}");
    }
    list
}

/// What bash's programmable completion offers for `words` (the last one being completed),
/// with `script` sourced in a clean bash, its function found through `complete -p`.
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    const DRIVER: &str = r#"
        source "$1" || exit 1
        spec=$(complete -p kthena-sim) || exit 1
        fn=${spec#*-F }; fn=${fn%% *}
        shift
        COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        "$fn" kthena-sim "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let out = Process::new("bash")
        .args(["--norc", "--noprofile", "-c", DRIVER, "driver"])
        .arg(script)
        .args(words)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{words:?}: exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_bash_script_loads_and_completes_every_subcommand() {
    let dir = temp_dir("shell", "bash");
    let script = dir.join("kthena-sim.bash");
    std::fs::write(&script, stdout(&["completions", "bash"])).expect("write");

    let out = Process::new("bash")
        .args([
            "--norc",
            "--noprofile",
            "-c",
            "source \"$1\" && complete -p kthena-sim",
        ])
        .arg("bash")
        .arg(&script)
        .output()
        .expect("bash runs");
    let registered = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        registered.starts_with("complete ")
            && registered.contains(" -F ")
            && registered.trim_end().ends_with(" kthena-sim"),
        "{registered}"
    );

    let top = bash_complete(&script, &["kthena-sim", ""]);
    for sub in subcommands() {
        assert!(top.contains(&sub), "{sub} not offered: {top:?}");
        // Below each subcommand, its own options (clap-rs/clap#6421 broke exactly this for
        // hyphenated program names).
        let options = bash_complete(&script, &["kthena-sim", &sub, "--"]);
        assert!(
            options.contains(&"--help".to_string()),
            "{sub}: {options:?}"
        );
    }
    assert_eq!(
        bash_complete(&script, &["kthena-sim", "completions", ""]),
        [
            "-h",
            "--help",
            "bash",
            "elvish",
            "fish",
            "powershell",
            "zsh"
        ]
    );
    let mut seed_or_set = bash_complete(&script, &["kthena-sim", "run", "--se"]);
    seed_or_set.sort();
    assert_eq!(seed_or_set, ["--seed", "--set"]);
    assert_eq!(
        bash_complete(&script, &["kthena-sim", "manpage", "--o"]),
        ["--out"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_other_shells_scripts_offer_every_subcommand() {
    let subcommands = subcommands();
    // Each generator's way of offering a subcommand, and of registering the script.
    type Offer = fn(&str) -> String;
    let shells: [(&str, &str, Offer); 4] = [
        ("zsh", "#compdef kthena-sim\n", |s| format!("'{s}:")),
        ("fish", "complete -c kthena-sim ", |s| format!("-a \"{s}\"")),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'kthena-sim'",
            |s| format!("[CompletionResult]::new('{s}', '{s}'"),
        ),
        ("elvish", "edit:completion:arg-completer[kthena-sim]", |s| {
            format!("cand {s} ")
        }),
    ];
    for (shell, registration, offer) in shells {
        let script = stdout(&["completions", shell]);
        assert!(script.contains(registration), "{shell}:\n{script}");
        for sub in &subcommands {
            assert!(script.contains(&offer(sub)), "{shell} lacks {sub}");
        }
    }
}

#[test]
fn an_unknown_shell_is_refused_on_one_line() {
    let out = kthena_sim()
        .args(["completions", "tcsh"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: invalid value 'tcsh' for '<SHELL>'")
            && stderr.contains("bash, elvish, fish, powershell, zsh"),
        "{stderr}"
    );
}

/// The roff page's title line: the first after roff's apostrophe preamble (`.ie`/`.el`).
fn title(roff: &str) -> &str {
    roff.lines()
        .find(|l| !l.starts_with(".ie ") && !l.starts_with(".el "))
        .unwrap_or_default()
}

/// `file` rendered as a reader sees it: by `man -l`, or `groff -man` where there is no
/// `man`; `None` when neither is installed. A formatter's warning fails the test.
fn rendered(file: &Path) -> Option<String> {
    let available = |tool: &str| {
        Process::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let out = if available("man") {
        Process::new("man")
            .arg("-l")
            .arg(file)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "200")
            .output()
    } else if available("groff") {
        Process::new("groff")
            .args(["-man", "-Tutf8", "-ww"])
            .arg(file)
            .output()
    } else {
        return None;
    }
    .expect("formatter runs");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}: exit {:?}\n{}",
        file.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn the_man_page_renders_and_lists_every_subcommand() {
    let roff = stdout(&["manpage"]);
    assert!(
        title(&roff).starts_with(".TH kthena-sim 1 "),
        "{}",
        title(&roff)
    );
    assert!(roff.contains("\n.SH SUBCOMMANDS\n"), "{roff}");
    let subcommands = subcommands();
    for sub in &subcommands {
        // roff spells a hyphen `\-`.
        assert!(
            roff.contains(&format!("\nkthena\\-sim\\-{sub}(1)\n")),
            "{sub}"
        );
    }

    let dir = temp_dir("shell", "man");
    let file = dir.join("kthena-sim.1");
    std::fs::write(&file, &roff).expect("write");
    match rendered(&file) {
        Some(text) => {
            assert!(text.contains("SUBCOMMANDS"), "{text}");
            for sub in &subcommands {
                assert!(
                    text.contains(&format!("kthena-sim-{sub}(1)")),
                    "{sub}:\n{text}"
                );
            }
            assert!(text.contains("3cc05728"), "the VERSION section:\n{text}");
        }
        None => eprintln!("neither man nor groff on PATH: the page was checked as roff only"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn manpage_out_writes_a_page_per_subcommand_beside_other_pages() {
    let dir = temp_dir("shell", "man-out");
    std::fs::write(dir.join("other.1"), "not ours").expect("write");
    kthena_sim()
        .args(["manpage", "--out"])
        .arg(&dir)
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        std::fs::read_to_string(dir.join("other.1")).expect("kept"),
        "not ours"
    );
    let mut pages = vec![("kthena-sim".to_string(), "kthena-sim".to_string())];
    pages.extend(
        subcommands()
            .into_iter()
            .map(|s| (format!("kthena-sim-{s}"), format!("kthena-sim {s}"))),
    );
    // Nested subcommands have pages too.
    pages.push((
        "kthena-sim-sweep-merge".to_string(),
        "kthena-sim sweep merge".to_string(),
    ));
    for (page, invocation) in pages {
        let file = dir.join(format!("{page}.1"));
        let roff = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(
            title(&roff).starts_with(&format!(".TH {page} 1 ")),
            "{page}"
        );
        if let Some(text) = rendered(&file) {
            // Justified lines stretch spaces.
            let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                words.contains("SYNOPSIS") && words.contains(&invocation),
                "{page}:\n{text}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_version_names_the_kthena_revision_of_both_engines() {
    let expected = format!(
        "kthena-sim {} (engines: v0.4 = Kthena v0.4.0 2916fb73, head = Kthena main 3cc05728)\n",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(stdout(&["--version"]), expected);
    assert_eq!(stdout(&["-V"]), expected);
    // The revisions are the engine's own constants, not a second copy in the CLI.
    assert!(expected.contains(kthena_sim::engine::KTHENA_V0_4_REVISION));
    assert!(expected.contains(kthena_sim::engine::KTHENA_HEAD_REVISION));
}
