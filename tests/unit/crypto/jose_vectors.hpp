// Published JOSE test vectors: RFC 7515 Appendix A.2 (RS256) and A.3
// (ES256), RFC 7638 §3.1 (thumbprint), the EC key of distribution's
// docs/spec/auth/jwt.md and an RSA key accepted by registry 2.8.2 under its
// libtrust kid (both from notes/test-peers.md §3). Base64url unless noted.
#pragma once

namespace berth::crypto::jose_vectors {

// RFC 7515 A.2 / A.3: the payload both examples sign.
constexpr const char* kPayload =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q";
constexpr const char* kA2Input = "eyJhbGciOiJSUzI1NiJ9.";
constexpr const char* kA2N =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4"
    "QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdb"
    "BYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-D"
    "WNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
constexpr const char* kA2Sig =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
    "O8W2Fp5jujG"
    "bds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_"
    "nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-"
    "eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6"
    "LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
constexpr const char* kA3Input = "eyJhbGciOiJFUzI1NiJ9.";
constexpr const char* kA3X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr const char* kA3Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
constexpr const char* kA3Sig =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
// RFC 7638 §3.1: an RSA key and its thumbprint.
constexpr const char* kRfc7638N =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
    "BJECPebWK"
    "RXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
    "FDW2QvzqY368QQMic"
    "AtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
    "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
    "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
// distribution docs/spec/auth/jwt.md's EC key (test-peers.md §3, vector 1).
constexpr const char* kSpecX = "m7zUpx3b-zmVE5cymSs64POG9QcyEpJaYCD82-549_Q";
constexpr const char* kSpecY = "dU3biz8sZ_8GPB-odm8Wxz3lNDr1xcAQQPQaOcr1fmc";
constexpr const char* kSpecSpki =
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEm7zUpx3b+zmVE5cymSs64POG9QcyEpJaYCD82+549/R1TduLPyxn/"
    "wY8H6h2"
    "bxbHPeU0OvXFwBBA9Bo5yvV+Zw==";
// test-peers.md §3, vector 2 (accepted by the real registry 2.8.2 by this kid).
constexpr const char* kRsaPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAoDOPXeP99IqnbqAvniP8\n"
    "Vut/B3PoLVRducu3smYrhiTqxLWh/vyCWtpZpEGxUfNJxxiysGoppjPcRY4d0nbs\n"
    "iBngKYwqlPo/O7HLT85NLZ4mT+IJGTJVYH2u0YMNsWHPr5PaED3OwIej7+wcGvUQ\n"
    "XcIz2/WUMCoM+nwtY9uQzHBStt++YJaghOSh5JLWLYH2WZMXLI+1H/b3AdecUgNR\n"
    "THP6HgJvpYWCR1kLTznsH8dioivLivTQ9WKVXz393p32iEQfTQhF9Wo/OCHBIIpK\n"
    "YmteF6RgC23M6xhYZ6zVY8JhpZyqG9B1hFSAFr0oxikl8cy0WtBu8JsR32IYg/28\n"
    "wQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

}  // namespace berth::crypto::jose_vectors
