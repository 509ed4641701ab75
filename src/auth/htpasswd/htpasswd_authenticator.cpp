#include "auth/htpasswd/htpasswd_authenticator.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "auth/htpasswd/htpasswd_file.hpp"
#include "crypto/hasher.hpp"

namespace berth::auth {
namespace {

// The dummy's password is irrelevant: for an unknown user the verification's
// answer is ignored; only its cost matters.
constexpr const char* kDummyPassword = "berth-htpasswd-dummy";

}  // namespace

// One immutable version of the file, shared by the calls using it.
struct HtpasswdAuthenticator::Snapshot {
  std::unordered_map<std::string, std::string> users;  // name -> bcrypt hash
  std::string dummy_hash;
  int dummy_cost = 0;
  bool readable = true;  // false: the file exists but was never readable
  std::string error;     // why, when !readable
};

HtpasswdAuthenticator::HtpasswdAuthenticator(std::string path, HtpasswdOptions options)
    : path_(std::move(path)), options_(options) {
  MutexLock lock(mu_);
  next_check_ = std::chrono::steady_clock::now() + options_.check_interval;
  CheckFileLocked();
  if (snapshot_ == nullptr || snapshot_->dummy_hash.empty()) {
    throw std::runtime_error("htpasswd " + path_ + ": cannot create the bcrypt dummy hash");
  }
}

HtpasswdAuthenticator::~HtpasswdAuthenticator() = default;

AuthResult HtpasswdAuthenticator::Authenticate(const std::string& user, const Secret& password) {
  std::shared_ptr<const Snapshot> snapshot = Current();
  AuthResult result;
  if (!snapshot->readable) {
    result.outcome = AuthOutcome::kUnavailable;
    result.detail = "htpasswd: " + snapshot->error;
    return result;
  }
  auto it = snapshot->users.find(user);
  if (it == snapshot->users.end()) {
    // Same work as a known user, so timing does not reveal who exists. The
    // answer is ignored.
    (void)crypto::BcryptVerify(password.reveal(), snapshot->dummy_hash);
    result.outcome = AuthOutcome::kBadCredentials;
    result.detail = "htpasswd: unknown user";
    return result;
  }
  if (!crypto::BcryptVerify(password.reveal(), it->second)) {
    result.outcome = AuthOutcome::kBadCredentials;
    result.detail = "htpasswd: wrong password";
    return result;
  }
  result.outcome = AuthOutcome::kOk;
  result.identity = Identity{.name = user, .admin = false, .authenticated = true};
  return result;
}

Result<std::string> HtpasswdAuthenticator::CredentialGeneration(const std::string& user) {
  std::shared_ptr<const Snapshot> snapshot = Current();
  if (!snapshot->readable) return Status(Errc::kUnavailable, "htpasswd: " + snapshot->error);
  auto it = snapshot->users.find(user);
  if (it == snapshot->users.end()) return Status(Errc::kUnauthorized, "htpasswd: unknown user");
  return crypto::HashBytes(DigestAlgorithm::kSha256, it->second).hex();
}

void HtpasswdAuthenticator::OnChange(std::function<void()> hook) {
  MutexLock lock(mu_);
  on_change_ = std::move(hook);
}

std::shared_ptr<const HtpasswdAuthenticator::Snapshot> HtpasswdAuthenticator::Current() {
  MutexLock lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (now >= next_check_) {
    next_check_ = now + options_.check_interval;
    CheckFileLocked();
  }
  return snapshot_;
}

void HtpasswdAuthenticator::CheckFileLocked() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) return OnMissingLocked();
    return OnUnreadableLocked(FileKey{}, std::string("stat: ") + std::strerror(err));
  }
  FileKey key{.dev = st.st_dev,
              .ino = st.st_ino,
              .size = st.st_size,
              .mtime_sec = st.st_mtim.tv_sec,
              .mtime_nsec = st.st_mtim.tv_nsec,
              .ctime_sec = st.st_ctim.tv_sec,
              .ctime_nsec = st.st_ctim.tv_nsec};
  if (state_ == FileState::kLoaded && key == key_) return;

  Result<HtpasswdFile> file = HtpasswdFile::Load(path_);
  if (!file.ok()) {
    if (file.status().code() == Errc::kNotFound) return OnMissingLocked();
    return OnUnreadableLocked(key, file.status().message());
  }
  for (const std::string& warning : file->warnings()) {
    spdlog::warn("htpasswd {}: {}", path_, warning);
  }
  auto next = std::make_shared<Snapshot>();
  std::map<int, size_t> costs;  // cost -> how many users have it
  for (const std::string& user : file->Users()) {
    const std::string* hash = file->FindHash(user);
    if (auto cost = crypto::BcryptCost(*hash)) ++costs[*cost];
    next->users.emplace(user, *hash);
  }
  int dummy_cost = options_.dummy_cost;
  size_t best = 0;
  for (const auto& [cost, count] : costs) {
    if (count >= best) {  // ties go to the higher cost (the map is ascending)
      best = count;
      dummy_cost = cost;
    }
  }
  spdlog::info("htpasswd {}: {} user(s) loaded", path_, next->users.size());
  InstallLocked(std::move(next), dummy_cost);
  state_ = FileState::kLoaded;
  key_ = key;
  error_key_.reset();
  if (on_change_) on_change_();
}

void HtpasswdAuthenticator::OnMissingLocked() {
  if (state_ == FileState::kMissing) return;
  spdlog::warn("htpasswd {}: file does not exist; no local users until it is created", path_);
  int cost =
      snapshot_ && !snapshot_->dummy_hash.empty() ? snapshot_->dummy_cost : options_.dummy_cost;
  InstallLocked(std::make_shared<Snapshot>(), cost);
  state_ = FileState::kMissing;
  error_key_.reset();
  if (on_change_) on_change_();
}

void HtpasswdAuthenticator::OnUnreadableLocked(const FileKey& key, const std::string& what) {
  if (!error_key_ || !(*error_key_ == key)) {
    spdlog::error("htpasswd {}: cannot read the user file: {}{}", path_, what,
                  state_ == FileState::kLoaded ? "; keeping the users last loaded"
                                               : "; local logins are unavailable");
    error_key_ = key;
  }
  if (state_ == FileState::kLoaded) return;  // keep the last good users; retry next check
  auto next = std::make_shared<Snapshot>();
  next->readable = false;
  next->error = "the user file cannot be read: " + what;
  int cost =
      snapshot_ && !snapshot_->dummy_hash.empty() ? snapshot_->dummy_cost : options_.dummy_cost;
  InstallLocked(std::move(next), cost);
  state_ = FileState::kUnreadable;
}

void HtpasswdAuthenticator::InstallLocked(std::shared_ptr<Snapshot> next, int dummy_cost) {
  if (snapshot_ && !snapshot_->dummy_hash.empty() && snapshot_->dummy_cost == dummy_cost) {
    next->dummy_hash = snapshot_->dummy_hash;
    next->dummy_cost = dummy_cost;
  } else if (Result<std::string> dummy = crypto::BcryptHash(kDummyPassword, dummy_cost); dummy) {
    next->dummy_hash = std::move(dummy).value();
    next->dummy_cost = dummy_cost;
  } else {
    spdlog::error("htpasswd {}: cannot create a cost-{} dummy hash: {}", path_, dummy_cost,
                  dummy.status().message());
    if (snapshot_) {  // an older dummy of another cost beats none
      next->dummy_hash = snapshot_->dummy_hash;
      next->dummy_cost = snapshot_->dummy_cost;
    }
  }
  snapshot_ = std::move(next);
}

}  // namespace berth::auth
