//! Time: the system clock, or a fixed one that tests move by hand.

use std::sync::{Arc, Mutex};

use jiff::{Timestamp, civil::Date, tz::TimeZone};

/// Where the service reads the time from.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Arc<Mutex<Timestamp>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock that stays at `at` until [`Clock::set`].
    pub fn fixed(at: Timestamp) -> Self {
        Self {
            fixed: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// Moves a fixed clock; does nothing to the system clock.
    pub fn set(&self, at: Timestamp) {
        if let Some(fixed) = &self.fixed {
            *fixed
                .lock()
                .expect("the clock lock is never poisoned: nothing panics while holding it") = at;
        }
    }

    /// Returns the current instant.
    pub fn now(&self) -> Timestamp {
        match &self.fixed {
            Some(fixed) => *fixed
                .lock()
                .expect("the clock lock is never poisoned: nothing panics while holding it"),
            None => Timestamp::now(),
        }
    }

    /// Returns the current instant as stored: RFC 3339 UTC to the second.
    pub fn now_text(&self) -> String {
        Self::text(self.now())
    }

    /// Formats an instant as stored: RFC 3339 UTC to the second, so that stored times compare
    /// as text.
    pub fn text(t: Timestamp) -> String {
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// Returns the stored time `by` from now.
    pub fn text_in(&self, by: jiff::SignedDuration) -> String {
        let now = self.now();
        Self::text(now.checked_add(by).unwrap_or(now))
    }

    /// Returns today's date in UTC.
    pub fn today(&self) -> Date {
        self.now().to_zoned(TimeZone::UTC).date()
    }
}
