mod cli;

fn main() -> std::process::ExitCode {
    cli::main::<cli::mmpu::Args>("mmpu")
}
