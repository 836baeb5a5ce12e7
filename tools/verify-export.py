#!/usr/bin/env python3
"""Checks a Gatehouse JSONL export with nothing but Python's standard library and `openssl`.

It shares no code with Gatehouse: it follows the README's "Record format" section, so that an auditor can
check an export with their own tools. Usage:

    verify-export.py EXPORT.jsonl --public-key KEY.pem [--json]
    verify-export.py EXPORT.jsonl --chain-only [--json]

Exit 0 when the export is intact, 1 when it is not (the first problem, with its line), 2 on bad usage.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading

# A record line: its body ends with "prev"; then "hash", then (closing a commit) "mac", then (signed) "sig".
LINE = re.compile(
    rb'^(?P<body>\{"seq":(?P<seq>[0-9]{1,17}),.*,"prev":"(?P<prev>.{64})")'
    rb',"hash":"(?P<hash>.{64})"(?:,"mac":"(?P<mac>.{64})")?(?:,"sig":"(?P<sig>.{128})")?\}$',
    re.S,
)
COMMIT = re.compile(rb',"commit":true(?P<signed>,"signed":true)?,"prev":".{64}"$', re.S)
BREAK = re.compile(rb'^\{"seq":[0-9]{1,17},"ts":".{24}","kind":"event","event":"break"', re.S)
SPKI_ED25519_PREFIX = bytes.fromhex("302a300506032b6570032100")


def _reject_constant(name):
    raise ValueError("not JSON: %s" % name)


def parse_json(raw):
    """JSON as JavaScript's JSON.parse reads it: UTF-8 text only (no other encoding guessed), no NaN or Infinity."""
    return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw, parse_constant=_reject_constant)


def has_lone_surrogate(text):
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


class Problem(Exception):
    def __init__(self, line, reason, message, seq=None):
        super().__init__(message)
        self.line, self.reason, self.message, self.seq = line, reason, message, seq


def raw_public_key(pem_text):
    """The 32 raw bytes of an Ed25519 public key in PEM (SPKI)."""
    body = "".join(l for l in pem_text.strip().splitlines() if not l.startswith("-----"))
    der = base64.b64decode(body)
    if len(der) != 44 or not der.startswith(SPKI_ED25519_PREFIX):
        raise ValueError("not an Ed25519 public key (PEM, SubjectPublicKeyInfo)")
    return der[len(SPKI_ED25519_PREFIX):]


class Signatures:
    """Ed25519 verification through `openssl pkeyutl -verify -rawin`."""

    def __init__(self, pem_file):
        self.pem_file = pem_file
        self.tmp = tempfile.mkdtemp(prefix="gatehouse-verify-")
        self.checked = 0

    def verify(self, message, signature_hex):
        if not isinstance(signature_hex, str) or not re.fullmatch(r"[0-9a-f]{128}", signature_hex):
            return False
        msg = os.path.join(self.tmp, "msg")
        sig = os.path.join(self.tmp, "sig")
        with open(msg, "wb") as f:
            f.write(message.encode())
        with open(sig, "wb") as f:
            f.write(bytes.fromhex(signature_hex))
        done = subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", self.pem_file, "-rawin", "-in", msg, "-sigfile", sig],
            capture_output=True,
        )
        self.checked += 1
        return done.returncode == 0

    def close(self):
        for name in ("msg", "sig"):
            try:
                os.remove(os.path.join(self.tmp, name))
            except FileNotFoundError:
                pass
        os.rmdir(self.tmp)


def mark_message(scope, mark):
    return "gatehouse-sign-v1|%s|%s|%d|%d|%s" % (scope, mark["segment"], mark["firstSeq"], mark["seq"], mark["hash"])


