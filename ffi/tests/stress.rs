//! Many threads calling the C ABI at once, on the same and on different
//! sessions: every call returns one of BrainFlow's codes, exactly one of
//! racing prepares wins, and `release_all_sessions` leaves nothing behind.
//! A separate test binary because `release_all_sessions` is process-wide.

mod common;

use std::ffi::{c_char, c_int};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn racing_prepares_of_one_session_have_one_winner() {
    quiet();
    let emu = cyton_emulator(4);
    let j = Arc::new(emu_params(&emu));
    let barrier = Arc::new(Barrier::new(8));
    let codes: Vec<c_int> = (0..8)
        .map(|_| {
            let (j, barrier) = (j.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                prepare(CYTON, &j)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(codes.iter().filter(|c| **c == OK).count(), 1, "{codes:?}");
    assert!(
        codes
            .iter()
            .all(|c| *c == OK || *c == ANOTHER_BOARD_IS_CREATED),
        "{codes:?}"
    );
    assert_eq!(is_prepared(CYTON, &j), (OK, 1));
    assert_eq!(release(CYTON, &j), OK);
}

#[test]
fn many_threads_many_calls() {
    quiet();
    let emus = [cyton_emulator(8), cyton_emulator(8)];
    let keys: Arc<Vec<_>> = Arc::new(emus.iter().map(emu_params).collect());
    let deadline = Instant::now() + Duration::from_millis(1500);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let keys = keys.clone();
            std::thread::spawn(move || {
                let mut calls = 0u32;
                let mut i = t as usize;
                while Instant::now() < deadline {
                    let j = &keys[i % keys.len()];
                    i = i.wrapping_mul(31).wrapping_add(7);
                    let (code, allowed): (c_int, &[c_int]) = match i % 9 {
                        0 => (prepare(CYTON, j), &[OK, ANOTHER_BOARD_IS_CREATED]),
                        1 => (
                            start(CYTON, j, 5000),
                            &[OK, STREAM_ALREADY_RUN, BOARD_NOT_CREATED],
                        ),
                        2 => (
                            stop(CYTON, j),
                            &[OK, STREAM_THREAD_IS_NOT_RUNNING, BOARD_NOT_CREATED],
                        ),
                        3 => (release(CYTON, j), &[OK, BOARD_NOT_CREATED]),
                        4 => (is_prepared(CYTON, j).0, &[OK]),
                        5 => {
                            // Another thread may take samples between count and get.
                            let (c, n) = count(CYTON, j);
                            if c != OK {
                                (c, &[INVALID_ARGUMENTS, BOARD_NOT_CREATED])
                            } else {
                                let mut buf = vec![0.0; n as usize * CYTON_ROWS];
                                let code = unsafe {
                                    ffi::get_board_data(n, 0, buf.as_mut_ptr(), CYTON, j.as_ptr())
                                };
                                (code, &[OK, INVALID_ARGUMENTS, BOARD_NOT_CREATED])
                            }
                        }
                        6 => (
                            unsafe { ffi::insert_marker(3.0, 0, CYTON, j.as_ptr()) },
                            &[OK, INVALID_ARGUMENTS, BOARD_NOT_CREATED],
                        ),
                        7 => {
                            let mut buf = vec![0.0; 20 * CYTON_ROWS];
                            let mut got: c_int = 0;
                            let code = unsafe {
                                ffi::get_current_board_data(
                                    20,
                                    0,
                                    buf.as_mut_ptr(),
                                    &mut got,
                                    CYTON,
                                    j.as_ptr(),
                                )
                            };
                            assert!((0..=20).contains(&got));
                            (code, &[OK, INVALID_ARGUMENTS, BOARD_NOT_CREATED])
                        }
                        _ => {
                            let mut buf = vec![0u8; 1024];
                            let mut len: c_int = 0;
                            let code = unsafe {
                                ffi::get_board_descr(
                                    CYTON,
                                    0,
                                    buf.as_mut_ptr() as *mut c_char,
                                    &mut len,
                                    1024,
                                )
                            };
                            (code, &[OK])
                        }
                    };
                    assert!(allowed.contains(&code), "op {} gave {code}", i % 9);
                    calls += 1;
                }
                calls
            })
        })
        .collect();
    let calls: u32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(calls > 100, "only {calls} calls");
    // Leave a session prepared and streaming, then release everything.
    assert!(matches!(
        prepare(CYTON, &keys[0]),
        OK | ANOTHER_BOARD_IS_CREATED
    ));
    assert!(matches!(
        start(CYTON, &keys[0], 1000),
        OK | STREAM_ALREADY_RUN
    ));
    assert_eq!(ffi::release_all_sessions(), OK);
    assert_eq!(ffi::release_all_sessions(), OK);
    for j in keys.iter() {
        assert_eq!(is_prepared(CYTON, j), (OK, 0));
        assert_eq!(release(CYTON, j), BOARD_NOT_CREATED);
    }
    // The ports are free again.
    assert_eq!(prepare(CYTON, &keys[1]), OK);
    assert_eq!(release(CYTON, &keys[1]), OK);
}
