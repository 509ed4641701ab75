// Webhook events as the reference registry's notifications send them, so
// existing receivers work unchanged: a JSON envelope {"events":[...]} of
// media type kEnvelopeMediaType, each event carrying id, timestamp, action,
// target, request, actor and source. Empty fields are left out, as the
// reference does, except request.id, method and useragent.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth::events {

// The Content-Type of every delivery (the reference's version 1 envelope).
inline constexpr std::string_view kEnvelopeMediaType =
    "application/vnd.docker.distribution.events.v1+json";

// Event actions. kPush and kDelete always go to endpoints whose filters take
// them; kPull only with notifications.pulls; blob pushes and kMount only with
// notifications.blobs.
inline constexpr std::string_view kPush = "push";
inline constexpr std::string_view kPull = "pull";
inline constexpr std::string_view kDelete = "delete";
inline constexpr std::string_view kMount = "mount";

struct Target {
  std::string media_type;
  uint64_t size = 0;  // also sent as `length`, as the reference does
  std::string digest;
  std::string repository;
  std::string from_repository;  // mounts only
  std::string url;              // absolute, or a path that the dispatcher makes absolute
  std::string tag;
};

struct RequestRecord {
  std::string id;
  std::string addr;  // the client's address
  std::string host;  // the Host header
  std::string method;
  std::string useragent;
};

struct Event {
  std::string id;         // unique; the same on every retry (receivers dedupe on it)
  std::string timestamp;  // RFC 3339 with nanoseconds, UTC
  std::string action;
  Target target;
  RequestRecord request;
  std::string actor;  // the user the token names; "" = anonymous
  std::string source_addr;
  std::string instance_id;
};

// `e` as one JSON object.
std::string ToJson(const Event& e);

// The envelope around events already serialized by ToJson.
std::string Envelope(const std::vector<std::string>& events);

// "2006-01-02T15:04:05.999999999Z" (RFC 3339, nanoseconds, UTC).
std::string Rfc3339(std::chrono::system_clock::time_point t);

// A random UUID (version 4) for event and instance ids; "" only when the
// kernel has no randomness to give.
std::string NewUuid();

}  // namespace berth::events
