"""Reads an InvokeWithResponseStream body (AWS's event stream) on stdin with botocore's own
parser, as the AWS SDK for Python does, and prints one JSON line per message:
{"event_type": ..., "length": payload bytes, "payload": the text of a JSON payload}.
A framing error (a bad CRC, a message botocore refuses as too long) exits non-zero with it."""

import json
import sys

from botocore.eventstream import EventStreamBuffer

buffer = EventStreamBuffer()
buffer.add_data(sys.stdin.buffer.read())
for message in buffer:
    event_type = message.headers.get(":event-type")
    line = {"event_type": event_type, "length": len(message.payload)}
    if message.headers.get(":content-type") == "application/json":
        line["payload"] = message.payload.decode("utf-8")
    print(json.dumps(line))
