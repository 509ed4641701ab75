#include "cli/admin/command.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <set>

#include "cli/admin/link.hpp"

namespace berth::cli::admin {

void PrintLine(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::optional<Command> OpenCommand(const std::string& name, const AdminOptions& options,
                                   int64_t default_timeout_s) {
  auto client = Connect(options, default_timeout_s);
  if (!client) {
    UsageError(name, client.status().message());
    return std::nullopt;
  }
  return Command(name, std::move(*client));
}

void PrintBody(std::string body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  PrintLine(body);
}

uint64_t JsonUint(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  boost::system::error_code ec;
  uint64_t n = v ? v->to_number<uint64_t>(ec) : 0;
  return ec ? 0 : n;
}

int UsageError(const std::string& name, const std::string& message) {
  std::fprintf(stderr, "berth %s: %s\n", name.c_str(), message.c_str());
  return kExitUsage;
}

int Command::Fail(ExitCode code, const std::string& message) {
  std::fprintf(stderr, "berth %s: %s\n", name_.c_str(), message.c_str());
  exit_ = code;
  return code;
}

std::optional<http::ClientReply> Command::Call(std::string_view method, std::string_view target,
                                               const std::string& body) {
  auto reply = client_.Call(method, target, body);
  if (!reply) {
    Fail(ExitCodeFor(reply.status().code()), reply.status().message());
    return std::nullopt;
  }
  if (ExitCode code = ExitCodeForHttp(reply->status); code != kExitOk) {
    std::string why = ErrorMessage(reply->status, reply->body);
    if (reply->status == 401 && client_.anonymous()) {
      why += " (no password given: set BERTH_PASSWORD or use --password-stdin)";
    }
    Fail(code, why);
    return std::nullopt;
  }
  return std::move(*reply);
}

std::optional<std::vector<std::string>> Command::ListAll(std::string target, const char* key) {
  std::vector<std::string> out;
  std::set<std::string> seen;  // a registry that links back would loop forever
  while (true) {
    if (!seen.insert(target).second) {
      Fail(kExitFailed, client_.Url(target) + ": the next page link repeats a page");
      return std::nullopt;
    }
    auto reply = Call("GET", target);
    if (!reply) return std::nullopt;
    boost::system::error_code ec;
    auto json = boost::json::parse(reply->body, ec);
    const boost::json::value* list =
        !ec && json.is_object() ? json.as_object().if_contains(key) : nullptr;
    // "tags": null is how some registries say "no tags".
    if (!list || !(list->is_array() || list->is_null())) {
      Fail(kExitFailed, client_.Url(target) + ": the answer holds no \"" + key + "\" list");
      return std::nullopt;
    }
    if (list->is_array()) {
      for (const auto& v : list->as_array()) {
        if (v.is_string()) out.emplace_back(v.as_string().c_str());
      }
    }
    auto link = reply->Header("Link");
    auto next = link ? NextPageTarget(*link) : std::nullopt;
    if (!next) return out;
    target = std::move(*next);
  }
}

}  // namespace berth::cli::admin
