mod cli;

fn main() -> std::process::ExitCode {
    cli::main::<cli::msign::Args>("msign")
}
