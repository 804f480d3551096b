//! A running hash that moves to a second thread once the data is large: the MDC's SHA-1 and
//! the armor's CRC-24 of a big OpenPGP message are computed beside the (serial) AES-CFB.
//!
//! The data is copied to the worker in batches of 32 KiB (in buffers wiped when dropped, as
//! they may hold plaintext, and handed back for reuse), at most four per hash in flight, so
//! memory stays bounded. Small batches measured best: they are still cached when the worker
//! reads them, the wait for the last one is short, and they stay below the size from which
//! the allocator maps fresh pages for each buffer (128 KiB batches took 10 % longer per MiB,
//! 256 KiB ones twice as long). Small messages never pay for a thread: the hash stays on the
//! caller's thread for the first [`BESIDE_FROM`] octets. If no thread can be started, it
//! stays there.
//!
//! The hashes of one thread share one worker (a [`Lane`]: the SHA-1 and the CRC-24 of a
//! message on one second thread, not two, which on two cores would take turns with the
//! caller). Workers are kept for the next message (at most [`IDLE_WORKERS`] of them wait,
//! for the whole process): starting a thread for each message cost up to 0.1 ms on this
//! machine. A process that forks starts its own.

use std::cell::RefCell;
use std::io;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, Weak};

use zeroize::Zeroizing;

/// A hash state that can be fed on another thread.
pub(crate) trait Update: Clone + Send + 'static {
    /// Adds `data` to the hash.
    fn update(&mut self, data: &[u8]);
}

impl Update for sha1::Sha1 {
    fn update(&mut self, data: &[u8]) {
        sha1::Digest::update(self, data);
    }
}

/// Octets hashed on the caller's thread before the hash moves beside it.
pub(crate) const BESIDE_FROM: u64 = 128 * 1024;
/// Octets per batch sent to the worker.
const BATCH: usize = 32 * 1024;
/// Batches of one hash in flight at most.
const IN_FLIGHT: usize = 4;
/// Tasks queued for one worker at most (the batches of two hashes).
const QUEUED: usize = 2 * IN_FLIGHT;
/// Idle workers kept for later hashes at most.
const IDLE_WORKERS: usize = 4;

type Buffer = Zeroizing<Vec<u8>>;

/// Work for a worker thread.
type Task = Box<dyn FnOnce() + Send>;

/// The idle workers (the sending ends of their queues), and the process they belong to (a
/// forked child has none of them).
static IDLE: Mutex<(u32, Vec<SyncSender<Task>>)> = Mutex::new((0, Vec::new()));

/// A worker thread that runs tasks in the order they are queued, used by the hashes of one
/// calling thread; when the last of them is done with it, it goes back to [`IDLE`].
struct Lane {
    tasks: SyncSender<Task>,
}

thread_local! {
    /// The lane this thread's hashes use now, if any.
    static LANE: RefCell<Weak<Lane>> = const { RefCell::new(Weak::new()) };
}

impl Lane {
    /// This thread's lane: the one its other hashes use, an idle worker, or a new one.
    fn get() -> io::Result<Arc<Lane>> {
        if let Some(lane) = LANE.with_borrow(Weak::upgrade) {
            return Ok(lane);
        }
        let pid = std::process::id();
        let idle = IDLE.lock().ok().and_then(|mut idle| {
            if idle.0 != pid {
                *idle = (pid, Vec::new());
            }
            idle.1.pop()
        });
        let tasks = match idle {
            Some(tasks) => tasks,
            None => Self::spawn()?,
        };
        let lane = Arc::new(Lane { tasks });
        LANE.with_borrow_mut(|current| *current = Arc::downgrade(&lane));
        Ok(lane)
    }

    /// Starts a worker thread; it stops when its queue's last sender is dropped.
    fn spawn() -> io::Result<SyncSender<Task>> {
        let (tasks, queue) = sync_channel::<Task>(QUEUED);
        std::thread::Builder::new()
            .name("mailseal-hash".into())
            .spawn(move || {
                for task in queue {
                    task();
                }
            })?;
        Ok(tasks)
    }

    /// Queues `task`; an error if the worker has gone.
    fn run(&self, task: Task) -> io::Result<()> {
        self.tasks.send(task).map_err(|_| worker_failed())
    }
}

impl Drop for Lane {
    /// The worker waits for the next message, unless enough do.
    fn drop(&mut self) {
        if let Ok(mut idle) = IDLE.lock()
            && idle.0 == std::process::id()
            && idle.1.len() < IDLE_WORKERS
        {
            idle.1.push(self.tasks.clone());
        }
    }
}

