// TrustedProxies: the load balancers (README "Scaling out": HAProxy in front
// of several berths) whose X-Forwarded-For berth believes.
//
// Behind a proxy every connection comes from the proxy's address. Without
// this list, the per-address connection limit would cap the proxy (and so
// every client together) at http.max_connections_per_address, and login
// throttling would let one client's wrong passwords lock out everybody.
// With it, a connection from a listed address is exempt from the
// per-address limit (the proxy has its own), and a request's client address
// is taken from X-Forwarded-For: walking from its right end (the entry the
// nearest proxy appended) past entries that are themselves trusted proxies;
// the first other entry is the client. Entries further left were written by
// the client and are never believed. A request from any other address keeps
// its peer address, whatever headers it sends.
//
// Thread-safety: immutable after Parse; safe to share.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace berth::http {

class TrustedProxies {
 public:
  TrustedProxies() = default;

  // From addresses and CIDR blocks ("10.0.0.5", "10.0.0.0/8", "::1",
  // "fd00::/8"). kUnsupported naming the entry when one is not either.
  static Result<TrustedProxies> Parse(const std::vector<std::string>& entries);

  bool empty() const { return nets_.empty(); }

  // Whether `address` (an IP literal, v6 with or without brackets; a
  // v4-mapped v6 address counts as its v4 address) is a trusted proxy.
  bool Contains(std::string_view address) const;

  // The client a request came from: `peer` ("1.2.3.4:5678" or "[::1]:5678",
  // as the session names it) unless the peer is trusted and
  // `forwarded_for` (every X-Forwarded-For field of the request, joined
  // with commas in order) names one; then that client as "1.2.3.4" or
  // "[2001:db8::1]". A malformed entry where the walk stops gives the
  // nearest trusted hop instead: a bad header never becomes an address.
  std::string ClientOf(std::string_view peer, std::string_view forwarded_for) const;

 private:
  struct Net {
    std::array<unsigned char, 16> bytes{};  // v4 as v4-mapped v6
    int prefix = 0;                         // bits, of the 128
  };
  std::vector<Net> nets_;
};

// The address in `text` (an IP literal, v6 bracketed or not, optionally
// with the ":port" a session writes after a peer) in the form ClientOf
// answers: "1.2.3.4" or "[2001:db8::1]"; nullopt when it holds none. For
// a hop that writes X-Forwarded-For itself (the web interface).
std::optional<std::string> CanonicalAddress(std::string_view text);

}  // namespace berth::http
