mod cli;

fn main() -> std::process::ExitCode {
    cli::main::<cli::mchmod::Args>("mchmod")
}
