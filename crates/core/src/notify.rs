//! Notifications: exception rules decide who hears of which device exception,
//! on which channels and when; flap damping decides whether a change has lasted long
//! enough to be told.
//!
//! Everything here is pure: the app feeds in the rules, the health change and the
//! time, and acts on the answer. Schedules are in the site's own time zone (from the
//! IANA database compiled into the binary), so "weekdays 08:00–18:00" follows the
//! site's clock through daylight-saving changes.

use crate::health::{Exception, Level, Reason};
use crate::{CompanyId, DeviceId, Millis, SiteId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Minutes in a day.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// Who is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipients {
    /// The site's Site Manager (always told).
    pub site_manager: bool,
    /// The company's Installer Admins.
    pub installer_admins: bool,
}

/// How they are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channels {
    /// In the portal and the API (always).
    pub portal: bool,
    /// By e-mail (when the server has SMTP configured).
    pub email: bool,
    /// To the company's webhook (when one is set).
    pub webhook: bool,
}

/// When a rule applies, in the site's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The days, Monday first.
    pub days: [bool; 7],
    /// The first minute of the day the rule applies (0–1439).
    pub from_minute: u16,
    /// The minute it stops applying (exclusive, 0–1440). Equal to `from_minute`:
    /// the whole day; smaller: the window runs past midnight (the day that counts is
    /// the one it started on).
    pub to_minute: u16,
}

impl Schedule {
    /// Every day, all day.
    pub const ALWAYS: Schedule = Schedule {
        days: [true; 7],
        from_minute: 0,
        to_minute: MINUTES_PER_DAY,
    };

    /// Whether the schedule covers `minute_of_week` (0 = Monday 00:00 local time).
    pub fn covers(&self, minute_of_week: u32) -> bool {
        let day = ((minute_of_week / u32::from(MINUTES_PER_DAY)) % 7) as usize;
        let minute = (minute_of_week % u32::from(MINUTES_PER_DAY)) as u16;
        let (from, to) = (self.from_minute, self.to_minute);
        let prev = (day + 6) % 7;
        if from == to || (from == 0 && to >= MINUTES_PER_DAY) {
            self.days[day]
        } else if from < to {
            self.days[day] && (from..to).contains(&minute)
        } else {
            // Past midnight: the evening part today, the morning part from yesterday.
            (self.days[day] && minute >= from) || (self.days[prev] && minute < to)
        }
    }
}

/// One exception rule: which devices, which exceptions, who, how and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRule {
    /// Rule id (UUID v7 text).
    pub id: String,
    /// The company.
    pub company_id: CompanyId,
    /// One site, or every site (`None`).
    pub site_id: Option<SiteId>,
    /// One device, or every device (`None`).
    pub device_id: Option<DeviceId>,
    /// The exceptions covered; empty covers all.
    pub exceptions: Vec<Exception>,
    /// Who is told.
    pub recipients: Recipients,
    /// How.
    pub channels: Channels,
    /// When.
    pub schedule: Schedule,
}

/// Why a rule cannot be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A schedule minute outside the day.
    #[error("schedule minutes must be 0 to 1440, and from_minute below 1440")]
    Minute,
    /// A schedule without any day.
    #[error("schedule must include at least one day")]
    NoDay,
    /// The Site Manager is always told.
    #[error("the Site Manager is always notified")]
    SiteManagerRequired,
    /// The portal channel is always on.
    #[error("the portal channel is always on")]
    PortalRequired,
}

impl ExceptionRule {
    /// Checks the rule's own invariants.
    pub fn check(&self) -> Result<(), RuleError> {
        let s = &self.schedule;
        if s.from_minute >= MINUTES_PER_DAY || s.to_minute > MINUTES_PER_DAY {
            return Err(RuleError::Minute);
        }
        if !s.days.iter().any(|d| *d) {
            return Err(RuleError::NoDay);
        }
        if !self.recipients.site_manager {
            return Err(RuleError::SiteManagerRequired);
        }
        if !self.channels.portal {
            return Err(RuleError::PortalRequired);
        }
        Ok(())
    }
}

