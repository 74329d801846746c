//! The benchmark's yardsticks (`benches/ratios.sh`): `serve ADDR` runs a bare actix-web handler
//! (`GET /` → `ok`, as many workers as the gateway), and `bcrypt COST N` prints how long one
//! bcrypt verification takes at that cost, in microseconds — the bound logins are measured
//! against; `hash COST SECRET` prints a bcrypt hash of SECRET (`benches/seed.sh` stores one for
//! every seeded account).

use std::time::Instant;

use actix_web::{App, HttpServer, web};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["serve", address] => serve(address),
        ["bcrypt", cost, rounds] => {
            let cost: u32 = cost.parse().map_err(invalid)?;
            let rounds: u32 = rounds.parse().map_err(invalid)?;
            let hash = bcrypt::hash("benchmark-password", cost).map_err(invalid)?;
            let started = Instant::now();
            for _ in 0..rounds {
                bcrypt::verify("benchmark-password", &hash).map_err(invalid)?;
            }
            println!(
                "{}",
                started.elapsed().as_micros() / u128::from(rounds.max(1))
            );
            Ok(())
        }
        ["hash", cost, secret] => {
            let cost: u32 = cost.parse().map_err(invalid)?;
            println!("{}", bcrypt::hash(secret, cost).map_err(invalid)?);
            Ok(())
        }
        _ => {
            eprintln!("usage: bench_peer serve ADDR | bcrypt COST ROUNDS | hash COST SECRET");
            std::process::exit(2);
        }
    }
}

fn invalid(err: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, err.to_string())
}

fn serve(address: &str) -> std::io::Result<()> {
    actix_web::rt::System::new().block_on(async {
        HttpServer::new(|| App::new().route("/", web::get().to(|| async { "ok" })))
            .workers(std::thread::available_parallelism().map_or(2, usize::from))
            .bind(address)?
            .run()
            .await
    })
}
