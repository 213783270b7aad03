//! The company page: information and logo.

use super::{
    Layout, PageError, PortalUser, check_csrf, error_text, redirect_with, render, take_flash,
};
use crate::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use siteward_app::{CompanyInput, CompanyView};
use siteward_core::Role;

#[derive(Template)]
#[template(path = "company.html")]
struct CompanyPage {
    layout: Layout,
    company: CompanyView,
    can_edit: bool,
}

pub(crate) async fn show(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let (jar, flash) = take_flash(jar);
    let layout = Layout::new(&s, &p, "Company", flash).await?;
    let company = s.app.company(&p).await?;
    let can_edit = p.user.role == Some(Role::InstallerAdmin);
    Ok((
        jar,
        render(&CompanyPage {
            layout,
            company,
            can_edit,
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct CompanyForm {
    #[serde(default)]
    csrf: String,
    name: Option<String>,
    address: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    website: Option<String>,
}

pub(crate) async fn update(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Form(f): Form<CompanyForm>,
) -> Result<Response, PageError> {
    check_csrf(&p, &f.csrf)?;
    let input = CompanyInput {
        name: f.name,
        address: f.address,
        phone: f.phone,
        email: f.email,
        website: f.website,
    };
    Ok(match s.app.update_company(&p, input).await {
        Ok(_) => redirect_with(jar, "/portal/company", true, "Company information saved."),
        Err(e) => redirect_with(jar, "/portal/company", false, &error_text(e)),
    })
}

/// The logo form: the CSRF field first, then the file.
pub(crate) async fn upload_logo(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let bad = |text: &str| PageError::new(axum::http::StatusCode::BAD_REQUEST, text);
    let mut csrf = String::new();
    let mut logo = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| bad("The upload was cut off; please try again."))?
    {
        match field.name() {
            Some("csrf") => {
                csrf = field
                    .text()
                    .await
                    .map_err(|_| bad("The form was damaged."))?
            }
            Some("logo") => {
                check_csrf(&p, &csrf)?;
                logo = Some(
                    field
                        .bytes()
                        .await
                        .map_err(|_| bad("The upload was cut off or is larger than 1 MiB."))?,
                );
            }
            _ => {}
        }
    }
    check_csrf(&p, &csrf)?;
    let Some(bytes) = logo else {
        return Ok(redirect_with(
            jar,
            "/portal/company",
            false,
            "Choose an image file to upload.",
        ));
    };
    Ok(match s.app.set_logo(&p, &bytes).await {
        Ok(_) => redirect_with(jar, "/portal/company", true, "Logo updated."),
        Err(e) => redirect_with(jar, "/portal/company", false, &error_text(e)),
    })
}
