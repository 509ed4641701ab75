#include "auth/keystone/keystone_protocol.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "auth/keystone/keystone_authenticator.hpp"

namespace berth::auth::keystone {

namespace json = boost::json;

Result<std::string> TokensUrl(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return Status(Errc::kInternal, "keystone url: not an absolute URL");
  const boost::urls::url_view& u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::http && u.scheme_id() != boost::urls::scheme::https) {
    return Status(Errc::kInternal, "keystone url: scheme must be http or https");
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    return Status(Errc::kInternal, "keystone url: no host");
  }
  if (u.has_userinfo() || u.has_query() || u.has_fragment()) {
    return Status(Errc::kInternal, "keystone url: must not carry user info, a query or a fragment");
  }
  std::string path(u.encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (!path.ends_with("/v3")) path += "/v3";
  std::string out(u.scheme());
  out += "://";
  out += u.encoded_authority();
  out += path;
  out += "/auth/tokens?nocatalog";
  return out;
}

namespace {

// {"id": id} when id is set, else {"name": name}.
json::object DomainRef(const std::string& name, const std::string& id) {
  if (!id.empty()) return json::object{{"id", id}};
  return json::object{{"name", name}};
}

const json::object* Object(const json::value* v) { return v ? v->if_object() : nullptr; }

AuthResult Unavailable(std::string detail) {
  return AuthResult{AuthOutcome::kUnavailable, {}, std::move(detail)};
}

// The identity of a token answer's body (a login's 201, a validation's
// 200): admin when a project is configured and admin_role is among
// token.roles. kUnavailable when the body is not a token.
AuthResult IdentityFromToken(const KeystoneOptions& options, const std::string& user,
                             const std::string& code, std::string_view body) {
  json::error_code ec;
  json::value doc = json::parse(body, ec);
  const json::object* token =
      ec ? nullptr : Object(doc.is_object() ? doc.as_object().if_contains("token") : nullptr);
  if (token == nullptr) return Unavailable(code + " without a token in the body");

  bool admin = false;
  if (!options.project.empty()) {
    const json::value* roles = token->if_contains("roles");
    if (roles == nullptr || !roles->is_array()) {
      return Unavailable(code + " with a project-scoped token without roles");
    }
    for (const json::value& role : roles->as_array()) {
      const json::object* r = role.if_object();
      const json::value* name = r ? r->if_contains("name") : nullptr;
      if (name && name->is_string() && name->as_string() == options.admin_role) admin = true;
    }
  }
  return AuthResult{AuthOutcome::kOk, Identity{user, admin, true},
                    admin ? code + " (admin role)" : code};
}

}  // namespace

std::string AuthRequestBody(const KeystoneOptions& options, const std::string& user,
                            const Secret& password) {
  json::object user_obj{
      {"name", user},
      {"domain", DomainRef(options.user_domain, options.user_domain_id)},
      {"password", password.reveal()},
  };
  json::object auth{
      {"identity", json::object{{"methods", json::array{"password"}},
                                {"password", json::object{{"user", std::move(user_obj)}}}}},
  };
  if (options.project.empty()) {
    // Explicit: without it, a user with a default project gets a token scoped
    // to it, and a 401 if they have no role there.
    auth["scope"] = "unscoped";
  } else {
    auth["scope"] = json::object{
        {"project",
         json::object{{"name", options.project},
                      {"domain", DomainRef(options.project_domain, options.project_domain_id)}}}};
  }
  return json::serialize(json::object{{"auth", std::move(auth)}});
}

AuthResult InterpretAuthResponse(const KeystoneOptions& options, const std::string& user,
                                 long status, std::string_view body) {
  const std::string code = "keystone answered " + std::to_string(status);
  switch (status) {
    case 201:
      break;
    // Keystone's error text is left out of the detail on purpose: a 400's
    // schema message can quote the request, password included.
    // Keystone 22 answers 401 to every credential problem (wrong password;
    // unknown, disabled user; unknown domain or project; no role on it;
    // over-long name or password), 400 only to a malformed body, and 404
    // only to a wrong path, hence the hint.
    case 400:
    case 401:
    case 403:
      return AuthResult{AuthOutcome::kBadCredentials, {}, code};
    case 404:
      return AuthResult{
          AuthOutcome::kBadCredentials, {}, code + " (is the url Keystone's v3 endpoint?)"};
    default:
      return Unavailable(code);
  }
  return IdentityFromToken(options, user, code, body);
}

AuthResult InterpretValidateResponse(const KeystoneOptions& options, const std::string& user,
                                     long status, std::string_view body) {
  const std::string code = "keystone token validation answered " + std::to_string(status);
  switch (status) {
    case 200:
      break;
    case 401:
    case 404:
      return AuthResult{AuthOutcome::kBadCredentials, {}, code + " (session ended in keystone)"};
    case 403:
      return Unavailable(code +
                         " (does keystone's policy identity:validate_token let users "
                         "validate their own tokens?)");
    default:
      return Unavailable(code);
  }
  return IdentityFromToken(options, user, code, body);
}

}  // namespace berth::auth::keystone
