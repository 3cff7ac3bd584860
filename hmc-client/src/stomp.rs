//! A small STOMP 1.2 codec: the framing of the HMC's notification service
//! (JMS over STOMP, TLS, port 61612), for the client here and for the
//! simulator's server.
//!
//! Our own rather than a crate: the STOMP crates on offer are clients only
//! (the simulator needs the server side too), pull in their own connection
//! handling, or stop at STOMP 1.0/1.1. The format is small: a command line,
//! `name:value` header lines, an empty line, the body, a NUL; end-of-line
//! characters between frames are heart-beats.
//!
//! ```
//! use hmc_client::stomp::{Decoder, Frame, Item};
//!
//! let sent = Frame::new("SEND")
//!     .header("destination", "/topic/a:b")
//!     .body(b"{}".to_vec());
//! let mut d = Decoder::default();
//! d.push(b"\n");
//! d.push(&sent.encode());
//! assert_eq!(d.next_item()?, Some(Item::Heartbeat));
//! assert_eq!(d.next_item()?, Some(Item::Frame(sent)));
//! assert_eq!(d.next_item()?, None);
//! # Ok::<(), hmc_client::stomp::StompError>(())
//! ```

/// The largest frame either side accepts (headers and body), so that a
/// peer cannot make the other buffer without end.
pub const MAX_FRAME: usize = 1 << 20;

/// One STOMP frame.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// `CONNECT`, `SUBSCRIBE`, `MESSAGE`, ...
    pub command: String,
    /// Headers in order; a repeated name keeps its first value when read.
    pub headers: Vec<(String, String)>,
    /// The body (empty for most frames).
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    // `passcode` may be a password or a session credential: never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let v = if k == "passcode" { "***" } else { v.as_str() };
                (k.as_str(), v)
            })
            .collect();
        f.debug_struct("Frame")
            .field("command", &self.command)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What a decoder yields: a frame, or heart-beats (end-of-lines between
/// frames).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A frame.
    Frame(Frame),
    /// One or more heart-beats: the run of end-of-lines received so far.
    Heartbeat,
}

/// Input that is not STOMP 1.2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StompError {
    /// A frame longer than [`MAX_FRAME`].
    #[error("STOMP frame longer than {MAX_FRAME} bytes")]
    TooLong,
    /// A command or header line that is not UTF-8.
    #[error("STOMP frame with a line that is not UTF-8")]
    NotUtf8,
    /// A header line without a colon.
    #[error("STOMP header line without a colon: {0:?}")]
    BadHeader(String),
    /// An escape sequence STOMP 1.2 does not define.
    #[error("STOMP header with an undefined escape: {0:?}")]
    BadEscape(String),
    /// A `content-length` that is not a number.
    #[error("STOMP content-length is not a number: {0:?}")]
    BadLength(String),
    /// A body not followed by the NUL that ends the frame.
    #[error("STOMP frame body not ended by NUL")]
    NoNul,
}

