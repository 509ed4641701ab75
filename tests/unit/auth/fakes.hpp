// Fakes for the token server's collaborators: an Authenticator backed by a
// map of user → password (a switch makes it unavailable; credential
// generations are the password with a per-user counter, or unsupported;
// with `sessions`, Keystone-like sessions that RecheckSession accepts while
// they are in `live_sessions`) and
// an in-memory RefreshTokenStore (a switch makes Save fail).
//
// Thread-safety: none; one test at a time.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "auth/authenticator.hpp"
#include "storage/refresh_token_store.hpp"

namespace berth::testfakes {

using auth::Authenticator;
using auth::AuthOutcome;
using auth::AuthResult;
using auth::Identity;

class FakeAuthenticator final : public Authenticator {
 public:
  AuthResult Authenticate(const std::string& user, const Secret& password) override {
    ++calls;
    if (unavailable) return {AuthOutcome::kUnavailable, {}, "backend down"};
    auto it = users.find(user);
    if (it == users.end() || it->second != password.reveal()) return {};
    return {AuthOutcome::kOk, Identity{user, admins.count(user) > 0, true}, "ok"};
  }
  Result<std::string> CredentialGeneration(const std::string& user) override {
    if (!generations) return Authenticator::CredentialGeneration(user);
    if (unavailable) return Status(Errc::kUnavailable, "backend down");
    auto it = users.find(user);
    if (it == users.end()) return Status(Errc::kUnauthorized, "unknown user");
    return "gen:" + it->second + ":" + std::to_string(recreated[user]);
  }
  AuthResult AuthenticateSession(const std::string& user, const Secret& password) override {
    ++session_logins;
    AuthResult r = Authenticate(user, password);
    if (sessions && r.outcome == AuthOutcome::kOk) {
      const std::string token = "ks-token-" + user + "-" + std::to_string(session_logins);
      live_sessions.insert(token);
      r.session = Secret(token);
    }
    return r;
  }
  AuthResult RecheckSession(const std::string& user, const Secret& session) override {
    ++rechecks;
    rechecked.push_back(session.reveal());
    if (!sessions) return Authenticator::RecheckSession(user, session);
    if (unavailable) return {AuthOutcome::kUnavailable, {}, "backend down"};
    if (!live_sessions.count(session.reveal())) return {AuthOutcome::kBadCredentials, {}, "gone"};
    return {AuthOutcome::kOk, Identity{user, admins.count(user) > 0, true}, "session ok"};
  }
  std::map<std::string, std::string> users;  // name → password
  std::set<std::string> admins;              // get Identity.admin
  std::map<std::string, int> recreated;      // bump to model a deleted and re-added account
  bool generations = true;                   // false: like Keystone (kUnsupported)
  bool unavailable = false;
  int calls = 0;
  bool sessions = false;                // AuthenticateSession hands out sessions
  std::set<std::string> live_sessions;  // the ones RecheckSession accepts
  std::vector<std::string> rechecked;   // the sessions RecheckSession was asked about
  int session_logins = 0, rechecks = 0;
};

class MemoryRefreshStore final : public storage::RefreshTokenStore {
 public:
  Status Save(const std::string& hash, const storage::RefreshGrant& grant, int64_t now) override {
    if (fail) return {Errc::kUnavailable, "disk gone"};
    tokens[hash] = grant;
    tokens[hash].created = tokens[hash].last_used = now;
    return Status::Ok();
  }
  Status Touch(const std::string& hash, int64_t now) override {
    ++touches;
    if (auto it = tokens.find(hash); it != tokens.end()) it->second.last_used = now;
    return Status::Ok();
  }
  Result<int64_t> DeleteExpired(int64_t created_before, int64_t used_before) override {
    return static_cast<int64_t>(std::erase_if(tokens, [&](const auto& kv) {
      return kv.second.created < created_before || kv.second.last_used < used_before;
    }));
  }
  Result<storage::RefreshGrant> Find(const std::string& hash) override {
    auto it = tokens.find(hash);
    if (it == tokens.end()) return Status(Errc::kUnauthorized, "unknown");
    return it->second;
  }
  Result<int64_t> RevokeOne(const std::string& hash) override {
    return static_cast<int64_t>(tokens.erase(hash));
  }
  Result<int64_t> Revoke(const std::string& subject) override {
    return static_cast<int64_t>(std::erase_if(
        tokens, [&](const auto& kv) { return subject.empty() || kv.second.subject == subject; }));
  }
  std::map<std::string, storage::RefreshGrant> tokens;
  bool fail = false;
  int touches = 0;
};

}  // namespace berth::testfakes
