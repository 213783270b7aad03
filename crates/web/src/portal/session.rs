//! Signing in and out, and registering a company, in the browser.
//!
//! Before sign-in there is no session to hold a CSRF secret, so these forms use a
//! double-submit token: a random cookie that the form must repeat.

use super::{PortalUser, check_csrf, render};
use crate::AppState;
use crate::auth::{SESSION_COOKIE, peer, same_secret};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use rand::RngCore;
use serde::Deserialize;
use siteward_app::{
    AppError, LoginInput, RegistrationAdmin, RegistrationCompany, RegistrationInput,
};
use std::collections::HashMap;

pub(crate) const PRE_CSRF_COOKIE: &str = "sw_precsrf";

pub(crate) fn pre_csrf(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    if let Some(c) = jar.get(PRE_CSRF_COOKIE).filter(|c| c.value().len() == 32) {
        let v = c.value().to_owned();
        return (jar, v);
    }
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let v = hex::encode(bytes);
    let cookie = Cookie::build((PRE_CSRF_COOKIE, v.clone()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .build();
    (jar.add(cookie), v)
}

pub(crate) fn pre_csrf_ok(jar: &CookieJar, sent: &str) -> bool {
    jar.get(PRE_CSRF_COOKIE)
        .is_some_and(|c| same_secret(c.value(), sent))
}

pub(crate) const EXPIRED_FORM: &str = "This form had expired. Please try again.";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
}

pub(crate) async fn login_page(
    State(s): State<AppState>,
    user: Option<PortalUser>,
    jar: CookieJar,
) -> Response {
    if user.is_some() {
        return Redirect::to("/portal").into_response();
    }
    let (jar, flash) = super::take_flash(jar);
    let (jar, csrf) = pre_csrf(jar, s.config.secure_cookies());
    let (error, notice) = match flash {
        Some(f) if f.kind == "ok" => (None, Some(f.text)),
        Some(f) => (Some(f.text), None),
        None => (None, None),
    };
    (
        jar,
        render(&LoginPage {
            csrf,
            email: String::new(),
            error,
            notice,
        }),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn login(
    State(s): State<AppState>,
    jar: CookieJar,
    parts: Parts,
    Form(form): Form<LoginForm>,
) -> Response {
    let secure = s.config.secure_cookies();
    if !pre_csrf_ok(&jar, &form.csrf) {
        let (jar, csrf) = pre_csrf(jar, secure);
        return (
            jar,
            render(&LoginPage {
                csrf,
                email: form.email,
                error: Some(EXPIRED_FORM.into()),
                notice: None,
            }),
        )
            .into_response();
    }
    let input = LoginInput {
        email: form.email.clone(),
        password: form.password,
        app_version: None,
    };
    match s.app.login(input, peer(&parts)).await {
        Ok((token, p))
            if matches!(
                p.actor,
                siteward_core::policy::Actor::Installer(_)
                    | siteward_core::policy::Actor::EndUser(_)
            ) =>
        {
            // An end user who signs in here is at home in the end-user app.
            let home = match p.actor {
                siteward_core::policy::Actor::EndUser(_) => crate::enduser::HOME,
                _ => "/portal",
            };
            (jar.add(session_cookie(token, secure)), Redirect::to(home)).into_response()
        }
        Ok((_, p)) => {
            let _ = s.app.logout(&p).await;
            let (jar, csrf) = pre_csrf(jar, secure);
            let error =
                Some("The installer portal is for installation companies' employees.".into());
            (
                jar,
                render(&LoginPage {
                    csrf,
                    email: form.email,
                    error,
                    notice: None,
                }),
            )
                .into_response()
        }
        Err(e) => {
            let (jar, csrf) = pre_csrf(jar, secure);
            let error = Some(super::error_text(e));
            (
                jar,
                render(&LoginPage {
                    csrf,
                    email: form.email,
                    error,
                    notice: None,
                }),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    auth_code: String,
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    admin_name: String,
    #[serde(default)]
    email: String,
    #[serde(default, skip_serializing)]
    password: String,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    csrf: String,
    form: RegisterForm,
    error: Option<String>,
    errors: HashMap<String, String>,
}

pub(crate) async fn register_page(State(s): State<AppState>, jar: CookieJar) -> Response {
    let (jar, csrf) = pre_csrf(jar, s.config.secure_cookies());
    (
        jar,
        render(&RegisterPage {
            csrf,
            form: RegisterForm::default(),
            error: None,
            errors: HashMap::new(),
        }),
    )
        .into_response()
}

pub(crate) async fn register(
    State(s): State<AppState>,
    jar: CookieJar,
    Form(mut form): Form<RegisterForm>,
) -> Response {
    let secure = s.config.secure_cookies();
    let (jar, csrf) = pre_csrf(jar.clone(), secure);
    if !pre_csrf_ok(&jar, &form.csrf) {
        form.password.clear();
        return (
            jar,
            render(&RegisterPage {
                csrf,
                form,
                error: Some(EXPIRED_FORM.into()),
                errors: HashMap::new(),
            }),
        )
            .into_response();
    }
    let input = RegistrationInput {
        auth_code: form.auth_code.clone(),
        company: RegistrationCompany {
            name: form.company_name.clone(),
            region: Some(form.region.clone()),
            ..RegistrationCompany::default()
        },
        admin: RegistrationAdmin {
            name: form.admin_name.clone(),
            email: form.email.clone(),
            password: std::mem::take(&mut form.password),
        },
    };
    match s.app.register_company(input).await {
        Ok(r) => super::redirect_with(
            jar,
            "/login",
            true,
            &format!(
                "{} is registered. Sign in as {} to set up your sites.",
                r.company.name, r.admin.email
            ),
        ),
        Err(AppError::Invalid(fields)) => {
            let errors = fields.into_iter().map(|f| (f.field, f.message)).collect();
            let error = Some("Please correct the marked fields.".into());
            (
                jar,
                render(&RegisterPage {
                    csrf,
                    form,
                    error,
                    errors,
                }),
            )
                .into_response()
        }
        Err(e) => {
            let error = Some(super::error_text(e));
            (
                jar,
                render(&RegisterPage {
                    csrf,
                    form,
                    error,
                    errors: HashMap::new(),
                }),
            )
                .into_response()
        }
    }
}

/// The session cookie the portal and the end-user app share.
pub(crate) fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build()
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub(crate) csrf: String,
}

pub(crate) async fn logout(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response, super::PageError> {
    check_csrf(&p, &form.csrf)?;
    if let Err(e) = s.app.logout(&p).await {
        tracing::warn!(error = %e, "sign-out failed");
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok(super::redirect_with(
        jar,
        "/login",
        true,
        "You are signed out.",
    ))
}