impl Frame {
    /// A frame with no headers and no body.
    pub fn new(command: &str) -> Self {
        Self {
            command: command.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// The first value of header `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether header values are escaped: in every frame but `CONNECT` and
    /// `CONNECTED` (STOMP 1.2, "Value Encoding").
    fn escapes(&self) -> bool {
        !matches!(self.command.as_str(), "CONNECT" | "CONNECTED")
    }

    /// The frame on the wire, with a `content-length` when it has a body.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.body.len());
        out.extend_from_slice(self.command.as_bytes());
        out.push(b'\n');
        let esc = self.escapes();
        for (k, v) in &self.headers {
            if k == "content-length" {
                continue;
            }
            push_value(&mut out, k, esc);
            out.push(b':');
            push_value(&mut out, v, esc);
            out.push(b'\n');
        }
        if !self.body.is_empty() {
            out.extend_from_slice(format!("content-length:{}\n", self.body.len()).as_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out.push(0);
        out
    }
}

fn push_value(out: &mut Vec<u8>, s: &str, escape: bool) {
    if !escape {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            ':' => out.extend_from_slice(b"\\c"),
            c => {
                let mut b = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
}

fn unescape(s: &str) -> Result<String, StompError> {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('c') => out.push(':'),
            _ => return Err(StompError::BadEscape(s.to_owned())),
        }
    }
    Ok(out)
}

/// Counts the decoder's work (in tests; nothing otherwise). A macro, so
/// that it borrows the counter alone, not the whole decoder.
macro_rules! count {
    ($d:ident, $n:expr) => {{
        #[cfg(test)]
        {
            $d.work += $n;
        }
        #[cfg(not(test))]
        {
            let _ = $n;
        }
    }};
}

/// An incremental decoder: push bytes as they arrive, take items out.
///
/// Its work is linear in what it is sent, whatever that is: a run of
/// heart-beats is consumed at once, consumed bytes are dropped from the
/// buffer only when they are at least half of it (each byte is moved at
/// most once on average), the search for the end of a frame's head or body
/// goes on where the last push left it, and a frame's head is parsed once.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Bytes before this in `buf` are consumed.
    start: usize,
    /// How far past `start` the search for the end of the head (or, once
    /// the head is read, of the body) has looked without finding it.
    scanned: usize,
    /// The head of the frame being read, once it is complete.
    head: Option<Head>,
    /// Bytes scanned, parsed, copied and moved: the decoder's work, which
    /// the tests hold linear in its input.
    #[cfg(test)]
    work: usize,
}

/// A frame's command and headers, read before its body is complete.
#[derive(Debug)]
struct Head {
    command: String,
    headers: Vec<(String, String)>,
    /// Where the body begins, from the frame's start.
    body_start: usize,
    /// `content-length`, when given.
    length: Option<usize>,
}

impl Decoder {
    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        #[cfg(test)]
        {
            let grows = self.buf.len() + bytes.len() > self.buf.capacity();
            self.work += bytes.len() + if grows { self.buf.len() } else { 0 };
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Consumes `n` bytes; drops the consumed ones from the buffer once
    /// they are half of it.
    fn consume(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.buf.len());
        self.scanned = 0;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start >= self.buf.len() / 2 {
            count!(self, self.buf.len() - self.start);
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }

    /// The next complete item, `None` when more bytes are needed. After an
    /// error the connection should be closed: the stream is out of step.
    pub fn next_item(&mut self) -> Result<Option<Item>, StompError> {
        if self.head.is_none() {
            // End-of-lines between frames are heart-beats: a run of them,
            // as far as it has arrived, is one.
            let (eols, bad) = leading_eols(self.buf.get(self.start..).unwrap_or_default());
            count!(self, eols + 1);
            if eols > 0 {
                self.consume(eols);
                return Ok(Some(Item::Heartbeat));
            }
            if bad {
                return Err(StompError::BadHeader("\r".into()));
            }
            let rest = self.buf.get(self.start..).unwrap_or_default();
            if rest.is_empty() || rest == b"\r" {
                return Ok(None);
            }
            // The command and headers end at the first empty line.
            let from = self.scanned;
            let found = find_head_end(rest, from);
            let seen = rest.len();
            count!(self, found.map_or(seen, |(_, b)| b).saturating_sub(from));
            let Some((head_end, body_start)) = found else {
                // Two bytes may start the empty line that ends the head.
                self.scanned = seen.saturating_sub(2);
                return if seen > MAX_FRAME {
                    Err(StompError::TooLong)
                } else {
                    Ok(None)
                };
            };
            let head = parse_head(&rest[..head_end], body_start)?;
            count!(self, head_end);
            if head
                .length
                .is_some_and(|n| body_start.saturating_add(n) > MAX_FRAME)
            {
                return Err(StompError::TooLong);
            }
            self.head = Some(head);
            self.scanned = 0;
        }
        let Some(head) = &self.head else {
            return Ok(None);
        };
        let rest = self.buf.get(self.start..).unwrap_or_default();
        let body_start = head.body_start;
        let (body_end, frame_end) = match head.length {
            Some(n) => {
                let end = body_start.saturating_add(n);
                match rest.get(end) {
                    None => return Ok(None),
                    Some(0) => (end, end + 1),
                    Some(_) => return Err(StompError::NoNul),
                }
            }
            None => {
                let from = body_start.saturating_add(self.scanned).min(rest.len());
                let found = rest[from..].iter().position(|&b| b == 0);
                let seen = rest.len();
                count!(self, found.map_or(seen - from, |i| i + 1));
                match found {
                    Some(i) => (from + i, from + i + 1),
                    None if seen > MAX_FRAME => return Err(StompError::TooLong),
                    None => {
                        self.scanned = seen - body_start.min(seen);
                        return Ok(None);
                    }
                }
            }
        };
        let body = rest[body_start..body_end].to_vec();
        count!(self, body.len());
        let Some(Head {
            command, headers, ..
        }) = self.head.take()
        else {
            return Ok(None);
        };
        self.consume(frame_end);
        Ok(Some(Item::Frame(Frame {
            command,
            headers,
            body,
        })))
    }
}

/// How many bytes of end-of-lines (`\n`, `\r\n`) `buf` starts with, and
/// whether a `\r` not followed by `\n` comes right after them.
fn leading_eols(buf: &[u8]) -> (usize, bool) {
    let mut i = 0;
    loop {
        match (buf.get(i), buf.get(i + 1)) {
            (Some(b'\n'), _) => i += 1,
            (Some(b'\r'), Some(b'\n')) => i += 2,
            (Some(b'\r'), Some(_)) => return (i, true),
            _ => return (i, false),
        }
    }
}

/// A frame's command and headers (`head` without the empty line); the body
/// begins at `body_start`.
fn parse_head(head: &[u8], body_start: usize) -> Result<Head, StompError> {
    let head = std::str::from_utf8(head).map_err(|_| StompError::NotUtf8)?;
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let command = lines.next().unwrap_or_default().to_owned();
    let escaped = !matches!(command.as_str(), "CONNECT" | "CONNECTED");
    let mut headers = Vec::new();
    for line in lines {
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| StompError::BadHeader(line.to_owned()))?;
        let (k, v) = if escaped {
            (unescape(k)?, unescape(v)?)
        } else {
            (k.to_owned(), v.to_owned())
        };
        headers.push((k, v));
    }
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| StompError::BadLength(v.clone()))
        })
        .transpose()?;
    headers.retain(|(k, _)| k != "content-length");
    Ok(Head {
        command,
        headers,
        body_start,
        length,
    })
}

