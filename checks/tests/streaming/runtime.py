"""A function that speaks the Runtime API itself (stdlib only), for the streaming tests: the
event says what to do, so a test can make the function do what no well-behaved runtime does.

Event keys (all optional):
  "sleep_ms": N          sleep N ms, then answer {"slept_ms": N} (a whole response)
  "stream": [[bytes, pause_ms], ...]
                         stream a response: each pair is a chunk of `bytes` bytes of "x",
                         then a pause; "repeat": K repeats the list K times; prints the
                         status its POST got and how long after its last pause
  "error_bytes": N       post /error with a body of N control bytes (not JSON)
  "error_mid_stream": true
                         stream one chunk, post /error on a second connection, then end the
                         stream; print the status the stream's own POST got to stderr
  "bad_chunk": true      stream one chunk, then a malformed chunk size, then close
INIT_SLEEP_MS in the environment delays the first /next (a slow init).
"""

import http.client
import json
import os
import socket
import sys
import time

HOST, PORT = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
PORT = int(PORT)
BASE = "/2018-06-01/runtime/invocation/"


def say(text):
    sys.stderr.write("runtime.py: %s\n" % text)
    sys.stderr.flush()


def status_of(sock):
    line = b""
    while not line.endswith(b"\r\n"):
        byte = sock.recv(1)
        if not byte:
            return 0
        line += byte
    return int(line.split()[1])


def stream(rid, pieces, tail=b"0\r\n\r\n", before_end=None):
    sock = socket.create_connection((HOST, PORT))
    sock.sendall(
        (
            "POST %s%s/response HTTP/1.1\r\nHost: api\r\n"
            "Lambda-Runtime-Function-Response-Mode: streaming\r\n"
            "Transfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n"
            % (BASE, rid)
        ).encode()
    )
    paused = time.monotonic()
    for size, pause_ms in pieces:
        sock.sendall(b"%x\r\n" % size + b"x" * size + b"\r\n")
        if pause_ms:
            time.sleep(pause_ms / 1000)
            paused = time.monotonic()
    if before_end:
        before_end()
    sock.sendall(tail)
    return sock, paused


def post(rid, path, body, headers=None):
    conn = http.client.HTTPConnection(HOST, PORT)
    conn.request("POST", BASE + rid + path, body=body, headers=headers or {})
    answer = conn.getresponse()
    answer.read()
    conn.close()
    return answer.status


def main():
    time.sleep(int(os.environ.get("INIT_SLEEP_MS", "0")) / 1000)
    api = http.client.HTTPConnection(HOST, PORT)
    while True:
        api.request("GET", BASE + "next")
        answer = api.getresponse()
        body = answer.read()
        if answer.status != 200:
            say("/next answered %d: %r" % (answer.status, body[:200]))
            sys.exit(1)
        rid = answer.getheader("Lambda-Runtime-Aws-Request-Id")
        event = json.loads(body)
        if "sleep_ms" in event:
            time.sleep(event["sleep_ms"] / 1000)
            post(rid, "/response", json.dumps({"slept_ms": event["sleep_ms"]}))
        elif "stream" in event:
            pieces = [tuple(p) for p in event["stream"]] * event.get("repeat", 1)
            sock, paused = stream(rid, pieces)
            status = status_of(sock)
            since = (time.monotonic() - paused) * 1000
            say("stream answered %d, %d ms after its last pause" % (status, since))
            sock.close()
        elif "error_bytes" in event:
            status = post(rid, "/error", b"\x01" * event["error_bytes"])
            say("error answered %d" % status)
        elif event.get("error_mid_stream"):
            def fail():
                say("error answered %d" % post(rid, "/error", json.dumps(
                    {"errorType": "MidStream", "errorMessage": "failed mid-stream"})))
            sock, _ = stream(rid, [(1000, 100)], before_end=fail)
            say("stream answered %d" % status_of(sock))
            sock.close()
        elif event.get("bad_chunk"):
            sock, _ = stream(rid, [(1000, 100)], tail=b"zz\r\nxx\r\n")
            say("bad stream answered %d" % status_of(sock))
            sock.close()


main()
