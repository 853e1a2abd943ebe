#!/usr/bin/env python3
"""Sync a program's workstreams from a CSV file, then (optionally) watch it live.

Run it against a Trestle server with an API token (create one with the
`createApiToken` mutation; it starts with `trst_`):

    export TRESTLE_URL=http://127.0.0.1:8080
    export TRESTLE_TOKEN=trst_...
    python3 examples/scripts/sync_workstreams.py --program PAY examples/scripts/workstreams.csv
    python3 examples/scripts/sync_workstreams.py --program PAY workstreams.csv --follow 60

The CSV has the columns `external_id,name,status,start_date,target_date,progress`
(status NOT_STARTED, IN_PROGRESS, BLOCKED, DONE or CANCELLED; dates YYYY-MM-DD;
a blank cell leaves that field as it is). Each row becomes one
`upsertWorkstream`, which finds the workstream by its external id: the first
run creates the workstreams, later runs update them, so running the script
again is always safe.

Each request carries an `Idempotency-Key` made from the row, so when an answer
is lost (a timeout, a dropped connection) the script sends the same request
with the same key and the server replays its first answer instead of applying
the change twice (`Idempotent-Replayed: true`). The key also holds an id of
this run, so the next run applies the CSV again rather than replaying.

With `--follow SECONDS` the script then opens `/graphql/ws` (the
`graphql-transport-ws` protocol, spoken here over a plain socket) and prints
one line per change in the program, `EVENT <kind> <entityType> <entityId>`,
for that many seconds. ProgramEvent also has `action`, `at` and
`actor { name }`: add them to FOLLOW_EVENTS to print more.

Only the Python 3 standard library is used. Exit status: 0 when every row
synced, 1 when a row was refused (the errors are on stderr), 2 when the
script could not start (no token, no such program, server unreachable).
"""

import argparse
import base64
import csv
import hashlib
import http.client
import json
import os
import socket
import ssl
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

FIND_PROGRAM = "query($key: String!) { program(key: $key) { id name } }"

UPSERT_WORKSTREAM = """mutation($input: UpsertWorkstreamInput!) {
  upsertWorkstream(input: $input) { created workstream { id externalId name version } }
}"""

FOLLOW_EVENTS = """subscription($p: ID!) {
  programEvents(programId: $p) { kind entityType entityId }
}"""

# CSV column -> UpsertWorkstreamInput field (external_id is handled apart).
COLUMNS = {
    "name": "name",
    "status": "status",
    "start_date": "startDate",
    "target_date": "targetDate",
    "progress": "progress",
}

REQUEST_TIMEOUT_SECONDS = 30
RETRIES = 3
# HTTP statuses worth the same request again: the first attempt still
# running (409), a rate limit (429), a proxy or server briefly away.
RETRY_STATUSES = {409, 429, 502, 503, 504}


class Failed(Exception):
    """The script cannot go on; the message says why."""


# --- GraphQL over HTTP --------------------------------------------------------