enum State<H> {
    Here(H),
    Beside {
        lane: Arc<Lane>,
        /// The hash, fed by the lane's tasks in order.
        hash: Arc<Mutex<H>>,
        /// Batches queued and not yet handed back.
        in_flight: usize,
        back: Receiver<Buffer>,
        to_caller: SyncSender<Buffer>,
        batch: Buffer,
    },
    /// Only while the state moves.
    Moving,
}

/// A hash fed here or, past [`BESIDE_FROM`] octets, on a worker thread.
pub(crate) struct Hashing<H: Update> {
    state: State<H>,
    seen: u64,
}

fn worker_failed() -> io::Error {
    io::Error::other("the hashing thread stopped")
}

impl<H: Update> Hashing<H> {
    pub(crate) fn new(hash: H) -> Self {
        Hashing {
            state: State::Here(hash),
            seen: 0,
        }
    }

    /// Adds `data` to the hash.
    pub(crate) fn update(&mut self, data: &[u8]) -> io::Result<()> {
        self.seen += data.len() as u64;
        match &mut self.state {
            State::Here(hash) => {
                hash.update(data);
                if self.seen >= BESIDE_FROM {
                    self.move_beside();
                }
            }
            State::Beside { batch, .. } => {
                batch.extend_from_slice(data);
                if batch.len() >= BATCH {
                    self.send()?;
                }
            }
            State::Moving => return Err(worker_failed()),
        }
        Ok(())
    }

    /// Hands the hash so far to this thread's lane (or leaves it here if no thread starts).
    fn move_beside(&mut self) {
        let State::Here(hash) = std::mem::replace(&mut self.state, State::Moving) else {
            return;
        };
        self.state = match Lane::get() {
            Ok(lane) => {
                let (to_caller, back) = sync_channel::<Buffer>(IN_FLIGHT + 1);
                State::Beside {
                    lane,
                    hash: Arc::new(Mutex::new(hash)),
                    in_flight: 0,
                    back,
                    to_caller,
                    batch: Zeroizing::new(Vec::with_capacity(BATCH)),
                }
            }
            Err(_) => State::Here(hash),
        };
    }

    /// Hands the current batch to the worker and starts a new one, in a buffer that came
    /// back (waiting for one when [`IN_FLIGHT`] are out) or a new one.
    fn send(&mut self) -> io::Result<()> {
        let State::Beside {
            lane,
            hash,
            in_flight,
            back,
            to_caller,
            batch,
        } = &mut self.state
        else {
            return Ok(());
        };
        let full = std::mem::take(batch);
        let (shared, returns) = (Arc::clone(hash), to_caller.clone());
        lane.run(Box::new(move || {
            if let Ok(mut hash) = shared.lock() {
                hash.update(&full);
            }
            // The caller may have gone: then the buffer is dropped (and wiped).
            let _ = returns.try_send(full);
        }))?;
        *in_flight += 1;
        let returned = match back.try_recv() {
            Ok(buffer) => Some(buffer),
            Err(_) if *in_flight >= IN_FLIGHT => Some(back.recv().map_err(|_| worker_failed())?),
            Err(_) => None,
        };
        *batch = match returned {
            Some(mut buffer) => {
                *in_flight -= 1;
                buffer.clear();
                buffer
            }
            None => Zeroizing::new(Vec::with_capacity(BATCH)),
        };
        Ok(())
    }

    /// The hash of everything given to [`Hashing::update`].
    pub(crate) fn finish(mut self) -> io::Result<H> {
        if let State::Beside { batch, .. } = &self.state
            && !batch.is_empty()
        {
            self.send()?;
        }
        match std::mem::replace(&mut self.state, State::Moving) {
            State::Here(hash) => Ok(hash),
            State::Beside { lane, hash, .. } => {
                let (finished, done) = sync_channel::<H>(1);
                lane.run(Box::new(move || {
                    if let Ok(hash) = hash.lock() {
                        let _ = finished.send(hash.clone());
                    }
                }))?;
                done.recv().map_err(|_| worker_failed())
            }
            State::Moving => Err(worker_failed()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha1::{Digest as _, Sha1};

    #[test]
    fn the_hash_is_the_same_here_and_beside() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 253) as u8).collect();
        let expected = Sha1::digest(&data);
        for piece in [1usize, 1000, 65_536, 100_000, 3_000_000] {
            let mut h = Hashing::new(Sha1::new());
            for chunk in
                data.chunks(piece.max(1))
                    .take(if piece == 1 { 300_000 } else { usize::MAX })
            {
                h.update(chunk).unwrap();
            }
            let got = h.finish().unwrap().finalize();
            let want = if piece == 1 {
                Sha1::digest(&data[..300_000])
            } else {
                expected
            };
            assert_eq!(got, want, "pieces of {piece}");
        }
    }

