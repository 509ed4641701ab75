// The state object of an S3 upload session (S3UploadStore, see its header
// and docs/storage-format.md, "S3"): what it holds, as JSON, and the checks
// it must pass when read back, since S3 content is not trusted.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace berth::storage {

constexpr uint64_t kS3MinPartSize = uint64_t{5} << 20;  // S3's smallest non-final part
constexpr uint64_t kS3MaxCopySize = uint64_t{5} << 30;  // S3's largest CopyObject (and part)
constexpr int kS3MaxParts = 10000;                      // S3's part number limit

// One part that counts: its number (1-based, consecutive), ETag and size.
struct UploadPart {
  int number = 0;
  std::string etag;
  uint64_t size = 0;
};

// The session as the last Keep left it.
struct UploadState {
  std::string repository;
  uint64_t size = 0;
  std::vector<UploadPart> parts;
  std::string hash;  // Hasher::SaveState bytes
  uint64_t tail = 0;
  uint64_t generation = 0;  // of the tail object, tail-<generation>
  std::string upload_id;    // "" until a part was uploaded
  int64_t created = 0;
  int64_t updated = 0;
};

// The state as JSON ("version":1).
std::string EncodeUploadState(const UploadState& state);

// Parses and checks a state object read back from S3: version, every field
// present and typed, parts numbered 1..n of at least kS3MinPartSize bytes, sizes
// adding up (parts + tail = size), an upload id when there are parts.
// kInternal naming upload `id` otherwise. The hash state is checked by
// crypto::Hasher::LoadState.
Result<UploadState> DecodeUploadState(std::string_view text, const std::string& id);

}  // namespace berth::storage
