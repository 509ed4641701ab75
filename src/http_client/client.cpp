#include "http_client/client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <strings.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>

#include "common/result.hpp"

namespace berth::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Where the request goes, taken from the URL.
struct Target {
  bool tls = false;
  std::string host;  // name or address without brackets: looked up, verified, sent as SNI
  bool host_is_name = false;
  std::string port;
  std::string authority;  // host[:port] as written, for the Host header
  std::string resource;   // path and query
};

// Splits an http(s) URL into what the request needs; errors name the flaw.
Result<Target> ParseTarget(const std::string& url) {
  auto parsed = urls::parse_absolute_uri(url);
  if (!parsed) return Status(Errc::kInternal, "not an absolute URL");
  const urls::url_view& u = *parsed;
  Target t;
  t.tls = u.scheme_id() == urls::scheme::https;
  if (!t.tls && u.scheme_id() != urls::scheme::http) {
    return Status(Errc::kInternal,
                  "unsupported scheme \"" + std::string(u.scheme()) + "\" (http or https only)");
  }
  if (u.encoded_host().empty()) return Status(Errc::kInternal, "no host in the URL");
  // Not sent as Basic credentials, and silently dropping it would turn a
  // configuration mistake into puzzling 401s.
  if (u.has_userinfo()) return Status(Errc::kInternal, "user info in the URL is not supported");
  t.host = u.host_address();
  t.host_is_name = u.host_type() == urls::host_type::name;
  t.port = u.has_port() ? std::string(u.port()) : (t.tls ? "443" : "80");
  t.authority = u.encoded_host_and_port();
  t.resource = u.encoded_target();
  if (t.resource.empty() || t.resource.front() != '/') t.resource.insert(0, "/");
  return t;
}

// getaddrinfo cannot be interrupted, and asio's async_resolve joins its
// lookup thread when the io_context goes away, so a stalled DNS server would
// hold the caller past its timeout. The lookup runs on a detached thread
// instead; at the deadline the caller stops waiting and leaves it to finish
// alone (glibc gives up after its own resolv.conf timeouts). Failures carry
// the whole message for the reply; `timed_out` starts it on timeout.
Result<tcp::resolver::results_type> Resolve(const std::string& host, const std::string& port,
                                            Clock::time_point deadline,
                                            const std::string& timed_out) {
  struct Lookup {
    tcp::resolver::results_type results;
    error_code ec;
  };
  auto promise = std::make_shared<std::promise<Lookup>>();
  std::future<Lookup> lookup = promise->get_future();
  std::thread([promise, host, port] {
    try {
      asio::io_context ioc;
      tcp::resolver resolver(ioc);
      Lookup out;
      out.results = resolver.resolve(host, port, out.ec);
      promise->set_value(std::move(out));
    } catch (...) {
      promise->set_exception(std::current_exception());  // rethrown by get() below
    }
  }).detach();
  if (lookup.wait_until(deadline) != std::future_status::ready) {
    return Status(Errc::kUnavailable, timed_out + ", resolving " + host);
  }
  Lookup out = lookup.get();
  if (out.ec) return Status(Errc::kUnavailable, "resolving " + host + ": " + out.ec.message());
  return std::move(out.results);
}

// OpenSSL's reason for refusing the peer's certificate, as ": reason", or
// "" when it did not refuse it: asio's handshake error alone says only
// "certificate verify failed".
std::string VerifyFailure(SSL* ssl) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify == X509_V_OK) return "";
  return std::string(": ") + X509_verify_cert_error_string(verify);
}

// How the exchange ended: `step` names what was under way when `ec` struck
// (null when the whole answer was read); `detail` adds to ec's message.
struct Outcome {
  const char* step = nullptr;
  error_code ec;
  std::string detail{};  // an initializer, so Outcome{step, ec} may leave it out
};

template <typename Stream>
asio::awaitable<Outcome> Exchange(Stream& stream, const tcp::resolver::results_type& endpoints,
                                  Clock::time_point connect_deadline, Clock::time_point deadline,
                                  const bhttp::request<bhttp::string_body>& request,
                                  bhttp::response_parser<bhttp::string_body>& parser) {
  beast::get_lowest_layer(stream).expires_at(connect_deadline);
  auto [ec, endpoint] = co_await beast::get_lowest_layer(stream).async_connect(endpoints, kTuple);
  if (ec) co_return Outcome{"connecting", ec};
  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    std::tie(ec) = co_await stream.async_handshake(ssl::stream_base::client, kTuple);
    if (ec) co_return Outcome{"TLS handshake", ec, VerifyFailure(stream.native_handle())};
  }
  beast::get_lowest_layer(stream).expires_at(deadline);
  std::tie(ec, std::ignore) = co_await bhttp::async_write(stream, request, kTuple);
  if (ec) co_return Outcome{"sending the request", ec};
  beast::flat_buffer buffer;
  std::tie(ec, std::ignore) = co_await bhttp::async_read(stream, buffer, parser, kTuple);
  if (ec) co_return Outcome{"reading the answer", ec};
  co_return Outcome{};
}

