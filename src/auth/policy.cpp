#include "auth/policy.hpp"

#include <algorithm>

namespace berth::auth {
namespace {

// True when `name` lies inside namespace `ns`: "ns/..." exactly.
bool InNamespace(const std::string& name, const std::string& ns) {
  return !ns.empty() && name.size() > ns.size() + 1 && name.compare(0, ns.size(), ns) == 0 &&
         name[ns.size()] == '/';
}

bool InAny(const std::string& name, const std::vector<std::string>& namespaces) {
  return std::any_of(namespaces.begin(), namespaces.end(),
                     [&](const std::string& ns) { return InNamespace(name, ns); });
}

}  // namespace

bool Policy::IsAdmin(const Identity& who) const {
  if (!who.authenticated) return false;
  return who.admin || std::find(options_.admins.begin(), options_.admins.end(), who.name) !=
                          options_.admins.end();
}

std::vector<Scope> Policy::Grant(const Identity& who, const std::vector<Scope>& requested) const {
  const bool admin = IsAdmin(who);
  std::vector<Scope> out;
  for (const auto& want : requested) {
    Scope got{want.type, want.name, {}};
    for (const auto& action : want.actions) {
      bool ok = false;
      if (admin) {
        ok = (want.type == "repository" &&
              (action == "pull" || action == "push" || action == "delete" || action == "*")) ||
             (want.type == "registry" && (want.name == "catalog" || want.name == "admin") &&
              action == "*");
      } else if (want.type == "repository" && !InAny(want.name, options_.reserved_namespaces)) {
        // Only a single path component names a namespace: a (Keystone)
        // user called "alice/evil" must not own part of alice's.
        // A public namespace belongs to the admins, even if a user is named
        // after it (else user "public" could push what everybody pulls).
        if (who.authenticated && who.name.find('/') == std::string::npos &&
            InNamespace(want.name, who.name) && !InAny(want.name, options_.public_namespaces)) {
          ok = action == "pull" || action == "push" || action == "delete" || action == "*";
        } else if (action == "pull" && InAny(want.name, options_.public_namespaces)) {
          ok = who.authenticated || options_.anonymous_pull;
        }
      }
      if (ok) got.actions.push_back(action);
    }
    if (!got.actions.empty()) out.push_back(std::move(got));
  }
  return out;
}

}  // namespace berth::auth
