// `berth images list|tags|delete`: the catalog, a repository's tags, and
// deleting a tag or a manifest, over the registry's API.
#include <boost/json.hpp>

#include "cli/admin/command.hpp"
#include "cli/admin/reference.hpp"
#include "cli/commands.hpp"
#include "common/names.hpp"

namespace berth::cli {

using admin::kExitNotFound;
using admin::kExitOk;
using admin::kExitUsage;

namespace {

boost::json::array ToJson(const std::vector<std::string>& items) {
  boost::json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

}  // namespace

int ImagesList(const admin::AdminOptions& options, const std::string& ns) {
  const char* name = "images list";
  if (!ns.empty() && (ns.find('/') != std::string::npos || !ValidateRepositoryName(ns).ok())) {
    return admin::UsageError(name, "invalid namespace \"" + ns + "\"");
  }
  auto cmd = admin::OpenCommand(name, options, admin::kDefaultTimeoutS);
  if (!cmd) return kExitUsage;
  auto repos = cmd->ListAll("/v2/_catalog", "repositories");
  if (!repos) return cmd->exit();
  if (!ns.empty()) {
    const std::string prefix = ns + "/";
    std::erase_if(*repos, [&](const std::string& r) { return r.rfind(prefix, 0) != 0; });
    // A namespace without repositories is one the registry does not know,
    // as `berth usage` says too.
    if (repos->empty()) return cmd->Fail(kExitNotFound, "no repositories in namespace " + ns);
  }
  if (options.json) {
    admin::PrintLine(boost::json::serialize(boost::json::object{{"repositories", ToJson(*repos)}}));
  } else {
    for (const auto& r : *repos) admin::PrintLine(r);
  }
  return kExitOk;
}

int ImagesTags(const admin::AdminOptions& options, const std::string& repo) {
  const char* name = "images tags";
  if (Status s = ValidateRepositoryName(repo); !s.ok()) {
    return admin::UsageError(name, "invalid repository \"" + repo + "\": " + s.message());
  }
  auto cmd = admin::OpenCommand(name, options, admin::kDefaultTimeoutS);
  if (!cmd) return kExitUsage;
  auto tags = cmd->ListAll("/v2/" + repo + "/tags/list", "tags");
  if (!tags) return cmd->exit();
  if (options.json) {
    admin::PrintLine(
        boost::json::serialize(boost::json::object{{"name", repo}, {"tags", ToJson(*tags)}}));
  } else {
    for (const auto& t : *tags) admin::PrintLine(t);
  }
  return kExitOk;
}

int ImagesDelete(const admin::AdminOptions& options, const std::string& reference) {
  const char* name = "images delete";
  auto ref = admin::ParseImageReference(reference);
  if (!ref) return admin::UsageError(name, ref.status().message());
  auto cmd = admin::OpenCommand(name, options, admin::kDefaultTimeoutS);
  if (!cmd) return kExitUsage;
  if (!cmd->Call("DELETE", "/v2/" + ref->repository + "/manifests/" + ref->reference)) {
    return cmd->exit();
  }
  if (options.json) {
    admin::PrintLine(boost::json::serialize(boost::json::object{{"deleted", ref->str()}}));
  } else {
    admin::PrintLine("deleted " + ref->str());
  }
  return kExitOk;
}

}  // namespace berth::cli
