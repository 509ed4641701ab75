// The few fields berth reads from S3's XML responses, extracted with expat:
// an Error's Code and Message, InitiateMultipartUploadResult's UploadId,
// ListBucketResult's Contents (Key, Size), NextContinuationToken and
// IsTruncated, and the ETag of CompleteMultipartUploadResult and
// CopyObjectResult. Everything else is ignored. S3 may answer 200 with an
// <Error> body (CompleteMultipartUpload, CopyObject): check `error` on every
// parse, not only on error statuses.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace berth::s3::xml {

// A response body larger than this is refused unread. A ListObjectsV2 page of
// 1000 keys of 1 KiB each stays below it.
inline constexpr size_t kMaxResponseBytes = 4 << 20;

struct S3Error {
  std::string code;     // "NoSuchKey", "NoSuchUpload", ...
  std::string message;  // may be empty
};

struct Response {
  std::string root;                                        // name of the document element
  std::optional<S3Error> error;                            // set when the root is <Error>
  std::string upload_id;                                   // InitiateMultipartUploadResult
  std::vector<std::pair<std::string, uint64_t>> contents;  // ListBucketResult: key, size
  std::string next_token;                                  // ListBucketResult
  bool truncated = false;                                  // ListBucketResult
  std::string etag;  // CompleteMultipartUploadResult, CopyObjectResult
};

// Parses `body`. Errors: kTooLarge when body.size() > limit, kInternal for
// malformed XML or a Size that is not a number.
Result<Response> Parse(std::string_view body, size_t limit = kMaxResponseBytes);

// The <CompleteMultipartUpload> request body for `parts` (number, ETag as the
// server sent it).
std::string CompleteMultipartBody(const std::vector<std::pair<int, std::string>>& parts);

}  // namespace berth::s3::xml
