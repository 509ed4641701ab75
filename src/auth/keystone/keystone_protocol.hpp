// The Keystone v3 password login as pure functions: where to POST, what to
// send, and what an answer means. No I/O, so every case is unit-testable;
// KeystoneAuthenticator does the transport.
//
// Reference:
// https://docs.openstack.org/api-ref/identity/v3/#password-authentication-with-unscoped-authorization
// and the answers of a real Keystone 22 (tests/integration/keystone_auth_check.sh).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "auth/authenticator.hpp"
#include "common/result.hpp"
#include "common/secret.hpp"

namespace berth::auth {

struct KeystoneOptions;

namespace keystone {

// The login URL for a configured Keystone URL, with or without the trailing
// "/v3" (and trailing slashes): "http://h:5000" and "http://h:5000/v3/" both
// give "http://h:5000/v3/auth/tokens?nocatalog" (nocatalog keeps the answer
// small). Returns kInternal when the URL is not http(s)://host..., or carries
// a query, fragment or user info.
Result<std::string> TokensUrl(std::string_view url);

// The JSON body of the login request. Holds the password: never log it.
std::string AuthRequestBody(const KeystoneOptions& options, const std::string& user,
                            const Secret& password);

// Interprets Keystone's answer to the login request: status and body. On
// kOk the identity is {user, admin (admin_role among token.roles when a
// project is configured), authenticated}. A 201 whose body is not a token is
// kUnavailable (a broken backend must not grant anything).
AuthResult InterpretAuthResponse(const KeystoneOptions& options, const std::string& user,
                                 long status, std::string_view body);

// Interprets Keystone's answer to a token validation (GET /v3/auth/tokens
// with the user's own token as both X-Auth-Token and X-Subject-Token;
// https://docs.openstack.org/api-ref/identity/v3/#validate-and-show-information-for-token).
// 200 -> kOk, the identity read as InterpretAuthResponse does (roles as they
// are now); 401 (the token itself is no longer valid) and 404 (expired,
// revoked, its user disabled, deleted or stripped of the project role) ->
// kBadCredentials; anything else -> kUnavailable, 403 included (Keystone's
// policy identity:validate_token forbids it: a configuration error, not a
// reason to end sessions).
AuthResult InterpretValidateResponse(const KeystoneOptions& options, const std::string& user,
                                     long status, std::string_view body);

}  // namespace keystone
}  // namespace berth::auth