/// Where the head (command and headers) ends and the body begins: the
/// first empty line, `\n\n` or `\n\r\n`, looking from `from` on (the
/// bytes before it were looked at already).
fn find_head_end(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while i < buf.len() {
        if buf[i] == b'\n' {
            match buf.get(i + 1) {
                Some(b'\n') => return Some((i, i + 2)),
                Some(b'\r') if buf.get(i + 2) == Some(&b'\n') => return Some((i, i + 3)),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn decode_all(bytes: &[u8]) -> Vec<Item> {
        let mut d = Decoder::default();
        d.push(bytes);
        let mut out = Vec::new();
        while let Some(i) = d.next_item().unwrap() {
            out.push(i);
        }
        out
    }

    #[test]
    fn headers_are_escaped_except_in_connect() {
        let f = Frame::new("MESSAGE").header("job-uri", "/api/jobs/a:b\nc\\");
        let wire = f.encode();
        assert!(String::from_utf8_lossy(&wire).contains("job-uri:/api/jobs/a\\cb\\nc\\\\"));
        assert_eq!(decode_all(&wire), [Item::Frame(f)]);
        let c = Frame::new("CONNECT").header("passcode", "a:b\\c");
        assert!(String::from_utf8_lossy(&c.encode()).contains("passcode:a:b\\c"));
        assert_eq!(decode_all(&c.encode()), [Item::Frame(c)]);
    }

    #[test]
    fn frames_arrive_in_pieces_with_heartbeats_between() {
        let a = Frame::new("MESSAGE")
            .header("destination", "/topic/t")
            .body(b"null".to_vec());
        let b = Frame::new("RECEIPT").header("receipt-id", "1");
        let mut wire = b"\r\n".to_vec();
        wire.extend(a.encode());
        wire.push(b'\n');
        wire.extend(b.encode());
        let mut d = Decoder::default();
        let mut got = Vec::new();
        for chunk in wire.chunks(3) {
            d.push(chunk);
            while let Some(i) = d.next_item().unwrap() {
                got.push(i);
            }
        }
        assert_eq!(
            got,
            [
                Item::Heartbeat,
                Item::Frame(a),
                Item::Heartbeat,
                Item::Frame(b)
            ]
        );
    }

    #[test]
    fn a_body_may_hold_nul_with_a_content_length_and_crlf_lines_are_read() {
        let f = Frame::new("SEND").body(vec![1, 0, 2]);
        assert_eq!(decode_all(&f.encode()), [Item::Frame(f)]);
        let items = decode_all(b"CONNECTED\r\nversion:1.2\r\nheart-beat:0,0\r\n\r\n\0");
        let Item::Frame(c) = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(c.get("version"), Some("1.2"));
        assert_eq!(c.get("heart-beat"), Some("0,0"));
    }

    #[test]
    fn the_first_of_repeated_headers_counts() {
        let items = decode_all(b"MESSAGE\na:1\na:2\n\n\0");
        let Item::Frame(f) = &items[0] else { panic!() };
        assert_eq!(f.get("a"), Some("1"));
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut d = Decoder::default();
        d.push(b"MESSAGE\nno colon\n\n\0");
        assert!(matches!(d.next_item(), Err(StompError::BadHeader(_))));
        let mut d = Decoder::default();
        d.push(b"MESSAGE\na:\\t\n\n\0");
        assert!(matches!(d.next_item(), Err(StompError::BadEscape(_))));
        let mut d = Decoder::default();
        d.push(b"MESSAGE\ncontent-length:2\n\nabc");
        assert_eq!(d.next_item(), Err(StompError::NoNul));
        let mut d = Decoder::default();
        d.push(&vec![b'A'; MAX_FRAME + 1]);
        assert_eq!(d.next_item(), Err(StompError::TooLong));
        let mut d = Decoder::default();
        d.push(b"MESSAGE\ncontent-length:99999999\n\n");
        assert_eq!(d.next_item(), Err(StompError::TooLong));
    }

    /// The decoder's work (bytes scanned, parsed, copied or moved) for a
    /// wire pushed in chunks of `chunk` bytes, as a connection reads it,
    /// every item taken out after each push.
    fn work_for(wire: &[u8], chunk: usize) -> (usize, usize) {
        let mut d = Decoder::default();
        let mut items = 0;
        for c in wire.chunks(chunk) {
            d.push(c);
            while d.next_item().unwrap().is_some() {
                items += 1;
            }
        }
        (d.work, items)
    }

    #[test]
    fn the_work_is_linear_in_the_input_whatever_it_is_sent() {
        const SIZE: usize = 4 << 20;
        let frame = Frame::new("SEND")
            .header("destination", "/topic/x")
            .body(vec![b'x'; 200])
            .encode();
        let frames = frame.repeat(SIZE / frame.len());
        // A frame of almost MAX_FRAME that arrives 1 KiB at a time: its
        // head (a long header) and its body (no content-length: up to the
        // NUL) are not read again from their start at every push.
        let mut big = b"SEND\nlong:".to_vec();
        big.extend(vec![b'h'; MAX_FRAME / 2]);
        big.extend(b"\n\n");
        big.extend(vec![b'b'; MAX_FRAME / 2 - 64]);
        big.push(0);
        let shapes: [(&str, Vec<u8>, usize); 5] = [
            ("frames", frames.clone(), 8192),
            ("newlines", vec![b'\n'; SIZE], 8192),
            ("crlf heart-beats", b"\r\n".repeat(SIZE / 2), 8192),
            ("newlines one push", vec![b'\n'; SIZE], SIZE),
            ("a big frame in pieces", big, 1024),
        ];
        let (per_frames, _) = work_for(&frames, 8192);
        let mut bad = Vec::new();
        for (what, wire, chunk) in shapes {
            let (work, items) = work_for(&wire, chunk);
            assert!(items > 0, "{what}: nothing decoded");
            // Linear: a few units of work per byte received, and a flood
            // of heart-beats costs about what frames of its size cost.
            let per_byte = work as f64 / wire.len() as f64;
            let to_frames = per_byte / (per_frames as f64 / frames.len() as f64);
            eprintln!(
                "{what}: {work} units for {} bytes ({per_byte:.2} a byte, {to_frames:.2} times frames)",
                wire.len()
            );
            if per_byte > 6.0 || to_frames > 3.0 {
                bad.push(format!(
                    "{what}: {work} units for {} bytes ({per_byte:.1} a byte, {to_frames:.1} times frames)",
                    wire.len()
                ));
            }
        }
        assert!(bad.is_empty(), "not linear:\n{}", bad.join("\n"));
    }

    /// The frames a decoder yields for `wire` pushed in the pieces that
    /// end at `cuts` (ascending), every item taken out after each push;
    /// heart-beats are left out (a run of them is one item or several, as
    /// it arrived). Also whether anything is left undecoded.
    fn frames_in_pieces(wire: &[u8], cuts: &[usize]) -> (Vec<Frame>, bool) {
        let mut d = Decoder::default();
        let mut frames = Vec::new();
        let mut at = 0;
        for &end in cuts.iter().chain(std::iter::once(&wire.len())) {
            d.push(&wire[at..end]);
            at = end;
            while let Some(item) = d.next_item().unwrap() {
                if let Item::Frame(f) = item {
                    frames.push(f);
                }
            }
        }
        (frames, d.start < d.buf.len() || d.head.is_some())
    }

    /// What zhmcclient's receiver (stomp.py) sends: `STOMP`, two
    /// `SUBSCRIBE`s, a heart-beat, `DISCONNECT`.
    fn zhmcclient_wire() -> (Vec<u8>, Vec<Frame>) {
        let frames = vec![
            Frame::new("STOMP")
                .header("accept-version", "1.1")
                .header("heart-beat", "5000,5000")
                .header("login", "sim-session-00000005-4236d7a68523fdb5")
                .header("passcode", "sim-credential-00000005-95d5763056509547"),
            Frame::new("SUBSCRIBE")
                .header("ack", "auto")
                .header("destination", "/topic/job-topic-5")
                .header("id", "zhmcclient.26473.139658788219856.1"),
            Frame::new("SUBSCRIBE")
                .header("ack", "auto")
                .header("destination", "/topic/topic-5")
                .header("id", "zhmcclient.26473.139658788219856.2"),
            Frame::new("DISCONNECT").header("receipt", "f5a05225-cfc4-41ba-8658"),
        ];
        let mut wire = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            wire.extend(f.encode());
            if i == 2 {
                wire.push(b'\n');
            }
        }
        (wire, frames)
    }

    #[test]
    fn connect_and_subscribes_in_one_read_are_each_decoded() {
        let (wire, frames) = zhmcclient_wire();
        let mut d = Decoder::default();
        d.push(&wire);
        let mut got = Vec::new();
        while let Some(item) = d.next_item().unwrap() {
            got.push(item);
        }
        let want: Vec<Item> = frames[..3]
            .iter()
            .cloned()
            .map(Item::Frame)
            .chain([Item::Heartbeat, Item::Frame(frames[3].clone())])
            .collect();
        assert_eq!(got, want);
        assert_eq!(d.next_item(), Ok(None));
        assert!(d.buf.is_empty() && d.start == 0 && d.head.is_none());
    }

    #[test]
    fn a_stream_cut_at_any_byte_decodes_alike() {
        let (wire, frames) = zhmcclient_wire();
        assert_eq!(frames_in_pieces(&wire, &[]), (frames.clone(), false));
        for cut in 0..=wire.len() {
            assert_eq!(
                frames_in_pieces(&wire, &[cut]),
                (frames.clone(), false),
                "cut at {cut}"
            );
        }
        // And one byte at a time.
        let every: Vec<usize> = (1..wire.len()).collect();
        assert_eq!(frames_in_pieces(&wire, &every), (frames, false));
    }

    #[test]
    fn heartbeats_before_and_between_frames_are_only_heartbeats() {
        let a = Frame::new("SUBSCRIBE").header("id", "1");
        let b = Frame::new("SEND").body(b"x".to_vec());
        let mut wire = b"\n\r\n\n\n\r\n".to_vec();
        wire.extend(a.encode());
        wire.extend(b"\r\n\n\r\n\r\n");
        wire.extend(b.encode());
        wire.extend(b"\n\r\n");
        let want = (vec![a, b], false);
        for cut in 0..=wire.len() {
            assert_eq!(frames_in_pieces(&wire, &[cut]), want, "cut at {cut}");
        }
        // Heart-beats alone are heart-beats, a lone `\r` waits for its `\n`.
        let mut d = Decoder::default();
        d.push(b"\n\r");
        assert_eq!(d.next_item(), Ok(Some(Item::Heartbeat)));
        assert_eq!(d.next_item(), Ok(None));
        d.push(b"\n");
        assert_eq!(d.next_item(), Ok(Some(Item::Heartbeat)));
        assert_eq!(d.next_item(), Ok(None));
        // A `\r` not followed by `\n` between frames is not STOMP.
        d.push(b"\rX");
        assert!(matches!(d.next_item(), Err(StompError::BadHeader(_))));
    }

    #[test]
    fn a_content_length_body_may_hold_nul_and_frame_like_bytes() {
        let body = b"\0\0a\n\nSEND\n\n\0\r\n\0".to_vec();
        let f = Frame::new("MESSAGE")
            .header("destination", "/topic/t")
            .body(body.clone());
        let after = Frame::new("RECEIPT").header("receipt-id", "7");
        let mut wire = f.encode();
        assert!(String::from_utf8_lossy(&wire).contains(&format!("content-length:{}", body.len())));
        wire.extend(after.encode());
        let want = (vec![f, after], false);
        for cut in 0..=wire.len() {
            assert_eq!(frames_in_pieces(&wire, &[cut]), want, "cut at {cut}");
        }
        // The byte after the body must be the NUL.
        let mut d = Decoder::default();
        d.push(b"SEND\ncontent-length:2\n\n\0\0X");
        assert_eq!(d.next_item(), Err(StompError::NoNul));
    }

    #[test]
    fn an_eol_after_the_nul_is_a_heartbeat_and_not_the_next_frame() {
        let a = Frame::new("SUBSCRIBE").header("id", "1");
        let b = Frame::new("UNSUBSCRIBE").header("id", "1");
        // STOMP 1.2 allows EOLs after the NUL; they must not start the next
        // frame's command line.
        let mut wire = a.encode();
        wire.extend(b"\r\n");
        wire.extend(b.encode());
        wire.extend(b"\n");
        let mut d = Decoder::default();
        d.push(&wire);
        assert_eq!(d.next_item(), Ok(Some(Item::Frame(a.clone()))));
        assert_eq!(d.next_item(), Ok(Some(Item::Heartbeat)));
        assert_eq!(d.next_item(), Ok(Some(Item::Frame(b.clone()))));
        assert_eq!(d.next_item(), Ok(Some(Item::Heartbeat)));
        assert_eq!(d.next_item(), Ok(None));
        let want = (vec![a, b], false);
        for cut in 0..=wire.len() {
            assert_eq!(frames_in_pieces(&wire, &[cut]), want, "cut at {cut}");
        }
    }

    #[test]
    fn debug_hides_the_passcode() {
        let f = Frame::new("CONNECT").header("passcode", "s3cr3t");
        assert!(!format!("{f:?}").contains("s3cr3t"));
    }
}
