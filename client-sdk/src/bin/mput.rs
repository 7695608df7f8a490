mod cli;

fn main() -> std::process::ExitCode {
    cli::main::<cli::mput::Args>("mput")
}