def post_graphql(url, token, query, variables, idempotency_key=None):
    """POST one GraphQL request; returns (body, replayed).

    A timeout, a connection error or a retryable status is retried up to
    RETRIES times with the same Idempotency-Key, so the server runs the
    mutation at most once.
    """
    data = json.dumps({"query": query, "variables": variables}).encode()
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": f"Bearer {token}",
    }
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    for attempt in range(RETRIES + 1):
        request = urllib.request.Request(f"{url}/graphql", data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                replayed = response.headers.get("Idempotent-Replayed") == "true"
                return json.load(response), replayed
        except urllib.error.HTTPError as error:
            # Refusals (401, 400, 413, ...) come with a GraphQL error body.
            if error.code in RETRY_STATUSES and attempt < RETRIES:
                wait(attempt, f"HTTP {error.code}", error.headers.get("Retry-After"))
                continue
            return graphql_error_body(error), False
        except (OSError, http.client.HTTPException) as error:  # URLError, timeouts, resets
            if attempt < RETRIES:
                wait(attempt, describe(error))
                continue
            raise Failed(f"{url} did not answer: {describe(error)}") from error
    raise AssertionError("unreachable")


def graphql_error_body(error):
    """The JSON body of an HTTP error, or one GraphQL error describing it."""
    try:
        body = json.load(error)
        if isinstance(body, dict) and body.get("errors"):
            return body
    except ValueError:
        pass
    return {"errors": [{"message": f"HTTP {error.code} {error.reason}", "extensions": {}}]}


def wait(attempt, why, retry_after=None):
    """Sleep before retry `attempt + 1`: Retry-After if given, else 1, 2, 4 s."""
    seconds = 2**attempt
    if retry_after and retry_after.isdigit():
        seconds = min(int(retry_after), 30)
    print(f"retrying in {seconds}s after {why}", file=sys.stderr)
    time.sleep(seconds)


def describe(error):
    """A short text for a network error."""
    reason = getattr(error, "reason", error)
    return str(reason) or type(reason).__name__


def print_errors(label, errors):
    """Print GraphQL errors to stderr, one line each: label, code, message."""
    for error in errors:
        extensions = error.get("extensions") or {}
        code = extensions.get("code", "ERROR")
        field = f" ({extensions['field']})" if extensions.get("field") else ""
        print(f"{label}: {code}: {error.get('message')}{field}", file=sys.stderr)


# --- The sync -----------------------------------------------------------------


def find_program(url, token, key):
    """The id of the program with `key`; Failed if it is missing or hidden."""
    body, _ = post_graphql(url, token, FIND_PROGRAM, {"key": key})
    if body.get("errors"):
        print_errors(f"program {key}", body["errors"])
        raise Failed(f"could not look program {key} up")
    program = (body.get("data") or {}).get("program")
    if program is None:
        raise Failed(f"no program {key}, or this token's user is not a member of it")
    return program["id"]


def read_rows(path):
    """The CSV's rows as dicts of stripped cells (a UTF-8 BOM is allowed)."""
    with open(path, newline="", encoding="utf-8-sig") as file:
        return [
            {column: (cell or "").strip() for column, cell in row.items() if column}
            for row in csv.DictReader(file)
        ]


def upsert_input(program_id, row):
    """The UpsertWorkstreamInput of a row; blank cells are left out."""
    fields = {"programId": program_id, "externalId": row.get("external_id", "")}
    for column, field in COLUMNS.items():
        value = row.get(column, "")
        if value:
            fields[field] = int(value) if field == "progress" else value
    return fields


def idempotency_key(run_id, program_key, row):
    """`sync-` and the SHA-256 of this run, the program and the row's JSON."""
    content = json.dumps([run_id, program_key, row], sort_keys=True)
    return "sync-" + hashlib.sha256(content.encode()).hexdigest()


def sync_row(url, token, program_key, program_id, run_id, row):
    """Upsert one row and print what happened; returns 'created', 'updated' or None."""
    label = row.get("external_id") or "(no external_id)"
    try:
        variables = {"input": upsert_input(program_id, row)}
    except ValueError:
        progress = row.get("progress")
        print(f"{label}: progress must be a whole number, not {progress!r}", file=sys.stderr)
        return None
    key = idempotency_key(run_id, program_key, row)
    body, replayed = post_graphql(url, token, UPSERT_WORKSTREAM, variables, key)
    if body.get("errors"):
        print_errors(label, body["errors"])
        return None
    payload = body["data"]["upsertWorkstream"]
    outcome = "created" if payload["created"] else "updated"
    workstream = payload["workstream"]
    note = " (replayed: the first attempt had already done it)" if replayed else ""
    print(f"{outcome} {workstream['externalId']} {workstream['name']}{note}", flush=True)
    return outcome


def sync(url, token, program_key, program_id, path):
    """Upsert every row of the CSV; returns True if all of them synced."""
    run_id = str(uuid.uuid4())
    counts = {"created": 0, "updated": 0, None: 0}
    for row in read_rows(path):
        counts[sync_row(url, token, program_key, program_id, run_id, row)] += 1
    failed = f", {counts[None]} failed" if counts[None] else ""
    print(f"{counts['created']} created, {counts['updated']} updated{failed}", flush=True)
    return counts[None] == 0


# --- A WebSocket client (RFC 6455), just enough for graphql-transport-ws -------

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x8, 0x9, 0xA, 0x0


class Closed(Exception):
    """The server closed the WebSocket; `code` says why (e.g. 4403)."""

    def __init__(self, code, reason):
        super().__init__(f"closed with code {code} {reason}".strip())
        self.code = code


class WebSocket:
    """A client WebSocket: text messages, ping/pong and close."""

    def __init__(self, url, subprotocol):
        """Connect to `url` (http(s) or ws(s)) and upgrade, offering `subprotocol`."""
        parts = urllib.parse.urlsplit(url)
        secure = parts.scheme in ("https", "wss")
        host, port = parts.hostname, parts.port or (443 if secure else 80)
        sock = socket.create_connection((host, port), timeout=REQUEST_TIMEOUT_SECONDS)
        if secure:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.buffer = b""
        self.closing = False
        self._handshake(parts, subprotocol)

    def _handshake(self, parts, subprotocol):
        """Send the HTTP/1.1 upgrade and check the server's 101 answer."""
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path or '/'} HTTP/1.1\r\n"
            f"Host: {parts.netloc}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {subprotocol}\r\n"
            "\r\n"
        )
        self.sock.sendall(request.encode())
        while b"\r\n\r\n" not in self.buffer:
            self._receive_more()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status.split(" ")[1:2] != ["101"]:
            raise Failed(f"the WebSocket upgrade was refused: {status}")
        expected = hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()
        if headers.get("sec-websocket-accept") != base64.b64encode(expected).decode():
            raise Failed("the WebSocket upgrade answered a wrong Sec-WebSocket-Accept")
        if headers.get("sec-websocket-protocol") != subprotocol:
            raise Failed(f"the server does not speak {subprotocol}")

    def _receive_more(self, timeout=REQUEST_TIMEOUT_SECONDS):
        """Read what the server sent into the buffer; ConnectionError at its end."""
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data

    def send(self, opcode, payload=b""):
        """Send one frame, masked as every client frame must be."""
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_json(self, message):
        """Send a JSON text message."""
        self.send(TEXT, json.dumps(message).encode())

    def _parse_frame(self):
        """Take one whole frame off the buffer: (fin, opcode, payload), or None."""
        if len(self.buffer) < 2:
            return None
        first, second = self.buffer[0], self.buffer[1]
        length, offset = second & 0x7F, 2
        if length == 126:
            if len(self.buffer) < 4:
                return None
            (length,), offset = struct.unpack("!H", self.buffer[2:4]), 4
        elif length == 127:
            if len(self.buffer) < 10:
                return None
            (length,), offset = struct.unpack("!Q", self.buffer[2:10]), 10
        mask = b""
        if second & 0x80:
            mask, offset = self.buffer[offset : offset + 4], offset + 4
        if len(self.buffer) < offset + length:
            return None
        payload = self.buffer[offset : offset + length]
        self.buffer = self.buffer[offset + length :]
        if mask:
            payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        return bool(first & 0x80), first & 0x0F, payload

    def receive_text(self, deadline):
        """The next text message, or None once `deadline` (time.monotonic()) passes.

        Pings are answered; a close from the server raises Closed.
        """
        fragments = []
        while True:
            frame = self._parse_frame()
            if frame is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                try:
                    self._receive_more(remaining)
                except socket.timeout:
                    return None
                continue
            fin, opcode, payload = frame
            if opcode == PING:
                self.send(PONG, payload)
            elif opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                if not self.closing:
                    self.send(CLOSE, payload[:2])
                    self.closing = True
                raise Closed(code, payload[2:].decode("utf-8", "replace"))
            elif opcode in (TEXT, CONTINUATION):
                fragments.append(payload)
                if fin:
                    return b"".join(fragments).decode()

    def close(self, code=1000):
        """Send a close frame, wait a moment for the server's, and disconnect."""
        try:
            if not self.closing:
                self.closing = True
                self.send(CLOSE, struct.pack("!H", code))
                self.receive_text(time.monotonic() + 1)
        except (Closed, OSError):
            pass
        finally:
            self.sock.close()


