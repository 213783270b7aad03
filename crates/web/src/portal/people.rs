//! The employees page (Installer Admin, IT Manager).

use super::{
    Layout, PageError, PortalUser, check_csrf, error_text, redirect_with, render, take_flash,
};
use crate::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use siteward_app::{EmployeeChange, NewEmployee};
use siteward_core::Role;

pub(crate) struct EmployeeRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    active: bool,
    is_me: bool,
}

#[derive(Template)]
#[template(path = "employees.html")]
struct EmployeesPage {
    layout: Layout,
    employees: Vec<EmployeeRow>,
    roles: Vec<(&'static str, &'static str)>,
}

pub(crate) async fn list(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let (jar, flash) = take_flash(jar);
    let layout = Layout::new(&s, &p, "Employees", flash).await?;
    let mut employees = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = s.app.list_employees(&p, cursor.as_deref(), 200).await?;
        employees.extend(page.items.into_iter().map(|u| EmployeeRow {
            is_me: u.id == p.user.id.to_string(),
            role: u.role.map_or("", Role::as_str),
            id: u.id,
            name: u.name,
            email: u.email,
            active: u.active,
        }));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let roles = Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect();
    Ok((
        jar,
        render(&EmployeesPage {
            layout,
            employees,
            roles,
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
}

fn role(raw: &str) -> Result<Role, siteward_app::AppError> {
    raw.parse()
        .map_err(|_| siteward_app::AppError::invalid("role", "choose a role"))
}

pub(crate) async fn add(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Form(f): Form<AddForm>,
) -> Result<Response, PageError> {
    check_csrf(&p, &f.csrf)?;
    let result = match role(&f.role) {
        Ok(role) => {
            s.app
                .add_employee(
                    &p,
                    NewEmployee {
                        name: f.name,
                        email: f.email,
                        password: f.password,
                        role,
                    },
                )
                .await
        }
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok(u) => redirect_with(
            jar,
            "/portal/employees",
            true,
            &format!("{} can now sign in as {}.", u.name, u.email),
        ),
        Err(e) => redirect_with(jar, "/portal/employees#new", false, &error_text(e)),
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChangeForm {
    #[serde(default)]
    csrf: String,
    role: Option<String>,
    active: Option<String>,
}

pub(crate) async fn change(
    State(s): State<AppState>,
    PortalUser(p): PortalUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<ChangeForm>,
) -> Result<Response, PageError> {
    check_csrf(&p, &f.csrf)?;
    let id = id
        .parse()
        .map_err(|_| PageError::from(siteward_app::AppError::NotFound("employee")))?;
    let change = (|| {
        Ok::<_, siteward_app::AppError>(EmployeeChange {
            role: f.role.as_deref().map(role).transpose()?,
            active: f.active.as_deref().map(|a| a == "true"),
            ..EmployeeChange::default()
        })
    })();
    let result = match change {
        Ok(c) => s.app.change_employee(&p, id, c).await,
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok(u) => redirect_with(
            jar,
            "/portal/employees",
            true,
            &format!("{} updated.", u.name),
        ),
        Err(e) => redirect_with(jar, "/portal/employees", false, &error_text(e)),
    })
}
