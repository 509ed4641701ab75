// A small S3 client: the calls berth's S3 stores need, path-style, signed
// with AWS Signature V4 (s3/sigv4.hpp) and sent with libcurl. Ceph RGW, AWS
// S3 and MinIO speak this subset.
//
// Every call has a connect timeout and a total timeout (and a low-speed limit
// for streams): a full RGW hangs rather than fails, and a request thread
// must never wait forever. Errors are values: kUnavailable for timeouts,
// connection failures and 5xx (the caller may retry), kNoSpace for a full
// store, kBlobUnknown for NoSuchKey, kBlobUploadUnknown for NoSuchUpload,
// kInternal for the rest; the message names the call, key and S3 error code.
//
// Thread-safety: a Client is safe to call from many threads; each call uses
// its own curl handle (reused from a small internal pool).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/secret.hpp"

namespace berth::s3 {

struct ClientOptions {
  std::string endpoint;  // "http://127.0.0.1:7480" or "https://s3.example:443"
  std::string region = "us-east-1";
  std::string bucket;
  std::string access_key;
  Secret secret_key;
  std::string ca_file;             // extra CA for an https endpoint ("" = system)
  int connect_timeout_ms = 3000;   // per call
  int request_timeout_ms = 30000;  // per small call (HEAD, DELETE, small PUT)
  // Streams (GetObject, UploadPart, PutObject of a file) fail when fewer than
  // low_speed_bytes arrive in low_speed_seconds, instead of a total timeout.
  int low_speed_seconds = 30;
  long low_speed_bytes = 1024;
};

struct ObjectInfo {
  uint64_t size = 0;
  std::string etag;
};

struct ListPage {
  std::vector<std::pair<std::string, uint64_t>> objects;  // key, size
  std::string next_token;                                 // "" = last page
};

struct CompletedPart {
  int number = 0;  // 1-based
  std::string etag;
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();

  // HEAD bucket; creates it when `create` and it is missing (a bucket that
  // already exists and is ours is fine). Without `create`, a missing bucket
  // is kNotFound.
  Status CheckBucket(bool create);

  // Size and ETag (as the server sent it, quotes included).
  Result<ObjectInfo> Head(const std::string& key);
  // One PUT of a small in-memory body, signed with its SHA-256.
  Status Put(const std::string& key, std::span<const char> body);
  // Uploads `length` bytes of `fd` from `offset` (pread; the fd is not moved),
  // as UNSIGNED-PAYLOAD. A file shorter than promised fails (kInternal).
  Status PutFile(const std::string& key, int fd, uint64_t offset, uint64_t length);
  // PutFile's twin for a body in memory (UNSIGNED-PAYLOAD, no second pass
  // over the bytes to sign them): for bodies whose content the caller checks
  // by its own digest.
  Status PutData(const std::string& key, std::span<const char> body);
  // The whole object; kTooLarge when it is over `max_bytes`.
  Result<std::string> GetSmall(const std::string& key, size_t max_bytes);
  // Streams bytes [offset, offset+length) of the object to `sink` as they
  // arrive; `sink` returns false to abort (kInternal "aborted"). `length`
  // UINT64_MAX means "to the end"; 0 makes no call at all; otherwise fewer
  // bytes than `length` (the object is shorter) is kInternal, after the sink
  // has seen them. A sink that blocks counts against the low-speed limit.
  Status Get(const std::string& key, uint64_t offset, uint64_t length,
             const std::function<bool(std::span<const char>)>& sink);
  Status Delete(const std::string& key);  // OK when already gone
  // Server-side copy within the bucket; an <Error> inside a 200 is an error.
  Status Copy(const std::string& from_key, const std::string& to_key);

  // One ListObjectsV2 page of keys under `prefix`, from `token` ("" = first).
  Result<ListPage> List(const std::string& prefix, const std::string& token, int max_keys);

  Result<std::string> CreateMultipart(const std::string& key);  // upload id
  // Uploads a part like PutFile; returns its ETag (quotes included), to be
  // passed as is to CompleteMultipart.
  Result<std::string> UploadPart(const std::string& key, const std::string& upload_id, int number,
                                 int fd, uint64_t offset, uint64_t length);  // ETag
  // The same from memory, UNSIGNED-PAYLOAD like PutData; `data` must stay
  // valid and unchanged until the call returns.
  Result<std::string> UploadPart(const std::string& key, const std::string& upload_id, int number,
                                 std::span<const char> data);
  // An <Error> body inside a 200 is an error too (S3 may send one).
  Status CompleteMultipart(const std::string& key, const std::string& upload_id,
                           const std::vector<CompletedPart>& parts);
  Status AbortMultipart(const std::string& key, const std::string& upload_id);

  // A presigned URL for `method` ("GET" or "HEAD") on `key`, valid for
  // `expires_seconds`.
  std::string Presign(const std::string& method, const std::string& key, int expires_seconds) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::s3