# --- Following live events ----------------------------------------------------


def next_message(ws, deadline):
    """The next graphql-transport-ws message (protocol pings answered), or None at the deadline."""
    while True:
        text = ws.receive_text(deadline)
        if text is None:
            return None
        message = json.loads(text)
        if message.get("type") == "ping":
            ws.send_json({"type": "pong"})
            continue
        return message


def follow(url, token, program_id, seconds):
    """Print the program's events for `seconds`; returns True unless the subscription failed."""
    deadline = time.monotonic() + seconds
    ws = WebSocket(f"{url}/graphql/ws", "graphql-transport-ws")
    try:
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        ack = next_message(ws, deadline)
        if not ack or ack.get("type") != "connection_ack":
            raise Failed(f"expected connection_ack, got {ack}")
        ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": FOLLOW_EVENTS, "variables": {"p": program_id}},
            }
        )
        print(f"following for {seconds}s", file=sys.stderr)
        while (message := next_message(ws, deadline)) is not None:
            kind = message.get("type")
            if kind == "next" and message["payload"].get("errors"):
                print_errors("programEvents", message["payload"]["errors"])
                return False
            if kind == "next":
                event = message["payload"]["data"]["programEvents"]
                line = f"EVENT {event['kind']} {event['entityType']} {event['entityId']}"
                print(line, flush=True)
            elif kind == "error":
                print_errors("programEvents", message.get("payload") or [])
                return False
            elif kind == "complete":
                print("the server ended the subscription: resubscribe to go on", file=sys.stderr)
                return True
        return True
    except Closed as closed:
        print(f"the WebSocket {closed}", file=sys.stderr)
        return False
    finally:
        ws.close()


# --- Main -----------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--program", required=True, help="the program's key, e.g. PAY")
    parser.add_argument("csv", help="the CSV file of workstreams")
    parser.add_argument(
        "--follow", type=float, metavar="SECONDS", help="then print live events this long"
    )
    args = parser.parse_args()
    url = os.environ.get("TRESTLE_URL", "http://127.0.0.1:8080").rstrip("/")
    token = os.environ.get("TRESTLE_TOKEN")
    if not token:
        print("set TRESTLE_TOKEN to an API token (trst_...)", file=sys.stderr)
        return 2
    try:
        program_id = find_program(url, token, args.program)
        synced = sync(url, token, args.program, program_id, args.csv)
        followed = follow(url, token, program_id, args.follow) if args.follow else True
    except (Failed, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0 if synced and followed else 1


if __name__ == "__main__":
    sys.exit(main())
