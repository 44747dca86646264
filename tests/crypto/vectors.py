"""Examples published in the 国密 standards, as the tests quote them."""

# GB/T 32905-2016, Annex A.1 and A.2.
SM3_ABC = b"abc"
SM3_ABC_DIGEST = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_64_BYTES = b"abcd" * 16
SM3_64_BYTES_DIGEST = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"

# GB/T 32907-2016, Annex A.1 (one block) and A.2 (1,000,000 encryptions).
SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
SM4_PLAINTEXT = bytes.fromhex("0123456789abcdeffedcba9876543210")
SM4_CIPHERTEXT = bytes.fromhex("681edf34d206965e86b3e94f536e4246")
SM4_MILLION_CIPHERTEXT = bytes.fromhex("595298c7c6fd271f0402f804c33d3f66")

# RFC 8998, Appendix A.2: SM4-GCM.
GCM_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
GCM_NONCE = bytes.fromhex("00001234567800000000abcd")
GCM_AAD = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
GCM_PLAINTEXT = bytes.fromhex(
    "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"
    "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa"
)
GCM_CIPHERTEXT = bytes.fromhex(
    "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
    "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"
)
GCM_TAG = bytes.fromhex("83de3541e4c2b58177e065a9bf7b62ec")

# GB/T 32918.5-2017 (GM/T 0003.5-2012), Annex A (signature) and Annex C
# (encryption): the examples on the recommended curve, user ID 1234567812345678.
SM2_PRIVATE_KEY = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"
SM2_PUBLIC_KEY = (
    "04"
    "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
)
SM2_SIGNED_MESSAGE = b"message digest"
SM2_SIGNED_DIGEST = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
SM2_K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
SM2_R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
SM2_S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA
SM2_ENCRYPTED_MESSAGE = b"encryption standard"
SM2_CIPHERTEXT = bytes.fromhex(
    "04"
    "04ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73"
    "e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0"
    "59983c18f809e262923c53aec295d30383b54e39d609d160afcb1908d0bd8766"
    "21886ca989ca9c7d58087307ca93092d651efa"
)