/// Whether `rule` covers `exception` on `device` of `site` at `minute_of_week`.
pub fn matches(
    rule: &ExceptionRule,
    site: SiteId,
    device: DeviceId,
    exception: Exception,
    minute_of_week: u32,
) -> bool {
    rule.site_id.is_none_or(|s| s == site)
        && rule.device_id.is_none_or(|d| d == device)
        && (rule.exceptions.is_empty() || rule.exceptions.contains(&exception))
        && rule.schedule.covers(minute_of_week)
}

/// The minute of the week of a Unix time, Monday 00:00 UTC being 0.
pub fn minute_of_week(at: Millis) -> u32 {
    let minutes = at.div_euclid(60_000);
    // 1970-01-01 was a Thursday: three days after a Monday.
    let shifted = minutes + 3 * i64::from(MINUTES_PER_DAY);
    u32::try_from(shifted.rem_euclid(7 * i64::from(MINUTES_PER_DAY))).unwrap_or(0)
}

/// The minute of the week of a Unix time on the clock of the time zone `tz` (an IANA
/// name such as `Europe/Berlin`), Monday 00:00 local time being 0. A name the
/// database does not know counts as UTC, so a rule never silently stops applying.
pub fn local_minute_of_week(at: Millis, tz: &str) -> u32 {
    let zone = jiff::tz::db().get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let Ok(ts) = jiff::Timestamp::from_millisecond(at) else {
        return minute_of_week(at);
    };
    let dt = ts.to_zoned(zone).datetime();
    let day = u32::try_from(dt.weekday().to_monday_zero_offset()).unwrap_or(0);
    let minute = u32::try_from(i32::from(dt.hour()) * 60 + i32::from(dt.minute())).unwrap_or(0);
    day * u32::from(MINUTES_PER_DAY) + minute
}

/// The rule set of a company that has not written its own: every exception, to the
/// Site Manager and the Installer Admins, in the portal and by e-mail, always.
pub fn default_rules(company_id: CompanyId) -> Vec<ExceptionRule> {
    vec![ExceptionRule {
        id: "default".into(),
        company_id,
        site_id: None,
        device_id: None,
        exceptions: Vec::new(),
        recipients: Recipients {
            site_manager: true,
            installer_admins: true,
        },
        channels: Channels {
            portal: true,
            email: true,
            webhook: false,
        },
        schedule: Schedule::ALWAYS,
    }]
}

/// What the rules together decide for one device change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Tell the Site Manager.
    pub site_manager: bool,
    /// Tell the Installer Admins.
    pub installer_admins: bool,
    /// Send e-mail.
    pub email: bool,
    /// Call the webhook.
    pub webhook: bool,
}

impl Delivery {
    /// Whether anyone is told.
    pub fn anyone(&self) -> bool {
        self.site_manager || self.installer_admins
    }
}

/// Combines every rule that covers any of `exceptions` (an empty list: any exception)
/// on the device at `minute_of_week`.
pub fn decide(
    rules: &[ExceptionRule],
    site: SiteId,
    device: DeviceId,
    exceptions: &[Exception],
    minute_of_week: u32,
) -> Delivery {
    let mut d = Delivery::default();
    for rule in rules {
        let hit = if exceptions.is_empty() {
            matches(
                &ExceptionRule {
                    exceptions: Vec::new(),
                    ..rule.clone()
                },
                site,
                device,
                Exception::Offline,
                minute_of_week,
            )
        } else {
            exceptions
                .iter()
                .any(|e| matches(rule, site, device, *e, minute_of_week))
        };
        if hit {
            d.site_manager |= rule.recipients.site_manager;
            d.installer_admins |= rule.recipients.installer_admins;
            d.email |= rule.channels.email;
            d.webhook |= rule.channels.webhook;
        }
    }
    d
}

