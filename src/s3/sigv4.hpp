// AWS Signature Version 4 for S3: the canonical request, the string to sign,
// the signing key, the Authorization header, and presigned (query-string)
// URLs. Pure functions: the time is a parameter, so known answers can be
// tested (tests/unit/s3/sigv4_test.cpp checks them against botocore).
//
// Paths and query parameters are given decoded; this file does all the
// percent-encoding, by AWS's rules (only A-Z a-z 0-9 - _ . ~ kept; '/' kept
// in paths; space is %20, never '+').
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret.hpp"

namespace berth::s3::sigv4 {

using Clock = std::chrono::system_clock;
using Params = std::vector<std::pair<std::string, std::string>>;

// The payload hash of a body that is streamed and not hashed beforehand.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct Credentials {
  std::string access_key;
  const Secret* secret_key = nullptr;  // REQUIRES: non-null while signing
  std::string region;
  std::string service = "s3";
};

struct Request {
  std::string method;        // "GET", "PUT"...
  std::string host;          // the Host header as sent: "127.0.0.1:7480"
  std::string path;          // decoded, starting with '/': "/bucket/a key"
  Params query;              // decoded names and values ("uploads" -> "")
  Params headers;            // extra headers to sign (x-amz-*, content-type...)
  std::string payload_hash;  // lower-case hex SHA-256 of the body, or kUnsignedPayload
};

// Percent-encodes `s` by AWS's rules; '/' is kept when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);

// "20130524T000000Z" (UTC).
std::string AmzDate(Clock::time_point t);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// name=value pairs, both encoded, sorted by name then value, joined by '&'.
std::string CanonicalQuery(const Params& query);

// The canonical request of `r` signing exactly `r.headers` plus host (names
// lower-cased, values trimmed with inner runs of spaces folded, sorted).
std::string CanonicalRequest(const Request& r);

// The string to sign for a canonical request at `amz_date`.
std::string StringToSign(const Credentials& c, const std::string& amz_date,
                         std::string_view canonical_request);

// Lower-case hex signature of `string_to_sign` with the key derived from the
// secret, date, region and service.
std::string Signature(const Credentials& c, const std::string& amz_date,
                      std::string_view string_to_sign);

// Signs `r` at `now`: returns the headers to send with it, in this order:
// x-amz-date, x-amz-content-sha256 (r.payload_hash), authorization. The host
// header is signed as r.host; the caller must send exactly that Host.
Params SignHeaders(const Request& r, const Credentials& c, Clock::time_point now);

// The encoded path and query of a presigned URL for `r` (its headers and
// payload hash are ignored: only host is signed, the payload is unsigned),
// valid `expires_seconds` from `now`: "/bucket/key?X-Amz-Algorithm=...&X-Amz-Signature=...".
// Prefix it with "scheme://host".
std::string PresignPathAndQuery(const Request& r, const Credentials& c, Clock::time_point now,
                                int expires_seconds);

}  // namespace berth::s3::sigv4
