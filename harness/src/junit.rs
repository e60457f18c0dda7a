//! `boardloop run --junit FILE`: the run as JUnit XML, so a CI system shows
//! every trial natively. Written with `quick-junit`, the crate nextest writes
//! its own JUnit with: one test suite per board, one test case per trial
//! (named `board::scenario::target`, as in the matrix and in nextest), ignored
//! trials as skipped with their reason, failures with their first difference
//! as the message and the full description as the text.

use crate::console::{Status, TrialResult};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::time::Duration;

/// The JUnit XML of a run.
pub fn junit(results: &[TrialResult], elapsed: Duration) -> String {
    let mut report = Report::new("boardloop");
    report.set_time(elapsed);
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for r in results {
        let (board, _, _) = r.parts();
        let status = match r.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Fail => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(
                    r.failures
                        .first()
                        .cloned()
                        .unwrap_or_else(|| r.detail.clone()),
                );
                s.set_description(r.description.clone());
                s
            }
            Status::Ignored => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(r.detail.clone());
                s
            }
        };
        let mut case = TestCase::new(r.name.clone(), status);
        case.set_classname(board.to_string());
        case.set_time(r.elapsed);
        if r.status != Status::Ignored {
            case.set_system_out(r.detail.clone());
        }
        suites
            .entry(board)
            .or_insert_with(|| TestSuite::new(board.to_string()))
            .add_test_case(case);
    }
    report.add_test_suites(suites.into_values());
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- JUnit serialisation failed: {e} -->\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trial_is_a_case_with_its_status() {
        let r = |name: &str, status, detail: &str, failures: Vec<String>| TrialResult {
            name: name.into(),
            status,
            elapsed: Duration::from_millis(1500),
            detail: detail.into(),
            failures,
            description: format!("{name} failed:\n  - <a & b>\n"),
            evidence: None,
        };
        let xml = junit(
            &[
                r("cyton::a::emulated", Status::Pass, "rows 5", vec![]),
                r(
                    "cyton::b::emulated",
                    Status::Fail,
                    "rows 2",
                    vec!["row 3: 1 != 2".into()],
                ),
                r("muse_2::a::bluez", Status::Ignored, "no VM", vec![]),
            ],
            Duration::from_secs(4),
        );
        assert!(
            xml.contains(r#"<testsuites name="boardloop" tests="3" failures="1" errors="0""#),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<testsuite name="cyton" tests="2" disabled="0" errors="0" failures="1""#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase name="cyton::a::emulated" classname="cyton" time="1.500">"#),
            "{xml}"
        );
        assert!(xml.contains(r#"<failure message="row 3: 1 != 2""#), "{xml}");
        assert!(xml.contains("&lt;a &amp; b&gt;"), "escaped: {xml}");
        assert!(xml.contains(r#"<skipped message="no VM"/>"#), "{xml}");
    }
}
