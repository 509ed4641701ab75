// The request head as Session reads it: Beast's parsed head turned into our
// Request, the framing check that keeps smuggled requests out, and request
// ids for the logs. Internal to http/.
#pragma once

#include <boost/beast/http.hpp>
#include <string>

#include "http/message.hpp"

namespace berth::http {

// An id for the log lines of one request: unique in this process, and
// unlikely to repeat across restarts (its prefix is the start time).
std::string NextRequestId();

// Converts the parsed head into our plain Request. Returns false when the
// target is not a valid origin-form URL.
bool BuildRequest(const boost::beast::http::request_parser<boost::beast::http::buffer_body>& parser,
                  Request& out);

// RFC 9112 §6.3: a request whose Transfer-Encoding does not end in chunked
// has no length anyone can trust, and the server must answer 400 and close.
// Beast reads such a request as one without a body, so its body would be
// served as the next request: one that a proxy in front never saw (request
// smuggling). Also catches "chunked, chunked", which Beast leaves unframed.
bool UnframedTransferEncoding(
    const boost::beast::http::request_parser<boost::beast::http::buffer_body>& parser);

}  // namespace berth::http
