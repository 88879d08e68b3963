//! The point-in-time kit every restore drill shares (pgBackRest, RDS and Aurora): the source server's clock,
//! the drill's own markers written into its heartbeat around a target of `now`, and the heartbeat rows a copy
//! restored to T must and must not hold. What is judged from them is `verify::point_in_time`.

use tokio_postgres::Client;

use super::journal::Journal;
use crate::database::connect;
use crate::verify::point_in_time::SKEW_SECONDS;

pub(crate) fn sql(what: &'static str) -> impl Fn(tokio_postgres::Error) -> String {
    move |e| format!("{what}: {}", connect::reason(&e))
}

/// T on the server's clock, `seconds` back (as text pgBackRest takes, and Unix seconds).
pub(crate) async fn server_time(client: &Client, seconds: f64) -> Result<(String, f64), String> {
    let row = client
        .query_one(
            "SELECT to_char((clock_timestamp() - make_interval(secs => $1)) AT TIME ZONE 'UTC', \
             'YYYY-MM-DD HH24:MI:SS.US') || '+00', extract(epoch FROM clock_timestamp() - make_interval(secs => $1))::float8",
            &[&seconds],
        )
        .await
        .map_err(sql("reading the server's clock"))?;
    Ok((row.get(0), row.get(1)))
}

/// Writes the drill's markers into the source's heartbeat around T = now (the server's clock): one row, T,
/// one more row. Returns (T as text, T in Unix seconds, the first marker's source, the second's).
pub async fn write_markers(
    client: &Client,
    check: &str,
    journal: &Journal,
) -> Result<(String, f64, String, String), String> {
    let tag = format!("glctl-drill:{}:{}", std::process::id(), check.to_ascii_lowercase());
    let (before, after) = (format!("{tag}:before"), format!("{tag}:after"));
    let insert = "INSERT INTO glctl_heartbeat (source) VALUES ($1)";
    client.execute(insert, &[&before]).await.map_err(sql("writing the drill's marker into glctl_heartbeat"))?;
    let (target, epoch) = server_time(client, 0.0).await?;
    client.execute(insert, &[&after]).await.map_err(sql("writing the drill's marker into glctl_heartbeat"))?;
    journal.note(format!("wrote markers {before} and {after} into the source around {target}"));
    Ok((target, epoch, before, after))
}

/// What the source's heartbeat says the copy must hold for T.
pub async fn expected_rows(client: &Client, target: &str) -> Result<(i64, Option<i64>), String> {
    let row = client
        .query_one(
            "SELECT coalesce(max(seq) FILTER (WHERE written_at <= $1::text::timestamptz - make_interval(secs => $2)), 0), \
             min(seq) FILTER (WHERE written_at > $1::text::timestamptz) FROM glctl_heartbeat",
            &[&target, &SKEW_SECONDS],
        )
        .await
        .map_err(sql("reading the source's glctl_heartbeat"))?;
    Ok((row.get(0), row.get(1)))
}
