//! The company's information and logo.

use crate::audit::Record;
use crate::error::Fields;
use crate::{App, AppError, Principal, Result};
use serde::{Deserialize, Serialize};
use siteward_core::policy::{Action, authorize};
use siteward_core::validate;
use siteward_store::{Company, CompanyInfo};
use utoipa::ToSchema;

/// A company as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompanyView {
    /// Company id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Postal address.
    pub address: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// Where the logo is served, when there is one (changes when the logo does).
    pub logo_url: Option<String>,
    /// When registered, RFC 3339.
    pub created_at: String,
}

impl From<&Company> for CompanyView {
    fn from(c: &Company) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name.clone(),
            region: c.region.to_string(),
            address: c.address.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            website: c.website.clone(),
            logo_url: c
                .logo
                .as_ref()
                .map(|(_, at)| format!("/api/v1/company/logo?v={at}")),
            created_at: crate::rfc3339(c.created_at),
        }
    }
}

/// `PATCH /api/v1/company`: absent fields stay; an empty string clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyInput {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Postal address.
    #[serde(default)]
    pub address: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Contact e-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Web site.
    #[serde(default)]
    pub website: Option<String>,
}

impl App {
    async fn own_company(&self, p: &Principal) -> Result<Company> {
        let id = p.company_id().ok_or(AppError::NotFound("company"))?;
        authorize(&p.actor, Action::ViewCompany(id)).map_err(AppError::refused("company"))?;
        self.inner
            .store
            .read()
            .await?
            .company(id)
            .await?
            .ok_or(AppError::NotFound("company"))
    }

    /// The signed-in installer's company.
    pub async fn company(&self, p: &Principal) -> Result<CompanyView> {
        Ok(CompanyView::from(&self.own_company(p).await?))
    }

    /// Changes the company's information (Installer Admin only).
    pub async fn update_company(&self, p: &Principal, input: CompanyInput) -> Result<CompanyView> {
        let mut company = self.own_company(p).await?;
        authorize(&p.actor, Action::EditCompany(company.id))
            .map_err(AppError::refused("company"))?;
        let mut f = Fields::default();
        let opt = |v: &Option<String>, cur: &Option<String>| {
            v.clone().unwrap_or_else(|| cur.clone().unwrap_or_default())
        };
        let info = CompanyInfo {
            name: f.take(validate::required_text(
                "name",
                input.name.as_deref().unwrap_or(&company.name),
                120,
            )),
            address: f.take(validate::optional_text(
                "address",
                &opt(&input.address, &company.address),
                300,
            )),
            phone: f.take(validate::optional_phone(
                "phone",
                &opt(&input.phone, &company.phone),
            )),
            email: f.take(validate::optional_email(
                "email",
                &opt(&input.email, &company.email),
            )),
            website: f.take(validate::optional_website(
                "website",
                &opt(&input.website, &company.website),
            )),
        };
        f.finish()?;
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        h.update_company(company.id, &info, now).await?;
        Record {
            company_id: Some(company.id),
            site_id: None,
            action: "company.update",
            summary: format!("{} changed the company information", p.user.name),
            detail: serde_json::json!({
                "name": info.name, "address": info.address, "phone": info.phone,
                "email": info.email, "website": info.website,
            }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        company.name = info.name;
        company.address = info.address;
        company.phone = info.phone;
        company.email = info.email;
        company.website = info.website;
        company.updated_at = now;
        Ok(CompanyView::from(&company))
    }

    /// Replaces the company's logo after checking the image by its content.
    pub async fn set_logo(&self, p: &Principal, bytes: &[u8]) -> Result<CompanyView> {
        let mut company = self.own_company(p).await?;
        authorize(&p.actor, Action::EditCompany(company.id))
            .map_err(AppError::refused("company"))?;
        let media_type = crate::image::check_logo(bytes)?;
        let now = self.now();
        let mut h = self.inner.store.begin().await?;
        h.set_company_logo(company.id, bytes, media_type, now)
            .await?;
        Record {
            company_id: Some(company.id),
            site_id: None,
            action: "company.logo",
            summary: format!("{} uploaded a new logo", p.user.name),
            detail: serde_json::json!({ "media_type": media_type, "bytes": bytes.len() }),
            by: Some(p),
        }
        .write(&mut h, now)
        .await?;
        h.commit().await?;
        company.logo = Some((media_type.to_owned(), now));
        Ok(CompanyView::from(&company))
    }

    /// The company's logo and its media type.
    pub async fn logo(&self, p: &Principal) -> Result<(Vec<u8>, String)> {
        let company = self.own_company(p).await?;
        self.inner
            .store
            .read()
            .await?
            .company_logo(company.id)
            .await?
            .ok_or(AppError::NotFound("logo"))
    }
}
