//! How deep the structured loader generators get: draws N random inputs (a
//! fixed xorshift), renders each, runs the loader, and prints the share that
//! loaded and the most common refusals. Usage:
//! `cargo run --release --example gen_stats -- scenario|profile [N] [BYTES]`
//! With `RENDER=FILE` it prints instead the YAML the fuzz target made of the
//! input FILE (a crash in `artifacts/`), to turn it into a unit test.
use arbitrary::{Arbitrary, Unstructured};
use boardloop_fuzz::profile_gen::ProfileGen;
use boardloop_fuzz::scenario_gen::ScenarioGen;
use boardloop_fuzz::yaml::{render_with, Style};
use boardloop_fuzz::Loaded;
use std::collections::BTreeMap;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("scenario", String::as_str).to_string();
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let len: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(512);
    let show = std::env::var_os("SHOW").is_some();
    if let Some(file) = std::env::var_os("RENDER") {
        let bytes = std::fs::read(file).expect("RENDER names a readable file");
        let mut u = Unstructured::new(&bytes);
        let style = Style::arbitrary(&mut u).expect("a style");
        let text = if which == "scenario" {
            render_with(&ScenarioGen::arbitrary_take_rest(u).expect("a model"), &style, ScenarioGen::y)
        } else {
            render_with(&ProfileGen::arbitrary_take_rest(u).expect("a model"), &style, ProfileGen::y)
        };
        print!("{text}");
        return;
    }
    let mut s = 0x1234_5678_9abc_def1u64;
    let mut counts = [0usize; 3];
    let mut why: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..n {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 24) as u8
            })
            .collect();
        let mut u = Unstructured::new(&bytes);
        let Ok(style) = Style::arbitrary(&mut u) else {
            continue;
        };
        let text = if which == "scenario" {
            let Ok(m) = ScenarioGen::arbitrary_take_rest(u) else {
                continue;
            };
            render_with(&m, &style, ScenarioGen::y)
        } else {
            let Ok(m) = ProfileGen::arbitrary_take_rest(u) else {
                continue;
            };
            render_with(&m, &style, ProfileGen::y)
        };
        let res = if which == "scenario" {
            boardloop_fuzz::check_scenario_result(&text)
        } else {
            boardloop_fuzz::check_profile_result(&text)
        };
        let o = match &res {
            Ok(true) => Loaded::Ok,
            Ok(false) => Loaded::Skipped,
            Err(m) => {
                let key: String = m.chars().filter(|c| !c.is_ascii_digit()).take(70).collect();
                *why.entry(key).or_default() += 1;
                if show {
                    println!("----\n{text}\n=> {m}");
                }
                Loaded::Err
            }
        };
        counts[o as usize] += 1;
    }
    let total: usize = counts.iter().sum();
    println!(
        "{which}: {total} inputs: ok {} ({:.1}%), refused {} ({:.1}%), skipped {}",
        counts[0],
        100.0 * counts[0] as f64 / total as f64,
        counts[1],
        100.0 * counts[1] as f64 / total as f64,
        counts[2]
    );
    let mut v: Vec<_> = why.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1));
    for (k, c) in v.iter().take(25) {
        println!("{c:6} {k}");
    }
}
