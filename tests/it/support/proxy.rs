//! An HTTP CONNECT proxy on 127.0.0.1, for the tests of `HTTPS_PROXY` and its kin.

use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::server::read_request;

/// An HTTP CONNECT proxy on 127.0.0.1, the kind `HTTPS_PROXY` names: it records each
/// `CONNECT host:port` line and its `Proxy-Authorization`, tunnels the hosts in `routes` to
/// a fake API, and answers any other host `403`.
pub struct Proxy {
    pub url: String,
    connects: Arc<Mutex<Vec<Connect>>>,
}

/// One CONNECT: its `host:port` and its `Proxy-Authorization`, if any.
type Connect = (String, Option<String>);

impl Proxy {
    /// `routes`: `host:port` as the client asks for it → the fake API's URL to tunnel to.
    pub fn start(routes: Vec<(String, String)>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connects = Arc::new(Mutex::new(Vec::new()));
        let seen = connects.clone();
        let routes = Arc::new(routes);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (seen, routes) = (seen.clone(), routes.clone());
                thread::spawn(move || tunnel(client, &seen, &routes));
            }
        });
        Proxy { url, connects }
    }

    /// The `host:port` of every CONNECT received, in order.
    pub fn connects(&self) -> Vec<String> {
        let all = self.connects.lock().unwrap();
        all.iter().map(|(target, _)| target.clone()).collect()
    }

    /// The `Proxy-Authorization` header of every CONNECT received.
    pub fn credentials(&self) -> Vec<Option<String>> {
        let all = self.connects.lock().unwrap();
        all.iter().map(|(_, auth)| auth.clone()).collect()
    }
}

fn tunnel(mut client: TcpStream, seen: &Mutex<Vec<Connect>>, routes: &[(String, String)]) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    // The head is read like any request's; nothing follows it until the tunnel is
    // answered, so nothing the reader buffered is lost.
    let Some(head) = read_request(&mut client) else {
        return;
    };
    if head.method != "CONNECT" {
        return;
    }
    let auth = head.header("proxy-authorization").map(str::to_string);
    seen.lock().unwrap().push((head.target.clone(), auth));
    let upstream = routes
        .iter()
        .find(|(from, _)| *from == head.target)
        .and_then(|(_, to)| TcpStream::connect(to.trim_start_matches("http://")).ok());
    let Some(upstream) = upstream else {
        let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    let (Ok(mut up_write), Ok(mut up_read), Ok(mut from_client)) = (
        upstream.try_clone(),
        upstream.try_clone(),
        client.try_clone(),
    ) else {
        return;
    };
    let to_upstream = thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut up_write);
        let _ = up_write.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut up_read, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = to_upstream.join();
}
