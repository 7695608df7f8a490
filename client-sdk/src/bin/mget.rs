mod cli;

fn main() -> std::process::ExitCode {
    cli::main::<cli::mget::Args>("mget")
}
