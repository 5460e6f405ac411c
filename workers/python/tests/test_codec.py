"""The Python worker's payload codec: the keys it accepts and refuses, rotation, and what it refuses to decrypt."""

import asyncio
import base64
import os

import pytest
from temporalio.converter import default
from temporalio.exceptions import ApplicationError

from sluice_python.codec import CodecKeyError, EncryptionCodec, codec_keys_from, parse_codec_keys


def entry(key_id: str) -> str:
    return f"{key_id}={base64.b64encode(os.urandom(32)).decode()}"


def run(coroutine):
    return asyncio.run(coroutine)


def test_round_trip_hides_the_value_and_its_encoding():
    codec = EncryptionCodec(parse_codec_keys(f"{entry('k1')},{entry('k0')}", "SLUICE_CODEC_KEYS"))
    value = {"features": {"sql": "SELECT avg(delay) AS origin_delay_rate_7d FROM source"}}
    [plain] = default().payload_converter.to_payloads([value])
    [sealed] = run(codec.encode([plain]))
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    assert sealed.metadata["encryption-key-id"] == b"k1"
    assert b"origin_delay_rate_7d" not in sealed.data and b"json/plain" not in sealed.data
    [opened] = run(codec.decode([sealed]))
    assert default().payload_converter.from_payloads([opened])[0] == value


def test_older_keys_decrypt_after_a_rotation_and_an_unknown_key_id_is_refused_without_the_key():
    k1, k2 = entry("k1"), entry("k2")
    [plain] = default().payload_converter.to_payloads(["2001-01-17"])
    [old] = run(EncryptionCodec(parse_codec_keys(k1, "SLUICE_CODEC_KEYS")).encode([plain]))
    rotated = EncryptionCodec(parse_codec_keys(f"{k2},{k1}", "SLUICE_CODEC_KEYS"))
    assert run(rotated.decode([old]))[0] == plain
    assert run(rotated.encode([plain]))[0].metadata["encryption-key-id"] == b"k2"
    with pytest.raises(ApplicationError) as refused:
        run(EncryptionCodec(parse_codec_keys(k2, "SLUICE_CODEC_KEYS")).decode([old]))
    assert refused.value.non_retryable and refused.value.type == "SluiceCodecError"
    assert refused.value.message == "a payload is encrypted under key id `k1`, which the codec keys here do not hold (add it to SLUICE_CODEC_KEYS as an older key)"
    altered = bytearray(old.data)
    altered[20] ^= 1
    old.data = bytes(altered)
    with pytest.raises(ApplicationError, match="does not decrypt with that key"):
        run(rotated.decode([old]))


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "SLUICE_CODEC_KEYS: holds no key"),
        (base64.b64encode(os.urandom(32)).decode(), "SLUICE_CODEC_KEYS: entry 1 has no valid key id"),
        (f"k1={base64.b64encode(os.urandom(16)).decode()}", "SLUICE_CODEC_KEYS: entry 1 (key id `k1`) is not 32 bytes in base64"),
        (f"k1={base64.b64encode(os.urandom(32)).decode()[:-3]}!==", "SLUICE_CODEC_KEYS: entry 1 (key id `k1`) is not 32 bytes in base64"),
        (f"{entry('k1')},{entry('k1')}", "SLUICE_CODEC_KEYS: entry 2: key id `k1` appears twice"),
    ],
)
def test_malformed_keys_are_refused_naming_the_variable_never_the_key(text, message):
    with pytest.raises(CodecKeyError) as refused:
        codec_keys_from({"SLUICE_CODEC_KEYS": text} if text else {"SLUICE_CODEC_KEYS_FILE": os.devnull})
    assert message.replace("SLUICE_CODEC_KEYS:", "SLUICE_CODEC_KEYS_FILE (/dev/null):" if not text else "SLUICE_CODEC_KEYS:") in str(refused.value)
    for part in text.replace("=", ",").split(","):
        if len(part) >= 20:
            assert part not in str(refused.value)


def test_off_without_keys():
    assert codec_keys_from({}) is None
