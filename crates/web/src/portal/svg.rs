//! Pictures drawn on the server as SVG: usage bars, the battery gauge, and the
//! stacked bar of a site's devices by level. Built from numbers only, so they are
//! safe to embed unescaped.

use siteward_core::health::Level;

/// The colour of a level.
pub(crate) fn level_colour(level: Level) -> &'static str {
    match level {
        Level::Normal => "#1d8a52",
        Level::Unknown => "#9aa3b2",
        Level::Warning => "#d99113",
        Level::Abnormal => "#c2362f",
        Level::Offline => "#4b5567",
    }
}

/// A horizontal bar filled to `pct`, coloured by how full it is.
pub(crate) fn usage_bar(pct: u8) -> String {
    let pct = pct.min(100);
    let colour = match pct {
        0..=79 => "#1f4fd1",
        80..=94 => "#d99113",
        _ => "#c2362f",
    };
    let w = u32::from(pct) * 2;
    format!(
        r##"<svg class="bar" width="200" height="14" viewBox="0 0 200 14" role="img" aria-label="{pct} % used"><rect width="200" height="14" rx="7" fill="#e6ebf2"/><rect width="{w}" height="14" rx="7" fill="{colour}"/></svg>"##
    )
}

/// A half-circle gauge for a battery charge.
pub(crate) fn battery_gauge(pct: u8) -> String {
    let pct = pct.min(100);
    let colour = match pct {
        0..=20 => "#c2362f",
        21..=35 => "#d99113",
        _ => "#1d8a52",
    };
    // The arc runs from 180° to 0°; its end point follows the charge.
    let angle = std::f64::consts::PI * (1.0 - f64::from(pct) / 100.0);
    let (x, y) = (60.0 + 50.0 * angle.cos(), 60.0 - 50.0 * angle.sin());
    format!(
        r##"<svg class="gauge" width="120" height="72" viewBox="0 0 120 72" role="img" aria-label="Battery {pct} %"><path d="M10 60 A50 50 0 0 1 110 60" fill="none" stroke="#e6ebf2" stroke-width="12" stroke-linecap="round"/><path d="M10 60 A50 50 0 0 1 {x:.1} {y:.1}" fill="none" stroke="{colour}" stroke-width="12" stroke-linecap="round"/><text x="60" y="58" text-anchor="middle" font-size="18" font-weight="700" fill="#142033">{pct} %</text></svg>"##
    )
}

/// A stacked bar of device counts by level, worst first.
pub(crate) fn level_stack(counts: &[(Level, i64)]) -> String {
    let total: i64 = counts.iter().map(|(_, n)| *n).sum();
    if total == 0 {
        return String::new();
    }
    let mut x = 0.0;
    let mut parts = String::new();
    for level in Level::WORST_FIRST {
        let n = counts
            .iter()
            .filter(|(l, _)| *l == level)
            .map(|(_, n)| *n)
            .sum::<i64>();
        if n == 0 {
            continue;
        }
        let w = 240.0 * n as f64 / total as f64;
        parts.push_str(&format!(
            r#"<rect x="{x:.1}" width="{w:.1}" height="12" fill="{}"><title>{n} {}</title></rect>"#,
            level_colour(level),
            level.as_str()
        ));
        x += w;
    }
    format!(
        r#"<svg class="stack" width="240" height="12" viewBox="0 0 240 12" role="img" aria-label="devices by level">{parts}</svg>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_follow_their_numbers() {
        assert!(usage_bar(50).contains(r#"width="100""#));
        assert!(usage_bar(97).contains("#c2362f"));
        assert!(usage_bar(250).contains("100 % used"), "clamped");
        assert!(battery_gauge(12).contains("#c2362f") && battery_gauge(12).contains("12 %"));
        assert!(battery_gauge(100).contains("A50 50 0 0 1 110.0 60.0"));
        let stack = level_stack(&[(Level::Normal, 3), (Level::Offline, 1)]);
        assert!(
            stack.find("offline").unwrap_or(usize::MAX) < stack.find("normal").unwrap_or(0),
            "worst first: {stack}"
        );
        assert_eq!(level_stack(&[]), "");
    }
}
