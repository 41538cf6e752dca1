//! `kthena-sim completions SHELL` and `kthena-sim manpage [--out DIR]`: the shell completion
//! script and the roff man pages, generated from the same clap definitions that parse the
//! arguments, so that neither can drift from the commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use super::common::write_one;
use super::output::print_stdout;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell whose completion script to print.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManpageArgs {
    /// Write one page per command and subcommand (kthena-sim.1, kthena-sim-run.1, …) into
    /// this folder, e.g. ~/.cargo/share/man/man1, instead of printing the top page. Other
    /// files in the folder are left alone.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// The command tree as the pages describe it: without clap's `help` subcommand, which
/// `clap_mangen::generate_to` leaves out too (it would get a page of its own).
fn command() -> clap::Command {
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = super::Cli::command();
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, &name, &mut script);
    if args.shell == Shell::Bash {
        script = respell_bash_states(&String::from_utf8(script)?, &name).into_bytes();
    }
    print_stdout(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// clap_complete 4.6 spells the bash script's per-subcommand states two ways when the
/// program's name has a hyphen (clap-rs/clap#6421): the loop over the typed words sets
/// `kthena__sim__subcmd__run`, the `case` arms test `kthena__subcmd__sim__subcmd__run`, so
/// nothing after a subcommand completed. The arms are respelt as the loop spells them; once
/// clap_complete is fixed the broken spelling no longer occurs and this changes nothing.
fn respell_bash_states(script: &str, name: &str) -> String {
    let broken = name.replace('-', "__subcmd__");
    let loop_spelling = name.replace('-', "__");
    script.replace(
        &format!("{broken}__subcmd__"),
        &format!("{loop_spelling}__subcmd__"),
    )
}

/// One page. The footer names the crate's version only; the top page's VERSION section has
/// the engine revisions. No date: the pages are the same on every build.
fn page(cmd: clap::Command) -> anyhow::Result<(String, Vec<u8>)> {
    let man =
        clap_mangen::Man::new(cmd).source(format!("kthena-sim {}", env!("CARGO_PKG_VERSION")));
    let mut roff = Vec::new();
    man.render(&mut roff)?;
    Ok((man.get_filename(), roff))
}

/// The page of `cmd` and those of its subcommands, depth first.
fn pages(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> anyhow::Result<()> {
    out.push(page(cmd.clone())?);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages(sub, out)?;
    }
    Ok(())
}

pub fn manpage(args: ManpageArgs) -> anyhow::Result<ExitCode> {
    let cmd = command();
    match args.out {
        None => print_stdout(&page(cmd)?.1)?,
        Some(dir) => {
            let mut all = Vec::new();
            pages(&cmd, &mut all)?;
            // Page by page (each atomically), not `write_folder`: the folder is usually a
            // shared man1 folder whose other pages must stay.
            for (name, roff) in &all {
                write_one(&dir.join(name), roff)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_gets_a_page_named_after_its_path() {
        let mut all = Vec::new();
        pages(&command(), &mut all).expect("pages");
        let names: Vec<_> = all.iter().map(|(n, _)| n.as_str()).collect();
        for name in ["kthena-sim.1", "kthena-sim-run.1", "kthena-sim-manpage.1"] {
            assert!(names.contains(&name), "{names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
        // Each a page of its own: its title line comes first after roff's preamble.
        for (name, roff) in &all {
            let title = String::from_utf8_lossy(roff)
                .lines()
                .find(|l| !l.starts_with(".ie ") && !l.starts_with(".el "))
                .map(str::to_string);
            let page = name.trim_end_matches(".1");
            assert_eq!(
                title,
                Some(format!(
                    ".TH {page} 1  \"kthena-sim {}\" ",
                    env!("CARGO_PKG_VERSION")
                ))
            );
        }
    }
}
