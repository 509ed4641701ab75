// Fixed token keys for the JWT fuzz target: an ES256 (P-256) and an RS256
// (RSA 2048) key, each with a self-signed certificate valid until 2126.
// Fixed, not generated at start-up, so that a crashing input replays the
// same way and the committed seeds (whose kid and x5c name these keys) keep
// reaching the signature check. They protect nothing: never use them outside
// tests/fuzz.
//
// Thread-safety: constants.
#pragma once

namespace berth::fuzz {

inline constexpr char kEsKeyPem[] = R"pem(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQyL3hBEc4cmtb/Su
fsX3nwe16//wQyjRiGz5RhqS/GWhRANCAASUd9AcyknKVvtOh7kO8GJcDeSFvyXw
Swx3NqZeTxqtTwn93j6dUIXiTBIFE0EytCUibXeCNgB07sv8N78zAk07
-----END PRIVATE KEY-----
)pem";

inline constexpr char kEsCertPem[] = R"pem(-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUOt3m450nKuGbH4hx2oRXZDI4dQgwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQYmVydGgtZnV6ei1lczI1NjAgFw0yNjEyMDMwNzQyNDdaGA8y
MTI2MTEwOTA3NDI0N1owGzEZMBcGA1UEAwwQYmVydGgtZnV6ei1lczI1NjBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABJR30BzKScpW+06HuQ7wYlwN5IW/JfBLDHc2
pl5PGq1PCf3ePp1QheJMEgUTQTK0JSJtd4I2AHTuy/w3vzMCTTujUzBRMB0GA1Ud
DgQWBBSZ2eCcXmF226PDfh68ET6gUvgXFTAfBgNVHSMEGDAWgBSZ2eCcXmF226PD
fh68ET6gUvgXFTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDF
aiwopnmpHSg+Q/QNyiMTLm+DWwsWQiRqiMfBwhJ/zAIgTmPYSwN85AekOt1E2ayz
V5die1vh5cp4c7v0um1M3+8=
-----END CERTIFICATE-----
)pem";

inline constexpr char kRsKeyPem[] = R"pem(-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDQ6MSaFRSZFaAw
uEIkB+uU8qwapWUlmwTACMXyQDHc8OtLLDaj81upbjw4sEbC08xI0y/4l5ungJSK
ZIFiR5TyrQcc/PX9EpTJrtwQDaRyr68mp5iqS/eo9iBQwpakKlznmzIZiAjqAgw7
4dhXUm15W+KCHh/uvd6hHwdf9a6tyITkin8ZRt0ZuVwPrknY1Rrqg1VnpO0XqQic
+GcwMvF7wMRR1oxF21p/DWqjdOtYLd/MvMozTsTdJOY/mtIOKAZ3Ko+MSDyZDsQc
HUzk9Zo0crz4FrbXPQT08L7QuD/d3fH22vMscWz95U/h/56TMngY5zj4WbV/HU25
CV2LhgnbAgMBAAECggEAKdE2LXujxGLqTmZLwwec1hNfdPP/k6/8mu4GpY/JC2dk
SgdfJqFbi0ZIIrbSa0RXI4q2kwXSAA0CbtNgfMpEW/Fbt6dBHDfgdaCdZ087yEM3
hb7NleUf/X/LBy90VQcv0qKjvC2ZTzI6va/fDNewlzbX1+Ds1m7GRi0+XiyBG0Ln
zGGQyLwiGoUQIkrKN+vD3w4be4IVl/3XzNqV3HDD4UdD02bTacRw8tJSUh9SObYG
YFvcOy8mKX/o7kAMvF76YdscuEdM+5pN1Ir/Em4zbftG1JSRcOHEFAPmM0DdvlVV
h9ziEioUx37fFmPhidPrz3vYRcjFVI2fJyOS9ifu/QKBgQD6LnszP8NBkfcWFK75
thk1cJUPWTcuYgmCLt1siDipcLgPL9F5RJo4nLwZMpXCgeVOtLvestfuDTOiRwpJ
dxcR0+Ko6jvezR0DbmhZwebYHLLzb1KodoixBzFYas/YZ8zNXgnT/IXzoIUSXLuz
ubmppfgV9cZLO6czwbx5qRnfjwKBgQDVxI/GqufOuTIHjAAw45Nq8t8wMqzpQlpI
QNgKWuIqQ2OLkFx2pMxEGPPo2Dyi96rycZl2YpcH+dkoI+gQ12QwgGYglU4TfNPH
oPAif/hjOsYGmQD600UCMmFdkxeZj4Mjngxl75FqhcSSdjXlzQrAi/pVQdc8OQCm
W4MjaMCK9QKBgQCoxYCBEyuyaTipYaykck7ROTClWQcbuDE37EudcsveqlbQj+6d
A0WSmVFfIjvbKmu5y7zNQBLg2XESsR/kbX1XnnvSfamD5RUEgo/MtTz4X2vtQxUc
5lHSMsr8HZo3H9cOV7kDk9/9eTUsLPjHBqyUII2aquFpUUW7aZ+u5v+4SwKBgEWk
dw7LSSABF7p7sug6jCFwpKPILqsDsfQOJBQjjcElGT4zttv0TpP06Sm3oPGa7Hd1
6QA3mGrBzCyWnhk2gu6GNj9xRPF2XmyQEwu6U0rIsBEgMcCFqdrQXQYmUK73oUqu
R+3BwcdJc0Qf/Ok0Bse6EsFJ5Pw6uep4r92OWAQtAoGAXl2y7qDtDL5ncTggi22m
I2n3r73CFhCvucmtiAKPT9g6O7KY3ecT4QPxPi6R7QYA78IAP8JUUZDor+65Shli
ngXpqToTF8+0TGiQtsi8jfxhphdYdZi1tFCtPHqdUhBIuAttKTLrbUcVsBdcTsM7
cL9KZCWa07+C6DH9X2m+S/0=
-----END PRIVATE KEY-----
)pem";

