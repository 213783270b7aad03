//! Signing in, signing up and signing out in the end-user app.
//!
//! The same session as the portal and the API: a successful sign-in sets the one
//! session cookie. Before sign-in the forms carry the portal's double-submit token;
//! sign-out carries the session's CSRF secret. The web app reports its own version
//! ([`WEB_APP_VERSION`]) at sign-up and sign-in.

use super::{AppUser, HOME, WEB_APP_VERSION, check_form};
use crate::AppState;
use crate::auth::{SESSION_COOKIE, peer};
use crate::portal::session::{EXPIRED_FORM, pre_csrf, pre_csrf_ok, session_cookie};
use crate::portal::{error_text, redirect_with, render, take_flash};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use serde::Deserialize;
use siteward_app::{AppError, EndUserSignUp, LoginInput};
use siteward_core::policy::Actor;
use std::collections::HashMap;

/// Where a signed-in person belongs: end users in the app, installers in the
/// portal.
fn home_of(actor: &Actor) -> &'static str {
    match actor {
        Actor::EndUser(_) => HOME,
        _ => "/portal",
    }
}

/// The person already signed in with this browser, if any.
async fn signed_in(s: &AppState, jar: &CookieJar) -> Option<Actor> {
    let token = jar.get(SESSION_COOKIE)?;
    s.app
        .authenticate(token.value())
        .await
        .ok()
        .map(|p| p.actor)
}

#[derive(Template)]
#[template(path = "app_login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
}

pub(crate) async fn login_page(State(s): State<AppState>, jar: CookieJar) -> Response {
    if let Some(actor) = signed_in(&s, &jar).await {
        return Redirect::to(home_of(&actor)).into_response();
    }
    let (jar, flash) = take_flash(jar);
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
    let again = |jar: CookieJar, email: String, error: String| {
        let (jar, csrf) = pre_csrf(jar, secure);
        (
            jar,
            render(&LoginPage {
                csrf,
                email,
                error: Some(error),
                notice: None,
            }),
        )
            .into_response()
    };
    if !pre_csrf_ok(&jar, &form.csrf) {
        return again(jar, form.email, EXPIRED_FORM.into());
    }
    let input = LoginInput {
        email: form.email.clone(),
        password: form.password,
        app_version: Some(WEB_APP_VERSION.into()),
    };
    match s.app.login(input, peer(&parts)).await {
        Ok((token, p)) => {
            // One sign-in for both sides: an installer lands in the portal.
            let home = home_of(&p.actor);
            (jar.add(session_cookie(token, secure)), Redirect::to(home)).into_response()
        }
        Err(e) => again(jar, form.email, error_text(e)),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SignUpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "app_signup.html")]
struct SignUpPage {
    csrf: String,
    form: SignUpForm,
    regions: Vec<String>,
    error: Option<String>,
    errors: HashMap<String, String>,
}

async fn regions(s: &AppState) -> Vec<String> {
    s.app.sign_up_regions().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "regions not loaded");
        siteward_app::DEFAULT_REGIONS
            .iter()
            .map(|r| (*r).to_owned())
            .collect()
    })
}

pub(crate) async fn signup_page(State(s): State<AppState>, jar: CookieJar) -> Response {
    if let Some(actor) = signed_in(&s, &jar).await {
        return Redirect::to(home_of(&actor)).into_response();
    }
    let (jar, csrf) = pre_csrf(jar, s.config.secure_cookies());
    (
        jar,
        render(&SignUpPage {
            csrf,
            form: SignUpForm::default(),
            regions: regions(&s).await,
            error: None,
            errors: HashMap::new(),
        }),
    )
        .into_response()
}

pub(crate) async fn signup(
    State(s): State<AppState>,
    jar: CookieJar,
    parts: Parts,
    Form(mut form): Form<SignUpForm>,
) -> Response {
    let secure = s.config.secure_cookies();
    let (jar, csrf) = pre_csrf(jar, secure);
    let password = std::mem::take(&mut form.password);
    let mut page = SignUpPage {
        csrf,
        regions: regions(&s).await,
        error: None,
        errors: HashMap::new(),
        form,
    };
    if !pre_csrf_ok(&jar, &page.form.csrf) {
        page.error = Some(EXPIRED_FORM.into());
        return (jar, render(&page)).into_response();
    }
    let f = &page.form;
    let input = EndUserSignUp {
        email: f.email.clone(),
        password: password.clone(),
        name: f.name.clone(),
        region: f.region.clone(),
        app_version: WEB_APP_VERSION.into(),
    };
    let address = peer(&parts);
    let created = match s.app.sign_up_end_user(input, address).await {
        Ok(u) => u,
        Err(AppError::Invalid(fields)) => {
            page.errors = fields.into_iter().map(|f| (f.field, f.message)).collect();
            page.error = Some("Please correct the marked fields.".into());
            return (jar, render(&page)).into_response();
        }
        Err(e) => {
            page.error = Some(error_text(e));
            return (jar, render(&page)).into_response();
        }
    };
    // Signed up: signed in at once, with the same credentials.
    let input = LoginInput {
        email: created.user.email.clone(),
        password,
        app_version: Some(WEB_APP_VERSION.into()),
    };
    match s.app.login(input, address).await {
        Ok((token, _)) => redirect_with(
            jar.add(session_cookie(token, secure)),
            HOME,
            true,
            &format!(
                "Welcome, {}. When your installer hands a site over to you, it appears here.",
                created.user.name
            ),
        ),
        Err(e) => redirect_with(jar, "/app/login", false, &error_text(e)),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn logout(
    State(s): State<AppState>,
    AppUser(p): AppUser,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = check_form(&p, &form.csrf) {
        return refused;
    }
    if let Err(e) = s.app.logout(&p).await {
        tracing::warn!(error = %e, "sign-out failed");
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    redirect_with(jar, "/app/login", true, "You are signed out.")
}
