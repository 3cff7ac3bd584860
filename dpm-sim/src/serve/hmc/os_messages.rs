//! A partition's OS messages: "List OS Messages of a Partition", the
//! guest's console log, "Send OS Command", a command line for it, and
//! "Open OS Message Channel", the topic its new messages are published on.

use hmc_client::{HmcError, OsCommand, OsMessageChannel, OsMessageChannelOpen, OsMessageFilter};

use super::partition::partition;
use super::{ok, query_value, Ctx};
use crate::serve::http::{Req, Resp};

/// "List OS Messages of a Partition": `begin-sequence-number`,
/// `end-sequence-number`, `is-held`, `is-priority` and `max-messages`
/// filter on the server (a value that does not parse is 400.1).
pub(super) fn os_messages(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let p = partition(ctx, req, ids)?;
    let filter = OsMessageFilter {
        begin: query_value(req, "begin-sequence-number")?,
        end: query_value(req, "end-sequence-number")?,
        is_held: query_value(req, "is-held")?,
        is_priority: query_value(req, "is-priority")?,
        max_messages: query_value(req, "max-messages")?.unwrap_or(0),
    };
    ctx.call(|w| ok(200, w.hmc.list_os_messages(&p, &filter)?))
}

/// "Send OS Command": the body is hmc-client's [`OsCommand`] (an unknown
/// or missing field is a bad body); 204.
pub(super) fn send_os_command(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let p = partition(ctx, req, ids)?;
    ctx.call_with_body(req, |w, b: OsCommand| {
        w.send_os_command(&p, &b.operating_system_command_text)
            .map(|()| Resp::empty(204))
    })
}

/// "Open OS Message Channel": the body is hmc-client's
/// [`OsMessageChannelOpen`]; 200 with `{"topic-name"}`.
pub(super) fn open_channel(ctx: &Ctx<'_>, req: &Req, ids: &[&str]) -> Result<Resp, HmcError> {
    let p = partition(ctx, req, ids)?;
    ctx.call_with_body(req, |w, b: OsMessageChannelOpen| {
        let topic_name = w
            .hmc
            .open_os_message_channel(&p, b.include_refresh_messages)?;
        ok(200, OsMessageChannel { topic_name })
    })
}
