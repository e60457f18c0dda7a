//! The scenario matrix as a custom test harness: `cargo nextest run -p
//! boardloop-harness` lists `board::scenario::target` trials; unavailable targets
//! are ignored with the reason printed when they are run with `--ignored`.

use boardloop_harness::{describe_failure, plan, run, PlanOptions};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let trials = plan(&PlanOptions::from_env())
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
