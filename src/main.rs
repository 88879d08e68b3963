use std::process::ExitCode;

fn main() -> ExitCode {
    // The commit and build date come from build.rs; only this file reads them, so a new commit relinks the
    // binary alone.
    let version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("GLCTL_COMMIT"), " ", env!("GLCTL_BUILD_DATE"), ")");
    let cli = glctl::cli::Cli::parse_command_line(version);
    let verbose = cli.global.verbose;
    glctl::closed_stdout::install_quiet_hook();
    let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| glctl::run(cli))) {
        Ok(result) => result,
        // The reader of stdout has gone (`| head`): what it wanted was printed; a normal end.
        Err(payload) if glctl::closed_stdout::is_closed_stdout(payload.as_ref()) => return ExitCode::SUCCESS,
        Err(payload) => std::panic::resume_unwind(payload),
    };
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(error) => {
            eprintln!("{error}");
            if let Some(detail) = error.detail().filter(|_| verbose) {
                eprintln!("{detail}");
            }
            ExitCode::from(error.exit() as u8)
        }
    }
}
