//! The process-wide session table, keyed as BrainFlow keys it: by board id and
//! the parsed input params (so the same params formatted differently reach the
//! same session, and params differing in any field, `timeout` included, are
//! another session).
//!
//! Locking: the table's mutex is held only to look up, insert or remove; each
//! session has its own mutex, held for the duration of one call on it. So a
//! slow handshake or a blocking `config_board` on one board never stalls calls
//! on other boards, which BrainFlow's single global mutex does.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use boardloop_boards::params::InputParams;
use boardloop_boards::{Board, BoardError, ExitCode};

/// A session's identity.
pub(crate) type Key = (i32, InputParams);

/// One board session; its mutex serialises the calls made on it.
pub(crate) struct Session {
    board: Mutex<Box<dyn Board>>,
}

impl Session {
    /// Locks the board. A panic caught at the boundary poisons the mutex; the
    /// board is still usable (its own state is behind its own locks), so the
    /// poison is cleared rather than turning every later call into an error.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Box<dyn Board>> {
        self.board.lock().unwrap_or_else(|e| e.into_inner())
    }
}

static SESSIONS: LazyLock<Mutex<HashMap<Key, Arc<Session>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn table() -> MutexGuard<'static, HashMap<Key, Arc<Session>>> {
    SESSIONS.lock().unwrap_or_else(|e| e.into_inner())
}

fn not_created(key: &Key) -> BoardError {
    BoardError::new(
        ExitCode::BoardNotCreated,
        format!("no prepared session for board {} with these params", key.0),
    )
}

/// Creates and prepares the session `key`. An existing session with the same
/// key gives `ANOTHER_BOARD_IS_CREATED_ERROR` (what BrainFlow 5.23 returns for
/// a second `prepare_session`). The session is entered in the table before the
/// handshake, under its own lock, so concurrent calls on it wait for the
/// handshake instead of racing it; a failed handshake removes it again.
pub(crate) fn prepare(
    key: Key,
    make: impl FnOnce() -> Result<Box<dyn Board>, BoardError>,
) -> Result<(), BoardError> {
    let session;
    let mut board;
    {
        let mut sessions = table();
        if sessions.contains_key(&key) {
            return Err(BoardError::new(
                ExitCode::AnotherBoardIsCreated,
                format!("board {} with the same params is already prepared", key.0),
            ));
        }
        session = Arc::new(Session {
            board: Mutex::new(make()?),
        });
        board = session.lock();
        sessions.insert(key.clone(), session.clone());
    }
    let res = board.prepare_session();
    drop(board);
    if res.is_err() {
        let mut sessions = table();
        // Only remove our own entry: a release and a new prepare may have
        // replaced it while the handshake ran.
        if sessions.get(&key).is_some_and(|s| Arc::ptr_eq(s, &session)) {
            sessions.remove(&key);
        }
    }
    res
}

/// The session `key`, or `BOARD_NOT_CREATED_ERROR`.
pub(crate) fn find(key: &Key) -> Result<Arc<Session>, BoardError> {
    table().get(key).cloned().ok_or_else(|| not_created(key))
}

/// Releases the session `key`'s board, then removes the session. The entry
/// goes even if the release reports an error, as in BrainFlow. It stays in
/// the table until the port is closed, so a racing `prepare_session` of the
/// same key gets `ANOTHER_BOARD_IS_CREATED_ERROR` rather than finding the
/// port still open; a racing second release finds the board unprepared:
/// `BOARD_NOT_CREATED_ERROR`.
pub(crate) fn release(key: &Key) -> Result<(), BoardError> {
    let session = find(key)?;
    let mut board = session.lock();
    if !board.is_prepared() {
        return Err(not_created(key));
    }
    let res = board.release_session();
    // Lock order is session then table here; nothing takes them the other
    // way round except `prepare` on a session no one else can see yet.
    let mut sessions = table();
    if sessions.get(key).is_some_and(|s| Arc::ptr_eq(s, &session)) {
        sessions.remove(key);
    }
    res
}

/// Removes and releases every session; returns the errors of those whose
/// release failed (BrainFlow's `release_all_sessions` still returns OK).
pub(crate) fn release_all() -> Vec<BoardError> {
    let all: Vec<Arc<Session>> = table().drain().map(|(_, s)| s).collect();
    all.into_iter()
        .filter_map(|s| s.lock().release_session().err())
        .collect()
}
