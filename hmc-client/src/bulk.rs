//! Typed bulk reads on top of [`HmcApi::submit_requests`].

use serde::de::DeserializeOwned;

use crate::api::HmcApi;
use crate::error::HmcError;
use crate::wire::{BulkRequest, ErrorBody};

/// Reads several objects of one type in one round trip, in the order
/// asked. The first object the HMC refuses is that refusal (its status,
/// reason and message); an answer that does not decode is a decode error.
///
/// ```no_run
/// # async fn demo(hmc: &impl hmc_client::HmcApi, uris: &[hmc_client::VsrUri]) -> Result<(), hmc_client::HmcError> {
/// let vsrs: Vec<hmc_client::Vsr> = hmc_client::get_many(hmc, uris).await?;
/// # Ok(()) }
/// ```
pub async fn get_many<T, U>(hmc: &(impl HmcApi + ?Sized), uris: &[U]) -> Result<Vec<T>, HmcError>
where
    T: DeserializeOwned,
    U: std::fmt::Display,
{
    if uris.is_empty() {
        return Ok(Vec::new());
    }
    let requests: Vec<BulkRequest> = uris
        .iter()
        .enumerate()
        .map(|(i, u)| BulkRequest {
            method: "GET".into(),
            uri: u.to_string(),
            id: i.to_string(),
        })
        .collect();
    let mut answers = hmc.submit_requests(&requests).await?;
    answers.sort_by_key(|a| a.id.parse::<usize>().unwrap_or(usize::MAX));
    let mut out = Vec::with_capacity(uris.len());
    for (i, req) in requests.iter().enumerate() {
        let a = answers.iter().find(|a| a.id == req.id).ok_or_else(|| {
            HmcError::api(
                "POST",
                req.uri.clone(),
                500,
                0,
                format!("the bulk read gave no answer for request {i}"),
            )
        })?;
        if !(200..300).contains(&a.status) {
            return Err(match serde_json::from_value::<ErrorBody>(a.body.clone()) {
                Ok(body) => HmcError::from_body("GET", req.uri.clone(), body),
                Err(_) => HmcError::api(
                    "GET",
                    req.uri.clone(),
                    a.status,
                    0,
                    "refused in a bulk read",
                ),
            });
        }
        out.push(
            serde_json::from_value(a.body.clone()).map_err(|source| HmcError::Decode {
                method: "GET",
                uri: req.uri.clone(),
                source,
            })?,
        );
    }
    Ok(out)
}
