#!/usr/bin/env python3
"""A foreign peer for tsdill's message-socket tests: its own framing code, in Python.

    msg-peer.py prefix PATH HDRLEN big|little
    msg-peer.py suffix PATH HEXDELIM

Connects to the Unix socket PATH and answers each message it receives:
  "burst N"  -> N messages "line 0" .. "line N-1", written with a single sendall
  "bye"      -> "done", then the raw bytes "RAW-TAIL" (no framing), in one write; then it closes
  anything   -> "re:" + the message reversed
Messages are framed as prefix (a size field of HDRLEN bytes) or suffix (the delimiter) says.
"""
import socket
import sys


def main():
    mode, path = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    buf = b""

    if mode == "prefix":
        hdrlen = int(sys.argv[3])
        order = sys.argv[4]

        def frame(msg):
            return len(msg).to_bytes(hdrlen, order) + msg

        def read_msg():
            nonlocal buf
            while True:
                if len(buf) >= hdrlen:
                    size = int.from_bytes(buf[:hdrlen], order)
                    if len(buf) >= hdrlen + size:
                        msg = buf[hdrlen : hdrlen + size]
                        buf = buf[hdrlen + size :]
                        return msg
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                buf += chunk

    else:
        delim = bytes.fromhex(sys.argv[3])

        def frame(msg):
            return msg + delim

        def read_msg():
            nonlocal buf
            while True:
                i = buf.find(delim)
                if i >= 0:
                    msg = buf[:i]
                    buf = buf[i + len(delim) :]
                    return msg
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                buf += chunk

    while True:
        msg = read_msg()
        if msg is None:
            break
        if msg.startswith(b"burst "):
            n = int(msg[6:])
            sock.sendall(b"".join(frame(b"line %d" % i) for i in range(n)))
        elif msg == b"bye":
            sock.sendall(frame(b"done") + b"RAW-TAIL")
            break
        else:
            sock.sendall(frame(b"re:" + msg[::-1]))
    sock.close()


main()
