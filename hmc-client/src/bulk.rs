//! Typed bulk reads on top of [`HmcApi::submit_requests`].

use serde::de::DeserializeOwned;

use crate::api::HmcApi;
use crate::error::HmcError;
use crate::route::{HmcOp, Method};
use crate::wire::{BulkRequest, ErrorBody};

/// The method of the inner requests. Each is its object's "Get ...
/// Properties", whose path is the object's URI (see
/// [`HmcOp::GetPartition`] and the other `Get` operations of the table).
const READ: Method = Method::Get;

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
            method: READ.as_str().into(),
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
                HmcOp::SubmitRequests.method().as_str(),
                req.uri.clone(),
                500,
                0,
                format!("the bulk read gave no answer for request {i}"),
            )
        })?;
        if !(200..300).contains(&a.status) {
            return Err(match serde_json::from_value::<ErrorBody>(a.body.clone()) {
                Ok(body) => HmcError::from_body(READ.as_str(), req.uri.clone(), body),
                Err(_) => HmcError::api(
                    READ.as_str(),
                    req.uri.clone(),
                    a.status,
                    0,
                    "refused in a bulk read",
                ),
            });
        }
        out.push(
            serde_json::from_value(a.body.clone()).map_err(|source| HmcError::Decode {
                method: READ.as_str(),
                uri: req.uri.clone(),
                source,
            })?,
        );
    }
    Ok(out)
}

#[cfg(all(test, feature = "mock"))]
mod tests {
    use super::*;
    use crate::api::MockHmcApi;
    use crate::ids::{HbaUri, PartitionUri};
    use crate::route::Resolution;
    use crate::wire::BulkResponse;

    /// Each inner request is a GET of the table, on the object's URI.
    #[tokio::test]
    async fn inner_requests_are_gets_of_the_table() -> Result<(), Box<dyn std::error::Error>> {
        let p = PartitionUri::from_object_id("p1")?;
        let uris = [HbaUri::new(&p, "h1")?, HbaUri::new(&p, "h2")?];
        let mut hmc = MockHmcApi::new();
        hmc.expect_submit_requests()
            .times(1)
            .withf(|requests| {
                requests.len() == 2
                    && requests.iter().all(|r| {
                        matches!(
                            HmcOp::resolve(&r.method, &r.uri),
                            Resolution::Found(HmcOp::GetHba, _)
                        )
                    })
                    && requests[0].uri == "/api/partitions/p1/hbas/h1"
            })
            .returning(|requests| {
                Ok(requests
                    .iter()
                    .map(|r| BulkResponse {
                        id: r.id.clone(),
                        status: 200,
                        headers: serde_json::Value::Null,
                        body: serde_json::json!({ "uri": r.uri }),
                    })
                    .collect())
            });
        #[derive(serde::Deserialize)]
        struct Read {
            uri: String,
        }
        let read: Vec<Read> = get_many(&hmc, &uris).await?;
        let read: Vec<&str> = read.iter().map(|r| r.uri.as_str()).collect();
        assert_eq!(read, [uris[0].as_str(), uris[1].as_str()]);
        Ok(())
    }
}
