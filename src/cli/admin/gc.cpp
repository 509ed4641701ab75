// `berth gc [--dry-run]`: runs a collection now through POST /v2/_berth/gc
// (docs/lifecycle.md, "Admin API") and prints what it removed.
#include <boost/json.hpp>
#include <cstdio>

#include "cli/admin/command.hpp"
#include "cli/admin/format.hpp"
#include "cli/commands.hpp"

namespace berth::cli {

using admin::kExitFailed;
using admin::kExitOk;
using admin::kExitUsage;

namespace {

std::string Text(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string().c_str()) : "";
}

// One line per listed tag and manifest, then the counts.
void PrintHuman(const boost::json::object& r) {
  const bool dry =
      r.if_contains("dry_run") && r.at("dry_run").is_bool() && r.at("dry_run").as_bool();
  const char* verb = dry ? "would delete" : "deleted";
  struct Listed {
    const char* list;  // key of the array in the answer
    const char* what;  // printed before the reference
    const char* sep;   // between repository and `key`
    const char* key;
  };
  for (const Listed& l :
       {Listed{"tags", "tag", ":", "tag"}, Listed{"manifests", "manifest", "@", "digest"}}) {
    const auto* entries = r.if_contains(l.list);
    if (!entries || !entries->is_array()) continue;
    for (const auto& e : entries->as_array()) {
      if (!e.is_object()) continue;
      const auto& o = e.as_object();
      admin::PrintLine(std::string(verb) + " " + l.what + " " + Text(o, "repository") + l.sep +
                       Text(o, l.key));
    }
  }
  const uint64_t freed = admin::JsonUint(r, "bytes_freed");
  std::vector<std::vector<std::string>> rows = {
      {"  tags", std::to_string(admin::JsonUint(r, "tags_deleted"))},
      {"  manifests", std::to_string(admin::JsonUint(r, "manifests_deleted"))},
      {"  blob links", std::to_string(admin::JsonUint(r, "links_deleted"))},
      {"  blobs", std::to_string(admin::JsonUint(r, "blobs_deleted"))},
      {"  orphan files", std::to_string(admin::JsonUint(r, "orphan_files_deleted"))},
      {"  uploads", std::to_string(admin::JsonUint(r, "uploads_deleted"))},
  };
  admin::PrintLine(std::string(verb) + ":");
  std::fputs(admin::Table(rows, {1}).c_str(), stdout);
  const auto* seconds = r.if_contains("seconds");
  char took[64] = "";
  if (seconds && seconds->is_number()) {
    boost::system::error_code ec;
    std::snprintf(took, sizeof took, " in %.2f s", seconds->to_number<double>(ec));
  }
  admin::PrintLine(std::string(dry ? "would free " : "freed ") + admin::HumanBytes(freed) + " (" +
                   std::to_string(freed) + " bytes)" + took);
}

}  // namespace

int Gc(const admin::AdminOptions& options, bool dry_run) {
  auto cmd = admin::OpenCommand("gc", options, admin::kGcTimeoutS);
  if (!cmd) return kExitUsage;
  auto reply = cmd->Call("POST", dry_run ? "/v2/_berth/gc?dry_run=true" : "/v2/_berth/gc");
  if (!reply) return cmd->exit();
  if (options.json) {
    admin::PrintBody(std::move(reply->body));
    return kExitOk;
  }
  boost::system::error_code ec;
  auto json = boost::json::parse(reply->body, ec);
  if (ec || !json.is_object()) {
    return cmd->Fail(kExitFailed, "the registry's answer is not a JSON object");
  }
  PrintHuman(json.as_object());
  return kExitOk;
}

}  // namespace berth::cli
