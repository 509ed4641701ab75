// UiHandler: the web interface in front of the registry's own handler, on
// the registry port. It serves
//   GET  /                      303 to /ui/ for browsers (Accept: text/html)
//   GET  /ui/, /ui/<file>       the embedded page, script and style
//   POST /ui/api/login          {"user","password"} -> session cookie
//   GET  /ui/api/session        who is logged in, and the CSRF token
//   POST /ui/api/logout         ends the session here and revokes its
//                               refresh token at the token server (CSRF)
//   GET  /ui/api/repositories   ?q=&n=&last=: what the user may pull
//   GET  /ui/api/tags           ?repository=&n=&last=: tags with digest,
//                               push and pull times (needs pull, as tags/list)
//   GET  /ui/api/usage          bytes used and quota per namespace: every
//                               namespace for admins (the registry's own
//                               GET /v2/_berth/usage, registry:admin:*),
//                               else the user's own namespace (the one the
//                               token server grants them push in)
//   GET|HEAD /ui/api/v2/<...>   tags, manifests, blobs (up to
//                               max_blob_bytes, never redirected), referrers
//   DELETE /ui/api/v2/<name>/manifests/<ref>   (CSRF)
// and hands everything else to `inner`.
//
// The /ui/api/v2/ calls are the registry API itself: the handler trades
// the session's refresh token for an access token holding exactly the
// scopes Registry::RequiredScopes names for that request, and passes the
// request to `inner` with it, so the registry's own authorization decides.
// The catalog is the one call the registry cannot answer per user: admins
// (whom the token server grants registry:catalog:*) see all of it, others
// the names `policy` lets them pull, the same Policy the token server uses.
//
// UI API errors are {"error": "message"} with 400, 401 (no session), 403,
// 404, 413, 429 or 503.
//
// Thread-safety: Handle may run on many threads at once.
#pragma once

#include <deque>
#include <mutex>
#include <set>
#include <string>

#include "auth/access_gate.hpp"
#include "auth/grantor.hpp"
#include "common/thread_annotations.hpp"
#include "http/message.hpp"
#include "lifecycle/quota.hpp"
#include "storage/lifecycle_store.hpp"
#include "storage/metadata_store.hpp"
#include "ui/token_client.hpp"

namespace berth::ui {

struct UiOptions {
  bool secure = true;                    // TLS: Secure cookies, https:// origins
  int64_t session_seconds = 30 * 86400;  // cookie life: token.refresh_ttl
  size_t max_login_bytes = 4096;         // larger login bodies get 413
  size_t max_query_bytes = 256;          // longer q/last parameters get 400
  size_t max_page = 200;                 // largest n of /ui/api/repositories
  size_t logged_out_max = 10000;         // ended sessions remembered (refused here at once)
  // The largest blob read through /ui/api/v2/ (the page shows image configs
  // up to 1 MiB); larger ones get 413. Read through berth even when the
  // blob store redirects clients (S3), as the page may not follow that.
  uint64_t max_blob_bytes = 1 << 20;
};

class UiHandler final : public http::Handler {
 public:
  // Everything passed in must outlive the handler. `lifecycle` null: no
  // /ui/api/tags (the page then lists tags without times) and no
  // /ui/api/usage; `quotas` null: no quotas shown.
  UiHandler(http::Handler& inner, storage::MetadataStore& meta, const auth::AccessGate& gate,
            const auth::Grantor& policy, TokenClient& tokens, UiOptions options,
            storage::LifecycleStore* lifecycle = nullptr,
            const lifecycle::QuotaPolicy* quotas = nullptr);

  http::Outcome Handle(const http::Request& request) override;
  bool Quick(const http::Request& request) const override;
  http::Response Reject(int status, std::string_view reason) override {
    return inner_.Reject(status, reason);
  }

  // The login body's answer (exposed for the body sink).
  http::Response FinishLogin(const http::Request& request, std::string_view body);

 private:
  struct Who {
    std::string session;
    std::string user;
  };
  // The session of the request, checked with the token server; an error
  // response when there is none.
  Result<Who> Authenticate(const http::Request& request);
  http::Outcome Api(const http::Request& request, std::string_view rest);
  http::Response Session(const http::Request& request);
  http::Response Logout(const http::Request& request);
  http::Response Repositories(const http::Request& request);
  http::Response Tags(const http::Request& request);
  http::Response Usage(const http::Request& request);
  http::Outcome Proxy(const http::Request& request, std::string_view rest);
  bool LoggedOut(const std::string& session);

  http::Handler& inner_;
  storage::MetadataStore& meta_;
  storage::LifecycleStore* const lifecycle_;
  const lifecycle::QuotaPolicy* const quotas_;
  const auth::AccessGate& gate_;
  const auth::Grantor& policy_;
  TokenClient& tokens_;
  const UiOptions options_;
  Mutex mu_;
  std::set<std::string> logged_out_ GUARDED_BY(mu_);      // session hashes
  std::deque<std::string> logged_order_ GUARDED_BY(mu_);  // oldest first
};

// {"error": message} with `status` and the UI's security headers.
http::Response JsonError(int status, std::string_view message);

}  // namespace berth::ui