def as_int(value):
    """A JSON integer as JavaScript reads one: 65 and 65.0 are, true and "65" are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53 - 1:
        return int(value)
    return None


HEX64 = re.compile(r"[0-9a-f]{64}")
HEX128 = re.compile(r"[0-9a-f]{128}")


def mark_shaped(header, name):
    """A head mark or anchor, if the header has one: present means an object of this exact shape (null is not absent)."""
    if name not in header:
        return True
    mark = header[name]
    if not isinstance(mark, dict):
        return False
    ok = isinstance(mark.get("segment"), str) and not has_lone_surrogate(mark["segment"])
    ok = ok and as_int(mark.get("firstSeq")) is not None and as_int(mark.get("seq")) is not None
    ok = ok and isinstance(mark.get("hash"), str) and HEX64.fullmatch(mark["hash"]) is not None and isinstance(mark.get("mac"), str)
    return ok and ("sig" not in mark or (isinstance(mark["sig"], str) and HEX128.fullmatch(mark["sig"]) is not None))


def check(data, signatures, public_key_hex):
    rows = data.split(b"\n")
    if rows and rows[-1] == b"":
        rows.pop()
    result = {"records": 0, "omittedRuns": 0, "signedRecords": 0, "unsignedRecords": 0, "exportSigned": False, "breaks": []}
    # Each row must be UTF-8 (never decoded with replacement: that would change what is hashed).
    undecodable = None
    for i, row in enumerate(rows):
        try:
            row.decode("utf-8")
        except UnicodeDecodeError:
            undecodable = i + 1
            break
    try:
        header = parse_json(rows[0]) if rows and undecodable != 1 else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("gatehouseExport") != 1:
        raise Problem(1, "not-export", "not a Gatehouse JSONL export (the first line is not its header)")
    if not mark_shaped(header, "head") or not mark_shaped(header, "anchor"):
        raise Problem(1, "malformed", "the header's head mark or anchor is not shaped like one")
    if signatures and isinstance(header.get("publicKey"), str) and header["publicKey"] != public_key_hex:
        raise Problem(1, "wrong-key", "the export names another public key")
    # The export's own signature, on its last line, over the SHA-256 of every byte before that line.
    trailer = rows.pop() if len(rows) > 1 and rows[-1].startswith(b'{"exportSignature"') else None
    head = header.get("head")
    anchor = header.get("anchor")
    head_signed = False
    if signatures and head is not None and "sig" in head:
        if not signatures.verify(mark_message("head", head), head["sig"]):
            raise Problem(1, "bad-head", "the head mark's signature does not verify")
        head_signed = True
    if signatures and anchor is not None:
        if not signatures.verify(mark_message("anchor", anchor), anchor.get("sig")):
            raise Problem(1, "bad-anchor", "the anchor is not signed with the key")
    unfiltered = isinstance(header.get("filter"), dict) and len(header["filter"]) == 0

    # The export starts where the log does: record 1 after 64 zeros, or the record after the anchor.
    expected_seq = as_int(anchor["seq"]) + 1 if anchor else 1
    prev_hash = anchor["hash"] if anchor else "0" * 64
    pending = 0
    head_found = False
    for index in range(1, len(rows)):
        row = rows[index]
        line_no = index + 1
        if undecodable == line_no:
            raise Problem(line_no, "malformed", "not UTF-8")
        if row.startswith(b'{"omitted"'):
            if unfiltered:
                raise Problem(line_no, "gap", "records left out of an export that says it has no filter")
            try:
                run = parse_json(row)["omitted"]
                first, last, last_hash = as_int(run["fromSeq"]), as_int(run["toSeq"]), run["lastHash"]
                assert first is not None and last is not None and isinstance(last_hash, str) and last >= first
            except (ValueError, KeyError, TypeError, AssertionError):
                raise Problem(line_no, "malformed", "not a well-formed omitted run")
            if expected_seq is not None and first != expected_seq:
                raise Problem(line_no, "gap" if first > expected_seq else "reorder", "the omitted run starts at %d, not %d" % (first, expected_seq), first)
            result["unsignedRecords"] += pending
            pending = 0
            expected_seq, prev_hash = last + 1, last_hash
            if head is not None and first <= head["seq"] <= last:
                if head["seq"] == last and last_hash != head["hash"]:
                    raise Problem(line_no, "bad-head", "the head mark's record is not this one", head["seq"])
                head_found = True
            result["omittedRuns"] += 1
            continue
        m = LINE.match(row)
        if not m:
            raise Problem(line_no, "malformed", "not a well-formed record")
        seq = int(m.group("seq"))
        try:
            parsed = parse_json(row)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or as_int(parsed.get("seq")) != seq or parsed.get("prev") != m.group("prev").decode("latin-1") or parsed.get("hash") != m.group("hash").decode("latin-1"):
            raise Problem(line_no, "malformed", "not a well-formed record")
        if expected_seq is not None and seq != expected_seq:
            raise Problem(line_no, "gap" if seq > expected_seq else "reorder", "record %d where %d was expected" % (seq, expected_seq), seq)
        prev = m.group("prev").decode("latin-1")
        record_hash = m.group("hash").decode("latin-1")
        if prev_hash is not None and prev != prev_hash:
            raise Problem(line_no, "chain-break", "record %d does not link to the record before it" % seq, seq)
        if hashlib.sha256(m.group("body") + b"}").hexdigest() != record_hash:
            raise Problem(line_no, "hash-mismatch", "record %d was changed" % seq, seq)
        c = COMMIT.search(m.group("body"))
        commit, signed = c is not None, c is not None and c.group("signed") is not None
        if commit != (m.group("mac") is not None):
            raise Problem(line_no, "bad-commit", "record %d: commit mark and body disagree" % seq, seq)
        if signed != (m.group("sig") is not None):
            raise Problem(line_no, "bad-signature", "record %d: signature and body disagree" % seq, seq)
        pending += 1
        if signed and signatures:
            if not signatures.verify("gatehouse-sign-v1|record|%d|%s" % (seq, record_hash), m.group("sig").decode("latin-1")):
                raise Problem(line_no, "bad-signature", "record %d: the signature does not verify" % seq, seq)
            result["signedRecords"] += pending
            pending = 0
        if head is not None and seq == head["seq"]:
            if record_hash != head["hash"]:
                raise Problem(line_no, "bad-head", "record %d is not the record the head mark vouches for" % seq, seq)
            head_found = True
            if head_signed:
                result["signedRecords"] += pending
                pending = 0
        if BREAK.match(row):
            record = parsed
            if record.get("kind") == "event" and record.get("event") == "break":
                detail = record.get("detail") if isinstance(record.get("detail"), dict) else {}
                result["breaks"].append({"seq": seq, "ts": record.get("ts"), "reason": detail.get("reason")})
        result["records"] += 1
        expected_seq, prev_hash = seq + 1, record_hash
    result["unsignedRecords"] += pending
    if trailer is not None and signatures:
        before = len(data) - (1 if data.endswith(b"\n") else 0) - len(trailer)
        digest = hashlib.sha256(data[:before]).hexdigest()
        try:
            claimed = parse_json(trailer)["exportSignature"]
        except (ValueError, KeyError, TypeError):
            claimed = {}
        if not isinstance(claimed, dict) or claimed.get("sha256") != digest or not signatures.verify("gatehouse-sign-v1|export|" + digest, claimed.get("sig")):
            raise Problem(len(rows) + 1, "bad-signature", "the export's own signature does not match what comes before it")
        result["exportSigned"] = True
        result["signedRecords"], result["unsignedRecords"] = result["records"], 0
    if head is not None and not head_found and expected_seq is not None and expected_seq - 1 < head["seq"]:
        raise Problem(len(rows), "truncated", "the export ends at record %d; the head mark vouches for %d" % (expected_seq - 1, head["seq"]), head["seq"])
    if signatures and result["records"] > 0 and result["signedRecords"] == 0:
        raise Problem(len(rows), "unsigned", "no record is vouched for by a signature")
    if result["breaks"]:
        raise Problem(0, "break-recorded", "%d break(s) recorded, the first at record %d" % (len(result["breaks"]), result["breaks"][0]["seq"]), result["breaks"][0]["seq"])
    return result


def main():
    parser = argparse.ArgumentParser(description="Check a Gatehouse JSONL export.")
    parser.add_argument("export")
    parser.add_argument("--public-key", help="the log's Ed25519 public key (PEM file)")
    parser.add_argument("--chain-only", action="store_true", help="check hashes and order alone")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.public_key and not args.chain_only:
        parser.error("give --public-key KEY.pem, or --chain-only")
    with open(args.export, "rb") as f:
        data = f.read()
    signatures = None
    public_key_hex = None
    if args.public_key:
        with open(args.public_key) as f:
            public_key_hex = raw_public_key(f.read()).hex()
        signatures = Signatures(args.public_key)
    outcome = {}

    def run():
        try:
            outcome["result"] = check(data, signatures, public_key_hex)
        except BaseException as err:  # handed to the main thread
            outcome["error"] = err

    # A recorded message may nest thousands of levels deep: parse it with room for that.
    sys.setrecursionlimit(200000)
    threading.stack_size(512 * 1024 * 1024)
    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    try:
        if "error" in outcome:
            raise outcome["error"]
        result = outcome["result"]
        result["ok"] = True
    except Problem as p:
        result = {"ok": False, "reason": p.reason, "line": p.line, "message": p.message}
        if p.seq is not None:
            result["seq"] = p.seq
    finally:
        if signatures:
            result_checked = signatures.checked
            signatures.close()
    if signatures:
        result["signaturesChecked"] = result_checked
    if args.json:
        print(json.dumps(result))
    elif result["ok"]:
        print("intact: %d records, %d vouched for by a signature, %d past the last one" % (result["records"], result["signedRecords"], result["unsignedRecords"]))
    else:
        print("BROKEN at line %d: %s: %s" % (result["line"], result["reason"], result["message"]), file=sys.stderr)
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
