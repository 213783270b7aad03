//! Hand-over: owner invitations, site authorizations and
//! the change of installation company — the installer's side under `sites`, the
//! end user's under `me`, `invitations`, `authorization-requests` and `claims`.

use super::{Body, ListPage, Pagination, created, path_id};
use crate::AppState;
use crate::auth::Auth;
use crate::problem::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;
use siteward_app::{
    AcceptInput, ApproveInput, AuthorizationInput, AuthorizationView, ClaimInput, ClaimView,
    InvitationInput, InvitationList, InvitationView,
};
use siteward_store::Page;

/// A JSON body that may be left out (then its default), with every failure a
/// problem document like [`Body`].
pub(crate) struct OptionalBody<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(Problem::from)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(T::default()));
        }
        let Json(v) = Json::<T>::from_bytes(&bytes).map_err(Problem::from)?;
        Ok(OptionalBody(v))
    }
}

// ---------------------------------------------------------------- installers

/// Invites the customer's end-user account, by e-mail, to own the site,
/// optionally with the authorization the installer keeps after hand-over.
/// Refused with 422 when no end-user account has the address
/// (`handover.no_end_user_account`), its region differs from the site's
/// (`handover.region_mismatch`) or its app is too old (`handover.app_too_old`);
/// 409 when the site has an owner or a waiting invitation.
#[utoipa::path(post, path = "/api/v1/sites/{id}/invitation", tag = "handover", security(("bearer" = [])),
    request_body = InvitationInput,
    responses((status = 201, body = InvitationView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn invite_owner(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Body(input): Body<InvitationInput>,
) -> Result<impl IntoResponse, Problem> {
    Ok(created(
        s.app.invite_owner(&p, path_id(&id, "site")?, input).await?,
    ))
}

/// Withdraws the site's unanswered owner invitation.
#[utoipa::path(delete, path = "/api/v1/sites/{id}/invitation", tag = "handover", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn withdraw_invitation(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    s.app.withdraw_invitation(&p, path_id(&id, "site")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies to the owner of a handed-over site for an authorization:
/// permissions, optionally only on chosen devices, for 1, 2, 4, 8 or 24 hours or
/// permanently, with a remark.
#[utoipa::path(post, path = "/api/v1/sites/{id}/authorization-requests", tag = "handover", security(("bearer" = [])),
    request_body = AuthorizationInput,
    responses((status = 201, body = AuthorizationView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn apply_authorization(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Body(input): Body<AuthorizationInput>,
) -> Result<impl IntoResponse, Problem> {
    Ok(created(
        s.app
            .apply_authorization(&p, path_id(&id, "site")?, input)
            .await?,
    ))
}

/// The site's authorizations with their state now, newest first: an installer
/// sees the company's own, the owner all of them (addition to the contract).
#[utoipa::path(get, path = "/api/v1/sites/{id}/authorizations", tag = "handover", security(("bearer" = [])),
    responses((status = 200, body = ListPage<AuthorizationView>), (status = 404, body = Problem)))]
pub(crate) async fn site_authorizations(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<ListPage<AuthorizationView>>, Problem> {
    let items = s.app.site_authorizations(&p, path_id(&id, "site")?).await?;
    Ok(Json(
        Page {
            items,
            next_cursor: None,
        }
        .into(),
    ))
}

/// Gives up the company's authorization on the site early, and withdraws an
/// application the owner has not answered (R-10; addition to the contract).
#[utoipa::path(post, path = "/api/v1/sites/{id}/authorization/release", tag = "handover", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn release_authorization(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    s.app
        .release_authorization(&p, path_id(&id, "site")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds an existing, handed-over site to the company by its Site ID (R-11,
/// Installer Admin): the owner confirms in the app, then the site is the
/// company's.
#[utoipa::path(post, path = "/api/v1/sites/claim", tag = "handover", security(("bearer" = [])),
    request_body = ClaimInput,
    responses((status = 201, body = ClaimView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn claim_site(
    State(s): State<AppState>,
    Auth(p): Auth,
    Body(input): Body<ClaimInput>,
) -> Result<impl IntoResponse, Problem> {
    Ok(created(s.app.claim_site(&p, input).await?))
}

// ---------------------------------------------------------------- end users

/// The invitations to own a site sent to me, newest first; empty
/// while my app is too old to handle them (`client` says so).
#[utoipa::path(get, path = "/api/v1/me/invitations", tag = "handover", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = InvitationList), (status = 401, body = Problem)))]
pub(crate) async fn my_invitations(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<Pagination>,
) -> Result<Json<InvitationList>, Problem> {
    Ok(Json(
        s.app.my_invitations(&p, q.cursor(), q.limit()?).await?,
    ))
}

/// Accepts an invitation: the site is handed over and I own it. The
/// authorization the invitation asks for is approved with it unless
/// `approve_authorization` is false; `duration_hours` shortens it. The body is
/// optional.
#[utoipa::path(post, path = "/api/v1/invitations/{id}/accept", tag = "handover", security(("bearer" = [])),
    request_body = AcceptInput,
    responses((status = 200, body = InvitationView), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn accept_invitation(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    OptionalBody(input): OptionalBody<AcceptInput>,
) -> Result<Json<InvitationView>, Problem> {
    Ok(Json(
        s.app
            .accept_invitation(&p, path_id(&id, "invitation")?, input)
            .await?,
    ))
}

/// Declines an invitation; the installer sees it.
#[utoipa::path(post, path = "/api/v1/invitations/{id}/decline", tag = "handover", security(("bearer" = [])),
    responses((status = 200, body = InvitationView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub(crate) async fn decline_invitation(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<InvitationView>, Problem> {
    Ok(Json(
        s.app
            .decline_invitation(&p, path_id(&id, "invitation")?)
            .await?,
    ))
}

/// The authorization requests and authorizations on my sites, newest first, with
/// their state now.
#[utoipa::path(get, path = "/api/v1/me/authorization-requests", tag = "handover", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = ListPage<AuthorizationView>), (status = 401, body = Problem)))]
pub(crate) async fn my_authorization_requests(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<Pagination>,
) -> Result<Json<ListPage<AuthorizationView>>, Problem> {
    Ok(Json(
        s.app
            .my_authorization_requests(&p, q.cursor(), q.limit()?)
            .await?
            .into(),
    ))
}

/// Approves an authorization request, for the time asked or — with
/// `duration_hours` — a shorter one. The body is optional.
#[utoipa::path(post, path = "/api/v1/authorization-requests/{id}/approve", tag = "handover", security(("bearer" = [])),
    request_body = ApproveInput,
    responses((status = 200, body = AuthorizationView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn approve_authorization(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    OptionalBody(input): OptionalBody<ApproveInput>,
) -> Result<Json<AuthorizationView>, Problem> {
    Ok(Json(
        s.app
            .approve_authorization(&p, path_id(&id, "authorization request")?, input)
            .await?,
    ))
}

/// Rejects an authorization request.
#[utoipa::path(post, path = "/api/v1/authorization-requests/{id}/reject", tag = "handover", security(("bearer" = [])),
    responses((status = 200, body = AuthorizationView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub(crate) async fn reject_authorization(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<AuthorizationView>, Problem> {
    Ok(Json(
        s.app
            .reject_authorization(&p, path_id(&id, "authorization request")?)
            .await?,
    ))
}

/// Cancels the installer's authorization on my site, at once.
#[utoipa::path(delete, path = "/api/v1/sites/{id}/authorization", tag = "handover", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn cancel_authorization(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    s.app
        .cancel_authorization(&p, path_id(&id, "site")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Installation companies asking to take over my sites, newest first (R-11;
/// addition to the contract).
#[utoipa::path(get, path = "/api/v1/me/claims", tag = "handover", security(("bearer" = [])), params(Pagination),
    responses((status = 200, body = ListPage<ClaimView>), (status = 401, body = Problem)))]
pub(crate) async fn my_claims(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<Pagination>,
) -> Result<Json<ListPage<ClaimView>>, Problem> {
    Ok(Json(
        s.app.my_claims(&p, q.cursor(), q.limit()?).await?.into(),
    ))
}

/// Confirms a company's claim: it manages the site from now on. Refused
/// while the previous company still holds an authorization in force.
#[utoipa::path(post, path = "/api/v1/claims/{id}/confirm", tag = "handover", security(("bearer" = [])),
    responses((status = 200, body = ClaimView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub(crate) async fn confirm_claim(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<ClaimView>, Problem> {
    Ok(Json(s.app.confirm_claim(&p, path_id(&id, "claim")?).await?))
}

/// Declines a company's claim.
#[utoipa::path(post, path = "/api/v1/claims/{id}/decline", tag = "handover", security(("bearer" = [])),
    responses((status = 200, body = ClaimView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub(crate) async fn decline_claim(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<ClaimView>, Problem> {
    Ok(Json(s.app.decline_claim(&p, path_id(&id, "claim")?).await?))
}