    #[test]
    fn small_data_stays_here() {
        let mut h = Hashing::new(Sha1::new());
        h.update(&[0u8; 1000]).unwrap();
        assert!(matches!(h.state, State::Here(_)));
        h.update(&vec![0u8; BESIDE_FROM as usize]).unwrap();
        assert!(matches!(h.state, State::Beside { .. }));
        assert_eq!(
            h.finish().unwrap().finalize(),
            Sha1::digest(vec![0u8; BESIDE_FROM as usize + 1000])
        );
    }

    /// A "hash" that notes the threads it ran on.
    #[derive(Clone, Default)]
    struct Threads(Vec<std::thread::ThreadId>);

    impl Update for Threads {
        fn update(&mut self, _: &[u8]) {
            let id = std::thread::current().id();
            if !self.0.contains(&id) {
                self.0.push(id);
            }
        }
    }

    #[test]
    fn the_hashes_of_one_thread_share_one_worker_and_keep_their_order() {
        let data: Vec<u8> = (0..600_000u32).map(|i| (i * 13 % 251) as u8).collect();
        let (mut a, mut b) = (
            Hashing::new(Threads::default()),
            Hashing::new(Threads::default()),
        );
        let (mut sha_a, mut sha_b) = (Hashing::new(Sha1::new()), Hashing::new(Sha1::new()));
        for chunk in data.chunks(10_000) {
            a.update(chunk).unwrap();
            b.update(chunk).unwrap();
            sha_a.update(chunk).unwrap();
            // The second hash sees the bytes reversed in each chunk.
            let reversed: Vec<u8> = chunk.iter().rev().copied().collect();
            sha_b.update(&reversed).unwrap();
        }
        let (a, b) = (a.finish().unwrap().0, b.finish().unwrap().0);
        assert_eq!(a.len(), 2, "here, then one worker");
        assert_eq!(a, b, "one worker for both");
        assert_eq!(sha_a.finish().unwrap().finalize(), Sha1::digest(&data));
        let reversed: Vec<u8> = data
            .chunks(10_000)
            .flat_map(|c| c.iter().rev().copied())
            .collect();
        assert_eq!(sha_b.finish().unwrap().finalize(), Sha1::digest(&reversed));
    }

    #[test]
    fn workers_are_kept_and_reused_across_hashes_and_threads() {
        let data = vec![7u8; 3 * BESIDE_FROM as usize];
        let expected = Sha1::digest(&data);
        let hash = |data: &[u8]| {
            let mut h = Hashing::new(Sha1::new());
            h.update(data).unwrap();
            h.finish().unwrap().finalize()
        };
        // Several at once on several threads, more than are kept.
        std::thread::scope(|s| {
            let runs: Vec<_> = (0..IDLE_WORKERS + 2)
                .map(|_| s.spawn(|| hash(&data)))
                .collect();
            for run in runs {
                assert_eq!(run.join().unwrap(), expected);
            }
        });
        {
            let idle = IDLE.lock().unwrap();
            assert_eq!(idle.0, std::process::id());
            assert!(idle.1.len() <= IDLE_WORKERS);
        }
        // One after the other, the hashes run on threads already started.
        let mut workers = Vec::new();
        for _ in 0..5 {
            let mut h = Hashing::new(Threads::default());
            h.update(&data[..BESIDE_FROM as usize]).unwrap();
            h.update(&data).unwrap();
            let ran_on = h.finish().unwrap().0;
            assert_eq!(ran_on.len(), 2, "here, then on one worker");
            workers.extend(ran_on.get(1).copied().filter(|w| !workers.contains(w)));
        }
        assert!(workers.len() < 5, "{} workers for 5 hashes", workers.len());
        // A hash given up half way leaves its worker to end the job on its own.
        let mut h = Hashing::new(Sha1::new());
        h.update(&data).unwrap();
        drop(h);
        assert_eq!(hash(&data), expected);
    }
}
