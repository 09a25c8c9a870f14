//! A fixture npm registry on 127.0.0.1 that can misbehave on purpose.
//!
//! A small HTTP/1.1 server (std only, one thread per connection, `Connection: close`) serving an
//! in-memory map of documents with the npm registry's URL shapes:
//! `/NAME` (and `/@scope%2fname`), `/-/npm/v1/keys`, `/-/npm/v1/attestations/NAME@VERSION`
//! and tarball paths. The abbreviated packument is chosen by the `Accept` header; `ETag` /
//! `If-None-Match` answer 304. Knobs: latency, a request log with every received header, and
//! faults per URL pattern (a substring of the decoded path, `*` for all), optionally for a
//! limited number of requests, plus a seeded "chaos" mode that faults random requests.
//!
//! It listens on port 0 and reports its URL; it stops when dropped. Every wait is bounded.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

mod corpus;
mod respond;
mod tls;
pub use corpus::{abbreviate, load_corpus, sri_sha512, CorpusPackage, CORPUS_PACKAGES};
use respond::{pick_fault, respond, sleep_bounded};

/// The abbreviated packument's media type.
pub const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

/// One served document.
#[derive(Debug, Clone)]
pub struct Doc {
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A way to misbehave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and a small body.
    Status(u16),
    /// 429 with this `Retry-After` value.
    TooManyRequests { retry_after: String },
    /// Read the request, then reset the connection (RST) without answering.
    Reset,
    /// Read the request, then say nothing for this long (bounded), then close.
    Stall(Duration),
    /// Announce the full length, send half of the body, close.
    Truncate,
    /// 200 with the document's length in bytes that are not the document.
    Garbage,
    /// 200 with valid JSON of the wrong shape.
    WrongShape,
    /// 200 with a body of this many bytes; with or without a `Content-Length`.
    Oversized { bytes: usize, declare_length: bool },
    /// 200, `Content-Encoding: gzip`, a small body that inflates to this many bytes.
    GzipBomb { decoded_bytes: usize },
    /// 302 to the same path under this base URL (another origin: another fixture's URL).
    RedirectTo(String),
    /// 302 to exactly this location.
    RedirectToUrl(String),
    /// Wait this long, then serve normally (the answer is untouched).
    Delay(Duration),
}

impl Fault {
    /// Whether the response still carries the untouched document.
    pub fn untouched(&self) -> bool {
        matches!(self, Fault::Delay(_))
    }
    fn name(&self) -> String {
        match self {
            Fault::Status(s) => format!("status-{s}"),
            Fault::TooManyRequests { .. } => "429".into(),
            Fault::Reset => "reset".into(),
            Fault::Stall(_) => "stall".into(),
            Fault::Truncate => "truncate".into(),
            Fault::Garbage => "garbage".into(),
            Fault::WrongShape => "wrong-shape".into(),
            Fault::Oversized { .. } => "oversized".into(),
            Fault::GzipBomb { .. } => "gzip-bomb".into(),
            Fault::RedirectTo(_) | Fault::RedirectToUrl(_) => "redirect".into(),
            Fault::Delay(_) => "delay".into(),
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    /// The raw request target.
    pub target: String,
    /// The decoded path (`%2f` → `/`, `%40` → `@`), without query.
    pub path: String,
    /// Received headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The status sent (0 when none was: reset, stall).
    pub status: u16,
    /// The fault applied, if any.
    pub fault: Option<String>,
    /// The answer (if any) was the untouched document (or a 304/404 about it).
    pub untouched: bool,
    /// The request target was in absolute form (`GET http://host/path`): the client used this
    /// server as its HTTP proxy.
    pub proxied: bool,
}

impl LoggedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    /// Carries `If-None-Match` or `If-Modified-Since`.
    pub fn is_conditional(&self) -> bool {
        self.header("if-none-match").is_some() || self.header("if-modified-since").is_some()
    }
}

struct Entry {
    full: Doc,
    abbreviated: Option<Doc>,
}

struct Rule {
    pattern: String,
    fault: Fault,
    remaining: Option<u32>,
}

struct Chaos {
    state: u64,
    percent: u64,
}

#[derive(Default)]
struct State {
    docs: RwLock<BTreeMap<String, Entry>>,
    rules: Mutex<Vec<Rule>>,
    chaos: Mutex<Option<Chaos>>,
    log: Mutex<Vec<LoggedRequest>>,
    latency: Mutex<Duration>,
    /// `Cache-Control` sent with every 200 and 304 (none by default).
    cache_control: Mutex<Option<String>>,
    bombs: Mutex<BTreeMap<usize, Arc<Vec<u8>>>>,
}

/// The running server. Dropping it stops it.
pub struct FixtureRegistry {
    addr: SocketAddr,
    /// PEM of the throwaway CA that issued the server certificate (https variant only).
    ca_pem: Option<String>,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

/// Longest a stall or delay may last, whatever a test asks (bounded server).
const MAX_WAIT: Duration = Duration::from_secs(30);

impl FixtureRegistry {
    /// Starts an empty registry on 127.0.0.1, port 0, over plain http.
    pub fn start() -> FixtureRegistry {
        Self::start_with(None, None)
    }

