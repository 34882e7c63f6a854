//! One HTTP/1.1 keep-alive connection: the load generator's unit. Requests on it are
//! sequential, so a worker measures exactly one request's latency at a time.

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;

pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    authority: String,
}

/// A base URL split into what a connection needs. Only loopback targets are accepted.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub address: SocketAddr,
}

impl Endpoint {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .context("the benchmark speaks plain HTTP: the URL must start with http://")?;
        let host_port = rest.trim_end_matches('/');
        let address: SocketAddr = host_port
            .parse()
            .with_context(|| format!("{host_port:?} is not an IP:port address"))?;
        if !address.ip().is_loopback() {
            bail!(
                "load is only ever sent to loopback addresses, not {}",
                address.ip()
            );
        }
        Ok(Endpoint { address })
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Bytes,
}

impl Connection {
    pub async fn open(endpoint: &Endpoint) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(endpoint.address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Connection {
            sender,
            authority: endpoint.address.to_string(),
        })
    }

    /// A request with the compatible API's `key` header (when `key` is given).
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Bytes>,
    ) -> anyhow::Result<Reply> {
        self.send_with(method, path, key.map(|key| ("key", key)), body)
            .await
    }

    /// An SDK-API request: the app's client key in the `secretKey` header.
    pub async fn send_sdk(
        &mut self,
        method: Method,
        path: &str,
        client_key: &str,
        body: Option<Bytes>,
    ) -> anyhow::Result<Reply> {
        self.send_with(method, path, Some(("secretkey", client_key)), body)
            .await
    }

    /// A native-API request: the key as a bearer token.
    pub async fn send_bearer(
        &mut self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Bytes>,
    ) -> anyhow::Result<Reply> {
        let bearer = format!("Bearer {key}");
        self.send_with(method, path, Some(("authorization", &bearer)), body)
            .await
    }

    /// A request with one authentication header (name, value), or none.
    pub async fn send_with(
        &mut self,
        method: Method,
        path: &str,
        auth: Option<(&str, &str)>,
        body: Option<Bytes>,
    ) -> anyhow::Result<Reply> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.authority);
        if let Some((name, value)) = auth {
            request = request.header(name, value);
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(Full::new(body.unwrap_or_default()))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Reply { status, body })
    }
}