/// A change worth telling, compared with what was last told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// These reasons are new.
    Appeared(Vec<Reason>),
    /// Every reason is gone: back to normal.
    Recovered,
    /// Nothing new to tell.
    Nothing,
}

/// Compares the reasons last told (`None`: nothing known of the device) with the
/// current ones. A device nothing is known of recovers when its previous level was
/// bad (after a restart the notifier remembers nothing).
pub fn change(
    told: Option<&BTreeMap<String, Exception>>,
    previous: Level,
    current: &[Reason],
) -> Change {
    let appeared: Vec<Reason> = current
        .iter()
        .filter(|r| told.is_none_or(|t| !t.contains_key(&r.code)))
        .cloned()
        .collect();
    if !appeared.is_empty() {
        return Change::Appeared(appeared);
    }
    let was_bad = match told {
        Some(t) => !t.is_empty(),
        None => previous.rank() >= Level::Warning.rank(),
    };
    if current.is_empty() && was_bad {
        Change::Recovered
    } else {
        Change::Nothing
    }
}

/// Flap damping: a change first seen at `first_seen` is told once it has lasted
/// `hold_ms`; until then `Err(when)` says when to look again.
pub fn ripe(first_seen: Millis, hold_ms: Millis, now: Millis) -> Result<(), Millis> {
    let due = first_seen.saturating_add(hold_ms.max(0));
    if now >= due { Ok(()) } else { Err(due) }
}

/// Changes waiting out the hold time, one per device, in the order they are due:
/// a later change of a device already waiting replaces what it says but keeps its
/// first-seen time. Adding, replacing and taking what is due cost a lookup each,
/// however many devices wait, so a busy event bus costs the notifier nothing per
/// waiting device.
#[derive(Debug, Clone)]
pub struct Held<T> {
    items: HashMap<DeviceId, (Millis, T)>,
    due: BTreeSet<(Millis, DeviceId)>,
}

impl<T> Default for Held<T> {
    fn default() -> Self {
        Self {
            items: HashMap::new(),
            due: BTreeSet::new(),
        }
    }
}

impl<T> Held<T> {
    /// Holds `change` of `device`, first seen `now` unless it was already waiting.
    pub fn hold(&mut self, device: DeviceId, now: Millis, change: T) {
        match self.items.get_mut(&device) {
            Some((_, held)) => *held = change,
            None => {
                self.items.insert(device, (now, change));
                self.due.insert((now, device));
            }
        }
    }

    /// When the change waiting longest has lasted `hold_ms`, if any waits.
    pub fn next_due(&self, hold_ms: Millis) -> Option<Millis> {
        self.due
            .first()
            .map(|(first_seen, _)| first_seen.saturating_add(hold_ms.max(0)))
    }

    /// Takes the changes that have lasted `hold_ms` at `now` (see [`ripe`]), oldest
    /// first, with their devices.
    pub fn take_ripe(&mut self, hold_ms: Millis, now: Millis) -> Vec<(DeviceId, T)> {
        let mut out = Vec::new();
        while let Some(&(first_seen, device)) = self.due.first() {
            if ripe(first_seen, hold_ms, now).is_err() {
                break;
            }
            self.due.pop_first();
            if let Some((_, change)) = self.items.remove(&device) {
                out.push((device, change));
            }
        }
        out
    }