    /// Starts an empty registry over https, with a certificate for `127.0.0.1` and `localhost`
    /// issued by a throwaway CA made for this server ([`FixtureRegistry::ca_pem`]).
    pub fn start_tls() -> FixtureRegistry {
        let (config, ca_pem) = tls::server_config();
        Self::start_with(Some(config), Some(ca_pem))
    }

    /// Starts an empty registry over https on `bind` (e.g. `127.0.0.1:443`), with a
    /// certificate for `names` (DNS names or IP addresses) issued by a throwaway CA
    /// ([`FixtureRegistry::ca_pem`]). For the benchmark, which serves a public host name (the
    /// Sigstore TUF CDN) on loopback to a client that trusts that CA. Fails if `bind` is taken.
    pub fn start_tls_at(bind: &str, names: &[&str]) -> std::io::Result<FixtureRegistry> {
        let listener = TcpListener::bind(bind)?;
        let names = names.iter().map(|n| n.to_string()).collect();
        let (config, ca_pem) = tls::server_config_for(names);
        Ok(Self::start_on(listener, Some(config), Some(ca_pem)))
    }

    fn start_with(
        tls: Option<Arc<rustls::ServerConfig>>,
        ca_pem: Option<String>,
    ) -> FixtureRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        Self::start_on(listener, tls, ca_pem)
    }

    fn start_on(
        listener: TcpListener,
        tls: Option<Arc<rustls::ServerConfig>>,
        ca_pem: Option<String>,
    ) -> FixtureRegistry {
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let accept = std::thread::spawn(move || accept_loop(listener, tls, st, sp));
        FixtureRegistry {
            addr,
            ca_pem,
            state,
            stop,
            accept: Some(accept),
        }
    }

    /// The CA certificate (PEM) of the https variant.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Starts a registry serving `dir` (see [`FixtureRegistry::load_dir`]).
    pub fn from_dir(dir: &Path) -> std::io::Result<FixtureRegistry> {
        let r = FixtureRegistry::start();
        r.load_dir(dir)?;
        Ok(r)
    }

    /// `http://127.0.0.1:PORT/` (`https://` for the TLS variant).
    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}/", self.addr)
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `/NAME` under this registry (scoped names with `%2f`, as npm requests them).
    pub fn packument_url(&self, name: &str) -> String {
        format!("{}{}", self.url(), name.replacen('/', "%2f", 1))
    }
    pub fn attestations_url(&self, name: &str, version: &str) -> String {
        format!("{}-/npm/v1/attestations/{name}@{version}", self.url())
    }
    pub fn keys_url(&self) -> String {
        format!("{}-/npm/v1/keys", self.url())
    }
    /// `/NAME/-/BASENAME-VERSION.tgz`, npm's tarball path.
    pub fn tarball_path(name: &str, version: &str) -> String {
        let base = name.rsplit('/').next().unwrap_or(name);
        format!("/{name}/-/{base}-{version}.tgz")
    }

    // ---- content ----

