mod cli;

fn main() -> std::process::ExitCode {
    cli::main::<cli::mjob::Args>("mjob")
}
