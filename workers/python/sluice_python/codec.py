"""AES-256-GCM payload encryption, the format of the TypeScript workers' codec (workers/codec/encryption-codec.ts).

A payload is serialised whole and encrypted under the current key with a random 96-bit nonce: the data is
nonce ‖ ciphertext ‖ tag, the metadata `encoding: binary/encrypted` and `encryption-key-id: <id>`. Keys come from
SLUICE_CODEC_KEYS (or the file SLUICE_CODEC_KEYS_FILE): `id=<base64 of 32 bytes>` entries separated by commas or
newlines, the current key first, older keys after it so that payloads encrypted under them still decrypt.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
from typing import Iterable, Mapping, Optional

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec, default
from temporalio.exceptions import ApplicationError

ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
CODEC_FAILURE_TYPE = "SluiceCodecError"
NONCE_BYTES = 12
TAG_BYTES = 16
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class CodecKeyError(Exception):
    """A key setting that cannot be used: the worker refuses to start. Never quotes a key."""


@dataclasses.dataclass(frozen=True)
class CodecKeys:
    current_id: str
    by_id: Mapping[str, bytes]


def parse_codec_keys(text: str, source: str) -> CodecKeys:
    entries = [e.strip() for e in re.split(r"[,\n]", text) if e.strip() and not e.strip().startswith("#")]
    if not entries:
        raise CodecKeyError(f"{source}: holds no key; expected id=<base64 of 32 bytes>, the current key first")
    by_id: dict[str, bytes] = {}
    for i, entry in enumerate(entries):
        key_id, sep, encoded = entry.partition("=")
        key_id, encoded = key_id.strip(), encoded.strip()
        where = f"{source}: entry {i + 1}"
        if not sep or not _KEY_ID.match(key_id):
            raise CodecKeyError(f"{where} has no valid key id (expected id=<base64 of 32 bytes>, the id of letters, digits, '.', '_' or '-', at most 64)")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise CodecKeyError(f"{where} (key id `{key_id}`) is not 32 bytes in base64 (an AES-256 key; `sluice codec-key {key_id}` makes one)")
        if key_id in by_id:
            raise CodecKeyError(f"{where}: key id `{key_id}` appears twice")
        by_id[key_id] = key
    return CodecKeys(current_id=next(iter(by_id)), by_id=by_id)


def codec_keys_from(env: Mapping[str, str] = os.environ) -> Optional[CodecKeys]:
    inline = (env.get("SLUICE_CODEC_KEYS") or "").strip()
    file = (env.get("SLUICE_CODEC_KEYS_FILE") or "").strip()
    if inline and file:
        raise CodecKeyError("SLUICE_CODEC_KEYS and SLUICE_CODEC_KEYS_FILE are both set: set one of them")
    if file:
        try:
            with open(file, encoding="utf-8") as f:
                text = f.read()
        except OSError as err:
            raise CodecKeyError(f"SLUICE_CODEC_KEYS_FILE: cannot read {file} ({err.strerror})") from None
        return parse_codec_keys(text, f"SLUICE_CODEC_KEYS_FILE ({file})")
    return parse_codec_keys(inline, "SLUICE_CODEC_KEYS") if inline else None


def _failure(message: str) -> ApplicationError:
    return ApplicationError(message, type=CODEC_FAILURE_TYPE, non_retryable=True)


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: CodecKeys) -> None:
        super().__init__()
        self._keys = keys
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.by_id.items()}

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        key_id = self._keys.current_id
        cipher = self._ciphers[key_id]
        encoded = []
        for p in payloads:
            nonce = os.urandom(NONCE_BYTES)
            encoded.append(Payload(metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: key_id.encode()}, data=nonce + cipher.encrypt(nonce, p.SerializeToString(), None)))
        return encoded

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        decoded = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCRYPTED_ENCODING:
                decoded.append(p)
                continue
            key_id = p.metadata[KEY_ID_METADATA].decode() if KEY_ID_METADATA in p.metadata else None
            cipher = self._ciphers.get(key_id) if key_id is not None else None
            if cipher is None:
                raise _failure("an encrypted payload names no key id" if key_id is None else f"a payload is encrypted under key id `{key_id}`, which the codec keys here do not hold (add it to SLUICE_CODEC_KEYS as an older key)")
            if len(p.data) < NONCE_BYTES + TAG_BYTES:
                raise _failure(f"an encrypted payload under key id `{key_id}` is {len(p.data)} bytes, too short to hold a nonce and a tag")
            try:
                plain = cipher.decrypt(p.data[:NONCE_BYTES], p.data[NONCE_BYTES:], None)
            except InvalidTag:
                raise _failure(f"a payload under key id `{key_id}` does not decrypt with that key (the key under that id changed, or the payload was altered)") from None
            decoded.append(Payload.FromString(plain))
        return decoded


def data_converter(keys: Optional[CodecKeys]) -> DataConverter:
    """The worker's data converter: the default one; with codec keys, payloads encrypted and failure messages
    encoded into the failure's attributes (which the codec encrypts), as the TypeScript workers do."""
    if not keys:
        return default()
    return dataclasses.replace(default(), payload_codec=EncryptionCodec(keys), failure_converter_class=DefaultFailureConverterWithEncodedAttributes)
