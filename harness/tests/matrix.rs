//! The scenario matrix as a custom test harness: `cargo nextest run -p
//! boardloop-harness` lists `board::scenario::target` trials; unavailable targets
//! are ignored with the reason printed when they are run with `--ignored`.

use boardloop_harness::{describe_failure, plan, run, PlanOptions};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    // Logs (e.g. RUST_LOG=boardloop_bluez=info for BLE timings) go to stderr;
    // nothing is logged unless RUST_LOG asks for it.
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let args = Arguments::from_args();
    let mut opts = PlanOptions::from_env();
    // `--exact NAME` names one trial: load only what it needs (a process
    // in the lab VM starts in a second or two instead of 20-35 s).
    if let (None, true, Some(name)) = (&opts.only, args.exact, &args.filter) {
        opts.only = Some(vec![name.clone()]);
    }
    let trials = plan(&opts)
        .into_iter()
        .map(|p| {
            let ignored = p.ignored.clone();
            let is_ignored = ignored.is_some();
            Trial::test(p.name, move || {
                if let Some(why) = ignored {
                    return Err(Failed::from(format!("cannot run here: {why}")));
                }
                let trial = p.trial.map_err(Failed::from)?;
                let outcome = run(&trial);
                if outcome.passed() {
                    // Shown with --success-output: what was left out, and why,
                    // and where the driver differs from the device by design.
                    let noted =
                        |l: &&String| l.starts_with("skipped on") || l.starts_with("differs on");
                    for l in outcome.log.iter().filter(noted) {
                        println!("{l}");
                    }
                    Ok(())
                } else {
                    Err(Failed::from(describe_failure(&trial, &outcome)))
                }
            })
            .with_ignored_flag(is_ignored)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
