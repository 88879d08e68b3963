//! `glctl apply`: PgBouncer's `auth_query` lookup, made in the database for an environment with
//! `pooling.kind: pgbouncer` (`render::auth_setup_sql`): the lookup login role, the schema `pgbouncer` and
//! the SECURITY DEFINER function `pgbouncer.user_lookup` with a pinned `search_path`. Run by a superuser, the
//! function is owned by a NOLOGIN role that may read `pg_shadow` and nothing else; otherwise it stays with the
//! role that ran apply. Idempotent: a second apply changes nothing. The login role gets no password here.

use std::future::Future;
use std::pin::Pin;

use tokio_postgres::Client;

use super::render::{auth_setup_sql, LOOKUP_OWNER};
use crate::config::model::Environment;
use crate::config::pooling::PoolKind;
use crate::database::connect;

/// Makes the lookup; returns what it says about the result, or `None` when the environment has no PgBouncer.
pub async fn ensure(client: &Client, env: &Environment) -> Result<Option<String>, String> {
    if env.pooling.kind != PoolKind::Pgbouncer {
        return Ok(None);
    }
    let superuser: bool = client
        .query_one("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", &[])
        .await
        .map_err(|e| format!("reading whether the applying role is a superuser failed: {}", connect::reason(&e)))?
        .get(0);
    client
        .batch_execute(&auth_setup_sql(env, superuser))
        .await
        .map_err(|e| format!("making PgBouncer's auth_query lookup failed: {}", connect::reason(&e)))?;
    let owner: String = client
        .query_one("SELECT pg_get_userbyid(proowner)::text FROM pg_proc WHERE oid = 'pgbouncer.user_lookup(text)'::regprocedure", &[])
        .await
        .map_err(|e| format!("reading the lookup function's owner failed: {}", connect::reason(&e)))?
        .get(0);
    let note = if owner == LOOKUP_OWNER {
        format!("PgBouncer lookup pgbouncer.user_lookup for {} (owned by {owner}, NOLOGIN)", env.pooling.auth_user)
    } else {
        format!(
            "PgBouncer lookup pgbouncer.user_lookup for {} (owned by {owner}: the applying role is no superuser, so \
             no non-superuser owner could be granted pg_shadow)",
            env.pooling.auth_user
        )
    };
    Ok(Some(note))
}

/// `ensure` in the shape the database stage takes it (`DatabaseStage::with_pooler_setup`), so the database
/// stage runs the lookup without importing PgBouncer.
pub fn setup<'c>(
    client: &'c Client,
    env: &'c Environment,
) -> Pin<Box<dyn Future<Output = Result<Option<String>, String>> + 'c>> {
    Box::pin(ensure(client, env))
}
