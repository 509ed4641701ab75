// `berth usage [NAMESPACE]`: usage and quota per namespace through GET
// /v2/_berth/usage (docs/lifecycle.md, "Admin API"), as a table.
#include <boost/json.hpp>
#include <cstdio>

#include "cli/admin/command.hpp"
#include "cli/admin/format.hpp"
#include "cli/commands.hpp"
#include "common/names.hpp"

namespace berth::cli {

using admin::kExitFailed;
using admin::kExitOk;
using admin::kExitUsage;

int Usage(const admin::AdminOptions& options, const std::string& ns) {
  const char* name = "usage";
  if (!ns.empty() && (ns.find('/') != std::string::npos || !ValidateRepositoryName(ns).ok())) {
    return admin::UsageError(name, "invalid namespace \"" + ns + "\"");
  }
  auto cmd = admin::OpenCommand(name, options, admin::kDefaultTimeoutS);
  if (!cmd) return kExitUsage;
  // The namespace grammar leaves nothing to escape in a query.
  auto reply =
      cmd->Call("GET", ns.empty() ? "/v2/_berth/usage" : "/v2/_berth/usage?namespace=" + ns);
  if (!reply) return cmd->exit();
  if (options.json) {
    admin::PrintBody(std::move(reply->body));
    return kExitOk;
  }
  boost::system::error_code ec;
  auto json = boost::json::parse(reply->body, ec);
  const boost::json::value* list =
      !ec && json.is_object() ? json.as_object().if_contains("namespaces") : nullptr;
  if (!list || !list->is_array()) {
    return cmd->Fail(kExitFailed, "the registry's answer holds no \"namespaces\" list");
  }
  std::vector<std::vector<std::string>> rows = {
      {"NAMESPACE", "USED", "USED BYTES", "QUOTA", "QUOTA BYTES", "REPOSITORIES", "BLOBS"}};
  for (const auto& v : list->as_array()) {
    if (!v.is_object()) continue;
    const auto& o = v.as_object();
    const auto* n = o.if_contains("namespace");
    const uint64_t used = admin::JsonUint(o, "used_bytes");
    const uint64_t quota = admin::JsonUint(o, "quota_bytes");
    rows.push_back({n && n->is_string() ? std::string(n->as_string().c_str()) : "?",
                    admin::HumanBytes(used), std::to_string(used),
                    quota ? admin::HumanBytes(quota) : "none", std::to_string(quota),
                    std::to_string(admin::JsonUint(o, "repositories")),
                    std::to_string(admin::JsonUint(o, "blobs"))});
  }
  std::fputs(admin::Table(rows, {1, 2, 3, 4, 5, 6}).c_str(), stdout);
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace berth::cli
