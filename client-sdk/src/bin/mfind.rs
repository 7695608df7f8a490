mod cli;

fn main() -> std::process::ExitCode {
    cli::main::<cli::mfind::Args>("mfind")
}
