//! `integ completions <shell>` and the hidden `integ man`: generated from the clap tree, so
//! they can never disagree with the real flags. The checked-in copies in `completions/` are
//! compared with these by a test.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::context::Context;
use crate::error::{Done, Error, Result};

pub fn run(ctx: &mut Context, args: CompletionsArgs) -> Result<Done> {
    let text = render(args.shell);
    ctx.ui.line(text.trim_end())?;
    Ok(Done::Ok)
}

/// The completion script for one shell.
pub fn render(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "integ", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

pub fn man(ctx: &mut Context) -> Result<Done> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| Error::failure("cannot render the man page").cause(e))?;
    ctx.ui.line(String::from_utf8_lossy(&buf).trim_end())?;
    Ok(Done::Ok)
}