    /// Serves `path` (decoded form, leading `/`) with one representation.
    pub fn add_raw(&self, path: &str, content_type: &str, body: Vec<u8>) {
        self.state.docs.write().unwrap().insert(
            normalise(path),
            Entry {
                full: Doc {
                    content_type: content_type.into(),
                    body,
                },
                abbreviated: None,
            },
        );
    }

    /// Serves the packument of `name`: `full` for `application/json`, `abbreviated` (if given)
    /// for the abbreviated media type.
    pub fn add_packument(&self, name: &str, full: Vec<u8>, abbreviated: Option<Vec<u8>>) {
        self.state.docs.write().unwrap().insert(
            normalise(&format!("/{name}")),
            Entry {
                full: Doc {
                    content_type: "application/json".into(),
                    body: full,
                },
                abbreviated: abbreviated.map(|body| Doc {
                    content_type: ABBREVIATED.into(),
                    body,
                }),
            },
        );
    }

    /// The full packument served for `name`, if any.
    pub fn packument(&self, name: &str) -> Option<Vec<u8>> {
        let docs = self.state.docs.read().unwrap();
        docs.get(&normalise(&format!("/{name}")))
            .map(|e| e.full.body.clone())
    }

    pub fn add_attestations(&self, name: &str, version: &str, body: Vec<u8>) {
        self.add_raw(
            &format!("/-/npm/v1/attestations/{name}@{version}"),
            "application/json",
            body,
        );
    }

    pub fn add_keys(&self, body: Vec<u8>) {
        self.add_raw("/-/npm/v1/keys", "application/json", body);
    }

    pub fn add_tarball(&self, path: &str, body: Vec<u8>) {
        self.add_raw(path, "application/octet-stream", body);
    }

    /// Loads a directory laid out as:
    /// `packuments/NAME.json` (full; `@scope/name.json` in a subfolder), optional
    /// `abbreviated/NAME.json`, `attestations/NAME@VERSION.json`, `keys.json`, and
    /// `tarballs/PATH` served at `/PATH`.
    pub fn load_dir(&self, dir: &Path) -> std::io::Result<()> {
        for (rel, body) in walk(&dir.join("packuments"))? {
            let Some(name) = rel.strip_suffix(".json") else {
                continue;
            };
            let abbr = std::fs::read(dir.join("abbreviated").join(&rel)).ok();
            self.add_packument(name, body, abbr);
        }
        for (rel, body) in walk(&dir.join("attestations"))? {
            if let Some((name, version)) = rel
                .strip_suffix(".json")
                .and_then(|s| s.rsplit_once('@'))
                .filter(|(n, _)| !n.is_empty())
            {
                self.add_attestations(name, version, body);
            }
        }
        if let Ok(k) = std::fs::read(dir.join("keys.json")) {
            self.add_keys(k);
        }
        for (rel, body) in walk(&dir.join("tarballs"))? {
            self.add_tarball(&format!("/{rel}"), body);
        }
        Ok(())
    }

    // ---- knobs ----

    /// Applies `fault` to every request whose decoded path contains `pattern` (`*`: all).
    pub fn fault(&self, pattern: &str, fault: Fault) {
        self.push_rule(pattern, fault, None);
    }

    /// Applies `fault` to the next `times` matching requests, then serves normally.
    pub fn fault_times(&self, pattern: &str, fault: Fault, times: u32) {
        self.push_rule(pattern, fault, Some(times));
    }

    fn push_rule(&self, pattern: &str, fault: Fault, remaining: Option<u32>) {
        self.state.rules.lock().unwrap().push(Rule {
            pattern: pattern.into(),
            fault,
            remaining,
        });
    }

    pub fn clear_faults(&self) {
        self.state.rules.lock().unwrap().clear();
        *self.state.chaos.lock().unwrap() = None;
    }

    /// Faults about `percent`% of requests (500, 503, 429, reset, truncate, garbage, wrong
    /// shape, short stall) chosen by a PRNG seeded with `seed`; others are delayed a little or
    /// served untouched. Explicit rules take precedence.
    pub fn chaos(&self, seed: u64, percent: u64) {
        *self.state.chaos.lock().unwrap() = Some(Chaos {
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
            percent: percent.min(100),
        });
    }

