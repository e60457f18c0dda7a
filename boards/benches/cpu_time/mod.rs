//! A criterion measurement of the benchmark thread's CPU time, chosen with
//! `BOARDLOOP_BENCH_CLOCK=cpu`.
//!
//! On a shared machine (CI runners, the two-core development VM with a
//! fuzzer and builds alongside) wall time counts the time the thread waits
//! for a core: the same Cyton binary measured 550 to 1140 MiB/s there from
//! run to run. The thread's CPU time leaves the waiting out (cache and
//! memory-bandwidth sharing still show); on an idle machine both agree.
//! Throughput is printed as criterion prints it (MiB/s, or MB/s for
//! `Throughput::BytesDecimal`, Melem/s), per second of CPU time.

#![allow(dead_code)] // each bench uses what it needs

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::Throughput;

/// True when `BOARDLOOP_BENCH_CLOCK=cpu` asks for [`CpuTime`].
pub fn requested() -> bool {
    std::env::var("BOARDLOOP_BENCH_CLOCK").is_ok_and(|v| v == "cpu")
}

/// `criterion_main!` for a `fn bench<M: Measurement>(&mut Criterion<M>)`,
/// with the clock chosen at run time: [`CpuTime`] if [`requested`], else
/// criterion's wall clock.
#[macro_export]
macro_rules! main_with_clock {
    ($bench:ident) => {
        fn main() {
            if cpu_time::requested() {
                let mut c = Criterion::default()
                    .with_measurement(cpu_time::CpuTime)
                    .configure_from_args();
                $bench(&mut c);
                c.final_summary();
            } else {
                let mut c = Criterion::default().configure_from_args();
                $bench(&mut c);
                c.final_summary();
            }
        }
    };
}

/// CPU time of the calling thread, in nanoseconds.
pub struct CpuTime;

fn thread_cpu_ns() -> u64 {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .expect("clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64
}

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }

    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns() - start
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

/// Scales `values` (ns of CPU time per iteration) to `per_iter` units per
/// second, with binary (1024) or decimal (1000) prefixes.
fn rate(
    per_iter: f64,
    typical: f64,
    values: &mut [f64],
    base: f64,
    units: [&'static str; 4],
) -> &'static str {
    let per_second = per_iter * 1e9 / typical;
    let mut k = 0;
    while k < 3 && per_second >= base.powi(k as i32 + 1) {
        k += 1;
    }
    for v in values {
        *v = per_iter * 1e9 / *v / base.powi(k as i32);
    }
    units[k]
}

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, ns: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if ns < 1e3 {
            (1.0, "ns cpu")
        } else if ns < 1e6 {
            (1e-3, "µs cpu")
        } else if ns < 1e9 {
            (1e-6, "ms cpu")
        } else {
            (1e-9, "s cpu")
        };
        for v in values {
            *v *= factor;
        }
        unit
    }

    fn scale_throughputs(&self, typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        match *t {
            Throughput::Bytes(b) => rate(
                b as f64,
                typical,
                values,
                1024.0,
                ["  B/s", "KiB/s", "MiB/s", "GiB/s"],
            ),
            Throughput::BytesDecimal(b) => rate(
                b as f64,
                typical,
                values,
                1000.0,
                ["  B/s", "KB/s", "MB/s", "GB/s"],
            ),
            Throughput::Bits(b) => rate(
                b as f64,
                typical,
                values,
                1000.0,
                ["  b/s", "Kb/s", "Mb/s", "Gb/s"],
            ),
            Throughput::Elements(e) | Throughput::ElementsAndBytes { elements: e, .. } => rate(
                e as f64,
                typical,
                values,
                1000.0,
                [" elem/s", "Kelem/s", "Melem/s", "Gelem/s"],
            ),
        }
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}
