//! A running hash that moves to a second thread once the data is large: the MDC's SHA-1 and
//! the armor's CRC-24 of a big OpenPGP message are computed beside the (serial) AES-CFB.
//!
//! The data is copied to the worker in batches of 32 KiB (in buffers wiped when dropped, as
//! they may hold plaintext, and handed back for reuse), at most four in flight, so memory
//! stays bounded. Small batches measured best: they are still cached when the worker reads
//! them, the wait for the last one is short, and they stay below the size from which the
//! allocator maps fresh pages for each buffer (128 KiB batches took 10 % longer per MiB,
//! 256 KiB ones twice as long). Small messages never pay for a thread: the hash stays on the caller's
//! thread for the first [`BESIDE_FROM`] octets. If no thread can be started, it stays there.
//!
//! Workers are kept for the next message (at most [`IDLE_WORKERS`] of them wait, for the
//! whole process): starting a thread for each hash of each message cost up to 0.1 ms on
//! this machine. A process that forks starts its own.

use std::io;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

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
/// Batches queued for the worker at most.
const IN_FLIGHT: usize = 4;
/// Idle workers kept for later hashes at most.
const IDLE_WORKERS: usize = 4;

type Buffer = Zeroizing<Vec<u8>>;

/// Work for a worker thread: one hash, fed until its caller hangs up.
type Job = Box<dyn FnOnce() + Send>;

/// A worker thread, known by the queue it takes jobs from.
struct Worker {
    jobs: SyncSender<Job>,
}

/// The idle workers, and the process they belong to (a forked child has none of them).
static IDLE: Mutex<(u32, Vec<Worker>)> = Mutex::new((0, Vec::new()));

impl Worker {
    /// Starts a worker thread; it stops when its queue's sender is dropped.
    fn spawn() -> io::Result<Self> {
        let (jobs, queue) = sync_channel::<Job>(1);
        std::thread::Builder::new()
            .name("mailseal-hash".into())
            .spawn(move || {
                for job in queue {
                    job();
                }
            })?;
        Ok(Worker { jobs })
    }

    /// Runs `job` on an idle worker of this process, or on a new one.
    fn run(job: Job) -> io::Result<Self> {
        let pid = std::process::id();
        let idle = IDLE.lock().ok().and_then(|mut idle| {
            if idle.0 != pid {
                *idle = (pid, Vec::new());
            }
            idle.1.pop()
        });
        let job = match idle {
            Some(worker) => match worker.jobs.send(job) {
                Ok(()) => return Ok(worker),
                // That worker has gone: the job comes back.
                Err(e) => e.0,
            },
            None => job,
        };
        let worker = Worker::spawn()?;
        worker.jobs.send(job).map_err(|_| worker_failed())?;
        Ok(worker)
    }

    /// Keeps this worker for a later hash, unless enough are kept.
    fn keep(self) {
        if let Ok(mut idle) = IDLE.lock()
            && idle.0 == std::process::id()
            && idle.1.len() < IDLE_WORKERS
        {
            idle.1.push(self);
        }
    }
}

enum State<H> {
    Here(H),
    Beside {
        to: SyncSender<Buffer>,
        back: Receiver<Buffer>,
        batch: Buffer,
        /// Where the worker puts the hash once `to` is dropped.
        done: Receiver<H>,
        worker: Worker,
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

    /// Hands the hash so far to a worker (or leaves it here if no thread starts).
    fn move_beside(&mut self) {
        let State::Here(hash) = std::mem::replace(&mut self.state, State::Moving) else {
            return;
        };
        let kept = hash.clone();
        let (to, from_caller) = sync_channel::<Buffer>(IN_FLIGHT);
        let (to_caller, back) = sync_channel::<Buffer>(IN_FLIGHT + 1);
        let (finished, done) = sync_channel::<H>(1);
        let job: Job = Box::new(move || {
            let mut hash = hash;
            for buf in from_caller {
                hash.update(&buf);
                // The caller may have stopped taking buffers back: then this one is
                // dropped (and wiped).
                let _ = to_caller.try_send(buf);
            }
            // A caller that gave up is not waiting for it.
            let _ = finished.send(hash);
        });
        self.state = match Worker::run(job) {
            Ok(worker) => State::Beside {
                to,
                back,
                batch: Zeroizing::new(Vec::with_capacity(BATCH)),
                done,
                worker,
            },
            Err(_) => State::Here(kept),
        };
    }

    /// Hands the current batch to the worker and starts a new one.
    fn send(&mut self) -> io::Result<()> {
        let State::Beside {
            to, back, batch, ..
        } = &mut self.state
        else {
            return Ok(());
        };
        let mut next = back
            .try_recv()
            .unwrap_or_else(|_| Zeroizing::new(Vec::with_capacity(BATCH)));
        next.clear();
        let full = std::mem::replace(batch, next);
        to.send(full).map_err(|_| worker_failed())
    }

    /// The hash of everything given to [`Hashing::update`].
    pub(crate) fn finish(mut self) -> io::Result<H> {
        self.send()?;
        match std::mem::replace(&mut self.state, State::Moving) {
            State::Here(hash) => Ok(hash),
            State::Beside {
                to, done, worker, ..
            } => {
                drop(to);
                let hash = done.recv().map_err(|_| worker_failed())?;
                worker.keep();
                Ok(hash)
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
