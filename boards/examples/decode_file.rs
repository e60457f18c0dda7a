//! Decodes a file of raw Cyton bytes and prints the rows as JSON, for
//! comparing this decoder with BrainFlow's on identical input.
//!
//! Usage: `decode_file <cyton|daisy|daisy-bf> <path> [config ...]`
//! (`daisy-bf` selects [`DaisyPairing::BrainFlowCompat`]).

use boardloop_boards::{CytonDecoder, CytonVariant, DaisyPairing, Rows};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: decode_file <cyton|daisy|daisy-bf> <path> [config ...]");
        std::process::exit(2);
    }
    let variant = match args[1].as_str() {
        "daisy" | "daisy-bf" => CytonVariant::Daisy,
        _ => CytonVariant::Cyton,
    };
    let bytes = match std::fs::read(&args[2]) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {}: {e}", args[2]);
            std::process::exit(1);
        }
    };
    let mut d = CytonDecoder::new(variant);
    if args[1] == "daisy-bf" {
        d.set_daisy_pairing(DaisyPairing::BrainFlowCompat);
    }
    for cfg in &args[3..] {
        d.apply_config(cfg);
    }
    let mut rows = Rows::default();
    d.push(&bytes, &mut rows);
    let out = serde_json::json!({ "rows": rows, "stats": d.stats() });
    println!("{out}");
}
