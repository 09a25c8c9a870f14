//! How the fixture registry answers: the untouched document (with ETag/304 and the
//! abbreviated variant), or one of the faults.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::{Conn, Doc, Fault, Request, State, ABBREVIATED, MAX_WAIT};

pub(super) fn pick_fault(state: &State, path: &str) -> Option<Fault> {
    {
        let mut rules = state.rules.lock().unwrap();
        for r in rules.iter_mut() {
            if (r.pattern == "*" || path.contains(&r.pattern)) && r.remaining != Some(0) {
                if let Some(n) = r.remaining.as_mut() {
                    *n -= 1;
                }
                return Some(r.fault.clone());
            }
        }
    }
    let mut chaos = state.chaos.lock().unwrap();
    let c = chaos.as_mut()?;
    let roll = next(&mut c.state) % 100;
    if roll >= c.percent {
        return (next(&mut c.state) & 3 == 0).then_some(Fault::Delay(Duration::from_millis(5)));
    }
    Some(match next(&mut c.state) % 8 {
        0 => Fault::Status(500),
        1 => Fault::Status(503),
        2 => Fault::TooManyRequests {
            retry_after: "0".into(),
        },
        3 => Fault::Reset,
        4 => Fault::Truncate,
        5 => Fault::Garbage,
        6 => Fault::WrongShape,
        _ => Fault::Stall(Duration::from_millis(400)),
    })
}

/// splitmix64.
pub(super) fn next(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub(super) fn sleep_bounded(d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d.min(MAX_WAIT);
    while Instant::now() < end && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(5).min(end - Instant::now()));
    }
}

fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", &hex_lower(&Sha256::digest(body))[..32])
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn head(c: &mut Conn, status: u16, headers: &[(&str, String)]) {
    c.log(status);
    let reason = match status {
        200 => "OK",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut s = format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\n");
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    let _ = c.stream.write_all(s.as_bytes());
}

fn simple(c: &mut Conn, status: u16, extra: &[(&str, String)], body: &[u8]) -> u16 {
    let mut h = vec![
        ("Content-Type", "application/json".to_string()),
        ("Content-Length", body.len().to_string()),
    ];
    h.extend(extra.iter().cloned());
    head(c, status, &h);
    let _ = c.stream.write_all(body);
    status
}

pub(super) fn respond(
    c: &mut Conn,
    stop: &AtomicBool,
    req: &Request,
    fault: Option<&Fault>,
) -> u16 {
    let doc = lookup(c.state, req);
    match fault {
        None => serve(c, req, doc),
        Some(Fault::Delay(d)) => {
            sleep_bounded(*d, stop);
            serve(c, req, doc)
        }
        Some(Fault::Status(s)) => simple(c, *s, &[], b"{\"error\":\"injected\"}"),
        Some(Fault::TooManyRequests { retry_after }) => simple(
            c,
            429,
            &[("Retry-After", retry_after.clone())],
            b"{\"error\":\"slow down\"}",
        ),
        Some(Fault::Reset) => {
            c.log(0);
            let _ = socket2::SockRef::from(&c.tcp).set_linger(Some(Duration::ZERO));
            0
        }
        Some(Fault::Stall(d)) => {
            c.log(0);
            sleep_bounded(*d, stop);
            0
        }
        Some(Fault::Truncate) => {
            let body = doc.map(|d| d.body).unwrap_or_else(|| vec![b' '; 1024]);
            head(
                c,
                200,
                &[
                    ("Content-Type", "application/json".into()),
                    ("Content-Length", body.len().to_string()),
                ],
            );
            let _ = c.stream.write_all(&body[..body.len() / 2]);
            let _ = c.stream.flush();
            let _ = socket2::SockRef::from(&c.tcp).set_linger(Some(Duration::ZERO));
            200
        }
        Some(Fault::Garbage) => {
            let len = doc.as_ref().map(|d| d.body.len()).unwrap_or(512).max(16);
            let mut s = len as u64;
            let body: Vec<u8> = (0..len).map(|_| next(&mut s) as u8).collect();
            let ct = doc
                .map(|d| d.content_type)
                .unwrap_or_else(|| "application/json".into());
            head(
                c,
                200,
                &[
                    ("Content-Type", ct),
                    ("Content-Length", body.len().to_string()),
                ],
            );
            let _ = c.stream.write_all(&body);
            200
        }
        Some(Fault::WrongShape) => simple(
            c,
            200,
            &[],
            br#"{"ok":true,"unexpected":[1,2,3],"versions":[],"attestations":{},"keys":"none"}"#,
        ),
        Some(Fault::Oversized {
            bytes,
            declare_length,
        }) => {
            let mut h = vec![("Content-Type", "application/json".to_string())];
            if *declare_length {
                h.push(("Content-Length", bytes.to_string()));
            }
            head(c, 200, &h);
            let chunk = vec![b' '; 64 * 1024];
            let mut left = *bytes;
            while left > 0 && !stop.load(Ordering::SeqCst) {
                let n = left.min(chunk.len());
                if c.stream.write_all(&chunk[..n]).is_err() {
                    break;
                }
                left -= n;
            }
            200
        }
        Some(Fault::GzipBomb { decoded_bytes }) => {
            let bomb = gzip_bomb(c.state, *decoded_bytes);
            head(
                c,
                200,
                &[
                    ("Content-Type", "application/json".into()),
                    ("Content-Encoding", "gzip".into()),
                    ("Content-Length", bomb.len().to_string()),
                ],
            );
            let _ = c.stream.write_all(&bomb);
            200
        }
        Some(Fault::RedirectToUrl(location)) => {
            simple(c, 302, &[("Location", location.clone())], b"")
        }
        Some(Fault::RedirectTo(base)) => simple(
            c,
            302,
            &[(
                "Location",
                format!("{}{}", base.trim_end_matches('/'), req.target),
            )],
            b"",
        ),
    }
}

fn lookup(state: &State, req: &Request) -> Option<Doc> {
    let docs = state.docs.read().unwrap();
    let e = docs.get(&req.path)?;
    let accept = req
        .headers
        .iter()
        .find(|(k, _)| k == "accept")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    Some(match (&e.abbreviated, accept.contains(ABBREVIATED)) {
        (Some(a), true) => a.clone(),
        _ => e.full.clone(),
    })
}

fn serve(c: &mut Conn, req: &Request, doc: Option<Doc>) -> u16 {
    let Some(doc) = doc else {
        return simple(c, 404, &[], b"{\"error\":\"Not found\"}");
    };
    let etag = etag_of(&doc.body);
    let inm = req
        .headers
        .iter()
        .find(|(k, _)| k == "if-none-match")
        .map(|(_, v)| v.as_str());
    let cache_control = c.state.cache_control.lock().unwrap().clone();
    let mut extra = Vec::new();
    if let Some(cc) = cache_control {
        extra.push(("Cache-Control", cc));
    }
    if inm == Some(etag.as_str()) {
        let mut h = vec![("ETag", etag)];
        h.extend(extra);
        head(c, 304, &h);
        return 304;
    }
    let mut h = vec![
        ("Content-Type", doc.content_type.clone()),
        ("Content-Length", doc.body.len().to_string()),
        ("ETag", etag),
        ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT".into()),
    ];
    h.extend(extra);
    head(c, 200, &h);
    let _ = c.stream.write_all(&doc.body);
    200
}

fn gzip_bomb(state: &State, decoded: usize) -> Arc<Vec<u8>> {
    let mut bombs = state.bombs.lock().unwrap();
    bombs
        .entry(decoded)
        .or_insert_with(|| {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            let zeros = vec![b' '; 1024 * 1024];
            let mut left = decoded;
            while left > 0 {
                let n = left.min(zeros.len());
                let _ = enc.write_all(&zeros[..n]);
                left -= n;
            }
            Arc::new(enc.finish().unwrap_or_default())
        })
        .clone()
}
