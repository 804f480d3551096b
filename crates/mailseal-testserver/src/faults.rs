//! Fault injection: make chosen requests fail the way networks and servers fail, so that a
//! client's tests can provoke every failure at any call.
//!
//! A fault rule names a [`FaultPoint`] (which requests it watches), how many matching
//! requests to let through first (`skip`), an [`FaultAction`] and how many times to apply
//! it. Each rule counts the matching requests it sees on its own; the first rule that fires
//! for a request decides. [`TestServer::request_count`] counts every matching request that
//! arrived, faulted or not.
//!
//! Dropping a connection really closes the TCP connection without an HTTP answer (the
//! server's socket refuses to write the answer, see [`crate::http::connection`]), so a
//! client sees a transport error, not a status.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mailseal_testserver::Error> {
//! use mailseal_testserver::{Config, FaultAction, FaultPoint, TestServer};
//!
//! let server = TestServer::start(Config::default()).await?;
//! // The second Email/import is carried out, but its answer is lost.
//! server.inject_fault(FaultPoint::Method("Email/import".into()), 1, FaultAction::DropAfter, 1);
//! # Ok(()) }
//! ```

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::server::TestServer;

/// Which requests a fault watches.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultPoint {
    /// Every `POST /jmap/` request.
    AnyJmap,
    /// `GET /jmap/download/…`.
    Download,
    /// A `POST /jmap/` request with a call of this method (e.g. `"Email/import"`).
    Method(String),
    /// `GET /jmap/session`.
    Session,
    /// `POST /jmap/upload/…`.
    Upload,
}

/// What a fault does to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answers normally after this delay.
    Delay(Duration),
    /// Carries the request out completely (state changes stay), then closes the connection
    /// without an answer: the ambiguous case.
    DropAfter,
    /// Closes the connection without an answer and does nothing.
    DropBefore,
    /// Answers 429 exactly as the upload quota refuses an upload, and does nothing.
    OverQuota,
    /// Answers this HTTP status (problem+json with the status's reason phrase), with a
    /// `Retry-After` header when given, and does nothing.
    Status {
        /// The HTTP status.
        status: u16,
        /// `Retry-After` in seconds.
        retry_after: Option<u64>,
    },
}

/// The kind of an arrived request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// `GET /jmap/session`.
    Session,
    /// `POST /jmap/upload/…`.
    Upload,
    /// `GET /jmap/download/…`.
    Download,
    /// `POST /jmap/` with these method names.
    Jmap(Vec<String>),
}

impl FaultPoint {
    /// Whether the point covers an arrived request.
    pub fn matches(&self, arrival: &Arrival) -> bool {
        match (self, arrival) {
            (FaultPoint::AnyJmap, Arrival::Jmap(_))
            | (FaultPoint::Download, Arrival::Download)
            | (FaultPoint::Session, Arrival::Session)
            | (FaultPoint::Upload, Arrival::Upload) => true,
            (FaultPoint::Method(name), Arrival::Jmap(methods)) => methods.iter().any(|m| m == name),
            _ => false,
        }
    }
}

#[derive(Debug)]
struct Rule {
    point: FaultPoint,
    skip: usize,
    times: usize,
    action: FaultAction,
    seen: usize,
}

#[derive(Debug, Default)]
struct Inner {
    rules: Vec<Rule>,
    arrivals: Vec<Arrival>,
}

/// The fault rules of a server and the log of arrived requests.
#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<Inner>,
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Logs an arrived request; the action of the first rule that fires for it, if any.
    pub fn arrive(&self, arrival: Arrival) -> Option<FaultAction> {
        let mut inner = self.lock();
        let mut action = None;
        for rule in &mut inner.rules {
            if !rule.point.matches(&arrival) {
                continue;
            }
            rule.seen += 1;
            let fires = rule.seen > rule.skip && rule.seen <= rule.skip.saturating_add(rule.times);
            if fires && action.is_none() {
                action = Some(rule.action.clone());
            }
        }
        inner.arrivals.push(arrival);
        action
    }
}

impl TestServer {
    /// Lets `skip` requests matching `point` through, then applies `action` to the next
    /// `times` of them (the `skip + 1`th to the `skip + times`th). Rules add up; the first
    /// one added wins when several fire for one request.
    pub fn inject_fault(&self, point: FaultPoint, skip: usize, action: FaultAction, times: usize) {
        self.shared().faults.lock().rules.push(Rule {
            point,
            skip,
            times,
            action,
            seen: 0,
        });
    }

    /// Removes every fault rule (the request log stays).
    pub fn clear_faults(&self) {
        self.shared().faults.lock().rules.clear();
    }

    /// How many requests matching `point` have arrived so far (faulted ones included).
    pub fn request_count(&self, point: &FaultPoint) -> usize {
        self.shared()
            .faults
            .lock()
            .arrivals
            .iter()
            .filter(|a| point.matches(a))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_fires_after_skip_for_times_requests() {
        let faults = Faults::default();
        faults.lock().rules.push(Rule {
            point: FaultPoint::Method("Email/import".to_owned()),
            skip: 1,
            times: 2,
            action: FaultAction::DropBefore,
            seen: 0,
        });
        let import = || Arrival::Jmap(vec!["Email/import".to_owned()]);
        assert_eq!(faults.arrive(Arrival::Upload), None);
        assert_eq!(faults.arrive(import()), None);
        assert_eq!(faults.arrive(import()), Some(FaultAction::DropBefore));
        assert_eq!(
            faults.arrive(Arrival::Jmap(vec!["Email/get".to_owned()])),
            None
        );
        assert_eq!(faults.arrive(import()), Some(FaultAction::DropBefore));
        assert_eq!(faults.arrive(import()), None);
    }
}
