mod cli;

fn main() -> std::process::ExitCode {
    cli::main::<cli::mls::Args>("mls")
}