    /// How many devices' changes wait.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn site(n: u128) -> SiteId {
        SiteId(Uuid::from_u128(n))
    }
    fn device(n: u128) -> DeviceId {
        DeviceId(Uuid::from_u128(n))
    }
    fn company() -> CompanyId {
        CompanyId(Uuid::from_u128(1))
    }
    fn rule(
        s: Option<u128>,
        d: Option<u128>,
        ex: &[Exception],
        schedule: Schedule,
    ) -> ExceptionRule {
        ExceptionRule {
            site_id: s.map(site),
            device_id: d.map(device),
            exceptions: ex.to_vec(),
            schedule,
            ..default_rules(company()).remove(0)
        }
    }
    const MON: u32 = 0;
    const DAY: u32 = MINUTES_PER_DAY as u32;
    fn at(day: u32, hour: u32, minute: u32) -> u32 {
        day * DAY + hour * 60 + minute
    }
    fn weekdays(from: u16, to: u16) -> Schedule {
        Schedule {
            days: [true, true, true, true, true, false, false],
            from_minute: from,
            to_minute: to,
        }
    }

    #[test]
    fn local_minute_follows_the_site_clock() {
        // 2026-01-05 was a Monday. 07:30 UTC is 08:30 in Berlin (CET, UTC+1).
        let monday_0730_utc: Millis = 1_767_598_200_000;
        assert_eq!(minute_of_week(monday_0730_utc), at(0, 7, 30));
        assert_eq!(local_minute_of_week(monday_0730_utc, "UTC"), at(0, 7, 30));
        assert_eq!(
            local_minute_of_week(monday_0730_utc, "Europe/Berlin"),
            at(0, 8, 30)
        );
        // In summer Berlin is UTC+2: 2026-07-06 (a Monday) 07:30 UTC is 09:30.
        let summer: Millis = 1_783_323_000_000;
        assert_eq!(local_minute_of_week(summer, "Europe/Berlin"), at(0, 9, 30));
        // New York (EST, UTC−5): 02:30 the same Monday; an hour before midnight UTC
        // it is still Sunday evening there.
        assert_eq!(
            local_minute_of_week(monday_0730_utc, "America/New_York"),
            at(0, 2, 30)
        );
        assert_eq!(
            local_minute_of_week(monday_0730_utc - 8 * 3_600_000, "America/New_York"),
            at(6, 18, 30)
        );
        // An unknown zone counts as UTC.
        assert_eq!(
            local_minute_of_week(monday_0730_utc, "Mars/Olympus"),
            at(0, 7, 30)
        );
        // An office-hours rule of a Berlin site applies at 08:30 Berlin time.
        let office = weekdays(8 * 60, 18 * 60);
        assert!(office.covers(local_minute_of_week(monday_0730_utc, "Europe/Berlin")));
        assert!(!office.covers(local_minute_of_week(monday_0730_utc, "UTC")));
    }

    #[test]
    fn matches_table() {
        use Exception::*;
        let always = Schedule::ALWAYS;
        let office = weekdays(8 * 60, 18 * 60);
        let night = weekdays(22 * 60, 6 * 60);
        let cases: Vec<(ExceptionRule, u128, u128, Exception, u32, bool)> = vec![
            (rule(None, None, &[], always), 1, 1, HddError, MON, true),
            (rule(Some(1), None, &[], always), 1, 9, Tamper, MON, true),
            (rule(Some(2), None, &[], always), 1, 9, Tamper, MON, false),
            (rule(None, Some(9), &[], always), 1, 9, Tamper, MON, true),
            (rule(None, Some(8), &[], always), 1, 9, Tamper, MON, false),
            (
                rule(None, None, &[Offline], always),
                1,
                1,
                Offline,
                MON,
                true,
            ),
            (
                rule(None, None, &[Offline], always),
                1,
                1,
                HddError,
                MON,
                false,
            ),
            (
                rule(None, None, &[Offline, HddError], always),
                1,
                1,
                HddError,
                MON,
                true,
            ),
            (
                rule(None, None, &[], office),
                1,
                1,
                Smart,
                at(0, 8, 0),
                true,
            ),
            (
                rule(None, None, &[], office),
                1,
                1,
                Smart,
                at(0, 7, 59),
                false,
            ),
            (
                rule(None, None, &[], office),
                1,
                1,
                Smart,
                at(4, 17, 59),
                true,
            ),
            (
                rule(None, None, &[], office),
                1,
                1,
                Smart,
                at(4, 18, 0),
                false,
            ),
            (
                rule(None, None, &[], office),
                1,
                1,
                Smart,
                at(5, 12, 0),
                false,
            ),
            (
                rule(None, None, &[], night),
                1,
                1,
                Smart,
                at(0, 23, 0),
                true,
            ),
            (
                rule(None, None, &[], night),
                1,
                1,
                Smart,
                at(1, 5, 59),
                true,
            ),
            (
                rule(None, None, &[], night),
                1,
                1,
                Smart,
                at(1, 6, 0),
                false,
            ),
            // Friday night runs into Saturday morning; Saturday night is off.
            (rule(None, None, &[], night), 1, 1, Smart, at(5, 3, 0), true),
            (
                rule(None, None, &[], night),
                1,
                1,
                Smart,
                at(5, 23, 0),
                false,
            ),
            (
                rule(None, None, &[], night),
                1,
                1,
                Smart,
                at(0, 3, 0),
                false,
            ),
        ];
        for (i, (r, s, d, e, t, want)) in cases.into_iter().enumerate() {
            assert_eq!(matches(&r, site(s), device(d), e, t), want, "case {i}");
        }
    }

    #[test]
    fn minute_of_week_is_monday_based_utc() {
        assert_eq!(minute_of_week(0), at(3, 0, 0), "1970-01-01 was a Thursday");
        // 2025-11-24 was a Monday.
        let monday: Millis = 20_416 * 86_400_000;
        assert_eq!(minute_of_week(monday + 90 * 60_000), at(0, 1, 30));
        assert!(minute_of_week(-1) < 7 * DAY);
    }

    #[test]
    fn defaults_tell_everyone_always() {
        let rules = default_rules(company());
        assert!(rules.iter().all(|r| r.check().is_ok()));
        let d = decide(
            &rules,
            site(1),
            device(1),
            &[Exception::HddError],
            at(6, 3, 0),
        );
        assert_eq!(
            d,
            Delivery {
                site_manager: true,
                installer_admins: true,
                email: true,
                webhook: false
            }
        );
    }

    #[test]
    fn decide_combines_matching_rules() {
        let mut hook = rule(None, None, &[Exception::Offline], Schedule::ALWAYS);
        hook.channels.webhook = true;
        hook.recipients.installer_admins = false;
        let quiet = rule(Some(1), None, &[Exception::Tamper], Schedule::ALWAYS);
        let rules = vec![hook, quiet];
        let d = decide(&rules, site(1), device(1), &[Exception::Offline], 0);
        assert!(d.webhook && d.site_manager && !d.installer_admins);
        let d = decide(&rules, site(1), device(1), &[Exception::Tamper], 0);
        assert!(!d.webhook && d.installer_admins);
        let d = decide(&rules, site(1), device(1), &[Exception::Smart], 0);
        assert!(!d.anyone());
        let d = decide(&rules, site(2), device(1), &[], 0);
        assert!(
            d.webhook && !d.installer_admins,
            "any exception: site filter only"
        );
    }

    #[test]
    fn check_table() {
        let ok = rule(None, None, &[], Schedule::ALWAYS);
        let mut bad_min = ok.clone();
        bad_min.schedule.to_minute = 1441;
        let mut bad_from = ok.clone();
        bad_from.schedule.from_minute = 1440;
        let mut no_day = ok.clone();
        no_day.schedule.days = [false; 7];
        let mut no_sm = ok.clone();
        no_sm.recipients.site_manager = false;
        let mut no_portal = ok.clone();
        no_portal.channels.portal = false;
        for (r, want) in [
            (ok, Ok(())),
            (bad_min, Err(RuleError::Minute)),
            (bad_from, Err(RuleError::Minute)),
            (no_day, Err(RuleError::NoDay)),
            (no_sm, Err(RuleError::SiteManagerRequired)),
            (no_portal, Err(RuleError::PortalRequired)),
        ] {
            assert_eq!(r.check(), want);
        }
    }

    fn reason(code: &str, e: Exception) -> Reason {
        Reason {
            code: code.into(),
            text: code.into(),
            level: Level::Abnormal,
            exception: e,
        }
    }

    #[test]
    fn change_table() {
        let hdd = reason("hdd.error:1", Exception::HddError);
        let off = reason("offline", Exception::Offline);
        let told_hdd: BTreeMap<String, Exception> =
            [(hdd.code.clone(), Exception::HddError)].into();
        let none: BTreeMap<String, Exception> = BTreeMap::new();
        let cases: Vec<(Option<&BTreeMap<_, _>>, Level, Vec<Reason>, Change)> = vec![
            (
                None,
                Level::Normal,
                vec![hdd.clone()],
                Change::Appeared(vec![hdd.clone()]),
            ),
            (
                Some(&none),
                Level::Normal,
                vec![hdd.clone()],
                Change::Appeared(vec![hdd.clone()]),
            ),
            (
                Some(&told_hdd),
                Level::Abnormal,
                vec![hdd.clone()],
                Change::Nothing,
            ),
            (
                Some(&told_hdd),
                Level::Abnormal,
                vec![hdd.clone(), off.clone()],
                Change::Appeared(vec![off.clone()]),
            ),
            (Some(&told_hdd), Level::Abnormal, vec![], Change::Recovered),
            (Some(&none), Level::Abnormal, vec![], Change::Nothing),
            (None, Level::Abnormal, vec![], Change::Recovered),
            (None, Level::Unknown, vec![], Change::Nothing),
            (None, Level::Normal, vec![], Change::Nothing),
        ];
        for (i, (told, prev, cur, want)) in cases.into_iter().enumerate() {
            assert_eq!(change(told, prev, &cur), want, "case {i}");
        }
    }

    #[test]
    fn ripe_table() {
        for (first, hold, now, want) in [
            (1000, 60_000, 1000, Err(61_000)),
            (1000, 60_000, 60_999, Err(61_000)),
            (1000, 60_000, 61_000, Ok(())),
            (1000, 0, 1000, Ok(())),
            (1000, -5, 1000, Ok(())),
            (i64::MAX - 1, 60_000, 0, Err(i64::MAX)),
        ] {
            assert_eq!(ripe(first, hold, now), want, "{first} {hold} {now}");
        }
    }

    #[test]
    fn held_changes_come_out_when_due_oldest_first_and_a_later_change_keeps_its_wait() {
        let mut held = Held::default();
        assert_eq!(held.next_due(1_000), None);
        held.hold(device(2), 100, "b");
        held.hold(device(1), 300, "a");
        // A later change of device 2 replaces what it says, not when it was first seen.
        held.hold(device(2), 500, "b2");
        assert_eq!(held.len(), 2);
        assert_eq!(held.next_due(1_000), Some(1_100));
        assert!(held.take_ripe(1_000, 1_099).is_empty());
        assert_eq!(held.take_ripe(1_000, 1_100), vec![(device(2), "b2")]);
        assert_eq!(held.next_due(1_000), Some(1_300));
        // Held again after it was told: a new wait from now.
        held.hold(device(2), 1_200, "c");
        assert_eq!(
            held.take_ripe(1_000, 5_000),
            vec![(device(1), "a"), (device(2), "c")]
        );
        assert!(held.is_empty());
        assert_eq!(held.next_due(1_000), None);
    }

    #[test]
    fn held_changes_of_the_same_moment_all_come_out() {
        let mut held = Held::default();
        for n in 0..50 {
            held.hold(device(n), 7, n);
        }
        assert_eq!(held.take_ripe(0, 7).len(), 50);
        assert!(held.is_empty());
    }
}
