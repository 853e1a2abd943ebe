#!/usr/bin/env python3
"""Receive Trestle webhook deliveries and check that Trestle signed them.

Create a webhook with the `createWebhook` mutation; its payload holds the
signing secret (`whsec_...`), shown that once. Then:

    export TRESTLE_WEBHOOK_SECRET=whsec_...
    python3 examples/scripts/webhook_receiver.py --port 8099

Every delivery is a POST whose JSON body is one change,
`{ id kind action entityType entityId programId actor at changes }`, with the
headers `Trestle-Event` (the action, e.g. `workstream.create`),
`Trestle-Delivery` (the delivery's id) and `Trestle-Signature`,
`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.

This receiver answers 400 to a request whose signature is missing, wrong or
more than five minutes old (so a captured request cannot be replayed later),
and 200 otherwise, printing one line per verified delivery:

    DELIVERY <delivery id> <event> <kind> <entityType> <entityId>

Trestle retries a delivery that did not get a 2xx answer, so the same
delivery may arrive twice: it is answered 200 again but printed once.
`--once N` exits after N deliveries (handy in tests). Standard library only.
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

TOLERANCE_SECONDS = 5 * 60


def verify(secret, header, body, now):
    """Whether `header` signs `body` with `secret` within the tolerance of `now`."""
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    signed = f"{timestamp}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(
        hmac.compare_digest(expected.encode(), signature.encode(errors="replace"))
        for signature in signatures
    )


class Receiver(HTTPServer):
    """An HTTP server that remembers the deliveries it verified."""

    def __init__(self, address, secret):
        super().__init__(address, DeliveryHandler)
        self.secret = secret
        self.seen = set()


class DeliveryHandler(BaseHTTPRequestHandler):
    """Answers each POST: 400 unless Trestle signed it, 200 after printing it."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        signature = self.headers.get("Trestle-Signature")
        if not verify(self.server.secret, signature, body, int(time.time())):
            self.answer(400, "bad or missing Trestle-Signature")
            return
        try:
            change = json.loads(body)
        except ValueError:
            self.answer(400, "the body is not JSON")
            return
        delivery = self.headers.get("Trestle-Delivery", "")
        if delivery not in self.server.seen:
            self.server.seen.add(delivery)
            self.handle_change(delivery, self.headers.get("Trestle-Event", ""), change)
        self.answer(200, "ok")

    def handle_change(self, delivery, event, change):
        """What to do with a verified change: here, print it."""
        fields = [change.get(name) for name in ("kind", "entityType", "entityId")]
        print("DELIVERY", delivery, event, *fields, flush=True)

    def answer(self, status, text):
        """Send a short plain-text answer."""
        body = f"{text}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        """Keep the standard access log off stdout's DELIVERY lines (it goes to stderr)."""
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8099, help="port to listen on (8099)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--once", type=int, metavar="N", help="exit after N deliveries")
    args = parser.parse_args()
    secret = os.environ.get("TRESTLE_WEBHOOK_SECRET")
    if not secret:
        print("set TRESTLE_WEBHOOK_SECRET to the webhook's secret (whsec_...)", file=sys.stderr)
        return 2
    server = Receiver((args.host, args.port), secret)
    print(f"LISTENING {server.server_port}", flush=True)
    with server:
        try:
            while args.once is None or len(server.seen) < args.once:
                server.handle_request()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