inline constexpr char kRsCertPem[] = R"pem(-----BEGIN CERTIFICATE-----
MIIDGTCCAgGgAwIBAgIUEe5/gkYl7Y4/N5jz6yQH4mYASskwDQYJKoZIhvcNAQEL
BQAwGzEZMBcGA1UEAwwQYmVydGgtZnV6ei1yczI1NjAgFw0yNjEyMDMwNzQyNDda
GA8yMTI2MTEwOTA3NDI0N1owGzEZMBcGA1UEAwwQYmVydGgtZnV6ei1yczI1NjCC
ASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBANDoxJoVFJkVoDC4QiQH65Ty
rBqlZSWbBMAIxfJAMdzw60ssNqPzW6luPDiwRsLTzEjTL/iXm6eAlIpkgWJHlPKt
Bxz89f0SlMmu3BANpHKvryanmKpL96j2IFDClqQqXOebMhmICOoCDDvh2FdSbXlb
4oIeH+693qEfB1/1rq3IhOSKfxlG3Rm5XA+uSdjVGuqDVWek7RepCJz4ZzAy8XvA
xFHWjEXbWn8NaqN061gt38y8yjNOxN0k5j+a0g4oBncqj4xIPJkOxBwdTOT1mjRy
vPgWttc9BPTwvtC4P93d8fba8yxxbP3lT+H/npMyeBjnOPhZtX8dTbkJXYuGCdsC
AwEAAaNTMFEwHQYDVR0OBBYEFKifNPC5MeDVYzPoeTUHa2fCY/YOMB8GA1UdIwQY
MBaAFKifNPC5MeDVYzPoeTUHa2fCY/YOMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZI
hvcNAQELBQADggEBAKxGvdF/a/Z5TuhKARD8M30BUk1mwkrhcaakZNkpQGXGYsX4
wcyUKRYoJY0g/iD5PR3kXNlOIrjEkpEgM5k0Y7DOjJR4ZRsoSRntVcshZeQZGS1C
uQzvqv3SzR+bytTiAG0YmMLnZcobvGOEGxSqVox2aCnwYWfiF6eejQ2GPMzWoT+q
B+sZj3ordtPMnDBbBKQ6T/3gTzrP20w2K5xjW3lVNQD9p/6Ez+ijaJyL86xRD1vP
yHuF3sxBvHmuNzWCFfc9l79RuBcF+uqcM0ToTskkxh86qB+eQGkhP3QvfbCjVgZ9
M+feT3mrHx3G72e8nNvlZtffTq1F/a6p4p8xRFQ=
-----END CERTIFICATE-----
)pem";

}  // namespace berth::fuzz
