//! The client's address: the peer, or, when the peer is a trusted proxy, the right-most
//! address in X-Forwarded-For that is not itself a trusted proxy. A client cannot forge its
//! way past the allow list by sending its own X-Forwarded-For to a server without proxies.

use crate::access::canonical_ip;
use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let trusted = |ip: &IpAddr| {
        trusted_proxies
            .iter()
            .any(|net| net.contains(&canonical_ip(*ip)))
    };
    let peer = canonical_ip(peer);
    if !trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .map(canonical_ip)
        .find(|ip| !trusted(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", xff.parse().unwrap());
        headers
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let ip = client_ip("203.0.113.9".parse().unwrap(), &headers("10.0.0.1"), &[]);
        assert_eq!(ip.to_string(), "203.0.113.9");
    }

    #[test]
    fn trusted_proxy_chain_yields_the_first_untrusted_address_from_the_right() {
        let proxies: Vec<IpNet> = vec![
            "127.0.0.0/8".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        let ip = client_ip(
            "127.0.0.1".parse().unwrap(),
            &headers("1.2.3.4, 198.51.100.7, 10.0.0.2"),
            &proxies,
        );
        assert_eq!(ip.to_string(), "198.51.100.7");
        let none = client_ip("127.0.0.1".parse().unwrap(), &HeaderMap::new(), &proxies);
        assert_eq!(none.to_string(), "127.0.0.1");
    }
}