    /// Sleep before answering every request.
    /// Sends `Cache-Control: VALUE` with every 200 and 304 answer (the public registry sends
    /// `public, max-age=300` with packuments); `None` sends none (the default).
    pub fn set_cache_control(&self, value: Option<&str>) {
        *self.state.cache_control.lock().unwrap() = value.map(str::to_string);
    }

    pub fn set_latency(&self, d: Duration) {
        *self.state.latency.lock().unwrap() = d.min(MAX_WAIT);
    }

    // ---- log ----

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn clear_log(&self) {
        self.state.log.lock().unwrap().clear();
    }

    /// Requests whose decoded path contains `pattern`.
    pub fn count(&self, pattern: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.path.contains(pattern))
            .count()
    }
}

impl Drop for FixtureRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((tcp, _)) => {
                let (st, sp, tls) = (state.clone(), stop.clone(), tls.clone());
                std::thread::spawn(move || {
                    let _ = tcp.set_nonblocking(false);
                    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                    let Ok(raw) = tcp.try_clone() else {
                        return;
                    };
                    let io: Box<dyn ReadWrite> = match tls {
                        Some(cfg) => match rustls::ServerConnection::new(cfg) {
                            Ok(conn) => Box::new(rustls::StreamOwned::new(conn, tcp)),
                            Err(_) => return,
                        },
                        None => Box::new(tcp),
                    };
                    handle(io, raw, &st, &sp);
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// A connection's byte stream: plain TCP or TLS over it.
trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

struct Request {
    method: String,
    target: String,
    proxied: bool,
    path: String,
    headers: Vec<(String, String)>,
}

fn read_request(stream: &mut dyn Read) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    // Absolute form (a client talking to us as its proxy): keep the origin-form part.
    let (target, proxied) = match target
        .strip_prefix("http://")
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
    {
        Some(origin_form) => (origin_form, true),
        None => (target, false),
    };
    let path = normalise(target.split('?').next().unwrap_or(""));
    Some(Request {
        method,
        target,
        proxied,
        path,
        headers,
    })
}

/// Decodes what npm encodes in registry paths: `%2f`/`%2F` → `/`, `%40` → `@`.
fn normalise(path: &str) -> String {
    path.replace("%2f", "/")
        .replace("%2F", "/")
        .replace("%40", "@")
}

fn handle(mut stream: Box<dyn ReadWrite>, tcp: TcpStream, state: &State, stop: &AtomicBool) {
    let Some(req) = read_request(&mut *stream) else {
        return;
    };
    let latency = *state.latency.lock().unwrap();
    sleep_bounded(latency, stop);
    let fault = pick_fault(state, &req.path);
    let entry = LoggedRequest {
        method: req.method.clone(),
        target: req.target.clone(),
        path: req.path.clone(),
        headers: req.headers.clone(),
        status: 0,
        fault: fault.as_ref().map(Fault::name),
        untouched: fault.as_ref().is_none_or(Fault::untouched),
        proxied: req.proxied,
    };
    let mut conn = Conn {
        stream,
        tcp,
        state,
        entry: Some(entry),
    };
    respond(&mut conn, stop, &req, fault.as_ref());
    conn.log(0);
    let _ = conn.stream.flush();
}

/// A connection and its not-yet-logged request: the log entry is written just before the
/// status line, so a client that has its answer always finds its request in the log.
struct Conn<'a> {
    stream: Box<dyn ReadWrite>,
    /// The socket under `stream` (to reset it).
    tcp: TcpStream,
    state: &'a State,
    entry: Option<LoggedRequest>,
}

impl Conn<'_> {
    fn log(&mut self, status: u16) {
        if let Some(mut e) = self.entry.take() {
            e.status = status;
            self.state.log.lock().unwrap().push(e);
        }
    }
}

/// Files under `dir` as (relative path with `/`, bytes); empty if `dir` is absent.
fn walk(dir: &Path) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let p = e.path();
            if e.file_type()?.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, std::fs::read(&p)?));
            }
        }
    }
    out.sort();
    Ok(out)
}