// Runs the exchange on `ioc` to its end. The stream's deadlines bound every
// step (connect and handshake, then write and read): past one Beast closes
// the socket and the step fails with beast::error::timeout, so run() cannot
// outlast them.
template <typename Stream>
Outcome Run(asio::io_context& ioc, Stream& stream, Clock::time_point connect_deadline,
            Clock::time_point deadline, const tcp::resolver::results_type& endpoints,
            const bhttp::request<bhttp::string_body>& request,
            bhttp::response_parser<bhttp::string_body>& parser) {
  Outcome outcome;
  std::exception_ptr thrown;
  asio::co_spawn(ioc, Exchange(stream, endpoints, connect_deadline, deadline, request, parser),
                 [&](std::exception_ptr e, Outcome o) {
                   thrown = std::move(e);
                   outcome = std::move(o);
                 });
  ioc.run();
  if (thrown) std::rethrow_exception(thrown);
  return outcome;
}

std::string Millis(int64_t ms) { return "timed out after " + std::to_string(ms) + " ms"; }

ClientReply SendOnce(const ClientRequest& req, const ClientOptions& options) {
  ClientReply reply;
  const auto start = Clock::now();
  const int64_t connect_ms = std::min(options.connect_timeout_ms, options.timeout_ms);
  const auto connect_deadline = start + std::chrono::milliseconds(connect_ms);
  const auto deadline = start + std::chrono::milliseconds(options.timeout_ms);

  auto target = ParseTarget(req.url);
  if (!target) {
    reply.error = target.status().message();
    return reply;
  }
  auto endpoints = Resolve(target->host, target->port, connect_deadline, Millis(connect_ms));
  if (!endpoints) {
    reply.error = endpoints.status().message();
    return reply;
  }

  bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(req.method), target->resource,
                                             11};
  if (request.method() == bhttp::verb::unknown) {
    reply.error = "unsupported method " + req.method;
    return reply;
  }
  request.set(bhttp::field::host, target->authority);
  request.set(bhttp::field::user_agent, "berth");
  for (const auto& [name, value] : req.headers) request.insert(name, value);
  request.body() = req.body;
  request.prepare_payload();
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(options.max_response_bytes);
  if (request.method() == bhttp::verb::head) parser.skip(true);

  asio::io_context ioc(1);
  Outcome outcome;
  if (target->tls) {
    // One context per call: these calls are rare, a CA file replaced on disk
    // is read afresh, and nothing stays in memory between calls. Loading the
    // system store costs about 20 ms of CPU, a one-certificate ca_file well
    // under 1 ms.
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    // Without verification there is nothing to load, and a ca_file that
    // cannot be read does not matter.
    error_code ec;
    if (options.verify_tls && options.ca_file.empty()) {
      ctx.set_default_verify_paths(ec);
    } else if (options.verify_tls) {
      ctx.load_verify_file(options.ca_file, ec);
    }
    if (ec) {
      reply.error = "loading CA certificates " +
                    (options.ca_file.empty() ? "from the system store" : options.ca_file) + ": " +
                    ec.message();
      return reply;
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    // SNI carries names only (RFC 6066, section 3), never addresses.
    if (target->host_is_name &&
        !SSL_set_tlsext_host_name(stream.native_handle(), target->host.c_str())) {
      reply.error = "cannot set the TLS server name " + target->host;
      return reply;
    }
    if (options.verify_tls) {
      stream.set_verify_mode(ssl::verify_peer);
      // asio's check refuses a certificate for another host without saying
      // why (OpenSSL would log "unspecified certificate verification error").
      const int mismatch =
          target->host_is_name ? X509_V_ERR_HOSTNAME_MISMATCH : X509_V_ERR_IP_ADDRESS_MISMATCH;
      stream.set_verify_callback([check = ssl::host_name_verification(target->host), mismatch](
                                     bool preverified, ssl::verify_context& verify) {
        if (check(preverified, verify)) return true;
        if (preverified) X509_STORE_CTX_set_error(verify.native_handle(), mismatch);
        return false;
      });
    } else {
      stream.set_verify_mode(ssl::verify_none);
    }
    outcome = Run(ioc, stream, connect_deadline, deadline, *endpoints, request, parser);
  } else {
    beast::tcp_stream stream(ioc);
    outcome = Run(ioc, stream, connect_deadline, deadline, *endpoints, request, parser);
  }

  const bool connecting = outcome.step && (std::string_view(outcome.step) == "connecting" ||
                                           std::string_view(outcome.step) == "TLS handshake");
  reply.tls_failed =
      outcome.ec && outcome.step && std::string_view(outcome.step) == "TLS handshake";
  if (outcome.ec == beast::error::timeout) {
    reply.error = Millis(connecting ? connect_ms : options.timeout_ms) + ", " + outcome.step;
  } else if (outcome.ec == bhttp::error::body_limit) {
    reply.error = "answer larger than " + std::to_string(options.max_response_bytes) + " bytes";
  } else if (outcome.ec) {
    reply.error = std::string(outcome.step) + ": " + outcome.ec.message() + outcome.detail;
  } else {
    reply.transport_ok = true;
    auto& answer = parser.get();
    reply.status = static_cast<long>(answer.result_int());
    for (const auto& field : answer) {
      reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    reply.body = std::move(answer.body());
  }
  return reply;
}

}  // namespace

std::optional<std::string> ClientReply::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && ::strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  }
  return std::nullopt;
}

ClientReply Send(const ClientRequest& request, const ClientOptions& options) {
  // Asio and Beast report I/O failures as error codes (above); what can
  // still throw is allocation, thread creation and the like.
  try {
    return SendOnce(request, options);
  } catch (const std::exception& e) {
    ClientReply reply;
    reply.error = std::string("unexpected failure: ") + e.what();
    return reply;
  }
}

}  // namespace berth::http
