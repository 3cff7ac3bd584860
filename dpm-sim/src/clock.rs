//! The simulator's two clocks.
//!
//! In [`ClockMode::Auto`], transitions finish after their configured
//! durations on tokio time, so a demo or an end-to-end run flows on its own,
//! and tests on tokio's paused clock run without sleeping. In
//! [`ClockMode::Stepped`], time stands still until a test moves it with
//! [`crate::Sim::advance`] or [`crate::Sim::run_until_idle`].

use std::time::Duration;

/// How simulated time passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// Time is tokio time since the world was made.
    Auto,
    /// Time moves only when the test steps it.
    Stepped,
}

#[derive(Debug)]
pub(crate) struct Clock {
    mode: ClockMode,
    origin: tokio::time::Instant,
    stepped: Duration,
    /// The calendar time of simulated time zero, since 1970-01-01: fixed
    /// (2026-01-01) in memory, so that runs repeat; the wall clock's once
    /// served, so that clients comparing times with their own (a token's
    /// `expires_at`) see real ones.
    calendar_origin: Duration,
}

impl Clock {
    pub(crate) fn new(mode: ClockMode) -> Self {
        Self {
            mode,
            origin: tokio::time::Instant::now(),
            stepped: Duration::ZERO,
            calendar_origin: FIXED_ORIGIN,
        }
    }

    /// Anchors simulated time to the calendar: `wall` (time since 1970) is
    /// now. Simulated time itself, and every decision made on it (token
    /// expiry, transitions), is unchanged.
    pub(crate) fn anchor_calendar(&mut self, wall: Duration) {
        self.calendar_origin = wall.saturating_sub(self.now());
    }

    /// The timestamp of simulated time `t`, in Cinder's format.
    pub(crate) fn stamp(&self, t: Duration) -> String {
        timestamp(self.calendar_origin.saturating_add(t))
    }

    /// The timestamp of now, in Cinder's format.
    pub(crate) fn stamp_now(&self) -> String {
        self.stamp(self.now())
    }

    /// Time since the world was made.
    pub(crate) fn now(&self) -> Duration {
        match self.mode {
            ClockMode::Auto => self.origin.elapsed(),
            ClockMode::Stepped => self.stepped,
        }
    }

    /// The tokio instant of simulated time `t` (automatic clock only).
    pub(crate) fn instant_at(&self, t: Duration) -> Option<tokio::time::Instant> {
        (self.mode == ClockMode::Auto).then(|| self.origin + t)
    }

    pub(crate) fn mode(&self) -> ClockMode {
        self.mode
    }

    /// Moves stepped time forward to `t` (never backward).
    pub(crate) fn step_to(&mut self, t: Duration) {
        if self.mode == ClockMode::Stepped && t > self.stepped {
            self.stepped = t;
        }
    }
}

/// 2026-01-01T00:00:00Z, the calendar time of simulated time zero in
/// memory.
const FIXED_ORIGIN: Duration = Duration::from_secs(20_454 * 86_400);

/// An ISO 8601 UTC timestamp of `t` since 1970-01-01, in Cinder's format
/// (`2026-01-01T00:00:03.000000`).
fn timestamp(t: Duration) -> String {
    let secs = t.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        t.subsec_micros()
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: u64) -> (u64, u64, u64) {
    let z = z + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let c = Clock::new(ClockMode::Stepped);
        assert_eq!(c.stamp(Duration::ZERO), "2026-01-01T00:00:00.000000");
        assert_eq!(
            c.stamp(Duration::from_millis(86_400_000 * 59 + 3_723_500)),
            "2026-03-01T01:02:03.500000"
        );
        assert_eq!(timestamp(Duration::ZERO), "1970-01-01T00:00:00.000000");
    }

    #[test]
    fn an_anchored_clock_stamps_wall_time_and_keeps_its_own() {
        let mut c = Clock::new(ClockMode::Stepped);
        c.step_to(Duration::from_secs(10));
        // 2026-12-07T16:00:00Z, ten simulated seconds in.
        let wall = Duration::from_secs((20_454 + 340) * 86_400 + 16 * 3600);
        c.anchor_calendar(wall);
        assert_eq!(c.now(), Duration::from_secs(10));
        assert_eq!(c.stamp_now(), "2026-12-07T16:00:00.000000");
        assert_eq!(c.stamp(Duration::ZERO), "2026-12-07T15:59:50.000000");
        c.step_to(Duration::from_secs(3610));
        assert_eq!(c.stamp_now(), "2026-12-07T17:00:00.000000");
    }

    #[test]
    fn stepped_time_only_moves_forward() {
        let mut c = Clock::new(ClockMode::Stepped);
        c.step_to(Duration::from_secs(5));
        c.step_to(Duration::from_secs(1));
        assert_eq!(c.now(), Duration::from_secs(5));
    }
}
