// Makes the self-signed TLS certificate berth serves when none is configured:
// ECDSA P-256, valid ten years, SANs for localhost, 127.0.0.1, ::1, the host
// name and any extra names given. The key is written with mode 0600.
//
// Start-up only: throws std::runtime_error on failure.
#pragma once

#include <string>
#include <vector>

namespace berth::crypto {

// Writes `cert_path` and `key_path` (PEM). Existing files are replaced
// atomically and durably (common/file.hpp ReplaceFileAtomic: temp file,
// fsync, rename, fsync of the directory).
void WriteSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                const std::vector<std::string>& extra_names);

// The same for a token-signing key: no SANs, no server-auth usage; `rsa`
// selects RSA 2048 instead of ECDSA P-256.
void WriteSigningCertificate(const std::string& cert_path, const std::string& key_path,
                             const std::string& common_name, bool rsa);

}  // namespace berth::crypto
