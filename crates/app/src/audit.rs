//! The audit log: every change records who did what, when, on which site.

use crate::{Principal, Result, new_uuid};
use serde::Serialize;
use siteward_core::{CompanyId, SiteId};
use siteward_store::{AuditEntry, Handle};
use utoipa::ToSchema;

/// What a use case records; written in the same transaction as the change itself,
/// so a change and its record stand or fall together.
pub(crate) struct Record<'a> {
    pub(crate) company_id: Option<CompanyId>,
    pub(crate) site_id: Option<SiteId>,
    pub(crate) action: &'static str,
    pub(crate) summary: String,
    pub(crate) detail: serde_json::Value,
    pub(crate) by: Option<&'a Principal>,
}

impl Record<'_> {
    pub(crate) async fn write(self, h: &mut Handle, now: i64) -> Result<()> {
        let entry = AuditEntry {
            id: new_uuid().to_string(),
            at: now,
            company_id: self.company_id,
            site_id: self.site_id,
            actor_id: self.by.map(|p| p.user.id),
            actor_name: self
                .by
                .map_or_else(|| "Siteward".to_owned(), |p| p.user.name.clone()),
            action: self.action.to_owned(),
            summary: self.summary,
            detail: self.detail,
        };
        h.insert_audit(&entry).await?;
        Ok(())
    }
}

/// One audit entry as the API and the portal show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditView {
    /// Entry id (time-ordered).
    pub id: String,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who acted (absent for Siteward itself).
    pub actor_id: Option<String>,
    /// The actor's name at the time.
    pub actor_name: String,
    /// A stable action name such as `site.create`.
    pub action: String,
    /// The site concerned.
    pub site_id: Option<String>,
    /// What happened, in words.
    pub summary: String,
    /// Details as JSON (changed fields, …).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            at: crate::clock::rfc3339(e.at),
            actor_id: e.actor_id.map(|v| v.to_string()),
            actor_name: e.actor_name,
            action: e.action,
            site_id: e.site_id.map(|v| v.to_string()),
            summary: e.summary,
            detail: e.detail,
        }
    }
}
